"""The packaged service: the Containerfile (multi-stage, non-root, gunicorn), the systemd units
and the gunicorn settings. The image cannot be built here (no base image can be pulled), so
the Containerfile is checked statically; the units are checked with `systemd-analyze verify`;
and gunicorn runs with the shipped settings: several workers answer, /readyz follows the
scheduler, /metrics adds up every worker's requests, and the logs are JSON lines with ids."""

from __future__ import annotations

import configparser
import json
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from support.mail import free_port

from workflow.cli import main as cli
from workflow.web import EXTENSION_KEY, Database

pytestmark = pytest.mark.database_independent(
    "checks the packaging files; gunicorn serves its own SQLite file"
)

ROOT = Path(__file__).resolve().parent.parent
CONTAINERFILE = ROOT / "Containerfile"
UNITS = ROOT / "deploy" / "systemd"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
BIN = Path(sys.executable).parent
TOKEN = "t" * 40


def _instructions(text: str) -> list[tuple[str, str]]:
    """The Containerfile's instructions (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _space, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _stages(text: str) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for word, rest in _instructions(text):
        if word == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((word, rest))
    return stages


def test_the_containerfile_builds_in_one_stage_and_runs_in_another_as_non_root():
    stages = _stages(CONTAINERFILE.read_text("utf-8"))
    assert len(stages) >= 2
    run = stages[-1]
    users = [rest for word, rest in run if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    copies = [rest for word, rest in run if word == "COPY"]
    assert any(rest.startswith("--from=build /opt/aftaleflow") for rest in copies)
    assert not any(word == "RUN" and "pip install" in rest for word, rest in run)
    cmd = json.loads(next(rest for word, rest in run if word == "CMD"))
    assert cmd[0] == "gunicorn" and cmd[-1] == "workflow.wsgi:app"
    assert "/etc/aftaleflow/gunicorn.conf.py" in cmd
    health = next(rest for word, rest in run if word == "HEALTHCHECK")
    assert "/healthz" in health
    env = " ".join(rest for word, rest in run if word == "ENV")
    assert "PROMETHEUS_MULTIPROC_DIR=/run/aftaleflow/metrics" in env


def test_everything_the_containerfile_copies_is_in_the_checkout():
    for word, rest in _instructions(CONTAINERFILE.read_text("utf-8")):
        if word != "COPY" or rest.startswith("--from"):
            continue
        *sources, _target = rest.split()
        for source in sources:
            assert (ROOT / source).exists(), source


def test_the_containerfile_pins_what_it_installs_as_the_project_does():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    pinned = {
        re.split(r"[=\[]", spec)[0].lower(): spec
        for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    }
    text = CONTAINERFILE.read_text("utf-8")
    for spec in re.findall(r"pip install ((?:[\w-]+==[\w.]+ ?)+)", text)[0].split():
        name = spec.split("==")[0].lower()
        assert pinned[name] == spec, (name, spec)
    assert pinned["gunicorn"].startswith("gunicorn==")


def test_the_container_smoke_script_is_valid_shell():
    script = ROOT / "deploy" / "container-smoke.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["sh", "-n", str(script)], check=True, timeout=30)
    text = script.read_text("utf-8")
    for step in ("init-db", "scheduler --once", "/readyz", "/metrics", "id -u", "render_pdf"):
        assert step in text


def test_the_image_has_what_the_pdf_documents_need():
    """WeasyPrint loads pango at run time: the run stage installs it, and both smokes render."""
    run_stage = CONTAINERFILE.read_text("utf-8").split(" AS run", 1)[1]
    for library in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"):
        assert library in run_stage, library
    assert "render_pdf" in (ROOT / "deploy" / "ci-image.sh").read_text("utf-8")


def test_the_image_has_what_saml_single_sign_on_needs():
    """pysaml2 shells out to xmlsec1: without it a SAML deployment cannot start."""
    run_stage = CONTAINERFILE.read_text("utf-8").split(" AS run", 1)[1]
    assert "xmlsec1" in run_stage
    assert "xmlsec1 --version" in (ROOT / "deploy" / "ci-image.sh").read_text("utf-8")


def test_ci_builds_and_smoke_tests_the_image_with_a_chroot_fallback():
    script = ROOT / "deploy" / "ci-image.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    text = script.read_text("utf-8")
    for step in (
        "debootstrap",
        "podman import",
        "--isolation=chroot",
        "PYTHON_IMAGE=",
        "deploy/container-smoke.sh",
        "--userspec=",
        "init-db",
        "/etc/aftaleflow/gunicorn.conf.py",
        "scheduler --once",
        "= 503",
        "= 200",
        "= 401",
        "Authorization: Bearer",
        "AFTALEFLOW_CI_CONTAINER",
        "mode: containers",
        "mode: chroot",
    ):
        assert step in text, step
    # CI runs it by default; AFTALEFLOW_CI_CONTAINER=0 is the way to skip it.
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "\ndeploy/ci-image.sh\n" in ci
    skipped = subprocess.run(
        [str(script)],
        env={**os.environ, "AFTALEFLOW_CI_CONTAINER": "0"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "skipped" in skipped.stdout


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def test_the_units_run_the_web_and_the_scheduler_unprivileged():
    web = _unit("aftaleflow-web.service")["Service"]
    scheduler = _unit("aftaleflow-scheduler.service")["Service"]
    for service in (web, scheduler):
        assert service["User"] == "aftaleflow"
        assert service["NoNewPrivileges"] == "yes"
    for name in ("aftaleflow-web.service", "aftaleflow-scheduler.service"):
        lines = (UNITS / name).read_text("utf-8").splitlines()
        assert "Environment=PROMETHEUS_MULTIPROC_DIR=/run/aftaleflow/metrics" in lines
    assert (
        "gunicorn --config /etc/aftaleflow/gunicorn.conf.py workflow.wsgi:app" in web["ExecStart"]
    )
    # The scheduler gives up its lease on SIGINT (as on Ctrl+C), so a standby takes over.
    assert scheduler["ExecStart"].endswith("aftaleflow scheduler")
    assert scheduler["KillSignal"] == "SIGINT"
    assert "scheduler" in cli.commands
    tmpfiles = (UNITS / "aftaleflow.conf").read_text("utf-8")
    assert "d /run/aftaleflow/metrics 0750 aftaleflow aftaleflow -" in tmpfiles


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
@pytest.mark.parametrize("name", ["aftaleflow-web.service", "aftaleflow-scheduler.service"])
def test_systemd_accepts_the_units(tmp_path, name):
    """`systemd-analyze verify` on a copy whose paths point into this checkout's environment
    (the units name /opt/aftaleflow and /etc/aftaleflow, which this machine does not have)."""
    text = (UNITS / name).read_text("utf-8")
    text = text.replace("/opt/aftaleflow/bin/", f"{BIN}/")
    text = text.replace("/etc/aftaleflow/gunicorn.conf.py", str(GUNICORN_CONF))
    text = text.replace(
        "EnvironmentFile=/etc/aftaleflow/env", "EnvironmentFile=-/etc/aftaleflow/env"
    )
    (tmp_path / name).write_text(text, "utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / name)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    problems = [
        line for line in (done.stdout + done.stderr).splitlines()
        if name in line or "Unknown" in line or "not executable" in line
    ]  # fmt: skip
    assert done.returncode == 0 and problems == [], done.stdout + done.stderr


# --- gunicorn with the shipped settings ---------------------------------------------------


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """gunicorn -c deploy/gunicorn.conf.py workflow.wsgi:app with two workers on a migrated
    SQLite database; yields its address, its environment and its log file."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    port = free_port()
    env = {
        **os.environ,
        "AFTALEFLOW_DATABASE_URL": url,
        "AFTALEFLOW_BIND": f"127.0.0.1:{port}",
        "AFTALEFLOW_WORKERS": "2",
        "AFTALEFLOW_METRICS_TOKEN": TOKEN,
        "AFTALEFLOW_LOG_FORMAT": "json",
        "AFTALEFLOW_SECRET_KEY": "s" * 64,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "AFTALEFLOW_METRICS_RESET": "ja",
    }
    subprocess.run([str(BIN / "aftaleflow"), "init-db"], env=env, check=True, capture_output=True,
                   timeout=300)  # fmt: skip
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", str(GUNICORN_CONF), "workflow.wsgi:app"],
            env=env, stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base, env, log
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def test_gunicorn_serves_with_the_shipped_settings(served):
    base, env, log = served
    for _ in range(20):
        assert _get(base + "/healthz") == (200, "ok")
    status, body = _get(base + "/readyz")
    assert status == 503 and json.loads(body)["checks"]["scheduler"]["ok"] is False
    subprocess.run([str(BIN / "aftaleflow"), "scheduler", "--once"], env=env, check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    status, body = _get(base + "/readyz")
    assert status == 200, body
    assert json.loads(body)["status"] == "ready"

    assert _get(base + "/metrics")[0] == 401
    status, text = _get(base + "/metrics", TOKEN)
    assert status == 200
    found = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    ok = frozenset({"endpoint": "healthz", "method": "GET", "status": "200"}.items())
    # Every worker's requests, whichever worker answered the scrape.
    assert found[("aftaleflow_http_requests_total", ok)] >= 20
    assert found[("aftaleflow_scheduler_up", frozenset())] == 1
    pids = {path.name for path in Path(env["PROMETHEUS_MULTIPROC_DIR"]).glob("counter_*.db")}
    assert len(pids) >= 1

    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    access = [json.loads(line) for line in lines if '"aftaleflow.access"' in line]
    assert len(access) >= 20
    assert all(re.fullmatch(r"[0-9a-f]{32}", entry["request_id"]) for entry in access)
    assert {entry["route"] for entry in access} >= {"/healthz", "/readyz", "/metrics"}


def _shipped_settings(monkeypatch: pytest.MonkeyPatch, metrics: Path) -> dict[str, Any]:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics))
    monkeypatch.delenv("AFTALEFLOW_METRICS_RESET", raising=False)
    return runpy.run_path(str(GUNICORN_CONF))


