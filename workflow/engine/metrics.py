"""The process's own Prometheus instruments: what happens in this process, counted as it happens.

Requests, transitions, deliveries and sweeps are counted by the process that does them. Under
gunicorn (several worker processes) set PROMETHEUS_MULTIPROC_DIR to an empty folder before the
processes start: prometheus_client then keeps each process's values in files there and
`/metrics` adds them up (workflow.ops.metrics). Without it the values live in this process.

What the database knows (the outbox's queue, the scheduler's heartbeat, the last sweep, the audit
checkpoint) is read from the database when `/metrics` is scraped, so it is right whichever
process did the work; see workflow.ops.metrics.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "aftaleflow_http_requests",
    "HTTP requests answered, per endpoint (Flask endpoint name), method and status.",
    ("endpoint", "method", "status"),
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "aftaleflow_http_request_duration_seconds",
    "Time to answer an HTTP request, per endpoint and method.",
    ("endpoint", "method"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
TRANSITIONS = Counter(
    "aftaleflow_transitions",
    "Case transitions performed through perform(), per process and trigger.",
    ("process", "trigger"),
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "aftaleflow_deliveries",
    "Delivery attempts of outbox notifications, per outcome (sent, retrying, failed).",
    ("outcome",),
    registry=REGISTRY,
)
SWEEPS = Counter(
    "aftaleflow_sweeps",
    "Scheduler sweeps run by this process, per result (done, skipped, error).",
    ("result",),
    registry=REGISTRY,
)
SWEEP_SECONDS = Histogram(
    "aftaleflow_sweep_duration_seconds",
    "Time a sweep took in this process.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)


def multiprocess_dir() -> str | None:
    """The folder of the multiprocess values, when the processes share one."""
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()) or None
