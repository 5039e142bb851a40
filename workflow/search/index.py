"""What is searchable: one search document per text, built from the rows that hold it, and kept
in step by `workflow.search.operations` (the same transaction as the write that changed
the text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from models import (
    AgendaItem,
    Attachment,
    Case,
    CaseEvent,
    Consultation,
    ConsultationResponse,
    FollowUpItem,
    Meeting,
    ResponseStatus,
    utcnow,
)

# The kinds of hit, in the order the filter lists them.
KINDS = ("case", "event", "item", "follow_up", "consultation", "answer", "attachment")
# The texts of a case that are searched besides its title.
CASE_TEXTS = (
    "summary",
    "business_case",
    "financing_proposal",
    "role_distribution",
    "general_practice_role",
    "triple_aim_population",
    "triple_aim_quality",
    "triple_aim_economy",
    "triple_aim_experience",
    "journal_description",
    "esdh_case_number",
)
ITEM_TEXTS = (
    "recommendation",
    "background",
    "presentation",
    "consequences",
    "risk",
    "economy",
    "decision_text",
    "public_summary",
)


@dataclass(frozen=True)
class Document:
    """A search document's values (a row of `search_documents`)."""

    kind: str
    source_id: int
    title: str
    body: str
    happened_at: datetime
    case_id: int | None = None
    meeting_id: int | None = None
    body_id: int | None = None
    closed: bool = False

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source_id": self.source_id,
            "title": self.title[:300],
            "body": self.body,
            "happened_at": self.happened_at,
            "case_id": self.case_id,
            "meeting_id": self.meeting_id,
            "body_id": self.body_id,
            "closed": self.closed,
        }


def _joined(*texts: str | None) -> str:
    return "\n".join(text for text in texts if text)


def case_document(case: Case) -> Document:
    return Document(
        "case",
        case.id,
        case.title,
        _joined(*(getattr(case, name) for name in CASE_TEXTS)),
        case.created_at or utcnow(),
        case_id=case.id,
    )


def event_document(row: CaseEvent) -> Document | None:
    """An event's comment (a transition's reasoning, a decision, a note); none without one."""
    if not (row.comment or "").strip():
        return None
    return Document(
        "event", row.id, "", row.comment, row.created_at, case_id=row.case_id,
        meeting_id=row.meeting_id,
    )  # fmt: skip


def item_document(session: Session, item: AgendaItem) -> Document | None:
    """An agenda item with its decision; a removed one is not searched. A closed item is marked
    so the search shows it only to those who may see closed items."""
    if item.removed_at is not None:
        return None
    meeting = session.get(Meeting, item.meeting_id)
    if meeting is None:
        return None
    return Document(
        "item",
        item.id,
        item.title,
        _joined(*(getattr(item, name) for name in ITEM_TEXTS)),
        meeting.starts_at,
        case_id=item.case_id,
        meeting_id=meeting.id,
        body_id=meeting.body_id,
        closed=item.closed,
    )


def consultation_document(consultation: Consultation) -> Document:
    return Document(
        "consultation", consultation.id, consultation.title, consultation.draft or "",
        consultation.created_at or utcnow(), case_id=consultation.case_id,
    )  # fmt: skip


def answer_document(session: Session, response: ConsultationResponse) -> Document | None:
    """A consultation answer once given (a pending one may hold a draft)."""
    if response.status is not ResponseStatus.ANSWERED or not (response.text or "").strip():
        return None
    consultation = session.get(Consultation, response.consultation_id)
    if consultation is None:
        return None
    return Document(
        "answer", response.id, consultation.title, response.text,
        response.answered_at or utcnow(), case_id=consultation.case_id,
    )  # fmt: skip


def attachment_document(attachment: Attachment) -> Document | None:
    """An attachment's name and extracted text; an archived one is not searched."""
    if attachment.archived_at is not None:
        return None
    return Document(
        "attachment", attachment.id, attachment.filename, attachment.extracted_text or "",
        attachment.created_at or utcnow(), case_id=attachment.case_id,
    )  # fmt: skip


def follow_up_document(session: Session, follow_up: FollowUpItem) -> Document:
    """A decision's follow-up item. Its meeting's body is kept: the register shows it to its
    owner and to whoever keeps that body's register (`workflow.meetings.register.may_read`)."""
    meeting = session.get(Meeting, follow_up.meeting_id) if follow_up.meeting_id else None
    return Document(
        "follow_up", follow_up.id, "", follow_up.description,
        follow_up.created_at or utcnow(), case_id=follow_up.case_id,
        meeting_id=follow_up.meeting_id, body_id=meeting.body_id if meeting else None,
    )  # fmt: skip


def document_of(session: Session, obj: Any) -> tuple[str, int, Document | None] | None:
    """(kind, source id, its document or None to drop it) for a searchable row, else None."""
    if isinstance(obj, Case):
        return "case", obj.id, case_document(obj)
    if isinstance(obj, CaseEvent):
        return "event", obj.id, event_document(obj)
    if isinstance(obj, AgendaItem):
        return "item", obj.id, item_document(session, obj)
    if isinstance(obj, Consultation):
        return "consultation", obj.id, consultation_document(obj)
    if isinstance(obj, ConsultationResponse):
        return "answer", obj.id, answer_document(session, obj)
    if isinstance(obj, Attachment):
        return "attachment", obj.id, attachment_document(obj)
    if isinstance(obj, FollowUpItem):
        return "follow_up", obj.id, follow_up_document(session, obj)
    return None


SEARCHED = (
    Case, CaseEvent, AgendaItem, Consultation, ConsultationResponse, Attachment, FollowUpItem,
)  # fmt: skip
# The attributes a document is built from: a row changed in none of them keeps its document
# (a transition changes a case's state, not its texts, and costs the index nothing).
WATCHED: dict[type, tuple[str, ...]] = {
    Case: ("title", "created_at", *CASE_TEXTS),
    CaseEvent: ("comment",),
    AgendaItem: ("title", "closed", "removed_at", "case_id", "meeting_id", *ITEM_TEXTS),
    Consultation: ("title", "draft", "case_id"),
    ConsultationResponse: ("status", "text", "answered_at", "consultation_id"),
    Attachment: ("filename", "archived_at", "extracted_text", "case_id"),
    FollowUpItem: ("description", "case_id", "meeting_id", "created_at"),
}


def texts_changed(obj: Any) -> bool:
    """Whether a loaded row's change touches what its document is built from."""
    state = inspect(obj)
    watched = WATCHED[type(obj)]
    # An attribute set since the row was loaded (or flagged modified) has its old value kept
    # in committed_state: none of them there, nothing of the document changed — answered
    # without a history per attribute (a transition's case sets only its state and times).
    if state.committed_state.keys().isdisjoint(watched):
        return False
    return any(state.attrs[name].history.has_changes() for name in watched)


def meeting_moved(meeting: Meeting) -> bool:
    """Whether a loaded meeting's date or body changed (its items' documents carry both)."""
    state = inspect(meeting)
    return any(state.attrs[name].history.has_changes() for name in ("starts_at", "body_id"))
