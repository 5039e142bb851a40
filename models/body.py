"""Bodies of the agreement's organisation: SKU, TSS, samordningsudvalg, forums, groups."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type, utcnow
from models.party import PlanningArea


class BodyKind(enum.StrEnum):
    POLITICAL = "political"
    STEERING = "steering"
    COORDINATION_COMMITTEE = "coordination_committee"
    FORUM = "forum"
    THEME_GROUP = "theme_group"
    WORKING_GROUP = "working_group"
    OBSERVER = "observer"


class Body(Base):
    """A body that meets, decides, recommends or is informed."""

    __tablename__ = "bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[BodyKind] = mapped_column(enum_type(BodyKind), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id"))
    planning_area_id: Mapped[int | None] = mapped_column(ForeignKey("planning_areas.id"))
    # A theme group works on one focus area.
    focus_area_id: Mapped[int | None] = mapped_column(ForeignKey("focus_areas.id"))
    # Material deadline (materialefrist): meeting date minus this many days.
    material_deadline_days: Mapped[int] = mapped_column(default=7)
    material_deadline_working_days: Mapped[bool] = mapped_column(default=False)
    # The body's terms let its joint chairmanship (one municipal and one regional co-chair)
    # decide on its behalf between meetings (seed 000); SKU's terms do not.
    formandskab_decides: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # The days the body exists (both inclusive; NULL = open-ended). A closed body keeps its
    # row, cases and history; its successors are in body_successions.
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]

    parent: Mapped[Body | None] = relationship(remote_side=[id])
    planning_area: Mapped[PlanningArea | None] = relationship()
    # Earlier names (a rename keeps the old name for the days it was used).
    former_names: Mapped[list[BodyName]] = relationship(
        back_populates="body", order_by="BodyName.valid_from"
    )
    # Earlier parents (a body placed under another keeps its former parent for its days).
    former_parents: Mapped[list[BodyParent]] = relationship(
        back_populates="body",
        order_by="BodyParent.valid_to",
        foreign_keys="BodyParent.body_id",
    )

    def parent_on(self, day: date | None) -> Body | None:
        """The body this one was placed under on `day` (its parent now when none is given)."""
        if day is not None:
            for former in self.former_parents:
                if (former.valid_from is None or former.valid_from <= day) and (
                    former.valid_to >= day
                ):
                    return former.parent
        return self.parent

    def place_under(self, parent: Body | None, first_day: date) -> None:
        """Put the body under `parent` from `first_day`, keeping the parent it had until then
        as a former parent (nothing is recorded when the parent does not change or when the
        current placement began on `first_day` or later: that is a correction)."""
        if (parent.id if parent is not None else None) == self.parent_id:
            return
        last_day = first_day - timedelta(days=1)
        began = max(
            (former.valid_to + timedelta(days=1) for former in self.former_parents),
            default=self.valid_from,
        )
        if began is None or began <= last_day:
            self.former_parents.append(
                BodyParent(parent_id=self.parent_id, valid_from=began, valid_to=last_day)
            )
        self.parent_id = parent.id if parent is not None else None
        self.parent = parent

    def __repr__(self) -> str:
        return f"<Body {self.code}>"


class BodyName(Base):
    """A name a body had for a span of days, before it was renamed."""

    __tablename__ = "body_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date]

    body: Mapped[Body] = relationship(back_populates="former_names")


class BodyParent(Base):
    """A body a body was placed under for a span of days, before it was placed elsewhere
    (NULL parent: it stood alone then)."""

    __tablename__ = "body_parents"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id"))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date]

    body: Mapped[Body] = relationship(back_populates="former_parents", foreign_keys=[body_id])
    parent: Mapped[Body | None] = relationship(foreign_keys=[parent_id])


class SuccessionKind(enum.StrEnum):
    REPLACED = "replaced"  # one body takes over from one
    MERGED = "merged"  # several bodies become one
    SPLIT = "split"  # one body becomes several


class BodySuccession(Base):
    """A body that took over (part of) another's work from a date (merger, split, renaming)."""

    __tablename__ = "body_successions"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id", name="predecessor_successor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    kind: Mapped[SuccessionKind] = mapped_column(enum_type(SuccessionKind))
    effective_on: Mapped[date]
    reorganisation: Mapped[str] = mapped_column(String(64), default="")

    predecessor: Mapped[Body] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[Body] = relationship(foreign_keys=[successor_id])


class Reorganisation(Base):
    """A reorganisation plan (data/reorganisations/<name>.toml) applied to the organisation."""

    __tablename__ = "reorganisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    effective_on: Mapped[date]
    plan_digest: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
