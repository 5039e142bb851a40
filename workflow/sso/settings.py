"""The single sign-on settings of a deployment, read from a TOML file and validated at load.

The file (AFTALEFLOW_SSO_CONFIG, or the app's SSO_CONFIG; `data/sso.example.toml` shows every
key) names the identity providers, which claims or attributes make the user, and which groups
or privileges give which membership. Without a file there is no single sign-on and local
passwords are the only way in.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from flask import current_app

from models import Role

CONFIG_ENV = "AFTALEFLOW_SSO_CONFIG"
SETTINGS_EXTENSION = "aftaleflow.sso"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
ASSURANCE_LEVELS = ("Low", "Substantial", "High")


class SsoConfigError(ValueError):
    """The file is not valid; the message says where and why (Danish, for the operator)."""


@dataclass(frozen=True)
class GroupRule:
    """One group (OIDC) or privilege (SAML) and the membership, or admin right, it gives."""

    group: str
    body: str | None
    role: Role | None
    admin: bool = False


@dataclass(frozen=True)
class OidcProvider:
    key: str
    label: str
    discovery_url: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    party: str | None
    clock_skew_seconds: int
    claims: dict[str, str]
    groups: tuple[GroupRule, ...]
    kind: str = "oidc"


@dataclass(frozen=True)
class SamlProvider:
    key: str
    label: str
    entity_id: str
    idp_metadata: Path
    key_file: Path
    cert_file: Path
    encryption_key_file: Path
    encryption_cert_file: Path
    minimum_assurance: str
    clock_skew_seconds: int
    party: str | None
    attributes: dict[str, str]
    groups: tuple[GroupRule, ...]
    kind: str = "saml"


Provider = OidcProvider | SamlProvider


@dataclass(frozen=True)
class SsoSettings:
    local_passwords: bool = True
    break_glass: frozenset[str] = frozenset()
    providers: dict[str, Provider] = field(default_factory=dict)
    parties_by_cvr: dict[str, str] = field(default_factory=dict)

    def allows_password(self, email: str) -> bool:
        """Whether `email` may sign in with a local password in this deployment."""
        return self.local_passwords or email.strip().lower() in self.break_glass


OIDC_CLAIMS = {"subject": "sub", "name": "name", "email": "email", "groups": "groups"}
# OIOSAML 3 (the Danish SAML profile): the attribute names NemLog-in and Context Handler send.
OIOSAML_ATTRIBUTES = {
    "name": "https://data.gov.dk/model/core/eid/fullName",
    "email": "https://data.gov.dk/model/core/eid/email",
    "cvr": "https://data.gov.dk/model/core/eid/professional/cvr",
    "assurance": "https://data.gov.dk/concept/core/nsis/loa",
    "privileges": "https://data.gov.dk/model/core/eid/privilegesIntermediate",
    "uuid": "https://data.gov.dk/model/core/eid/professional/uuid/persistent",
}


def load(path: Path | str | None, environ: dict[str, str] | None = None) -> SsoSettings:
    """The settings in `path` (None: no single sign-on); SsoConfigError when not valid."""
    if path is None or str(path).strip() == "":
        return SsoSettings()
    environ = dict(os.environ) if environ is None else environ
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SsoConfigError(f"{source}: kan ikke læses som TOML ({error})") from None
    return parse(data, source.parent, environ, str(source))


def parse(data: dict[str, Any], base: Path, environ: dict[str, str], where: str) -> SsoSettings:
    """Validate the file's content; relative paths are read from `base`."""
    _only(data, {"login", "oidc", "saml", "parties_by_cvr", "groups"}, where)
    login = _table(data.get("login", {}), f"{where} [login]")
    _only(login, {"local_passwords", "break_glass"}, f"{where} [login]")
    local_passwords = login.get("local_passwords", True)
    if not isinstance(local_passwords, bool):
        raise SsoConfigError(f"{where} [login]: local_passwords skal være true eller false")
    break_glass = _strings(login.get("break_glass", []), f"{where} [login] break_glass")
    groups = _group_rules(data.get("groups", []), where)
    providers: dict[str, Provider] = {}
    for index, raw in enumerate(_list(data.get("oidc", []), f"{where} [[oidc]]")):
        provider: Provider = _oidc(raw, groups, environ, f"{where} [[oidc]] nr. {index + 1}")
        _add(providers, provider, where)
    for index, raw in enumerate(_list(data.get("saml", []), f"{where} [[saml]]")):
        provider = _saml(raw, groups, base, f"{where} [[saml]] nr. {index + 1}")
        _add(providers, provider, where)
    unknown = sorted({key for key in groups if key not in providers})
    if unknown:
        raise SsoConfigError(f"{where} [[groups]]: ukendt udbyder {', '.join(unknown)}")
    if not local_passwords and not providers:
        raise SsoConfigError(
            f"{where} [login]: lokale adgangskoder kan kun slås fra, når mindst én "
            "identitetsudbyder er sat op"
        )
    cvr = _table(data.get("parties_by_cvr", {}), f"{where} [parties_by_cvr]")
    for number, code in cvr.items():
        if not re.fullmatch(r"\d{8}", number) or not isinstance(code, str):
            raise SsoConfigError(
                f"{where} [parties_by_cvr]: {number!r} skal være et CVR-nummer (8 cifre) "
                "med en partskode som værdi"
            )
    return SsoSettings(
        local_passwords=local_passwords,
        break_glass=frozenset(email.strip().lower() for email in break_glass),
        providers=providers,
        parties_by_cvr=dict(cvr),
    )