def test_the_shipped_settings_build_the_app_once_in_the_master(monkeypatch, tmp_path):
    # Cold start (issue 14): built in every worker, N workers import the app at once.
    metrics = tmp_path / "run" / "metrics"
    settings = _shipped_settings(monkeypatch, metrics)
    assert settings["preload_app"] is True
    # The preloaded app makes its metrics before on_starting runs: the folder is there already.
    assert metrics.is_dir()
    (metrics / "counter_1.db").write_bytes(b"")
    settings["on_starting"](None)
    assert (metrics / "counter_1.db").exists()  # emptied only when asked to
    monkeypatch.setenv("AFTALEFLOW_METRICS_RESET", "ja")
    settings["on_starting"](None)
    assert list(metrics.iterdir()) == []


def test_a_forked_worker_forgets_the_masters_connections(monkeypatch, tmp_path):
    settings = _shipped_settings(monkeypatch, tmp_path / "metrics")
    engine = create_engine("sqlite://")
    disposed: list[bool] = []
    monkeypatch.setattr(engine, "dispose", lambda close=True: disposed.append(close))
    app = Flask("preloaded")
    app.extensions[EXTENSION_KEY] = Database(lambda: Session(engine), engine, owns_sessions=True)
    monkeypatch.setitem(sys.modules, "workflow.wsgi", SimpleNamespace(app=app))
    settings["post_fork"](None, None)
    assert disposed == [False]  # forgotten, not closed: the sockets are the master's too
    monkeypatch.delitem(sys.modules, "workflow.wsgi")
    settings["post_fork"](None, None)  # preloading switched off: nothing was inherited
    assert disposed == [False]
