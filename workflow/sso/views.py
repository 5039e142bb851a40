"""Single sign-on pages: start a login at a provider, take its answer, SP metadata, logout.

A refused sign-in shows one Danish page (403) saying why, writes nothing but its audit row,
and leaves the browser logged out.
"""

from __future__ import annotations

import os
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from workflow.auth.login import login
from workflow.auth.views import safe_next
from workflow.engine import clock
from workflow.engine.calendar import local_date
from workflow.sso import mapping, oidc, operations
from workflow.sso.logout import SESSION_KEY
from workflow.sso.mapping import Identity, Refusal
from workflow.sso.settings import (
    CONFIG_ENV,
    SETTINGS_EXTENSION,
    OidcProvider,
    Provider,
    SamlProvider,
    current_settings,
    provider_label,
)
from workflow.sso.settings import load as load_settings
from workflow.web import db
from workflow.web.i18n import _

bp = Blueprint("sso", __name__)

# The SAML request ids a browser is waiting for. Their own cookie, because the IdP answers with
# a cross-site POST, which does not carry the SameSite=Lax session cookie.
PENDING_COOKIE = "aftaleflow_saml"
PENDING_SALT = "aftaleflow-saml-pending"
PENDING_SECONDS = 15 * 60


def init_sso(app: Flask) -> None:
    """Load and validate the deployment's SSO settings and register the pages."""
    path = app.config.get("SSO_CONFIG") or os.environ.get(CONFIG_ENV)
    loaded = load_settings(path)
    app.extensions[SETTINGS_EXTENSION] = loaded
    oidc.init_oidc(app, loaded)
    app.jinja_env.globals["sso_label"] = provider_label
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        # The IdP's POST carries its own signature, not our form token.
        csrf.exempt(saml_acs)


def _provider(key: str) -> Provider:
    provider = current_settings().providers.get(key)
    if provider is None:
        abort(404)
    return provider


@bp.get("/sso/<provider>/login", endpoint="start")
def start(provider: str) -> Response:
    """Send the browser to the provider to sign in."""
    chosen = _provider(provider)
    next_path = safe_next(request.args.get("next")) or ""
    if isinstance(chosen, OidcProvider):
        session["sso_next"] = next_path
        return oidc.start(chosen)
    from workflow.sso import saml  # pysaml2 loads on first SAML use (see saml.py)

    request_id, location = saml.start(chosen, relay_state=next_path)
    response = redirect(location)
    pending = _pending()
    pending[request_id] = next_path
    _set_pending(response, pending)
    return response


@bp.get("/sso/<provider>/svar", endpoint="oidc_callback")
def oidc_callback(provider: str) -> Response | tuple[str, int]:
    """The OpenID provider's answer: verify it, provision the user and log them in."""
    chosen = _provider(provider)
    if not isinstance(chosen, OidcProvider):
        abort(404)
    next_path = safe_next(session.pop("sso_next", None))
    try:
        identity = oidc.finish(chosen)
    except Refusal as refusal:
        return _refused(chosen, refusal, None)
    return _sign_in(chosen, identity, next_path)


@bp.post("/saml/<provider>/acs", endpoint="saml_acs")
def saml_acs(provider: str) -> Response | tuple[str, int]:
    """The SAML IdP's POSTed response: verify it, note it as used, provision and log in."""
    chosen = _provider(provider)
    if not isinstance(chosen, SamlProvider):
        abort(404)
    from workflow.sso import saml

    pending = _pending()
    try:
        verified = saml.finish(chosen, request.form.get("SAMLResponse", ""), pending)
        operations.remember_assertion(db(), chosen.key, verified.assertion_id, verified.expires_at)
    except Refusal as refusal:
        return _refused(chosen, refusal, None)
    relay = safe_next(request.form.get("RelayState"))
    result = _sign_in(chosen, verified.identity, relay)
    if not isinstance(result, tuple):
        # The request is answered: the same response cannot be taken twice in this browser.
        _set_pending(result, {})
    return result


@bp.get("/saml/<provider>/metadata", endpoint="saml_metadata")
def saml_metadata(provider: str) -> Response:
    """Our SP metadata for the IdP (certificates, ACS and single logout addresses)."""
    chosen = _provider(provider)
    if not isinstance(chosen, SamlProvider):
        abort(404)
    from workflow.sso import saml

    return Response(saml.metadata(chosen), mimetype="application/samlmetadata+xml")


@bp.get("/saml/<provider>/sls", endpoint="saml_sls")
def saml_sls(provider: str) -> Response | tuple[str, int]:
    """Single logout: the IdP's own LogoutRequest (a session ended at the IdP ends here too,
    answered with our signed LogoutResponse), or the IdP's answer to our LogoutRequest."""
    chosen = _provider(provider)
    if not isinstance(chosen, SamlProvider):
        abort(404)
    if "SAMLRequest" in request.args:
        return _idp_logout(chosen)
    flash(_("Du er logget ud."), "success")
    return redirect(url_for("auth.login"), code=303)


def _idp_logout(provider: SamlProvider) -> Response | tuple[str, int]:
    from workflow.sso import saml

    try:
        ask = saml.parse_idp_logout(provider, request.args.to_dict(flat=True))
    except Refusal as refusal:
        operations.record_refusal(db(), provider.key, refusal, None)
        return render_template("sso/logout_refused.html", provider=provider), 400
    operations.end_idp_sessions(db(), provider.key, ask.name_id, ask.session_indexes)
    # The browser bringing the request (when it is the person's own) holds no login any more.
    session.clear()
    return redirect(saml.answer_idp_logout(provider, ask, request.args.get("RelayState", "")))


def _sign_in(
    provider: Provider, identity: Identity, next_path: str | None
) -> Response | tuple[str, int]:
    try:
        granted = mapping.grant(current_settings(), provider, identity)
        user = operations.provision(db(), identity, granted, local_date(clock.now()))
    except Refusal as refusal:
        return _refused(provider, refusal, identity.subject)
    # A fresh session at login: nothing from before the login carries over.
    session.clear()
    login(user)
    session[SESSION_KEY] = {"provider": provider.key, "hint": identity.logout_hint or {}}
    flash(_("Velkommen, %(name)s.", name=user.name), "success")
    return redirect(next_path or url_for("dashboard.index"), code=303)


def _refused(provider: Provider, refusal: Refusal, subject: str | None) -> tuple[str, int]:
    operations.record_refusal(db(), provider.key, refusal, subject)
    session.pop(SESSION_KEY, None)
    html = render_template(
        "sso/refused.html", provider=provider, message=str(refusal.message), code=refusal.code
    )
    return html, 403


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PENDING_SALT)


def _pending() -> dict[str, str]:
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw:
        return {}
    try:
        value: Any = _serializer().loads(raw, max_age=PENDING_SECONDS)
    except BadSignature:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _set_pending(response: Response, pending: dict[str, str]) -> None:
    if not pending:
        response.delete_cookie(PENDING_COOKIE, path="/saml/")
        return
    secure = request.is_secure
    response.set_cookie(
        PENDING_COOKIE,
        _serializer().dumps(dict(list(pending.items())[-5:])),
        max_age=PENDING_SECONDS,
        path="/saml/",
        httponly=True,
        secure=secure,
        # Cross-site POST from the IdP needs SameSite=None, which browsers accept only with
        # Secure; on plain http (development, tests) the IdP is on the same site anyway.
        samesite="None" if secure else "Lax",
    )
