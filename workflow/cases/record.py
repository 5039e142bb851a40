"""The case record (sagsakt til journalisering, offentlighedslovens § 15): one ZIP an ESDH
(F2, WorkZone, SBSYS) imports, and an archivist can check without the application.

    case.pdf                      the case file as PDF/A-3b
    events.json                   the case's events with their hash chain (record_chain.py)
    attachments/NNNNNNNN-NAME     every attachment as stored (archived ones too), by id
    manifest.json                 case metadata and the SHA-256 and size of every file above

The entries are written in that order, each dated at the case's last event, so the same case
gives the same bytes; the ZIP is streamed (`chunks()`), an attachment at a time. The format is
described in docs/record.md; `aftaleflow record verify FILE.zip` checks one (record_verify.py).

Everything the record needs from the database is read in `build()`, inside the request: the
`Record` it returns holds bytes, checksums and the stored files' paths, never a session or a
model, so its stream reads only the attachments' files (checking each against its SHA-256) and
runs after the request's session is closed and its connection back in the pool — a slow
download holds no database connection and cannot read outside the request's unit of work.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Attachment, Case, CaseEvent, User
from workflow import policy
from workflow.cases import attachments as stored_files
from workflow.cases import record_chain, record_document
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.engine.errors import WorkflowError

FORMAT = "aftaleflow-case-record/1"
CASE_FILE = "case.pdf"
EVENTS_FILE = "events.json"
MANIFEST_FILE = "manifest.json"
CHUNK = 1024 * 1024


def _damaged(filename: str) -> WorkflowError:
    return WorkflowError(
        f"Bilaget »{filename}« mangler eller er beskadiget på disken, så sagsakten kan ikke "
        "dannes. Kontakt driften.",
        f"The attachment '{filename}' is missing or damaged in storage.",
        rule="file_intact",
    )


def _file_pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stored:
        while piece := stored.read(CHUNK):
            yield piece


def _stored_digest(path: Path) -> tuple[str, int] | None:
    """The SHA-256 and size of a stored file, read a piece at a time (None if it is gone)."""
    digest, size = hashlib.sha256(), 0
    try:
        for piece in _file_pieces(path):
            digest.update(piece)
            size += len(piece)
    except OSError:
        return None
    return digest.hexdigest(), size


@dataclass(frozen=True)
class Entry:
    """One file of the record: its name, checksum, size and type, and its bytes (built in the
    request) or, for an attachment, the stored file they are read from as the ZIP streams."""

    name: str
    sha256: str
    size: int
    content_type: str
    role: str
    data: bytes | None = None
    path: Path | None = None
    filename: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def pieces(self) -> Iterator[bytes]:
        """The entry's bytes, a piece at a time; a stored file changed since `build()` checked
        it is refused at its end (the stream stops short, so the ZIP is left incomplete)."""
        if self.data is not None:
            for start in range(0, len(self.data), CHUNK):
                yield self.data[start : start + CHUNK]
            return
        assert self.path is not None
        digest, size = hashlib.sha256(), 0
        try:
            for piece in _file_pieces(self.path):
                digest.update(piece)
                size += len(piece)
                yield piece
        except OSError:
            raise _damaged(self.filename) from None
        if size != self.size or digest.hexdigest() != self.sha256:
            raise _damaged(self.filename)


@dataclass(frozen=True)
class Record:
    """A case's record, ready to stream: its files in order and the moment it describes. It
    holds no session and no model: streaming it reads no database."""

    case_id: int
    filename: str
    as_of: datetime
    entries: list[Entry]
    events: int
    chain_head: str | None

    @property
    def manifest_sha256(self) -> str:
        """The SHA-256 of manifest.json, which names every other file's (the record's
        fingerprint: what an ESDH keeps in its journal entry and the access log names)."""
        return self.entries[-1].sha256

    def chunks(self) -> Iterator[bytes]:
        """The ZIP, a piece at a time (an attachment is read only when its turn comes)."""
        sink = _Sink()
        stamp = self.as_of.astimezone(clock.LOCAL_TZ)
        date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for entry in self.entries:
                info = zipfile.ZipInfo(entry.name, date_time=date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, whichever system wrote it
                info.external_attr = 0o100644 << 16
                info.file_size = entry.size
                with archive.open(info, "w") as target:
                    for piece in entry.pieces():
                        target.write(piece)
                        yield sink.take()
                yield sink.take()
        yield sink.take()


class _Sink(io.RawIOBase):
    """A write-only stream that hands on what ZipFile wrote (ZipFile streams to it without
    seeking, with a data descriptor after each file)."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pending.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._pending)
        self._pending.clear()
        return data


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _body(body: Any) -> dict[str, Any]:
    return {"code": body.code, "name": body.name}


