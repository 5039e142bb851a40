"""The one place that formats amounts, dates and body names for people (Babel).

Pages, documents (agenda, minutes, reports), mails and exports all format through here, so
an amount reads "2.400.000 kr." in Danish and "DKK 2,400,000" in English wherever it is shown.
Every function takes the locale ("da" or "en"); text stored in the audit trail or an agenda is
always Danish. The web shell (`workflow.web.i18n`) passes the request's language.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.lists import format_list as babel_format_list

from workflow.engine.clock import LOCAL_TZ

DANISH = "da"
ENGLISH = "en"
# A name that ends in one of these takes only an apostrophe in Danish: "TSS' møde".
_SIBILANTS = ("s", "x", "z")


def _day(value: date | datetime) -> date:
    """The Danish calendar day of a date or a moment."""
    return value.astimezone(LOCAL_TZ).date() if isinstance(value, datetime) else value


@functools.lru_cache(maxsize=8192)
def _format_day(day: date, pattern: str, locale: str) -> str:
    # A page of deadlines spells the same few days hundreds of times, and Babel parses the
    # locale on every call: a day's spelling never changes, so keep it.
    return str(babel_dates.format_date(day, pattern, locale=locale))


def format_date(value: date | datetime, locale: str = DANISH) -> str:
    """'13. november 2020', or '13 November 2020' in English (Danish calendar day)."""
    pattern = "d MMMM y" if locale == ENGLISH else "d. MMMM y"
    return _format_day(_day(value), pattern, locale)


def format_short_date(value: date | datetime, locale: str = DANISH) -> str:
    """'13.11.2020', or '13/11/2020' in English: for tables and calendars with little room."""
    pattern = "dd/MM/y" if locale == ENGLISH else "dd.MM.y"
    return _format_day(_day(value), pattern, locale)


def month_name(month: int, locale: str = DANISH) -> str:
    """'januar' (English 'January') for 1."""
    return str(babel_dates.get_month_names("wide", locale=locale)[month])


def format_datetime(value: datetime, locale: str = DANISH) -> str:
    """'13. november 2020 kl. 09:30', or '13 November 2020 at 09:30', in Danish time."""
    local = value.astimezone(LOCAL_TZ)
    joiner = "at" if locale == ENGLISH else "kl."
    return f"{format_date(local, locale)} {joiner} {local:%H:%M}"


def format_number(value: Decimal | int | float, locale: str = DANISH) -> str:
    """'2.400.000' or '1.234,50' (English '2,400,000'): øre only when there are any."""
    if type(value) is int:
        return _format_whole(value, locale)
    return _format_decimal(value, locale)


@functools.lru_cache(maxsize=4096)
def _format_whole(value: int, locale: str) -> str:
    # Counts (a section's total, a page's) are spelt many times a page, always the same way.
    return _format_decimal(value, locale)


def _format_decimal(value: Decimal | int | float, locale: str) -> str:
    # Room for every digit: an amount stored before amounts were bounded (SQLite keeps what
    # it is given) must still show, not stop the page at rounding.
    with decimal.localcontext(prec=100):
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        whole = number == number.to_integral_value()
        pattern = "#,##0" if whole else "#,##0.00"
        return babel_numbers.format_decimal(number, pattern, locale=locale)


def format_amount(value: Decimal | int | float, locale: str = DANISH) -> str:
    """'2.400.000 kr.' or '1.234,50 kr.'; in English 'DKK 2,400,000'."""
    number = format_number(value, locale)
    return f"DKK {number}" if locale == ENGLISH else f"{number} kr."


def format_list(items: Sequence[str], locale: str = DANISH) -> str:
    """'SKU og TSS' / 'SKU and TSS'."""
    return str(babel_format_list(list(items), locale=locale))


def genitive(name: str, locale: str = DANISH) -> str:
    """A body's name in the genitive: 'SKU's', 'TSS'', 'Region Hovedstadens' (English 'TSS's').

    Danish: a name ending in s, x or z takes only an apostrophe; an abbreviation in capitals
    takes 's; any other name takes s.
    """
    name = name.strip()
    if not name:
        return name
    if locale == ENGLISH:
        return f"{name}'s"
    if name[-1].lower() in _SIBILANTS:
        return f"{name}'"
    if name.isupper():
        return f"{name}'s"
    return f"{name}s"


def end_sentence(text: str) -> str:
    """End `text` with one full stop: an amount's 'kr.' already ends it ('kr.' never 'kr..')."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else f"{text}."
