"""Signed checkpoints of every audit chain's head, kept in a file outside the database.

A keyed chain shows that no row was edited, but not that none was removed from the end: an
attacker can delete a case's last events (or all of them) and the shorter chain still holds.
A checkpoint records each chain's head (per case: last seq and hash; the admin chain's head;
counts) in an append-only JSON-lines file, so `audit verify` can tell that a head it once saw
is gone. Each line is signed with an HMAC under a key derived from the audit key and carries
the previous line's signature, so an edited, reordered or removed line (other than the very
last) is found too. Keep the folder on storage the database's users cannot write, e.g. an
append-only mount, and back it up with the key.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from models import AdminAuditEntry, CaseEvent
from workflow.engine import clock
from workflow.engine.audit_key import load_key

DIR_ENV = "AFTALEFLOW_AUDIT_CHECKPOINT_DIR"
DEFAULT_DIR = Path("var") / "audit-checkpoints"
FILE_NAME = "checkpoints.jsonl"
FORMAT = 1


def checkpoint_dir(directory: Path | str | None = None) -> Path:
    """The checkpoint folder: the argument, $AFTALEFLOW_AUDIT_CHECKPOINT_DIR or var/."""
    return Path(directory or os.environ.get(DIR_ENV) or DEFAULT_DIR)


def _signing_key() -> bytes:
    # A key of its own, derived from the audit key, so a checkpoint line can never be passed
    # off as a chain seal or the other way round.
    return hmac.new(load_key(), b"aftaleflow audit checkpoint", hashlib.sha256).digest()


def _signature(body: dict[str, Any]) -> str:
    message = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(_signing_key(), message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Head:
    """The last row of one chain."""

    seq: int
    hash: str


@dataclass
class Checkpoint:
    """The heads of every chain at one moment."""

    written_at: datetime
    cases: dict[int, Head]
    admin: Head | None
    events: int
    line: int = 0

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "written_at": self.written_at.isoformat(timespec="seconds"),
            "cases": {str(case): [h.seq, h.hash] for case, h in sorted(self.cases.items())},
            "admin": [self.admin.seq, self.admin.hash] if self.admin else None,
            "events": self.events,
            "admin_entries": self.admin.seq if self.admin else 0,
        }


@dataclass
class CheckpointFile:
    """What a checkpoint file holds: its newest trustworthy checkpoint and what is wrong."""

    path: Path
    latest: Checkpoint | None = None
    lines: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def heads(session: Session, now: datetime | None = None) -> Checkpoint:
    """Read the head of every chain, each in one statement."""
    last = (
        select(CaseEvent.case_id, func.max(CaseEvent.seq).label("seq"))
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash).join(
            last, and_(CaseEvent.case_id == last.c.case_id, CaseEvent.seq == last.c.seq)
        )
    )
    cases = {case_id: Head(seq, hash_) for case_id, seq, hash_ in rows}
    admin = session.execute(
        select(AdminAuditEntry.seq, AdminAuditEntry.hash)
        .order_by(AdminAuditEntry.seq.desc())
        .limit(1)
    ).first()
    return Checkpoint(
        written_at=now or clock.now(),
        cases=cases,
        admin=Head(admin.seq, admin.hash) if admin else None,
        events=sum(head.seq for head in cases.values()),
    )


def write(session: Session, directory: Path | str | None = None) -> tuple[Path, Checkpoint]:
    """Append a signed checkpoint of every chain's head to the checkpoint file."""
    checkpoint = heads(session)
    folder = checkpoint_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
    with os.fdopen(descriptor, "r+", encoding="utf-8") as handle:
        # Two writers (the scheduler and a manual run) must not both chain onto the same line.
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        previous = ""
        for number, text in enumerate(handle, start=1):
            try:
                previous = json.loads(text)["signature"]
            except (ValueError, KeyError, TypeError):
                previous = f"line {number} unreadable"
        body = {**checkpoint.body(), "previous": previous}
        line = json.dumps({**body, "signature": _signature(body)}, sort_keys=True)
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path, checkpoint


def _parse(data: dict[str, Any], number: int) -> Checkpoint:
    admin = data["admin"]
    return Checkpoint(
        written_at=datetime.fromisoformat(data["written_at"]),
        cases={int(case): Head(int(seq), str(h)) for case, (seq, h) in data["cases"].items()},
        admin=Head(int(admin[0]), str(admin[1])) if admin else None,
        events=int(data["events"]),
        line=number,
    )


def read(directory: Path | str | None = None) -> CheckpointFile:
    """Check every line's signature and link, and return the newest sound checkpoint."""
    path = checkpoint_dir(directory) / FILE_NAME
    found = CheckpointFile(path)
    if not path.exists():
        return found
    previous = ""
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            found.lines = number
            try:
                data = json.loads(text)
                signature = data.pop("signature")
                sound = isinstance(data, dict) and hmac.compare_digest(
                    str(signature), _signature(data)
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                found.problems.append((number, "linjen kan ikke læses"))
                previous = ""
                continue
            if not sound:
                found.problems.append(
                    (number, "signaturen passer ikke; linjen er ændret eller ikke skrevet med "
                     "revisionsnøglen")
                )  # fmt: skip
                previous = str(signature)
                continue
            if data.get("previous") != previous:
                found.problems.append(
                    (number, "linjen følger ikke efter den forrige; en linje er fjernet, "
                     "flyttet eller indsat")
                )  # fmt: skip
            previous = str(signature)
            try:
                found.latest = _parse(data, number)
            except (ValueError, KeyError, TypeError, IndexError):
                found.problems.append((number, "linjen har et ukendt indhold"))
    return found
