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
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, has_app_context, has_request_context
from flask_babel import Babel, get_locale, get_translations

from workflow.engine import formats
from workflow.engine.paths import resource_dir

DEFAULT_LOCALE = "da"
LOCALES = ("da", "en")
# Each language named in itself, so a user who reads only one can find it.
LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}
TIMEZONE = "Europe/Copenhagen"


def _(text: str, **variables: Any) -> str:
    """Translate the Danish `text` into this request's language (typed gettext)."""
    return str(flask_babel.gettext(text, **variables))


def _l(text: str, **variables: Any) -> str:
    """Translate `text` when it is shown, not when it is defined (module level, forms)."""
    return cast(str, flask_babel.lazy_gettext(text, **variables))


class Labelled(Protocol):
    """A process definition part with a Danish label and an English one."""

    @property
    def label(self) -> str: ...

    @property
    def label_en(self) -> str: ...


def select_locale() -> str:
    """The logged-in user's language, else Danish."""
    # Flask-Login's proxy directly: auth.login itself translates its messages through here.
    user = flask_login.current_user if has_request_context() else None
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
    if not has_request_context():
        return DEFAULT_LOCALE
    locale = get_locale()
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
    # Read through `g` once: each use of the proxy costs more calls than the look-up itself,
    # and a template translates a hundred strings. Flask-Babel keeps the request's locale on
    # `g._flask_babel.babel_locale` (`force_locale` replaces it): while that is the locale the
    # catalogue was kept for, the catalogue is this request's; otherwise ask Flask-Babel.
    if has_app_context():
        found = g._get_current_object().__dict__
        cached = found.get("aftaleflow_translations")
        babel = found.get("_flask_babel")
        if cached is not None and cached[0] is getattr(babel, "babel_locale", None):
            return cached[1]
    locale = get_locale()
    if cached is None or cached[0] is not locale:
        cached = (locale, get_translations())
        g.aftaleflow_translations = cached
    return cached[1]


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
    app.jinja_env.globals.update(
        label=label,
        pick=pick,
        current_locale=current_locale,
        language_names=LANGUAGE_NAMES,
        meeting_title=meeting_title,
    )
