"""Cold start (issue 14): the libraries only some requests use are not imported when the app
starts, and the app is built with the garbage collector paused, then frozen.

Module presence is asserted, never timings (`python -m bench.cold_start` measures those).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workflow.startup import collector_paused

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.database_independent("imports and the collector, no database work")

# Each is imported by the feature that needs it, not by the app's start-up.
LAZY = {
    "authlib": "OpenID Connect (workflow.sso.oidc)",
    "joserfc": "OpenID Connect's ID tokens (Authlib)",
    "requests": "OpenID Connect's HTTP client (Authlib)",
    "saml2": "SAML (workflow.sso.saml)",
    "fpdf": "meeting documents",
    "docx": "meeting documents and attachments' text",
    "weasyprint": "PDF documents",
    "openpyxl": "spreadsheets",
    "pypdf": "attachments' text",
    "tomlkit": "the process designer's save",
    "icalendar": "the calendar feeds",
    "apscheduler": "the scheduler",
    "alembic": "the migrations (init-db)",
    "holidays": "Danish working days, on first use",
    "snowballstemmer": "search stems, on first use",
    "argon2": "password hashing (the first login or password change)",
    "transitions": "the state machines, built on the first transition",
}


def _modules_after(code: str, tmp_path: Path) -> set[str]:
    """The top-level packages imported after running `code` in a fresh interpreter."""
    listing = "import json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    script = f"{code}\n{listing}"
    env = {**os.environ, "AFTALEFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cold.db'}"}
    env.pop("SSO_CONFIG", None)
    env.pop("AFTALEFLOW_SSO_CONFIG", None)
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    return set(json.loads(run.stdout.strip().splitlines()[-1]))


def test_create_app_leaves_the_occasional_libraries_unimported(tmp_path):
    loaded = _modules_after(
        "from workflow.app import create_app\n"
        "create_app({'SECRET_KEY': 'x' * 40, 'TESTING': True})",
        tmp_path,
    )
    assert "flask" in loaded and "sqlalchemy" in loaded  # the app was built
    imported = {name: why for name, why in LAZY.items() if name in loaded}
    assert not imported, f"imported at start-up, though only needed for: {imported}"


def test_create_app_writes_no_url_builder(tmp_path):
    # Werkzeug's builders (two compiled functions per rule) are written on a rule's first
    # url_for (workflow.web.routing.LazyBuildRule), not for all 200-odd rules at start-up.
    code = (
        "from workflow.app import create_app\n"
        "from workflow.web.routing import LazyBuildRule\n"
        "app = create_app({'SECRET_KEY': 'x' * 40, 'TESTING': True})\n"
        "lazy = [r for r in app.url_map.iter_rules() if isinstance(r, LazyBuildRule)]\n"
        "assert len(lazy) > 200, len(lazy)\n"
        "written = [r.rule for r in lazy if 'build_first' not in r._build.__qualname__]\n"
        "assert not written, written\n"
        "import flask\n"
        "with app.test_request_context('/'):\n"
        "    assert flask.url_for('cases.detail', case_id=3) == '/sager/3'\n"
        "assert 'build_first' not in app.url_map._rules_by_endpoint['cases.detail'][0]"
        "._build_unknown.__qualname__\n"
    )
    _modules_after(code, tmp_path)


def test_the_command_line_leaves_alembic_and_the_app_unimported(tmp_path):
    # `aftaleflow serve` imports the command first; Alembic is for init-db only.
    loaded = _modules_after("import workflow.cli", tmp_path)
    assert "alembic" not in loaded
    assert "flask" not in loaded  # the app is imported by the commands that build it


def test_collector_paused_freezes_what_was_built_and_resumes():
    assert gc.isenabled()
    before = gc.get_freeze_count()
    try:
        with collector_paused():
            assert not gc.isenabled()
            built = [object() for _ in range(10)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(built)
    finally:
        gc.unfreeze()  # the test process's objects go back to the collector


def test_collector_paused_freezes_nothing_when_building_fails():
    assert gc.isenabled()
    before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("configuration error")
    assert gc.isenabled()
    assert gc.get_freeze_count() == before
