"""The dashboard shows each user the sections that fit their roles."""

from __future__ import annotations

import html as markup
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import Body, Deadline, DeadlineKind, Meeting, Membership, Role
from workflow.cases import queries
from workflow.engine import clock
from workflow.engine.db import make_engine
from workflow.engine.definitions import load_definitions
from workflow.policy import _private_states, _visible_to


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


def test_a_decision_row_escapes_what_it_shows_and_links_the_decision(client, logged_in, make_case):
    """The rows are written by `dashboard.decision_rows`, not by Jinja: every text escaped."""
    case = make_case(title='Sag <b>"fed"</b> & mere', state="at_tss")
    logged_in("chair@TSS")
    section = _section(client.get("/").get_data(as_text=True), "til-beslutning")
    title = "Sag &lt;b&gt;&#34;fed&#34;&lt;/b&gt; &amp; mere"
    assert f'<a href="/sager/{case.id}">{title}</a>' in section
    assert f"(nr. {case.id}, TSS)" in section and "<b>" not in section
    assert re.search(
        rf'href="/sager/{case.id}\?handling=(\w+)#handling-\1">[^<]+'
        rf'<span class="visually-hidden">: {re.escape(title)}</span></a>',
        section,
    )
    assert "Ingen åben frist" in section


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


def _listed_ids(client, section: str) -> set[int]:
    """Follow the section's "Se alle" link and return the case numbers the list shows."""
    link = re.search(r'<a href="(/sager\?[^"]*afsnit=[^"]+)">', section)
    assert link is not None, section
    page = client.get(markup.unescape(link.group(1))).get_data(as_text=True)
    return {int(n) for n in re.findall(r'<a href="/sager/(\d+)">', page)}


def test_chair_sees_the_first_decisions_the_total_and_a_link_to_exactly_them(
    client, logged_in, make_case, session, frozen_clock
):
    extra = 2
    waiting = [
        make_case(title=f"Til TSS {index}", state="at_tss")
        for index in range(queries.DECISIONS_SHOWN + extra)
    ]
    for index, case in enumerate(waiting[: queries.DECISIONS_SHOWN]):
        _add_deadline(session, case, datetime(2020, 9, 10 + index, 21, 59, tzinfo=UTC))
    make_case(title="Hos SKU", state="at_sku")
    make_case(title="Trukket", state="withdrawn")
    logged_in("chair@TSS")
    html = client.get("/").get_data(as_text=True)
    section = _section(html, "til-beslutning")
    shown = re.findall(r'<a href="/sager/(\d+)">', section)
    # The ones with the nearest deadlines; the two without one come after them.
    assert [int(n) for n in shown] == [c.id for c in waiting[: queries.DECISIONS_SHOWN]]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    total = queries.DECISIONS_SHOWN + extra
    assert f"Viser de {queries.DECISIONS_SHOWN} første af {total}." in text
    assert f"Se alle ({total}) : Til beslutning" in text
    assert _listed_ids(client, section) == {c.id for c in waiting}


def test_secretariat_sees_the_first_overdue_deadlines_and_a_link_to_their_cases(
    client, logged_in, make_case, session, frozen_clock
):
    late = [
        make_case(title=f"Forsinket {index}", state="at_tss")
        for index in range(queries.OVERDUE_SHOWN + 3)
    ]
    for index, case in enumerate(late):
        _add_deadline(session, case, datetime(2020, 8, 1 + index, 21, 59, tzinfo=UTC))
    in_time = make_case(title="I god tid", state="at_tss")
    _add_deadline(session, in_time, datetime(2020, 9, 20, 21, 59, tzinfo=UTC))
    at_sku = make_case(title="SKU-sag", state="at_sku")
    _add_deadline(session, at_sku, datetime(2020, 8, 20, 21, 59, tzinfo=UTC))
    logged_in("secretariat@TSS")
    html = client.get("/").get_data(as_text=True)
    section = _section(html, "overskredne-frister")
    shown = [int(n) for n in re.findall(r'<a href="/sager/(\d+)">', section)]
    assert shown == [c.id for c in late[: queries.OVERDUE_SHOWN]]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert f"Viser de {queries.OVERDUE_SHOWN} første af {len(late)} frister." in text
    assert "Se alle sagerne : Overskredne frister" in text
    assert _listed_ids(client, section) == {c.id for c in late}


