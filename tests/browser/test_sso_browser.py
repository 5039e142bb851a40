"""Single sign-on in Debian's Chromium through real identity providers on loopback: npm
oidc-provider (OpenID Connect, Node) and a pysaml2 SAML IdP. Each login lands on the dashboard
with the memberships the groups map to; a wrong nonce and an unknown group are refused with the
Danish page and nothing provisioned."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from browser_support import BROWSER_MARKS, chromium, new_page, shot
from playwright.sync_api import Browser, Page, Route
from sqlalchemy import func, select
from support.idps import SsoSite, oiosaml_identity, sso_site

from models import AdminAuditEntry, Membership, User

pytestmark = BROWSER_MARKS

ACCOUNTS = {
    "anna": {
        "name": "Anna Andersen",
        "email": "anna.andersen@regionh.dk",
        "groups": ["aftaleflow-sku-formand", "alle-medarbejdere"],
    },
    "bo": {"name": "Bo Berg", "email": "bo.berg@regionh.dk", "groups": ["alle-medarbejdere"]},
    "nina": {
        "name": "Nina Nonce",
        "email": "nina.nonce@regionh.dk",
        "groups": ["aftaleflow-tss-sekretariat"],
    },
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoSite]:
    with sso_site(tmp_path_factory.mktemp("sso-browser"), oidc_accounts=ACCOUNTS) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def sign_in_at_provider(page: Page, login: str) -> None:
    """The provider's own login form (oidc-provider's development interaction)."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()


def memberships_of(site: SsoSite, email: str) -> set[tuple[str, str, str | None]]:
    with site.session() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            return set()
        return {
            (m.body.code, str(m.role), m.source)
            for m in session.scalars(
                select(Membership).where(Membership.user_id == user.id, Membership.active)
            )
        }


def test_openid_login_lands_on_the_dashboard_with_the_mapped_membership(
    site: SsoSite, browser: Browser
) -> None:
    with new_page(browser) as page:
        page.goto(f"{site.url}/login")
        page.get_by_role("link", name="Log ind via Region Hovedstaden (test)").click()
        sign_in_at_provider(page, "anna")
        page.wait_for_url(f"{site.url}/")
        shot(page, "sso-oidc-dashboard")
        assert page.get_by_text("Velkommen, Anna Andersen.").is_visible()
        roles = page.get_by_role("heading", name="Dine organer og roller").locator("xpath=..")
        assert "Sundhedskoordinationsudvalget (SKU)" in roles.inner_text()
        assert "Formand" in roles.inner_text()
    assert memberships_of(site, "anna.andersen@regionh.dk") == {("SKU", "chair", "sso:entra")}


def test_openid_logout_ends_the_session_at_the_provider_too(
    site: SsoSite, browser: Browser
) -> None:
    with new_page(browser) as page:
        page.goto(f"{site.url}/sso/entra/login")
        sign_in_at_provider(page, "anna")
        page.wait_for_url(f"{site.url}/")
        page.get_by_role("button", name="Log ud").click()
        # RP-initiated logout: the provider asks, then sends the browser back to our login.
        page.wait_for_url(f"{site.oidc_issuer}/**")
        page.get_by_role("button", name="Yes, sign me out").click()
        page.wait_for_url(f"{site.url}/login")
        # The provider's session is over as well: signing in again asks for the login.
        page.goto(f"{site.url}/sso/entra/login")
        assert page.locator("input[name=login]").is_visible()


def test_a_changed_nonce_is_refused_and_nothing_is_provisioned(
    site: SsoSite, browser: Browser
) -> None:
    def tamper(route: Route) -> None:
        # An attacker swaps the nonce on the way to the provider: the ID token then carries
        # a nonce this browser's session never asked for.
        answer = route.fetch(max_redirects=0)
        location = answer.headers["location"]
        parts = urlsplit(location)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        query["nonce"] = "a-nonce-from-elsewhere"
        changed = urlunsplit(parts._replace(query=urlencode(query)))
        route.fulfill(status=302, headers={**answer.headers, "location": changed})

    with new_page(browser) as page:
        page.route(f"{site.url}/sso/entra/login", tamper)
        page.goto(f"{site.url}/sso/entra/login")
        sign_in_at_provider(page, "nina")
        page.wait_for_url(f"{site.url}/sso/entra/svar*")
        shot(page, "sso-oidc-wrong-nonce")
        assert page.get_by_role("heading", name="Du er ikke logget ind").is_visible()
        assert page.get_by_text("Svaret fra identitetsudbyderen kunne ikke godkendes").is_visible()
        page.goto(f"{site.url}/")
        assert "/login" in page.url
    with site.session() as session:
        assert not session.scalar(
            select(func.count()).select_from(User).where(User.email == "nina.nonce@regionh.dk")
        )
        refusal = session.scalars(
            select(AdminAuditEntry)
            .where(AdminAuditEntry.action == "sso_refused")
            .order_by(AdminAuditEntry.seq.desc())
        ).first()
        assert refusal is not None and refusal.data["reason"] == "oidc_invalid"
        assert "nonce" in refusal.data["error"]


def test_an_unknown_group_is_refused_with_a_clear_danish_page(
    site: SsoSite, browser: Browser
) -> None:
    with new_page(browser) as page:
        page.goto(f"{site.url}/sso/entra/login")
        sign_in_at_provider(page, "bo")
        page.wait_for_url(f"{site.url}/sso/entra/svar*")
        assert page.get_by_text(
            "Din organisation har ikke givet dig adgang til Aftaleflow"
        ).is_visible()
        assert page.get_by_role("link", name="Tilbage til login-siden").is_visible()
    assert memberships_of(site, "bo.berg@regionh.dk") == set()
    with site.session() as session:
        assert not session.scalar(
            select(func.count()).select_from(User).where(User.email == "bo.berg@regionh.dk")
        )


def test_saml_login_through_context_handler_lands_with_the_mapped_memberships(
    site: SsoSite, browser: Browser
) -> None:
    site.saml.identity = oiosaml_identity(
        "Karen Kommune",
        "karen@gentofte.dk",
        "29189846",
        "karen-uuid",
        "http://aftaleflow.dk/roller/su-nord-sekretariat",
        "http://aftaleflow.dk/roller/tss-medlem",
    )
    with new_page(browser) as page:
        page.goto(f"{site.url}/login")
        page.get_by_role("link", name="Log ind via Context Handler (test)").click()
        page.wait_for_url(f"{site.url}/")
        shot(page, "sso-saml-dashboard")
        assert page.get_by_text("Velkommen, Karen Kommune.").is_visible()
        roles = page.get_by_role("heading", name="Dine organer og roller").locator("xpath=..")
        text = roles.inner_text()
        assert "Tværsektoriel Strategisk Styregruppe (TSS)" in text and "Medlem" in text
        assert "Sekretariat" in text
    assert memberships_of(site, "karen@gentofte.dk") == {
        ("TSS", "member", "sso:kombit"),
        ("SU-NORD-SOM", "secretariat", "sso:kombit"),
    }
