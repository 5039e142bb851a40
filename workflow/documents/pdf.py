"""Render a template under templates/documents to a tagged PDF (PDF/UA-1) with WeasyPrint.

The documents are the bodies' Danish records: they are written in Danish and declare
`lang="da-DK"` whatever language the reader's screen is in, and their dates and amounts go
through workflow.engine.formats in Danish. No request or app context is needed, so the
scheduler and the tests render the same bytes the download does.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workflow.engine import formats
from workflow.engine.paths import resource_dir

# PDF/UA-1 (ISO 14289-1): a structure tree, MarkInfo/Marked, the document's language and title.
PDF_VARIANT = "pdf/ua-1"


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


def render_pdf(template: str, **context: Any) -> bytes:
    """The document as a tagged, A4 PDF/UA-1 with its fonts embedded."""
    # WeasyPrint loads pango through cffi at import: only the documents pay for it.
    from weasyprint import HTML

    html = HTML(string=render_html(template, **context), base_url=str(resource_dir("templates")))
    return bytes(html.write_pdf(pdf_variant=PDF_VARIANT))
