"""`pip install .` gives a working wheel: templates, definitions, data and migrations inside."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from workflow.engine.definitions import load_definitions

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]

CHECK = """
import sys
from pathlib import Path
import workflow
from workflow.engine.paths import resource_dir
site = Path(sys.argv[1]).resolve()
assert Path(workflow.__file__).resolve().is_relative_to(site), workflow.__file__
for name in ("templates", "states", "data", "migrations", "translations"):
    assert resource_dir(name).resolve().is_relative_to(site), name
from workflow.engine.definitions import load_definitions
print("processes", len(load_definitions()))
from workflow.app import create_app
app = create_app({"DATABASE_URL": sys.argv[2], "TESTING": True})
response = app.test_client().get("/login")
assert response.status_code == 200, response.status_code
print("login page", response.status_code)
from flask_babel import force_locale, gettext
with app.test_request_context(), force_locale("en"):
    assert gettext("Log ind") == "Log in", gettext("Log ind")
print("english ok")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "--disable-pip-version-check", "-w", str(out), str(ROOT)],
        check=True,
    )  # fmt: skip
    return next(out.glob("aftaleflow-*.whl"))


def test_wheel_carries_the_top_level_folders(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "workflow/_data/states/signature_initiative.toml",
        "workflow/_data/data/organisation.toml",
        "workflow/_data/data/electoral_periods.toml",
        "workflow/_data/templates/static/dkfds/css/dkfds.min.css",
        "workflow/_data/migrations/env.py",
        "workflow/_data/templates/base.html",
        "workflow/_data/translations/en/LC_MESSAGES/messages.po",
        "models/case.py",
    ):
        assert expected in names, expected
    assert not any(name.startswith("tests/") for name in names)


def test_installed_wheel_runs_without_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
         "--disable-pip-version-check", "--target", str(site), str(wheel)],
        check=True,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(site)}
    database = f"sqlite:///{tmp_path / 'installed.db'}"
    for command in (["init-db"], ["seed"]):
        done = subprocess.run(
            [str(site / "bin" / "aftaleflow"), "--database-url", database, *command],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    checked = subprocess.run(
        [sys.executable, "-c", CHECK, str(site), database],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    # Every process the checkout defines is loaded from the installed wheel.
    assert f"processes {len(load_definitions(ROOT / 'states'))}" in checked.stdout
