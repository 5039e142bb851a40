"""An attachment's text, read with the real readers from files made here."""

from __future__ import annotations

import io

import docx
from openpyxl import Workbook
from weasyprint import HTML

from workflow.search.extract import text_of


def test_text_is_read_from_pdf_docx_xlsx_and_plain_text() -> None:
    pdf = HTML(string="<h1>Referat</h1><p>Træningsforløb for ældre</p>").write_pdf()
    assert "Træningsforløb for ældre" in (text_of("referat.PDF", pdf) or "")

    document = docx.Document()
    document.add_paragraph("Samarbejdsaftale om hjemmepleje")
    document.add_table(rows=1, cols=2).rows[0].cells[1].text = "Budgetlinje"
    buffer = io.BytesIO()
    document.save(buffer)
    found = text_of("aftale.docx", buffer.getvalue()) or ""
    assert "Samarbejdsaftale om hjemmepleje" in found and "Budgetlinje" in found

    book = Workbook()
    book.active.append(["Kommune", "Beløb"])
    book.active.append(["Gentofte", 2400000])
    buffer = io.BytesIO()
    book.save(buffer)
    assert "Gentofte 2400000" in (text_of("budget.xlsx", buffer.getvalue()) or "")

    assert text_of("noter.txt", "Ærø og Åbenrå".encode()) == "Ærø og Åbenrå"


def test_a_file_without_readable_text_has_none() -> None:
    assert text_of("foto.png", b"\x89PNG\r\n") is None
    assert text_of("skadet.pdf", b"%PDF-1.4 not really") in (None, "")
