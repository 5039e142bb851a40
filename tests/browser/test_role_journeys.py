"""Issue 11's daily paths in Debian's Chromium for the SU secretariat, the TSS secretariat and
the TSS chair, on one live server and one browser for the module. axe-core checks every page on
the way (WCAG 2.1 A/AA), and each step asserts what the user sees next: the flash, the case's
state, the "Næste skridt" panel, the meeting's minutes steps.

The scenario is built through the engine and the meeting operations, each role in an era of its
own (March, August and October 2031) with the server's clock frozen at the moment of each step,
so the journeys do not depend on each other or on the order xdist runs them in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    BROWSER_MARKS,
    Steps,
    add_user,
    body,
    chromium,
    live_app,
    open_action,
    open_case,
    page_as,
)
from playwright.sync_api import Browser, Locator, Page
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.formandskab import decide
from support.mail import MailServer

from models import Case, FocusArea, Meeting, MeetingStatus, Role, User
from workflow.engine import clock
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.db import make_engine
from workflow.meetings import agenda, minutes
from workflow.meetings import operations as meetings
from workflow.meetings.outcomes import Outcome
from workflow.notifications import delivery as notify

pytestmark = BROWSER_MARKS

SU = "SU-NORD-SOM"
SU_MEMBER = "medlem@su-nord.test"
SU_CHAIR = "formand@su-nord.test"
SU_SECRETARIAT = "sekretariat@su-nord.test"
TSS_CHAIR = "formand@tss.test"
TSS_CO_CHAIR = "medformand@tss.test"
TSS_SECRETARIAT = "sekretariat@tss.test"
TSS_MEMBER = "medlem@tss.test"
SKU_CHAIR = "formand@sku.test"

COMPLETE: dict[str, Any] = {
    "summary": "Ét sammenhængende forløb på tværs af sektorer.",
    "role_distribution": "Kommunen står for forløbet, hospitalet rådgiver.",
    "general_practice_role": "Egen læge henviser og følger op.",
    "triple_aim_quality": "Færre indlæggelser.",
    "triple_aim_economy": "Udgiftsneutral for parterne samlet.",
    "triple_aim_population": "Færre borgere bliver syge igen.",
    "triple_aim_experience": "Borgeren oplever ét samlet forløb.",
    "business_case": "Færre indlæggelser opvejer udgiften; ingen kommunal merudgift.",
}

# Era A: the SU secretariat's Monday. TSS meets on Friday 14 March; its materialefrist (eight
# working days before) is Tuesday 4 March, so it is near.
A_TODAY = datetime(2031, 3, 3, 9, 0, tzinfo=LOCAL_TZ)
A_SU_HELD = datetime(2031, 3, 2, 14, 0, tzinfo=LOCAL_TZ)
A_SU_COMING = datetime(2031, 3, 24, 14, 0, tzinfo=LOCAL_TZ)
A_TSS = datetime(2031, 3, 14, 10, 0, tzinfo=LOCAL_TZ)
# Era B: the TSS secretariat prepares the meeting of Friday 29 August and writes its minutes.
B_TODAY = datetime(2031, 8, 18, 9, 0, tzinfo=LOCAL_TZ)
B_TSS = datetime(2031, 8, 29, 10, 0, tzinfo=LOCAL_TZ)
B_TSS_NEXT = datetime(2031, 9, 26, 10, 0, tzinfo=LOCAL_TZ)
# Era C: the TSS chair, the Monday after the meeting of Friday 17 October.
C_TSS = datetime(2031, 10, 17, 10, 0, tzinfo=LOCAL_TZ)
C_TODAY = datetime(2031, 10, 20, 9, 0, tzinfo=LOCAL_TZ)

TITLE_X = "Hjemmebesøg efter udskrivelse"  # A: at TSS, lacks business case and financing
TITLE_Y = "Forløb for borgere med KOL"  # A: the member's draft, lacks the role distribution
TITLE_P = "Fælles forløb for sårbare gravide"  # B: on TSS' agenda, recommended
TITLE_Q = "Tidlig opsporing af forværring"  # B: on TSS' agenda, returned
TITLE_R = "Rygestop for borgere med psykisk sygdom"  # C: recommended at the held meeting
TITLE_C = "Digital genoptræningsplan"  # C: rejected by the chair between meetings


@dataclass(frozen=True)
class Ids:
    cases: dict[str, int]
    meetings: dict[str, int]


@dataclass(frozen=True)
class Server:
    """The live server of the module, its database and scenario, and the browser."""

    url: str
    database_url: str
    browser: Browser
    ids: Ids


class Journey(Steps):
    """One test's walk on the module's server, with each step's screenshot and axe's findings."""

    def __init__(self, server: Server) -> None:
        super().__init__("rolle-")
        self.url = server.url
        self.database_url = server.database_url
        self.browser = server.browser
        self.ids = server.ids

    def case(self, page: Page, key: str) -> None:
        page.goto(f"{self.url}/sager/{self.ids.cases[key]}")

    def meeting(self, page: Page, key: str) -> None:
        page.goto(f"{self.url}/moeder/{self.ids.meetings[key]}")


def _at(moment: datetime) -> None:
    clock.set_time(moment)


def _meeting(session: Session, code: str, starts_at: datetime, status: MeetingStatus) -> Meeting:
    meeting = Meeting(
        body_id=body(session, code).id,
        title=f"Møde i {code}",
        starts_at=starts_at,
        location="Regionsgården, Hillerød",
        status=status,
    )
    session.add(meeting)
    session.commit()
    return meeting


def _case(session: Session, author: User, title: str, **fields: Any) -> Case:
    focus_id = session.scalar(select(FocusArea.id).order_by(FocusArea.id).limit(1))
    values = {**COMPLETE, "focus_area_id": focus_id, **fields}
    return open_case(session, author, title, origin=SU, national_goal_ids=[1, 2], **values)


def _scenario(session: Session) -> Ids:
    users = {
        SU_MEMBER: add_user(session, SU_MEMBER, "Mads Medlem", (SU, Role.MEMBER)),
        SU_CHAIR: add_user(session, SU_CHAIR, "Sofie Formand", (SU, Role.CHAIR)),
        SU_SECRETARIAT: add_user(session, SU_SECRETARIAT, "Sara Sekretær", (SU, Role.SECRETARIAT)),
        TSS_CHAIR: add_user(session, TSS_CHAIR, "Tove Formand", ("TSS", Role.CHAIR)),
        TSS_CO_CHAIR: add_user(session, TSS_CO_CHAIR, "Torben Medformand", ("TSS", Role.CHAIR)),
        TSS_SECRETARIAT: add_user(
            session, TSS_SECRETARIAT, "Tim Sekretær", ("TSS", Role.SECRETARIAT)
        ),
        TSS_MEMBER: add_user(session, TSS_MEMBER, "Tea Medlem", ("TSS", Role.MEMBER)),
        SKU_CHAIR: add_user(session, SKU_CHAIR, "Svend Formand", ("SKU", Role.CHAIR)),
    }
    session.commit()
    member, su_chair = users[SU_MEMBER], users[SU_CHAIR]
    cases: dict[str, int] = {}
    meeting_ids: dict[str, int] = {}

    # Era A.
    _at(A_SU_HELD - timedelta(days=3))
    su_held = _meeting(session, SU, A_SU_HELD, MeetingStatus.HELD)
    su_coming = _meeting(session, SU, A_SU_COMING, MeetingStatus.PLANNED)
    _meeting(session, "TSS", A_TSS, MeetingStatus.PLANNED)
    x = _case(session, member, TITLE_X, cost_driving=True, business_case="")
    y = _case(session, member, TITLE_Y, role_distribution="")
    _at(A_SU_HELD + timedelta(hours=2))
    decide(x, "submit", su_chair, data={"meeting_id": su_held.id})
    cases |= {"X": x.id, "Y": y.id}
    meeting_ids |= {"su_held": su_held.id, "su_coming": su_coming.id}

    # Era B.
    _at(B_TODAY - timedelta(days=5))
    tss_b = _meeting(session, "TSS", B_TSS, MeetingStatus.PLANNED)
    _meeting(session, "TSS", B_TSS_NEXT, MeetingStatus.PLANNED)
    for key, title in (("P", TITLE_P), ("Q", TITLE_Q)):
        case = _case(session, member, title)
        decide(case, "submit", su_chair, comment="Formandskabets indstilling.")
        cases[key] = case.id
    meeting_ids["tss_b"] = tss_b.id

    # Era C: the meeting is held and its outcome recorded; the chair has yet to approve.
    _at(C_TSS - timedelta(days=21))
    tss_c = _meeting(session, "TSS", C_TSS, MeetingStatus.PLANNED)
    secretariat = users[TSS_SECRETARIAT]
    for key, title in (("R", TITLE_R), ("C", TITLE_C)):
        case = _case(session, member, title)
        decide(case, "submit", su_chair, comment="Formandskabets indstilling.")
        cases[key] = case.id
    r = session.get(Case, cases["R"])
    assert r is not None
    item = agenda.add_case(session, tss_c, r, secretariat)
    meetings.step(session, tss_c, "send_for_review", secretariat)
    agenda.publish(session, tss_c, secretariat)
    _at(C_TSS + timedelta(hours=2))
    meetings.step(session, tss_c, "hold", secretariat)
    minutes.record_outcome(
        session, item, secretariat, Outcome.RECOMMENDED, "TSS indstiller indsatsen til SKU."
    )
    meeting_ids["tss_c"] = tss_c.id
    clock.set_time(None)
    return Ids(cases, meeting_ids)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('roles')) / 'roles.db'}"
    with live_app(url, _scenario) as (base_url, ids), chromium() as browser:
        yield Server(base_url, url, browser, ids)
    clock.set_time(None)


@pytest.fixture
def journey(server: Server) -> Journey:
    """A walk of its own: its findings are not another test's."""
    return Journey(server)


