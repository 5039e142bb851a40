"""Sessions end at logout and on a password change, also for a copy of the login cookie."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient

from models import AdminAuditEntry, Role
from workflow.admin import operations as admin_operations


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _browser_with(app, cookie: str) -> FlaskClient:
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_a_cookie_copied_before_logout_no_longer_works(app, client, logged_in):
    logged_in("member@TSS")
    copied = _session_cookie(client)
    thief = _browser_with(app, copied)
    assert thief.get("/").status_code == 200  # the copy works while the user is logged in

    assert client.post("/logout").status_code == 303

    answer = thief.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302


def test_logging_in_again_after_logout_works_and_the_old_copy_stays_dead(
    app, client, logged_in, log_in
):
    user = logged_in("member@TSS")
    copied = _session_cookie(client)
    client.post("/logout")
    assert log_in(user).status_code == 303
    assert client.get("/").status_code == 200
    assert _browser_with(app, copied).get("/").status_code == 302


def test_change_password_ends_other_sessions_and_keeps_this_one(
    app, client, logged_in, log_in, password, text_of, session
):
    user = logged_in("member@TSS")
    elsewhere = _browser_with(app, _session_cookie(client))
    assert elsewhere.get("/").status_code == 200

    page = client.get("/profil")
    assert 'href="/profil/adgangskode"' in page.get_data(as_text=True)
    answer = client.post(
        "/profil/adgangskode",
        data={
            "current_password": password,
            "new_password": "et helt nyt og langt kodeord",
            "repeat": "et helt nyt og langt kodeord",
        },
    )
    assert answer.status_code == 303
    shown = client.get("/profil")
    assert shown.status_code == 200
    assert "Din adgangskode er skiftet" in text_of(shown)
    assert "API-nøgler virker stadig" in text_of(shown)
    assert elsewhere.get("/").status_code == 302

    client.post("/logout")
    assert log_in(user, password).status_code == 422
    assert log_in(user, "et helt nyt og langt kodeord").status_code == 303
    audited = [entry.action for entry in session.query(AdminAuditEntry).filter_by(actor_id=user.id)]
    assert "password_changed" in audited


def test_change_password_checks_the_current_one_and_the_policy(
    client, logged_in, password, text_of
):
    user = logged_in("member@TSS")

    def change(current: str, new: str, repeat: str | None = None):
        return client.post(
            "/profil/adgangskode",
            data={"current_password": current, "new_password": new, "repeat": repeat or new},
        )

    wrong = change("forkert kodeord", "et helt nyt og langt kodeord")
    assert wrong.status_code == 422
    assert "Den nuværende adgangskode er forkert" in text_of(wrong)
    short = change(password, "kort")
    assert short.status_code == 422
    assert "Adgangskoden skal være mindst 12 tegn." in text_of(short)
    same_as_email = change(password, user.email.upper())
    assert same_as_email.status_code == 422
    assert "må ikke være din e-mailadresse" in text_of(same_as_email)
    mismatch = change(password, "et helt nyt og langt kodeord", "et andet langt kodeord")
    assert mismatch.status_code == 422
    assert "De to nye adgangskoder er ikke ens" in text_of(mismatch)
    assert client.get("/").status_code == 200  # nothing changed: still logged in


def test_change_password_needs_a_login(client):
    answer = client.get("/profil/adgangskode")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


def test_an_admin_setting_a_password_ends_the_users_sessions(
    app, client, logged_in, make_login_user, session
):
    user = logged_in("member@TSS")
    admin = make_login_user(is_admin=True)
    admin_operations.update_user(
        session, admin, user, name=user.name, email=user.email, locale=user.locale,
        is_admin=False, party_id=user.party_id, new_password="et nyt kodeord sat af admin",
    )  # fmt: skip
    assert client.get("/").status_code == 302


def test_each_request_reads_the_users_memberships_with_the_user(client, logged_in, session, body):
    """The login reads the user and their memberships in one statement on every request: a
    membership given or ended between two pages counts on the next one."""
    user = logged_in()
    assert "Ny sag" not in client.get("/").get_data(as_text=True)
    membership = admin_operations.add_membership(
        session, None, user, body_id=body("TSS").id, role=Role.MEMBER, since=date(2020, 9, 1)
    )
    assert membership is not None
    assert "Ny sag" in client.get("/").get_data(as_text=True)
    admin_operations.end_membership(session, None, membership, date(2020, 9, 2))
    assert "Ny sag" not in client.get("/").get_data(as_text=True)
