"""Validated values at the boundary, shared by the web forms and the API.

Pure parsers without Flask: each takes what a person or a client sent and returns the value
the model stores, or raises `InvalidValue` with one Danish and one English sentence that say
what is wrong and what to do. The web layer wraps them as WTForms fields
(`workflow/web/fields.py`); the API's JSON schemas use the patterns and bounds below and its
handlers call the same parsers.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

# One bound for every id in a URL or a payload: PostgreSQL's INTEGER, the smaller of the two
# databases' limits (SQLite's is 2**63 - 1).
ID_MAX = 2**31 - 1

# Control characters: C0, DEL and C1, and the Unicode line and paragraph separators, which
# end a line in e-mail headers, iCal and many readers just as CR/LF do.
_CONTROL = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029"
# Long text keeps its line breaks and tabs (CR only as part of a line break; see long_text).
_LONG_TEXT_CONTROL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u2028\\u2029"
# The same rules as regular expressions both Python and JSON Schema (ECMA-262) understand.
# In Python `$` also matches before a final line break: match them with fullmatch().
SINGLE_LINE_PATTERN = f"^[^{_CONTROL}]*$"
LONG_TEXT_PATTERN = f"^[^{_LONG_TEXT_CONTROL}]*$"
_SINGLE_LINE = re.compile(SINGLE_LINE_PATTERN)
_LONG_TEXT = re.compile(LONG_TEXT_PATTERN)
_CONTROL_CHARACTER = re.compile(f"[{_CONTROL}]")

WEB_SCHEMES = ("http", "https")
URL_MAX_LENGTH = 500

# Dates people work with: far enough either way for history and plans, near enough that a
# series, a deadline or a time zone added to them stays inside the calendar (years 1–9999).
FIRST_YEAR = 1900
LAST_YEAR = 2200

# Amounts in kroner as the columns store them: Numeric(14, 2) holds up to 999 999 999 999,99.
AMOUNT_DIGITS = 14
AMOUNT_PLACES = 2


class InvalidValue(ValueError):
    """A value a person or client sent that cannot be used, said in Danish and English."""

    def __init__(self, message_da: str, message_en: str) -> None:
        super().__init__(message_da)
        self.message_da = message_da
        self.message_en = message_en


def single_line(value: str, max_length: int | None = None) -> str:
    """A one-line text (a title, a name, a note): no line breaks or other control characters."""
    if _SINGLE_LINE.fullmatch(value) is None:
        raise InvalidValue(
            "Teksten må ikke indeholde linjeskift eller andre kontroltegn. Skriv den på én linje.",
            "The text must not contain line breaks or other control characters. "
            "Write it on one line.",
        )
    _check_length(value, max_length)
    return value


def long_text(value: str, max_length: int | None = None) -> str:
    """A text of several lines: line breaks (CR/LF as sent by browsers become LF) and tabs."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if _LONG_TEXT.fullmatch(value) is None:
        raise InvalidValue(
            "Teksten indeholder kontroltegn. Kun linjeskift og tabulatorer er tilladt; "
            "skriv teksten igen eller sæt den ind som ren tekst.",
            "The text contains control characters. Only line breaks and tabs are allowed; "
            "type it again or paste it as plain text.",
        )
    _check_length(value, max_length)
    return value


def file_name(value: str) -> str:
    """A file name as a browser sent it, without folders and control characters.

    Names are only shown and offered back on download, so a NUL or line break is dropped
    rather than refused: the file itself is what the user meant to send.
    """
    base = value.replace("\\", "/").rsplit("/", 1)[-1]
    return _CONTROL_CHARACTER.sub("", base).strip()


def _check_length(value: str, max_length: int | None) -> None:
    if max_length is not None and len(value) > max_length:
        raise InvalidValue(
            f"Teksten er for lang (højst {max_length} tegn). Gør den kortere.",
            f"The text is too long (at most {max_length} characters). Shorten it.",
        )


