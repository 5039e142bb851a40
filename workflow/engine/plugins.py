"""Domains plug into the engine at start-up; the engine never imports them.

Each domain that adds guards, routing predicates, on-enter actions or meeting outcomes names
the module that registers them under the `aftaleflow.domains` entry-point group in
pyproject.toml (the way pytest and Flask load their plugins). `install_domains()` loads them
once per process; the definition loader calls it before it checks the names a definition
uses, so any way into the engine (app, CLI, scheduler, tests) sees the same registries.
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "aftaleflow.domains"

_installed = False
_loading = False  # true only for the thread holding _lock, while it loads the domains
_lock = threading.RLock()


class DomainsMissing(RuntimeError):
    """No domain registered itself: the package is not installed (its entry points are missing)."""


def install_domains() -> None:
    """Import every registered domain module once, filling the engine's registries."""
    global _installed, _loading
    if _installed:
        return
    # The first requests of a fresh server arrive at once: the others wait until every domain
    # is loaded, instead of checking a definition against half-filled registries.
    with _lock:
        if _installed or _loading:
            return  # done meanwhile, or a domain module of ours loads definitions itself
        _loading = True
        try:
            found = entry_points(group=ENTRY_POINT_GROUP)
            if not found:
                raise DomainsMissing(
                    "Ingen domæner er registreret hos motoren. Installer pakken (make install "
                    "eller pip install -e .), så dens entry points under 'aftaleflow.domains' "
                    "findes."
                )
            for entry in found:
                entry.load()
            _installed = True
        finally:
            _loading = False
