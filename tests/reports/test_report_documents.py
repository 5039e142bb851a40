"""Reports printed as PDF and Word: amounts, dates and totals as Danes write them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from support.documents import pdf_text, word_facts

from workflow.reports import documents
from workflow.reports.queries import Filters, Report


def _budget() -> Report:
    return Report(
        "budget", "Økonomi pr. indsats", "Hvad hver indsats koster.", ["Indsats", "Start", "Kr."],
        [["Akutindsats", date(2021, 5, 27), Decimal("2400000")],
         ["Fælles sprog", date(2021, 11, 13), Decimal("1234.50")]],
        Filters(date(2021, 1, 1), date(2021, 12, 31)), (2,),
    )  # fmt: skip


def test_amounts_dates_and_totals_print_in_danish_in_pdf_and_word() -> None:
    report = _budget()
    for text in (
        pdf_text(documents.to_pdf([report], "Prøve")),
        word_facts(documents.to_docx([report], "Prøve")).text,
    ):
        assert "Akutindsats 27. maj 2021 2.400.000" in text
        assert "Fælles sprog 13. november 2021 1.234,50" in text
        assert "I alt 2.401.234,50" in text
        assert "2,400,000" not in text and "2021-05-27" not in text
        assert "Afgrænsning: periode 1. januar 2021 – 31. december 2021" in text


def test_a_report_without_rows_says_so() -> None:
    empty = Report("tom", "Tom rapport", "Ingenting.", ["A"], [], Filters())
    assert "Tom rapport Ingenting. Afgrænsning:" in pdf_text(documents.to_pdf([empty], "Prøve"))
    assert "Ingen rækker." in pdf_text(documents.to_pdf([empty], "Prøve"))
