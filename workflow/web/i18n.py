"""Danish first, English per user: Flask-Babel, compiled catalogues and local formats.

Write user-visible strings in Danish and wrap them: `_("…")` in Python
(`from flask_babel import gettext as _`, `lazy_gettext` at module level) and `{{ _("…") }}`
in templates. `pybabel extract -F babel.cfg -o translations/messages.pot .` collects them;
`translations/en/LC_MESSAGES/messages.po` holds the English. The `.mo` files are built by
`make install` and, when missing or older than their `.po`, by the app at start-up.
"""

from __future__ import annotations

import hashlib
import tempfile
from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, cast

import flask_babel
import flask_login  # type: ignore[import-untyped,unused-ignore]
from babel import Locale
from flask import Flask, g
from flask.globals import _cv_app, _cv_request
from flask_babel import Babel, get_locale, get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from workflow.engine import formats
from workflow.engine.paths import resource_dir

DEFAULT_LOCALE = "da"
LOCALES = ("da", "en")
# Each language named in itself, so a user who reads only one can find it.
LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}
TIMEZONE = "Europe/Copenhagen"


def _(text: str, **variables: Any) -> str:
    """Translate the Danish `text` into this request's language (typed gettext; the same
    answer as Flask-Babel's `gettext`, from the catalogue kept for the request)."""
    translated = str(_translations().ugettext(text))
    return translated % variables if variables else translated


def _l(text: str, **variables: Any) -> str:
    """Translate `text` when it is shown, not when it is defined (module level, forms)."""
    return cast(str, LazyString(_, text, **variables))


class Labelled(Protocol):
    """A process definition part with a Danish label and an English one."""

    @property
    def label(self) -> str: ...

    @property
    def label_en(self) -> str: ...


def _babel_state() -> Any:
    """Flask-Babel's state for this app context (`g._flask_babel`: the locale it chose for
    the request, or the one `force_locale` set), or None outside one or before its first use."""
    context = _cv_app.get(None)
    return None if context is None else getattr(context.g, "_flask_babel", None)


def _locale() -> Locale | None:
    """Flask-Babel's `get_locale()`, read straight from its state once it has chosen (a page
    asks for the language dozens of times; the proxies behind `get_locale()` cost more than
    the answer)."""
    locale: Locale | None = getattr(_babel_state(), "babel_locale", None)
    return locale if locale is not None else get_locale()


def select_locale() -> str:
    """The logged-in user's language, else Danish."""
    # Flask-Login's proxy directly: auth.login itself translates its messages through here.
    user = flask_login.current_user if _cv_request.get(None) is not None else None
    authenticated = user is not None and user.is_authenticated
    locale = getattr(user, "locale", DEFAULT_LOCALE) if authenticated else DEFAULT_LOCALE
    return locale if locale in LOCALES else DEFAULT_LOCALE


def user_locale(user: object) -> str:
    """The language a user chose, for what they read without a session (feeds, mails)."""
    locale = getattr(user, "locale", DEFAULT_LOCALE)
    return locale if locale in LOCALES else DEFAULT_LOCALE


def in_language_of(user: object) -> AbstractContextManager[None]:
    """Render in the user's language within this block (a feed fetched without a login)."""
    return cast(AbstractContextManager[None], flask_babel.force_locale(user_locale(user)))


def current_locale() -> str:
    """The language of this request ('da' outside a request)."""
    if _cv_request.get(None) is None:
        return DEFAULT_LOCALE
    locale = _locale()
    return locale.language if locale is not None else DEFAULT_LOCALE


def is_english() -> bool:
    """Whether this request is shown in English."""
    return current_locale() == "en"


def pick(danish: str, english: str) -> str:
    """Choose the engine's Danish or English wording for this request."""
    return english if is_english() and english else danish


def label(spec: Labelled) -> str:
    """A state's, transition's or field's label in this request's language."""
    return pick(spec.label, spec.label_en)


def format_date(value: date | datetime) -> str:
    """'13. november 2020', or '13 November 2020' in English (Danish calendar day)."""
    return formats.format_date(value, current_locale())


def format_short_date(value: date | datetime) -> str:
    """'13.11.2020', or '13/11/2020' in English."""
    return formats.format_short_date(value, current_locale())


def month_name(month: int) -> str:
    """'januar' (English 'January') for 1."""
    return formats.month_name(month, current_locale())


