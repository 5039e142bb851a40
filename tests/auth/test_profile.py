"""The user's own settings: mail immediately or as a daily digest, and language; audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import AdminAuditEntry


def _audit(session, user_id):
    return list(
        session.scalars(
            select(AdminAuditEntry)
            .where(AdminAuditEntry.object_type == "user", AdminAuditEntry.object_id == str(user_id))
            .order_by(AdminAuditEntry.id)
        )
    )


def test_profile_shows_the_current_choices(client, logged_in):
    logged_in("member@SU-NORD-SOM")
    html = client.get("/profil").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="straks"|value="straks"[^>]*checked', html)
    assert re.search(r'<option[^>]*selected[^>]*value="da"|value="da"[^>]*selected', html)
    assert 'href="/profil/tokens"' in html


def test_the_profiles_language_field_and_the_headers_switcher_have_ids_of_their_own(
    client, logged_in
):
    """Both selects had id="sprog", so the header's label named the profile's field too
    (found by the browser journeys' duplicate-id check on every page)."""
    logged_in("member@SU-NORD-SOM")
    html = client.get("/profil").get_data(as_text=True)
    # The header's switcher (id="sprog") is repeated in DKFDS's mobile drawer as "sprog-mobil".
    assert html.count('id="sprog"') == 1 and html.count('id="sprog-mobil"') == 1
    assert html.count('id="profil-sprog"') == 1
    assert re.search(r'<label [^>]*for="profil-sprog"', html)


def test_choosing_the_daily_digest_is_saved_and_audited(client, logged_in, session, text_of):
    user = logged_in("member@SU-NORD-SOM")
    response = client.post("/profil", data={"levering": "dagligt", "sprog": "da"})
    assert response.status_code == 303
    session.refresh(user)
    assert user.digest is True
    entries = _audit(session, user.id)
    assert [(e.action, e.actor_id, e.data) for e in entries] == [
        ("set_digest", user.id, {"from": False, "to": True})
    ]
    page = client.get("/profil")
    assert "Dine indstillinger er gemt." in text_of(page)
    html = page.get_data(as_text=True)
    assert re.search(r'checked[^>]*value="dagligt"|value="dagligt"[^>]*checked', html)


def test_switching_language_turns_the_pages_english_and_is_audited(
    client, logged_in, session, text_of
):
    user = logged_in("member@SU-NORD-SOM")
    client.post("/profil", data={"levering": "straks", "sprog": "en"})
    session.refresh(user)
    assert user.locale == "en" and user.digest is False
    assert [e.action for e in _audit(session, user.id)] == ["set_locale"]
    page = text_of(client.get("/profil"))
    assert "Settings" in page and "Your settings have been saved." in page


def test_saving_unchanged_settings_writes_no_audit_entry(client, logged_in, session, text_of):
    user = logged_in("member@SU-NORD-SOM")
    followed = client.post(
        "/profil", data={"levering": "straks", "sprog": "da"}, follow_redirects=True
    )
    assert "Ingen ændringer" in text_of(followed)
    assert _audit(session, user.id) == []


def test_an_unknown_choice_is_refused_with_a_reason(client, logged_in, session, text_of):
    user = logged_in("member@SU-NORD-SOM")
    response = client.post("/profil", data={"levering": "hver time", "sprog": "fr"})
    assert response.status_code == 422
    assert "Indstillingerne blev ikke gemt" in text_of(response)
    session.refresh(user)
    assert user.digest is False and user.locale == "da"
    assert _audit(session, user.id) == []


def test_profile_needs_a_csrf_token(make_app, make_login_user, password, session):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    user = make_login_user("member@SU-NORD-SOM")
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token.group(1)}
    )
    response = client.post("/profil", data={"levering": "dagligt", "sprog": "da"})
    assert response.status_code == 400
    session.refresh(user)
    assert user.digest is False
