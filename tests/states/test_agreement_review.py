"""SKU's yearly review of the agreement (seed 004 l.44-45, l.318-321): every transition, and the
case the scheduler's daily rhythms job opens once a year."""

from __future__ import annotations

from datetime import UTC, date, datetime

# The contract every process meets, parametrized over PROCESS by conftest.py.
from process_contract import (  # noqa: F401
    test_actor_without_the_role_is_refused_and_told_who_may,
    test_allowed_role_fires_the_transition,
    test_decision_is_taken_at_a_meeting_of_the_deciding_body,
    test_each_guard_of_the_transition_is_enforced,
    test_missing_required_field_is_named,
    test_transition_is_refused_outside_its_source_states,
)
from sqlalchemy import select
from support.formandskab import decide

from models import Case, Deadline, MeetingStatus
from workflow.cases import rhythms
from workflow.engine.definitions import parse_definition
from workflow.engine.processes import registry

PROCESS = "agreement_review"


def _open(session, day):
    """The reviews the sweep's rhythms open on `day` (the other rhythms' cases left out)."""
    return [c for c in rhythms.open_due_cases(session, day) if c.process == PROCESS]


def _reviews(session):
    return session.scalars(select(Case).where(Case.process == PROCESS).order_by(Case.id)).all()


def test_the_rhythm_opens_one_review_a_year_in_sku(session, body):
    rhythms.open_due_cases(session, date(2020, 9, 1))
    rhythms.open_due_cases(session, date(2020, 12, 1))  # the same year: nothing new
    [review] = _reviews(session)
    assert review.originating_body.code == "SKU" and review.state == "review"
    assert review.title == "Årlig gennemgang af sundhedsaftalen 2020"
    assert review.created_by_id is None  # opened by the engine, not a person

    rhythms.open_due_cases(session, date(2021, 1, 2))
    assert [c.title[-4:] for c in _reviews(session)] == ["2020", "2021"]


def test_the_review_is_due_at_skus_meeting_with_reminders(session, make_meeting):
    meeting = make_meeting(
        "SKU", datetime(2020, 10, 28, 15, tzinfo=UTC), status=MeetingStatus.PLANNED
    )
    [review] = _open(session, date(2020, 9, 1))
    deadline = session.scalar(select(Deadline).where(Deadline.case_id == review.id))
    assert deadline is not None and deadline.meeting_id == meeting.id
    assert deadline.reminder_days == [14, 3]


def test_sku_records_whether_the_agreement_needs_revising(session, make_user):
    [review] = _open(session, date(2020, 9, 1))
    decide(review, "revision_needed", make_user("chair@SKU"), "Afsnittet om genoptræning.")
    assert review.state == "revision_needed"
    [other] = _open(session, date(2021, 1, 4))
    decide(other, "no_revision_needed", make_user("chair@SKU"), "Aftalen dækker behovet.")
    assert other.state == "no_revision_needed"


def test_without_the_rhythm_in_the_definition_no_review_is_opened(session):
    definition = registry.latest(session, PROCESS)
    assert rhythms.open_due_cases(session, date(2020, 9, 1), [definition])
    without = "\n".join(
        line for line in definition.source.splitlines() if not line.startswith("opens")
    )
    loosened = parse_definition(without, "states/agreement_review.toml")
    assert rhythms.open_due_cases(session, date(2021, 9, 1), [loosened]) == []
