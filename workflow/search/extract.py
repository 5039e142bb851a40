"""The text of an attached file, read once on upload and kept on the attachment's row."""

from __future__ import annotations

import io
import logging
from pathlib import PurePath

log = logging.getLogger(__name__)

# More text than this is not searched: a 25 MB spreadsheet's text would swell the index.
MAX_CHARS = 1_000_000


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _docx(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _xlsx(data: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells = [str(value) for value in row if value is not None]
            if cells:
                lines.append(" ".join(cells))
    book.close()
    return "\n".join(lines)


def _plain(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


READERS = {".pdf": _pdf, ".docx": _docx, ".xlsx": _xlsx, ".txt": _plain, ".csv": _plain}


def text_of(filename: str, data: bytes) -> str | None:
    """The file's text, or None when its type has none to read (images, PPTX, ODT) or it cannot
    be read (a damaged or encrypted file is still attached, just not searchable)."""
    reader = READERS.get(PurePath(filename).suffix.lower())
    if reader is None:
        return None
    try:
        text = reader(data)
    except Exception:
        log.warning("could not read the text of %s", filename, exc_info=True)
        return None
    # NUL cannot be stored in PostgreSQL text.
    return text.replace("\x00", " ")[:MAX_CHARS]
