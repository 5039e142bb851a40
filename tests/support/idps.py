"""Real identity providers on loopback for the single sign-on tests, and the app beside them.

- An OpenID provider: npm `oidc-provider` (tests/sso/oidc-provider, installed with `npm ci`
  from its lockfile), run with the machine's Node.
- A SAML 2.0 IdP built with pysaml2 (signs and encrypts with Debian's xmlsec1), served by
  werkzeug in a thread; its knobs make the bad answers the negative tests need.
- The app on a live port with its own seeded SQLite file and a written data/sso.toml.

Without Node the OpenID tests skip, saying why; under AFTALEFLOW_REQUIRE_BROWSER=1 (CI) they
fail instead, like the browser tests.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import RSAKey
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.samlp import STATUS_SUCCESS
from saml2.server import Server
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import SIG_RSA_SHA256
from sqlalchemy.orm import Session
from werkzeug.wrappers import Request, Response

from support.loopback import serve
from workflow.app import create_app
from workflow.engine import clock, migrate
from workflow.engine.db import make_engine
from workflow.organisation import seed

OIDC_PACKAGE = Path(__file__).resolve().parents[1] / "sso" / "oidc-provider"
REQUIRE_ENV = "AFTALEFLOW_REQUIRE_BROWSER"
CLIENT_ID = "aftaleflow"
CLIENT_SECRET = "test-client-secret-" + "k" * 24
SECRET_ENV = "AFTALEFLOW_TEST_OIDC_SECRET"
LOA = "https://data.gov.dk/concept/core/nsis/loa"
CVR = "https://data.gov.dk/model/core/eid/professional/cvr"
NAME = "https://data.gov.dk/model/core/eid/fullName"
EMAIL = "https://data.gov.dk/model/core/eid/email"
UUID = "https://data.gov.dk/model/core/eid/professional/uuid/persistent"
PRIVILEGES = "https://data.gov.dk/model/core/eid/privilegesIntermediate"


def node_decision(required: str | None, node: str | None) -> tuple[str, str | None]:
    """Whether the OpenID provider tests "run", "skip" or "fail" here (as browser_decision)."""
    if node is not None:
        return "run", None
    missing = "node findes ikke (apt install nodejs npm)"
    if (required or "").strip().lower() in ("1", "true", "yes"):
        return "fail", f"OpenID-testene er påkrævet ({REQUIRE_ENV}=1), men {missing}"
    return "skip", f"OpenID-testene springes over: {missing}"


def require_node() -> str:
    """The node program, or skip/fail the test as node_decision says."""
    decision, reason = node_decision(os.environ.get(REQUIRE_ENV), shutil.which("node"))
    if decision == "skip":
        pytest.skip(reason or "")
    if decision == "fail":
        pytest.fail(reason or "", pytrace=False)
    return str(shutil.which("node"))


def install_oidc_provider() -> None:
    """`npm ci` in the vendored package once (a file lock keeps parallel workers apart)."""
    with (OIDC_PACKAGE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = OIDC_PACKAGE / "node_modules" / ".package-lock.json"
        lockfile = OIDC_PACKAGE / "package-lock.json"
        if marker.exists() and marker.stat().st_mtime >= lockfile.stat().st_mtime:
            return
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm findes ikke (apt install npm)", pytrace=False)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=OIDC_PACKAGE,
            check=True,
            timeout=600,
        )


# Keys and certificates -------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    key: Path
    cert: Path

    def cert_body(self) -> str:
        """The certificate's base64 without PEM armour (as metadata carries it)."""
        lines = self.cert.read_text().strip().splitlines()
        return "".join(line for line in lines if "CERTIFICATE" not in line)


