"""The decision register (beslutningsregister) as tagged PDF: the open and the latest done
follow-ups a reader may see, from templates/documents/decision_register.html."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from models import Case, FollowUpItem, Meeting, User
from workflow.documents import pdf
from workflow.engine.formats import format_date
from workflow.web.i18n import DEFAULT_MEETING_TITLE

TITLE = "Beslutningsregister"


@dataclass(frozen=True)
class Row:
    """One follow-up as printed: case, meeting, what to do, who, by when and where it stands."""

    case: str
    meeting: str
    description: str
    owner: str
    due_on: date
    status: str
    overdue: bool


def _meeting_name(meeting: Meeting | None) -> str:
    if meeting is None:
        return ""
    title = (meeting.title or "").strip()
    if not title or title.startswith(DEFAULT_MEETING_TITLE):
        title = f"Møde i {meeting.body.name}"
    return f"{title}, {format_date(meeting.starts_at)}"


def rows(
    follow_ups: Sequence[FollowUpItem],
    *,
    cases: Mapping[int, Case | None],
    owners: Mapping[int, User | None],
    meetings: Mapping[int | None, Meeting | None],
    today: date,
) -> list[Row]:
    """The follow-ups as the document prints them (the caller has kept those the reader may see)."""
    printed = []
    for follow_up in follow_ups:
        case, owner = cases[follow_up.case_id], owners[follow_up.owner_id]
        overdue = follow_up.done_at is None and follow_up.due_on < today
        if follow_up.done_at is not None:
            status = f"Udført {format_date(follow_up.done_at)}"
        else:
            status = "Overskredet" if overdue else "Åben"
        printed.append(
            Row(
                case=case.title if case else "",
                meeting=_meeting_name(meetings.get(follow_up.meeting_id)),
                description=follow_up.description,
                owner=owner.name if owner else "",
                due_on=follow_up.due_on,
                status=status,
                overdue=overdue,
            )
        )
    return printed


def to_pdf(
    open_rows: Sequence[Row], done_rows: Sequence[Row], *, reader: str, today: date
) -> bytes:
    """The register as tagged PDF/UA-1 in A4 landscape, printed for `reader` on `today`."""
    return pdf.render_pdf(
        "documents/decision_register.html",
        title=TITLE,
        author="Aftaleflow",
        running_header=f"{TITLE} · udskrevet {format_date(today)} til {reader}",
        open_rows=open_rows,
        done_rows=done_rows,
    )
