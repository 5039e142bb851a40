"""Formandskab decisions (seed 000 l.65-67, l.82-85): only where the body's terms allow it, and
only by the joint chairmanship, one municipal and one regional co-chair, the second consenting.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import CaseEvent, Party, PartyKind, User
from workflow.engine import core as engine
from workflow.engine.errors import GuardFailed
from workflow.engine.formandskab import PROPOSED


@pytest.fixture
def co_chairs(session, make_user):
    """Make a body's two co-chairs: one from a municipality, one from the region."""

    def make(code: str) -> tuple[User, User]:
        municipal = make_user(f"chair@{code}", name="Kommunal medformand")
        regional = make_user(f"vice_chair@{code}", name="Regional medformand")
        for user, kind in ((municipal, PartyKind.MUNICIPALITY), (regional, PartyKind.REGION)):
            user.party_id = session.scalar(
                select(Party.id).where(Party.kind == kind).order_by(Party.id).limit(1)
            )
        session.commit()
        return municipal, regional

    return make


def _triggers(session, case):
    return list(
        session.scalars(
            select(CaseEvent.trigger).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )


def test_a_vice_chair_of_sku_alone_cannot_approve_between_meetings(session, make_case, make_user):
    case = make_case(state="at_sku")
    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "sku_approve", make_user("vice_chair@SKU"))
    assert [f.rule for f in refused.value.failures] == ["formandskab_mandate"]
    assert (
        "SKU's kommissorium giver ikke formandskabet ret til at beslutte" in refused.value.message
    )
    assert (case.state, _triggers(session, case)) == ("at_sku", ["create"])


def test_the_refusal_disappears_when_skus_terms_let_its_chairs_decide(
    session, make_case, make_user, body
):
    # The rule is the body's setting: with it turned on, the same action is taken up (as a
    # proposal awaiting the other co-chair) instead of refused.
    body("SKU").formandskab_decides = True
    session.commit()
    case = make_case(state="at_sku")
    event = engine.perform(case, "sku_approve", make_user("vice_chair@SKU"))
    assert event.trigger == PROPOSED
    assert case.state == "at_sku"


def test_one_co_chair_proposes_and_the_other_takes_the_decision(session, make_case, co_chairs):
    municipal, regional = co_chairs("TSS")
    case = make_case(state="at_tss")

    proposal = engine.perform(case, "tss_return", municipal, comment="Beskriv økonomien.")

    assert (proposal.trigger, proposal.to_state, case.state) == (PROPOSED, "at_tss", "at_tss")
    assert proposal.data["proposed_trigger"] == "tss_return"
    assert proposal.data["side"] == "municipal"
    decision = engine.perform(case, "tss_return", regional, comment="Beskriv økonomien.")
    assert (decision.trigger, case.state) == ("tss_return", "draft")
    assert decision.data["on_behalf_of_body"] is True
    assert decision.data["co_chairs"] == [municipal.id, regional.id]
    assert _triggers(session, case) == ["create", PROPOSED, "tss_return"]


def test_the_proposing_co_chair_cannot_also_consent(session, make_case, co_chairs):
    municipal, _regional = co_chairs("FORUM-DATA")
    case = make_case("forum_matter", origin="FORUM-DATA", state="in_forum")
    engine.perform(case, "decide", municipal, comment="Fælles skabelon.")
    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "decide", municipal, comment="Fælles skabelon.")
    assert [f.rule for f in refused.value.failures] == ["formandskab_consent"]
    assert "Den anden medformand skal give sit samtykke" in refused.value.message
    assert engine.check(case, "decide", municipal, "Fælles skabelon.")[0].rule == (
        "formandskab_consent"
    )
    assert case.state == "in_forum"


def test_two_municipal_co_chairs_are_not_the_joint_chairmanship(
    session, make_case, make_user, co_chairs
):
    municipal, _regional = co_chairs("FORUM-DATA")
    other_municipal = make_user("chair@FORUM-DATA")
    other_municipal.party_id = municipal.party_id
    session.commit()
    case = make_case("forum_matter", origin="FORUM-DATA", state="in_forum")
    engine.perform(case, "decide", municipal, comment="Fælles skabelon.")
    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "decide", other_municipal, comment="Fælles skabelon.")
    assert "samtykket skal komme fra den anden side" in refused.value.message
    assert case.state == "in_forum"


