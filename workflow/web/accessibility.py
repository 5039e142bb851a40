"""The accessibility statement (tilgængelighedserklæring), open to everyone without login.

Its structure follows Digitaliseringsstyrelsen's format for Danish public bodies: which site,
compliance status, known non-accessible content, feedback, enforcement and how it was made.
"""

from __future__ import annotations

import os
from datetime import date

from flask import Blueprint, render_template

from workflow.web.i18n import _

bp = Blueprint("accessibility", __name__)

CONTACT_ENV = "AFTALEFLOW_ACCESSIBILITY_CONTACT"
# When the statement was prepared and last reviewed; change it when the site is re-tested.
PREPARED = date(2026, 11, 22)
REVIEWED = date(2026, 11, 22)


def contact() -> str:
    """Where to report an accessibility problem: $AFTALEFLOW_ACCESSIBILITY_CONTACT, else the
    secretariat of the health agreement."""
    configured = os.environ.get(CONTACT_ENV, "").strip()
    return configured or _("Sundhedsaftalens sekretariat i Region Hovedstaden")


@bp.get("/tilgaengelighed")
def statement() -> str:
    """Show the accessibility statement."""
    return render_template(
        "accessibility/statement.html",
        contact=contact(),
        prepared=PREPARED,
        reviewed=REVIEWED,
    )