def _panel(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=naeste-skridt]")


def _main(page: Page) -> str:
    return page.locator("main").inner_text()


def _flash(page: Page) -> str:
    return page.locator(".flashes").inner_text()


def _deliver(journey: Journey, mail_server: MailServer) -> list[Any]:
    """Send the outbox to the real SMTP server on loopback, as the deliverer does."""
    config = notify.SmtpConfig(
        host="127.0.0.1", port=mail_server.port, security=notify.SmtpSecurity.NONE, timeout=10
    )
    db_engine = make_engine(journey.database_url)
    try:
        with Session(db_engine) as session:
            notify.deliver_pending(session, config)
    finally:
        db_engine.dispose()
    return mail_server.messages


def test_su_secretariat_completes_a_draft_recommends_it_and_reminds_about_material(
    journey: Journey, mail_server: MailServer
) -> None:
    _at(A_TODAY)
    with page_as(journey.browser, journey.url, SU_SECRETARIAT) as page:
        # The dashboard flags the case at TSS that lacks material, before the materialefrist.
        watch = page.locator(
            "section", has=page.get_by_role("heading", name="Materialefrister, der nærmer sig")
        )
        row = watch.locator("tr", has=page.get_by_role("link", name=TITLE_X))
        # The agreement's own rule says what is missing (cases/rules.py, financing_failure).
        assert "mangler en businesscase og et finansieringsforslag" in row.inner_text()
        assert "4. marts 2031" in row.inner_text()
        ours = page.locator("section[aria-labelledby=vores-sager]")
        assert TITLE_Y in ours.inner_text()
        journey.check(page, "su-sekretariat-1-overblik")

        # The member's draft: Næste skridt names what is missing.
        ours.get_by_role("link", name=TITLE_Y).click()
        page.wait_for_url(f"**/sager/{journey.ids.cases['Y']}")
        panel = _panel(page).inner_text()
        assert "Indstil til TSS" in panel
        assert "Sara Sekretær" in panel and "Sofie Formand" in panel
        assert "rolle- og opgavefordeling" in panel.lower()
        journey.check(page, "su-sekretariat-2-kladde")

        page.get_by_role("link", name="Rediger sagens oplysninger").click()
        journey.check(page, "su-sekretariat-3-rediger")
        page.get_by_label("Rolle- og opgavefordeling", exact=True).fill(
            "Kommunens sygeplejersker står for forløbet; hospitalets lungeklinik rådgiver."
        )
        page.get_by_role("button", name="Gem ændringer").click()
        page.wait_for_url(f"**/sager/{journey.ids.cases['Y']}")
        assert "Sagen mangler intet til næste skridt." in _panel(page).inner_text()
        journey.check(page, "su-sekretariat-4-rettet")

        # Recommend to TSS: only the SU's meeting that has been held is offered.
        form = open_action(page, "Indstil til TSS")
        meeting = form.get_by_label("Møde")
        offered = meeting.locator("option").all_inner_texts()
        assert any("2. marts 2031" in o for o in offered), offered
        assert not any("24. marts 2031" in o for o in offered), offered
        meeting.select_option(str(journey.ids.meetings["su_held"]))
        form.get_by_label("Kommentar").fill("Indstillet på SU's møde 2. marts.")
        journey.check(page, "su-sekretariat-5-indstil")
        form.get_by_role("button", name="Indstil til TSS").click()
        page.wait_for_load_state()
        assert "Sagen er nu: Til behandling i TSS." in _flash(page)
        panel = _panel(page).inner_text()
        assert "Tværsektoriel Strategisk Styregruppe (TSS)" in panel
        assert "Tove Formand" in panel and "Tim Sekretær" in panel
        assert "Frist: 4. marts 2031." in panel
        history = page.locator("section[aria-labelledby=historik]").inner_text()
        assert "Besluttet på mødet: Møde i SU-NORD-SOM den 2. marts 2031" in history
        journey.check(page, "su-sekretariat-6-til-tss")

        # The case at TSS that lacks material: remind the SU by hand, once a day.
        journey.case(page, "X")
        panel_text = _panel(page).inner_text()
        assert "mangler en businesscase og et finansieringsforslag" in panel_text
        journey.check(page, "su-sekretariat-7-mangler")
        _panel(page).get_by_role("button", name="Påmind om det manglende materiale").click()
        page.wait_for_load_state()
        assert "Påmindelsen er sendt til Samordningsudvalg Nord (somatik)" in _flash(page)
        history = page.locator("section[aria-labelledby=historik]").inner_text()
        assert "Der blev mindet om sagens materiale – Sara Sekretær" in history, history
        journey.check(page, "su-sekretariat-8-paamindet")
        _panel(page).get_by_role("button", name="Påmind om det manglende materiale").click()
        page.wait_for_load_state()
        refusal = page.locator(".error-summary").inner_text()
        assert "Handlingen blev ikke udført" in refusal
        assert "er allerede mindet om sagen i dag (3. marts 2031)" in refusal
        assert "prøv igen i morgen" in refusal
        journey.check(page, "su-sekretariat-9-afvist")

    messages = _deliver(journey, mail_server)
    to_chair = [m for m in messages if SU_CHAIR in str(m["To"])]
    assert to_chair, [str(m["Subject"]) for m in messages]
    assert any(TITLE_X in str(m["Subject"]) + m.get_body().get_content() for m in to_chair)
    assert journey.problems == {}


