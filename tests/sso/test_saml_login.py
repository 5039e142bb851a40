"""SAML 2.0 sign-in through a real pysaml2 IdP on loopback (signed, encrypted assertions), with
a plain HTTP client as the browser: provisioning, memberships kept in step, single logout, and
every bad answer refused with the Danish page, nothing provisioned and the refusal audited."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import func, select
from support.idps import SsoSite, oiosaml_identity, sso_site

from models import AdminAuditEntry, ExternalIdentity, Membership, User

# The app runs on its own SQLite file beside the IdPs (as the browser tests do).
pytestmark = [pytest.mark.sqlite_only]

TSS_MEMBER = "http://aftaleflow.dk/roller/tss-medlem"
SU_SECRETARIAT = "http://aftaleflow.dk/roller/su-nord-sekretariat"
GENTOFTE = "29189846"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoSite]:
    with sso_site(tmp_path_factory.mktemp("saml")) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_idp(site: SsoSite) -> None:
    """Every test starts with an IdP that answers correctly."""
    site.saml.rogue_signer = False
    site.saml.audience = None
    site.saml.lifetime_minutes = 5


def visible_text(body: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def idp_answer(browser: requests.Session, site: SsoSite) -> tuple[str, dict[str, str]]:
    """Start the sign-in at the app and return the IdP's auto-posting form (action, fields)."""
    page = browser.get(f"{site.url}/sso/kombit/login")
    assert page.status_code == 200, page.text
    action = html.unescape(re.search(r'action="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
    }
    return action, fields


def sign_in(site: SsoSite, browser: requests.Session | None = None) -> requests.Response:
    browser = browser or requests.Session()
    action, fields = idp_answer(browser, site)
    return browser.post(action, data=fields)


def person(uuid: str, *privileges: str, loa: str = "Substantial", cvr: str = GENTOFTE) -> dict:
    return oiosaml_identity(
        f"Person {uuid}", f"{uuid}@gentofte.dk", cvr, uuid, *privileges, loa=loa
    )


def users_named(site: SsoSite, uuid: str) -> int:
    with site.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(User).where(User.email == f"{uuid}@gentofte.dk")
            )
            or 0
        )


def refusals(site: SsoSite) -> list[dict]:
    with site.session() as session:
        return [
            entry.data
            for entry in session.scalars(
                select(AdminAuditEntry)
                .where(AdminAuditEntry.action == "sso_refused")
                .order_by(AdminAuditEntry.seq)
            )
        ]


