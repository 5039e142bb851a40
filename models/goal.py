"""Focus areas of the health agreement (with sub-goals) and the national quality goals."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base


class FocusArea(Base):
    """A focus area of a health agreement period, e.g. 2019-2023 (seed 001)."""

    __tablename__ = "focus_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(16))

    sub_goals: Mapped[list[FocusSubGoal]] = relationship(
        back_populates="focus_area", order_by="FocusSubGoal.position"
    )


class FocusSubGoal(Base):
    """A sub-goal (delmål) of a focus area."""

    __tablename__ = "focus_sub_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    focus_area_id: Mapped[int] = mapped_column(ForeignKey("focus_areas.id"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)

    focus_area: Mapped[FocusArea] = relationship(back_populates="sub_goals")


class NationalGoal(Base):
    """One of the eight national quality goals for the health service."""

    __tablename__ = "national_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
