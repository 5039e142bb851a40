"""The profile page for API tokens: create (shown once), list, revoke; CSRF protected."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import ApiToken
from workflow.auth import tokens


def test_page_needs_login(client):
    response = client.get("/profil/tokens")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_create_shows_the_token_once_and_it_works(client, logged_in, session, text_of):
    user = logged_in("member@SU-NORD-SOM")
    created = client.post("/profil/tokens", data={"name": "Mit script"})
    assert created.status_code == 201
    plain = re.search(r"afl_[A-Za-z0-9_-]+", created.get_data(as_text=True)).group(0)
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.name == "Mit script"
    listed = client.get("/profil/tokens")
    assert plain not in listed.get_data(as_text=True)
    assert "Mit script" in text_of(listed)
    api = client.get("/api/v1/bodies", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 200


def test_revoke_own_token_only(client, logged_in, session, make_user, text_of):
    user = logged_in("member@SU-NORD-SOM")
    mine = tokens.create_token(session, user, "Gammel")
    theirs = tokens.create_token(session, make_user("member@TSS"), "Andres")
    assert client.post(f"/profil/tokens/{theirs.token.id}/tilbagekald").status_code == 404
    assert theirs.token.revoked_at is None
    response = client.post(f"/profil/tokens/{mine.token.id}/tilbagekald")
    assert response.status_code == 303
    assert mine.token.revoked_at is not None
    assert "Tilbagekaldt" in text_of(client.get("/profil/tokens"))


def test_forms_need_the_csrf_token(make_app, make_login_user, session, password):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    user = make_login_user("member@SU-NORD-SOM")
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    login = {"email": user.email, "password": password, "csrf_token": csrf}
    assert client.post("/login", data=login).status_code == 303
    assert client.get("/profil/tokens").status_code == 200
    refused = client.post("/profil/tokens", data={"name": "Uden nøgle"})
    assert refused.status_code == 400
    assert session.scalar(select(ApiToken).where(ApiToken.user_id == user.id)) is None
    issued = tokens.create_token(session, user)
    client.post(f"/profil/tokens/{issued.token.id}/tilbagekald")
    assert issued.token.revoked_at is None
    form = client.get("/profil/tokens").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    made = client.post("/profil/tokens", data={"name": "Med nøgle", "csrf_token": csrf})
    assert made.status_code == 201
