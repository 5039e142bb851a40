"""The case's events in the record (events.json) and their check without the database.

Each event carries the columns its seal covers (`chain.CASE_EVENT_FIELDS`, `created_at` as the
seal spells it), its `hash` and a `sha256` of the exact message the seal is taken over:

    message = "case_event" + "\\n" + canonical JSON of the sealed columns
              (keys sorted, UTF-8, no ASCII escaping, Python's json.dumps separators ", " ": ")
    hash    = HMAC-SHA256(audit key, message)       (hex; what the database holds)
    sha256  = SHA-256(message)                      (hex; checkable without the key)

The first event's `prev_hash` is 64 zeros and every later one's is the previous event's `hash`.
Without the audit key a reader checks the order, the links and each `sha256` against the
event's content; with the key (`--key-file`) also each `hash`, which no one without the key can
recompute after an edit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from models import GENESIS_HASH, CaseEvent
from workflow.engine import chain

ALGORITHM = {
    "chain": chain.CASE_EVENT_CHAIN,
    "message": (
        "chain + '\\n' + canonical JSON of the fields (sorted keys, UTF-8, not ASCII-escaped)"
    ),
    "hash": "HMAC-SHA256 over the message under the deployment's audit key (hex)",
    "sha256": "SHA-256 over the message (hex)",
    "genesis": GENESIS_HASH,
}


def export(case_id: int, events: Sequence[CaseEvent]) -> dict[str, Any]:
    """The events as events.json holds them."""
    rows = []
    for event in events:
        columns = {name: getattr(event, name) for name in chain.CASE_EVENT_FIELDS}
        message = chain.sealed_message(chain.CASE_EVENT_CHAIN, chain.CASE_EVENT_FIELDS, columns)
        # The JSON spelling the seal covered, so a reader recomputes the same message.
        payload = chain.sealed_payload(chain.CASE_EVENT_FIELDS, columns)
        sealed = json.loads(chain.canonical_json(payload))
        rows.append({**sealed, "hash": event.hash, "sha256": hashlib.sha256(message).hexdigest()})
    return {
        "case_id": case_id,
        "fields": list(chain.CASE_EVENT_FIELDS),
        "algorithm": ALGORITHM,
        "events": rows,
    }


@dataclass
class ChainReport:
    """What checking events.json found: the number of events and each problem, in Danish."""

    events: int = 0
    keyed: bool = False
    problems: list[str] = field(default_factory=list)


def verify(document: Any, key: bytes | None = None) -> ChainReport:
    """Check events.json's events: order, links, each message's SHA-256 and, given the audit
    key, each seal."""
    report = ChainReport(keyed=key is not None)
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list):
        report.problems.append("events.json har ingen liste af hændelser")
        return report
    fields = chain.CASE_EVENT_FIELDS
    previous = GENESIS_HASH
    for number, event in enumerate(events, start=1):
        report.events += 1
        where = f"Hændelse {number}"
        if not isinstance(event, dict) or any(name not in event for name in (*fields, "hash")):
            report.problems.append(f"{where}: felter mangler")
            continue
        if event["seq"] != number:
            report.problems.append(f"{where}: har nr. {event['seq']}; en hændelse mangler")
        if event["case_id"] != document.get("case_id"):
            report.problems.append(f"{where}: hører til en anden sag ({event['case_id']})")
        if event["prev_hash"] != previous:
            report.problems.append(f"{where}: kæden er brudt (forrige hash passer ikke)")
        message = chain.sealed_message(chain.CASE_EVENT_CHAIN, fields, event)
        if hashlib.sha256(message).hexdigest() != event.get("sha256"):
            report.problems.append(f"{where}: indholdet er ændret (SHA-256 passer ikke)")
        if key is not None:
            seal = hmac.new(key, message, hashlib.sha256).hexdigest()
            if not chain.same(seal, str(event["hash"])):
                report.problems.append(f"{where}: seglet passer ikke med revisionsnøglen")
        previous = str(event["hash"])
    return report
