"""OpenID Connect answers that must not sign anyone in, made by the real provider's ID tokens
signed again by a loopback proxy (tests/support/idps.py TokenProxy): a signature by a key the
provider does not publish, and a token addressed to another client. Each is refused with the
Danish page, nothing is provisioned and the refusal is audited; the same proxy untouched signs
the person in, so the refusal comes from the app's check, not from the proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from sso.test_oidc_login import last_refusal, person, sign_in, user_count, visible_text
from support.idps import SsoSite, TokenProxy, sso_site

pytestmark = [pytest.mark.sqlite_only]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoSite]:
    with sso_site(
        tmp_path_factory.mktemp("oidc-proxy"), oidc_accounts={}, oidc_proxy=True
    ) as running:
        yield running


@pytest.fixture()
def proxy(site: SsoSite) -> Iterator[TokenProxy]:
    assert site.oidc_proxy is not None
    site.oidc_proxy.rogue_signer, site.oidc_proxy.audience = False, None
    yield site.oidc_proxy
    site.oidc_proxy.rogue_signer, site.oidc_proxy.audience = False, None


def test_the_token_signed_again_with_the_published_key_signs_in(
    site: SsoSite, proxy: TokenProxy
) -> None:
    email = person(site, "kontrol", "aftaleflow-tss-sekretariat")
    landed = sign_in(site, "kontrol")
    assert landed.url == f"{site.url}/"
    assert "Velkommen, Person kontrol." in visible_text(landed.text)
    assert user_count(site, email) == 1


@pytest.mark.parametrize(
    ("knob", "value", "kind", "said"),
    [
        ("rogue_signer", True, "bad_signature", "signature"),
        ("audience", "en-anden-klient", "invalid_claim", "aud"),
    ],
    ids=["bad-signature", "wrong-audience"],
)
def test_a_bad_id_token_is_refused_nothing_provisioned_and_audited(
    site: SsoSite, proxy: TokenProxy, knob: str, value: object, kind: str, said: str
) -> None:
    login = f"afvist-{kind}"
    email = person(site, login, "aftaleflow-tss-sekretariat")
    setattr(proxy, knob, value)
    browser = requests.Session()
    refused = sign_in(site, login, browser)
    assert refused.status_code == 403
    text = visible_text(refused.text)
    assert "Du er ikke logget ind" in text
    assert "Svaret fra identitetsudbyderen kunne ikke godkendes" in text
    assert user_count(site, email) == 0
    refusal = last_refusal(site)
    assert refusal["reason"] == "oidc_invalid"
    assert refusal["kind"] == kind and said in refusal["error"].lower(), refusal
    # The browser is not signed in: the dashboard sends it to the login page.
    assert "/login" in browser.get(f"{site.url}/").url