def make_key_pair(folder: Path, name: str) -> KeyPair:
    """A fresh RSA key and a self-signed certificate for it, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    pair = KeyPair(folder / f"{name}.key", folder / f"{name}.crt")
    pair.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pair


# A WSGI app whose real app is set once its port is known ------------------------------------


class Deferred:
    """Serve `target` once it is set: a server's port is known before the app is built."""

    def __init__(self) -> None:
        self.target: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.target is not None, "the app behind this port is not set yet"
        return self.target(environ, start_response)


# The OpenID provider -------------------------------------------------------------------------


@contextmanager
def oidc_provider(
    folder: Path, app_url: str, provider_key: str, accounts: dict[str, dict[str, Any]]
) -> Iterator[str]:
    """Run oidc-provider for the app at `app_url`; yields its issuer URL."""
    node = require_node()
    install_oidc_provider()
    settings = folder / "oidc-provider.json"
    settings.write_text(
        json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [f"{app_url}/sso/{provider_key}/svar"],
                "post_logout_redirect_uris": [f"{app_url}/login"],
                "accounts": accounts,
            }
        )
    )
    process = subprocess.Popen(
        [node, str(OIDC_PACKAGE / "server.js"), str(settings)],
        cwd=OIDC_PACKAGE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening "), f"oidc-provider did not start: {line!r}"
        yield line.removeprefix("listening ")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@dataclass
class TokenProxy:
    """A loopback proxy in front of the OpenID provider that re-signs its ID tokens.

    The app's discovery address is the proxy's: it serves the provider's discovery document
    with the token endpoint and the JWKS address pointed at itself, passes the code exchange on
    to the real provider and signs the real ID token again with its own key, which its JWKS
    publishes. Untouched, a sign-in through it succeeds; its knobs make the bad answers:
    `rogue_signer` signs with another key under the published key's id (a bad signature),
    `audience` names another client in `aud` (a token issued to someone else).
    """

    issuer: str
    base_url: str = ""
    rogue_signer: bool = False
    audience: str | None = None

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "proxy-key"}, private=True)
        self.rogue = RSAKey.generate_key(2048, parameters={"kid": "proxy-key"}, private=True)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == "/.well-known/openid-configuration":
            response = self._discovery()
        elif request.path == "/jwks":
            response = Response(json.dumps({"keys": [self.key.as_dict(private=False)]}))
        elif request.path == "/token" and request.method == "POST":
            response = self._token(request)
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    def _discovery(self) -> Response:
        url = f"{self.issuer}/.well-known/openid-configuration"
        document = requests.get(url, timeout=10).json()
        self.token_endpoint = document["token_endpoint"]
        document["token_endpoint"] = f"{self.base_url}/token"
        document["jwks_uri"] = f"{self.base_url}/jwks"
        return Response(json.dumps(document), mimetype="application/json")

    def _token(self, request: Request) -> Response:
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in ("authorization", "content-type", "accept")
        }
        answer = requests.post(
            self.token_endpoint, data=request.get_data(), headers=headers, timeout=10
        )
        body = answer.json()
        if "id_token" in body:
            payload = body["id_token"].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            if self.audience is not None:
                # `azp` names us, so the token passes every check but the audience's own.
                claims["aud"] = self.audience
                claims["azp"] = CLIENT_ID
            signer = self.rogue if self.rogue_signer else self.key
            body["id_token"] = jwt.encode({"alg": "RS256", "kid": "proxy-key"}, claims, signer)
        return Response(json.dumps(body), status=answer.status_code, mimetype="application/json")


# The SAML IdP -------------------------------------------------------------------------------


