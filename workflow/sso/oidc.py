"""OpenID Connect through Authlib's Flask client: discovery, authorization code with PKCE
(S256), state and nonce kept in the session, the ID token's signature (the provider's JWKS),
issuer, audience (named here: Authlib alone checks only `azp`), expiry and nonce checked with
the provider's clock skew; RP-initiated logout.

Authlib (with requests, joserfc and cryptography: about a fifth of the app's start-up) is
imported when an OpenID provider is first used, not when the app starts: most requests, and
every deployment without OpenID providers, never need it. The settings are still validated at
start-up (workflow.sso.settings).
"""

from __future__ import annotations

import threading
from typing import Any, cast
from urllib.parse import urlencode

from flask import Flask, current_app, url_for
from werkzeug.wrappers import Response

from workflow.sso.mapping import NOT_VERIFIED, Identity, Refusal
from workflow.sso.settings import OidcProvider, SsoSettings

EXTENSION = "aftaleflow.oidc"


class _LazyRegistry:
    """The app's OpenID providers, registered with one Authlib registry on first use."""

    def __init__(self, app: Flask, providers: list[OidcProvider]) -> None:
        self.app = app
        self.providers = providers
        self._oauth: Any = None
        self._lock = threading.Lock()  # waitress serves from several threads

    def oauth(self) -> Any:
        if self._oauth is None:
            with self._lock:
                if self._oauth is None:
                    self._oauth = self._register()
        return self._oauth

    def _register(self) -> Any:
        from authlib.integrations.flask_client import OAuth

        oauth = OAuth(self.app)
        for provider in self.providers:
            oauth.register(
                name=provider.key,
                client_id=provider.client_id,
                client_secret=provider.client_secret,
                server_metadata_url=provider.discovery_url,
                client_kwargs={
                    "scope": " ".join(provider.scopes),
                    "code_challenge_method": "S256",
                    "timeout": 10,
                },
            )
        return oauth


def init_oidc(app: Flask, settings: SsoSettings) -> None:
    """Note the settings' OpenID providers; Authlib registers them on first use."""
    providers = [p for p in settings.providers.values() if isinstance(p, OidcProvider)]
    app.extensions[EXTENSION] = _LazyRegistry(app, providers)


def _client(provider: OidcProvider) -> Any:
    registry = cast(_LazyRegistry, current_app.extensions[EXTENSION])
    return registry.oauth().create_client(provider.key)


def start(provider: OidcProvider) -> Response:
    """Send the browser to the provider (state, nonce and PKCE verifier go in the session)."""
    redirect_uri = url_for("sso.oidc_callback", provider=provider.key, _external=True)
    return cast(Response, _client(provider).authorize_redirect(redirect_uri))


def finish(provider: OidcProvider) -> Identity:
    """The verified identity of the provider's answer on the callback; Refusal otherwise."""
    from authlib.integrations.base_client.errors import OAuthError
    from joserfc.errors import JoseError
    from requests import RequestException

    client = _client(provider)
    try:
        # Authlib checks `aud` only when told to (otherwise only `azp`, which a token issued
        # to another client may set to us): the audience must name this client.
        claims_options = {
            "iss": {"essential": True, "values": [client.load_server_metadata()["issuer"]]},
            "aud": {"essential": True, "values": [provider.client_id]},
        }
        token = client.authorize_access_token(
            leeway=provider.clock_skew_seconds, claims_options=claims_options
        )
    except (OAuthError, JoseError, RequestException, KeyError, ValueError) as error:
        reason = getattr(error, "error", None) or type(error).__name__
        detail = {"error": str(error)[:300], "kind": reason}
        raise Refusal("oidc_invalid", NOT_VERIFIED, detail) from None
    claims = token.get("userinfo")
    if not claims:
        raise Refusal("oidc_invalid", NOT_VERIFIED, {"error": "no id_token"})
    names = provider.claims
    groups = claims.get(names["groups"]) or []
    if isinstance(groups, str):
        groups = [groups]
    return Identity(
        provider=provider.key,
        subject=str(claims.get(names["subject"]) or ""),
        name=str(claims.get(names["name"]) or ""),
        email=str(claims.get(names["email"]) or ""),
        groups=tuple(str(group) for group in groups),
        logout_hint={"id_token": str(token.get("id_token", ""))},
    )


def logout_url(provider: OidcProvider, hint: dict[str, str], return_to: str) -> str | None:
    """The provider's end-session address for RP-initiated logout, or None without one."""
    metadata = _client(provider).load_server_metadata()
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    query = {
        "client_id": provider.client_id,
        "post_logout_redirect_uri": return_to,
    }
    if hint.get("id_token"):
        query["id_token_hint"] = hint["id_token"]
    return f"{endpoint}?{urlencode(query)}"
