"""Keyed audit chains: admin_audit gets seq, prev_hash and hash, and every existing case event
and admin entry is re-sealed with the audit key (HMAC-SHA256 instead of plain SHA-256).

The re-sealing is recorded as an admin entry saying how many rows were re-sealed and how many
case events did not match their old SHA-256 chain beforehand (those are listed there, since
re-sealing makes them look intact from now on).

keyed audit chains

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 12:30:00.000000
"""

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

GENESIS_HASH = "0" * 64
MESSAGE = "Aftaleflow: records are never deleted and the audit trail is append-only"

case_events = sa.table(
    "case_events",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("actor_id", sa.Integer),
    sa.column("trigger", sa.String),
    sa.column("from_state", sa.String),
    sa.column("to_state", sa.String),
    sa.column("comment", sa.Text),
    sa.column("data", sa.JSON),
    sa.column("meeting_id", sa.Integer),
    sa.column("created_at", models.base.UTCDateTime(timezone=True)),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
admin_audit = sa.table(
    "admin_audit",
    sa.column("id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("actor_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.String),
    sa.column("data", sa.JSON),
    sa.column("created_at", models.base.UTCDateTime(timezone=True)),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _legacy_hash(row: dict[str, Any]) -> str:
    """The plain SHA-256 seal of 0001 (models.CaseEvent.compute_hash until this revision)."""
    payload = {
        name: row[name]
        for name in ("case_id", "seq", "actor_id", "trigger", "from_state", "to_state",
                     "comment", "data", "meeting_id", "prev_hash")
    }  # fmt: skip
    payload["created_at"] = row["created_at"].isoformat(timespec="microseconds")
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@contextmanager
def _without_trigger(name: str, table: str, operation: str) -> Iterator[None]:
    """Lift one append-only trigger for the re-sealing and put it back afterwards."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    yield
    _create_trigger(name, operation, table)


def _create_trigger(name: str, operation: str, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION aftaleflow_forbid()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def _protect_admin_audit() -> None:
    # A SQLite batch migration rebuilds the table and loses its triggers.
    if op.get_bind().dialect.name == "sqlite":
        _create_trigger("admin_audit_no_delete", "DELETE", "admin_audit")
        _create_trigger("admin_audit_no_update", "UPDATE", "admin_audit")


def _rechain(
    bind: sa.Connection,
    table: sa.TableClause,
    rows: list[dict[str, Any]],
    seal: Callable[[dict[str, Any]], str],
    *,
    chain: str | None = None,
    columns: tuple[str, ...] = ("prev_hash", "hash"),
) -> dict[Any, str]:
    """Chain `rows` (read whole, in chain order) anew and write their `columns` back.

    Each row's prev_hash becomes the hash of the row before it in its chain (the rows with the
    same value in the column `chain`; all rows when None), GENESIS_HASH for the first, and its
    hash `seal(row)`. Return the last hash of each chain.
    """
    heads: dict[Any, str] = {}
    for row in rows:
        link = row[chain] if chain else None
        row["prev_hash"] = heads.get(link, GENESIS_HASH)
        row["hash"] = heads[link] = seal(row)
        bind.execute(
            sa.update(table)
            .where(table.c.id == row["id"])
            .values({name: row[name] for name in columns})
        )
    return heads


def _case_event_rows(bind: sa.Connection) -> list[dict[str, Any]]:
    ordered = sa.select(case_events).order_by(case_events.c.case_id, case_events.c.seq)
    return [dict(row) for row in bind.execute(ordered).mappings()]


def _reseal_case_events(bind: sa.Connection, key: bytes) -> tuple[int, list[str]]:
    from workflow.engine.chain import seal_case_event

    rows = _case_event_rows(bind)
    broken = [
        f"sag {row['case_id']}, hændelse {row['seq']}"
        for row in rows
        if _legacy_hash(row) != row["hash"]
    ]
    _rechain(bind, case_events, rows, lambda row: seal_case_event(row, key), chain="case_id")
    return len(rows), broken


def _seal_admin_entries(bind: sa.Connection, key: bytes) -> tuple[int, str]:
    from workflow.engine.chain import seal_admin_entry

    ordered = bind.execute(sa.select(admin_audit).order_by(admin_audit.c.id)).mappings()
    rows = [{**dict(row), "seq": seq} for seq, row in enumerate(ordered, start=1)]
    heads = _rechain(
        bind, admin_audit, rows, lambda row: seal_admin_entry(row, key),
        columns=("seq", "prev_hash", "hash"),
    )  # fmt: skip
    return len(rows), heads.get(None, GENESIS_HASH)


def upgrade() -> None:
    with op.batch_alter_table("admin_audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    bind = op.get_bind()
    has_rows = any(
        bind.execute(sa.select(sa.func.count()).select_from(table)).scalar()
        for table in (case_events, admin_audit)
    )
    if has_rows:
        from workflow.engine.audit_key import describe, load_key
        from workflow.engine.chain import seal_admin_entry

        key = load_key()
        with (
            _without_trigger("case_events_no_update", "case_events", "UPDATE"),
            _without_trigger("admin_audit_no_update", "admin_audit", "UPDATE"),
        ):
            events, broken = _reseal_case_events(bind, key)
            entries, head = _seal_admin_entries(bind, key)
        if broken:
            log.warning(
                "%d case events did not match their SHA-256 chain before re-sealing: %s",
                len(broken), ", ".join(broken[:20]),
            )  # fmt: skip
        now = datetime.now(UTC)
        record = {
            "seq": entries + 1,
            "actor_id": None,
            "action": "reseal_audit",
            "object_type": "audit",
            "object_id": "0008",
            "data": {
                "case_events": events,
                "admin_entries": entries,
                "broken_before": broken,
                "key": describe(),
            },
            "created_at": now,
            "prev_hash": head,
        }
        bind.execute(
            sa.insert(admin_audit).values(**record, hash=seal_admin_entry(record, key))
        )

    with op.batch_alter_table("admin_audit", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_admin_audit_seq"), ["seq"])
    _protect_admin_audit()


def downgrade() -> None:
    bind = op.get_bind()
    rows = _case_event_rows(bind)
    with _without_trigger("case_events_no_update", "case_events", "UPDATE"):
        _rechain(bind, case_events, rows, _legacy_hash, chain="case_id")
    with op.batch_alter_table("admin_audit", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_admin_audit_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    _protect_admin_audit()
