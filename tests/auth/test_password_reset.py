"""Password reset by e-mail, end to end over a real SMTP server: request, mail, link, new
password; the link works once and for an hour, and the answer never tells who has an account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from support.mail import BASE_URL

from models import Notification
from workflow.engine import clock
from workflow.notifications import delivery

NEW_PASSWORD = "en ny og lang adgangskode"


@pytest.fixture
def reset_client(make_app):
    # Links point at the configured address; the test client follows them over http.
    return make_app(BASE_URL=BASE_URL, SECURE_COOKIES=False).test_client()


def _ask(client, email: str):
    return client.post("/glemt-adgangskode", data={"email": email})


def _mailed_link(session, smtp, mail_server) -> str:
    delivery.deliver_pending(session, smtp)
    assert mail_server.messages, "no mail was delivered"
    text = mail_server.messages[-1].get_content()
    match = re.search(re.escape(BASE_URL) + r"(/nulstil-adgangskode/\S+)", text)
    assert match is not None, text
    return match.group(1)


def _set(client, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"new_password": password, "repeat": password})


def test_reset_by_mail_sets_a_new_password_and_the_link_dies_with_its_use(
    reset_client, session, smtp, mail_server, make_login_user, password, text_of
):
    user = make_login_user("member@TSS")
    asked = _ask(reset_client, user.email)
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/login"

    link = _mailed_link(session, smtp, mail_server)
    mail = mail_server.messages[-1]
    assert mail["To"].addresses[0].addr_spec == user.email
    assert mail["Subject"] == "Nulstil din adgangskode til Aftaleflow"

    page = reset_client.get(link)
    assert page.status_code == 200
    assert "Vælg en ny adgangskode" in text_of(page)
    assert page.headers["Cache-Control"] == "no-store"
    done = _set(reset_client, link)
    assert done.status_code == 303
    assert "Din adgangskode er skiftet" in text_of(reset_client.get("/login"))

    def log_in(secret: str):
        return reset_client.post("/login", data={"email": user.email, "password": secret})

    assert log_in(password).status_code == 422
    assert log_in(NEW_PASSWORD).status_code == 303
    reset_client.post("/logout")

    used_again = reset_client.get(link)
    assert used_again.status_code == 410
    assert "Linket virker ikke længere" in text_of(used_again)
    assert _set(reset_client, link, "endnu en lang adgangskode").status_code == 422
    assert log_in(NEW_PASSWORD).status_code == 303


def test_an_expired_link_is_refused(
    reset_client, session, smtp, mail_server, make_login_user, frozen_clock, text_of
):
    user = make_login_user("member@TSS")
    _ask(reset_client, user.email)
    link = _mailed_link(session, smtp, mail_server)
    clock.set_time(frozen_clock + timedelta(minutes=61))
    expired = reset_client.get(link)
    assert expired.status_code == 410
    assert "udløbet" in text_of(expired)
    assert _set(reset_client, link).status_code == 422


def test_a_tampered_link_is_refused(reset_client, session, smtp, mail_server, make_login_user):
    user = make_login_user("member@TSS")
    _ask(reset_client, user.email)
    link = _mailed_link(session, smtp, mail_server)
    assert reset_client.get(link[:-3] + "abc").status_code == 410
    assert reset_client.get("/nulstil-adgangskode/" + "x" * 600).status_code == 410


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    reset_client, session, smtp, mail_server, make_login_user, text_of
):
    user = make_login_user("member@TSS")
    unknown = "ingen.konto@test.aftaleflow.dk"
    for_user = _ask(reset_client, user.email)
    user_page = text_of(reset_client.get("/login"))
    for_unknown = _ask(reset_client, unknown)
    unknown_page = text_of(reset_client.get("/login"))
    assert for_user.status_code == for_unknown.status_code == 303
    assert user_page.replace(user.email, unknown) == unknown_page
    delivery.deliver_pending(session, smtp)
    assert len(mail_server.messages) == 1


def test_a_digest_user_gets_the_link_at_once_and_not_in_the_app(
    reset_client, session, smtp, mail_server, make_login_user
):
    user = make_login_user("member@TSS")
    user.digest = True
    session.commit()
    _ask(reset_client, user.email)
    assert _mailed_link(session, smtp, mail_server)
    reset_client.post("/login", data={"email": user.email, "password": "x"})
    listed = delivery.inbox(session, user.id)
    assert [n.kind for n in listed] == []


def test_reset_requests_are_throttled_without_telling_who_exists(
    reset_client, session, make_login_user, text_of
):
    user = make_login_user("member@TSS")
    answers = [_ask(reset_client, user.email) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [303, 303, 303, 429]
    assert "For mange forsøg – prøv igen om 1 minut." in text_of(answers[-1])
    sent = session.scalars(
        select(Notification).where(
            Notification.recipient_id == user.id, Notification.kind == "password_reset"
        )
    ).all()
    assert len(sent) == 3


def test_the_login_page_offers_a_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/glemt-adgangskode"' in page
    assert "Glemt adgangskode?" in page


def test_the_reset_link_uses_the_configured_address_not_the_host_header(
    reset_client, session, smtp, mail_server, make_login_user
):
    user = make_login_user("member@TSS")
    reset_client.post(
        "/glemt-adgangskode", data={"email": user.email}, headers={"Host": "angriber.example"}
    )
    delivery.deliver_pending(session, smtp)
    text = mail_server.messages[-1].get_content()
    assert "angriber.example" not in text
    assert f"{BASE_URL}/nulstil-adgangskode/" in text


def test_the_password_forms_need_their_csrf_token(make_app, make_login_user):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    user = make_login_user("member@TSS")
    assert client.post("/glemt-adgangskode", data={"email": user.email}).status_code == 400
    page = client.get("/glemt-adgangskode").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/glemt-adgangskode", data={"email": user.email, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 303
    # CSRF is checked before anything else, so a forged change is refused as such.
    change = client.post(
        "/profil/adgangskode",
        data={"current_password": "x", "new_password": "x" * 20, "repeat": "x" * 20},
    )
    assert change.status_code == 400
