"""A meeting's life is states/meeting.toml: validated at load against the meeting statuses and
run by one shared machine, with the meeting's history and commit path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import MeetingHistoryEntry, MeetingStatus
from workflow.engine import clock
from workflow.engine.definitions import DefinitionError
from workflow.engine.errors import GuardFailed, NotAllowed, WorkflowError
from workflow.engine.processes import registry
from workflow.meetings import lifecycle
from workflow.meetings import operations as meetings
from workflow.meetings import views as meeting_views

DEFINITION = lifecycle.definition()
# Every plain step from each of its sources (cancelling has its own operation).
STEPS = [
    (t.trigger, source)
    for t in DEFINITION.transitions
    if not t.own_operation
    for source in t.sources
]


def test_the_definition_has_exactly_the_meeting_statuses_and_labels_them():
    assert list(DEFINITION.states) == [s.value for s in MeetingStatus]
    assert lifecycle.initial_status() is MeetingStatus.PLANNED
    assert meetings.STATUS_LABELS[MeetingStatus.HELD] == "Mødet er afholdt"
    assert meetings.STATUS_LABELS["cancelled"] == "Aflyst"
    assert len(meetings.STATUS_LABELS) == len(MeetingStatus)
    assert list(meetings.TRANSITIONS) == [
        "send_for_review", "return_to_draft", "publish", "hold", "approve_minutes", "close",
        "reopen", "cancel",
    ]  # fmt: skip
    assert meetings.TRANSITIONS["reopen"].needs_comment
    assert meetings.TRANSITIONS["cancel"].own_operation
    assert meetings.TRANSITIONS["hold"].label_en == "Record the meeting as held"
    assert lifecycle.machine() is lifecycle.machine()  # one machine for every meeting


def test_the_meeting_definition_is_no_process_a_case_can_follow(session):
    assert "meeting" not in registry.names(session)


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('[states.cancelled]\nlabel = "Aflyst"\nlabel_en = "Cancelled"\nfinal = true\n', "",
         "states", "mangler tilstanden 'cancelled'"),
        ("[states.planned]", '[states.postponed]\nlabel = "Udsat"\nlabel_en = "Postponed"\n\n'
         "[states.planned]", "states.postponed", "ukendt tilstand; tilstandene er netop"),
        ('guards = ["meeting_started"]', 'guards = ["quorum"]', "transitions[3].guards",
         "ukendt regel 'quorum'"),
        ('allowed = ["chair@current"]', 'allowed = ["chair@SKU"]', "transitions[4].allowed",
         "brug chair@current"),
        ("\nneeds_comment = true\n", "\nneeds_reason = true\n", "transitions[6].needs_reason",
         "ukendt nøgle"),
    ],
)  # fmt: skip
def test_an_invalid_meeting_definition_names_the_file_and_the_key(
    tmp_path, states_dir, old, new, key, words
):
    text = (states_dir / "meeting.toml").read_text(encoding="utf-8")
    assert old in text, old
    (tmp_path / "meeting.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as raised:
        lifecycle.load(tmp_path)
    assert str(raised.value).startswith(f"states/meeting.toml: {key}: ")
    assert words in str(raised.value)


def test_the_app_does_not_start_with_an_invalid_meeting_definition(monkeypatch):
    def broken() -> None:
        raise DefinitionError("states/meeting.toml: states: mangler tilstanden 'held'")

    monkeypatch.setattr(lifecycle, "definition", broken)
    with pytest.raises(DefinitionError, match=r"meeting\.toml"):
        meeting_views.blueprints()


def _allowed_user(make_user, trigger: str, code: str):
    ref = DEFINITION.transition(trigger).allowed[0]
    return make_user(is_admin=True) if ref.role == "admin" else make_user(f"{ref.role}@{code}")


@pytest.mark.parametrize(("trigger", "source"), STEPS)
def test_every_step_is_taken_by_whom_the_definition_allows_and_audited(
    session, make_meeting, make_user, trigger, source
):
    meeting = make_meeting("TSS", status=MeetingStatus(source))
    outsider = make_user("member@TSS", "secretariat@SKU")
    with pytest.raises(NotAllowed) as refused:
        meetings.change_status(session, meeting, trigger, outsider, comment="Fordi.")
    assert "Det kan kun" in refused.value.message and "TSS" in refused.value.message
    actor = _allowed_user(make_user, trigger, "TSS")
    assert trigger in meetings.available_transitions(session, meeting, actor)
    entry = meetings.change_status(session, meeting, trigger, actor, comment="Fordi.")
    session.commit()
    assert meeting.status is MeetingStatus(DEFINITION.transition(trigger).dest)
    assert (entry.action, entry.from_status, entry.to_status) == (
        trigger, source, str(meeting.status)
    )  # fmt: skip


def test_who_may_take_a_step_comes_from_the_definition(session, make_meeting, make_user):
    meeting = make_meeting("TSS", status=MeetingStatus.PLANNED)
    secretary, chair = make_user("secretariat@TSS"), make_user("vice_chair@TSS")
    admin = make_user(is_admin=True)
    assert meetings.available_transitions(session, meeting, secretary) == ["send_for_review"]
    assert meetings.available_transitions(session, meeting, admin) == ["send_for_review"]
    assert meetings.available_transitions(session, meeting, chair) == []
    meeting.status = MeetingStatus.HELD
    session.commit()
    # Only the chairs approve the minutes, not the secretariat or an administrator.
    assert meetings.available_transitions(session, meeting, chair) == ["approve_minutes"]
    assert meetings.available_transitions(session, meeting, admin) == []
    with pytest.raises(NotAllowed) as refused:
        meetings.change_status(session, meeting, "approve_minutes", secretary)
    assert refused.value.message == (
        "Du kan ikke godkend referatet. Det kan kun formandskabet for TSS."
    )
    assert refused.value.allowed == ["chair@TSS"]


def test_a_guard_of_the_definition_holds_the_step_until_the_meeting_has_begun(
    session, make_meeting, make_user
):
    meeting = make_meeting(
        "TSS", starts_at=clock.now() + timedelta(hours=1), status=MeetingStatus.PUBLISHED
    )
    secretary = make_user("secretariat@TSS")
    with pytest.raises(GuardFailed, match="først registreres som afholdt"):
        meetings.change_status(session, meeting, "hold", secretary)
    assert meeting.status is MeetingStatus.PUBLISHED
    clock.advance(timedelta(hours=1))
    meetings.change_status(session, meeting, "hold", secretary)
    assert meeting.status is MeetingStatus.HELD


def test_cancelling_is_its_own_operation_checked_by_the_definition(
    session, make_meeting, make_user
):
    meeting = make_meeting(
        "TSS", starts_at=clock.now() + timedelta(days=7), status=MeetingStatus.PUBLISHED
    )
    secretary = make_user("secretariat@TSS")
    assert "cancel" not in meetings.available_transitions(session, meeting, secretary)
    with pytest.raises(WorkflowError, match="har sin egen formular"):
        meetings.change_status(session, meeting, "cancel", secretary, comment="Syg.")
    with pytest.raises(WorkflowError, match="begrundelse"):
        meetings.cancel_meeting(session, meeting, secretary)
    with pytest.raises(NotAllowed, match="Det kan kun formandskabet for TSS, sekretariatet"):
        meetings.cancel_meeting(session, meeting, make_user("member@TSS"), comment="Syg.")
    meetings.cancel_meeting(session, meeting, secretary, comment="Formanden er syg.")
    assert meeting.status is MeetingStatus.CANCELLED
    actions = session.scalars(
        select(MeetingHistoryEntry.action).where(MeetingHistoryEntry.meeting_id == meeting.id)
    ).all()
    assert actions[-1] == "cancelled"
    held = make_meeting("TSS", status=MeetingStatus.HELD)
    with pytest.raises(WorkflowError, match="ikke mulig, når mødet har status »Mødet er afholdt«"):
        meetings.cancel_meeting(session, held, secretary, comment="For sent.")


def test_a_planned_meeting_starts_in_the_definitions_initial_state(session, body, make_user):
    secretary = make_user("secretariat@TSS")
    meeting = meetings.plan_meeting(
        session, body("TSS"), clock.now() + timedelta(days=30), secretary
    )
    assert meeting.status is MeetingStatus(DEFINITION.initial)
