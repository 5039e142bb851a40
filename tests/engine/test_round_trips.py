"""What a transition costs the database, counted in statements: a plain transition reads
the actor's memberships, the chain's head, who to tell and the routing rule's figures, and
writes the case, its event and its deadlines — nothing per row, no read transaction before
the write. A new look-up in perform() makes these counts grow and fails here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import CaseEvent, Deadline
from tests.support.formandskab import decide
from workflow.engine import core as engine


@contextmanager
def statements_on(session: Session) -> Iterator[list[str]]:
    """The SQL statements run on the session's connection meanwhile, savepoints (the test's
    own transaction) left out."""
    seen: list[str] = []
    connection = session.connection()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            seen.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _verbs(statements: list[str]) -> list[str]:
    return [" ".join(statement.split()[:3]) for statement in statements]


def test_a_plain_transition_takes_nine_statements_ten_on_postgresql(session, make_case, make_user):
    chair = make_user("chair@FORUM-DATA")
    earlier, case = (
        make_case("forum_matter", origin="FORUM-DATA"),
        make_case("forum_matter", origin="FORUM-DATA"),
    )
    # A request has read its definition and bodies once already.
    engine.perform(earlier, "raise", chair)

    with statements_on(session) as statements:
        engine.perform(case, "raise", chair)

    listed = "\n".join(statements)
    postgresql = session.get_bind().dialect.name == "postgresql"
    # Read: the actor's memberships, the chain's head (with whether any webhook subscription
    # is active: none is, so the outbox reads no subscriptions), who to tell and the routing
    # rule's expenses; written: the open deadlines closed (returning those left open), the
    # event, the case with its next_due_at, the new deadline, and the one notification to the
    # member who opened the case. PostgreSQL writes the case before the chain's head is read
    # (its row lock), so next_due_at is a second UPDATE there.
    assert len(statements) == (10 if postgresql else 9), listed
    assert not any("idempotency_key =" in s for s in statements), listed  # a new event's key
    assert not any("FROM webhook_subscriptions" in s and "EXISTS" not in s for s in statements)
    verbs = _verbs(statements)
    # Written: the case's state once, one event, one deadline, and next_due_at without a
    # read of the deadlines; the open deadlines closed by one UPDATE without reading them first.
    assert sum(v.startswith("UPDATE cases") for v in verbs) == (2 if postgresql else 1), listed
    assert sum(v.startswith("INSERT INTO case_events") for v in verbs) == 1, listed
    assert sum(v.startswith("UPDATE deadlines") for v in verbs) == 1, listed
    assert not any(v.startswith("SELECT deadlines") for v in verbs), listed
    assert not any("min(deadlines.due_at)" in s for s in statements), listed
    assert not any("FOR UPDATE" in s for s in statements), listed  # the UPDATE holds the row
    assert (
        case.next_due_at
        == session.scalars(select(Deadline.due_at).where(Deadline.case_id == case.id)).one()
    )


def test_the_transition_that_closes_a_deadline_closes_it_and_moves_next_due(
    session, make_case, make_user
):
    case = make_case("forum_matter", origin="FORUM-DATA")
    chair = make_user("chair@FORUM-DATA")
    engine.perform(case, "raise", chair)
    first = session.scalars(select(Deadline).where(Deadline.case_id == case.id)).one()
    assert case.next_due_at == first.due_at

    decide(case, "decide", chair, comment="Besluttet")  # with the other co-chair

    rows = session.scalars(
        select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id)
    ).all()
    assert [d.state for d in rows] == ["in_forum", "decided"]
    assert rows[0].met_at is not None and rows[1].met_at is None
    session.refresh(case)
    assert case.next_due_at == rows[1].due_at
    events = session.scalars(
        select(CaseEvent.trigger).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    assert events == ["create", "raise", "formandskab_proposed", "decide"]


def test_a_transition_to_a_state_without_a_deadline_clears_next_due(session, make_case, make_user):
    case = make_case("forum_matter", origin="FORUM-DATA")
    chair = make_user("chair@FORUM-DATA")
    engine.perform(case, "raise", chair)
    decide(case, "reject", chair, comment="Afvist")  # with the other co-chair

    open_rows = session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None)
        )
    ).all()
    assert open_rows == []
    session.refresh(case)
    assert case.next_due_at is None