def _add(providers: dict[str, Provider], provider: Provider, where: str) -> None:
    if provider.key in providers:
        raise SsoConfigError(f"{where}: udbyderen {provider.key!r} er nævnt to gange")
    providers[provider.key] = provider


def _oidc(
    raw: Any, groups: dict[str, list[GroupRule]], environ: dict[str, str], where: str
) -> OidcProvider:
    table = _table(raw, where)
    _only(
        table,
        {
            "key",
            "label",
            "discovery_url",
            "client_id",
            "client_secret_env",
            "scopes",
            "party",
            "clock_skew_seconds",
            "claims",
        },
        where,
    )
    key = _key(table, where)
    discovery = _text(table, "discovery_url", where)
    if not discovery.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise SsoConfigError(f"{where}: discovery_url skal være https (eller loopback i test)")
    secret_env = _text(table, "client_secret_env", where)
    secret = environ.get(secret_env, "").strip()
    if not secret:
        raise SsoConfigError(f"{where}: miljøvariablen {secret_env} (klienthemmeligheden) er tom")
    scopes = tuple(_strings(table.get("scopes", ["openid", "profile", "email"]), where))
    if "openid" not in scopes:
        raise SsoConfigError(f"{where}: scopes skal indeholde 'openid'")
    claims = {**OIDC_CLAIMS, **_mapping(table.get("claims", {}), OIDC_CLAIMS, where)}
    return OidcProvider(
        key=key,
        label=_text(table, "label", where),
        discovery_url=discovery,
        client_id=_text(table, "client_id", where),
        client_secret=secret,
        scopes=scopes,
        party=_optional_text(table, "party", where),
        clock_skew_seconds=_skew(table, where),
        claims=claims,
        groups=tuple(groups.get(key, [])),
    )


def _saml(raw: Any, groups: dict[str, list[GroupRule]], base: Path, where: str) -> SamlProvider:
    table = _table(raw, where)
    _only(
        table,
        {
            "key",
            "label",
            "entity_id",
            "idp_metadata",
            "key_file",
            "cert_file",
            "encryption_key_file",
            "encryption_cert_file",
            "minimum_assurance",
            "clock_skew_seconds",
            "party",
            "attributes",
        },
        where,
    )
    key = _key(table, where)
    if shutil.which("xmlsec1") is None:
        raise SsoConfigError(
            f"{where}: SAML kræver programmet xmlsec1 på serveren (apt install xmlsec1)"
        )
    assurance = table.get("minimum_assurance", "Substantial")
    if assurance not in ASSURANCE_LEVELS:
        raise SsoConfigError(
            f"{where}: minimum_assurance skal være en af {', '.join(ASSURANCE_LEVELS)}"
        )
    key_file = _file(table, "key_file", base, where)
    cert_file = _file(table, "cert_file", base, where)
    attributes = {
        **OIOSAML_ATTRIBUTES,
        **_mapping(table.get("attributes", {}), OIOSAML_ATTRIBUTES, where),
    }
    return SamlProvider(
        key=key,
        label=_text(table, "label", where),
        entity_id=_text(table, "entity_id", where),
        idp_metadata=_file(table, "idp_metadata", base, where),
        key_file=key_file,
        cert_file=cert_file,
        encryption_key_file=_file(table, "encryption_key_file", base, where, key_file),
        encryption_cert_file=_file(table, "encryption_cert_file", base, where, cert_file),
        minimum_assurance=assurance,
        clock_skew_seconds=_skew(table, where),
        party=_optional_text(table, "party", where),
        attributes=attributes,
        groups=tuple(groups.get(key, [])),
    )


