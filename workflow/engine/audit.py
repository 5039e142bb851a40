"""Verify the hash-chained audit trail: any edited, removed or reordered event is found."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import GENESIS_HASH, CaseEvent


@dataclass(frozen=True)
class ChainProblem:
    """One break in a case's chain, described in Danish."""

    case_id: int
    seq: int
    problem: str


def _events_by_case(session: Session) -> Iterator[list[CaseEvent]]:
    current: list[CaseEvent] = []
    query = select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq)
    for event in session.scalars(query.execution_options(yield_per=1000)):
        if current and current[0].case_id != event.case_id:
            yield current
            current = []
        current.append(event)
    if current:
        yield current


def verify(session: Session) -> tuple[int, list[ChainProblem]]:
    """Check every case's chain; return the number of events checked and the problems found."""
    checked = 0
    problems: list[ChainProblem] = []
    for events in _events_by_case(session):
        previous_hash = GENESIS_HASH
        for expected_seq, event in enumerate(events, start=1):
            checked += 1
            if event.seq != expected_seq:
                problems.append(
                    ChainProblem(event.case_id, event.seq, f"hændelse nr. {expected_seq} mangler")
                )
            if event.prev_hash != previous_hash:
                problems.append(
                    ChainProblem(
                        event.case_id, event.seq, "kæden er brudt (forrige hash passer ikke)"
                    )
                )
            if event.compute_hash() != event.hash:
                problems.append(
                    ChainProblem(event.case_id, event.seq, "indholdet er ændret efter registrering")
                )
            previous_hash = event.hash
    return checked, problems