def test_a_section_beyond_the_count_cap_says_over(
    client, logged_in, make_case, session, frozen_clock, monkeypatch
):
    monkeypatch.setattr(queries, "SECTION_COUNT_CAP", queries.OVERDUE_SHOWN + 1)
    for index in range(queries.OVERDUE_SHOWN + 3):
        case = make_case(title=f"Forsinket {index}", state="at_tss")
        _add_deadline(session, case, datetime(2020, 8, 1 + index, 21, 59, tzinfo=UTC))
    logged_in("secretariat@TSS", "chair@TSS")
    html = client.get("/").get_data(as_text=True)
    overdue = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _section(html, "overskredne-frister")))
    cap = queries.OVERDUE_SHOWN + 1
    assert f"Viser de {queries.OVERDUE_SHOWN} første af over {cap} frister." in overdue
    decisions = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _section(html, "til-beslutning")))
    assert f"Se alle (over {cap}) : Til beslutning" in decisions


def test_the_overdue_deadlines_of_several_bodies_come_oldest_first_and_count_together(
    client, logged_in, make_case, session, frozen_clock, monkeypatch
):
    # Each body's overdue deadlines are read on their own (queries._deadline_ids) and merged.
    monkeypatch.setattr(queries, "SECTION_COUNT_CAP", queries.OVERDUE_SHOWN + 1)
    late = [
        make_case(title=f"Forsinket {index}", state="at_tss" if index % 2 else "at_sku")
        for index in range(2 * (queries.OVERDUE_SHOWN + 1))
    ]
    for index, case in enumerate(late):
        _add_deadline(session, case, datetime(2020, 8, 1 + index, 21, 59, tzinfo=UTC))
    logged_in("secretariat@TSS", "secretariat@SKU")
    section = _section(client.get("/").get_data(as_text=True), "overskredne-frister")
    shown = [int(n) for n in re.findall(r'<a href="/sager/(\d+)">', section)]
    assert shown == [c.id for c in late[: queries.OVERDUE_SHOWN]]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    cap = queries.OVERDUE_SHOWN + 1
    assert f"Viser de {queries.OVERDUE_SHOWN} første af over {cap} frister." in text


def test_the_deadline_sections_show_what_a_plain_reading_of_the_deadlines_gives(
    client, logged_in, make_case, session, body, frozen_clock, monkeypatch
):
    """Overdue, due this week and later, for a secretariat of two bodies: each section's
    first deadlines in due order over both bodies and its count, as a walk over every
    deadline in Python finds them (met, cancelled, other bodies' and hidden cases' deadlines
    left out; a consultation's deadline is not "later")."""
    cap = queries.OVERDUE_SHOWN + 1
    monkeypatch.setattr(queries, "SECTION_COUNT_CAP", cap)
    now = frozen_clock
    cases = {
        "TSS": make_case(title="Hos TSS", state="at_tss"),
        "SKU": make_case(title="Hos SKU", state="at_sku"),
        "hidden": make_case(title="Kladde"),  # a draft of SU-NORD-SOM: not for TSS to see
    }
    kinds = [DeadlineKind.STATE, DeadlineKind.FOLLOW_UP, DeadlineKind.CONSULTATION]
    # Hours from now: the overdue pass the cap, this week's fit, the later pass the shown.
    hours = [-900, -500, -300, -120, -49, -30, -7, -2, 3, 20, 50, 140, 200, 300, 700, 2000]
    hours += [2100, 2200, 2300, 2400]
    deadlines = []
    for number, offset in enumerate(hours):
        for place, (key, owner) in enumerate(
            [("TSS", "TSS"), ("SKU", "SKU"), ("TSS", "SU-NORD-SOM"), ("hidden", "TSS")]
        ):
            deadline = Deadline(
                case_id=cases[key].id,
                kind=kinds[(number + place) % 3],
                state=cases[key].state,
                body_id=body(owner).id,
                due_at=now + timedelta(hours=offset + place),
                reminder_days=[],
                met_at=now if (number + place) % 7 == 0 else None,
                cancelled_at=now if (number + place) % 11 == 0 else None,
            )
            session.add(deadline)
            deadlines.append(deadline)
    session.flush()

    def first(test):
        found = sorted(
            (
                d
                for d in deadlines
                if d.met_at is None
                and d.cancelled_at is None
                and d.body_id in {body("TSS").id, body("SKU").id}
                and d.case_id != cases["hidden"].id
                and test(d)
            ),
            key=lambda d: (d.due_at, d.id),
        )
        return [d.case_id for d in found[: queries.OVERDUE_SHOWN]], len(found)

    week_end = now + timedelta(days=7)
    expected = {
        "overskredne-frister": first(lambda d: d.due_at < now),
        "denne-uge": first(lambda d: now <= d.due_at < week_end),
        "senere-frister": first(
            lambda d: (
                d.due_at >= week_end and d.kind in (DeadlineKind.FOLLOW_UP, DeadlineKind.STATE)
            )
        ),
    }
    assert expected["overskredne-frister"][1] > cap  # the sections test each kind of line
    assert queries.OVERDUE_SHOWN < expected["senere-frister"][1] <= cap
    assert expected["denne-uge"][1] < queries.OVERDUE_SHOWN

    logged_in("secretariat@TSS", "secretariat@SKU")
    html = client.get("/").get_data(as_text=True)
    for heading, (ids, total) in expected.items():
        section = _section(html, heading)
        assert [int(n) for n in re.findall(r'<a href="/sager/(\d+)">', section)] == ids, heading
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
        shown = queries.OVERDUE_SHOWN
        if total > cap:
            assert f"Viser de {shown} første af over {cap} frister." in text
        elif total > shown:
            assert f"Viser de {shown} første af {total} frister." in text
        else:
            assert "Viser de" not in text


