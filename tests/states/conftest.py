"""Drive any transition of any process from the loaded definitions.

Each tests/states/test_<process>.py sets PROCESS; `pytest_generate_tests` below parametrizes
its tests over that process's transitions, so a transition added to states/ is covered
without touching the tests. The `driver` fixture places a case in a state, makes the
transition's guards hold (or fail), fills its fields and finds actors who may (or may not)
fire it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Body,
    Case,
    CaseEvent,
    CaseExpense,
    ImplementationState,
    ImplementationStatus,
    Meeting,
    MeetingStatus,
    Party,
    PartyKind,
    PlanningArea,
    Role,
    User,
)
from workflow.engine import clock
from workflow.engine.definitions import (
    FieldSpec,
    ProcessDefinition,
    RoleRef,
    TransitionSpec,
    load_definitions,
)

DEFINITIONS = load_definitions()

# The body that raises each kind of case.
ORIGIN = {
    "signature_initiative": "SU-NORD-SOM",
    "forum_matter": "FORUM-DATA",
    "joint_agreement": "SU-MIDT-SOM",
    "development_task": "SU-SYD-SOM",
    "implementation_plan": "TSS",
    "agreement_review": "SKU",
    "electoral_period_report": "SU-NORD-SOM",
    "forum_work_plan": "FORUM-DATA",
}
PLAN_YEAR = 2021
# After the budgets for 2021 were adopted: SKU's meeting at the end of October 2020.
AFTER_BUDGETS = datetime(2020, 10, 27, 12, 0, tzinfo=UTC)
BUDGETS_ADOPTED = {
    "municipal_budgets_adopted_on": "2020-10-13",
    "regional_budget_adopted_on": "2020-10-06",
}

# How the engine's refusal names each role (Danish), independent of the engine's own table.
ROLE_WORDS_DA = {
    "chair": "formandskabet for {}",
    "vice_chair": "næstformanden for {}",
    "member": "medlemmer af {}",
    "secretariat": "sekretariatet for {}",
    "observer": "observatører i {}",
}
# Which held roles satisfy each role a definition asks for.
SATISFIED_BY = {
    "chair": {Role.CHAIR, Role.VICE_CHAIR},
    "vice_chair": {Role.VICE_CHAIR},
    "member": {Role.CHAIR, Role.VICE_CHAIR, Role.MEMBER, Role.SECRETARIAT},
    "secretariat": {Role.SECRETARIAT},
    "observer": {Role.OBSERVER},
}


def firing_id(trigger: str, source: str, role: RoleRef) -> str:
    return f"{trigger}-from-{source}-as-{role}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize over the transitions of the module's PROCESS."""
    process = getattr(metafunc.module, "PROCESS", None)
    if process is None:
        return
    definition = DEFINITIONS[process]
    manual = [t for t in definition.transitions if not t.automatic_only]
    names = metafunc.fixturenames
    if "firing" in names:
        firings = [
            (t.trigger, source, role) for t in manual for source in t.sources for role in t.allowed
        ]
        metafunc.parametrize("firing", firings, ids=[firing_id(*f) for f in firings])
    if "trigger" in names:
        metafunc.parametrize("trigger", [t.trigger for t in manual])
    if "required_field" in names:
        pairs = [(t.trigger, f.name) for t in manual for f in t.fields if f.required]
        metafunc.parametrize("required_field", pairs, ids=[f"{t}-{f}" for t, f in pairs])
    if "guarded" in names:
        pairs = [(t.trigger, g) for t in manual for g in t.guards]
        metafunc.parametrize("guarded", pairs, ids=[f"{t}-{g}" for t, g in pairs])
    if "decision_trigger" in names:
        metafunc.parametrize("decision_trigger", [t.trigger for t in manual if t.decision])


