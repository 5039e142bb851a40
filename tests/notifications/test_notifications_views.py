"""In-app notifications: the unread count in the header, the inbox, marking read (with CSRF),
and the failed deliveries the secretariat sees on its deadline board."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from models import AdminAuditEntry, Notification

NOW = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)
_numbers = count(1)


@pytest.fixture
def notify_user(session):
    """Write a notification to `user` as the outbox would."""

    def add(user, subject, *, case=None, read=False, failed=False, kind="reminder", **extra):
        number = next(_numbers)
        item = Notification(
            idempotency_key=f"webtest:{number}", message_id=f"<webtest.{number}@aftaleflow>",
            recipient_id=user.id, case_id=case.id if case else None, kind=kind,
            subject=subject, body=f"Brødtekst for {subject}.",
            created_at=NOW - timedelta(minutes=number), send_after=NOW,
            read_at=NOW if read else None, failed_at=NOW if failed else None, **extra,
        )  # fmt: skip
        session.add(item)
        session.flush()
        return item

    return add


def _badge(html: str) -> str | None:
    match = re.search(r'<span class="badge">([^<]+)</span></a>', html)
    return match.group(1) if match else None


def test_header_shows_the_unread_count_and_links_to_the_inbox(client, logged_in, notify_user):
    user = logged_in("member@SU-NORD-SOM")
    assert _badge(client.get("/").get_data(as_text=True)) is None
    notify_user(user, "Frist om tre dage")
    notify_user(user, "Ny sag til behandling")
    notify_user(user, "Gammel besked", read=True)
    # A digest summarises other notifications and is not counted again.
    notify_user(user, "Dagligt overblik", kind="digest")
    html = client.get("/").get_data(as_text=True)
    assert _badge(html) == "2 ulæste"
    assert 'href="/beskeder"' in html and 'href="/profil/tokens"' in html


def test_inbox_lists_newest_first_and_marks_one_and_all_read(
    client, logged_in, notify_user, make_case, text_of, session
):
    user = logged_in("member@SU-NORD-SOM")
    case = make_case(title="Akutforløb")
    first = notify_user(user, "Frist overskredet: Akutforløb", case=case)
    notify_user(user, "Påmindelse om materialefrist")
    notify_user(user, "Læst for længe siden", read=True)
    other = notify_user(_other(session, user), "Andens besked")
    page = client.get("/beskeder")
    html = page.get_data(as_text=True)
    text = text_of(page)
    assert text.index("Frist overskredet: Akutforløb") < text.index("Påmindelse om materialefrist")
    assert "Andens besked" not in text
    assert f'href="/sager/{case.id}"' in html
    assert "Kun ulæste (2)" in text

    response = client.post("/beskeder/laest", data={"besked": str(first.id)})
    assert response.status_code == 303
    session.refresh(first)
    assert first.read_at is not None
    assert "Kun ulæste (1)" in text_of(client.get("/beskeder"))
    unread_page = text_of(client.get("/beskeder?ulaeste=1"))
    assert "Påmindelse om materialefrist" in unread_page
    assert "Frist overskredet" not in unread_page

    # Someone else's notification is not touched by "mark read".
    client.post("/beskeder/laest", data={"besked": str(other.id)})
    session.refresh(other)
    assert other.read_at is None

    followed = client.post("/beskeder/laest", data={}, follow_redirects=True)
    assert "1 beskeder er markeret som læst." in text_of(followed)
    assert _badge(followed.get_data(as_text=True)) is None
    assert "Du har ingen ulæste beskeder." in text_of(client.get("/beskeder?ulaeste=1"))


def _other(session, user):
    from models import User

    stranger = User(email=f"fremmed{user.id}@test.aftaleflow.dk", name="Fremmed")
    session.add(stranger)
    session.flush()
    return stranger


def test_marking_read_without_a_csrf_token_is_refused(
    make_app, make_login_user, password, notify_user, session
):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = make_login_user("member@SU-NORD-SOM")
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    assert token is not None
    client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": token.group(1)},
    )
    item = notify_user(user, "Beskyttet besked")
    response = client.post("/beskeder/laest", data={"besked": str(item.id)})
    assert response.status_code == 400
    assert "sikkerhedsnøgle" in response.get_data(as_text=True)
    session.refresh(item)
    assert item.read_at is None


def test_secretariat_sees_failed_deliveries_on_the_deadline_board(
    client, logged_in, make_user, notify_user, make_case, text_of
):
    logged_in("secretariat@TSS")
    chair = make_user("chair@TSS", name="Tove Formand")
    outsider = make_user("chair@SU-SYD-SOM", name="Ulla Udenfor")
    case = make_case(title="Fælles forløb", state="at_tss")
    notify_user(
        chair, "Frist overskredet: Fælles forløb", case=case, failed=True, attempts=8,
        last_error="Mailserveren svarede 550: mailbox unavailable",
    )  # fmt: skip
    notify_user(chair, "Sendt fint")
    notify_user(outsider, "Ikke vores organ", failed=True, attempts=8, last_error="550")
    # A reminder withdrawn because its deadline moved is not a failed delivery.
    notify_user(chair, "Trukket tilbage", failed=True, last_error="Annulleret: mødet er flyttet")
    page = client.get("/")
    html = page.get_data(as_text=True)
    section = re.search(r'aria-labelledby="fejlede-beskeder">(.*?)</section>', html, re.S)
    assert section is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.group(1)))
    assert "Tove Formand" in text and "Frist overskredet: Fælles forløb" in text
    assert "Mailserveren svarede 550: mailbox unavailable" in text
    assert f'href="/sager/{case.id}"' in section.group(1)
    assert "Ikke vores organ" not in text and "Trukket tilbage" not in text
    assert "Sendt fint" not in text


def test_only_the_secretariat_gets_the_failed_deliveries(client, logged_in, make_user, notify_user):
    logged_in("chair@TSS")
    notify_user(make_user("member@TSS"), "Opgivet", failed=True, last_error="550")
    html = client.get("/").get_data(as_text=True)
    assert 'id="fejlede-beskeder"' not in html


def test_inbox_needs_login(client):
    response = client.get("/beskeder")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


def test_unread_count_is_shown_in_english(client, logged_in, notify_user, session):
    user = logged_in("member@SU-NORD-SOM")
    user.locale = "en"
    session.flush()
    notify_user(user, "Frist")
    html = client.get("/").get_data(as_text=True)
    assert _badge(html) == "1 unread"
    assert ">Notifications" in html
    assert session.scalar(select(Notification.id).where(Notification.recipient_id == user.id))


def test_the_inbox_leaves_out_notifications_of_cases_the_user_may_not_see(
    client, logged_in, notify_user, make_case, text_of
):
    """A TSS chair was told of a case that TSS later returned: it is a draft of SU-SYD-SOM now."""
    user = logged_in("chair@TSS")
    draft = make_case(title="Syds kladde", origin="SU-SYD-SOM")
    shared = make_case(title="Fælles sag", origin="SU-SYD-SOM", state="at_tss")
    notify_user(user, "Ny sag til behandling i TSS: Syds kladde", case=draft)
    notify_user(user, "Ny sag til behandling i TSS: Fælles sag", case=shared)
    page = client.get("/beskeder")
    assert "Syds kladde" not in text_of(page) and "Fælles sag" in text_of(page)
    assert _badge(page.get_data(as_text=True)) == "1 ulæst"


def test_failed_deliveries_leave_out_the_cases_the_secretariat_may_not_see(
    client, logged_in, make_user, notify_user, make_case, text_of
):
    logged_in("secretariat@TSS")
    both = make_user("chair@TSS", "chair@SU-SYD-SOM", name="Tove Formand")
    draft = make_case(title="Syds kladde", origin="SU-SYD-SOM")
    notify_user(both, "Påmindelse: Syds kladde", case=draft, failed=True, last_error="550")
    notify_user(both, "Opgivet uden sag", failed=True, last_error="550")
    text = text_of(client.get("/"))
    assert "Opgivet uden sag" in text and "Syds kladde" not in text


def _failed_section(html: str) -> str:
    """The board's section of failed deliveries, which must sit in the page's main content
    (it once landed inside <title>, where a browser shows it as the tab's text)."""
    main = re.search(r"<main\b.*?</main>", html, re.S)
    assert main is not None
    section = re.search(r'aria-labelledby="fejlede-beskeder">(.*?)</section>', main.group(0), re.S)
    assert section is not None
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title is not None and "fejlede-beskeder" not in title.group(1)
    return section.group(1)


def test_an_admin_sees_every_failed_delivery_and_a_button_to_send_it_again(
    client, logged_in, make_user, notify_user, session
):
    """Before: a mail given up on to someone outside the secretariats' bodies was seen by no
    one, and nothing could send it again."""
    logged_in(is_admin=True)
    loner = make_user(name="Ulla Uden Organ")
    item = notify_user(loner, "Opgivet uden organ", failed=True, attempts=3, last_error="550")
    html = _failed_section(client.get("/").get_data(as_text=True))
    assert "Ulla Uden Organ" in html and "Opgivet uden organ" in html
    assert f'action="/beskeder/{item.id}/send-igen"' in html
    assert "Send igen" in html


def test_the_secretariat_sees_its_failed_deliveries_without_the_admins_button(
    client, logged_in, make_user, notify_user
):
    logged_in("secretariat@TSS")
    notify_user(make_user("chair@TSS"), "Opgivet i TSS", failed=True, last_error="550")
    html = _failed_section(client.get("/").get_data(as_text=True))
    assert "Opgivet i TSS" in html and "send-igen" not in html


def test_an_admin_sends_a_failed_notification_again_from_the_overview(
    make_app, make_login_user, password, make_user, notify_user, session, text_of
):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    admin = make_login_user(is_admin=True)
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login_page)
    assert token is not None
    client.post(
        "/login", data={"email": admin.email, "password": password, "csrf_token": token.group(1)}
    )
    item = notify_user(
        make_user("chair@TSS", name="Tove Formand"), "Opgivet", failed=True, attempts=8,
        last_error="Mailserveren svarede 550: mailbox unavailable",
    )  # fmt: skip

    refused = client.post(f"/beskeder/{item.id}/send-igen")  # no CSRF token
    assert refused.status_code == 400
    session.refresh(item)
    assert item.failed_at is not None

    overview = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', _failed_section(overview))
    assert token is not None
    response = client.post(
        f"/beskeder/{item.id}/send-igen", data={"csrf_token": token.group(1)},
        follow_redirects=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert "Beskeden til Tove Formand er sat til at blive sendt igen." in text_of(response)
    session.refresh(item)
    assert (item.failed_at, item.attempts) == (None, 0)
    assert "Opgivet" not in text_of(client.get("/")).split("Beskeder, der ikke kunne leveres")[1]
    entry = session.scalars(
        select(AdminAuditEntry).where(AdminAuditEntry.action == "notification_retried")
    ).one()
    assert (entry.actor_id, entry.object_id) == (admin.id, str(item.id))

    again = client.post(
        f"/beskeder/{item.id}/send-igen", data={"csrf_token": token.group(1)},
        follow_redirects=True,
    )  # fmt: skip
    assert "allerede på vej" in text_of(again)
    missing = client.post("/beskeder/99999999999999999999/send-igen",
                          data={"csrf_token": token.group(1)})  # fmt: skip
    assert missing.status_code == 404


def test_only_an_admin_may_send_a_failed_notification_again_from_the_overview(
    client, logged_in, make_user, notify_user, session
):
    logged_in("secretariat@TSS")
    item = notify_user(make_user("chair@TSS"), "Opgivet", failed=True, last_error="550")
    assert client.post(f"/beskeder/{item.id}/send-igen").status_code == 403
    session.refresh(item)
    assert item.failed_at is not None