def format_datetime(value: datetime) -> str:
    """'13. november 2020 kl. 09:30', or '13 November 2020 at 09:30', in Danish time."""
    return formats.format_datetime(value, current_locale())


def format_amount(value: Decimal | int | float) -> str:
    """'2.400.000 kr.' or '1.234,50 kr.', or 'DKK 2,400,000' in English."""
    return formats.format_amount(value, current_locale())


def format_number(value: Decimal | int | float) -> str:
    """'2.400.000' (English '2,400,000'), øre only when there are any."""
    return formats.format_number(value, current_locale())


def genitive(name: str) -> str:
    """A body's name in the genitive in this request's language: 'SKU's', 'TSS''."""
    return formats.genitive(name, current_locale())


def compile_catalogues(source: Path) -> Path:
    """Build each missing or stale `.mo` from its `.po`; return the folder that holds them.

    The `.mo` files go beside the `.po` files, or (read-only installation) into a folder in
    the temporary directory keyed by the source path.
    """
    catalogues = sorted(source.glob("*/LC_MESSAGES/messages.po"))
    try:
        for po in catalogues:
            _compile(po, po.with_suffix(".mo"))
        return source
    except OSError:
        digest = hashlib.sha256(str(source).encode()).hexdigest()[:12]
        target = Path(tempfile.gettempdir()) / f"aftaleflow-translations-{digest}"
        for po in catalogues:
            _compile(po, target / po.relative_to(source).with_suffix(".mo"))
        return target


def _compile(po: Path, mo: Path) -> None:
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return
    # Imported here: an installed app ships its catalogues compiled, so a start seldom needs
    # Babel's readers and writers (about 3 ms of every server start, issue 14).
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a worker starting alongside never reads half a file.
    partial = mo.with_name(f".{mo.name}.{id(catalog)}.tmp")
    with partial.open("wb") as handle:
        write_mo(handle, catalog)
    partial.replace(mo)


# The title a meeting gets when its planner gives none (workflow.meetings.operations).
DEFAULT_MEETING_TITLE = "Møde i "


class _Titled(Protocol):
    @property
    def title(self) -> str | None: ...

    @property
    def body(self) -> Any: ...


def meeting_title(meeting: _Titled) -> str:
    """A meeting's title in the reader's language: the default title ("Møde i <organ>", or
    none) reads as the language's own; a title the planner wrote is shown as written."""
    title = (meeting.title or "").strip()
    if title and not title.startswith(DEFAULT_MEETING_TITLE):
        return title
    name = title[len(DEFAULT_MEETING_TITLE) :] if title else meeting.body.name
    return _("Møde i %(body)s", body=name)


def _translations() -> Any:
    """This request's catalogue in its current language (`force_locale` may change it)."""
    context = _cv_app.get(None)
    if context is None:
        return get_translations()  # no app context: Flask-Babel's null catalogue
    locale = getattr(getattr(context.g, "_flask_babel", None), "babel_locale", None)
    cached = getattr(context.g, "aftaleflow_translations", None)
    if locale is None or cached is None or cached[0] is not locale:
        cached = (get_locale(), get_translations())
        g.aftaleflow_translations = cached
    return cached[1]


def ngettext(singular: str, plural: str, num: int) -> str:
    """The singular or plural of a message for `num`, with `num` put in (`%(num)d`), as a
    template's `ngettext` gives it."""
    return cast(str, _translations().ungettext(singular, plural, num) % {"num": num})


@pass_context
def _template_gettext(context: Context, text: str, **variables: Any) -> str:
    """`{{ _("…") }}` in a template: what Jinja's new-style gettext answers (Markup when the
    template escapes, always formatted with the variables, so `%%` reads `%`), without its
    alias and second indirection (a page translates a hundred strings)."""
    translated = _translations().ugettext(text)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)
    if not variables and "%" not in translated:
        return cast(str, translated)
    return cast(str, translated % variables)


def init_i18n(app: Flask) -> None:
    """Set up Flask-Babel with Danish as default and the compiled catalogues."""
    directory = compile_catalogues(resource_dir("translations"))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    Babel(app, locale_selector=select_locale)
    # Flask-Babel looks the catalogue up again for every string a template translates (a
    # dashboard translates hundreds); look it up once per request and language instead.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)
    app.jinja_env.globals.update(
        label=label,
        pick=pick,
        current_locale=current_locale,
        language_names=LANGUAGE_NAMES,
        meeting_title=meeting_title,
    )
