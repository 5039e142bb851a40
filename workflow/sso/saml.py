"""The SAML 2.0 service provider (pysaml2, which signs and verifies with Debian's xmlsec1).

OIOSAML 3 asks for signed authentication requests and signed, encrypted assertions. pysaml2
checks the signature against the IdP's metadata, the audience (our entity id), the recipient
and destination (our ACS address), NotBefore/NotOnOrAfter with the provider's clock skew, and
InResponseTo against the request this browser started; the assertion's id is then noted in
the database so a copy is refused on every server until it expires.

pysaml2 compiles its XML schemas when imported (about two seconds): this module is imported
where SAML is used, not at start-up, so a worker that never sees SAML starts without it.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import url_for
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512

from workflow.sso import oiosaml
from workflow.sso.mapping import NOT_VERIFIED, Identity, Refusal
from workflow.sso.settings import SamlProvider

# OIOSAML 3: a redirect binding's signature is RSA with SHA-256 or better, never SHA-1.
STRONG_SIGNATURES = frozenset({SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512})


class XmlsecMissing(RuntimeError):
    """SAML needs the xmlsec1 program (Debian package xmlsec1)."""


@dataclass(frozen=True)
class Verified:
    """A verified assertion: who it names, its id and how long it is valid."""

    identity: Identity
    assertion_id: str
    expires_at: datetime


def xmlsec_binary() -> str:
    found = shutil.which("xmlsec1")
    if found is None:
        raise XmlsecMissing("SAML kræver programmet xmlsec1 (apt install xmlsec1)")
    return found


def sp_config(provider: SamlProvider) -> SPConfig:
    """pysaml2's configuration of our SP for `provider`, with this site's addresses."""
    acs = url_for("sso.saml_acs", provider=provider.key, _external=True)
    sls = url_for("sso.saml_sls", provider=provider.key, _external=True)
    settings: dict[str, Any] = {
        "entityid": provider.entity_id,
        "xmlsec_binary": xmlsec_binary(),
        "key_file": str(provider.key_file),
        "cert_file": str(provider.cert_file),
        "encryption_keypairs": [
            {
                "key_file": str(provider.encryption_key_file),
                "cert_file": str(provider.encryption_cert_file),
            }
        ],
        "metadata": {"local": [str(provider.idp_metadata)]},
        "accepted_time_diff": provider.clock_skew_seconds,
        # OIOSAML 3: RSA-SHA256 signatures and SHA-256 digests, never SHA-1.
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": "Aftaleflow",
                "endpoints": {
                    "assertion_consumer_service": [(acs, BINDING_HTTP_POST)],
                    "single_logout_service": [(sls, BINDING_HTTP_REDIRECT)],
                },
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "name_id_format": NAMEID_FORMAT_PERSISTENT,
            }
        },
    }
    config = SPConfig()
    config.load(settings)
    return config


def client(provider: SamlProvider) -> Saml2Client:
    return Saml2Client(config=sp_config(provider))


def metadata(provider: SamlProvider) -> str:
    """Our SP metadata (signing and encryption certificates, ACS and SLO addresses)."""
    xml = create_metadata_string(None, config=sp_config(provider), valid=24 * 7)
    return xml.decode("utf-8") if isinstance(xml, bytes) else str(xml)


def idp_entity_id(saml: Saml2Client) -> str:
    found = list(saml.metadata.identity_providers())
    if len(found) != 1:
        raise RuntimeError("idp_metadata skal beskrive netop én identitetsudbyder")
    return str(found[0])


def start(provider: SamlProvider, relay_state: str) -> tuple[str, str]:
    """A signed AuthnRequest by redirect: its id (kept in the session) and the IdP address."""
    saml = client(provider)
    request_id, info = saml.prepare_for_authenticate(
        entityid=idp_entity_id(saml),
        relay_state=relay_state,
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    location = dict(info["headers"])["Location"]
    return str(request_id), str(location)


def finish(provider: SamlProvider, response: str, outstanding: dict[str, str]) -> Verified:
    """Verify the IdP's POSTed response; Refusal with the reason when it does not hold."""
    saml = client(provider)
    try:
        parsed = saml.parse_authn_request_response(
            response, BINDING_HTTP_POST, outstanding=outstanding
        )
    except Exception as error:  # pysaml2 raises many unrelated types for a bad response
        raise Refusal(
            "saml_invalid",
            NOT_VERIFIED,
            {"kind": type(error).__name__, "error": str(error)[:300]},
        ) from None
    if parsed is None or parsed.assertion is None:
        raise Refusal("saml_invalid", NOT_VERIFIED, {"kind": "no assertion"})
    attributes = _attributes(parsed.assertion)
    names = provider.attributes
    cvr = _first(attributes, names["cvr"])
    privileges = oiosaml.privileges(_first(attributes, names["privileges"]) or "", cvr)
    name_id = parsed.name_id
    session_index = parsed.session_index() if hasattr(parsed, "session_index") else None
    identity = Identity(
        provider=provider.key,
        subject=_first(attributes, names["uuid"]) or (name_id.text if name_id else "") or "",
        name=_first(attributes, names["name"]) or "",
        email=_first(attributes, names["email"]) or "",
        groups=tuple(privileges),
        cvr=cvr,
        assurance=_first(attributes, names["assurance"]),
        logout_hint={
            "name_id": name_id.text if name_id is not None else "",
            "name_id_format": (name_id.format or "") if name_id is not None else "",
            "session_index": str(session_index or ""),
        },
    )
    expires = (
        datetime.fromtimestamp(parsed.not_on_or_after, UTC)
        if parsed.not_on_or_after
        else datetime.now(UTC) + timedelta(hours=1)
    )
    return Verified(identity, str(parsed.assertion.id), expires)