@dataclass
class SamlIdp:
    """A pysaml2 IdP that signs the person in whose attributes `identity` holds, at once.

    Knobs for the negative tests: `rogue_signer` signs with a key the SP does not trust,
    `audience` names another SP, `lifetime_minutes` < 0 sends an assertion already expired.
    """

    folder: Path
    base_url: str = ""
    sp_metadata_url: str = ""
    identity: dict[str, list[str]] = field(default_factory=dict)
    subject: str = "persistent-subject"
    rogue_signer: bool = False
    audience: str | None = None
    lifetime_minutes: int = 5
    logged_out: list[str] = field(default_factory=list)
    # The SP's answers to our own LogoutRequests: (status is success, signature verified).
    logout_answers: list[tuple[bool, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.keys = make_key_pair(self.folder, "idp")
        self.rogue = make_key_pair(self.folder, "rogue")

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/idp/metadata"

    def _config(self) -> IdPConfig:
        keys = self.rogue if self.rogue_signer else self.keys
        sp_metadata = requests.get(self.sp_metadata_url, timeout=10).text
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": shutil.which("xmlsec1"),
                "key_file": str(keys.key),
                "cert_file": str(keys.cert),
                "metadata": {"inline": [sp_metadata]},
                "accepted_time_diff": 60,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{self.base_url}/sso", BINDING_HTTP_REDIRECT)
                            ],
                            "single_logout_service": [
                                (f"{self.base_url}/slo", BINDING_HTTP_REDIRECT)
                            ],
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": self.lifetime_minutes},
                                "name_form": NAME_FORMAT_URI,
                                "attribute_restrictions": None,
                            }
                        },
                    }
                },
            }
        )
        return config

    def metadata(self) -> str:
        """The IdP's metadata, naming its real signing certificate."""
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": shutil.which("xmlsec1"),
                "key_file": str(self.keys.key),
                "cert_file": str(self.keys.cert),
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{self.base_url}/sso", BINDING_HTTP_REDIRECT)
                            ],
                            "single_logout_service": [
                                (f"{self.base_url}/slo", BINDING_HTTP_REDIRECT)
                            ],
                        }
                    }
                },
            }
        )
        return bytes(create_metadata_string(None, config=config, valid=24)).decode("utf-8")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == "/sso":
            response = self._sign_in(request)
        elif request.path == "/slo":
            response = self._log_out(request)
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    def _sign_in(self, request: Request) -> Response:
        server = Server(config=self._config())
        parsed = server.parse_authn_request(request.args["SAMLRequest"], BINDING_HTTP_REDIRECT)
        args = server.response_args(parsed.message)
        sp = parsed.message.issuer.text
        encryption_cert = server.metadata.certs(sp, "spsso", "encryption")[0][1]
        policy = server.config.getattr("policy", "idp")
        if self.audience is not None:
            # Address the assertion to another service provider.
            conditions, audience = policy.conditions, self.audience
            policy.conditions = lambda _sp: conditions(audience)
        response = server.create_authn_response(
            self.identity,
            userid=self.subject,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=self.name_id_of(self.identity)),
            authn={"class_ref": "https://data.gov.dk/concept/core/nsis/loa/Substantial"},
            sign_assertion=True,
            sign_response=False,
            encrypt_assertion=True,
            encrypt_cert_assertion=encryption_cert,
            release_policy=policy,
            **args,
        )
        http = server.apply_binding(
            BINDING_HTTP_POST,
            str(response),
            args["destination"],
            request.args.get("RelayState", ""),
            response=True,
        )
        return Response(http["data"], mimetype="text/html")

    @staticmethod
    def name_id_of(identity: dict[str, list[str]]) -> str:
        """The persistent NameID this IdP gives the person (not their uuid attribute)."""
        return "nameid-" + (identity.get(UUID) or ["ukendt"])[0]

    def logout_request(self, name_id: str, session_index: str = "s1") -> str:
        """The SP address carrying this IdP's signed LogoutRequest for `name_id` (IdP-initiated
        single logout); signed by the rogue key when `rogue_signer` is set."""
        server = Server(config=self._config())
        sp = server.metadata.service_providers()[0]
        destination = server.metadata.single_logout_service(sp, BINDING_HTTP_REDIRECT, "spsso")[0][
            "location"
        ]
        _id, message = server.create_logout_request(
            destination,
            self.entity_id,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id),
            sign=False,
            session_indexes=[session_index],
        )
        http = server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(message),
            destination,
            "tilbage-til-idp",
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        return str(dict(http["headers"])["Location"])

    def _logout_answer(self, request: Request) -> Response:
        server = Server(config=self._config())
        signed = request.args.to_dict(flat=True)
        parsed = server.parse_logout_request_response(signed["SAMLResponse"], BINDING_HTTP_REDIRECT)
        sp = parsed.response.issuer.text
        verified = "Signature" in signed and any(
            verify_redirect_signature(signed, server.sec.sec_backend, cert)
            for _name, cert in server.metadata.certs(sp, "spsso", "signing")
        )
        success = parsed.response.status.status_code.value == STATUS_SUCCESS
        self.logout_answers.append((success, verified))
        return Response("logget ud", mimetype="text/plain")

    def _log_out(self, request: Request) -> Response:
        if "SAMLResponse" in request.args:
            return self._logout_answer(request)
        query = parse_qs(request.query_string.decode())
        server = Server(config=self._config())
        parsed = server.parse_logout_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        self.logged_out.append(parsed.message.name_id.text)
        answer = server.create_logout_response(parsed.message, [BINDING_HTTP_REDIRECT])
        destination = server.metadata.single_logout_service(
            parsed.message.issuer.text, BINDING_HTTP_REDIRECT, "spsso"
        )[0]["location"]
        http = server.apply_binding(
            BINDING_HTTP_REDIRECT, str(answer), destination, "", response=True
        )
        location = dict(http["headers"])["Location"]
        return Response(status=302, headers={"Location": location})


