"""Claims and attributes to a user and memberships (data/sso.toml's rules), and OIOSAML 3's
privilege list; nothing is written here."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from support.idps import privileges_value

from models import Role
from workflow.sso import oiosaml
from workflow.sso.mapping import Identity, Refusal, grant
from workflow.sso.settings import GroupRule, OidcProvider, SamlProvider, SsoSettings

RULES = (
    GroupRule("g-tss", "TSS", Role.SECRETARIAT),
    GroupRule("g-sku", "SKU", Role.CHAIR),
    GroupRule("g-admin", None, None, admin=True),
)
OIDC = OidcProvider(
    key="entra", label="Regionen", discovery_url="https://x", client_id="c",
    client_secret="s", scopes=("openid",), party="REGION-H", clock_skew_seconds=60,
    claims={}, groups=RULES,
)  # fmt: skip
SAML = SamlProvider(
    key="kombit", label="K", entity_id="e", idp_metadata=Path("m"), key_file=Path("k"),
    cert_file=Path("c"), encryption_key_file=Path("k"), encryption_cert_file=Path("c"),
    minimum_assurance="Substantial", clock_skew_seconds=60, party=None, attributes={},
    groups=RULES,
)  # fmt: skip
SETTINGS = SsoSettings(parties_by_cvr={"29189846": "KOM-GENTOFTE"})


def person(*groups: str, **changes: object) -> Identity:
    values: dict = {
        "provider": "entra", "subject": "s-1", "name": " Anna Andersen ",
        "email": "Anna@RegionH.dk", "groups": groups,
    }  # fmt: skip
    values.update(changes)
    return Identity(**values)


def test_groups_give_memberships_and_the_admin_right_and_unknown_ones_are_noted() -> None:
    granted = grant(SETTINGS, OIDC, person("g-tss", "g-admin", "everyone"))
    assert granted.memberships == {("TSS", Role.SECRETARIAT)}
    assert granted.admin is True
    assert granted.unknown_groups == ("everyone",)
    assert (granted.name, granted.email, granted.party) == (
        "Anna Andersen", "anna@regionh.dk", "REGION-H",
    )  # fmt: skip


def test_no_known_group_is_refused() -> None:
    with pytest.raises(Refusal) as refused:
        grant(SETTINGS, OIDC, person("everyone"))
    assert refused.value.code == "no_known_group"
    assert "ingen af dine grupper" in str(refused.value.message)


@pytest.mark.parametrize("missing", ["subject", "name", "email"])
def test_a_missing_claim_is_refused(missing: str) -> None:
    with pytest.raises(Refusal) as refused:
        grant(SETTINGS, OIDC, person("g-tss", **{missing: ""}))
    assert refused.value.code == "missing_claim"


def test_the_cvr_number_names_the_party_and_an_unknown_one_is_refused() -> None:
    saml_person = person("g-tss", provider="kombit", cvr="29189846", assurance="High")
    assert grant(SETTINGS, SAML, saml_person).party == "KOM-GENTOFTE"
    with pytest.raises(Refusal) as refused:
        grant(SETTINGS, SAML, person("g-tss", cvr="11111111", assurance="High"))
    assert refused.value.code == "unknown_cvr"


@pytest.mark.parametrize(
    ("level", "accepted"),
    [("Low", False), (None, False), ("Substantial", True), ("High", True)],
)
def test_the_nsis_assurance_level_must_reach_the_providers_minimum(
    level: str | None, accepted: bool
) -> None:
    identity = person("g-tss", cvr="29189846", assurance=level)
    if accepted:
        assert grant(SETTINGS, SAML, identity).memberships
    else:
        with pytest.raises(Refusal, match="assurance_too_low"):
            grant(SETTINGS, SAML, identity)


def test_privileges_hold_only_for_the_persons_own_cvr() -> None:
    mine = privileges_value("29189846", "urn:a", "urn:b")
    assert oiosaml.privileges(mine, "29189846") == ["urn:a", "urn:b"]
    assert oiosaml.privileges(mine, "12345678") == []
    assert oiosaml.privileges(mine, None) == ["urn:a", "urn:b"]


@pytest.mark.parametrize(
    "value",
    ["not base64!", base64.b64encode(b"<not-closed").decode(),
     base64.b64encode(b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>').decode()],
)  # fmt: skip
def test_a_broken_or_hostile_privilege_value_gives_no_privileges(value: str) -> None:
    assert oiosaml.privileges(value, "29189846") == []
