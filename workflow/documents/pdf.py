"""Render a template under templates/documents to a tagged PDF (PDF/UA-1) with WeasyPrint.

The documents are the bodies' Danish records: they are written in Danish and declare
`lang="da-DK"` whatever language the reader's screen is in, and their dates and amounts go
through workflow.engine.formats in Danish. No request or app context is needed, so the
scheduler and the tests render the same bytes the download does.
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workflow.engine import formats
from workflow.engine.paths import resource_dir

# PDF/UA-1 (ISO 14289-1): a structure tree, MarkInfo/Marked, the document's language and title.
PDF_VARIANT = "pdf/ua-1"
# PDF/A-3b (ISO 19005-3) for what goes to the archive: the case record's case file.
ARCHIVE_VARIANT = "pdf/a-3b"


def _amount(value: Decimal | int | float | None) -> str:
    return "" if value is None else formats.format_amount(value)


def _number(value: Decimal | int | float | None) -> str:
    return "" if value is None else formats.format_number(value)


def _date(value: date | datetime | None) -> str:
    return "" if value is None else formats.format_date(value)


@cache
def environment() -> Environment:
    """The documents' own Jinja environment: autoescaped, strict, Danish filters."""
    templates = resource_dir("templates")
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(dato=_date, kr=_amount, tal=_number, datotid=formats.format_datetime)
    return env


def render_html(template: str, **context: Any) -> str:
    """The document as HTML (what the PDF is drawn from)."""
    return environment().get_template(template).render(**context)


def render_pdf(
    template: str, *, variant: str = PDF_VARIANT, created: datetime | None = None, **context: Any
) -> bytes:
    """The document as an A4 PDF (tagged PDF/UA-1 unless another variant is asked for) with its
    fonts embedded. `created` fixes its dates, so the same input gives the same bytes."""
    # WeasyPrint loads pango through cffi at import: only the documents pay for it.
    from weasyprint import HTML

    html = HTML(string=render_html(template, **context), base_url=str(resource_dir("templates")))
    document = html.render()
    if created is not None:
        stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        document.metadata.created = stamp
        document.metadata.modified = stamp
    if variant == PDF_VARIANT:
        return bytes(document.write_pdf(pdf_variant=variant))
    with warnings.catch_warnings():
        # WeasyPrint opens its sRGB output intent (PDF/A) and leaves closing it to the garbage
        # collector; the file is read-only and gone when the call returns.
        warnings.simplefilter("ignore", ResourceWarning)
        # An archival variant is tagged too, so the case file stays readable by a screen reader.
        return bytes(document.write_pdf(pdf_variant=variant, pdf_tags=True))