def _agenda_titles(page: Page) -> list[str]:
    return [t.split(" (")[0].strip() for t in page.locator("ol.agenda > li > h3").all_inner_texts()]


def _item(page: Page, title: str) -> Locator:
    return page.locator("ol.agenda > li").filter(has=page.locator("h3", has_text=title))


def test_tss_secretariat_builds_the_agenda_and_drafts_the_minutes(journey: Journey) -> None:
    _at(B_TODAY)
    with page_as(journey.browser, journey.url, TSS_SECRETARIAT) as page:
        per_meeting = page.locator("section[aria-labelledby=materialefrister]").inner_text()
        assert TITLE_P in per_meeting and TITLE_Q in per_meeting
        journey.check(page, "tss-sekretariat-1-overblik")

        journey.meeting(page, "tss_b")
        assert page.get_by_role("heading", level=1).inner_text() == "Møde i TSS"
        candidates = page.locator("section[aria-labelledby=kandidater]")
        assert TITLE_P in candidates.inner_text() and TITLE_Q in candidates.inner_text()
        journey.check(page, "tss-sekretariat-2-moede")
        for title in (TITLE_P, TITLE_Q):
            candidates.locator("li", has=page.get_by_role("link", name=title)).get_by_role(
                "button", name="Sæt på dagsordenen"
            ).click()
            page.wait_for_load_state()
            assert f"»{title}« er sat på dagsordenen." in _flash(page)
        page.locator("summary", has_text="Tilføj punkt uden sag").click()
        page.get_by_label("Titel", exact=True).last.fill("Orientering fra formandskabet")
        page.get_by_role("button", name="Tilføj", exact=True).click()
        page.wait_for_load_state()
        assert _agenda_titles(page)[-3:] == [TITLE_P, TITLE_Q, "Orientering fra formandskabet"]
        journey.check(page, "tss-sekretariat-3-dagsorden")

        # Move Q up above P, and take the free item off again.
        _item(page, TITLE_Q).get_by_role("button", name="Flyt op").click()
        page.wait_for_load_state()
        assert _agenda_titles(page)[-3:] == [TITLE_Q, TITLE_P, "Orientering fra formandskabet"]
        _item(page, "Orientering fra formandskabet").get_by_role(
            "button", name="Fjern fra dagsordenen"
        ).click()
        page.wait_for_load_state()
        assert "Orientering fra formandskabet" not in _agenda_titles(page)
        assert _agenda_titles(page)[-2:] == [TITLE_Q, TITLE_P]
        journey.check(page, "tss-sekretariat-4-flyttet")

        # Putting a case on the agenda is not a decision.
        journey.case(page, "P")
        history = page.locator("section[aria-labelledby=historik]").inner_text()
        assert "Sat på dagsordenen til Møde i TSS den 29. august 2031" in history
        assert "Besluttet på mødet" not in history
        assert "Til behandling i TSS" in page.locator("dl.facts").inner_text()
        journey.check(page, "tss-sekretariat-5-sag")

        journey.meeting(page, "tss_b")
        page.get_by_role("button", name="Send dagsordenen til formandskabet").click()
        page.wait_for_load_state()
        assert "Dagsorden til gennemsyn hos formandskabet" in _flash(page)
        page.get_by_role("button", name="Udsend dagsordenen").click()
        page.wait_for_load_state()
        assert "Mødet har nu status »Dagsorden udsendt«." in _flash(page)
        assert "Referatet: næste skridt" not in _main(page)
        journey.check(page, "tss-sekretariat-6-udsendt")

        # The meeting has begun: record it as held, then each case's outcome.
        _at(B_TSS + timedelta(minutes=30))
        page.reload()
        page.get_by_role("button", name="Registrér mødet som afholdt").click()
        page.wait_for_load_state()
        assert "Mødet har nu status »Mødet er afholdt«." in _flash(page)
        steps = page.locator("section[aria-labelledby=referat]")
        current = steps.locator("li[aria-current=step]").inner_text()
        assert "Sekretariatet skriver referatet" in current and "Tim Sekretær" in current
        journey.check(page, "tss-sekretariat-7-afholdt")

        page.locator("summary", has_text="Registrér fremmøde").click()
        page.get_by_label("Tove Formand deltager").check()
        page.get_by_label("Tim Sekretær deltager").check()
        page.get_by_label("Tea Medlem har meldt afbud").check()
        page.get_by_label("Referent", exact=True).select_option(label="Tim Sekretær")
        page.get_by_role("button", name="Gem fremmødet").click()
        page.wait_for_load_state()
        assert "Fremmødet er gemt." in _flash(page)
        roll = page.locator("section[aria-labelledby=fremmoede] dl.facts").inner_text()
        assert "Tim Sekretær, Tove Formand" in roll or "Tove Formand, Tim Sekretær" in roll
        assert "Tea Medlem" in roll

        for title, outcome, text in (
            (TITLE_P, "recommended", "TSS indstiller indsatsen til SKU."),
            (TITLE_Q, "returned", "Rollefordelingen skal uddybes."),
        ):
            item = _item(page, title)
            item.get_by_label("Udfald").select_option(outcome)
            item.get_by_label("Beslutning").fill(text)
            item.get_by_role("button", name="Gem udfald").click()
            page.wait_for_load_state()
            assert text in _item(page, title).inner_text()
        current = page.locator("section[aria-labelledby=referat] li[aria-current=step]")
        assert "Formandskabet godkender referatet" in current.inner_text()
        assert "Tove Formand" in current.inner_text()
        journey.check(page, "tss-sekretariat-8-referat")

        # Nothing moves on the cases until the chair approves the minutes.
        journey.case(page, "P")
        assert "Til behandling i TSS" in page.locator("dl.facts").inner_text()
        journey.check(page, "tss-sekretariat-9-venter")
    assert journey.problems == {}


