"""The access policy as a matrix: every rule of workflow.policy.RULES x every demo role x a
subject of each kind, with the expected answer written out. The expectations are keyed by the
rules table itself, so a rule added without saying who it allows fails here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import g
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import (
    Attachment,
    Body,
    Case,
    Consultation,
    ConsultationResponse,
    ImplementationStatus,
    Meeting,
    MeetingStatus,
    Party,
    User,
)
from workflow import policy
from workflow.cases import queries as case_queries
from workflow.engine import clock
from workflow.engine.errors import NotAllowed

# The demo's kinds of user (data/demo.toml), each as the memberships it holds.
ROLES: dict[str, tuple[str, ...]] = {
    "admin": (),
    "formand.sku": ("chair@SKU",),
    "naestformand.sku": ("vice_chair@SKU",),
    "formand.tss": ("chair@TSS",),
    "sekretariat.tss": ("secretariat@TSS",),
    "medlem.tss": ("member@TSS",),
    "formand.su": ("chair@SU-NORD-SOM",),
    "sekretariat.su": ("secretariat@SU-NORD-SOM",),
    "medlem.su": ("member@SU-NORD-SOM",),
    "observatoer.su": ("observer@SU-NORD-SOM",),
    "medlem.andet-su": ("member@SU-SYD-SOM",),
    "sekretariat.forum": ("secretariat@FORUM-DATA",),
    "observatoer.kkr": ("observer@KKR",),
    "kommune": (),  # a municipality's contact: a party, no membership
    "ingen": (),  # an account without any membership
}
EVERYONE = frozenset(ROLES)
MEMBERS = EVERYONE - {"kommune", "ingen"}
SU = frozenset({"formand.su", "sekretariat.su", "medlem.su", "observatoer.su"})
SU_WORKERS = SU - {"observatoer.su"}
SU_PLANNERS = frozenset({"formand.su", "sekretariat.su"})
TSS_PLANNERS = frozenset({"formand.tss", "sekretariat.tss"})


def allow(*roles: str | frozenset[str]) -> frozenset[str]:
    found: set[str] = set()
    for role in roles:
        found |= {role} if isinstance(role, str) else role
    assert found <= EVERYONE, found - EVERYONE
    return frozenset(found)


NOBODY = frozenset[str]()

# (action, subject) -> the roles allowed. Subjects: see the `subjects` fixture. The draft,
# the case before TSS, the case in consultation, the case in implementation and the closed case
# all come from SU Nord (somatik); FORUM-DATA's body and Gentofte municipality are consulted.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("administer", "site"): allow("admin"),
    ("create_case", "site"): allow("admin", MEMBERS - {"observatoer.su", "observatoer.kkr"}),
    ("act_in_bulk", "site"): allow(
        "admin", "formand.sku", "naestformand.sku", TSS_PLANNERS, SU_PLANNERS, "sekretariat.forum"
    ),
    ("keep_indicators", "site"): allow("admin", "sekretariat.tss"),
    ("edit_plan", "site"): allow(
        "admin", "formand.sku", "naestformand.sku", TSS_PLANNERS, "medlem.tss"
    ),
    ("read_informed", "site"): allow("admin", "formand.sku", "naestformand.sku", "observatoer.kkr"),
    ("keep_templates", "site"): allow("admin"),
    ("view_meetings", "site"): allow(MEMBERS),
    ("open_case", "body:su"): allow("admin", SU_WORKERS),
    ("close_follow_ups", "body:su"): allow("admin", "sekretariat.su"),
    ("plan_meetings", "body:su"): allow("admin", SU_PLANNERS),
    ("watch_material", "body:su"): allow(SU_WORKERS),
    ("keep_templates", "body:su"): allow("admin", "sekretariat.su"),
    ("see_failed_deliveries", "body:su"): allow("admin", "sekretariat.su"),
    # Only a forum's chairs (seed 000 l.68-69): not an SU's chair, not the forum's secretariat,
    # not an admin (tests/organisation/test_ad_hoc_groups.py shows the forum's chair allowed).
    ("set_up_ad_hoc_group", "body:su"): NOBODY,
    ("set_up_ad_hoc_group", "body:forum"): NOBODY,
    ("keep_webhooks", "body:su"): allow("admin", "sekretariat.su"),
    ("keep_webhooks", "site"): allow(
        "admin", "sekretariat.tss", "sekretariat.su", "sekretariat.forum"
    ),
    ("retry_delivery", "site"): allow("admin"),
    ("view_operations", "site"): allow("admin"),
    ("read_metrics", "site"): allow("admin"),
    ("replay_whatif", "site"): allow("admin"),
    ("design_processes", "site"): allow("admin"),
    # A draft is its own body's; past the draft a case is open to the whole organisation.
    ("view", "case:draft"): allow("admin", SU),
    # A draft once sent on stays shared when TSS returns it for revision.
    ("view", "case:returned"): allow(MEMBERS),
    ("view", "case:at_tss"): allow(MEMBERS),
    ("view", "case:hoering"): allow(MEMBERS, "kommune"),
    ("view", "case:closed"): allow(MEMBERS),
    # Transitions come from the process definitions: the SU submits its draft, TSS acts at TSS.
    ("act", "case:draft"): allow(SU_PLANNERS),
    ("act", "case:at_tss"): allow(TSS_PLANNERS),
    ("act", "case:closed"): NOBODY,
    ("edit", "case:draft"): allow("admin", SU_WORKERS),
    ("edit", "case:at_tss"): allow(
        "admin", SU_WORKERS, "formand.tss", "sekretariat.tss", "medlem.tss"
    ),
    ("edit", "case:closed"): NOBODY,
    ("attach", "case:at_tss"): allow(
        "admin", SU_WORKERS, "formand.tss", "sekretariat.tss", "medlem.tss"
    ),
    ("attach", "case:hoering"): allow("admin", SU_WORKERS, "sekretariat.forum", "kommune"),
    # Anyone working on a case may ask for its next step; the secretariats remind of material.
    ("ask_next_step", "case:draft"): allow(SU_WORKERS),
    ("ask_next_step", "case:at_tss"): allow(
        SU_WORKERS, "formand.tss", "sekretariat.tss", "medlem.tss"
    ),
    ("remind_material", "case:at_tss"): allow("admin", "sekretariat.su", "sekretariat.tss"),
    ("migrate_version", "case:at_tss"): allow("admin"),
    ("run_consultation", "case:hoering"): allow("admin", SU_PLANNERS),
    ("link_indicators", "case:at_tss"): allow(
        "admin", SU_WORKERS, "formand.tss", "sekretariat.tss", "medlem.tss"
    ),
    ("create_units", "case:impl"): allow("admin", SU_PLANNERS, TSS_PLANNERS),
    # The case record goes to whoever may see the case (closed items are filtered inside it).
    ("export_record", "case:draft"): allow("admin", SU),
    ("export_record", "case:hoering"): allow(MEMBERS, "kommune"),
    ("view", "attachment:draft"): allow("admin", SU),
    ("view", "attachment:at_tss"): allow(MEMBERS),
    ("answer", "response:kommune"): allow("kommune"),
    ("answer", "response:forum"): allow("sekretariat.forum"),
    # The unit is Gentofte's, reported by SU Midt's members.
    ("report", "unit"): allow("admin", SU_PLANNERS, TSS_PLANNERS),
    ("view", "meeting:su"): allow(MEMBERS),
    ("view_closed_items", "meeting:su"): allow("admin", SU),
    ("plan", "meeting:su"): allow("admin", SU_PLANNERS),
    ("edit_agenda", "meeting:su"): allow("admin", "sekretariat.su"),
    ("write_minutes", "meeting:su"): allow("admin", "sekretariat.su"),
    ("record_attendance", "meeting:su"): allow("admin", "sekretariat.su"),
    ("approve_minutes_as_participant", "meeting:su"): allow(SU_WORKERS),
    ("apply_decisions", "meeting:su"): allow("formand.su"),
    ("record_follow_up", "meeting:su"): allow("admin", "sekretariat.su"),
}


def _kind(subject: str) -> str:
    return subject.partition(":")[0]


def test_every_rule_has_written_expectations_and_every_expectation_a_rule() -> None:
    ruled = set(policy.RULES)
    expected = {(action, _kind(subject)) for action, subject in EXPECTED}
    assert ruled - expected == set(), "rules without expectations in EXPECTED"
    assert expected - ruled == set(), "expectations for rules that do not exist"


@pytest.fixture
def people(session: Session, make_user: Callable[..., User]) -> dict[str, User]:
    gentofte = session.scalar(select(Party).where(Party.name == "Gentofte Kommune"))
    assert gentofte is not None
    found = {role: make_user(*specs) for role, specs in ROLES.items()}
    found["admin"].is_admin = True
    found["kommune"].party_id = gentofte.id
    session.flush()
    return found


@pytest.fixture
def subjects(
    session: Session,
    make_case: Callable[..., Case],
    body: Callable[[str], Body],
    make_meeting: Callable[..., Meeting],
    make_user: Callable[..., User],
) -> dict[str, Any]:
    draft = make_case(title="Kladde")
    at_tss = make_case(state="at_tss", title="Hos TSS")
    hoering = make_case("joint_agreement", state="consultation", title="I høring")
    impl = make_case(state="implementation", title="Udbredes")
    closed = make_case(state="completed", title="Afsluttet")
    returned = make_case(title="Sendt tilbage")
    decide(returned, "submit", make_user("chair@SU-NORD-SOM"))
    decide(returned, "tss_return", make_user("chair@TSS"), comment="Uddyb økonomien.")
    assert returned.state == "draft"
    gentofte = session.scalar(select(Party).where(Party.name == "Gentofte Kommune"))
    assert gentofte is not None
    consultation = Consultation(
        case_id=hoering.id, title="Høring", deadline=date(2020, 9, 30), created_at=clock.now()
    )
    session.add(consultation)
    session.flush()
    to_kommune = ConsultationResponse(consultation_id=consultation.id, party_id=gentofte.id)
    to_forum = ConsultationResponse(consultation_id=consultation.id, body_id=body("FORUM-DATA").id)
    unit = ImplementationStatus(
        case_id=impl.id, party_id=gentofte.id, responsible_body_id=body("SU-MIDT-SOM").id
    )
    files = {
        name: Attachment(
            case_id=case.id,
            filename=f"{name}.pdf",
            content_type="application/pdf",
            size_bytes=1,
            sha256="0" * 64,
            storage_key=f"matrix-{name}",
            created_at=clock.now(),
        )
        for name, case in (("draft", draft), ("at_tss", at_tss))
    }
    session.add_all([to_kommune, to_forum, unit, *files.values()])
    session.flush()
    return {
        "site": None,
        "body:su": body("SU-NORD-SOM"),
        "body:forum": body("FORUM-DATA"),
        "case:draft": draft,
        "case:at_tss": at_tss,
        "case:hoering": hoering,
        "case:impl": impl,
        "case:closed": closed,
        "case:returned": returned,
        "attachment:draft": files["draft"],
        "attachment:at_tss": files["at_tss"],
        "response:kommune": to_kommune,
        "response:forum": to_forum,
        "unit": unit,
        "meeting:su": make_meeting("SU-NORD-SOM", status=MeetingStatus.PLANNED),
    }


@pytest.mark.parametrize(("action", "subject"), sorted(EXPECTED))
def test_the_matrix(
    session: Session,
    people: dict[str, User],
    subjects: dict[str, Any],
    action: str,
    subject: str,
) -> None:
    thing = subjects[subject]
    assert policy.kind_of(thing) == _kind(subject)
    answers = {role: policy.may(user, action, thing, session) for role, user in people.items()}
    allowed = {role for role, yes in answers.items() if yes}
    expected = EXPECTED[(action, subject)]
    assert allowed == expected, (
        f"{action} on {subject}: allowed but not expected {sorted(allowed - expected)}, "
        f"expected but refused {sorted(expected - allowed)}"
    )


def test_an_inactive_user_may_do_nothing(
    session: Session, people: dict[str, User], subjects: dict[str, Any]
) -> None:
    chair = people["formand.su"]
    chair.active = False
    for action, subject in EXPECTED:
        assert not policy.may(chair, action, subjects[subject], session), (action, subject)
    assert not policy.may(None, "view", subjects["case:at_tss"], session)


def test_a_refusal_says_why_and_names_the_body(
    session: Session, people: dict[str, User], subjects: dict[str, Any]
) -> None:
    with pytest.raises(NotAllowed) as refused:
        policy.require(people["medlem.su"], "edit_agenda", subjects["meeting:su"], session)
    assert refused.value.message == (
        "Du kan ikke ændre dagsordenen. Det kan kun sekretariatet for SU-NORD-SOM."
    )
    assert "SU-NORD-SOM" in refused.value.message_en


def test_the_list_filter_agrees_with_the_case_rule(
    session: Session, people: dict[str, User], subjects: dict[str, Any]
) -> None:
    """`visible_cases` (lists, exports, the API) lets through exactly the cases `may` does."""
    cases = [s for name, s in subjects.items() if name.startswith("case:")]
    ids = [c.id for c in cases]
    for role, user in people.items():
        listed = set(
            session.scalars(
                select(Case.id).where(Case.id.in_(ids), policy.visible_cases(session, user))
            )
        )
        seen = {c.id for c in cases if policy.may(user, "view", c, session)}
        assert listed == seen, role


@pytest.mark.parametrize(
    ("grants", "problem"),
    [
        (("boss@anywhere",), "ukendt rolle"),
        (("worker@somewhere",), "ukendt sted"),
        (("admin if tuesday",), "ukendt betingelse"),
        (("any",), "ukendt rolle"),
    ],
)
def test_the_rules_table_is_checked_at_load(grants: tuple[str, ...], problem: str) -> None:
    rules = {("look", "case"): policy.Rule(grants, "Nej.", "No.")}
    with pytest.raises(policy.PolicyError, match=problem):
        policy.check_rules(rules)
    with pytest.raises(policy.PolicyError, match="ukendt slags"):
        policy.check_rules({("look", "thing"): policy.Rule(("admin",), "Nej.", "No.")})


def test_standings_read_together_are_those_read_one_by_one(
    app: Any, session: Session, make_user: Callable[..., User]
) -> None:
    people = [
        make_user("chair@TSS", "secretariat@SKU"),
        make_user("member@SU-NORD-SOM"),
        make_user(),
    ]
    alone = {}
    with app.app_context():
        for person in people:
            alone[person.id] = policy.standing(session, person)
    with app.app_context():
        policy.read_standings(session, people)
        read = g.policy_standing
        assert {person.id: read[person.id] for person in people} == alone


@pytest.mark.parametrize("action", ["watch_material", "see_failed_deliveries", "plan_meetings"])
@pytest.mark.parametrize(
    "roles", [(), ("observer@KKR",), ("member@SU-NORD-SOM", "secretariat@TSS"), ("chair@SKU",)]
)
def test_bodies_where_agrees_with_may_for_each_body(
    session: Session, make_user: Callable[..., User], action: str, roles: tuple[str, ...]
) -> None:
    """`bodies_where` reads the bodies a role-on-body rule can grant from the standing alone:
    the same bodies as asking `may` of every active body."""
    user = make_user(*roles)
    every = session.scalars(select(Body).where(Body.active.is_(True)).order_by(Body.code))
    expected = [body for body in every if policy.may(user, action, body, session)]
    assert policy.bodies_where(session, user, action) == expected
    # Answered from the user's active bodies, read already (the front page's memberships).
    read = [m.body for m in case_queries.active_memberships(session, user)]
    assert policy.bodies_where(session, user, action, read) == expected
