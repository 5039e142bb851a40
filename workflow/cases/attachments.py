"""Attachments: files on a case, stored outside the database, readable by those who see the case.

The bytes live under AFTALEFLOW_ATTACHMENTS_DIR (default var/attachments), named by a random
storage key; the database keeps the name, type, size and SHA-256. Files are archived, never
deleted.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path, PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Attachment,
    Case,
    User,
)
from workflow import policy
from workflow.engine import clock, values
from workflow.engine import core as engine
from workflow.engine.errors import WorkflowError
from workflow.engine.unit_of_work import unit_of_work
from workflow.search import extract

ENV_DIR = "AFTALEFLOW_ATTACHMENTS_DIR"
DEFAULT_DIR = Path("var/attachments")
MAX_BYTES = 25 * 1024 * 1024
# Extension -> (content type, magic prefix or None when any text is fine).
ALLOWED: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF"),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        b"PK\x03\x04",
    ),
    ".odt": ("application/vnd.oasis.opendocument.text", b"PK\x03\x04"),
    ".png": ("image/png", b"\x89PNG"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".txt": ("text/plain", None),
    ".csv": ("text/csv", None),
}


@dataclass(frozen=True)
class Upload:
    """A file as the user sent it, not yet checked or stored."""

    filename: str
    data: bytes


def storage_dir(configured: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder attachments are stored in (created on first use)."""
    folder = Path(configured or os.environ.get(ENV_DIR) or DEFAULT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check_file(filename: str, data: bytes) -> tuple[str, str]:
    """Return a safe file name and its content type, or explain what is wrong."""
    name = values.file_name(filename)
    suffix = PurePath(name).suffix.lower()
    if not name or suffix not in ALLOWED:
        kinds = ", ".join(sorted(ALLOWED))
        raise WorkflowError(
            f"Filtypen er ikke tilladt. Brug en af: {kinds}.",
            f"File type not allowed; use one of: {kinds}.",
            rule="allowed_file_type",
        )
    if not data:
        raise WorkflowError(
            "Filen er tom. Vælg filen igen.", "The file is empty.", rule="file_not_empty"
        )
    if len(data) > MAX_BYTES:
        raise WorkflowError(
            f"Filen er for stor ({len(data) // (1024 * 1024)} MB). Den må højst fylde "
            f"{MAX_BYTES // (1024 * 1024)} MB.",
            "The file is too large.",
            rule="file_size_limit",
        )
    content_type, magic = ALLOWED[suffix]
    if magic is not None and not data.startswith(magic):
        raise WorkflowError(
            f"Filens indhold passer ikke til endelsen {suffix}. Gem filen igen i det rigtige "
            "format.",
            "The file's content does not match its extension.",
            rule="content_matches_extension",
        )
    if magic is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise WorkflowError(
                "Tekstfilen skal være gemt som UTF-8.",
                "Text files must be UTF-8.",
                rule="text_is_utf8",
            ) from None
    return name[:255], content_type


def upload(
    session: Session,
    case: Case,
    actor: User,
    filename: str,
    data: bytes,
    *,
    folder: str | os.PathLike[str] | None = None,
) -> Attachment:
    """Store a file on the case (audited on its timeline), as a unit of work; an operation that
    attaches a file and does more opens its unit around both."""
    policy.require(actor, "attach", case, session)
    name, content_type = _check_file(filename, data)
    key = secrets.token_hex(16)
    path = storage_dir(folder) / key
    path.write_bytes(data)
    now = clock.now()
    attachment = Attachment(
        case_id=case.id, filename=name, content_type=content_type, size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(), storage_key=key, uploaded_by_id=actor.id,
        created_at=now, extracted_text=extract.text_of(name, data),
    )  # fmt: skip
    with unit_of_work(session):
        session.add(attachment)
        session.flush()
        engine.append_event(
            session, case, trigger="attachment_added", actor=actor, from_state=case.state,
            comment=f"Bilag vedhæftet: {name}", data={"attachment_id": attachment.id}, now=now,
        )  # fmt: skip
    return attachment


def read(
    session: Session,
    attachment: Attachment,
    user: User | None,
    *,
    folder: str | os.PathLike[str] | None = None,
) -> bytes:
    """Return the file's bytes for a user who may see its case, checking its hash."""
    case = session.get(Case, attachment.case_id)
    if case is None:
        raise LookupError(f"attachment {attachment.id} has no case")
    policy.require(user, "view", attachment, session)
    data = (storage_dir(folder) / attachment.storage_key).read_bytes()
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise WorkflowError(
            "Filen på disken er ændret eller beskadiget. Kontakt driften.",
            "The stored file does not match its checksum.",
            rule="file_intact",
        )
    return data


def listed(session: Session, case: Case) -> list[Attachment]:
    """Return the case's attachments that are not archived."""
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.case_id == case.id, Attachment.archived_at.is_(None))
            .order_by(Attachment.id)
        )
    )