def case_metadata(case: Case) -> dict[str, Any]:
    """What an ESDH journalises the record under (the manifest's `case`)."""
    definition = engine.definition_of(case)
    state = definition.states[case.state]
    return {
        "id": case.id,
        "title": case.title,
        "summary": case.summary,
        "process": case.process,
        "process_title": definition.title,
        "process_version": case.process_version,
        "state": case.state,
        "state_label": state.label,
        "closed": bool(state.final),
        "originating_body": _body(case.originating_body),
        "current_body": _body(case.current_body),
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "esdh_case_number": case.esdh_case_number,
        "received_on": case.received_on.isoformat() if case.received_on else None,
        "sent_on": case.sent_on.isoformat() if case.sent_on else None,
        "journal_description": case.journal_description,
        "focus_area": case.focus_area.name if case.focus_area else None,
        "plan_year": case.plan_year,
        "national_goals": sorted(g.number for g in case.national_goals),
    }


def _bytes_entry(name: str, data: bytes, content_type: str, role: str) -> Entry:
    return Entry(
        name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
        content_type=content_type, role=role, data=data,
    )  # fmt: skip


def _attachment_entry(
    attachment: Attachment, listed: record_document.ListedAttachment, root: Path
) -> Entry:
    # Plain values only: the entry outlives the request's session.
    return Entry(
        name=listed.name, sha256=attachment.sha256, size=attachment.size_bytes,
        content_type=attachment.content_type, role="attachment",
        path=root / attachment.storage_key, filename=attachment.filename,
        extra={"attachment_id": attachment.id, "original_filename": attachment.filename,
               "attached_at": _iso(attachment.created_at),
               "archived_at": _iso(attachment.archived_at)},
    )  # fmt: skip


def _file_row(entry: Entry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "sha256": entry.sha256,
        "size": entry.size,
        "content_type": entry.content_type,
        "role": entry.role,
        **entry.extra,
    }


def _manifest(case: Case, entries: list[Entry], chain: dict[str, Any], as_of: datetime) -> bytes:
    manifest = {
        "format": FORMAT,
        "as_of": _iso(as_of),
        "case": case_metadata(case),
        "chain": {
            "file": EVENTS_FILE,
            "events": len(chain["events"]),
            "head": chain["events"][-1]["hash"] if chain["events"] else None,
        },
        "files": [_file_row(e) for e in entries],
    }
    return json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def _check_stored(files: list[Attachment], root: Path) -> None:
    """Refuse before the first byte is sent, not halfway, when a stored file is gone, cut or
    changed: each is read once here (a piece at a time) and checked against its SHA-256."""
    for attachment in files:
        found = _stored_digest(root / attachment.storage_key)
        if found != (attachment.sha256, attachment.size_bytes):
            raise _damaged(attachment.filename)


def build(
    session: Session,
    case: Case,
    reader: User,
    *,
    folder: str | os.PathLike[str] | None = None,
) -> Record:
    """The record of `case` for `reader` (refused unless the policy lets them export it).

    Reads all it needs from `session` now; the returned record streams without it. Writes
    nothing: `workflow.cases.operations.export_record` builds it and logs the disclosure."""
    policy.require(reader, "export_record", case, session)
    events = list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .options(joinedload(CaseEvent.actor))
            .order_by(CaseEvent.seq)
        )
    )
    as_of = events[-1].created_at if events else case.created_at
    files = list(
        session.scalars(
            select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
        )
    )
    for attachment in files:
        policy.require(reader, "view", attachment, session)
    root = stored_files.storage_dir(folder)
    _check_stored(files, root)
    listed = record_document.attachment_rows(files)
    with force_locale("da"):
        case_pdf = record_document.to_pdf(
            session, case, reader, events=events, attachments=listed, as_of=as_of
        )
    chain = record_chain.export(case.id, events)
    chain_bytes = json.dumps(chain, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
    entries = [
        _bytes_entry(CASE_FILE, case_pdf, "application/pdf", "case_file"),
        _bytes_entry(EVENTS_FILE, chain_bytes, "application/json", "events"),
        *(
            _attachment_entry(attachment, row, root)
            for attachment, row in zip(files, listed, strict=True)
        ),
    ]
    manifest = _manifest(case, entries, chain, as_of)
    entries.append(_bytes_entry(MANIFEST_FILE, manifest, "application/json", "manifest"))
    return Record(
        case_id=case.id, filename=f"sag-{case.id}-sagsakt.zip", as_of=as_of, entries=entries,
        events=len(events), chain_head=events[-1].hash if events else None,
    )  # fmt: skip
