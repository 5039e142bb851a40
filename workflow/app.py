"""The Flask application factory."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import StrictUndefined
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, configure_mappers
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from workflow.admin.routes import AREA as ADMIN
from workflow.api import http_problem, is_api_request
from workflow.api import register as register_api
from workflow.auth import password_views as password_web
from workflow.auth import profile_views as profile_web
from workflow.auth import views as auth
from workflow.auth.login import init_login
from workflow.cases import attachments
from workflow.cases import bulk_views as bulk
from workflow.cases import export_views as export
from workflow.cases import next_step_views as next_step
from workflow.cases import record_views as case_record
from workflow.cases import views as cases
from workflow.designer.routes import AREA as DESIGNER
from workflow.engine.audit_key import AuditKeyError, load_key
from workflow.engine.db import database_url, make_engine, make_session_factory
from workflow.engine.keyfiles import create_key_file
from workflow.engine.paths import resource_dir
from workflow.implementation import views as implementation_web
from workflow.implementation.indicator_routes import AREA as INDICATORS
from workflow.meetings.views import blueprints as meeting_blueprints
from workflow.notifications import views as notifications_web
from workflow.ops.views import init_ops
from workflow.organisation.routes import AREA as BODIES
from workflow.processes.views import bp as processes_bp
from workflow.reports.routes import AREA as REPORTS
from workflow.search import views as search_web
from workflow.sso.settings import SsoConfigError
from workflow.sso.views import init_sso
from workflow.web import Database, dashboard, db, init_database
from workflow.web.accessibility import bp as accessibility_bp
from workflow.web.filters import init_filters
from workflow.web.hardening import init_hardening
from workflow.web.i18n import _, _l, init_i18n
from workflow.web.refusal import init_refusals
from workflow.web.routing import init_routing, register_lazy_area
from workflow.webhooks.routes import AREA as WEBHOOKS
from workflow.whatif.routes import AREA as WHATIF

# Imported on their first request; tests/web/test_lazy_areas.py checks each against its views.
LAZY_AREAS = (BODIES, ADMIN, DESIGNER, INDICATORS, REPORTS, WEBHOOKS, WHATIF)
SECRET_KEY_ENV = "AFTALEFLOW_SECRET_KEY"
SECRET_KEY_FILE = "secret_key"
CSRF_TITLE = _l("Formularen er udløbet")
CSRF_REFUSED = _l(
    "Formularen kunne ikke sendes, fordi dens sikkerhedsnøgle mangler eller er udløbet. "
    "Gå tilbage, genindlæs siden, og send formularen igen."
)
ERROR_TEXTS = {
    400: (
        _l("Forespørgslen kunne ikke behandles"),
        _l("Gå tilbage, genindlæs siden, og prøv igen."),
    ),
    401: (_l("Du er ikke logget ind"), _l("Log ind, og prøv igen.")),
    403: (
        _l("Du har ikke adgang"),
        _l("Kontakt sekretariatet, hvis du mener, du skal have adgang."),
    ),
    404: (_l("Siden findes ikke"), _l("Tjek adressen, eller gå til forsiden.")),
    405: (_l("Handlingen er ikke mulig her"), _l("Gå tilbage til siden, og brug dens knapper.")),
}
TOO_LARGE_TITLE = _l("Det, du sendte, er for stort")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


class ConfigurationError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web application.

    Keys of `config`: DATABASE_URL (default `workflow.engine.db.database_url()`), SECRET_KEY
    (default: $AFTALEFLOW_SECRET_KEY, or a random key kept in `secret_key` next to the SQLite file),
    SESSION_FACTORY (a callable returning the Session each request uses; the caller then owns
    the sessions and the app neither creates an engine nor closes them), TESTING,
    WTF_CSRF_ENABLED, and any other Flask setting.
    """
    templates = resource_dir("templates")
    app = Flask(
        "workflow",
        template_folder=str(templates),
        static_folder=str(templates / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_ENABLED=True,
        # A login form left open over lunch still works; the session cookie outlives it.
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    app.config.update(dict(config or {}))
    app.config["DATABASE_URL"] = database_url(app.config.get("DATABASE_URL"))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(app.config["DATABASE_URL"], app.testing)
    require_audit_key(app.config["DATABASE_URL"])
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    # Before any blueprint, so every rule (the operations pages' too) writes its URL builders
    # on first use; it adds no hook.
    init_routing(app)
    try:
        # First, so every later hook, page and error already has the request's id.
        init_ops(app)
        init_hardening(app)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    init_database(app, _database(app.config["DATABASE_URL"], app.config.get("SESSION_FACTORY")))
    init_login(app)
    init_i18n(app)
    CSRFProtect(app)
    init_filters(app)
    try:
        init_sso(app)
    except SsoConfigError as exc:
        raise ConfigurationError(str(exc)) from None
    for blueprint in (auth.bp, password_web.bp, dashboard.bp, cases.bp, bulk.bp, export.bp):
        app.register_blueprint(blueprint)
    for blueprint in (next_step.bp, case_record.bp):
        app.register_blueprint(blueprint)
    # The rarely used areas' views are imported on their first request (LazyArea): their rules
    # are here from the start, their modules are not imported by the master at start-up.
    register_lazy_area(app, BODIES)
    app.register_blueprint(processes_bp)
    register_lazy_area(app, ADMIN)
    register_lazy_area(app, DESIGNER)
    for blueprint in meeting_blueprints():
        app.register_blueprint(blueprint)
    app.register_blueprint(implementation_web.bp)
    register_lazy_area(app, INDICATORS)
    register_lazy_area(app, REPORTS)
    for blueprint in (notifications_web.bp, profile_web.bp):
        app.register_blueprint(blueprint)
    register_lazy_area(app, WEBHOOKS)
    app.register_blueprint(accessibility_bp)
    app.register_blueprint(search_web.bp)
    register_lazy_area(app, WHATIF)
    register_api(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(HTTPException, _http_error)
    init_refusals(app)
    app.after_request(_security_headers)
    # The mappers are configured here, once, not by a worker's first query: under gunicorn the
    # app is built in the master, whose memory every forked worker shares.
    configure_mappers()
    return app


def _database(url: str, session_factory: Callable[[], Session] | None) -> Database:
    if session_factory is not None:
        return Database(session_factory, None, owns_sessions=False)
    engine = make_engine(url)
    return Database(make_session_factory(engine), engine, owns_sessions=True)


def secret_key(url: str, testing: bool) -> str:
    """Return $AFTALEFLOW_SECRET_KEY, or the key file beside the SQLite database (made once)."""
    from_env = os.environ.get(SECRET_KEY_ENV, "").strip()
    if from_env:
        return from_env
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return read_or_create_key(Path(str(parsed.database)).parent / SECRET_KEY_FILE)
    if testing:
        return secrets.token_hex(32)
    raise ConfigurationError(
        f"Sæt miljøvariablen {SECRET_KEY_ENV} til en lang tilfældig værdi (fx fra "
        "'python -c \"import secrets; print(secrets.token_hex(32))\"'). Alle app-servere, der "
        "deler databasen, skal have den samme nøgle."
    )


def require_audit_key(url: str) -> None:
    """Make sure the audit key is there before the first event is sealed.

    With SQLite (one machine) the key file is made on first use. With PostgreSQL several
    servers share the database, and a server making a key of its own would seal events the
    others cannot verify, so the key must exist already: set by init-db or given in the
    environment.
    """
    postgres = make_url(url).get_backend_name() == "postgresql"
    try:
        load_key(create=not postgres)
    except AuditKeyError as error:
        raise ConfigurationError(
            f"{error} Alle app-servere og planlæggeren skal bruge den samme revisionsnøgle."
        ) from None


def read_or_create_key(path: Path) -> str:
    """Read the key in `path`, creating it (readable by the owner only) if it is missing."""
    if not path.exists():
        create_key_file(path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ConfigurationError(
            f"Nøglefilen {path} er tom eller for kort. Slet den, så laves en ny "
            "(alle brugere bliver logget ud)."
        )
    return key


def healthz() -> Response:
    """Answer 'ok' when the app can reach its database (for run scripts and load balancers)."""
    try:
        db().execute(text("SELECT 1"))
    except Exception:
        return Response("database utilgængelig", status=503, mimetype="text/plain")
    return Response("ok", mimetype="text/plain")


def _csrf_refused(_error: CSRFError) -> tuple[str, int]:
    html = render_template(
        "error.html", title=str(CSRF_TITLE), message=str(CSRF_REFUSED), status=400
    )
    return html, 400


def _http_error(error: HTTPException) -> BaseResponse | tuple[str, int]:
    if is_api_request():
        return http_problem(error)
    code = error.code or 500
    if code == 413:
        return _too_large()
    if code not in ERROR_TEXTS:
        return error.get_response()
    title, advice = ERROR_TEXTS[code]
    html = render_template("error.html", title=str(title), message=str(advice), status=code)
    return html, code


def _too_large() -> tuple[str, int]:
    limit_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    message = _(
        "Der kan højst sendes %(limit)s MB ad gangen, og et bilag må højst fylde %(file)s MB. "
        "Gør filen mindre, eller del den op i flere, og prøv igen.",
        limit=limit_mb,
        file=attachments.MAX_BYTES // (1024 * 1024),
    )
    html = render_template("error.html", title=str(TOO_LARGE_TITLE), message=message, status=413)
    return html, 413


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
