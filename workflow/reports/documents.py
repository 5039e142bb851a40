"""SKU's yearly follow-up (and any set of reports) as tagged PDF and as Word, A4 landscape in
Danish: one section per report with its table, amounts and dates as Danes write them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from workflow.documents import pdf, word
from workflow.engine import clock
from workflow.engine.formats import format_date
from workflow.reports.queries import Cell, Report, document_text

SKU = "Sundhedskoordinationsudvalget (SKU)"


@dataclass(frozen=True)
class Table:
    """One report as printed: heading, what it covers, header row, rows of (text, is_number)."""

    title: str
    description: str
    columns: list[str]
    rows: list[list[tuple[str, bool]]]
    has_totals: bool

    def numeric(self, column: int) -> bool:
        """Whether the column holds numbers (its heading is then right-aligned, as they are)."""
        return any(row[column][1] for row in self.rows)


def _cells(row: Sequence[Cell]) -> list[tuple[str, bool]]:
    return [(document_text(v), isinstance(v, int | float | Decimal)) for v in row]


def tables(reports: Sequence[Report]) -> list[Table]:
    """The reports as the documents print them (totals as the last row where they add up)."""
    printed = []
    for report in reports:
        totals = report.totals()
        printed.append(
            Table(
                title=report.title,
                description=f"{report.description} Afgrænsning: {report.filters.describe()}.",
                columns=list(report.columns),
                rows=[_cells(row) for row in report.rows + ([totals] if totals else [])],
                has_totals=totals is not None,
            )
        )
    return printed


def _printed() -> str:
    return f"Udskrevet {format_date(clock.now())} fra Aftaleflow."


def to_pdf(reports: Sequence[Report], title: str) -> bytes:
    """The reports as tagged PDF/UA-1, A4 landscape, a running header naming SKU and the title."""
    return pdf.render_pdf(
        "documents/reports.html",
        title=title,
        author="Aftaleflow",
        running_header=f"{SKU} · {title}",
        printed=_printed(),
        tables=tables(reports),
    )


def to_docx(reports: Sequence[Report], title: str) -> bytes:
    """The reports as a Word document: A4 landscape, Danish proofing, 'Side X af Y'."""
    from docx.shared import Pt

    document = word.new_document(title, f"{SKU} · {title}", landscape=True)
    document.add_heading(title, level=0)
    document.add_paragraph(_printed())
    for table in tables(reports):
        document.add_heading(table.title, level=1)
        document.add_paragraph(table.description)
        if not table.rows:
            document.add_paragraph("Ingen rækker.")
            continue
        grid = document.add_table(rows=1, cols=len(table.columns))
        grid.style = "Table Grid"
        for cell, column in zip(grid.rows[0].cells, table.columns, strict=True):
            cell.text = column
            cell.paragraphs[0].runs[0].bold = True
        for row in table.rows:
            cells = grid.add_row().cells
            for cell, (text, _number) in zip(cells, row, strict=True):
                cell.text = text
        if table.has_totals:
            for cell in grid.rows[-1].cells:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
        for grid_row in grid.rows:
            for cell in grid_row.cells:
                for run in cell.paragraphs[0].runs:
                    run.font.size = Pt(8)
    return word.to_bytes(document)