def record_id(value: object) -> int:
    """The id of a stored row: a whole number from 1 to ID_MAX."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,20}\s*", value):
        number = int(value)
    if number is None or not 1 <= number <= ID_MAX:
        raise InvalidValue(
            "Valget findes ikke. Vælg en af mulighederne på listen.",
            "That choice does not exist. Pick one of the options in the list.",
        )
    return number


def parse_id(value: object) -> int | None:
    """The id (or count, version, page) in `value`, or None if it is not one in range."""
    try:
        return record_id(value)
    except InvalidValue:
        return None


def is_record_id(value: object) -> bool:
    """Whether `value` is a whole number in the range of an id."""
    try:
        record_id(value)
    except InvalidValue:
        return False
    return True


def amount(
    value: Decimal | int | str,
    *,
    digits: int = AMOUNT_DIGITS,
    places: int = AMOUNT_PLACES,
    minimum: Decimal | None = Decimal(0),
) -> Decimal:
    """An amount that fits a Numeric(digits, places) column, rounded to `places` decimals,
    and not below `minimum` (None: negative amounts allowed)."""
    try:
        number = Decimal(value)
        if number.is_nan():
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidValue(
            "Skriv beløbet som et tal, fx 12500 eller 12.500,50.",
            "Write the amount as a number, e.g. 12500 or 12,500.50.",
        ) from None
    largest = Decimal(10) ** (digits - places) - Decimal(1).scaleb(-places)
    if not number.is_finite() or abs(number) > largest:
        english = f"{largest:,.{places}f}"
        danish = english.replace(",", " ").replace(".", ",").replace(" ", ".")
        raise InvalidValue(
            f"Beløbet er for stort. Det største beløb, der kan gemmes, er {danish} kr.",
            f"The amount is too large. The largest amount that can be saved is {english} DKK.",
        )
    if minimum is not None and number < minimum:
        raise InvalidValue(
            "Beløbet kan ikke være negativt. Skriv 0 eller mere.",
            "The amount cannot be negative. Write 0 or more.",
        )
    return number.quantize(Decimal(1).scaleb(-places))


def calendar_date(value: str) -> date:
    """A real calendar date written YYYY-MM-DD (what a date input and the API send), within
    the years the app plans with."""
    return within_calendar(iso_date(value))


def iso_date(value: str) -> date:
    """A date that exists, written YYYY-MM-DD."""
    text = value.strip()
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(
            "Skriv en gyldig dato som ÅÅÅÅ-MM-DD, fx 2021-03-31.",
            "Write a valid date as YYYY-MM-DD, e.g. 2021-03-31.",
        ) from None


def within_calendar(day: date) -> date:
    """A date between FIRST_YEAR and LAST_YEAR (a year like 9999 is a typing error)."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidValue(
            f"Datoen skal ligge mellem år {FIRST_YEAR} og {LAST_YEAR}. Ret årstallet.",
            f"The date must be between the years {FIRST_YEAR} and {LAST_YEAR}. Correct the year.",
        )
    return day


def web_url(value: str, max_length: int = URL_MAX_LENGTH) -> str:
    """A link people may follow: an absolute http or https address with a host."""
    text = single_line(value.strip(), max_length)
    if not is_web_url(text):
        raise InvalidValue(
            "Linket skal være en webadresse, der begynder med https:// eller http://.",
            "The link must be a web address starting with https:// or http://.",
        )
    return text


def is_web_url(value: str) -> bool:
    """Whether `value` is an absolute http(s) address with a host and no control characters."""
    if _SINGLE_LINE.fullmatch(value) is None or value != value.strip() or " " in value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)


def safe_link(value: str | None) -> str | None:
    """A stored link if it is safe to offer as a link (href, iCal, documents); else None.

    Links saved before the forms checked them may hold `javascript:` or worse; they are
    shown as nothing rather than followed.
    """
    return value if value and is_web_url(value) else None
