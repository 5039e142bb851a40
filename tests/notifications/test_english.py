"""Notifications speak the recipient's language: a user who chose English gets English mails
(subject, body, footer, dates) for a transition, a deadline reminder, a password reset and the
daily digest, through a real SMTP server; a Danish user still gets Danish; a notification
written before notifications had English goes out in Danish. The in-app list and the API show
the reader's language. The Message-IDs are the same whatever the language."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select
from support.formandskab import decide
from support.mail import BASE_URL

from models import Deadline, DeadlineKind, Notification, User
from workflow import scheduler
from workflow.engine import clock, mail_text
from workflow.engine.calendar import end_of_day
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.core import definition_of
from workflow.engine.outbox import enqueue, message_id_for
from workflow.notifications import delivery as notify
from workflow.notifications import digest
from workflow.scheduler import SchedulerConfig

DANISH_FOOTER = "Denne besked er sendt automatisk af Aftaleflow. Svar ikke på den."
ENGLISH_FOOTER = "This message was sent automatically by Aftaleflow. Do not reply to it."


def _english(user: User) -> User:
    user.locale = "en"
    return user


def _mail_to(mail_server, user: User, containing: str = ""):
    found = [
        m
        for m in mail_server.messages
        if user.email in str(m["To"]) and containing in str(m["Subject"])
    ]
    assert len(found) == 1, [str(m["Subject"]) for m in mail_server.messages]
    return found[0]


def _text(mail) -> str:
    """A mail's text with its lines ended as Python's (the wire's are CRLF)."""
    return mail.get_content().replace("\r\n", "\n")


def _told(session, user: User) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.recipient_id == user.id)
            .order_by(Notification.id)
        )
    )


def test_a_transition_is_mailed_in_each_recipients_language(
    session, make_case, make_user, mail_server, smtp
):
    dansk = make_user("member@SU-NORD-SOM", name="Dorthe Dansk")
    english = _english(make_user("member@SU-NORD-SOM", name="Emma English"))
    session.commit()
    case = make_case(title="Fælles forløb for KOL")
    decide(case, "submit", make_user("chair@SU-NORD-SOM"), comment="Klar til TSS.")
    session.commit()
    state = definition_of(case).states[case.state]
    assert state.label_en and state.label_en != state.label

    notify.deliver_pending(session, smtp)
    danish_mail = _mail_to(mail_server, dansk)
    assert danish_mail["Subject"] == f"Status på 'Fælles forløb for KOL': {state.label}"
    assert danish_mail["Content-Language"] == "da"
    text = _text(danish_mail)
    assert f"sagen er nu '{state.label}' hos TSS." in text
    assert "Begrundelse: Klar til TSS." in text
    assert DANISH_FOOTER in text and f"Se sagen: {BASE_URL}/sager/{case.id}" in text

    english_mail = _mail_to(mail_server, english)
    assert english_mail["Subject"] == f"Status of 'Fælles forløb for KOL': {state.label_en}"
    assert english_mail["Content-Language"] == "en"
    text = _text(english_mail)
    assert f"the case is now '{state.label_en}' with TSS." in text
    assert "Reason: Klar til TSS." in text  # the comment as it was written
    assert ENGLISH_FOOTER in text and f"See the case: {BASE_URL}/sager/{case.id}" in text
    assert "Denne besked" not in text and "Sagen" not in text

    # The same keys and Message-IDs as ever: one notification per recipient and event.
    [told] = _told(session, english)
    assert told.idempotency_key.startswith("event:") and told.idempotency_key.endswith(
        f":user:{english.id}"
    )
    assert english_mail["Message-ID"] == told.message_id == message_id_for(told.idempotency_key)
    assert notify.deliver_pending(session, smtp).sent == 0  # nothing twice


