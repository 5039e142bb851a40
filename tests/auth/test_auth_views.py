"""Logging in and out, CSRF, session protection and the app factory's secret key."""

from __future__ import annotations

import re
import stat

import pytest
from argon2 import PasswordHasher

from workflow.app import ConfigurationError, create_app, secret_key
from workflow.auth import passwords
from workflow.auth.views import safe_next


def test_login_with_the_right_password_opens_the_dashboard(client, make_login_user, log_in):
    user = make_login_user("member@TSS", name="Karen Holm")
    response = log_in(user)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Velkommen, Karen Holm." in html
    assert "Logget ind som <strong>Karen Holm</strong>" in html


def test_login_accepts_the_email_in_another_case(client, make_login_user, password):
    user = make_login_user("member@TSS")
    response = client.post("/login", data={"email": user.email.upper(), "password": password})
    assert response.status_code == 303


def test_wrong_password_and_unknown_email_get_the_same_message(
    client, make_login_user, log_in, text_of
):
    user = make_login_user("member@TSS")
    wrong_password = log_in(user, "forkert")
    unknown_email = client.post(
        "/login", data={"email": "ingen@test.aftaleflow.dk", "password": "forkert"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 422
    assert "Forkert e-mail eller adgangskode. Prøv igen." in text_of(wrong_password)
    assert text_of(wrong_password) == text_of(unknown_email).replace(
        "ingen@test.aftaleflow.dk", user.email
    )
    assert client.get("/").status_code == 302


def test_login_form_says_what_is_missing(client, text_of):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    page = text_of(response)
    assert "Skriv din e-mailadresse." in page
    assert "Skriv din adgangskode." in page
    html = response.get_data(as_text=True)
    email_input = re.search(r'<input[^>]*id="email"[^>]*>', html)
    assert email_input is not None
    assert 'aria-describedby="email-fejl"' in email_input.group(0)
    assert '<p class="form-error-message" id="email-fejl">' in html


def test_inactive_user_cannot_log_in(client, make_login_user, log_in, session, text_of):
    user = make_login_user("member@TSS")
    user.active = False
    session.flush()
    response = log_in(user)
    assert response.status_code == 422
    assert "deaktiveret" in text_of(response)
    assert client.get("/").status_code == 302


def test_deactivating_a_user_ends_their_session(client, logged_in, session):
    user = logged_in("member@TSS")
    assert client.get("/").status_code == 200
    user.active = False
    session.flush()
    assert client.get("/").status_code == 302


def test_user_without_password_cannot_log_in(client, make_user):
    user = make_user("member@TSS")
    response = client.post("/login", data={"email": user.email, "password": ""})
    assert response.status_code == 422
    response = client.post("/login", data={"email": user.email, "password": "noget"})
    assert response.status_code == 422


def test_logout_ends_the_session(client, logged_in, text_of):
    logged_in("member@TSS")
    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "Du er logget ud." in text_of(client.get("/login"))
    assert client.get("/").status_code == 302


def test_logout_needs_a_post(client, logged_in):
    logged_in("member@TSS")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_pages_need_login_and_return_after_it(client, make_case, make_login_user, log_in):
    case = make_case()
    response = client.get(f"/sager/{case.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/sager/{case.id}"
    user = make_login_user("member@TSS")
    response = log_in(user, next=f"/sager/{case.id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/sager/{case.id}"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_never_leaves_the_site(client, make_login_user, log_in, target):
    user = make_login_user("member@TSS")
    response = log_in(user, next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_safe_next_keeps_local_paths_with_query(app):
    with app.app_context():
        assert safe_next("/sager?proces=forum_matter") == "/sager?proces=forum_matter"
        assert safe_next(None) is None


def test_safe_next_drops_addresses_a_browser_cannot_open(app):
    with app.app_context():
        assert safe_next("/sager/1/handlinger/submit") is None
        assert safe_next("/logout") is None
        assert safe_next("/sager/1") == "/sager/1"


def test_action_posted_after_the_session_ended_lands_on_the_case_after_login(
    client, make_case, make_login_user, log_in, text_of
):
    case = make_case()
    response = client.post(
        f"/sager/{case.id}/handlinger/submit", data={"expected_version": str(case.version)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/sager/{case.id}"
    user = make_login_user("chair@SU-NORD-SOM")
    response = log_in(user, next=f"/sager/{case.id}")
    assert response.headers["Location"] == f"/sager/{case.id}"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert case.title in text_of(page)
    # A stale login link to the form's POST address lands on the dashboard, not a 405.
    client.post("/logout")
    response = log_in(user, next=f"/sager/{case.id}/handlinger/submit")
    assert response.headers["Location"] == "/"


@pytest.fixture
def csrf_client(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    return app.test_client()


def test_post_without_csrf_token_is_refused(csrf_client, make_login_user, password, text_of):
    user = make_login_user("member@TSS")
    response = csrf_client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 400
    assert "sikkerhedsnøgle mangler eller er udløbet" in text_of(response)
    assert csrf_client.get("/").status_code == 302


def test_post_with_csrf_token_is_accepted(csrf_client, make_login_user, password):
    user = make_login_user("member@TSS")
    form = csrf_client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    response = csrf_client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303


def test_action_without_csrf_token_is_refused(csrf_client, make_login_user, make_case, password):
    case = make_case()
    chair = make_login_user("chair@SU-NORD-SOM")
    form = csrf_client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    csrf_client.post(
        "/login", data={"email": chair.email, "password": password, "csrf_token": token.group(1)}
    )
    response = csrf_client.post(
        f"/sager/{case.id}/handlinger/submit", data={"expected_version": str(case.version)}
    )
    assert response.status_code == 400
    assert case.state == "draft"


def test_login_rehashes_a_hash_made_with_old_parameters(client, make_user, session, password):
    user = make_user("member@TSS")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(password)
    session.flush()
    old_hash = user.password_hash
    assert passwords.needs_rehash(old_hash)
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 303
    assert user.password_hash != old_hash
    assert not passwords.needs_rehash(user.password_hash)
    assert passwords.verify_password(user.password_hash, password)


def test_verify_password_never_raises_for_a_bad_hash():
    good = passwords.hash_password("hemmelig")
    assert passwords.verify_password(good, "hemmelig")
    assert not passwords.verify_password(good, "forkert")
    assert not passwords.verify_password("ikke en hash", "hemmelig")
    assert not passwords.verify_password(None, "hemmelig")
    assert not passwords.verify_password("", "")
    assert passwords.needs_rehash("ikke en hash")
    assert not passwords.needs_rehash(good)


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_pages_are_danish_and_have_landmarks(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="da" class="no-js">' in html
    assert '<a class="skip-link" href="#indhold">Spring til indholdet</a>' in html
    assert '<main id="indhold"' in html
    assert '<label class="form-label" for="email">E-mail</label>' in html
    assert '<label class="form-label" for="password">Adgangskode</label>' in html


def test_stylesheet_is_served_locally_and_nothing_from_other_hosts(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/static/style.css"' in html
    assert "http://" not in html and "https://" not in html
    css = client.get("/static/style.css")
    assert css.status_code == 200
    assert ":focus-visible" in css.get_data(as_text=True)
    css.close()


def test_secret_key_file_is_created_once_beside_the_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.delenv("AFTALEFLOW_SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'data' / 'aftaleflow.db'}"
    first = secret_key(url, testing=False)
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 64
    assert secret_key(url, testing=False) == first
    app = create_app({"DATABASE_URL": url})
    assert app.config["SECRET_KEY"] == first


def test_secret_key_comes_from_the_environment_first(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTALEFLOW_SECRET_KEY", "x" * 64)
    assert secret_key(f"sqlite:///{tmp_path / 'a.db'}", testing=False) == "x" * 64
    assert not (tmp_path / "secret_key").exists()


def test_postgresql_without_a_secret_key_refuses_to_start(monkeypatch):
    monkeypatch.delenv("AFTALEFLOW_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="AFTALEFLOW_SECRET_KEY"):
        secret_key("postgresql+psycopg://127.0.0.1/aftaleflow", testing=False)