def test_a_section_that_fits_has_no_link(client, logged_in, make_case, session, frozen_clock):
    make_case(title="Eneste", state="at_tss")
    logged_in("chair@TSS")
    section = _section(client.get("/").get_data(as_text=True), "til-beslutning")
    assert "Eneste" in section and "afsnit=" not in section and "Viser de" not in section


def test_the_case_list_offers_the_sections_and_ignores_an_unknown_one(
    client, logged_in, make_case, text_of
):
    case = make_case(title="Hos TSS", state="at_tss")
    logged_in("chair@TSS")
    page = client.get("/sager?afsnit=ukendt").get_data(as_text=True)
    assert '<option value="" selected>' not in page  # nothing chosen: the first is shown
    assert '<option value="til-beslutning">Til beslutning hos dit formandskab</option>' in page
    assert f'<a href="/sager/{case.id}">' in page
    chosen = client.get("/sager?afsnit=vores-sager").get_data(as_text=True)
    assert '<option value="vores-sager" selected>' in chosen
    # The chair of TSS has no committee: the section is empty for them.
    assert f'<a href="/sager/{case.id}">' not in chosen


# The sections' statements are kept per reader's roles, access rule and stored versions
# (`queries._case_section_ids`, `_deadline_ids`), with the moment bound when they run: what
# changes between two views of the front page shows on the second.


def test_a_new_case_and_a_membership_show_at_once(
    client, logged_in, make_case, session, body, frozen_clock
):
    make_case(title="Første sag hos TSS", state="at_tss")
    user = logged_in("chair@TSS")
    assert "Første sag hos TSS" in _section(
        client.get("/").get_data(as_text=True), "til-beslutning"
    )

    make_case(title="Ny sag hos TSS", state="at_tss")
    make_case(title="Sag hos SKU", state="at_sku")
    section = _section(client.get("/").get_data(as_text=True), "til-beslutning")
    assert "Ny sag hos TSS" in section and "Sag hos SKU" not in section

    membership = Membership(user_id=user.id, body_id=body("SKU").id, role=Role.CHAIR)
    session.add(membership)
    session.flush()
    assert "Sag hos SKU" in _section(client.get("/").get_data(as_text=True), "til-beslutning")

    membership.active = False
    session.flush()
    assert "Sag hos SKU" not in _section(client.get("/").get_data(as_text=True), "til-beslutning")


