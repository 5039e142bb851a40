"""Bodies of the agreement's organisation: SKU, TSS, samordningsudvalg, forums, groups."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type
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
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Body | None] = relationship(remote_side=[id])
    planning_area: Mapped[PlanningArea | None] = relationship()

    def __repr__(self) -> str:
        return f"<Body {self.code}>"
