"""Parties to the health agreement and the hospital planning areas municipalities belong to."""

from __future__ import annotations

import enum
from datetime import date, timedelta

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
    # Earlier planning areas (a municipality moved to another area keeps its former one for
    # its days).
    former_planning_areas: Mapped[list[PartyPlanningArea]] = relationship(
        back_populates="party", order_by="PartyPlanningArea.valid_to"
    )

    def planning_area_on(self, day: date | None) -> PlanningArea | None:
        """The planning area the party belonged to on `day` (its area now when none given)."""
        if day is not None:
            for former in self.former_planning_areas:
                if (former.valid_from is None or former.valid_from <= day) and (
                    former.valid_to >= day
                ):
                    return former.planning_area
        return self.planning_area

    def move_to_area(self, area: PlanningArea | None, first_day: date) -> None:
        """Put the party in `area` from `first_day`, keeping the area it had until then as a
        former area (nothing is recorded when the area does not change or when the current
        one began on `first_day` or later: that is a correction)."""
        if (area.id if area is not None else None) == self.planning_area_id:
            return
        last_day = first_day - timedelta(days=1)
        began = max(
            (former.valid_to + timedelta(days=1) for former in self.former_planning_areas),
            default=self.valid_from,
        )
        if began is None or began <= last_day:
            self.former_planning_areas.append(
                PartyPlanningArea(
                    planning_area_id=self.planning_area_id, valid_from=began, valid_to=last_day
                )
            )
        self.planning_area_id = area.id if area is not None else None
        self.planning_area = area

    def __repr__(self) -> str:
        return f"<Party {self.code}>"


class PartyPlanningArea(Base):
    """A planning area a party belonged to for a span of days, before it moved to another
    (NULL area: it belonged to none, e.g. before it joined a region's planning)."""

    __tablename__ = "party_planning_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    planning_area_id: Mapped[int | None] = mapped_column(ForeignKey("planning_areas.id"))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date]

    party: Mapped[Party] = relationship(back_populates="former_planning_areas")
    planning_area: Mapped[PlanningArea | None] = relationship()
