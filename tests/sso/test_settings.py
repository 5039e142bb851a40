"""The SSO settings file is validated when the app starts: the example in data/ is valid, and a
wrong file stops the start with a Danish message saying where and why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Body, Party, Role
from workflow.app import ConfigurationError, create_app
from workflow.sso.settings import OidcProvider, SamlProvider, SsoConfigError, load

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "sso.example.toml"
SECRET = {"AFTALEFLOW_SSO_ENTRA_SECRET": "a-client-secret"}
MINIMAL_OIDC = """
[[oidc]]
key = "entra"
label = "Regionen"
discovery_url = "https://login.example/.well-known/openid-configuration"
client_id = "aftaleflow"
client_secret_env = "AFTALEFLOW_SSO_ENTRA_SECRET"
"""


def example_in(folder: Path) -> Path:
    """The example file beside the key, certificate and metadata files it names."""
    copy = folder / "sso.toml"
    shutil.copy(EXAMPLE, copy)
    for name in (
        "kombit-context-handler-metadata.xml",
        "saml-signing.key",
        "saml-signing.crt",
        "saml-encryption.key",
        "saml-encryption.crt",
    ):
        (folder / name).write_text("x")
    return copy


def write(folder: Path, text: str) -> Path:
    path = folder / "sso.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_is_valid_and_says_what_it_means(tmp_path: Path) -> None:
    settings = load(example_in(tmp_path), SECRET)
    assert settings.local_passwords is False
    assert settings.allows_password("Beredskab@aftaleflow.regionh.dk ")
    assert not settings.allows_password("someone@regionh.dk")
    entra, kombit = settings.providers["entra"], settings.providers["kombit"]
    assert isinstance(entra, OidcProvider) and isinstance(kombit, SamlProvider)
    assert entra.client_secret == "a-client-secret"
    assert entra.claims["subject"] == "oid" and entra.claims["groups"] == "groups"
    assert kombit.minimum_assurance == "Substantial"
    assert kombit.attributes["assurance"] == "https://data.gov.dk/concept/core/nsis/loa"
    assert [(r.body, r.role, r.admin) for r in entra.groups] == [
        ("TSS", Role.SECRETARIAT, False),
        (None, None, True),
    ]


def test_the_examples_bodies_and_parties_exist_in_the_organisation(session, tmp_path) -> None:
    settings = load(example_in(tmp_path), SECRET)
    bodies = {rule.body for p in settings.providers.values() for rule in p.groups if rule.body}
    parties = set(settings.parties_by_cvr.values()) | {
        p.party for p in settings.providers.values() if p.party
    }
    assert set(session.scalars(select(Body.code).where(Body.code.in_(bodies)))) == bodies
    assert set(session.scalars(select(Party.code).where(Party.code.in_(parties)))) == parties


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[login]\nlocal_passwords = false\n", "mindst én identitetsudbyder"),
        ("[login]\nlocal_password = true\n", "ukendt nøgle local_password"),
        (MINIMAL_OIDC + MINIMAL_OIDC, "nævnt to gange"),
        (MINIMAL_OIDC.replace("https://login", "http://login"), "skal være https"),
        (MINIMAL_OIDC.replace('"entra"', '"Entra ID"'), "små bogstaver"),
        (
            MINIMAL_OIDC + '[[groups]]\nprovider = "entra"\ngroup = "g"\nbody = "TSS"\n'
            'role = "boss"\n',
            "role skal være en af chair",
        ),
        (
            MINIMAL_OIDC + '[[groups]]\nprovider = "other"\ngroup = "g"\nadmin = true\n',
            "ukendt udbyder other",
        ),
        (
            MINIMAL_OIDC + '[[groups]]\nprovider = "entra"\ngroup = "g"\n',
            "enten body og role eller admin = true",
        ),
        (MINIMAL_OIDC + '[parties_by_cvr]\n"123" = "REGION-H"\n', "skal være et CVR-nummer"),
        (
            '[[saml]]\nkey = "kombit"\nlabel = "K"\nentity_id = "e"\n'
            'idp_metadata = "missing.xml"\nkey_file = "k"\ncert_file = "c"\n',
            "key_file .* findes ikke",
        ),
        ("[login\n", "kan ikke læses som TOML"),
    ],
)
def test_a_wrong_file_is_refused_saying_where_and_why(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(SsoConfigError, match=message):
        load(write(tmp_path, text), SECRET)


def test_a_missing_client_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SsoConfigError, match="AFTALEFLOW_SSO_ENTRA_SECRET"):
        load(write(tmp_path, MINIMAL_OIDC), {})


def test_the_app_refuses_to_start_on_a_wrong_file(tmp_path: Path, database_url: str) -> None:
    path = write(tmp_path, "[login]\nlocal_passwords = false\n")
    with pytest.raises(ConfigurationError, match="mindst én identitetsudbyder"):
        create_app({"TESTING": True, "DATABASE_URL": database_url, "SSO_CONFIG": str(path)})


def test_without_a_file_there_is_no_single_sign_on(tmp_path: Path) -> None:
    settings = load(None)
    assert settings.providers == {} and settings.local_passwords
    assert settings.allows_password("anyone@example.dk")
