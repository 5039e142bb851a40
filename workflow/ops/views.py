"""Operating the service: `/readyz`, `/metrics`, the operations page, and the per-request
hooks that give each request its id, its access-log line and its place in the metrics.

- `/healthz` (workflow.app) is liveness: the process answers and reaches its database.
- `/readyz` is readiness: the database answers, stands at the migrations' head, and a scheduler
  swept within the heartbeat limit. JSON, 200 or 503, no login (it names no data).
- `/metrics` is the Prometheus exposition (workflow.ops.metrics), for a scraper presenting
  `Authorization: Bearer <AFTALEFLOW_METRICS_TOKEN>` or a logged-in user the policy lets
  `read_metrics` (administrators).
- `/admin/drift` is the operations page for administrators (`view_operations`).
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    render_template,
    request,
)
from flask_wtf import FlaskForm

from workflow import policy
from workflow.auth.login import current_actor, current_user, login_required
from workflow.engine import audit, metrics, request_id
from workflow.engine.audit import AuditReport
from workflow.web import EXTENSION_KEY, Database, db
from workflow.web.i18n import _, format_number, pick

bp = Blueprint("ops", __name__)
access_log = logging.getLogger("aftaleflow.access")

METRICS_TOKEN_ENV = "AFTALEFLOW_METRICS_TOKEN"
TRUST_REQUEST_ID_ENV = "AFTALEFLOW_TRUST_REQUEST_ID"
REQUEST_ID_HEADER = "X-Request-ID"
MIN_TOKEN_LENGTH = 32
FAILED_SHOWN = 50


class OpsSettingError(ValueError):
    """A setting of this module is wrong; the message says what to write instead."""


def init_ops(app: Flask) -> None:
    """Read the settings, register the blueprint and the per-request hooks."""
    token = app.config.get("METRICS_TOKEN", os.environ.get(METRICS_TOKEN_ENV, "")).strip()
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise OpsSettingError(
            f"{METRICS_TOKEN_ENV} skal være mindst {MIN_TOKEN_LENGTH} tegn lang (fx fra "
            "'python -c \"import secrets; print(secrets.token_hex(32))\"')."
        )
    app.config["METRICS_TOKEN"] = token
    if "TRUST_REQUEST_ID" not in app.config:
        raw = os.environ.get(TRUST_REQUEST_ID_ENV, "ja").strip().lower()
        app.config["TRUST_REQUEST_ID"] = raw not in ("0", "nej", "no", "false", "off")
    app.register_blueprint(bp)
    app.before_request(_begin_request)
    app.after_request(_end_request)
    app.teardown_request(_unbind_request_id)


# --- every request ------------------------------------------------------------------------


def _begin_request() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER)
    trusted = current_app.config.get("TRUST_REQUEST_ID") and request_id.is_valid(offered)
    chosen = offered if trusted and offered else request_id.new()
    g.request_id = chosen
    g.request_id_token = request_id.bind(chosen)
    g.request_started = time.perf_counter()


def _route() -> str:
    """The request's route pattern (never the path as sent, which may hold a token)."""
    rule = request.url_rule
    return rule.rule if rule is not None else "(ingen rute)"