def _group_rules(raw: Any, where: str) -> dict[str, list[GroupRule]]:
    rules: dict[str, list[GroupRule]] = {}
    for index, item in enumerate(_list(raw, f"{where} [[groups]]")):
        place = f"{where} [[groups]] nr. {index + 1}"
        table = _table(item, place)
        _only(table, {"provider", "group", "body", "role", "admin"}, place)
        admin = table.get("admin", False)
        if not isinstance(admin, bool):
            raise SsoConfigError(f"{place}: admin skal være true eller false")
        body = _optional_text(table, "body", place)
        role_name = _optional_text(table, "role", place)
        if admin == (body is not None):
            raise SsoConfigError(f"{place}: angiv enten body og role eller admin = true")
        role: Role | None = None
        if body is not None:
            if role_name not in {item.value for item in Role}:
                raise SsoConfigError(
                    f"{place}: role skal være en af {', '.join(item.value for item in Role)}"
                )
            role = Role(role_name)
        rule = GroupRule(group=_text(table, "group", place), body=body, role=role, admin=admin)
        rules.setdefault(_text(table, "provider", place), []).append(rule)
    return rules


def _only(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SsoConfigError(f"{where}: ukendt nøgle {', '.join(unknown)}")


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SsoConfigError(f"{where}: skal være en tabel")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise SsoConfigError(f"{where}: skal være en liste af tabeller")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SsoConfigError(f"{where}: skal være en liste af tekster")
    return value


def _text(table: dict[str, Any], name: str, where: str) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value.strip():
        raise SsoConfigError(f"{where}: {name} mangler eller er tom")
    return value.strip()


def _optional_text(table: dict[str, Any], name: str, where: str) -> str | None:
    return _text(table, name, where) if name in table else None


def _key(table: dict[str, Any], where: str) -> str:
    key = _text(table, "key", where)
    if not KEY_PATTERN.fullmatch(key):
        raise SsoConfigError(f"{where}: key {key!r} skal være små bogstaver, tal og '-'")
    return key


def _skew(table: dict[str, Any], where: str) -> int:
    skew = table.get("clock_skew_seconds", 120)
    if not isinstance(skew, int) or isinstance(skew, bool) or not 0 <= skew <= 600:
        raise SsoConfigError(f"{where}: clock_skew_seconds skal være 0-600 sekunder")
    return skew


def _mapping(value: Any, known: dict[str, str], where: str) -> dict[str, str]:
    table = _table(value, where)
    _only(table, set(known), where)
    if not all(isinstance(item, str) and item for item in table.values()):
        raise SsoConfigError(f"{where}: navnene på claims/attributter skal være tekster")
    return dict(table)


def _file(
    table: dict[str, Any], name: str, base: Path, where: str, default: Path | None = None
) -> Path:
    if name not in table and default is not None:
        return default
    path = base / _text(table, name, where)
    if not path.is_file():
        raise SsoConfigError(f"{where}: {name} {path} findes ikke")
    return path


def current_settings() -> SsoSettings:
    """The running app's SSO settings (empty when none are configured)."""
    return cast(SsoSettings, current_app.extensions.get(SETTINGS_EXTENSION, SsoSettings()))


def provider_label(key: str) -> str:
    """The name a provider goes by on the pages (its key when no longer configured)."""
    provider = current_settings().providers.get(key)
    return provider.label if provider is not None else key
