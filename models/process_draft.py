"""Drafts of process definitions edited in the designer, and the versions it published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class ProcessDraft(Base):
    """The one draft of a process: TOML that validates, and the version it was started from.

    `revision` counts the saves; a save or publish naming an older revision is refused, so two
    admins editing the same draft never silently overwrite each other.
    """

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    # The published version the draft was started from (its diff and publish compare with it).
    base_version: Mapped[int]
    revision: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": revision}


class ProcessPublication(Base):
    """A version published in the designer (not synced from a file in states/): who, when.

    `processes sync` does not store a file again whose text an earlier version had once the
    designer has published a newer one, so a restart never undoes a published change.
    """

    __tablename__ = "process_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), unique=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    based_on: Mapped[int]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
