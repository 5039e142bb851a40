"""A notification's text in Danish and in English, composed when the notification is written.

A notification is written to the outbox in the transaction of the change that caused it, long
before anyone reads it; its recipient's language is chosen when it is mailed (the recipient's
`locale`, read with the address) or shown (the reader's language). So each text is written in
both languages at once: `bilingual("Høring: %(title)s", title=…)` puts the variables into the
Danish message and into its English translation from the catalogue
(`translations/en/LC_MESSAGES/messages.po`; the message is extracted with `-k bilingual`).

A variable is a `Text` (its Danish and English: a label, a date spelt by `day` or `moment`)
or anything else (the same in both: a case title, a name). No request, no app: the scheduler
writes notifications too.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from io import BytesIO

from babel.support import NullTranslations, Translations

from workflow.engine import formats
from workflow.engine.paths import resource_dir


class Text:
    """One text in Danish (`da`) and English (`en`); not changed once made.

    A plain class with slots rather than a frozen dataclass: the sweep makes two for each of
    thousands of reminders, and a frozen dataclass's constructor costs twice as much."""

    __slots__ = ("da", "en")

    def __init__(self, da: str, en: str) -> None:
        self.da = da
        self.en = en

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.da, self.en) == (other.da, other.en)

    def __hash__(self) -> int:
        return hash((self.da, self.en))

    def __repr__(self) -> str:
        return f"Text(da={self.da!r}, en={self.en!r})"

    def __add__(self, other: Text | str) -> Text:
        if isinstance(other, str):
            return Text(self.da + other, self.en + other)
        return Text(self.da + other.da, self.en + other.en)

    def __radd__(self, other: str) -> Text:
        return Text(other + self.da, other + self.en)

    def pick(self, locale: str) -> str:
        """The text in `locale` ('en' English, anything else Danish)."""
        return self.en if locale == formats.ENGLISH else self.da


EMPTY = Text("", "")


def same(text: str) -> Text:
    """A text that reads the same in both languages (a name, a title, a link)."""
    return Text(text, text)


def labelled(danish: str, english: str) -> Text:
    """A definition's label and its English one (the Danish when it has none)."""
    return Text(danish, english or danish)


def join(separator: str, parts: list[Text]) -> Text:
    """The parts joined by `separator`, in each language."""
    return Text(separator.join(p.da for p in parts), separator.join(p.en for p in parts))


@functools.cache
def _english() -> NullTranslations:
    """The English catalogue: the compiled `.mo` when it is current, else the `.po` itself
    (the web app compiles it at start-up; the scheduler or a read-only install may not)."""
    folder = resource_dir("translations") / "en" / "LC_MESSAGES"
    po, mo = folder / "messages.po", folder / "messages.mo"
    try:
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                return Translations(handle)
        # Babel's .po reader and .mo writer only when the compiled catalogue is stale.
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as handle:
            catalog = read_po(handle, locale="en")
    except OSError:
        return NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def english(message: str) -> str:
    """The English of a Danish catalogue message (the Danish itself when it has none)."""
    return str(_english().ugettext(message))


def N_(message: str) -> str:
    """`message` unchanged: marks a catalogue message kept in a constant (extracted with
    `-k N_`), for a `Partial` or a later `bilingual`."""
    return message


def day(value: date | datetime) -> Text:
    """'13. november 2020' and '13 November 2020' (the Danish calendar day)."""
    return Text(formats.format_date(value), formats.format_date(value, formats.ENGLISH))


def moment(value: datetime) -> Text:
    """'13. november 2020 kl. 09:30' and '13 November 2020 at 09:30', in Danish time."""
    return Text(formats.format_datetime(value), formats.format_datetime(value, formats.ENGLISH))


def bilingual(message: str, **variables: object) -> Text:
    """The Danish `message` and its English, each with the variables put in (`%(name)s`)."""
    translated = _TRANSLATED.get(message)
    if translated is None:
        translated = _TRANSLATED[message] = english(message)
    if not variables:
        return Text(message, translated)
    # The sweep writes thousands: one pass over the variables, a copy only when a variable
    # differs by language.
    danish: dict[str, object] = variables
    in_english: dict[str, object] = variables
    for name, value in variables.items():
        if value.__class__ is Text:
            if in_english is variables:
                danish, in_english = dict(variables), dict(variables)
            danish[name] = value.da
            in_english[name] = value.en
    return Text(message % danish, translated % in_english)


_TRANSLATED: dict[str, str] = {}

# Stands for the variable a `Partial` leaves open; no label, date or name contains it.
_HOLE = "\x00"


class Partial:
    """A bilingual message with every variable but one (`hole`) put in, completed per row by
    `fill`. The sweep's reminders of one due moment share what, when and which body and differ
    by the case title alone: the message is translated and formatted once, and each reminder
    only joins its title into the pieces. `fill(v)` is exactly `bilingual(message, …, hole=v)`
    for a string `v` (checked once here; when it cannot be, `fill` formats in full)."""

    __slots__ = ("_danish", "_english", "_hole", "_message", "_variables")

    def __init__(self, message: str, hole: str, **variables: object) -> None:
        self._message, self._hole, self._variables = message, hole, variables
        holed = bilingual(message, **variables, **{hole: _HOLE})
        self._danish: list[str] | None = holed.da.split(_HOLE)
        self._english: list[str] | None = holed.en.split(_HOLE)
        probe = "%(x)s \x01%"
        if self.fill(probe) != bilingual(message, **variables, **{hole: probe}):
            self._danish = self._english = None  # a variable holds the hole, or `%r` is used

    def fill(self, value: str) -> Text:
        """The message with `value` in the hole, in Danish and English."""
        if self._danish is None or self._english is None:
            return bilingual(self._message, **self._variables, **{self._hole: value})
        return Text(value.join(self._danish), value.join(self._english))
