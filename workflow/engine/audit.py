"""Verify the audit trail: every case's chain, the admin chain, the cases' states and the
signed checkpoints. An edited row (even with the chain recomputed without the key), a removed
or reordered one, a chain cut short since a checkpoint, and a case whose state its events do
not explain are each reported in Danish."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import GENESIS_HASH, AdminAuditEntry, Case, CaseEvent
from workflow.engine import checkpoints
from workflow.engine.audit_key import load_key
from workflow.engine.chain import admin_entry_hash, case_event_hash, same
from workflow.engine.checkpoints import Checkpoint, Head
from workflow.engine.localtime import format_datetime

EDITED = "indholdet er ændret efter registrering (eller kæden er genberegnet uden revisionsnøglen)"
BROKEN = "kæden er brudt (forrige hash passer ikke)"


@dataclass(frozen=True)
class AuditProblem:
    """One thing wrong with the trail: where, and what, in Danish."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class AuditReport:
    """What `verify` checked and found."""

    events: int = 0
    cases: int = 0
    admin_entries: int = 0
    checkpoint: Checkpoint | None = None
    checkpoint_path: Path | None = None
    problems: list[AuditProblem] = field(default_factory=list)

    def summary(self) -> str:
        """Describe the result in one Danish line."""
        checked = (
            f"{self.events} hændelser i {self.cases} sager og {self.admin_entries} "
            "administrative poster"
        )
        if self.problems:
            return f"{len(self.problems)} problemer i {checked}."
        return f"Revisionssporet er intakt: {checked} kontrolleret."

    def checkpoint_line(self) -> str:
        """Say which checkpoint the chains were held against, or that there is none."""
        if self.checkpoint is None:
            return (
                f"Intet kontrolpunkt i {self.checkpoint_path}; kør 'aftaleflow audit checkpoint' "
                "(planlæggeren gør det dagligt), så også slettede hændelser kan opdages."
            )
        return (
            f"Holdt op mod kontrolpunktet fra {format_datetime(self.checkpoint.written_at)} "
            f"(linje {self.checkpoint.line} i {self.checkpoint_path})."
        )


def _case(case_id: int, seq: int | None = None) -> str:
    return f"Sag {case_id}" + (f", hændelse {seq}" if seq is not None else "")


def _admin(seq: int | None = None) -> str:
    return "Administrationsloggen" + (f", post {seq}" if seq is not None else "")


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


def _against_checkpoint(
    sealed: dict[int, str], last_seq: int, head: Head | None, taken: str, noun: str = "hændelse"
) -> list[str]:
    """Compare a chain with the head a checkpoint recorded for it."""
    if head is None:
        return []
    plural = "poster" if noun == "post" else f"{noun}r"
    if last_seq < head.seq:
        if last_seq == 0:
            return [f"alle {plural} er slettet (kontrolpunktet {taken} kendte {head.seq})"]
        return [
            f"de sidste {plural} er slettet: kæden ender ved nr. {last_seq}, men kontrolpunktet "
            f"{taken} kendte nr. {head.seq}"
        ]
    if not same(sealed.get(head.seq, ""), head.hash):
        return [f"{noun} nr. {head.seq} er ikke den, kontrolpunktet {taken} registrerede"]
    return []


def _verify_cases(session: Session, key: bytes, report: AuditReport) -> None:
    checkpoint = report.checkpoint
    taken = format_datetime(checkpoint.written_at) if checkpoint else ""
    states = {case_id: state for case_id, state in session.execute(select(Case.id, Case.state))}
    seen: set[int] = set()
    for events in _events_by_case(session):
        case_id = events[0].case_id
        seen.add(case_id)
        previous_hash = GENESIS_HASH
        wanted = checkpoint.cases.get(case_id) if checkpoint else None
        sealed_at: dict[int, str] = {}
        for expected_seq, event in enumerate(events, start=1):
            report.events += 1
            if event.seq != expected_seq:
                report.problems.append(
                    AuditProblem(_case(case_id, event.seq), f"hændelse nr. {expected_seq} mangler")
                )
            if event.prev_hash != previous_hash:
                report.problems.append(AuditProblem(_case(case_id, event.seq), BROKEN))
            if not same(case_event_hash(event, key), event.hash):
                report.problems.append(AuditProblem(_case(case_id, event.seq), EDITED))
            if wanted is not None and event.seq == wanted.seq:
                sealed_at[event.seq] = event.hash
            previous_hash = event.hash
        last = events[-1]
        for problem in _against_checkpoint(sealed_at, last.seq, wanted, taken):
            report.problems.append(AuditProblem(_case(case_id), problem))
        state = states.get(case_id)
        if state is not None and state != last.to_state:
            report.problems.append(
                AuditProblem(
                    _case(case_id),
                    f"sagens tilstand '{state}' passer ikke med den sidste hændelse "
                    f"(nr. {last.seq}), der førte den til '{last.to_state}'",
                )
            )
    report.cases = len(states)
    for case_id in sorted(set(states) - seen):
        report.problems.append(
            AuditProblem(_case(case_id), "sagen har ingen hændelser; dens revisionsspor er slettet")
        )
    if checkpoint is not None:
        for case_id in sorted(set(checkpoint.cases) - seen):
            if case_id not in states:
                head = checkpoint.cases[case_id]
                report.problems.append(
                    AuditProblem(
                        _case(case_id),
                        f"sagen og alle dens hændelser er slettet (kontrolpunktet {taken} "
                        f"kendte {head.seq})",
                    )
                )


def _verify_admin(session: Session, key: bytes, report: AuditReport) -> None:
    checkpoint = report.checkpoint
    wanted = checkpoint.admin if checkpoint else None
    previous_hash = GENESIS_HASH
    sealed_at: dict[int, str] = {}
    last_seq = 0
    query = select(AdminAuditEntry).order_by(AdminAuditEntry.seq)
    for expected_seq, entry in enumerate(
        session.scalars(query.execution_options(yield_per=1000)), start=1
    ):
        report.admin_entries += 1
        if entry.seq != expected_seq:
            report.problems.append(
                AuditProblem(_admin(entry.seq), f"post nr. {expected_seq} mangler")
            )
        if entry.prev_hash != previous_hash:
            report.problems.append(AuditProblem(_admin(entry.seq), BROKEN))
        if not same(admin_entry_hash(entry, key), entry.hash):
            report.problems.append(AuditProblem(_admin(entry.seq), EDITED))
        if wanted is not None and entry.seq == wanted.seq:
            sealed_at[entry.seq] = entry.hash
        previous_hash = entry.hash
        last_seq = entry.seq
    taken = format_datetime(checkpoint.written_at) if checkpoint else ""
    for problem in _against_checkpoint(sealed_at, last_seq, wanted, taken, noun="post"):
        report.problems.append(AuditProblem(_admin(), problem))


def verify(session: Session, checkpoint_dir: Path | str | None = None) -> AuditReport:
    """Check every chain, every case's state and the checkpoint file; report what is wrong."""
    key = load_key(create=False)
    stored = checkpoints.read(checkpoint_dir)
    report = AuditReport(checkpoint=stored.latest, checkpoint_path=stored.path)
    for line, problem in stored.problems:
        report.problems.append(
            AuditProblem(f"Kontrolpunktfilen {stored.path}, linje {line}", problem)
        )
    _verify_cases(session, key, report)
    _verify_admin(session, key, report)
    return report