def test_the_first_co_chairs_click_says_the_decision_awaits_the_other(
    client, logged_in, make_case, session, text_of
):
    case = make_case()
    logged_in("chair@SU-NORD-SOM")
    response = client.post(
        f"/sager/{case.id}/handlinger/submit",
        data={"expected_version": str(case.version), "comment": "Klar til TSS."},
    )
    assert response.status_code == 303
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "er registreret som forslag" in page
    assert "den anden medformand har givet sit samtykke" in page
    assert "En medformand foreslog en formandskabsbeslutning" in page
    session.refresh(case)
    assert case.state == "draft"


# --- The other co-chair hears of the proposal and finds it on the front page --------------


@pytest.fixture
def client_of(app, session):
    """A test client logged in as an existing user."""
    from support.web import PASSWORD, password_hash

    def login(user):
        user.password_hash = password_hash()
        session.commit()
        client = app.test_client()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 303
        return client

    return login


def _consent_requests(session, user):
    from models import Notification

    return list(
        session.scalars(
            select(Notification).where(
                Notification.recipient_id == user.id, Notification.kind == "consent_requested"
            )
        )
    )


def test_the_other_co_chair_is_told_once_with_a_link(session, make_case, co_chairs):
    municipal, regional = co_chairs("TSS")
    case = make_case(state="at_tss")
    engine.perform(case, "tss_return", municipal, comment="Beskriv økonomien.")

    (told,) = _consent_requests(session, regional)
    assert told.case_id == case.id  # the mail's footer links to the case
    assert told.subject == f"Forslag til formandskabet i TSS: {case.title}"
    assert "giver dit samtykke" in told.body and "Beskriv økonomien." in told.body
    assert _consent_requests(session, municipal) == []  # not the proposer


def test_pending_proposals_show_on_the_other_co_chairs_dashboard(
    client_of, session, make_case, co_chairs, text_of
):
    municipal, regional = co_chairs("TSS")
    case = make_case(title="Forslag om tidsplan", state="at_tss")
    engine.perform(case, "tss_return", municipal, comment="Mangler tidsplan.")
    page = text_of(client_of(regional).get("/"))
    assert "Forslag til formandskabet, der venter på dit samtykke" in page
    assert "Forslag om tidsplan" in page and "Kommunal medformand" in page
    assert "venter på dit samtykke" not in text_of(client_of(municipal).get("/"))


def test_bulk_says_proposal_to_the_chairmanship_for_the_first_co_chair(
    client_of, session, make_case, co_chairs, text_of
):
    municipal, _regional = co_chairs("TSS")
    case = make_case(title="Første", state="at_tss")
    response = client_of(municipal).post(
        "/sager/samlet-handling",
        data={
            "handling": "signature_initiative:tss_return",
            "sag": [f"{case.id}:{case.version}"],
            "kommentar": "Mangler en tidsplan.",
        },
    )
    page = text_of(response)
    assert "Forslag til formandskabet: afventer den anden medformands samtykke" in page
    assert "Udført. Sagen er nu" not in page
    session.refresh(case)
    assert case.state == "at_tss"


def test_the_confirmation_says_proposal_to_the_chairmanship_for_the_first_co_chair(
    client_of, session, make_case, co_chairs, text_of
):
    municipal, regional = co_chairs("TSS")
    case = make_case("development_task", origin="SU-SYD-SOM", state="at_tss")
    asked = text_of(
        client_of(municipal).post(
            f"/sager/{case.id}/handlinger/approve_spreading",
            data={"expected_version": str(case.version), "comment": "Spredes."},
        )
    )
    assert "Din beslutning registreres som forslag til formandskabet" in asked
    assert "Intet møde – forslag til formandskabet" in asked
    assert "Sagen går fra" not in asked
    engine.perform(case, "approve_spreading", municipal, comment="Spredes.")
    asked = text_of(
        client_of(regional).post(
            f"/sager/{case.id}/handlinger/approve_spreading",
            data={"expected_version": str(case.version), "comment": "Spredes."},
        )
    )
    assert "Sagen går fra »Til godkendelse af udbredelse i TSS« til »Udbredelse«." in asked