def privileges_value(cvr: str, *privileges: str) -> str:
    """An OIOSAML 3 privilegesIntermediate value: a base64 basic privilege list."""
    items = "".join(f"<Privilege>{p}</Privilege>" for p in privileges)
    xml = (
        '<bpp:PrivilegeList xmlns:bpp="http://digst.dk/oiosaml/basic_privilege_profile">'
        f'<PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:{cvr}">{items}'
        "</PrivilegeGroup></bpp:PrivilegeList>"
    )
    return base64.b64encode(xml.encode()).decode()


def oiosaml_identity(
    name: str, email: str, cvr: str, uuid: str, *privileges: str, loa: str = "Substantial"
) -> dict[str, list[str]]:
    """The OIOSAML 3 attributes Context Handler sends for a person."""
    return {
        NAME: [name],
        EMAIL: [email],
        CVR: [cvr],
        UUID: [uuid],
        LOA: [loa],
        PRIVILEGES: [privileges_value(cvr, *privileges)],
    }


# The app ---------------------------------------------------------------------------------------


@dataclass
class SsoSite:
    """The app, its database file and the IdPs beside it."""

    url: str
    database_url: str
    saml: SamlIdp
    oidc_issuer: str | None
    folder: Path
    oidc_proxy: TokenProxy | None = None

    def set_oidc_account(self, login: str, claims: dict[str, Any]) -> None:
        """Add or change a person at the OpenID provider (read again at each login)."""
        path = self.folder / "oidc-provider.json"
        settings = json.loads(path.read_text())
        settings["accounts"][login] = claims
        path.write_text(json.dumps(settings))

    @contextmanager
    def session(self) -> Iterator[Session]:
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()


SSO_TOML = """
[login]
local_passwords = {local_passwords}
break_glass = ["beredskab@aftaleflow.test"]

{oidc}

[[saml]]
key = "kombit"
label = "Context Handler (test)"
entity_id = "{app}/saml/kombit/metadata"
idp_metadata = "idp-metadata.xml"
key_file = "sp.key"
cert_file = "sp.crt"
encryption_key_file = "sp-enc.key"
encryption_cert_file = "sp-enc.crt"
minimum_assurance = "Substantial"
clock_skew_seconds = 30

[parties_by_cvr]
"29189846" = "KOM-GENTOFTE"
"29190623" = "REGION-H"

[[groups]]
provider = "kombit"
group = "http://aftaleflow.dk/roller/tss-medlem"
body = "TSS"
role = "member"

[[groups]]
provider = "kombit"
group = "http://aftaleflow.dk/roller/su-nord-sekretariat"
body = "SU-NORD-SOM"
role = "secretariat"
"""

