"""gettext through Flask-Babel when the app has it, else the Danish source text."""

from __future__ import annotations

from typing import Any

from flask import current_app


def gettext(text: str, **variables: Any) -> str:
    """Translate `text` for the request's locale (Danish source strings)."""
    if "babel" in current_app.extensions:
        from flask_babel import gettext as babel_gettext

        return str(babel_gettext(text, **variables))
    return text % variables if variables else text


_ = gettext
