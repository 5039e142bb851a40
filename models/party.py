"""Parties to the health agreement and the hospital planning areas municipalities belong to."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type


class PartyKind(enum.StrEnum):
    REGION = "region"
    MUNICIPALITY = "municipality"
    GENERAL_PRACTICE = "general_practice"
    USER_ORGANISATION = "user_organisation"
    HOSPITAL = "hospital"


class PlanningArea(Base):
    """A hospital planning area (planområde): Nord, Midt, Syd, Byen, Bornholm."""

    __tablename__ = "planning_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The days the area exists (inclusive; NULL = open-ended).
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]

    parties: Mapped[list[Party]] = relationship(back_populates="planning_area")


class Party(Base):
    """A party to the agreement: the region, a municipality, general practice or a user body."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PartyKind] = mapped_column(enum_type(PartyKind), index=True)
    planning_area_id: Mapped[int | None] = mapped_column(ForeignKey("planning_areas.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # The days the party is part of the agreement (inclusive; NULL = open-ended): a
    # municipality of a merged region joins on the merger's date.
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]

    planning_area: Mapped[PlanningArea | None] = relationship(back_populates="parties")

    def __repr__(self) -> str:
        return f"<Party {self.code}>"