def test_a_deadline_reminder_is_english_with_english_dates(
    session, make_case, make_user, body, mail_server, smtp
):
    dansk = make_user("secretariat@TSS")
    english = _english(make_user("secretariat@TSS"))
    case = make_case(title="Testsag")
    session.add(
        Deadline(
            case_id=case.id, kind=DeadlineKind.STATE, state=case.state, body_id=body("TSS").id,
            due_at=end_of_day(date(2020, 9, 10)), reminder_days=[7], created_at=clock.now(),
        )
    )  # fmt: skip
    session.commit()
    clock.set_time(datetime(2020, 9, 3, 8, 0, tzinfo=LOCAL_TZ))
    assert scheduler.sweep(session, config=SchedulerConfig()).reminders == 2

    notify.deliver_pending(session, smtp)
    danish_mail = _mail_to(mail_server, dansk)
    assert danish_mail["Subject"] == "Påmindelse: frist 10. september 2020 – Testsag"
    assert "er 10. september 2020 kl. 23:59 – om 7 dage." in danish_mail.get_content()
    english_mail = _mail_to(mail_server, english)
    assert english_mail["Subject"] == "Reminder: deadline 10 September 2020 – Testsag"
    text = _text(english_mail)
    assert (
        "The handling deadline of the case 'Testsag' is 10 September 2020 at 23:59 – in 7 days.\n"
        f"The case is with {body('TSS').name}." in text
    )
    assert ENGLISH_FOOTER in text


@pytest.fixture
def reset_client(make_app):
    return make_app(BASE_URL=BASE_URL, SECURE_COOKIES=False).test_client()


def test_a_password_reset_is_mailed_in_the_users_language(
    reset_client, session, make_login_user, mail_server, smtp
):
    english = _english(make_login_user("member@TSS", name="Emma English"))
    dansk = make_login_user("member@TSS", name="Dorthe Dansk")
    session.commit()
    for user in (english, dansk):
        assert (
            reset_client.post("/glemt-adgangskode", data={"email": user.email}).status_code == 303
        )
    notify.deliver_pending(session, smtp)

    english_mail = _mail_to(mail_server, english)
    assert english_mail["Subject"] == "Reset your password for Aftaleflow"
    text = _text(english_mail)
    assert text.startswith("Hello Emma English")
    assert "Open the link below and choose a new password:" in text
    assert "The link works once and for 60 minutes." in text
    assert re.search(re.escape(BASE_URL) + r"/nulstil-adgangskode/\S+", text)
    assert ENGLISH_FOOTER in text
    danish_mail = _mail_to(mail_server, dansk)
    assert danish_mail["Subject"] == "Nulstil din adgangskode til Aftaleflow"
    assert danish_mail.get_content().startswith("Goddag Dorthe Dansk")


def _old(session, user: User, subject: str, body: str) -> Notification:
    """A notification as written before notifications had English (Danish text only)."""
    made = enqueue(
        session, key=f"old:{user.id}:{subject}", recipient_id=user.id, kind="status_changed",
        subject=subject, body=body, send_after=clock.now(), created_at=clock.now(),
    )  # fmt: skip
    assert made is not None and made.subject_en is None and made.body_en is None
    session.commit()
    return made


def test_a_notification_written_before_english_goes_out_in_danish(
    session, make_user, mail_server, smtp
):
    english = _english(make_user("member@TSS"))
    old = _old(session, english, "Gammel besked", "Sagen 'Gammel' er nu hos TSS.")
    notify.deliver_pending(session, smtp)
    mail = _mail_to(mail_server, english)
    assert mail["Subject"] == "Gammel besked" and mail["Content-Language"] == "da"
    assert "Sagen 'Gammel' er nu hos TSS." in mail.get_content()
    assert DANISH_FOOTER in mail.get_content()  # one language per mail
    assert mail["Message-ID"] == old.message_id


def test_the_daily_digest_is_english_for_an_english_reader(
    session, make_case, make_user, mail_server, smtp
):
    reader = _english(make_user("member@SU-NORD-SOM", name="Emma English"))
    reader.digest = True
    session.commit()
    clock.set_time(datetime(2020, 9, 1, 12, 0, tzinfo=LOCAL_TZ))
    case = make_case(title="Fælles forløb for KOL")
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    session.commit()
    _old(session, reader, "Gammel besked", "Sagen 'Gammel' er nu hos TSS.")
    state = definition_of(case).states[case.state]
    notify.deliver_pending(session, smtp)
    assert not [m for m in mail_server.messages if reader.email in str(m["To"])]  # they wait

    morning = digest.at_local(date(2020, 9, 2), 7)
    clock.set_time(morning)
    assert digest.build_daily_digests(session, morning, hour=7) == 1
    session.commit()
    notify.deliver_pending(session, smtp)
    mail = _mail_to(mail_server, reader)
    assert mail["Subject"] == "Aftaleflow: today's summary 2 September 2020 – 2 new messages"
    text = _text(mail)
    assert text.startswith("Hello Emma English")
    assert "Here are your messages from Aftaleflow for 2 September 2020 (2 new messages):" in text
    assert f"1. Status of 'Fælles forløb for KOL': {state.label_en}" in text
    assert "2. Gammel besked" in text  # written before: in Danish, in the English digest
    assert "you have chosen a daily summary" in text and ENGLISH_FOOTER in text


