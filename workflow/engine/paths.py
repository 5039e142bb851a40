"""Locate templates, process definitions, data files and migrations, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

# This file is workflow/engine/paths.py; the package is one folder up.
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
# A wheel carries the top-level folders inside the package (see pyproject force-include).
_INSTALLED_DATA = _PACKAGE_DIR / "_data"
_CHECKOUT_ROOT = _PACKAGE_DIR.parent


def resource_dir(name: str) -> Path:
    """Return the folder `name` (templates, states, data, migrations) wherever it lives."""
    installed = _INSTALLED_DATA / name
    if installed.is_dir():
        return installed
    checkout = _CHECKOUT_ROOT / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"Mappen '{name}' blev ikke fundet i {_INSTALLED_DATA} eller {_CHECKOUT_ROOT}; "
        "geninstaller pakken."
    )
