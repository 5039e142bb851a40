"""A page per body: members and roles, open cases, coming meetings, parent and children."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from models import Meeting, MeetingStatus, Membership


def test_the_body_list_needs_a_login(client):
    response = client.get("/organer")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_body_list_groups_the_organisation(client, logged_in, text_of):
    logged_in("member@SU-NORD-SOM")
    page = text_of(client.get("/organer"))
    assert "Politiske udvalg" in page and "Samordningsudvalg" in page
    assert "Tværsektoriel Strategisk Styregruppe (TSS) – under SKU" in page
    html = client.get("/organer").get_data(as_text=True)
    assert 'href="/organer/SU-NORD-SOM"' in html


def test_a_body_page_shows_members_cases_meetings_and_relatives(
    client, logged_in, make_user, make_case, session, body, text_of
):
    viewer = logged_in("member@SU-NORD-SOM")
    make_user("chair@TSS", name="Lone Formand")
    former = make_user("secretariat@TSS", name="Tidligere Sekretær")
    session.query(Membership).filter_by(user_id=former.id).update({"active": False})
    make_case(title="Sag hos TSS", state="at_tss")
    make_case(title="Kladde i SU", state="draft")
    tss = body("TSS")
    session.add_all(
        [
            Meeting(body_id=tss.id, title="TSS-møde oktober",
                    starts_at=datetime(2020, 10, 1, 8, 0, tzinfo=UTC)),
            Meeting(body_id=tss.id, title="Aflyst møde", status=MeetingStatus.CANCELLED,
                    starts_at=datetime(2020, 10, 8, 8, 0, tzinfo=UTC)),
            Meeting(body_id=tss.id, title="Afholdt møde",
                    starts_at=datetime(2020, 8, 1, 8, 0, tzinfo=UTC)),
        ]
    )  # fmt: skip
    session.flush()
    response = client.get("/organer/TSS")
    page = text_of(response)
    members = re.search(r'id="medlemmer".*?</section>', response.get_data(as_text=True), re.S)
    assert members is not None
    assert "Lone Formand" in members.group(0) and "Lone Formand Formand" in page
    assert "Tidligere Sekretær" not in page
    assert viewer.name not in members.group(0)  # a member of the SU, not of TSS
    assert "Sag hos TSS" in page and "Kladde i SU" not in page
    # 8 working days before Thursday 1 October 2020.
    assert "TSS-møde oktober 1. oktober 2020 kl. 10:00 21. september 2020 kl. 23:59" in page
    assert "Aflyst møde" not in page and "Afholdt møde" not in page
    assert "Hører under Sundhedskoordinationsudvalget (SKU)" in page
    assert "8 arbejdsdage før mødet" in page
    assert "Samordningsudvalg Nord (somatik) (SU-NORD-SOM)" in page  # a child
    su_page = text_of(client.get("/organer/SU-NORD-SOM"))
    # A committee sees the cases it raised, wherever they are now.
    assert "Sag hos TSS" in su_page and "Kladde i SU" in su_page
    assert "Der er ingen planlagte møder." in su_page


def test_an_unknown_body_is_not_found(client, logged_in):
    logged_in("member@TSS")
    assert client.get("/organer/FINDES-IKKE").status_code == 404


def test_the_organisation_page_leads_to_processes_and_for_admins_to_admin(
    client, logged_in, make_app, make_login_user, password
):
    logged_in("member@TSS")
    html = client.get("/organer").get_data(as_text=True)
    assert 'href="/processer"' in html and 'href="/admin"' not in html
    admin_client = make_app().test_client()
    admin = make_login_user(is_admin=True)
    admin_client.post("/login", data={"email": admin.email, "password": password})
    assert 'href="/admin"' in admin_client.get("/organer").get_data(as_text=True)
