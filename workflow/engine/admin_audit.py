"""Write admin audit entries: the one function that appends to the admin chain."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import GENESIS_HASH, AdminAuditEntry
from workflow.engine import clock, request_id
from workflow.engine.chain import admin_entry_hash

# PostgreSQL advisory lock serialising appends to the admin chain ("Aftl").
ADMIN_CHAIN_LOCK_KEY = 0x4166_746C


def record(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: str | int,
    data: dict[str, Any] | None = None,
    actor_id: int | None = None,
    created_at: datetime | None = None,
) -> AdminAuditEntry:
    """Append one sealed entry to the admin chain, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Two transactions must not both read the same head and fork the chain: the lock holds
        # until commit, and the statement after it sees the head the previous holder committed.
        # (On SQLite the unit of work holds the write lock from its start, which serialises them;
        # the unique seq is the last line of defence on both.)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMIN_CHAIN_LOCK_KEY})
    last = session.execute(
        select(AdminAuditEntry.seq, AdminAuditEntry.hash)
        .order_by(AdminAuditEntry.seq.desc())
        .limit(1)
    ).first()
    entry = AdminAuditEntry(
        seq=(last.seq + 1) if last else 1,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        # Sealed as stored: what comes back from the JSON column is what was hashed.
        data=json.loads(json.dumps(data or {}, default=str)),
        created_at=created_at or clock.now(),
        prev_hash=last.hash if last else GENESIS_HASH,
        request_id=request_id.current(),
    )
    entry.hash = admin_entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry
