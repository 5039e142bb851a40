"""Read generated documents back as their readers' tools do: the PDF's structure with pikepdf
and its text with pypdf, the Word file's page, language and fields with python-docx."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal

import pikepdf
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

# A4 in PDF points (1/72 in), as WeasyPrint writes it (210 × 297 mm); a point's slack.
A4_POINTS = (Decimal("595.28"), Decimal("841.89"))


def pdf_text(data: bytes) -> str:
    """The PDF's text as one flow (lines wrap where the page ends), every page."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


@dataclass(frozen=True)
class PdfFacts:
    """What a screen reader and a printer depend on, read from the PDF's catalogue and pages."""

    tagged: bool
    has_structure_tree: bool
    language: str
    title: str
    page_sizes: list[tuple[Decimal, Decimal]]
    pdf_ua_part: str
    structure_roles: set[str]
    displays_title: bool


def _roles(element: pikepdf.Object, found: set[str], depth: int = 0) -> None:
    if depth > 40 or not isinstance(element, pikepdf.Dictionary | pikepdf.Array):
        return
    if isinstance(element, pikepdf.Array):
        for child in element:
            _roles(child, found, depth + 1)
        return
    if "/S" in element and isinstance(element.S, pikepdf.Name):
        found.add(str(element.S)[1:])
    if "/K" in element:
        _roles(element.K, found, depth + 1)


def pdf_facts(data: bytes) -> PdfFacts:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root
        mark_info = root.get("/MarkInfo", pikepdf.Dictionary())
        sizes = []
        for page in pdf.pages:
            x0, y0, x1, y1 = (Decimal(str(v)) for v in page.MediaBox)
            sizes.append(((x1 - x0).quantize(Decimal("0.01")), (y1 - y0).quantize(Decimal("0.01"))))
        with pdf.open_metadata() as meta:
            part = str(meta.get("{http://www.aiim.org/pdfua/ns/id/}part", ""))
        roles: set[str] = set()
        if "/StructTreeRoot" in root:
            _roles(root.StructTreeRoot.get("/K", pikepdf.Array()), roles)
        return PdfFacts(
            tagged=bool(mark_info.get("/Marked", False)),
            has_structure_tree="/StructTreeRoot" in root,
            language=str(root.get("/Lang", "")),
            title=str(pdf.docinfo.get("/Title", "")),
            page_sizes=sizes,
            pdf_ua_part=part,
            structure_roles=roles,
            displays_title=bool(
                root.get("/ViewerPreferences", pikepdf.Dictionary()).get("/DisplayDocTitle")
            ),
        )


def is_a4(size: tuple[Decimal, Decimal]) -> bool:
    short, long = sorted(size)
    return abs(short - A4_POINTS[0]) <= 1 and abs(long - A4_POINTS[1]) <= 1


@dataclass(frozen=True)
class WordFacts:
    """A Word document's page size, proofing languages, footer fields and body text."""

    page_mm: list[tuple[int, int]]
    languages: set[str]
    footer_fields: list[str]
    footer_text: str
    header_text: str
    text: str


def word_facts(data: bytes) -> WordFacts:
    document = Document(io.BytesIO(data))
    styles = document.styles.element
    languages = {
        lang.get(qn("w:val")) for lang in styles.iter(qn("w:lang")) if lang.get(qn("w:val"))
    }
    footer = document.sections[0].footer
    fields = [
        (text.text or "").strip()
        for p in footer.paragraphs
        for text in p._p.iter(qn("w:instrText"))
    ]
    fields += [
        (simple.get(qn("w:instr")) or "").strip()
        for p in footer.paragraphs
        for simple in p._p.iter(qn("w:fldSimple"))
    ]
    body = [p.text for p in document.paragraphs]
    body += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return WordFacts(
        page_mm=[
            (round(s.page_width.mm), round(s.page_height.mm))  # type: ignore[union-attr]
            for s in document.sections
        ],
        languages={str(language) for language in languages},
        footer_fields=fields,
        footer_text=" ".join(p.text for p in footer.paragraphs),
        header_text=" ".join(p.text for p in document.sections[0].header.paragraphs),
        text=re.sub(r"\s+", " ", " ".join(body)),
    )
