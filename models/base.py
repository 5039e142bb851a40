"""Declarative base, naming convention and the UTC timestamp type shared by every model."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

# Constraint names must be stable so Alembic can drop and recreate them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _real_time() -> datetime:
    return datetime.now(UTC)


# The application's clock (workflow.engine.clock registers itself), so column defaults follow a
# frozen test clock or the demo's running date like every other timestamp.
_clock: Callable[[], datetime] = _real_time


def use_clock(source: Callable[[], datetime]) -> None:
    """Take column-default timestamps from `source` instead of the real time."""
    global _clock
    _clock = source


def utcnow() -> datetime:
    """Return the current aware UTC time from the application's clock."""
    return _clock()


class UTCDateTime(TypeDecorator[datetime]):
    """Store datetimes as UTC; always hand back aware UTC values, also from SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime in UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of every Aftaleflow model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


def enum_type(enum_cls: type[enum.StrEnum]) -> Enum:
    """Store a StrEnum by its value as a plain string with a CHECK constraint on both databases."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        name=enum_cls.__name__.lower(),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
