"""/metrics: the Prometheus exposition, read with Prometheus's own text parser. Each series
moves after the action that should move it: a request, a transition, a delivery, a failed
delivery, a sweep, the audit checkpoint. Only administrators and the scraper's token read it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.formandskab import decide

from models import Notification
from workflow import scheduler
from workflow.engine import clock
from workflow.engine.outbox import enqueue
from workflow.notifications.delivery import SmtpConfig, deliver_pending
from workflow.scheduler import SchedulerConfig
from workflow.web import EXTENSION_KEY

TOKEN = "m" * 40


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    """A sample's value; 0 for a series not (yet) exposed."""
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def scrape(make_app):
    """Read /metrics with the scraper's token and parse it."""
    app = make_app(METRICS_TOKEN=TOKEN)

    def read() -> dict:
        response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/plain"
        return samples(response.get_data(as_text=True))

    return read


@pytest.fixture
def smtp(smtp: SmtpConfig) -> SmtpConfig:
    """The shared loopback server, giving up on a refused mail at once."""
    return dataclasses.replace(smtp, permanent_attempts=1)


# --- access -------------------------------------------------------------------------------


def test_metrics_are_refused_without_a_login_or_the_token(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "AFTALEFLOW_METRICS_TOKEN" in response.get_data(as_text=True)
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
    assert wrong.status_code == 401


def test_without_a_configured_token_no_bearer_is_accepted(client):
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 401


def test_a_member_who_is_not_admin_is_refused_and_an_admin_reads_them(
    app, client, logged_in, make_login_user, password
):
    logged_in("secretariat@TSS")
    refused = client.get("/metrics")
    assert refused.status_code == 403
    assert "administratorer" in refused.get_data(as_text=True)
    admin = make_login_user(is_admin=True)
    admins = app.test_client()
    admins.post("/login", data={"email": admin.email, "password": password})
    response = admins.get("/metrics")
    assert response.status_code == 200
    assert value(samples(response.get_data(as_text=True)), "aftaleflow_db_up") == 1.0


def test_a_short_token_is_refused_at_start_up(make_app):
    from workflow.app import ConfigurationError

    with pytest.raises(ConfigurationError, match="AFTALEFLOW_METRICS_TOKEN skal være mindst 32"):
        make_app(METRICS_TOKEN="kort")


# --- the series move ----------------------------------------------------------------------


def test_requests_are_counted_and_timed_per_endpoint(make_app, scrape):
    before = scrape()
    client = make_app().test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    client.get("/findes-ikke")
    after = scrape()
    ok = {"endpoint": "healthz", "method": "GET", "status": "200"}
    assert (
        value(after, "aftaleflow_http_requests_total", **ok)
        - value(before, "aftaleflow_http_requests_total", **ok)
        == 3
    )
    timed = {"endpoint": "healthz", "method": "GET"}
    assert (
        value(after, "aftaleflow_http_request_duration_seconds_count", **timed)
        - value(before, "aftaleflow_http_request_duration_seconds_count", **timed)
        == 3
    )
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert (
        value(after, "aftaleflow_http_requests_total", **unmatched)
        - value(before, "aftaleflow_http_requests_total", **unmatched)
        == 1
    )


def test_a_transition_is_counted_and_its_notices_queue_up(make_case, make_user, scrape):
    case = make_case()
    make_user("member@SU-NORD-SOM")  # someone to hear of the move
    before = scrape()
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    after = scrape()
    labels = {"process": "signature_initiative", "trigger": "submit"}
    assert (
        value(after, "aftaleflow_transitions_total", **labels)
        - value(before, "aftaleflow_transitions_total", **labels)
        == 1
    )
    assert value(after, "aftaleflow_outbox_pending") > value(before, "aftaleflow_outbox_pending")


def _notify(session, user, key: str) -> Notification:
    made = enqueue(
        session, key=key, recipient_id=user.id, kind="reminder", subject="Påmindelse",
        body="Fristen er om 7 dage.", send_after=clock.now(), created_at=clock.now(),
    )  # fmt: skip
    session.commit()
    assert made is not None
    return made


def test_a_delivery_moves_sent_and_empties_the_queue(session, make_user, scrape, smtp):
    user = make_user()
    _notify(session, user, "metrics:sent")
    clock.set_time(clock.now() + timedelta(minutes=10))
    before = scrape()
    assert value(before, "aftaleflow_outbox_pending") >= 1
    assert value(before, "aftaleflow_outbox_oldest_pending_age_seconds") >= 600
    report = deliver_pending(session, smtp)
    assert report.sent >= 1
    after = scrape()
    assert (
        value(after, "aftaleflow_deliveries_total", outcome="sent")
        - value(before, "aftaleflow_deliveries_total", outcome="sent")
        == report.sent
    )
    assert value(after, "aftaleflow_outbox_pending") == 0
    assert value(after, "aftaleflow_outbox_oldest_pending_age_seconds") == 0


def test_a_failed_delivery_moves_failed_and_the_given_up_count(session, make_user, scrape, smtp):
    user = make_user()
    user.email = "ikke en adresse"
    _notify(session, user, "metrics:failed")
    before = scrape()
    report = deliver_pending(session, smtp)
    assert report.failed == 1
    after = scrape()
    assert (
        value(after, "aftaleflow_deliveries_total", outcome="failed")
        - value(before, "aftaleflow_deliveries_total", outcome="failed")
        == 1
    )
    assert value(after, "aftaleflow_outbox_failed") - value(before, "aftaleflow_outbox_failed") == 1


def test_a_sweep_moves_its_count_duration_last_run_and_the_heartbeat(session, scrape):
    before = scrape()
    assert ("aftaleflow_scheduler_heartbeat_timestamp_seconds", frozenset()) not in before
    assert value(before, "aftaleflow_scheduler_up") == 0
    scheduler.sweep(session, config=SchedulerConfig())
    after = scrape()
    assert (
        value(after, "aftaleflow_sweeps_total", result="done")
        - value(before, "aftaleflow_sweeps_total", result="done")
        == 1
    )
    assert (
        value(after, "aftaleflow_sweep_duration_seconds_count")
        - value(before, "aftaleflow_sweep_duration_seconds_count")
        == 1
    )
    now = clock.now().timestamp()
    assert value(after, "aftaleflow_sweep_last_run_timestamp_seconds") == now
    assert value(after, "aftaleflow_scheduler_heartbeat_timestamp_seconds") == now
    assert value(after, "aftaleflow_scheduler_heartbeat_age_seconds") == 0
    assert value(after, "aftaleflow_scheduler_up") == 1
    assert value(after, "aftaleflow_sweep_last_duration_seconds") >= 0
    clock.set_time(clock.now() + timedelta(minutes=5))
    later = scrape()
    assert value(later, "aftaleflow_scheduler_heartbeat_age_seconds") == 300
    assert value(later, "aftaleflow_scheduler_up") == 0


def test_the_audit_checkpoint_s_age_is_exposed(session, scrape):
    assert ("aftaleflow_audit_checkpoint_age_seconds", frozenset()) not in scrape()
    assert scheduler.checkpoint_daily(session, config=SchedulerConfig()) is not None
    clock.set_time(clock.now() + timedelta(hours=2))
    found = scrape()
    assert value(found, "aftaleflow_audit_checkpoint_age_seconds") == 7200


def test_the_database_and_build_are_described(scrape):
    import workflow

    found = scrape()
    assert value(found, "aftaleflow_db_up") == 1
    assert value(found, "aftaleflow_db_migrations_at_head") == 1
    build = [key for key in found if key[0] == "aftaleflow_build_info"]
    assert len(build) == 1 and ("version", workflow.__version__) in build[0][1]


def test_the_pool_of_the_process_is_exposed(tmp_path):
    from workflow.app import create_app
    from workflow.engine import migrate
    from workflow.engine.db import make_engine

    url = f"sqlite:///{tmp_path / 'pool.db'}"
    migrated = make_engine(url)
    migrate.upgrade(migrated)
    migrated.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "METRICS_TOKEN": TOKEN})
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    app.extensions[EXTENSION_KEY].engine.dispose()
    found = samples(response.get_data(as_text=True))
    assert ("aftaleflow_db_pool_checked_out", frozenset()) in found
    assert value(found, "aftaleflow_db_pool_checked_out") >= 1  # the scrape's own connection