def _add_units(session: Session, case: Case, states: list[ImplementationState]) -> None:
    """Give the case's units these statuses in turn, creating municipal units if it has none."""
    units = session.scalars(
        select(ImplementationStatus)
        .where(ImplementationStatus.case_id == case.id)
        .order_by(ImplementationStatus.id)
    ).all()
    if not units:
        parties = session.scalars(
            select(Party).where(Party.kind == PartyKind.MUNICIPALITY).order_by(Party.id)
        ).all()
        units = [ImplementationStatus(case_id=case.id, party_id=p.id) for p in parties]
        units = units[: len(states)]
        session.add_all(units)
    for index, unit in enumerate(units):
        state = states[index % len(states)]
        unit.status = state
        unit.reason = (
            "Ingen borgere i målgruppen." if state == ImplementationState.NOT_RELEVANT else ""
        )


def _unit_not_done(session: Session, case: Case) -> None:
    unit = session.scalar(
        select(ImplementationStatus).where(ImplementationStatus.case_id == case.id).limit(1)
    )
    if unit is None:
        _add_units(session, case, [ImplementationState.IN_PROGRESS])
    else:
        unit.status, unit.reason = ImplementationState.IN_PROGRESS, ""


def _municipal_expense(session: Session, case: Case) -> None:
    party = session.scalar(select(Party).where(Party.kind == PartyKind.MUNICIPALITY).limit(1))
    assert party is not None
    session.add(CaseExpense(case_id=case.id, party_id=party.id, amount_dkk=Decimal("250000")))


def _framed_by_tss(session: Session, case: Case) -> None:
    from workflow.engine.core import append_event

    append_event(
        session, case, trigger="approve_frame", actor=None, from_state="assignment_frame",
        comment="", data={}, now=clock.now(),
    )  # fmt: skip


def _budgets_adopted(session: Session, case: Case) -> None:
    """The budgets for 2021 were adopted in October 2020; SKU meets at the end of the month."""
    clock.set_time(AFTER_BUDGETS)
    _set_extra(case, **BUDGETS_ADOPTED)


def _dialogue_recorded(session: Session, case: Case, *, then_returned: bool = False) -> None:
    from workflow.engine.core import append_event

    append_event(
        session, case, trigger="record_kkr_dialogue", actor=None, from_state=case.state,
        comment="", data={"dialogue_on": "2020-08-20"}, now=clock.now(),
    )  # fmt: skip
    if then_returned:
        # SKU sent the plan back for more dialogue after that: it has not been recorded since.
        append_event(
            session, case, trigger="return_to_dialogue", actor=None,
            from_state="awaiting_adoption", comment="", data={}, now=clock.now(),
        )  # fmt: skip


def _plan_indicators(session: Session, case: Case, *, valued: bool = True) -> None:
    """A line of the plan aims to move an indicator; the region's 2021 value is imported."""
    from models import Indicator, IndicatorDirection, IndicatorValue, PlanItem

    indicator = Indicator(
        code=f"IND-{case.id}", name="Genindlæggelser", direction=IndicatorDirection.DOWN, unit="%"
    )
    item = PlanItem(plan_case_id=case.id, title="Udbredelse af KOL-forløbet")
    item.indicators.append(indicator)
    session.add_all([indicator, item])
    session.flush()
    if valued:
        region = session.scalar(select(Party).where(Party.kind == PartyKind.REGION).limit(1))
        assert region is not None
        session.add(
            IndicatorValue(
                indicator_id=indicator.id, year=PLAN_YEAR, party_id=region.id, value=Decimal("8.4")
            )
        )


def _drop_indicator_values(session: Session, case: Case) -> None:
    from models import IndicatorValue

    for value in session.scalars(select(IndicatorValue)):
        session.delete(value)


def _originating(code: str) -> Mutator:
    def move(session: Session, case: Case) -> None:
        case.originating_body_id = session.scalar(select(Body.id).where(Body.code == code))

    return move


def _set_extra(case: Case, **values: Any) -> None:
    case.extra = {**case.extra, **values}


Mutator = Callable[[Session, Case], None]

