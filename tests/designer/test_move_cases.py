"""Moving cases in flight to the newest version from the designer: an explicit state mapping
per earlier version, each case moved through the engine (an event on its timeline, an admin
audit row), closed cases and unmapped states left on their version."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AdminAuditEntry, CaseEvent

URL = "/admin/procesdesigner/forum_matter/flyt"
OLD_LABEL = 'label = "Rejst i TSS"'


@pytest.fixture
def publish_new_version(session, published, publish):
    """Publish forum_matter with a state renamed, by `admin`; the old and the new version."""

    def run(admin):
        publish(published.source.replace(OLD_LABEL, 'label = "Rejst i styregruppen"'), admin)
        session.commit()
        return published.version, published.version + 1

    return run


def test_an_admin_maps_the_old_states_and_the_cases_move(
    client, logged_in, session, make_case, publish_new_version, text_of
):
    admin = logged_in(is_admin=True)
    at_tss = make_case("forum_matter", origin="FORUM-DATA", state="at_tss")
    draft = make_case("forum_matter", origin="FORUM-DATA")
    closed = make_case("forum_matter", origin="FORUM-DATA", state="closed")
    old, new = publish_new_version(admin)

    page = client.get(URL)
    assert page.status_code == 200
    words = text_of(page)
    assert f"Version {old}, tilstanden at_tss (1 sag)" in words
    assert "tilstanden closed" not in words  # a closed case is not in flight
    html = page.get_data(as_text=True)
    assert '<option value="at_tss" selected>Rejst i styregruppen (at_tss)</option>' in html

    # The draft stays on its version; the case at TSS moves to the new one.
    response = client.post(URL, data={f"map-{old}-at_tss": "at_tss", f"map-{old}-draft": ""})
    assert response.status_code == 303
    assert "1 sag er flyttet til version" in text_of(client.get(response.location))
    session.expire_all()
    assert (at_tss.process_version, draft.process_version) == (new, old)
    assert closed.process_version == old
    event = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == at_tss.id).order_by(CaseEvent.seq.desc())
    )
    assert event.trigger == "migrate_version" and event.actor_id == admin.id
    entry = session.scalar(
        select(AdminAuditEntry).where(AdminAuditEntry.action == "migrate_case_version")
    )
    assert entry.object_id == str(at_tss.id)


def test_a_state_the_new_version_lacks_is_refused_at_its_field(
    client, logged_in, session, make_case, publish_new_version
):
    admin = logged_in(is_admin=True)
    case = make_case("forum_matter", origin="FORUM-DATA", state="in_forum")
    old, _new = publish_new_version(admin)
    response = client.post(URL, data={f"map-{old}-in_forum": "nowhere"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="map-{old}-in_forum-fejl">Tilstanden &#39;nowhere&#39; findes ikke' in html
    session.expire_all()
    assert case.process_version == old


def test_moving_is_for_admins_only(client, logged_in):
    logged_in("chair@TSS")
    assert client.get(URL).status_code == 403
    assert client.post(URL, data={}).status_code == 403
