"""Transport hardening of every response: cookie flags, HSTS, no caching of personal pages,
the client address behind a trusted proxy, and request bodies refused by size up front.

Settings (environment, or the same names without the prefix in the app config):
- AFTALEFLOW_SECURE_COOKIES: `auto` (default) marks the session cookie `Secure` when the
  request came over https or AFTALEFLOW_BASE_URL is an https address; `ja` always; `nej` never.
  `make run` on plain http keeps working under `auto`.
- AFTALEFLOW_TRUSTED_PROXIES: how many proxies in front of the app set X-Forwarded-For and
  X-Forwarded-Proto (werkzeug's ProxyFix). 0 (default) trusts no such header, so a client
  cannot pick the address its login attempts are counted under.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask, Response, abort, current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from workflow.cases import attachments
from workflow.notifications.delivery import env_bool, env_int

SECURE_COOKIES_ENV = "AFTALEFLOW_SECURE_COOKIES"
TRUSTED_PROXIES_ENV = "AFTALEFLOW_TRUSTED_PROXIES"
AUTO = "auto"
# The largest attachment plus room for the form around it; anything bigger is refused from
# its Content-Length alone, before a byte of the body is read.
MAX_CONTENT_LENGTH = attachments.MAX_BYTES + 1024 * 1024
# A year; no includeSubDomains, since the region's other hosts are not ours to commit.
HSTS = "max-age=31536000"
NO_STORE = "no-store"
# Pages about signing in carry no personal data yet, but their forms and links must not be
# kept by a shared browser or proxy either.
ACCOUNT_BLUEPRINTS = frozenset({"auth", "password"})


def secure_cookies_mode(environ: Mapping[str, str]) -> bool | str:
    """Read AFTALEFLOW_SECURE_COOKIES: True, False or "auto"."""
    raw = environ.get(SECURE_COOKIES_ENV, "").strip().lower()
    if raw in ("", AUTO):
        return AUTO
    return env_bool(environ, SECURE_COOKIES_ENV, False)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, `Secure` per request under the `auto` setting."""

    def get_cookie_secure(self, app: Flask) -> bool:
        mode = app.config["SECURE_COOKIES"]
        if mode != AUTO:
            return bool(mode)
        base_url = str(app.config.get("BASE_URL") or "")
        return base_url.startswith("https://") or (has_request_context() and request.is_secure)


def init_hardening(app: Flask, environ: Mapping[str, str] | None = None) -> None:
    """Apply the settings above to `app` (config keys given to create_app win)."""
    env = os.environ if environ is None else environ
    app.config.setdefault("SECURE_COOKIES", secure_cookies_mode(env))
    app.config.setdefault("BASE_URL", (env.get("AFTALEFLOW_BASE_URL") or "").rstrip("/") or None)
    app.config.setdefault("TRUSTED_PROXIES", env_int(env, TRUSTED_PROXIES_ENV, 0, maximum=10))
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's own default is None: no limit
        app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.config.update(
        REMEMBER_COOKIE_SECURE=app.config["SECURE_COOKIES"] is True,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    app.session_interface = SessionCookies()
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.before_request(refuse_large_body)
    app.before_request(refuse_nul_bytes)
    app.after_request(transport_headers)


def refuse_large_body() -> None:
    """Answer 413 when the declared body is over the limit, without reading it. (A body sent
    without a length is cut off at the limit by werkzeug as it is read.)"""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if limit is not None and length is not None and length > limit:
        abort(413)


def refuse_nul_bytes() -> None:
    """Answer 400 when a query value holds a NUL byte: PostgreSQL refuses NUL even as a query
    parameter, so a lookup with one would fail as a server error. (Form values go through the
    validated fields, which name the problem at the field; the API has its own schema.)"""
    for key, items in request.args.lists():
        if "\x00" in key or any("\x00" in item for item in items):
            abort(400)


def transport_headers(response: Response) -> Response:
    """HSTS over https; `Cache-Control: no-store` on what a signed-in user or an API token
    holder gets, and on the account pages."""
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint == "static":
        return response
    signed_in = "_user_id" in session or g.get("api_user") is not None
    if signed_in or request.blueprint in ACCOUNT_BLUEPRINTS:
        response.headers["Cache-Control"] = NO_STORE
    return response
