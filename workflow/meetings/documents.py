"""Agenda and minutes as PDF and DOCX, in Danish, from a frozen snapshot (workflow.meetings.agenda).

Both formats print the same structure: a running header naming the body and the meeting, the
title, time and place, the attendance (deltagere, afbud, referent), the list of items, then each
item. A closed item (lukket punkt) is marked as such; in the public edition (for a reader the
access policy does not let see closed items) it shows its title and public summary only.
The PDF is drawn from templates/documents/meeting.html as tagged PDF/UA-1 (workflow.documents).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.documents import pdf, word
from workflow.engine import values
from workflow.web.i18n import DEFAULT_MEETING_TITLE

HEADINGS = {"agenda": "Dagsorden", "minutes": "Referat"}
CLOSED_MARK = "Lukket punkt"
CLOSED_NOTE = "Lukket punkt: sagens indhold er fortroligt og gengives ikke her."
NOT_RECORDED = "ikke registreret"
NOBODY = "ingen"


@dataclass(frozen=True)
class Item:
    """One agenda item as the document prints it; `withheld` when its content is not shown."""

    number: int
    heading: str
    title: str
    closed: bool
    withheld: bool
    public_summary: str
    sections: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    decision_heading: str = ""
    decision: str = ""


@dataclass(frozen=True)
class MeetingDocument:
    """What the agenda or minutes print, in order; the PDF template and the DOCX writer share it."""

    title: str
    running_header: str
    author: str
    meta: list[tuple[str, str]]
    attendance: list[tuple[str, str]]
    items: list[Item]
    chair_decisions: list[str]


def _meta(snapshot: dict[str, Any]) -> list[tuple[str, str]]:
    meta = [("Tidspunkt", snapshot["when"])]
    if snapshot["location"]:
        meta.append(("Sted", snapshot["location"]))
    # Agendas frozen before links were checked may hold a javascript: link; leave it out.
    if online_url := values.safe_link(snapshot["online_url"]):
        meta.append(("Online", online_url))
    if snapshot.get("version"):
        meta.append(("Version", str(snapshot["version"])))
    return meta


def _attendance(snapshot: dict[str, Any]) -> list[tuple[str, str]]:
    """Deltagere, afbud and referent. The minutes always say them ('ingen' where attendance
    was kept and nobody is listed); an agenda only those known. Versions frozen before
    attendance was kept have none."""
    present = ", ".join(snapshot.get("present") or [])
    absent = ", ".join(snapshot.get("absent") or [])
    taker = snapshot.get("minute_taker") or ""
    lines = [("Deltagere", present), ("Afbud", absent), ("Referent", taker)]
    if snapshot["kind"] != "minutes" or "present" not in snapshot:
        return [(label, names) for label, names in lines if names]
    missing = NOBODY if present or absent or taker else NOT_RECORDED
    return [(label, names or missing) for label, names in lines]


def _item(snapshot: dict[str, Any], item: dict[str, Any], public: bool) -> Item:
    withheld = bool(item["closed"] and public)
    minutes = snapshot["kind"] == "minutes" and item["outcome"] and not withheld
    return Item(
        number=item["number"],
        heading=f"{item['number']}. {item['title']} ({item['kind_label']})",
        title=item["title"],
        closed=bool(item["closed"]),
        withheld=withheld,
        public_summary=(item["public_summary"] or "") if item["closed"] else "",
        sections=[] if withheld else [(label, text) for label, text in item["sections"] if text],
        attachments=[] if withheld else list(item["attachments"]),
        decision_heading=f"Beslutning i {snapshot['body_code']} den {snapshot['date']}"
        if minutes
        else "",
        decision=(item["decision_text"] or item["outcome_label"] or "") if minutes else "",
    )


def build(snapshot: dict[str, Any], *, public: bool) -> MeetingDocument:
    """The document's content from the snapshot, closed items withheld when `public`."""
    body = f"{snapshot['body_name']} ({snapshot['body_code']})"
    # The default title ("Møde i <organ>") would only repeat the body's name.
    title = (snapshot.get("title") or "").strip()
    plain = not title or title.startswith(DEFAULT_MEETING_TITLE)
    meeting = f"Møde den {snapshot['date']}" if plain else f"{title}, {snapshot['date']}"
    chair = [
        f"{d['date']}: {d['title']}" + (f" – {d['text']}" if d["text"] else "")
        for d in snapshot["chair_decisions"]
    ]
    return MeetingDocument(
        title=f"{HEADINGS[snapshot['kind']]} for {body}",
        running_header=f"{body} · {meeting} · {HEADINGS[snapshot['kind']]}",
        author=f"{snapshot['body_name']} – Aftaleflow",
        meta=_meta(snapshot),
        attendance=_attendance(snapshot),
        items=[_item(snapshot, item, public) for item in snapshot["items"]],
        chair_decisions=chair,
    )


def to_pdf(snapshot: dict[str, Any], *, public: bool = False) -> bytes:
    """Render the agenda or minutes as tagged PDF (PDF/UA-1), A4, da-DK."""
    document = build(snapshot, public=public)
    return pdf.render_pdf(
        "documents/meeting.html",
        document=document,
        title=document.title,
        author=document.author,
        running_header=document.running_header,
        closed_mark=CLOSED_MARK,
        closed_note=CLOSED_NOTE,
    )


def to_docx(snapshot: dict[str, Any], *, public: bool = False) -> bytes:
    """Render the agenda or minutes as a Word document: A4, Danish proofing, 'Side X af Y'."""
    content = build(snapshot, public=public)
    document = word.new_document(content.title, content.running_header, author=content.author)
    document.add_heading(content.title, level=0)
    for label, text in content.meta:
        word.labelled(document, label, text)
    if content.attendance:
        document.add_heading("Fremmøde", level=1)
        for label, names in content.attendance:
            word.labelled(document, label, names)
    document.add_heading("Punkter", level=1)
    for item in content.items:
        paragraph = document.add_paragraph(item.title, style="List Number")
        if item.closed:
            paragraph.add_run(f" ({CLOSED_MARK.lower()})").italic = True
    for item in content.items:
        heading = document.add_heading(item.heading, level=1)
        if item.closed:
            heading.add_run(f" – {CLOSED_MARK}")
        if item.public_summary:
            document.add_paragraph(item.public_summary)
        if item.withheld:
            document.add_paragraph(CLOSED_NOTE).runs[0].italic = True
            continue
        for label, text in item.sections:
            document.add_heading(label, level=2)
            document.add_paragraph(text)
        if item.attachments:
            document.add_heading("Bilag", level=2)
            for name in item.attachments:
                document.add_paragraph(name, style="List Bullet")
        if item.decision_heading:
            document.add_heading(item.decision_heading, level=2)
            document.add_paragraph(item.decision)
    if content.chair_decisions:
        document.add_heading("Beslutninger truffet af formandskabet siden sidste møde", level=1)
        for line in content.chair_decisions:
            document.add_paragraph(line, style="List Bullet")
    return word.to_bytes(document)