def test_the_board_follows_the_clock_and_the_secretariats_bodies(
    client, logged_in, make_case, session, body, frozen_clock
):
    at_tss = make_case(title="Frist om to dage", state="at_tss")
    _add_deadline(session, at_tss, datetime(2020, 9, 3, 21, 59, tzinfo=UTC))
    at_sku = make_case(title="SKU's frist", state="at_sku")
    _add_deadline(session, at_sku, datetime(2020, 8, 30, 21, 59, tzinfo=UTC))
    user = logged_in("secretariat@TSS")
    html = client.get("/").get_data(as_text=True)
    assert "Frist om to dage" in _section(html, "denne-uge")
    assert "Frist om to dage" not in _section(html, "overskredne-frister")
    assert "SKU's frist" not in html

    clock.set_time(datetime(2020, 9, 5, 8, 0, tzinfo=UTC))
    session.add(Membership(user_id=user.id, body_id=body("SKU").id, role=Role.SECRETARIAT))
    session.flush()
    html = client.get("/").get_data(as_text=True)
    overdue = _section(html, "overskredne-frister")
    assert "Frist om to dage" in overdue and "SKU&#39;s frist" in overdue
    assert "Frist om to dage" not in _section(html, "denne-uge")


def test_a_stored_version_is_known_by_its_checksum():
    """A statement built from the stored versions is kept for exactly those versions: another
    source under the same name and number (another database) is another key."""
    known = {(name, 1): d.with_version(1) for name, d in load_definitions().items()}
    (name, number), definition = next(iter(known.items()))
    again = dict(known)
    assert queries.versions_of(again) == queries.versions_of(known)
    again[(name, number)] = replace(definition, sha256="0" * 64)
    assert queries.versions_of(again) != queries.versions_of(known)


# The board's rows as Jinja drew them before `dashboard.overdue_rows` and `deadline_rows`
# wrote them: the writers must give the same bytes.
_JINJA_OVERDUE = """{% set nr = _("nr.") %}<tbody>
      {% for row in rows %}
      <tr>
        <td><a href="{{ url_for('cases.detail', case_id=row.case.id) }}">{{ row.case.title }}</a> <span class="muted">({{ nr }} {{ row.case.id }})</span></td>
        <td>{{ row.state_label }}</td>
        <td>{{ row.deadline.due_at | datotid }}</td>
        <td class="overdue">{% if row.days_overdue == 0 %}{{ _("I dag") }}{% else %}{{ ngettext("%(num)d dag", "%(num)d dage", row.days_overdue) }}{% endif %}</td>
      </tr>
      {% endfor %}
    </tbody>"""  # noqa: E501
_JINJA_DEADLINES = """<tbody>
    {% set nr = _("nr.") %}
    {% for row in rows %}
    <tr>
      <td><a href="{{ url_for('cases.detail', case_id=row.case.id) }}">{{ row.case.title }}</a> <span class="muted">({{ nr }} {{ row.case.id }})</span></td>
      <td>{{ row.state_label }}</td>
      <td>{{ row.deadline.kind | fristtype }}</td>
      <td>{{ row.deadline.due_at | datotid }}</td>
    </tr>
    {% endfor %}
  </tbody>"""  # noqa: E501


@pytest.mark.parametrize("locale", ["da", "en"])
def test_the_boards_rows_are_written_as_jinja_drew_them(app, locale):
    from flask import render_template_string
    from flask_babel import force_locale

    from workflow.web import dashboard

    due = [
        datetime(2020, 8, 28, 21, 59, tzinfo=UTC),
        datetime(2020, 8, 28, 21, 59, tzinfo=UTC),
        datetime(2021, 1, 3, 7, 5, tzinfo=UTC),
    ]
    cases = [
        queries.ShownCase(7, 'Sag <b>"fed"</b> & mere'),
        queries.ShownCase(12, "Almindelig sag"),
        queries.ShownCase(1234, "Ærø's sag"),
    ]
    kinds = [DeadlineKind.STATE, DeadlineKind.FOLLOW_UP, DeadlineKind.MATERIAL]
    deadlines = [
        queries.ShownDeadline(n, kind, moment, None)
        for n, (kind, moment) in enumerate(zip(kinds, due, strict=True))
    ]
    states = ["I høring", "A & <B>", "Igangsat"]
    overdue = [
        queries.OverdueRow(deadline, case, state, days)
        for deadline, case, state, days in zip(deadlines, cases, states, [0, 1, 42], strict=True)
    ]
    rows = [
        queries.DeadlineRow(deadline, case, state, None)
        for deadline, case, state in zip(deadlines, cases, states, strict=True)
    ]
    with app.test_request_context(), force_locale(locale):
        assert f"<tbody>{dashboard.overdue_rows(overdue)}\n    </tbody>" == render_template_string(
            _JINJA_OVERDUE, rows=overdue
        )
        assert f"<tbody>{dashboard.deadline_rows(rows)}\n  </tbody>" == render_template_string(
            _JINJA_DEADLINES, rows=rows
        )


