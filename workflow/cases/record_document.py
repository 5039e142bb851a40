"""The case file of the case record as PDF/A: the facts, fields, timeline with its decisions,
the meetings, consultations, expenses, implementation and the attachments listed.

Printed in Danish whatever the reader's language (it is the body's record), from
templates/documents/case_record.html; what it prints is read here, once, in `context()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import (
    AgendaItem,
    Attachment,
    Body,
    Case,
    CaseEvent,
    Consultation,
    ConsultationResponse,
    ImplementationStatus,
    Meeting,
    Party,
    User,
)
from workflow import policy
from workflow.cases.queries import FIELD_WORDS, SPECIAL_TRIGGERS, case_expenses, recorded_values
from workflow.documents import pdf
from workflow.engine import core as engine
from workflow.engine.formats import format_date, format_datetime
from workflow.meetings.outcomes import OUTCOME_LABELS, Outcome

TEXT_FIELDS = (
    "summary", "business_case", "financing_proposal", "role_distribution",
    "general_practice_role", "triple_aim_population", "triple_aim_quality", "triple_aim_economy",
    "triple_aim_experience",
)  # fmt: skip
FLAGS = ("principled", "political", "interface_change", "cost_driving", "large_task")
RESPONSE_WORDS = {"pending": "Afventer", "answered": "Svaret", "no_answer": "Har ikke svaret"}
UNIT_WORDS = {
    "not_started": "Ikke startet",
    "in_progress": "I gang",
    "implemented": "Implementeret",
    "not_relevant": "Ikke relevant",
}
CLOSED_FOR_OTHERS = (
    "Lukket punkt: beslutningen står i referatets fulde udgave, som kun organets medlemmer kan se."
)


@dataclass(frozen=True)
class ListedAttachment:
    """An attachment as the record lists it and names it in the ZIP."""

    name: str
    filename: str
    created_at: datetime
    size: int
    sha256: str
    archived: bool


def _word(name: str) -> str:
    return str(FIELD_WORDS.get(name, name)).capitalize()


def _facts(case: Case) -> list[tuple[str, str]]:
    definition = engine.definition_of(case)
    state = definition.states[case.state]
    goals = ", ".join(f"{g.number}. {g.name}" for g in case.national_goals)
    return [
        ("Sagsnummer", str(case.id)),
        ("Proces", f"{definition.title} (version {case.process_version})"),
        ("Tilstand", state.label + (" (afsluttet)" if state.final else "")),
        ("Rejst af", f"{case.originating_body.name} ({case.originating_body.code})"),
        ("Behandles i", f"{case.current_body.name} ({case.current_body.code})"),
        ("Oprettet", format_datetime(case.created_at)),
        ("Senest ændret", format_datetime(case.updated_at)),
        ("ESDH-sagsnummer", case.esdh_case_number or ""),
        ("Modtaget", format_date(case.received_on) if case.received_on else ""),
        ("Afsendt", format_date(case.sent_on) if case.sent_on else ""),
        ("Journalbeskrivelse", case.journal_description),
        ("Fokusområde", case.focus_area.name if case.focus_area else ""),
        ("Planår", str(case.plan_year or "")),
        ("Nationale mål", goals),
    ]


def _fields(case: Case) -> list[tuple[str, str]]:
    flags = [(_word(name), "Ja" if getattr(case, name) else "Nej") for name in FLAGS]
    texts = [(_word(name), getattr(case, name) or "") for name in TEXT_FIELDS]
    return flags + texts


def _timeline(session: Session, case: Case, events: Sequence[CaseEvent]) -> list[dict[str, Any]]:
    definition = engine.definition_of(case)
    rows = []
    for event in events:
        transition = definition.transition(event.trigger)
        special = SPECIAL_TRIGGERS.get(event.trigger)
        what = str(special) if special else (transition.label if transition else event.trigger)
        from_state = definition.states.get(event.from_state or "")
        to_state = definition.states.get(event.to_state)
        states = (from_state.label if from_state else event.from_state or "") + " → "
        states += to_state.label if to_state else event.to_state
        who = event.actor.name if event.actor is not None else "Systemet"
        rows.append(
            {
                "seq": event.seq,
                "at": event.created_at,
                "what": what,
                "who": who,
                "states": states,
                "comment": event.comment or "",
                # Rendered in Danish (record.py forces the locale), like the rest of the file.
                "recorded": recorded_values(event, transition),
                "decision": bool(transition is not None and transition.decision),
            }
        )
    return rows


def _meeting_name(meeting: Meeting) -> str:
    return f"{meeting.body.name}, {format_date(meeting.starts_at)}"


def _agenda(session: Session, case: Case, reader: User) -> list[dict[str, Any]]:
    items = session.scalars(
        select(AgendaItem)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.case_id == case.id, AgendaItem.removed_at.is_(None))
        .options(joinedload(AgendaItem.meeting).joinedload(Meeting.body))
        .order_by(Meeting.starts_at, AgendaItem.id)
    )
    rows = []
    for item in items:
        outcome = OUTCOME_LABELS.get(Outcome(item.outcome), item.outcome) if item.outcome else ""
        decision = item.decision_text
        if item.closed and not policy.may(reader, "view_closed_items", item.meeting, session):
            # As the meeting page's public edition: the title and what may be said in public.
            outcome, decision = "", item.public_summary or CLOSED_FOR_OTHERS
        rows.append(
            {
                "meeting": _meeting_name(item.meeting),
                "title": item.title,
                "closed": item.closed,
                "outcome": outcome,
                "decision": decision,
            }
        )
    return rows


def _who(response: ConsultationResponse, parties: dict[int, str], bodies: dict[int, str]) -> str:
    if response.party_id is not None:
        return parties.get(response.party_id, "")
    return bodies.get(response.body_id or 0, "")


def _consultations(session: Session, case: Case) -> list[dict[str, Any]]:
    parties = dict(session.execute(select(Party.id, Party.name)).tuples().all())
    bodies = dict(session.execute(select(Body.id, Body.name)).tuples().all())
    rounds = session.scalars(
        select(Consultation).where(Consultation.case_id == case.id).order_by(Consultation.id)
    )
    return [
        {
            "title": consultation.title,
            "deadline": consultation.deadline,
            "responses": [
                {
                    "who": _who(response, parties, bodies),
                    "status": RESPONSE_WORDS.get(str(response.status), str(response.status)),
                    "answered_at": (
                        format_datetime(response.answered_at) if response.answered_at else ""
                    ),
                    "text": response.text,
                }
                for response in sorted(consultation.responses, key=lambda r: r.id)
            ],
        }
        for consultation in rounds
    ]


def _implementation(session: Session, case: Case) -> list[dict[str, Any]]:
    units = session.scalars(
        select(ImplementationStatus)
        .where(ImplementationStatus.case_id == case.id)
        .options(joinedload(ImplementationStatus.party))
        .order_by(ImplementationStatus.id)
    )
    return [
        {
            "party": unit.party.name,
            "status": UNIT_WORDS.get(str(unit.status), str(unit.status)),
            "started_on": unit.started_on,
            "implemented_on": unit.implemented_on,
            "reason": unit.reason,
        }
        for unit in units
    ]


def _expenses(session: Session, case: Case) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for expense in case_expenses(session, case):
        amount: Decimal = expense.amount_dkk
        rows.append({"party": expense.party.name, "amount": amount, "note": expense.note})
    return rows


def to_pdf(
    session: Session,
    case: Case,
    reader: User,
    *,
    events: Sequence[CaseEvent],
    attachments: Sequence[ListedAttachment],
    as_of: datetime,
) -> bytes:
    """The case file as an archival PDF (PDF/A), the same bytes for the same case and reader."""
    return pdf.render_pdf(
        "documents/case_record.html",
        variant=pdf.ARCHIVE_VARIANT,
        created=as_of,
        title=case.title,
        author="Aftaleflow",
        running_header=f"Sagsakt · sag nr. {case.id} · {case.title}",
        case=case,
        as_of=as_of,
        facts=_facts(case),
        fields=_fields(case),
        timeline=_timeline(session, case, events),
        agenda=_agenda(session, case, reader),
        consultations=_consultations(session, case),
        expenses=_expenses(session, case),
        implementation=_implementation(session, case),
        attachments=attachments,
    )


def attachment_rows(attachments: Sequence[Attachment]) -> list[ListedAttachment]:
    """Name each attachment in the ZIP by its id and its stored name (unique, sorted by id)."""
    return [
        ListedAttachment(
            name=f"attachments/{a.id:08d}-{a.filename}",
            filename=a.filename,
            created_at=a.created_at,
            size=a.size_bytes,
            sha256=a.sha256,
            archived=a.archived_at is not None,
        )
        for a in attachments
    ]
