"""OpenID Connect sign-in through a real npm oidc-provider on loopback, with a plain HTTP
client as the browser: the code flow with PKCE, state and nonce, provisioning, memberships kept
in step with the groups claim, and refusals (wrong nonce, wrong state, unknown group)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import func, select
from support.idps import SsoSite, sso_site

from models import AdminAuditEntry, Membership, User

pytestmark = [pytest.mark.sqlite_only]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoSite]:
    with sso_site(tmp_path_factory.mktemp("oidc"), oidc_accounts={}) as running:
        yield running


def visible_text(body: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def provider_form(browser: requests.Session, start: str) -> requests.Response:
    page = browser.get(start)
    assert page.status_code == 200 and 'name="login"' in page.text, page.text[:500]
    return page


def submit_login(
    browser: requests.Session, page: requests.Response, login: str
) -> requests.Response:
    """Fill in the provider's development login form and follow it back to the app."""
    action = html.unescape(re.search(r'action="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    target = requests.compat.urljoin(page.url, action)
    return browser.post(target, data={"prompt": "login", "login": login, "password": "x"})


def sign_in(
    site: SsoSite, login: str, browser: requests.Session | None = None
) -> requests.Response:
    browser = browser or requests.Session()
    return submit_login(browser, provider_form(browser, f"{site.url}/sso/entra/login"), login)


def person(site: SsoSite, login: str, *groups: str) -> str:
    email = f"{login}@regionh.dk"
    site.set_oidc_account(
        login, {"name": f"Person {login}", "email": email, "groups": list(groups)}
    )
    return email


def active_memberships(site: SsoSite, email: str) -> set[tuple[str, str]]:
    with site.session() as session:
        return {
            (m.body.code, str(m.role))
            for m in session.scalars(
                select(Membership)
                .join(User, Membership.user_id == User.id)
                .where(User.email == email, Membership.active)
            )
        }


def user_count(site: SsoSite, email: str) -> int:
    with site.session() as session:
        return (
            session.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0
        )


def last_refusal(site: SsoSite) -> dict:
    with site.session() as session:
        entry = session.scalars(
            select(AdminAuditEntry)
            .where(AdminAuditEntry.action == "sso_refused")
            .order_by(AdminAuditEntry.seq.desc())
        ).first()
        assert entry is not None
        return entry.data


def test_the_request_to_the_provider_carries_pkce_state_and_nonce(site: SsoSite) -> None:
    answer = requests.get(f"{site.url}/sso/entra/login", allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{site.oidc_issuer}/")
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == [f"{site.url}/sso/entra/svar"]


def test_a_sign_in_provisions_the_user_and_the_groups_memberships(site: SsoSite) -> None:
    email = person(site, "sofie", "aftaleflow-tss-sekretariat", "alle-medarbejdere")
    landed = sign_in(site, "sofie")
    assert landed.url == f"{site.url}/"
    assert "Velkommen, Person sofie." in visible_text(landed.text)
    assert active_memberships(site, email) == {("TSS", "secretariat")}
    with site.session() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None and user.party is not None and user.party.code == "REGION-H"
        login = session.scalars(
            select(AdminAuditEntry).where(
                AdminAuditEntry.action == "sso_login", AdminAuditEntry.actor_id == user.id
            )
        ).first()
        assert login is not None and login.data["unknown_groups"] == ["alle-medarbejdere"]


def test_the_memberships_follow_the_groups_at_every_sign_in(site: SsoSite) -> None:
    email = person(site, "jonas", "aftaleflow-tss-sekretariat")
    sign_in(site, "jonas")
    assert active_memberships(site, email) == {("TSS", "secretariat")}
    person(site, "jonas", "aftaleflow-sku-formand")
    landed = sign_in(site, "jonas")
    assert landed.url == f"{site.url}/"
    assert active_memberships(site, email) == {("SKU", "chair")}


def test_a_changed_nonce_is_refused(site: SsoSite) -> None:
    email = person(site, "nonce", "aftaleflow-tss-sekretariat")
    browser = requests.Session()
    start = browser.get(f"{site.url}/sso/entra/login", allow_redirects=False)
    parts = urlsplit(start.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["nonce"] = "someone-elses-nonce"
    page = provider_form(browser, urlunsplit(parts._replace(query=urlencode(query))))
    refused = submit_login(browser, page, "nonce")
    assert refused.status_code == 403
    assert "Svaret fra identitetsudbyderen kunne ikke godkendes" in visible_text(refused.text)
    assert user_count(site, email) == 0
    refusal = last_refusal(site)
    assert refusal["reason"] == "oidc_invalid" and "nonce" in refusal["error"]


def test_an_answer_for_another_browsers_state_is_refused(site: SsoSite) -> None:
    email = person(site, "state", "aftaleflow-tss-sekretariat")
    victim, attacker = requests.Session(), requests.Session()
    page = provider_form(victim, f"{site.url}/sso/entra/login")
    # Follow the provider's answer by hand and hand the callback to a browser that never
    # started this login (login CSRF): its session has no such state.
    action = html.unescape(re.search(r'action="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    answer = victim.post(
        requests.compat.urljoin(page.url, action),
        data={"prompt": "login", "login": "state", "password": "x"},
        allow_redirects=False,
    )
    while not answer.headers["Location"].startswith(f"{site.url}/sso/entra/svar"):
        answer = victim.get(
            requests.compat.urljoin(answer.url, answer.headers["Location"]), allow_redirects=False
        )
    refused = attacker.get(answer.headers["Location"])
    assert refused.status_code == 403
    assert user_count(site, email) == 0
    assert last_refusal(site)["reason"] == "oidc_invalid"


def test_no_known_group_is_refused_with_a_clear_page(site: SsoSite) -> None:
    email = person(site, "outsider", "alle-medarbejdere")
    refused = sign_in(site, "outsider")
    assert refused.status_code == 403
    assert "Din organisation har ikke givet dig adgang til Aftaleflow" in visible_text(refused.text)
    assert user_count(site, email) == 0
    refusal = last_refusal(site)
    assert refusal["reason"] == "no_known_group" and refusal["groups"] == ["alle-medarbejdere"]
