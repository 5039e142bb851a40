"""`/metrics` in the Prometheus text format: the processes' counters (workflow.engine.metrics)
and what the database knows, read at each scrape.

Series (all prefixed `aftaleflow_`):

- `http_requests_total{endpoint,method,status}`, `http_request_duration_seconds{endpoint,method}`
- `transitions_total{process,trigger}`
- `deliveries_total{outcome}` (sent, retrying, failed) by the processes that deliver
- `outbox_pending`, `outbox_retrying`, `outbox_oldest_pending_age_seconds`, `outbox_failed`
- `sweeps_total{result}`, `sweep_duration_seconds` (this host's processes),
  `sweep_last_run_timestamp_seconds`, `sweep_last_duration_seconds` (the database's)
- `scheduler_heartbeat_timestamp_seconds`, `scheduler_heartbeat_age_seconds`, `scheduler_up`
- `audit_checkpoint_timestamp_seconds`, `audit_checkpoint_age_seconds`
- `db_up`, `db_migrations_at_head`, `db_pool_size`, `db_pool_checked_out`, `db_pool_overflow`
  (the pool of the process that answered the scrape)
- `build_info{version,python}`
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from workflow.engine import metrics
from workflow.ops import queries

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _timestamp(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _gauge(name: str, documentation: str, value: float | None) -> GaugeMetricFamily | None:
    if value is None:
        return None  # never happened: the series is absent, as Prometheus expects
    return GaugeMetricFamily(f"aftaleflow_{name}", documentation, value=value)


class DatabaseCollector(Collector):
    """Reads the database's view of the system when collected (one scrape, a few statements)."""

    def __init__(self, session: Session, engine: Engine | None) -> None:
        self.session = session
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        database = queries.database_status(self.session)
        yield GaugeMetricFamily(
            "aftaleflow_db_up", "1 when the database answers.", value=float(database.reachable)
        )
        yield GaugeMetricFamily(
            "aftaleflow_db_migrations_at_head",
            "1 when the database stands at the migrations this code carries.",
            value=float(database.at_head),
        )
        info = queries.version_info()
        build = GaugeMetricFamily(
            "aftaleflow_build_info", "The running version.", labels=("version", "python")
        )
        build.add_metric((info.application, info.python), 1.0)
        yield build
        pool = queries.pool_status(self.engine)
        if pool is not None:
            for name, value, what in (
                ("db_pool_size", pool.size, "Connections the pool keeps."),
                ("db_pool_checked_out", pool.checked_out, "Connections in use now."),
                ("db_pool_overflow", pool.overflow, "Connections beyond the pool's size."),
            ):
                gauge = _gauge(name, what + " (the answering process)", value)
                if gauge is not None:
                    yield gauge
        if not database.at_head:
            return  # the tables may not have the columns this code reads yet
        yield from self._outbox()
        yield from self._scheduler()

    def _outbox(self) -> Iterator[Metric]:
        outbox = queries.outbox_status(self.session)
        yield GaugeMetricFamily(
            "aftaleflow_outbox_pending",
            "Notifications not yet delivered nor given up on.",
            value=outbox.pending,
        )
        yield GaugeMetricFamily(
            "aftaleflow_outbox_retrying",
            "Pending notifications that have failed at least one attempt.",
            value=outbox.retrying,
        )
        age = outbox.oldest_age
        yield GaugeMetricFamily(
            "aftaleflow_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending notification (0 when none waits).",
            value=age.total_seconds() if age is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "aftaleflow_outbox_failed",
            "Notifications given up on and not sent again (shown on the operations page).",
            value=outbox.failed,
        )

    def _scheduler(self) -> Iterator[Metric]:
        status = queries.scheduler_status(self.session)
        age = status.age
        checkpoint_age = status.checkpoint_age
        candidates = (
            _gauge(
                "scheduler_heartbeat_timestamp_seconds",
                "When a scheduler last completed a sweep (Unix time).",
                _timestamp(status.heartbeat),
            ),
            _gauge(
                "scheduler_heartbeat_age_seconds",
                "Seconds since a scheduler last completed a sweep.",
                age.total_seconds() if age is not None else None,
            ),
            GaugeMetricFamily(
                "aftaleflow_scheduler_up",
                "1 when the last sweep is within the heartbeat limit.",
                value=float(status.fresh),
            ),
            _gauge(
                "scheduler_heartbeat_limit_seconds",
                "How old the heartbeat may be before /readyz is unready.",
                status.limit.total_seconds(),
            ),
            _gauge(
                "sweep_last_run_timestamp_seconds",
                "When the last sweep ran (Unix time).",
                _timestamp(status.heartbeat),
            ),
            _gauge(
                "sweep_last_duration_seconds",
                "How long the last completed sweep took.",
                status.last_duration,
            ),
            _gauge(
                "audit_checkpoint_timestamp_seconds",
                "When the scheduler last wrote the daily audit checkpoint (Unix time).",
                _timestamp(status.checkpoint_at),
            ),
            _gauge(
                "audit_checkpoint_age_seconds",
                "Seconds since the last daily audit checkpoint.",
                checkpoint_age.total_seconds() if checkpoint_age is not None else None,
            ),
        )
        yield from (gauge for gauge in candidates if gauge is not None)


def render(session: Session, engine: Engine | None) -> bytes:
    """The exposition: the processes' counters (added up over every process sharing
    PROMETHEUS_MULTIPROC_DIR, else this process's) and the database's series."""
    folder = metrics.multiprocess_dir()
    if folder:
        processes = CollectorRegistry()
        MultiProcessCollector(processes, path=folder)  # type: ignore[no-untyped-call]
        own = generate_latest(processes)
    else:
        own = generate_latest(metrics.REGISTRY)
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(session, engine))
    return own + generate_latest(database)