# Make each guard hold for a case that is otherwise complete.
SATISFIERS: dict[str, Mutator] = {
    "within_mandate": lambda s, c: None,
    "large_task_raised_in_tss": lambda s, c: None,
    "financing_follows": lambda s, c: None,
    "business_case_stated": lambda s, c: None,
    "role_distribution_stated": lambda s, c: None,
    "triple_aim_described": lambda s, c: None,
    "focus_and_goals_stated": lambda s, c: None,
    "consultation_closed": lambda s, c: _set_extra(
        c, consultation_deadline=(clock.now().date() - timedelta(days=1)).isoformat()
    ),
    "implementation_complete": lambda s, c: _add_units(
        s, c, [ImplementationState.IMPLEMENTED, ImplementationState.NOT_RELEVANT]
    ),
    "after_budget_adoption": _budgets_adopted,
    "budget_dates_for_plan_year": lambda s, c: clock.set_time(AFTER_BUDGETS),
    "kkr_dialogue_date_valid": lambda s, c: None,
    "kkr_dialogue_recorded": _dialogue_recorded,
    "indicator_values_recorded": _plan_indicators,
    "implementation_scope_valid": lambda s, c: None,
    "practice_plan_matter": lambda s, c: _set_extra(c, practice_plan=True),
    "started_by_cluster": lambda s, c: None,
    "own_initiative": lambda s, c: None,
    "new_working_group_valid": lambda s, c: None,
}

# Make each guard fail, and only that guard, for a case that otherwise satisfies it.
VIOLATORS: dict[str, Mutator] = {
    "within_mandate": lambda s, c: setattr(c, "principled", True),
    "large_task_raised_in_tss": lambda s, c: setattr(c, "large_task", True),
    "financing_follows": _municipal_expense,
    "business_case_stated": lambda s, c: setattr(c, "business_case", ""),
    "role_distribution_stated": lambda s, c: setattr(c, "general_practice_role", ""),
    "triple_aim_described": lambda s, c: setattr(c, "triple_aim_economy", ""),
    "focus_and_goals_stated": lambda s, c: setattr(c, "national_goals", []),
    "consultation_closed": lambda s, c: _set_extra(
        c, consultation_deadline=(clock.now().date() + timedelta(days=14)).isoformat()
    ),
    "implementation_complete": _unit_not_done,
    "practice_plan_matter": lambda s, c: _set_extra(c, practice_plan=False),
    # The last budget adopted on the day of SKU's meeting: the meeting is not after it.
    "after_budget_adoption": lambda s, c: _set_extra(
        c, municipal_budgets_adopted_on=clock.now().date().isoformat()
    ),
    # The budgets recorded on 1 October 2020 have not been adopted yet.
    "budget_dates_for_plan_year": lambda s, c: clock.set_time(datetime(2020, 10, 1, 8, tzinfo=UTC)),
    # The dialogue recorded (FIELD_VALUES) on a day still to come.
    "kkr_dialogue_date_valid": lambda s, c: clock.set_time(datetime(2020, 8, 1, 8, tzinfo=UTC)),
    "kkr_dialogue_recorded": lambda s, c: _dialogue_recorded(s, c, then_returned=True),
    "indicator_values_recorded": _drop_indicator_values,
    # The filled-in scope names NORD (FIELD_VALUES): make that area unknown.
    "implementation_scope_valid": lambda s, c: setattr(
        s.scalar(select(PlanningArea).where(PlanningArea.code == "NORD")), "code", "NORD-OLD"
    ),
    # A task the steering group started: its own chairs act for the originating body.
    "started_by_cluster": _originating("TSS"),
    "own_initiative": _framed_by_tss,
    # The new working group's end date (FIELD_VALUES) has passed.
    "new_working_group_valid": lambda s, c: clock.set_time(datetime(2021, 1, 15, 9, tzinfo=UTC)),
}
# Fields whose generic value would not be valid.
FIELD_VALUES: dict[str, Any] = {
    "implementation_scope": "NORD",
    # Type A: the approver sets up a new temporary working group (an existing one, chosen by
    # drafting_body, is tested in test_joint_agreement.py); None leaves a field out.
    "drafting_body": None,
    "new_working_group": "Midlertidig arbejdsgruppe om respirationsaftalen",
    "new_working_group_until": "2020-12-31",
    # Days that have passed at AFTER_BUDGETS, in the year before PLAN_YEAR.
    "municipal_budgets_adopted_on": "2020-10-13",
    "regional_budget_adopted_on": "2020-10-06",
    "dialogue_on": "2020-08-20",
}