# --- several processes --------------------------------------------------------------------


WORKER = textwrap.dedent(
    """
    import sys
    from workflow.app import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1], "METRICS_TOKEN": "m" * 40})
    client = app.test_client()
    for _ in range(int(sys.argv[2])):
        assert client.get("/healthz").status_code == 200
    if sys.argv[3] == "scrape":
        response = client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 40})
        sys.stdout.write(response.get_data(as_text=True))
    """
)


def test_under_several_processes_the_counts_are_added_up(tmp_path: Path):
    """As under gunicorn: processes sharing PROMETHEUS_MULTIPROC_DIR; a scrape answered by any
    one of them counts every process's requests."""
    from workflow.engine import migrate
    from workflow.engine.db import make_engine

    url = f"sqlite:///{tmp_path / 'multi.db'}"
    migrated = make_engine(url)
    migrate.upgrade(migrated)
    migrated.dispose()
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}

    def run(requests: int, scrape: bool) -> str:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, url, str(requests), "scrape" if scrape else "-"],
            env=env, capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        return done.stdout

    run(2, scrape=False)
    run(3, scrape=False)
    found = samples(run(1, scrape=True))
    ok = {"endpoint": "healthz", "method": "GET", "status": "200"}
    assert value(found, "aftaleflow_http_requests_total", **ok) == 6
    assert value(found, "aftaleflow_db_up") == 1


def test_a_withdrawn_notification_is_not_counted_as_failed(session, make_user, scrape):
    before = value(scrape(), "aftaleflow_outbox_failed")
    withdrawn = _notify(session, make_user(), "metrics:withdrawn")
    withdrawn.failed_at = clock.now()
    withdrawn.last_error = "Annulleret: fristen er flyttet"
    session.commit()
    assert value(scrape(), "aftaleflow_outbox_failed") == before