def test_the_sp_metadata_offers_signing_and_encryption_keys_and_the_acs(site: SsoSite) -> None:
    response = requests.get(f"{site.url}/saml/kombit/metadata", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/samlmetadata+xml")
    xml = response.text
    assert f'entityID="{site.url}/saml/kombit/metadata"' in xml
    assert 'use="signing"' in xml and 'use="encryption"' in xml
    assert f"{site.url}/saml/kombit/acs" in xml and f"{site.url}/saml/kombit/sls" in xml
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml


def test_a_first_sign_in_creates_the_user_with_party_and_mapped_memberships(
    site: SsoSite,
) -> None:
    site.saml.identity = person("first", TSS_MEMBER, SU_SECRETARIAT)
    landed = sign_in(site)
    assert landed.status_code == 200
    assert landed.url == f"{site.url}/"
    text = visible_text(landed.text)
    assert "Velkommen, Person first." in text
    assert "Tværsektoriel Strategisk Styregruppe (TSS) : Medlem" in text
    with site.session() as session:
        user = session.scalar(select(User).where(User.email == "first@gentofte.dk"))
        assert user is not None and user.password_hash is None
        assert user.party is not None and user.party.code == "KOM-GENTOFTE"
        held = {
            (m.body.code, str(m.role), m.source)
            for m in session.scalars(select(Membership).where(Membership.user_id == user.id))
        }
        assert held == {
            ("TSS", "member", "sso:kombit"),
            ("SU-NORD-SOM", "secretariat", "sso:kombit"),
        }
        identity = session.scalar(
            select(ExternalIdentity).where(ExternalIdentity.user_id == user.id)
        )
        # The subject is OIOSAML's persistent professional UUID.
        assert identity is not None
        assert (identity.provider, identity.subject) == ("kombit", "first")
        actions = [
            e.action
            for e in session.scalars(
                select(AdminAuditEntry).where(AdminAuditEntry.actor_id == user.id)
            )
        ]
        assert actions.count("sso_membership_added") == 2
        assert "sso_user_created" in actions and "sso_login" in actions


def test_a_later_sign_in_ends_a_membership_whose_privilege_was_taken_away(
    site: SsoSite,
) -> None:
    site.saml.identity = person("changes", TSS_MEMBER, SU_SECRETARIAT)
    assert sign_in(site).status_code == 200
    site.saml.identity = person("changes", TSS_MEMBER)
    landed = sign_in(site)
    assert landed.status_code == 200
    with site.session() as session:
        user = session.scalar(select(User).where(User.email == "changes@gentofte.dk"))
        assert user is not None
        active = {
            m.body.code
            for m in session.scalars(
                select(Membership).where(Membership.user_id == user.id, Membership.active)
            )
        }
        assert active == {"TSS"}
        ended = session.scalar(
            select(AdminAuditEntry).where(
                AdminAuditEntry.action == "sso_membership_ended",
                AdminAuditEntry.actor_id == user.id,
            )
        )
        assert ended is not None and ended.data["source"] == "sso:kombit"


@pytest.mark.parametrize(
    ("knob", "value", "reason"),
    [
        ("rogue_signer", True, "saml_invalid"),
        ("audience", "https://another-service.example/metadata", "saml_invalid"),
        ("lifetime_minutes", -10, "saml_invalid"),
    ],
    ids=["bad-signature", "wrong-audience", "expired"],
)
def test_a_bad_assertion_is_refused_nothing_provisioned_and_audited(
    site: SsoSite, knob: str, value: object, reason: str
) -> None:
    uuid = f"bad-{knob}"
    site.saml.identity = person(uuid, TSS_MEMBER)
    setattr(site.saml, knob, value)
    before = len(refusals(site))
    refused = sign_in(site)
    assert refused.status_code == 403
    text = visible_text(refused.text)
    assert "Du er ikke logget ind" in text
    assert "Svaret fra identitetsudbyderen kunne ikke godkendes" in text
    assert users_named(site, uuid) == 0
    logged = refusals(site)
    assert len(logged) == before + 1 and logged[-1]["reason"] == reason
    # The browser is not signed in: the dashboard sends it to the login page.
    assert "/login" in requests.get(f"{site.url}/", timeout=10).url


def test_a_replayed_response_is_refused(site: SsoSite) -> None:
    site.saml.identity = person("replay", TSS_MEMBER)
    browser = requests.Session()
    action, fields = idp_answer(browser, site)
    assert browser.post(action, data=fields).status_code == 200
    again = browser.post(action, data=fields)
    assert again.status_code == 403
    assert "Svaret fra identitetsudbyderen kunne ikke godkendes" in visible_text(again.text)
    # Another browser holding a copy of the response (and the waiting-request cookie) is refused
    # by the database's note of the used assertion, on any server.
    thief = requests.Session()
    thief.cookies.update(browser.cookies)
    stolen = thief.post(action, data=fields)
    assert stolen.status_code == 403
    assert refusals(site)[-1]["reason"] in ("saml_invalid", "replayed")


def test_a_copy_with_the_waiting_request_cookie_is_refused_as_a_replay(site: SsoSite) -> None:
    site.saml.identity = person("copied", TSS_MEMBER)
    browser = requests.Session()
    action, fields = idp_answer(browser, site)
    waiting = dict(browser.cookies)
    assert browser.post(action, data=fields).status_code == 200
    copy = requests.Session()
    copy.cookies.update(waiting)
    refused = copy.post(action, data=fields)
    assert refused.status_code == 403
    assert "Dette login er allerede brugt" in visible_text(refused.text)
    assert refusals(site)[-1]["reason"] == "replayed"


def test_no_known_privilege_is_refused_with_a_clear_page(site: SsoSite) -> None:
    site.saml.identity = person("stranger", "http://aftaleflow.dk/roller/ukendt")
    refused = sign_in(site)
    assert refused.status_code == 403
    assert "ingen af dine grupper eller rettigheder svarer til en rolle her" in visible_text(
        refused.text
    )
    assert users_named(site, "stranger") == 0
    assert refusals(site)[-1]["reason"] == "no_known_group"


def test_a_low_assurance_level_is_refused(site: SsoSite) -> None:
    site.saml.identity = person("low", TSS_MEMBER, loa="Low")
    refused = sign_in(site)
    assert refused.status_code == 403
    assert "for lavt sikringsniveau" in visible_text(refused.text)
    assert users_named(site, "low") == 0
    assert refusals(site)[-1]["reason"] == "assurance_too_low"


def test_a_cvr_outside_the_agreement_is_refused(site: SsoSite) -> None:
    site.saml.identity = person("elsewhere", TSS_MEMBER, cvr="12345678")
    refused = sign_in(site)
    assert refused.status_code == 403
    assert "CVR-nummer er ikke part i sundhedsaftalen" in visible_text(refused.text)
    assert users_named(site, "elsewhere") == 0


def test_logout_ends_the_session_at_the_idp_too(site: SsoSite) -> None:
    site.saml.identity = person("leaves", TSS_MEMBER)
    browser = requests.Session()
    logged_out_before = len(site.saml.logged_out)
    assert sign_in(site, browser).status_code == 200
    page = browser.get(f"{site.url}/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    out = browser.post(f"{site.url}/logout", data={"csrf_token": token})
    assert out.url.startswith(f"{site.url}/login")
    assert "Du er logget ud." in visible_text(out.text)
    # The IdP got a LogoutRequest naming the person's NameID, and answered to our SLS.
    assert len(site.saml.logged_out) == logged_out_before + 1 and site.saml.logged_out[-1]
    assert "/login" in browser.get(f"{site.url}/").url


def test_the_login_page_offers_each_provider(site: SsoSite) -> None:
    page = requests.get(f"{site.url}/login", timeout=10)
    assert "Log ind via Context Handler (test)" in visible_text(page.text)