def _end_request(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or "unmatched"
    metrics.REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    metrics.REQUEST_SECONDS.labels(endpoint, request.method).observe(seconds)
    response.headers[REQUEST_ID_HEADER] = g.request_id
    access_log.info(
        "%s %s %s %.1f ms",
        request.method,
        _route(),
        response.status_code,
        seconds * 1000,
        extra={
            "method": request.method,
            "route": _route(),
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
        },
    )
    return response


def _unbind_request_id(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id.reset(token)


# --- health -------------------------------------------------------------------------------


def readiness() -> tuple[dict[str, Any], bool]:
    """The checks of /readyz, each with ok and what it found, and whether all hold."""
    from workflow.ops import queries  # with the scheduler's modules: not at start-up

    session = db()
    database = queries.database_status(session)
    checks: dict[str, Any] = {
        "database": {"ok": database.reachable, "dialect": database.dialect}
        | ({"error": database.error} if database.error else {}),
        "migrations": {
            "ok": database.at_head,
            "database": list(database.revisions),
            "code": list(database.heads),
        },
    }
    if database.at_head:
        status = queries.scheduler_status(session)
        age = status.age
        checks["scheduler"] = {
            "ok": status.fresh,
            "last_sweep": status.heartbeat.isoformat() if status.heartbeat else None,
            "age_seconds": round(age.total_seconds(), 1) if age is not None else None,
            "limit_seconds": status.limit.total_seconds(),
        }
    else:
        # Not read from a database that is down or lacks this code's columns (on PostgreSQL
        # a failed statement also ends the transaction): unready, never a 500.
        checks["scheduler"] = {"ok": False, "error": "database unreachable or not migrated"}
    ready = all(check["ok"] for check in checks.values())
    return checks, ready


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Whether this instance is ready for work, as JSON (503 when not)."""
    checks, ready = readiness()
    body = {"status": "ready" if ready else "unready", "checks": checks}
    return jsonify(body), 200 if ready else 503


# --- metrics ------------------------------------------------------------------------------


def _bearer_matches(token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _space, offered = header.partition(" ")
    if scheme.lower() != "bearer" or not offered:
        return False
    return hmac.compare_digest(offered.strip().encode(), token.encode())


@bp.get("/metrics")
def metrics_page() -> Response:
    """The Prometheus exposition, for the configured scraper token or an administrator."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not (token and _bearer_matches(token)):
        user = current_user()
        if user is None:
            return Response(
                "Log ind som administrator, eller send Authorization: Bearer med "
                f"{METRICS_TOKEN_ENV}.\n",
                status=401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        if not policy.may(user, "read_metrics", None, db()):
            rule = policy.RULES[("read_metrics", "site")]
            return Response(
                pick(rule.refusal, rule.refusal_en) + "\n", status=403, mimetype="text/plain"
            )
    from workflow.ops import metrics as exposition  # not at start-up (as `queries`)

    database: Database = current_app.extensions[EXTENSION_KEY]
    body = exposition.render(db(), database.engine)
    return Response(body, content_type=exposition.CONTENT_TYPE)


# --- the operations page ------------------------------------------------------------------


def duration(value: timedelta | float | None) -> str:
    """A span in words: '42 sekunder', '3 minutter', '5 timer', '2 dage' (or English)."""
    if value is None:
        return _("aldrig")
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 10:
        return _("%(seconds)s sekunder", seconds=format_number(round(seconds, 2)))
    if seconds < 120:
        return _("%(seconds)s sekunder", seconds=int(seconds))
    if seconds < 2 * 3600:
        return _("%(minutes)s minutter", minutes=int(seconds // 60))
    if seconds < 2 * 86400:
        return _("%(hours)s timer", hours=int(seconds // 3600))
    return _("%(days)s dage", days=int(seconds // 86400))


class VerifyForm(FlaskForm):  # type: ignore[misc]
    """Run the audit verification now (the form carries only its CSRF token)."""


def _page(report: AuditReport | None = None, status: int = 200) -> tuple[str, int]:
    from workflow.ops import queries  # not at start-up (as in `readiness`)

    session = db()
    user = current_actor()
    policy.require(user, "view_operations", None, session)
    database: Database = current_app.extensions[EXTENSION_KEY]
    checks, ready = readiness()
    html = render_template(
        "ops/index.html",
        ready=ready,
        checks=checks,
        scheduler=queries.scheduler_status(session),
        outbox=queries.outbox_status(session),
        failed=queries.failed_deliveries(session, FAILED_SHOWN),
        database=queries.database_status(session),
        pool=queries.pool_status(database.engine),
        version=queries.version_info(),
        report=report,
        verify_form=VerifyForm(),
        duration=duration,
    )
    return html, status


@bp.get("/admin/drift")
@login_required
def index() -> tuple[str, int]:
    """The operations page: scheduler, outbox, audit, database and version."""
    return _page()


@bp.post("/admin/drift/revision")
@login_required
def verify() -> tuple[str, int]:
    """Verify the audit trail now and show the result on the operations page (reads only)."""
    policy.require(current_actor(), "view_operations", None, db())
    if not VerifyForm().validate_on_submit():
        return _page(status=400)
    return _page(audit.verify(db()))
