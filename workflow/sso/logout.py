"""Ending the provider's session after a local logout: OpenID Connect RP-initiated logout or
SAML single logout, for a browser that signed in through a provider."""

from __future__ import annotations

from flask import current_app, session

from workflow.sso import oidc
from workflow.sso.settings import OidcProvider, current_settings

# What the session remembers of a provider sign-in: the provider and its logout hint.
SESSION_KEY = "sso"


def provider_logout(return_to: str) -> str | None:
    """Where to send the browser after a local logout so the provider's session ends too
    (RP-initiated logout, SAML single logout); None for a password login."""
    signed_in = session.get(SESSION_KEY)
    if not isinstance(signed_in, dict):
        return None
    provider = current_settings().providers.get(str(signed_in.get("provider")))
    hint = signed_in.get("hint") or {}
    if provider is None or not isinstance(hint, dict):
        return None
    try:
        if isinstance(provider, OidcProvider):
            return oidc.logout_url(provider, hint, return_to)
        from workflow.sso import saml  # pysaml2 loads on first SAML use (see saml.py)

        return saml.logout_redirect(provider, hint, relay_state="")
    except Exception:  # the provider is down: the local logout has happened all the same
        current_app.logger.warning("single logout at %s failed", provider.key, exc_info=True)
        return None
