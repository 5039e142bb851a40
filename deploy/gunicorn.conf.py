"""gunicorn settings for Aftaleflow's web processes (`gunicorn -c deploy/gunicorn.conf.py
workflow.wsgi:app`); every value can be overridden with GUNICORN_CMD_ARGS or on the command line.

Metrics under several workers: PROMETHEUS_MULTIPROC_DIR must name a folder that exists, is
writable by the service and is shared by the workers (and the scheduler on the same host). The
systemd units and the Containerfile set it; `on_starting` below creates it when missing and
empties it when this is the only process using it (see docs/deploy.md).
"""

from __future__ import annotations

import multiprocessing
import os
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


def on_starting(server: Any) -> None:
    """Make sure the metrics folder exists; empty it if asked to (a fresh start)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    if os.environ.get("AFTALEFLOW_METRICS_RESET", "").lower() in ("1", "ja", "yes", "true"):
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus_client that a worker is gone (its live gauges stop counting)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
