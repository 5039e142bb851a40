"""Word documents as Danish readers expect them: A4, Danish proofing language, a running header
and 'Side X af Y' from Word's own PAGE and NUMPAGES fields (they count when Word lays out)."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

LANGUAGE = "da-DK"
A4_SHORT, A4_LONG = Mm(210), Mm(297)


def _language_of(r_pr: Any) -> None:
    """Set w:lang (Latin, East Asian and complex script alike) on a run-properties element."""
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        # The schema orders rPr's children: w:lang comes before these three.
        r_pr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    for attribute in ("w:val", "w:eastAsia", "w:bidi"):
        lang.set(qn(attribute), LANGUAGE)


def _danish_proofing(document: WordDocument) -> None:
    """Danish on the document defaults and on every style, so Word's spelling and grammar check
    read the text as Danish (python-docx's template says en-US and 'already checked')."""
    styles = document.styles.element
    for r_pr in styles.iterfind(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}"):
        _language_of(r_pr)
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:type")) in ("paragraph", "character", "table"):
            _language_of(style.get_or_add_rPr())
    settings = document.settings.element
    for checked in settings.findall(qn("w:proofState")):
        settings.remove(checked)
    document.core_properties.language = LANGUAGE


def _field(paragraph: Paragraph, instruction: str, shown: str = "1") -> None:
    """A complex field (begin, instruction, separate, last result, end) Word updates itself."""
    parts: list[tuple[str, str | None]] = [
        ("begin", None), ("instr", instruction), ("separate", None), ("text", shown), ("end", None)
    ]  # fmt: skip
    for kind, text in parts:
        run = paragraph.add_run()
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {text} "
            run._r.append(element)
        elif kind == "text":
            run.text = text or ""
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
            run._r.append(element)


def new_document(
    title: str, running_header: str, *, author: str = "Aftaleflow", landscape: bool = False
) -> WordDocument:
    """An empty A4 document in Danish with the running header and 'Side X af Y' at the foot."""
    document = Document()
    document.core_properties.title = title
    document.core_properties.author = author
    _danish_proofing(document)
    section = document.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = A4_LONG, A4_SHORT
        margin = Mm(15)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = A4_SHORT, A4_LONG
        margin = Mm(20)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, margin)
    header = section.header.paragraphs[0]
    header.text = running_header
    header.runs[0].font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer.add_run("Side ")
    _field(footer, "PAGE")
    footer.add_run(" af ")
    _field(footer, "NUMPAGES")
    for run in footer.runs:
        run.font.size = Pt(8)
    return document


def labelled(document: WordDocument, label: str, text: str) -> Paragraph:
    """A 'Label: text' line with the label in bold."""
    paragraph = document.add_paragraph()
    paragraph.add_run(f"{label}:").bold = True
    paragraph.add_run(f" {text}")
    return paragraph


def to_bytes(document: WordDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
