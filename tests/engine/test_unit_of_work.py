"""The one commit point: units nest, the outermost commits once, any failure rolls back all of
it, and a concurrent change of a versioned row becomes a clear error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import AdminAuditEntry, Case
from workflow.engine import admin_audit
from workflow.engine.errors import Conflict, StaleChange, WorkflowError
from workflow.engine.unit_of_work import case_conflict, in_unit_of_work, unit_of_work


@dataclass
class Calls:
    commits: int = 0
    rollbacks: int = 0


@pytest.fixture
def calls(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Count the session's commits and rollbacks (they still happen)."""
    seen = Calls()
    commit, rollback = session.commit, session.rollback

    def counted_commit() -> None:
        seen.commits += 1
        commit()

    def counted_rollback() -> None:
        seen.rollbacks += 1
        rollback()

    monkeypatch.setattr(session, "commit", counted_commit)
    monkeypatch.setattr(session, "rollback", counted_rollback)
    yield seen


def _write(session: Session, marker: str) -> None:
    admin_audit.record(session, action="uow_test", object_type="test", object_id=marker)


def _stored(session: Session) -> list[str]:
    """The markers stored so far, read after throwing away whatever was not committed."""
    session.rollback()
    return sorted(
        session.scalars(
            select(AdminAuditEntry.object_id).where(AdminAuditEntry.action == "uow_test")
        )
    )


def _bump_version(session: Session, case: Case) -> None:
    """Someone else saves the case meanwhile: its stored version moves past ours."""
    session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(version=Case.version + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()  # their save is done; our copy still holds the old version


def test_only_the_outermost_unit_commits_and_only_once(session: Session, calls: Calls) -> None:
    with unit_of_work(session):
        _write(session, "outer")
        with unit_of_work(session):
            _write(session, "inner")
            with unit_of_work(session):
                _write(session, "innermost")
            assert calls.commits == 0
        assert calls.commits == 0
        assert in_unit_of_work(session)
    assert calls.commits == 1
    assert calls.rollbacks == 0
    assert not in_unit_of_work(session)
    assert _stored(session) == ["inner", "innermost", "outer"]


def test_the_unit_yields_its_session(session: Session) -> None:
    with unit_of_work(session) as joined:
        assert joined is session


def test_a_failure_in_an_inner_unit_rolls_back_everything_once(
    session: Session, calls: Calls
) -> None:
    with pytest.raises(ValueError, match="inner"), unit_of_work(session):
        _write(session, "outer")
        with unit_of_work(session):
            _write(session, "inner")
            raise ValueError("inner")
    assert calls.commits == 0
    assert calls.rollbacks == 1
    assert _stored(session) == []


def test_a_workflow_error_and_a_base_exception_roll_back_too(
    session: Session, calls: Calls
) -> None:
    with pytest.raises(WorkflowError), unit_of_work(session):
        _write(session, "refused")
        raise WorkflowError("Nej.", "No.")
    with pytest.raises(KeyboardInterrupt), unit_of_work(session):
        _write(session, "interrupted")
        raise KeyboardInterrupt
    assert calls.commits == 0
    assert calls.rollbacks == 2
    assert _stored(session) == []


def test_a_stale_row_becomes_a_stale_change(session: Session, calls: Calls) -> None:
    with pytest.raises(StaleChange) as caught, unit_of_work(session):
        raise StaleDataError("UPDATE statement on table 'cases' expected to update 1 row")
    assert type(caught.value) is StaleChange
    assert "ændret af en anden" in caught.value.message
    assert caught.value.__suppress_context__  # the SQLAlchemy error is not shown to users
    assert calls.rollbacks == 1


def test_a_real_concurrent_change_is_reported_when_the_unit_commits(
    session: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    _bump_version(session, case)
    with pytest.raises(StaleChange), unit_of_work(session):
        case.title = "Min ændring"  # flushed by the commit, which finds the row changed
    assert not in_unit_of_work(session)


def test_a_custom_on_stale_names_what_changed_after_the_rollback(
    session: Session, make_case: Callable[..., Case], calls: Calls
) -> None:
    case = make_case()
    version_read = case.version
    _bump_version(session, case)
    conflict = case_conflict(session, case.id, version_read)
    with pytest.raises(Conflict) as caught, unit_of_work(session, conflict):
        case.title = "Min ændring"
        session.flush()
    assert (caught.value.expected, caught.value.actual) == (version_read, version_read + 1)
    assert calls.rollbacks == 1


def test_a_stale_row_in_an_inner_unit_is_reported_by_the_outermost(
    session: Session, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    _bump_version(session, case)

    def meeting_words() -> WorkflowError:
        return StaleChange("Mødet er ændret.", "The meeting changed.")

    with pytest.raises(StaleChange, match="Mødet er ændret"), unit_of_work(session, meeting_words):
        _write(session, "outer")
        with unit_of_work(session):  # an inner unit's on_stale does not apply
            case.title = "Min ændring"
            session.flush()
    assert _stored(session) == []


def test_the_depth_is_restored_after_exceptions(session: Session, calls: Calls) -> None:
    with pytest.raises(RuntimeError), unit_of_work(session), unit_of_work(session):
        raise RuntimeError("boom")
    assert not in_unit_of_work(session)
    with unit_of_work(session):
        with pytest.raises(RuntimeError), unit_of_work(session):
            raise RuntimeError("caught by the outer unit's block")
        assert in_unit_of_work(session)  # still inside the outer unit
        _write(session, "after")
    assert not in_unit_of_work(session)
    # The next unit is outermost again: it commits on its own.
    with unit_of_work(session):
        _write(session, "next")
    assert calls.commits == 2
    assert _stored(session) == ["after", "next"]
