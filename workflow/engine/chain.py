"""The one place the audit chains are sealed: an HMAC-SHA256 over each row and its predecessor.

Case events form one chain per case, admin audit entries one chain of their own. Each row's
`hash` is the HMAC, under the audit key (workflow.engine.audit_key), of its canonical content
including `prev_hash`, the previous row's `hash`. Without the key an edited row cannot be
given a matching seal, so recomputing the chain after an edit is found by `audit verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from models import AdminAuditEntry, CaseEvent
from workflow.engine.audit_key import load_key

CASE_EVENT_FIELDS = (
    "case_id", "seq", "actor_id", "trigger", "from_state", "to_state", "comment", "data",
    "meeting_id", "created_at", "prev_hash",
)  # fmt: skip
ADMIN_ENTRY_FIELDS = (
    "seq", "actor_id", "action", "object_type", "object_id", "data", "created_at", "prev_hash",
)  # fmt: skip


def canonical_json(value: Any) -> str:
    """The one JSON spelling a seal covers: sorted keys, unescaped Danish letters."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _timestamp(moment: datetime) -> str:
    # Stored and read back as UTC on both databases, so seal the UTC spelling.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def sealed_payload(fields: tuple[str, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    """The columns a seal covers, as the seal spells them (`created_at` as UTC ISO 8601)."""
    payload = {name: values[name] for name in fields}
    if isinstance(payload["created_at"], datetime):
        payload["created_at"] = _timestamp(payload["created_at"])
    return payload


def sealed_message(chain: str, fields: tuple[str, ...], values: Mapping[str, Any]) -> bytes:
    """The bytes the HMAC is taken over: the chain's name, a line break, the canonical JSON."""
    # The chain's name is sealed too, so a row of one chain never passes for a row of another.
    return f"{chain}\n{canonical_json(sealed_payload(fields, values))}".encode()


def _seal(chain: str, fields: tuple[str, ...], values: Mapping[str, Any], key: bytes) -> str:
    return hmac.new(key, sealed_message(chain, fields, values), hashlib.sha256).hexdigest()


CASE_EVENT_CHAIN = "case_event"


def seal_case_event(values: Mapping[str, Any], key: bytes | None = None) -> str:
    """Seal a case event given as a mapping of its columns (an ORM row or a raw row)."""
    return _seal(CASE_EVENT_CHAIN, CASE_EVENT_FIELDS, values, key or load_key())


def seal_admin_entry(values: Mapping[str, Any], key: bytes | None = None) -> str:
    """Seal an admin audit entry given as a mapping of its columns."""
    return _seal("admin_audit", ADMIN_ENTRY_FIELDS, values, key or load_key())


def case_event_hash(event: CaseEvent, key: bytes | None = None) -> str:
    """The seal `event` should carry."""
    return seal_case_event({name: getattr(event, name) for name in CASE_EVENT_FIELDS}, key)


def admin_entry_hash(entry: AdminAuditEntry, key: bytes | None = None) -> str:
    """The seal `entry` should carry."""
    return seal_admin_entry({name: getattr(entry, name) for name in ADMIN_ENTRY_FIELDS}, key)


def same(a: str, b: str) -> bool:
    """Compare two seals in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())
