"""CSV and XLSX cells every export writes: user text can never become a live formula.

Excel, LibreOffice and Google Sheets run a cell that starts with =, +, -, @ (or a tab or line
break before one) as a formula, so a case title like `=HYPERLINK(...)` would become a link
or worse in the reader's spreadsheet (OWASP "CSV injection"). Every CSV and XLSX the app
produces goes through this module:

- CSV: text that starts with such a character gets a leading apostrophe, which spreadsheets
  show as text (OWASP's advice); numbers and dates are written by us, not neutralised, so
  negative amounts stay numbers.
- XLSX: text is stored as a string cell (never a formula, whatever it starts with), and a
  formula-leading one also gets Excel's quote prefix, so editing the cell keeps it text.
  Numbers stay numbers and dates stay dates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl loads only when a workbook is written
    from openpyxl.worksheet.worksheet import Worksheet

# OWASP's list plus line feed, and the fullwidth forms Excel also accepts in East Asian input.
FORMULA_LEADS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Danish Excel reads ';' as the column separator, and needs the BOM to read UTF-8 (æøå).
BOM = "\ufeff"

Value = str | int | float | Decimal | date | None


def starts_formula(text: str) -> bool:
    """Tell whether a spreadsheet would read `text` as a formula."""
    return bool(text) and text[0] in FORMULA_LEADS


def plain_text(value: Value) -> str:
    """A value as the text a reader sees: dates ISO, decimal commas, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return f"{value}".replace(".", ",")
    return str(value)


def csv_field(value: Value) -> str:
    """A value as a CSV field: text neutralised with a leading apostrophe, numbers as numbers."""
    if isinstance(value, str) and starts_formula(value):
        return "'" + value
    return plain_text(value)


def to_csv(rows: Iterable[Sequence[Value]]) -> str:
    """Rows as CSV text for Danish Excel: a BOM, ';'-separated, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_field(value) for value in row])
    return BOM + buffer.getvalue()


def append_row(sheet: Worksheet, values: Sequence[Value]) -> None:
    """Append one row to a worksheet: text as text, numbers and dates as such."""
    sheet.append([float(v) if isinstance(v, Decimal) else v for v in values])
    if not values:
        return
    # append() writes below every used row, so the new row is the last one.
    for value, cell in zip(values, sheet[sheet.max_row], strict=False):
        if isinstance(value, str):
            # openpyxl types "=..." as a formula on assignment; the string type undoes that.
            cell.data_type = "s"
            if starts_formula(value):
                cell.quotePrefix = True
