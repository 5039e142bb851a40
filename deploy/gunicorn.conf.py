"""gunicorn settings for Aftaleflow's web processes (`gunicorn -c deploy/gunicorn.conf.py
workflow.wsgi:app`); every value can be overridden with GUNICORN_CMD_ARGS or on the command line.

Metrics under several workers: PROMETHEUS_MULTIPROC_DIR must name a folder that exists, is
writable by the service and is shared by the workers (and the scheduler on the same host). The
systemd units and the Containerfile set it; the settings create it when missing, and
`on_starting` empties it when this is the only process using it (see docs/deploy.md).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

bind = os.environ.get("AFTALEFLOW_BIND", "127.0.0.1:8000")
workers = int(
    os.environ.get("AFTALEFLOW_WORKERS", str(min(2 * multiprocessing.cpu_count() + 1, 8)))
)
worker_class = "sync"
timeout = 120  # the yearly follow-up workbook can take a moment
graceful_timeout = 30
keepalive = 5
# The app logs one access line per request itself (workflow.ops.logs), with the request id and
# the route pattern only; gunicorn's own access log would write raw paths and query strings.
accesslog = None
errorlog = "-"
# Requests larger than the app's limit are refused by the proxy in front (docs/deploy.md).
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("AFTALEFLOW_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app is built once, in the master, and forked into the workers (as `aftaleflow serve
# --workers N` does): a worker answers as soon as it is forked and shares the master's memory.
# Built in every worker instead, N workers import and build it at once on the host's cores,
# several seconds before the first answer (cold start, issue 14; docs/performance.md). So
# `systemctl reload` (HUP) restarts the workers with the code the master loaded: a new version
# needs `systemctl restart` (docs/deploy.md).
preload_app = True


RESET = ("1", "ja", "yes", "true")


def _metrics_folder() -> Path | None:
    """The metrics folder, made if missing."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


# Here, not in on_starting: the preloaded app (its metrics) is built before that hook runs.
_metrics_folder()


def on_starting(server: Any) -> None:
    """Empty the metrics folder if asked to (a fresh start; not on a reload)."""
    path = _metrics_folder()
    if path is None or os.environ.get("AFTALEFLOW_METRICS_RESET", "").lower() not in RESET:
        return
    # The master's own files go too: it serves nothing, and a forked worker writes its own.
    for stale in path.glob("*.db"):
        stale.unlink()


def post_fork(server: Any, worker: Any) -> None:
    """A new worker opens its own database connections, never the master's."""
    wsgi = sys.modules.get("workflow.wsgi")  # absent when preloading is switched off
    if wsgi is not None:
        from workflow.web.workers import forget_inherited_connections

        forget_inherited_connections(wsgi.app)


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus_client that a worker is gone (its live gauges stop counting)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
