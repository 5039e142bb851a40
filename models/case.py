"""A case: one proposal, agreement or matter moving through its process."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.body import Body
from models.goal import FocusArea, NationalGoal
from models.party import Party
from models.user import User

case_national_goals = Table(
    "case_national_goals",
    Base.metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("national_goal_id", ForeignKey("national_goals.id"), primary_key=True),
)


class Case(Base):
    """A case. Its state changes only through workflow.engine.core.perform()."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_process_state", "process", "state"),
        Index("ix_cases_current_body_state", "current_body_id", "state"),
        Index("ix_cases_current_body_next_due", "current_body_id", "next_due_at"),
        Index("ix_cases_originating_body_next_due", "originating_body_id", "next_due_at"),
        # Overdue cases of a process (the case list's `overskredet=1&proces=`): the process and
        # the columns the access rule reads are read from the index, not from each overdue
        # case's row (0028; PostgreSQL keeps the id in it too). Not (process, next_due_at):
        # SQLite's planner read the front page's sections through that one (see 0026).
        Index(
            "ix_cases_next_due_visible",
            "next_due_at",
            "process",
            "process_version",
            "state",
            "originating_body_id",
            postgresql_include=["id"],
        ),
        # Migration 0027 adds, on PostgreSQL, statistics of the (process, process_version,
        # state) combinations (`st_cases_process_state`), by which it estimates the open states.
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process: Mapped[str] = mapped_column(String(64))
    process_version: Mapped[int]
    state: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")

    originating_body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    current_body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"))
    focus_area_id: Mapped[int | None] = mapped_column(ForeignKey("focus_areas.id"), index=True)
    plan_year: Mapped[int | None]

    # Escalation flags (seed 000): any of these sends a matter to TSS before a decision.
    principled: Mapped[bool] = mapped_column(default=False)
    political: Mapped[bool] = mapped_column(default=False)
    interface_change: Mapped[bool] = mapped_column(default=False)
    cost_driving: Mapped[bool] = mapped_column(default=False)
    large_task: Mapped[bool] = mapped_column(default=False)

    business_case: Mapped[str] = mapped_column(Text, default="")
    financing_proposal: Mapped[str] = mapped_column(Text, default="")
    role_distribution: Mapped[str] = mapped_column(Text, default="")
    general_practice_role: Mapped[str] = mapped_column(Text, default="")
    # Triple Aim (seed 002): the population's health, quality, cost and the citizen's experience.
    triple_aim_population: Mapped[str] = mapped_column(Text, default="")
    triple_aim_quality: Mapped[str] = mapped_column(Text, default="")
    triple_aim_economy: Mapped[str] = mapped_column(Text, default="")
    triple_aim_experience: Mapped[str] = mapped_column(Text, default="")

    # Records management (journalisering) in the party's own ESDH system.
    esdh_case_number: Mapped[str | None] = mapped_column(String(64))
    received_on: Mapped[date | None]
    sent_on: Mapped[date | None]
    journal_description: Mapped[str] = mapped_column(String(300), default="")

    # Values captured by transitions' declared fields (e.g. a consultation deadline).
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set when TSS has treated an escalated matter, which lifts the escalation guards.
    tss_cleared_at: Mapped[datetime | None]

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The earliest open deadline, kept in step by workflow.engine.deadlines on every flush
    # that writes a deadline (so lists sort and filter by it with an index).
    next_due_at: Mapped[datetime | None]
    state_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    originating_body: Mapped[Body] = relationship(foreign_keys=[originating_body_id])
    current_body: Mapped[Body] = relationship(foreign_keys=[current_body_id])
    focus_area: Mapped[FocusArea | None] = relationship()
    national_goals: Mapped[list[NationalGoal]] = relationship(
        secondary=case_national_goals, order_by="NationalGoal.number"
    )
    expenses: Mapped[list[CaseExpense]] = relationship(
        back_populates="case", order_by="CaseExpense.id"
    )
    created_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def escalation_reasons(self) -> list[str]:
        """Name the flags that require TSS to treat the matter."""
        flags = ("principled", "political", "interface_change", "cost_driving")
        return [flag for flag in flags if getattr(self, flag)]

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.process}:{self.state}>"


class CaseExpense(Base):
    """Expected extra expense (merudgift) for one party, per year, in DKK."""

    __tablename__ = "case_expenses"
    __table_args__ = (
        UniqueConstraint("case_id", "party_id", name="case_party"),
        CheckConstraint("amount_dkk >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    amount_dkk: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="expenses")
    party: Mapped[Party] = relationship()