def test_tss_chair_approves_the_minutes_and_decides_between_meetings(journey: Journey) -> None:
    _at(C_TODAY)
    with page_as(journey.browser, journey.url, TSS_CHAIR) as page:
        to_decide = page.locator("section[aria-labelledby=til-beslutning]").inner_text()
        assert TITLE_C in to_decide
        journey.check(page, "tss-formand-1-overblik")

        # The held meeting waits for the chair: approve the minutes.
        journey.meeting(page, "tss_c")
        current = page.locator("section[aria-labelledby=referat] li[aria-current=step]")
        assert "Formandskabet godkender referatet" in current.inner_text()
        assert "Tove Formand" in current.inner_text()
        journey.check(page, "tss-formand-2-moede")
        page.get_by_role("button", name="Godkend referat", exact=True).click()
        page.wait_for_load_state()
        assert "Din godkendelse af referatet er registreret." in _flash(page)
        approvals = page.locator("section[aria-labelledby=referat]").inner_text()
        assert "Tove Formand – 20. oktober 2031" in approvals
        journey.check(page, "tss-formand-3-deltager-godkendt")
        page.get_by_role("button", name="Godkend referatet", exact=True).click()
        page.wait_for_load_state()
        assert "Mødet har nu status »Referat godkendt«." in _flash(page)
        current = page.locator("section[aria-labelledby=referat] li[aria-current=step]")
        assert "Referatet er offentliggjort" in current.inner_text()
        journey.check(page, "tss-formand-4-referat-godkendt")

        # The recommended case has moved on to SKU, decided at the meeting that was held.
        journey.case(page, "R")
        assert "Til beslutning i SKU" in page.locator("dl.facts").inner_text()
        panel = _panel(page).inner_text()
        assert "Sundhedskoordinationsudvalget (SKU)" in panel and "Svend Formand" in panel
        history = page.locator("section[aria-labelledby=historik]").inner_text()
        assert "Besluttet på mødet: Møde i TSS den 17. oktober 2031" in history
        journey.check(page, "tss-formand-5-til-sku")

        # Between meetings the chair rejects a case on TSS' behalf, after a confirmation page.
        journey.case(page, "C")
        form = open_action(page, "Afvis")
        assert form.get_by_label("Møde").input_value() == ""  # no meeting: the chairs decide
        form.get_by_label("Begrundelse").fill("Indsatsen dækkes af den regionale aftale.")
        journey.check(page, "tss-formand-6-afvis")
        form.get_by_role("button", name="Afvis").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).inner_text() == "Bekræft: Afvis"
        asking = _main(page)
        # The first co-chair's decision is a proposal to the chairmanship (seed 000 l.83-85).
        assert "Din beslutning registreres som forslag til formandskabet." in asking
        assert "til den anden medformand giver sit samtykke; så går den til »Afvist«" in asking
        assert "Intet møde – forslag til formandskabet" in asking
        journey.check(page, "tss-formand-7-bekraeft")
        page.get_by_role("button", name="Bekræft: Afvis").click()
        page.wait_for_load_state()
        # One co-chair is not the chairmanship: the rejection waits for the other co-chair.
        assert "Din beslutning »Afvis« er registreret som forslag." in _flash(page)
        assert "Til behandling i TSS" in page.locator("dl.facts").inner_text()
        history = page.locator("section[aria-labelledby=historik]").inner_text()
        assert "den anden medformand skal give samtykke" in history
        journey.check(page, "tss-formand-8-foreslaaet")

    with page_as(journey.browser, journey.url, TSS_CO_CHAIR) as page:
        journey.case(page, "C")
        form = open_action(page, "Afvis")
        form.get_by_label("Begrundelse").fill("Enig: dækkes af den regionale aftale.")
        form.get_by_role("button", name="Afvis").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).inner_text() == "Bekræft: Afvis"
        page.get_by_role("button", name="Bekræft: Afvis").click()
        page.wait_for_load_state()
        assert "Sagen er nu: Afvist." in _flash(page)
        assert "Afvist" in page.locator("dl.facts").inner_text()
        assert "Du har ingen handlinger på sagen" in _main(page)
        history = page.locator("section[aria-labelledby=historik]").inner_text()
        assert "Besluttet på mødet" not in history
        journey.check(page, "tss-formand-9-afvist")

        page.goto(journey.url + "/")
        assert TITLE_C not in page.locator("main").inner_text()
        journey.check(page, "tss-formand-10-overblik")
    assert journey.problems == {}
