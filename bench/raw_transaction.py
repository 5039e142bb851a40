"""The raw audited transaction perform() is measured against (issue 14's budget).

Read the case's chain head, UPDATE the case's state, INSERT the sealed audit event, commit:
what any audited state change must do at least, with nothing of the engine's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from models import GENESIS_HASH, CaseEvent
from workflow.engine.chain import seal_case_event
from workflow.engine.unit_of_work import unit_of_work


def raw_audited_transaction(engine: Engine, case_id: int, actor_id: int) -> None:
    """One state change of `case_id` with its sealed audit row, in one transaction."""
    with Session(engine) as session, unit_of_work(session):
        last = session.execute(
            select(CaseEvent.seq, CaseEvent.hash)
            .where(CaseEvent.case_id == case_id)
            .order_by(CaseEvent.seq.desc())
            .limit(1)
        ).first()
        now = datetime.now(UTC)
        # SQLite keeps naive UTC; PostgreSQL's timestamptz takes the aware value.
        stored_now = now.replace(tzinfo=None) if engine.dialect.name == "sqlite" else now
        session.execute(
            text("UPDATE cases SET state = 'decided', updated_at = :now WHERE id = :id"),
            {"now": stored_now, "id": case_id},
        )
        values = {
            "case_id": case_id, "seq": (last.seq + 1) if last else 1, "actor_id": actor_id,
            "trigger": "decide", "from_state": "in_forum", "to_state": "decided", "comment": "",
            "data": {"role": "chair"}, "meeting_id": None, "created_at": now,
            "prev_hash": last.hash if last else GENESIS_HASH,
        }  # fmt: skip
        session.add(CaseEvent(**values, hash=seal_case_event(values)))
