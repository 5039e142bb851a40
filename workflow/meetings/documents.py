"""Agenda and minutes as DOCX and PDF, in Danish, from a frozen snapshot (workflow.meetings.agenda).

The PDF embeds DejaVu Sans (bundled under templates/static/fonts) so æ, ø and å never turn
into boxes; it declares its language and title and carries an outline of the items. The
public edition of a closed item (lukket punkt) shows its title and public summary only.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from fpdf import FPDF

from workflow.engine import values
from workflow.engine.paths import resource_dir

FONT_DIR = ("static", "fonts")
HEADINGS = {"agenda": "Dagsorden", "minutes": "Referat"}
CLOSED_NOTE = "Lukket punkt: sagens indhold er fortroligt og gengives ikke her."


def _heading(snapshot: dict[str, Any]) -> str:
    return f"{HEADINGS[snapshot['kind']]} for {snapshot['body_name']} ({snapshot['body_code']})"


def _place(snapshot: dict[str, Any]) -> str:
    parts = [snapshot["when"]]
    if snapshot["location"]:
        parts.append(snapshot["location"])
    # Agendas frozen before links were checked may hold a javascript: link; leave it out.
    if online_url := values.safe_link(snapshot["online_url"]):
        parts.append(f"Online: {online_url}")
    return " · ".join(parts)


def _attendance(snapshot: dict[str, Any]) -> list[tuple[str, str]]:
    """Deltagere, afbud and referent; versions frozen before attendance was kept have none."""
    lines = [
        ("Deltagere", ", ".join(snapshot.get("present") or [])),
        ("Afbud", ", ".join(snapshot.get("absent") or [])),
        ("Referent", snapshot.get("minute_taker") or ""),
    ]
    shown = [("p", f"{label}: {names}") for label, names in lines if names]
    return [("h2", "Fremmøde"), *shown] if shown else []


def blocks(snapshot: dict[str, Any], *, public: bool) -> list[tuple[str, str]]:
    """Return the document as (style, text) blocks: title, meta, h1, h2, p."""
    out: list[tuple[str, str]] = [("title", _heading(snapshot)), ("meta", _place(snapshot))]
    if snapshot.get("version"):
        out.append(("meta", f"Version {snapshot['version']}"))
    out.extend(_attendance(snapshot))
    decision_heading = f"Beslutning i {snapshot['body_code']} den {snapshot['date']}"
    for item in snapshot["items"]:
        out.append(("h1", f"{item['number']}. {item['title']} ({item['kind_label']})"))
        if item["closed"]:
            out.append(("p", item["public_summary"]))
            if public:
                out.append(("p", CLOSED_NOTE))
                continue
        for label, text in item["sections"]:
            if text:
                out.append(("h2", label))
                out.append(("p", text))
        if item["attachments"]:
            out.append(("h2", "Bilag"))
            out.extend(("p", f"• {name}") for name in item["attachments"])
        if snapshot["kind"] == "minutes" and item["outcome"]:
            out.append(("h2", decision_heading))
            out.append(("p", item["decision_text"] or item["outcome_label"]))
    if snapshot["chair_decisions"]:
        out.append(("h1", "Beslutninger truffet af formandskabet siden sidste møde"))
        for decision in snapshot["chair_decisions"]:
            text = f"{decision['date']}: {decision['title']}"
            if decision["text"]:
                text += f" – {decision['text']}"
            out.append(("p", text))
    return out


def to_docx(snapshot: dict[str, Any], *, public: bool = False) -> bytes:
    """Render the agenda or minutes as a Word document."""
    document = Document()
    document.core_properties.title = _heading(snapshot)
    document.core_properties.language = "da-DK"
    styles = {"title": "Title", "h1": "Heading 1", "h2": "Heading 2", "meta": "Subtitle"}
    for style, text in blocks(snapshot, public=public):
        if style in ("title", "h1", "h2"):
            level = {"title": 0, "h1": 1, "h2": 2}[style]
            document.add_heading(text, level=level)
        else:
            document.add_paragraph(text, style=styles.get(style))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class _AgendaPDF(FPDF):
    """A4 with page numbers in the footer."""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("DejaVu", size=8)
        self.cell(0, 10, f"Side {self.page_no()}/{{nb}}", align="C")


def to_pdf(snapshot: dict[str, Any], *, public: bool = False) -> bytes:
    """Render the agenda or minutes as PDF with embedded fonts and an outline."""
    fonts = resource_dir("templates").joinpath(*FONT_DIR)
    pdf = _AgendaPDF(format="A4")
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_lang("da-DK")
    pdf.set_title(_heading(snapshot))
    pdf.set_author(f"{snapshot['body_name']} – Aftaleflow")
    pdf.set_creator("Aftaleflow")
    pdf.set_display_mode("fullpage")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for style, text in blocks(snapshot, public=public):
        if style == "title":
            pdf.set_font("DejaVu", "B", 18)
            pdf.multi_cell(width, 9, text, align="L")
        elif style == "meta":
            pdf.set_font("DejaVu", "", 11)
            pdf.multi_cell(width, 6, text, align="L")
        elif style == "h1":
            pdf.ln(4)
            pdf.set_font("DejaVu", "B", 14)
            pdf.start_section(text, level=0)
            pdf.multi_cell(width, 7, text, align="L")
        elif style == "h2":
            pdf.ln(1)
            pdf.set_font("DejaVu", "B", 11)
            pdf.multi_cell(width, 6, text, align="L")
        else:
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(width, 5, text, align="L")
        pdf.set_x(pdf.l_margin)
    return bytes(pdf.output())
