"""The case record from the case page: a button for whoever may take it, the same ZIP as the
API's, and a 404 for those who may not see the case."""

from __future__ import annotations

import io
import zipfile

from workflow.cases import record_verify


def test_the_case_page_offers_the_record_and_it_verifies(client, logged_in, make_case):
    case = make_case(title="Sagsakt fra siden")
    logged_in("member@SU-NORD-SOM")
    page = client.get(f"/sager/{case.id}").get_data(as_text=True)
    assert "Hent sagsakten til journalisering (ZIP)" in page
    assert f'href="/sager/{case.id}/sagsakt.zip"' in page
    response = client.get(f"/sager/{case.id}/sagsakt.zip")
    assert response.status_code == 200
    assert response.content_type == "application/zip"
    data = response.get_data()
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert record_verify.verify(io.BytesIO(data)).problems == []


def test_no_record_of_a_case_the_user_may_not_see(client, logged_in, make_case):
    draft = make_case(title="Nordens kladde")
    logged_in("member@SU-SYD-SOM")
    assert client.get(f"/sager/{draft.id}/sagsakt.zip").status_code == 404
    assert client.get("/sager/999999/sagsakt.zip").status_code == 404
