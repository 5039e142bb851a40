"""The dashboard shows each user the sections that fit their roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from support.formandskab import decide

from models import Deadline, DeadlineKind, Meeting


@pytest.fixture
def tss_meeting(session, body):
    meeting = Meeting(
        body_id=body("TSS").id,
        title="TSS-møde oktober",
        starts_at=datetime(2020, 10, 1, 7, 0, tzinfo=UTC),
    )
    session.add(meeting)
    session.flush()
    return meeting


def _add_deadline(session, case, due_at, **extra):
    deadline = Deadline(
        case_id=case.id,
        kind=DeadlineKind.STATE,
        state=case.state,
        body_id=case.current_body_id,
        due_at=due_at,
        reminder_days=[],
        **extra,
    )
    session.add(deadline)
    session.flush()
    return deadline


def _section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert match is not None, f"section {heading_id} missing"
    return match.group(1)


def test_dashboard_lists_bodies_and_roles(client, logged_in, text_of):
    logged_in("chair@TSS", "member@SU-NORD-SOM")
    page = text_of(client.get("/"))
    assert "Tværsektoriel Strategisk Styregruppe (TSS): Formand" in page
    assert "(SU-NORD-SOM): Medlem" in page


def test_chair_sees_cases_before_their_body_oldest_deadline_first(
    client, logged_in, make_case, session
):
    later = make_case(title="Senere frist", state="at_tss")
    sooner = make_case(title="Tidligere frist", state="at_tss")
    no_deadline = make_case(title="Uden frist", state="at_tss")
    make_case(title="Kladde i SU", state="draft")
    _add_deadline(session, later, datetime(2020, 10, 20, 21, 59, tzinfo=UTC))
    _add_deadline(session, sooner, datetime(2020, 9, 21, 21, 59, tzinfo=UTC))
    # A met deadline is not the case's next deadline.
    _add_deadline(
        session,
        later,
        datetime(2020, 9, 2, 21, 59, tzinfo=UTC),
        met_at=datetime(2020, 9, 1, 8, 0, tzinfo=UTC),
    )
    logged_in("chair@TSS")
    html = client.get("/").get_data(as_text=True)
    section = _section(html, "til-beslutning")
    titles = re.findall(r'<a href="/sager/\d+">([^<]+)</a>', section)
    assert titles == ["Tidligere frist", "Senere frist", "Uden frist"]
    assert no_deadline.id and "Kladde i SU" not in section
    assert "21. september 2020 kl. 23:59" in section
    assert "20. oktober 2020 kl. 23:59" in section
    assert 'id="vores-sager"' not in html
    assert 'id="overskredne-frister"' not in html


def test_chair_of_a_committee_does_not_see_closed_cases(client, logged_in, make_case):
    make_case(title="Aktiv kladde")
    make_case(title="Trukket sag", state="withdrawn")
    logged_in("chair@SU-NORD-SOM")
    section = _section(client.get("/").get_data(as_text=True), "til-beslutning")
    assert "Aktiv kladde" in section
    assert "Trukket sag" not in section


def test_committee_member_sees_our_cases_with_state_body_and_deadline(
    client, logged_in, make_case, make_user, tss_meeting, text_of
):
    ours = make_case(title="Vores forslag")
    make_case(title="Andet udvalgs forslag", origin="SU-SYD-SOM")
    decide(ours, "submit", make_user("chair@SU-NORD-SOM"))
    logged_in("member@SU-NORD-SOM")
    html = client.get("/").get_data(as_text=True)
    section = _section(html, "vores-sager")
    row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "Vores forslag" in row
    assert "Til behandling i TSS" in row
    assert "TSS" in row
    assert "21. september 2020 kl. 23:59" in row
    assert "Andet udvalgs forslag" not in row
    assert 'id="til-beslutning"' not in html


def test_secretariat_sees_overdue_deadlines_of_their_bodies(
    client, logged_in, make_case, session, frozen_clock
):
    overdue = make_case(title="Forsinket sag", state="at_tss")
    not_due = make_case(title="Sag i god tid", state="at_tss")
    elsewhere = make_case(title="SKU-sag", state="at_sku")
    _add_deadline(session, overdue, datetime(2020, 8, 28, 21, 59, tzinfo=UTC))
    _add_deadline(session, not_due, datetime(2020, 9, 10, 21, 59, tzinfo=UTC))
    _add_deadline(session, elsewhere, datetime(2020, 8, 20, 21, 59, tzinfo=UTC))
    logged_in("secretariat@TSS")
    section = _section(client.get("/").get_data(as_text=True), "overskredne-frister")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "Forsinket sag" in text
    assert "28. august 2020 kl. 23:59" in text
    assert "4 dage" in text
    assert "Sag i god tid" not in text
    assert "SKU-sag" not in text


def test_secretariat_without_overdue_deadlines_is_told_so(client, logged_in, text_of):
    logged_in("secretariat@TSS")
    assert "Ingen overskredne frister i dine organer." in text_of(client.get("/"))


def test_plain_member_sees_no_role_sections(client, logged_in, text_of):
    logged_in("member@TSS")
    html = client.get("/").get_data(as_text=True)
    assert "Til beslutning" not in html
    assert "Vores sager" not in html
    assert "Overskredne frister" not in html
    assert "Dine organer og roller" in html


def test_chair_gets_one_click_to_the_decision_form(client, logged_in, make_case):
    case = make_case(title="Klar til TSS", state="at_tss")
    logged_in("chair@TSS")
    section = _section(client.get("/").get_data(as_text=True), "til-beslutning")
    link = f'href="/sager/{case.id}?handling=tss_recommend#handling-tss_recommend"'
    assert link in section
    page = client.get(f"/sager/{case.id}?handling=tss_recommend").get_data(as_text=True)
    assert '<details class="action" id="handling-tss_recommend" open>' in page


def test_our_cases_say_what_blocks_the_next_step(client, logged_in, make_case):
    make_case(title="Mangler fordeling", role_distribution="", general_practice_role="")
    make_case(title="Klar kladde")
    logged_in("member@SU-NORD-SOM")
    section = _section(client.get("/").get_data(as_text=True), "vores-sager")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    blocked = text[text.index("Mangler fordeling") : text.index("Klar kladde")]
    assert "Indstil til TSS" in blocked
    assert "Beskriv rolle- og opgavefordelingen" in blocked
    assert "Intet i vejen." in text[text.index("Klar kladde") :]


def test_secretariat_board_shows_the_week_material_per_meeting_and_cases_elsewhere(
    client, logged_in, make_case, make_user, session, tss_meeting
):
    this_week = make_case(title="Frist på fredag", origin="SU-NORD-SOM", state="at_tss")
    _add_deadline(session, this_week, datetime(2020, 9, 4, 21, 59, tzinfo=UTC))
    material = make_case(title="Materiale til oktober", state="at_tss")
    session.add(
        Deadline(
            case_id=material.id, kind=DeadlineKind.MATERIAL, state="at_tss",
            body_id=material.current_body_id, meeting_id=tss_meeting.id,
            due_at=datetime(2020, 9, 24, 21, 59, tzinfo=UTC), reminder_days=[],
        )
    )  # fmt: skip
    session.flush()
    ours_elsewhere = make_case(title="Vores sag i SKU", origin="SU-SYD-SOM", state="at_sku")
    make_case(title="Hjemme hos os", origin="SU-SYD-SOM")
    logged_in("secretariat@TSS", "secretariat@SU-SYD-SOM")
    html = client.get("/").get_data(as_text=True)
    week = _section(html, "denne-uge")
    assert "Frist på fredag" in week and "Materiale til oktober" not in week
    per_meeting = _section(html, "materialefrister")
    assert "TSS-møde oktober" in per_meeting and "Materiale til oktober" in per_meeting
    elsewhere = _section(html, "venter-andre")
    assert ours_elsewhere.title in elsewhere and "Hjemme hos os" not in elsewhere


def test_the_secretariat_board_leaves_out_the_drafts_of_other_bodies(
    client, logged_in, make_case, make_user, session, tss_meeting, text_of
):
    """TSS returned the case for revision: its TSS follow-up and a stale material deadline stay
    open, but the draft is SU-SYD-SOM's own again."""
    draft = make_case(title="Syds kladde igen", origin="SU-SYD-SOM")
    for kind, due in (
        (DeadlineKind.FOLLOW_UP, datetime(2020, 8, 28, 21, 59, tzinfo=UTC)),
        (DeadlineKind.FOLLOW_UP, datetime(2020, 9, 3, 21, 59, tzinfo=UTC)),
        (DeadlineKind.FOLLOW_UP, datetime(2020, 12, 3, 21, 59, tzinfo=UTC)),
        (DeadlineKind.MATERIAL, datetime(2020, 9, 24, 21, 59, tzinfo=UTC)),
    ):
        session.add(
            Deadline(
                case_id=draft.id, kind=kind, state="draft", body_id=tss_meeting.body_id,
                meeting_id=tss_meeting.id if kind == DeadlineKind.MATERIAL else None,
                due_at=due, reminder_days=[],
            )
        )  # fmt: skip
    session.flush()
    logged_in("secretariat@TSS")
    assert "Syds kladde igen" not in text_of(client.get("/"))
    client.post("/logout")
    logged_in("secretariat@TSS", is_admin=True)
    html = client.get("/").get_data(as_text=True)
    for section in ("overskredne-frister", "denne-uge", "materialefrister"):
        assert "Syds kladde igen" in _section(html, section)