def logout_redirect(provider: SamlProvider, hint: dict[str, str], relay_state: str) -> str | None:
    """A signed LogoutRequest to the IdP by redirect (single logout), or None without SLO."""
    saml = client(provider)
    idp = idp_entity_id(saml)
    try:
        destinations = saml.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")
    except Exception:
        return None
    if not destinations or not hint.get("name_id"):
        return None
    destination = destinations[0]["location"]
    name_id = NameID(text=hint["name_id"], format=hint.get("name_id_format") or None)
    _request_id, request = saml.create_logout_request(
        destination,
        idp,
        name_id=name_id,
        sign=False,
        session_indexes=[hint["session_index"]] if hint.get("session_index") else None,
    )
    info = saml.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(request),
        destination,
        relay_state,
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    return str(dict(info["headers"])["Location"])


@dataclass(frozen=True)
class LogoutAsk:
    """A verified LogoutRequest from the IdP: the NameID it names and the message to answer."""

    name_id: str
    session_indexes: tuple[str, ...]
    message: Any


def parse_idp_logout(provider: SamlProvider, query: Mapping[str, str]) -> LogoutAsk:
    """Verify an IdP-initiated LogoutRequest sent by redirect; Refusal when it does not hold.

    pysaml2 checks a redirect binding's signature only in an IdP's role, so it is checked here
    against the IdP's signing certificates from its metadata, as are the issuer, destination
    (our SLS address) and issue instant.
    """
    saml = client(provider)
    idp = idp_entity_id(saml)
    encoded, sigalg, signature = (query.get(k) for k in ("SAMLRequest", "SigAlg", "Signature"))
    if not encoded or not signature or sigalg not in STRONG_SIGNATURES:
        raise Refusal("saml_logout_invalid", NOT_VERIFIED, {"kind": "unsigned"})
    signed = {"SAMLRequest": encoded, "SigAlg": sigalg, "Signature": signature}
    if query.get("RelayState") is not None:
        signed["RelayState"] = str(query["RelayState"])
    try:
        parsed = saml.parse_logout_request(encoded, BINDING_HTTP_REDIRECT)
        certificates = saml.metadata.certs(idp, "idpsso", "signing")
        verified = any(
            verify_redirect_signature(signed, saml.sec.sec_backend, certificate)
            for _name, certificate in certificates
        )
    except Exception as error:  # pysaml2 raises many unrelated types for a bad request
        detail: dict[str, object] = {"kind": type(error).__name__, "error": str(error)[:300]}
        raise Refusal("saml_logout_invalid", NOT_VERIFIED, detail) from None
    message = parsed.message if parsed is not None else None
    if message is None or not verified:
        raise Refusal("saml_logout_invalid", NOT_VERIFIED, {"kind": "bad signature"})
    if message.issuer is None or message.issuer.text != idp or not parsed.verify():
        raise Refusal("saml_logout_invalid", NOT_VERIFIED, {"kind": "wrong issuer or time"})
    if message.name_id is None or not message.name_id.text:
        raise Refusal("saml_logout_invalid", NOT_VERIFIED, {"kind": "no NameID"})
    indexes = tuple(str(index.text) for index in message.session_index or [] if index.text)
    return LogoutAsk(str(message.name_id.text), indexes, message)


def answer_idp_logout(provider: SamlProvider, ask: LogoutAsk, relay_state: str) -> str:
    """The IdP address carrying our signed LogoutResponse (success) to its LogoutRequest."""
    saml = client(provider)
    idp = idp_entity_id(saml)
    service = saml.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")[0]
    destination = service.get("response_location") or service["location"]
    response = saml.create_logout_response(ask.message, [BINDING_HTTP_REDIRECT], sign=False)
    info = saml.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(response),
        destination,
        relay_state,
        response=True,
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    return str(dict(info["headers"])["Location"])


def _attributes(assertion: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            values = [value.text or "" for value in attribute.attribute_value or []]
            found.setdefault(attribute.name, []).extend(values)
    return found


def _first(attributes: dict[str, list[str]], name: str) -> str | None:
    values = attributes.get(name) or []
    return values[0].strip() if values and values[0].strip() else None