OIDC_TOML = """
[[oidc]]
key = "entra"
label = "Region Hovedstaden (test)"
discovery_url = "{discovery}/.well-known/openid-configuration"
client_id = "{client_id}"
client_secret_env = "{secret_env}"
scopes = ["openid", "profile", "email", "groups"]
party = "REGION-H"
clock_skew_seconds = 60

[[groups]]
provider = "entra"
group = "aftaleflow-sku-formand"
body = "SKU"
role = "chair"

[[groups]]
provider = "entra"
group = "aftaleflow-tss-sekretariat"
body = "TSS"
role = "secretariat"
"""


@contextmanager
def sso_site(
    folder: Path,
    populate: Callable[[Session], Any] | None = None,
    oidc_accounts: dict[str, dict[str, Any]] | None = None,
    local_passwords: bool = True,
    oidc_proxy: bool = False,
) -> Iterator[SsoSite]:
    """The app with single sign-on through a SAML IdP (and an OpenID provider when
    `oidc_accounts` is given), each on its own loopback port; with `oidc_proxy` the app finds
    the OpenID provider through a TokenProxy that re-signs its ID tokens."""
    clock.set_time(None)
    database_url = f"sqlite:///{folder / 'sso.db'}"
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        seed.run(session)
        session.commit()
        if populate is not None:
            populate(session)
            session.commit()
    engine.dispose()
    for name in ("sp", "sp-enc"):
        pair = make_key_pair(folder, name)
        assert pair.key.exists()
    app_port, idp_port = Deferred(), Deferred()
    idp = SamlIdp(folder)
    with serve(app_port) as app_url, serve(idp_port) as idp_url:
        idp.base_url = idp_url
        idp.sp_metadata_url = f"{app_url}/saml/kombit/metadata"
        (folder / "idp-metadata.xml").write_text(idp.metadata())
        idp_port.target = idp
        with (
            _maybe_oidc(folder, app_url, oidc_accounts) as issuer,
            _maybe_proxy(issuer if oidc_proxy else None) as proxy,
        ):
            discovery = proxy.base_url if proxy is not None else issuer
            oidc = (
                OIDC_TOML.format(discovery=discovery, client_id=CLIENT_ID, secret_env=SECRET_ENV)
                if issuer
                else ""
            )
            (folder / "sso.toml").write_text(
                SSO_TOML.format(
                    app=app_url,
                    oidc=oidc,
                    local_passwords="true" if local_passwords else "false",
                )
            )
            os.environ[SECRET_ENV] = CLIENT_SECRET
            app = create_app(
                {
                    "DATABASE_URL": database_url,
                    "SECRET_KEY": "ssotest-" + "x" * 32,
                    "SSO_CONFIG": str(folder / "sso.toml"),
                }
            )
            app_port.target = app
            try:
                yield SsoSite(app_url, database_url, idp, issuer, folder, proxy)
            finally:
                engine_ = app.extensions["aftaleflow.database"].engine
                if engine_ is not None:
                    engine_.dispose()


@contextmanager
def _maybe_oidc(
    folder: Path, app_url: str, accounts: dict[str, dict[str, Any]] | None
) -> Iterator[str | None]:
    if accounts is None:
        yield None
        return
    with oidc_provider(folder, app_url, "entra", accounts) as issuer:
        yield issuer


@contextmanager
def _maybe_proxy(issuer: str | None) -> Iterator[TokenProxy | None]:
    if issuer is None:
        yield None
        return
    proxy = TokenProxy(issuer)
    with serve(proxy) as url:
        proxy.base_url = url
        yield proxy
