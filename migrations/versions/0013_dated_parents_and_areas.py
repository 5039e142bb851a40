"""The organisation's remaining relations dated: a body's former parents and a party's former
planning areas, so pages, reports and the implementation picture can show them as they were.

dated parents and planning areas

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:40:00.000000
"""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "body_parents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["body_id"], ["bodies.id"], name=op.f("fk_body_parents_body_id_bodies")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["bodies.id"], name=op.f("fk_body_parents_parent_id_bodies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_body_parents")),
    )  # fmt: skip
    op.create_index(op.f("ix_body_parents_body_id"), "body_parents", ["body_id"], unique=False)
    op.create_table(
        "party_planning_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("planning_area_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_party_planning_areas_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["planning_area_id"], ["planning_areas.id"],
            name=op.f("fk_party_planning_areas_planning_area_id_planning_areas"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_planning_areas")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_party_planning_areas_party_id"), "party_planning_areas", ["party_id"], unique=False
    )
    _backfill()


def _backfill() -> None:
    """Earlier parents and areas that the record knows: every administrator's change of a
    body's parent or a party's planning area (admin_audit keeps the values before and after,
    with the moment). A change recorded on day D ends the former value on D - 1. What no record
    holds (a data file corrected and seeded again) stays as it is now, for every day."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT object_type, object_id, data, created_at FROM admin_audit "
            "WHERE action IN ('body_updated', 'party_updated') ORDER BY seq"
        )
    ).all()
    spans: dict[tuple[str, int], date | None] = {}
    for object_type, object_id, data, created_at in rows:
        values: dict[str, Any] = json.loads(data) if isinstance(data, str) else data or {}
        before, after = values.get("before") or {}, values.get("after") or {}
        key = "parent_id" if object_type == "body" else "planning_area_id"
        if key not in before or before.get(key) == after.get(key):
            continue
        changed = _day(created_at)
        last_day = changed - timedelta(days=1)
        began = spans.get((object_type, int(object_id)))
        if began is not None and began > last_day:
            continue  # changed twice on one day: a correction
        if object_type == "body":
            table, owner = "body_parents", "body_id"
        else:
            table, owner = "party_planning_areas", "party_id"
        connection.execute(
            sa.text(
                f"INSERT INTO {table} ({owner}, {key}, valid_from, valid_to) "
                "VALUES (:owner, :value, :valid_from, :valid_to)"
            ),
            {"owner": int(object_id), "value": before.get(key), "valid_from": began,
             "valid_to": last_day},
        )  # fmt: skip
        spans[(object_type, int(object_id))] = changed


def _day(moment: datetime | str) -> date:
    """The Danish calendar day of a stored UTC moment (SQLite gives naive text, PostgreSQL an
    aware datetime)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace(" ", "T")[:19])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo("Europe/Copenhagen")).date()


def downgrade() -> None:
    op.drop_index(op.f("ix_party_planning_areas_party_id"), table_name="party_planning_areas")
    op.drop_table("party_planning_areas")
    op.drop_index(op.f("ix_body_parents_body_id"), table_name="body_parents")
    op.drop_table("body_parents")