def field_value(spec: FieldSpec) -> Any:
    """Return a valid value for a declared field."""
    if spec.name in FIELD_VALUES:
        return FIELD_VALUES[spec.name]
    values: dict[str, Any] = {
        "text": f"{spec.label}: udfyldt i testen.",
        "date": (clock.now().date() + timedelta(days=21)).isoformat(),
        "bool": True,
        "int": 3,
        "choice": spec.choices[0] if spec.choices else "",
    }
    return values[spec.type]


@dataclass
class Driver:
    """Places cases and fires transitions the way a user of the named role would."""

    session: Session
    make_case: Callable[..., Case]
    make_user: Callable[..., User]
    body: Callable[[str], Body]
    process: str

    @property
    def definition(self) -> ProcessDefinition:
        return DEFINITIONS[self.process]

    def transition(self, trigger: str) -> TransitionSpec:
        found = self.definition.transition(trigger)
        assert found is not None, trigger
        return found

    def place(self, state: str, **fields: Any) -> Case:
        """Open a complete case of the process and put it in `state` (a test shortcut)."""
        if self.process == "implementation_plan":
            fields.setdefault("plan_year", PLAN_YEAR)
        return self.make_case(self.process, origin=ORIGIN[self.process], state=state, **fields)

    def move(self, case: Case, state: str) -> None:
        """Put an existing case in `state`, with that state's body (a test shortcut)."""
        case.state = state
        case.current_body_id = self.state_body_id(case, state)
        self.session.commit()

    def state_body_id(self, case: Case, state: str) -> int:
        spec = self.definition.states[state]
        chosen = case.extra.get(spec.body_field) if spec.body_field else None
        if chosen:
            return self.body(chosen).id  # the body a field chose (type A's drafting body)
        return case.originating_body_id if spec.body == "originating" else self.body(spec.body).id

    def body_code(self, case: Case, ref: str) -> str:
        """The code of the body a role reference names (admins act for the current body)."""
        if ref in ("current", ""):
            return self.session.get(Body, case.current_body_id).code
        if ref == "originating":
            return self.session.get(Body, case.originating_body_id).code
        return ref

    def actor(self, case: Case, role: RoleRef) -> User:
        """A user holding exactly `role` for this case."""
        if role.role == "admin":
            return self.make_user(is_admin=True)
        return self.make_user(f"{role.role}@{self.body_code(case, role.body)}")

    def near_miss(self, case: Case, transition: TransitionSpec) -> User:
        """A user holding every role in the named bodies except the ones that may act."""
        allowed: dict[str, set[Role]] = {}
        for ref in transition.allowed:
            if ref.role != "admin":
                code = self.body_code(case, ref.body)
                allowed.setdefault(code, set()).update(SATISFIED_BY[ref.role])
        roles = [
            f"{role.value}@{code}"
            for code, satisfied in allowed.items()
            for role in Role
            if role not in satisfied
        ]
        return self.make_user(*roles)

    def refusal_words(self, case: Case, transition: TransitionSpec) -> list[str]:
        """The Danish words that must name each role that may act."""
        words = []
        for ref in transition.allowed:
            if ref.role == "admin":
                words.append("administratorer")
            else:
                words.append(ROLE_WORDS_DA[ref.role].format(self.body_code(case, ref.body)))
        return words

    def satisfy(self, case: Case, transition: TransitionSpec) -> None:
        for name in transition.guards:
            SATISFIERS[name](self.session, case)
        self.session.commit()

    def violate(self, case: Case, guard: str) -> None:
        VIOLATORS[guard](self.session, case)
        self.session.commit()

    def fields(
        self, transition: TransitionSpec, omit: str | None = None
    ) -> tuple[str | None, dict[str, Any]]:
        """Return (comment, data) filling every declared field but `omit`."""
        comment: str | None = None
        data: dict[str, Any] = {}
        for spec in transition.fields:
            if spec.name == omit:
                continue
            value = field_value(spec)
            if value is None:
                continue
            if spec.name == "comment":
                comment = value
            else:
                data[spec.name] = value
        return comment, data

    def meeting(
        self, body_code: str, *, hours_ago: float = 2, status: MeetingStatus = MeetingStatus.HELD
    ) -> Meeting:
        """A meeting of the body that started `hours_ago` hours ago."""
        meeting = Meeting(
            body_id=self.body(body_code).id,
            title=f"Møde i {body_code}",
            starts_at=clock.now() - timedelta(hours=hours_ago),
            status=status,
        )
        self.session.add(meeting)
        self.session.commit()
        return meeting

    def decision_data(
        self, case: Case, transition: TransitionSpec, role: RoleRef
    ) -> dict[str, Any]:
        """The chairs decide on the body's behalf where its terms allow it (formandskab_decides);
        anyone else, and the chairs of a body whose terms do not, name a meeting of the body."""
        if not transition.decision:
            return {}
        code = (
            self.body_code(case, role.body)
            if role.role != "admin"
            else self.body_code(case, "current")
        )
        if role.role in ("chair", "vice_chair") and self.body(code).formandskab_decides:
            return {}
        return {"meeting_id": self.meeting(code).id}

    def recorder(self, transition: TransitionSpec) -> RoleRef:
        """The role that records a decision: one that is not a chair if the definition has it."""
        return next(
            (r for r in transition.allowed if r.role not in ("chair", "vice_chair")),
            transition.allowed[0],
        )

    def check_recorded(
        self, case: Case, event: CaseEvent, transition: TransitionSpec, data: dict[str, Any]
    ) -> None:
        """The event says how the decision was taken, and the case keeps the declared fields."""
        if transition.decision and "meeting_id" in data:
            assert event.meeting_id == data["meeting_id"]
            assert "on_behalf_of_body" not in event.data
        elif transition.decision:
            assert event.meeting_id is None
            assert event.data["on_behalf_of_body"] is True
        else:
            assert event.meeting_id is None
            assert "on_behalf_of_body" not in event.data
        for spec in transition.fields:
            if spec.name != "comment" and spec.name in data:
                assert case.extra[spec.name] == data[spec.name]
                assert event.data[spec.name] == data[spec.name]

    def chair_ref(self, transition: TransitionSpec) -> RoleRef:
        """The chairs' role on the transition (or its first role, for one that is no decision)."""
        ref = next((r for r in transition.allowed if r.role in ("chair", "vice_chair")), None)
        if ref is None:
            ref = transition.allowed[0]
            assert not transition.decision, f"{transition.trigger}: a decision without chairs"
        return ref

    def chair(self, case: Case, transition: TransitionSpec) -> User:
        """An actor who may fire `transition` as the chairs (see `chair_data`)."""
        return self.actor(case, self.chair_ref(transition))

    def chair_data(self, case: Case, transition: TransitionSpec) -> dict[str, Any]:
        """What the chairs add to decide: nothing where the body's terms let them decide on its
        behalf, else the meeting they decide at."""
        return self.decision_data(case, transition, self.chair_ref(transition))

    def add_units(self, case: Case, states: list[ImplementationState]) -> None:
        """Register municipalities implementing the case, one per given state."""
        _add_units(self.session, case, states)
        self.session.commit()

    def finish_units(self, case: Case) -> None:
        """Report every registered unit as implemented."""
        for unit in self.session.scalars(
            select(ImplementationStatus).where(ImplementationStatus.case_id == case.id)
        ):
            unit.status = ImplementationState.IMPLEMENTED
        self.session.commit()

    def events(self, case: Case) -> list[CaseEvent]:
        return list(
            self.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
            )
        )

    def event_count(self, case: Case) -> int:
        return self.session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)
        )


@pytest.fixture
def driver(
    request: pytest.FixtureRequest,
    session: Session,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    body: Callable[[str], Body],
) -> Driver:
    """A driver for the test module's PROCESS."""
    return Driver(session, make_case, make_user, body, request.module.PROCESS)
