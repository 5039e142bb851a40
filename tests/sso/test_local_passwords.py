"""Local passwords switched off per deployment: only the break-glass accounts sign in with a
password (and get a reset mail); everyone else is told the same as for a wrong password."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from models import ExternalIdentity, Membership, Notification, Role

SSO_TOML = """
[login]
local_passwords = false
break_glass = ["beredskab@aftaleflow.test"]

[[oidc]]
key = "entra"
label = "Region Hovedstaden"
discovery_url = "https://login.example/.well-known/openid-configuration"
client_id = "aftaleflow"
client_secret_env = "AFTALEFLOW_TEST_SECRET"
"""


@pytest.fixture
def sso_client(make_app, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("AFTALEFLOW_TEST_SECRET", "secret")
    path = tmp_path / "sso.toml"
    path.write_text(SSO_TOML)
    return make_app(SSO_CONFIG=str(path)).test_client()


def test_an_ordinary_user_cannot_use_a_password(sso_client, make_login_user, password, text_of):
    user = make_login_user("member@TSS")
    answer = sso_client.post("/login", data={"email": user.email, "password": password})
    assert answer.status_code == 422
    assert "Forkert e-mail eller adgangskode" in text_of(answer)


def test_the_break_glass_admin_signs_in_with_a_password(
    sso_client, make_login_user, session, password
):
    admin = make_login_user(is_admin=True)
    admin.email = "beredskab@aftaleflow.test"
    session.flush()
    answer = sso_client.post("/login", data={"email": admin.email, "password": password})
    assert answer.status_code == 303


def test_the_login_page_leads_with_the_provider_and_hides_the_password_form(sso_client, text_of):
    page = sso_client.get("/login")
    text = text_of(page)
    assert "Log ind via Region Hovedstaden" in text
    assert "Nødadgang for administrator" in text
    assert "Glemt adgangskode?" not in text
    assert 'href="/sso/entra/login"' in page.get_data(as_text=True)


def test_a_reset_link_goes_to_break_glass_accounts_only(sso_client, make_login_user, session):
    user = make_login_user("member@TSS")
    admin = make_login_user(is_admin=True)
    admin.email = "beredskab@aftaleflow.test"
    session.flush()
    for person in (user, admin):
        answer = sso_client.post("/glemt-adgangskode", data={"email": person.email})
        assert answer.status_code == 303
    to_admin = session.scalars(select(Notification).where(Notification.recipient_id == admin.id))
    assert [n.kind for n in to_admin] == ["password_reset"]
    sent = session.scalars(select(Notification).where(Notification.recipient_id == user.id))
    assert [n.kind for n in sent] == []


def test_the_admin_page_shows_where_each_membership_came_from(
    client, logged_in, make_user, session, text_of
):
    logged_in(is_admin=True)
    person = make_user("member@PPU", "chair@TSS")
    sso_membership = session.scalar(
        select(Membership).where(Membership.user_id == person.id, Membership.role == Role.MEMBER)
    )
    assert sso_membership is not None and sso_membership.role == Role.MEMBER
    sso_membership.source = "sso:kombit"
    session.add(ExternalIdentity(user_id=person.id, provider="kombit", subject="uuid-1"))
    session.flush()
    text = text_of(client.get(f"/admin/brugere/{person.id}"))
    assert "PPU Medlem" in text and "Single sign-on: kombit" in text
    assert "Tildelt af administrator" in text
    assert "Logger ind via single sign-on: kombit." in text