def test_the_in_app_list_shows_the_readers_language(
    session, make_case, make_login_user, make_user, client, log_in, text_of
):
    english = _english(make_login_user("member@SU-NORD-SOM"))
    dansk = make_login_user("member@SU-NORD-SOM")
    session.commit()
    case = make_case(title="Fælles forløb for KOL")
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    session.commit()
    _old(session, english, "Gammel besked", "Sagen 'Gammel' er nu hos TSS.")
    state = definition_of(case).states[case.state]

    log_in(english)
    page = text_of(client.get("/beskeder"))
    assert f"Status of 'Fælles forløb for KOL': {state.label_en}" in page
    assert f"the case is now '{state.label_en}' with TSS." in page
    assert "Status på" not in page
    assert "Gammel besked" in page  # written before: in Danish
    client.post("/logout")
    log_in(dansk)
    page = text_of(client.get("/beskeder"))
    assert f"Status på 'Fælles forløb for KOL': {state.label}" in page
    assert "Status of" not in page


def test_the_api_gives_notifications_in_the_callers_language(api, session, make_case, make_user):
    me = api("member@SU-NORD-SOM")
    case = make_case(title="Fælles forløb for KOL")
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    session.commit()
    _old(session, me.user, "Gammel besked", "Sagen 'Gammel' er nu hos TSS.")
    state = definition_of(case).states[case.state]

    def items(**headers: str) -> list[dict]:
        return me.get("/notifications", headers=headers).get_json()["items"]

    danish = {i["subject"]: i["language"] for i in items()}
    assert danish == {
        "Gammel besked": "da",
        f"Status på 'Fælles forløb for KOL': {state.label}": "da",
    }
    english = {i["subject"]: i["language"] for i in items(**{"Accept-Language": "en"})}
    assert english == {
        "Gammel besked": "da",  # written before: Danish, and it says so
        f"Status of 'Fælles forløb for KOL': {state.label_en}": "en",
    }
    # The other list of one's notifications says the same.
    mine = me.get("/me/notifications", headers={"Accept-Language": "en"}).get_json()["items"]
    assert {i["subject"]: i["language"] for i in mine} == english
    me.user.locale = "en"  # the token user's language, when the request names none
    session.commit()
    assert {i["language"] for i in items()} == {"da", "en"}
    assert {i["language"] for i in items(**{"Accept-Language": "da"})} == {"da"}


@pytest.mark.parametrize(
    "title", ["Testsag", "", "100 % %(day)s %s", "to\nlinjer", "\x00", "Æ’ – 🙂"]
)
def test_a_message_completed_per_case_reads_as_the_message_written_in_full(title):
    """The sweep's reminders share a message with all but the title put in (`Partial`)."""
    message = "Påmindelse: frist %(day)s – %(title)s"
    shared = {"day": mail_text.day(date(2020, 9, 10))}
    assert mail_text.Partial(message, "title", **shared).fill(title) == mail_text.bilingual(
        message, **shared, title=title
    )


def test_a_message_whose_shared_variable_holds_the_gap_is_still_written_in_full():
    message = "%(what)s for sagen '%(title)s' er overskredet. Følg op på sagen, eller ret fristen."
    shared = {"what": mail_text.same("a\x00b")}
    filled = mail_text.Partial(message, "title", **shared).fill("Sag")
    assert filled == mail_text.bilingual(message, **shared, title="Sag")
    assert filled.en.startswith("a\x00b of the case 'Sag' has passed.")