# The line under a section as the Jinja macro wrote it before `dashboard.more_line`.
_JINJA_MORE_LINE = """{% macro more_line(section, key, name, deadlines=false) %}
{% if section.more %}
{% set total = section.total | tal %}
<p class="section-more">
  {% if deadlines %}
  {% if section.more_than_cap %}{{ _("Viser de %(shown)s første af over %(total)s frister.", shown=section | length, total=total) }}{% else %}{{ _("Viser de %(shown)s første af %(total)s frister.", shown=section | length, total=total) }}{% endif %}
  <a href="{{ url_for('cases.index', afsnit=key, sortering='frist') }}">{{ _("Se alle sagerne") }}<span class="visually-hidden">: {{ name }}</span></a>
  {% else %}
  {% if section.more_than_cap %}{{ _("Viser de %(shown)s første af over %(total)s.", shown=section | length, total=total) }}{% else %}{{ _("Viser de %(shown)s første af %(total)s.", shown=section | length, total=total) }}{% endif %}
  <a href="{{ url_for('cases.index', afsnit=key, sortering='frist') }}">{% if section.more_than_cap %}{{ _("Se alle (over %(total)s)", total=total) }}{% else %}{{ _("Se alle (%(total)s)", total=total) }}{% endif %}<span class="visually-hidden">: {{ name }}</span></a>
  {% endif %}
</p>
{% endif %}
{% endmacro %}{{ more_line(section, "vores-sager", name, deadlines=deadlines) }}"""  # noqa: E501


@pytest.mark.parametrize("locale", ["da", "en"])
@pytest.mark.parametrize("deadlines", [False, True])
@pytest.mark.parametrize(
    "section",
    [
        queries.Section(list(range(10)), 50, True),
        queries.Section(list(range(10)), 1234),
        queries.Section(list(range(3)), 3),
    ],
)
def test_the_line_under_a_section_is_written_as_the_macro_wrote_it(app, locale, deadlines, section):
    from flask import render_template_string
    from flask_babel import force_locale

    from workflow.web import dashboard

    with app.test_request_context(), force_locale(locale):
        for name in ("Vores & sager", dashboard._("Vores sager")):
            assert str(
                dashboard.more_line(section, "vores-sager", name, deadlines)
            ) == render_template_string(
                _JINJA_MORE_LINE, section=section, name=name, deadlines=deadlines
            )


def test_postgresql_plans_the_secretariats_board_once_not_on_every_view(db_engine):
    # The board's statement compares with the moments only through scalar subqueries
    # (queries._moments), whose values PostgreSQL's planner does not see: its plans are then
    # the same for every moment, so it keeps one (a generic plan) for the prepared statement
    # instead of planning the statement's nine copies of the visibility rule on every view.
    # (On the small test database PostgreSQL takes the generic plan either way; at volume,
    # with the moments visible, it planned every view: 2 ms.)
    if db_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans of prepared statements")
    engine = make_engine(db_engine.url.render_as_string(hide_password=False))
    try:
        with Session(engine) as session:
            bodies = frozenset(session.scalars(select(Body.id).order_by(Body.id).limit(3)))
            visible = _visible_to(None, bodies, tuple(_private_states(session)), True)
        roles = queries.Roles(frozenset(), frozenset(), frozenset(), bodies)
        statement = queries._deadline_ids(bodies, visible, queries.SECTION_COUNT_CAP, "postgresql")
        sql = str(statement.compile(dialect=engine.dialect))
        moments = re.findall(r"(.{8})%\((now|week_end)\)s", sql)
        assert moments and all(before.endswith("(SELECT ") for before, _name in moments)
        now = datetime(2020, 10, 1, 7, 0, tzinfo=UTC)
        for view in range(12):  # psycopg prepares at the 5th, PostgreSQL tries 5 custom plans
            with Session(engine) as session:  # ends as a page's read does, without a commit
                queries.deadline_board(session, roles, now + timedelta(minutes=view), visible)
        with engine.connect() as connection:
            plans = connection.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                    " WHERE statement LIKE 'SELECT 0 AS section%'"
                )
            ).all()
    finally:
        engine.dispose()
    assert len(plans) == 1
    generic, custom = plans[0]
    assert generic > 0 and custom <= 5
