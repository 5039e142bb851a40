"""Delivery: a real SMTP server on 127.0.0.1 receives each mail once, with its stable
Message-ID, through outages, 421 answers, time-outs, refusals, crashes, notifications that
cannot be built and two deliverers at once."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
import uuid
from datetime import timedelta
from email.utils import parseaddr

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from support.formandskab import decide
from support.mail import MailServer

from models import AdminAuditEntry, Case, Notification, User
from workflow.engine import clock, migrate
from workflow.engine.db import make_engine
from workflow.engine.errors import NotAllowed
from workflow.engine.outbox import enqueue
from workflow.notifications import delivery as notify
from workflow.notifications import operations
from workflow.notifications.delivery import SmtpConfig, SmtpSecurity
from workflow.organisation import seed


def notify_users(session, users, count=1, kind="reminder", **fields) -> list[Notification]:
    """Put `count` notifications per user in the outbox, due now."""
    made = []
    for user in users:
        for number in range(count):
            key = f"test:{uuid.uuid4().hex}:{user.id}:{number}"
            made.append(
                enqueue(
                    session, key=key, recipient_id=user.id, kind=kind,
                    subject=f"Påmindelse {number}: frist om 7 dage – Æblesag",
                    body="Materialefristen for sagen 'Æblesag' er om 7 dage.",
                    send_after=clock.now(), created_at=clock.now(), **fields,
                )
            )  # fmt: skip
    session.commit()
    return made


def _fresh(session, notification: Notification) -> Notification:
    session.expire_all()
    return session.get(Notification, notification.id)


# --- configuration ------------------------------------------------------------------------


def test_configuration_comes_from_the_environment():
    assert SmtpConfig.from_env({}) is None  # no host: notifications stay in the application
    config = SmtpConfig.from_env(
        {
            "AFTALEFLOW_SMTP_HOST": "smtp.regionh.dk",
            "AFTALEFLOW_SMTP_SECURITY": "ssl",
            "AFTALEFLOW_SMTP_USER": "aftaleflow",
            "AFTALEFLOW_SMTP_PASSWORD": "hemmeligt",
            "AFTALEFLOW_SMTP_FROM": "Aftaleflow <aftaleflow@regionh.dk>",
            "AFTALEFLOW_SMTP_MAX_ATTEMPTS": "5",
            "AFTALEFLOW_SMTP_PERMANENT_ATTEMPTS": "2",
        }
    )
    assert (config.port, config.security, config.max_attempts) == (465, SmtpSecurity.SSL, 5)
    assert config.permanent_attempts == 2
    assert config.sender == "Aftaleflow <aftaleflow@regionh.dk>"
    assert "hemmeligt" not in config.describe()
    assert SmtpConfig.from_env({"AFTALEFLOW_SMTP_HOST": "x"}).port == 587  # STARTTLS default
    with pytest.raises(ValueError, match="starttls, ssl eller none"):
        SmtpConfig.from_env({"AFTALEFLOW_SMTP_HOST": "x", "AFTALEFLOW_SMTP_SECURITY": "tls"})
    with pytest.raises(ValueError, match="AFTALEFLOW_SMTP_PORT skal være et heltal"):
        SmtpConfig.from_env({"AFTALEFLOW_SMTP_HOST": "x", "AFTALEFLOW_SMTP_PORT": "smtp"})
    # A sender that would put a second header (or address) into every mail is refused at start.
    with pytest.raises(ValueError, match="AFTALEFLOW_SMTP_FROM skal være én afsenderadresse"):
        SmtpConfig.from_env(
            {"AFTALEFLOW_SMTP_HOST": "x", "AFTALEFLOW_SMTP_FROM": "a@b.dk\nBcc: c@d.dk"}
        )


def test_backoff_doubles_and_is_capped():
    config = SmtpConfig(host="x", port=25, backoff_seconds=60, max_backoff_seconds=3600)
    waits = [config.backoff(n).total_seconds() for n in range(1, 9)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]


# --- delivery -----------------------------------------------------------------------------


def test_each_notification_is_mailed_once_in_danish_with_its_message_id(
    session, make_user, mail_server, smtp
):
    anna = make_user("secretariat@TSS", name="Anna Æbelø")
    bo = make_user("chair@TSS", name="Bo Ørsted")
    made = notify_users(session, [anna, bo], count=2, case_id=None)

    report = notify.deliver_pending(session, smtp)
    assert (report.sent, report.retrying, report.failed) == (4, 0, 0)
    assert notify.deliver_pending(session, smtp).sent == 0  # nothing is sent twice
    assert sorted(mail_server.message_ids()) == sorted(n.message_id for n in made)
    mail = mail_server.messages[0]
    assert parseaddr(mail["To"]) == ("Anna Æbelø", anna.email)
    assert mail["Subject"] == "Påmindelse 0: frist om 7 dage – Æblesag"
    assert "Materialefristen for sagen 'Æblesag'" in mail.get_content()
    assert "sendt automatisk af Aftaleflow" in mail.get_content()
    assert all(_fresh(session, n).sent_at == clock.now() for n in made)


def test_a_link_to_the_case_is_added_when_the_address_is_configured(
    session, make_user, make_case, mail_server, smtp
):
    case = make_case()
    notify_users(session, [make_user("secretariat@TSS")], case_id=case.id)
    notify.deliver_pending(session, smtp)
    assert f"https://aftaleflow.example.dk/sager/{case.id}" in mail_server.messages[0].get_content()


def test_server_down_then_up_delivers_everything_once_after_backoff(
    session, make_user, mail_server, smtp
):
    users = [make_user("secretariat@TSS") for _ in range(3)]
    made = notify_users(session, users)
    mail_server.stop()  # connections are refused

    report = notify.deliver_pending(session, smtp)
    assert (report.sent, report.retrying) == (0, 3)
    row = _fresh(session, made[0])
    assert row.attempts == 1
    assert row.send_after == clock.now() + timedelta(seconds=60)
    assert "Kunne ikke forbinde til mailserveren" in row.last_error
    assert notify.deliver_pending(session, smtp).retrying == 0  # waits for the backoff

    clock.advance(timedelta(seconds=60))
    assert notify.deliver_pending(session, smtp).retrying == 3
    assert _fresh(session, made[0]).send_after == clock.now() + timedelta(seconds=120)

    mail_server.start()
    clock.advance(timedelta(seconds=119))
    assert notify.deliver_pending(session, smtp).sent == 0  # not yet
    clock.advance(timedelta(seconds=1))
    assert notify.deliver_pending(session, smtp).sent == 3
    assert sorted(mail_server.message_ids()) == sorted(n.message_id for n in made)
    assert _fresh(session, made[0]).last_error is None


def test_421_answers_are_retried_and_nothing_is_sent_twice(session, make_user, mail_server, smtp):
    made = notify_users(session, [make_user("secretariat@TSS") for _ in range(4)])
    mail_server.answer_421 = 3
    for _ in range(6):
        notify.deliver_pending(session, smtp)
        clock.advance(timedelta(minutes=5))
    assert sorted(mail_server.message_ids()) == sorted(n.message_id for n in made)
    assert all(_fresh(session, n).sent_at is not None for n in made)
    assert sum(_fresh(session, n).attempts for n in made) == 3  # one per 421 answer


def test_after_max_attempts_the_failure_is_shown_to_the_secretariat(
    session, make_user, body, mail_server, smtp
):
    chair = make_user("chair@SU-NORD-SOM")
    made = notify_users(session, [chair])
    mail_server.stop()
    for _ in range(smtp.max_attempts):
        notify.deliver_pending(session, smtp)
        clock.advance(timedelta(hours=1))
    row = _fresh(session, made[0])
    assert (row.attempts, row.failed_at is not None, row.sent_at) == (4, True, None)

    failed = notify.failed_notifications(session, [body("SU-NORD-SOM").id])
    assert [n.id for n in failed] == [row.id]
    assert failed[0].recipient.email == chair.email
    assert "Kunne ikke forbinde" in failed[0].last_error
    assert notify.failed_notifications(session, [body("SU-SYD-SOM").id]) == []

    mail_server.start()
    assert notify.deliver_pending(session, smtp).sent == 0  # given up: never sent later


def _poison_recipient(session, make_user) -> User:
    """A user whose stored address would smuggle a Bcc header into a mail (written straight to
    the database, past every form, as an import or an old row could)."""
    user = make_user("secretariat@TSS", name="Gift\r\nBcc: angriber@evil.example")
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(email=f"gift{user.id}@test.aftaleflow.dk\r\nBcc: angriber@evil.example")
    )
    session.commit()
    session.expire(user)
    return user


def _advance_past_backoff(smtp, attempts: int) -> None:
    clock.advance(smtp.backoff(attempts))


def test_a_case_title_with_a_line_break_goes_out_on_one_line_and_adds_no_header(
    session, make_user, make_case, mail_server, smtp
):
    """Before: the title's CR/LF reached the Subject header, building the mail raised and the
    whole batch stalled; now the subject is one line and no header can be smuggled in."""
    secretariat = make_user("secretariat@TSS")
    case = make_case(title="Akutforløb")
    hostile = "Akutforløb\r\nBcc: angriber@evil.example\r\n\r\nFalsk brødtekst"
    session.execute(update(Case).where(Case.id == case.id).values(title=hostile))
    session.commit()
    session.expire(case)
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    # A row written before the fix, with the line break still in its subject.
    old = notify_users(session, [secretariat])[0]
    session.execute(
        update(Notification).where(Notification.id == old.id).values(subject=f"Status: {hostile}")
    )
    session.commit()

    report = notify.deliver_pending(session, smtp)
    assert report.failed == report.retrying == 0
    assert report.sent == len(mail_server.messages) >= 2
    assert "angriber@evil.example" not in mail_server.recipients
    subjects = [str(mail["Subject"]) for mail in mail_server.messages]
    assert "Ny sag til behandling i TSS: Akutforløb Bcc: angriber@evil.example Falsk brødtekst" in (
        subjects
    )
    assert "Status: Akutforløb Bcc: angriber@evil.example Falsk brødtekst" in subjects
    assert all(mail["Bcc"] is None for mail in mail_server.messages)


def test_a_notification_that_cannot_be_built_fails_alone_and_the_others_are_delivered(
    session, make_user, body, mail_server, smtp
):
    """Before: the poison notification raised out of the delivery run on every attempt, held
    back every notification behind it and never counted an attempt."""
    poison = notify_users(session, [_poison_recipient(session, make_user)])[0]
    good_users = [make_user("secretariat@TSS") for _ in range(4)]
    good = notify_users(session, good_users)

    report = notify.deliver_pending(session, smtp)
    assert (report.sent, report.retrying, report.failed) == (4, 1, 0)
    assert sorted(mail_server.message_ids()) == sorted(n.message_id for n in good)
    row = _fresh(session, poison)
    assert (row.attempts, row.sent_at, row.failed_at) == (1, None, None)
    assert row.send_after == clock.now() + smtp.backoff(1)
    assert "Beskeden kunne ikke dannes" in row.last_error
    assert "e-mailadresse" in row.last_error and "Ret den under Administration" in row.last_error

    for attempts in range(1, smtp.permanent_attempts):
        _advance_past_backoff(smtp, attempts)
        notify.deliver_pending(session, smtp)
    row = _fresh(session, poison)
    assert row.attempts == smtp.permanent_attempts
    assert row.failed_at is not None and row.sent_at is None
    assert "angriber@evil.example" not in mail_server.recipients
    assert len(mail_server.messages) == 4  # the good ones, once each
    assert [n.id for n in notify.failed_notifications(session, [body("TSS").id])] == [poison.id]


def test_a_permanent_refusal_fails_that_recipient_after_its_attempts_and_others_get_theirs(
    session, make_user, mail_server, smtp
):
    """Before: one 550 answer gave the notification up after a single attempt."""
    refused = make_user("secretariat@TSS")
    refused.email = "ukendt@test.aftaleflow.dk"
    others = [make_user("secretariat@TSS") for _ in range(3)]
    mine = notify_users(session, [refused])[0]
    theirs = notify_users(session, others)

    async def refuse_one(server, session_, envelope, address, options):
        if address == "ukendt@test.aftaleflow.dk":
            return "550 5.1.1 Ingen sådan postkasse"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    mail_server.handle_RCPT = refuse_one
    report = notify.deliver_pending(session, smtp)
    assert (report.sent, report.retrying, report.failed) == (3, 1, 0)
    assert sorted(mail_server.message_ids()) == sorted(n.message_id for n in theirs)
    row = _fresh(session, mine)
    assert (row.attempts, row.failed_at) == (1, None)
    assert "550" in row.last_error and "Ingen sådan postkasse" in row.last_error

    for attempts in range(1, smtp.permanent_attempts):
        _advance_past_backoff(smtp, attempts)
        notify.deliver_pending(session, smtp)
    row = _fresh(session, mine)
    assert (row.attempts, row.failed_at is not None) == (smtp.permanent_attempts, True)
    assert len(mail_server.messages) == 3


def test_an_outage_with_a_poison_notification_loses_nothing_and_sends_nothing_twice(
    session, make_user, mail_server, smtp
):
    poison = notify_users(session, [_poison_recipient(session, make_user)])[0]
    good = notify_users(session, [make_user("chair@TSS") for _ in range(3)])
    mail_server.stop()
    for attempts in (1, 2):
        report = notify.deliver_pending(session, smtp)
        assert (report.sent, report.retrying) == (0, 4)  # every failure counts an attempt
        assert {_fresh(session, n).attempts for n in [poison, *good]} == {attempts}
        assert _fresh(session, good[0]).send_after == clock.now() + smtp.backoff(attempts)
        _advance_past_backoff(smtp, attempts)
    mail_server.start()
    report = notify.deliver_pending(session, smtp)
    assert (report.sent, report.failed) == (3, 1)  # the poison's third permanent attempt
    assert notify.deliver_pending(session, smtp).sent == 0
    clock.advance(timedelta(days=1))
    assert notify.deliver_pending(session, smtp).sent == 0
    assert sorted(mail_server.message_ids()) == sorted(n.message_id for n in good)


def test_a_server_that_stops_answering_is_retried_later_and_nothing_is_sent_twice(
    session, make_user, mail_server, smtp
):
    made = notify_users(session, [make_user("secretariat@TSS") for _ in range(3)])
    hang = {"times": 1}

    async def slow_rcpt(server, session_, envelope, address, options):
        if hang["times"]:
            hang["times"] -= 1
            await asyncio.sleep(3)  # longer than the deliverer waits
        envelope.rcpt_tos.append(address)
        return "250 OK"

    mail_server.handle_RCPT = slow_rcpt
    impatient = SmtpConfig(**{**smtp.__dict__, "timeout": 0.5})
    report = notify.deliver_pending(session, impatient)
    assert (report.sent, report.retrying, report.released) == (0, 1, 2)
    waiting = _fresh(session, made[0])
    assert waiting.attempts == 1 and "timed out" in waiting.last_error
    # The two handed back were not attempted: the next run takes them without a mark.
    assert notify.deliver_pending(session, impatient).sent == 2
    assert all(_fresh(session, n).attempts == 0 for n in made[1:])
    _advance_past_backoff(smtp, 1)
    assert notify.deliver_pending(session, impatient).sent == 1
    assert sorted(mail_server.message_ids()) == sorted(n.message_id for n in made)


def _given_up(session, make_user, mail_server, smtp) -> Notification:
    made = notify_users(session, [make_user("chair@TSS")])[0]
    mail_server.stop()
    for attempts in range(1, smtp.max_attempts + 1):
        notify.deliver_pending(session, smtp)
        _advance_past_backoff(smtp, attempts)
    assert _fresh(session, made).failed_at is not None
    mail_server.start()
    return made


def test_an_admin_sends_a_failed_notification_again_once_and_it_is_audited(
    session, make_user, mail_server, smtp
):
    made = _given_up(session, make_user, mail_server, smtp)
    admin = make_user(is_admin=True)
    assert notify.deliver_pending(session, smtp).sent == 0  # given up: not sent by itself

    operations.retry_delivery(session, admin, made.id)
    row = _fresh(session, made)
    assert (row.failed_at, row.attempts, row.send_after) == (None, 0, clock.now())
    entry = session.scalars(
        select(AdminAuditEntry).where(
            AdminAuditEntry.action == "notification_retried",
            AdminAuditEntry.object_id == str(made.id),
        )
    ).one()
    assert entry.actor_id == admin.id
    assert entry.data["before"]["attempts"] == smtp.max_attempts
    assert "Kunne ikke forbinde" in entry.data["before"]["last_error"]
    assert entry.data["after"]["attempts"] == 0

    with pytest.raises(operations.NotRetryable, match="allerede på vej"):
        operations.retry_delivery(session, admin, made.id)  # a second click
    assert notify.deliver_pending(session, smtp).sent == 1
    assert notify.deliver_pending(session, smtp).sent == 0
    assert mail_server.message_ids() == [made.message_id]
    with pytest.raises(operations.NotRetryable, match="allerede leveret"):
        operations.retry_delivery(session, admin, made.id)


def test_only_an_admin_may_send_a_failed_notification_again(session, make_user, mail_server, smtp):
    made = _given_up(session, make_user, mail_server, smtp)
    with pytest.raises(NotAllowed, match="Kun administratorer"):
        operations.retry_delivery(session, make_user("secretariat@TSS"), made.id)
    assert _fresh(session, made).failed_at is not None
    with pytest.raises(operations.NotificationNotFound):
        operations.retry_delivery(session, make_user(is_admin=True), made.id + 10_000)


def test_a_deactivated_recipient_is_not_mailed(session, make_user, mail_server, smtp):
    user = make_user("secretariat@TSS")
    made = notify_users(session, [user])
    user.active = False
    session.commit()
    assert notify.deliver_pending(session, smtp).failed == 1
    assert mail_server.messages == []
    assert "deaktiveret" in _fresh(session, made[0]).last_error


def test_crash_between_claim_and_send_loses_nothing(session, make_user, mail_server, smtp):
    made = notify_users(session, [make_user("secretariat@TSS") for _ in range(2)])
    assert len(notify.claim(session, smtp)) == 2  # ...and the process dies here
    assert notify.deliver_pending(session, smtp).sent == 0  # the lease still holds
    clock.advance(timedelta(seconds=smtp.lease_seconds))
    assert notify.deliver_pending(session, smtp).sent == 2
    assert sorted(mail_server.message_ids()) == sorted(n.message_id for n in made)


class Crash(BaseException):
    """The process dies (not an error the deliverer could handle)."""


def test_crash_between_acceptance_and_commit_resends_with_the_same_message_id(
    session, make_user, mail_server, smtp, monkeypatch
):
    made = notify_users(session, [make_user("secretariat@TSS")])

    def die(*_args):
        raise Crash

    monkeypatch.setattr(notify, "_mark_sent", die)
    with pytest.raises(Crash):
        notify.deliver_pending(session, smtp)
    session.rollback()
    monkeypatch.undo()
    assert len(mail_server.messages) == 1  # the server had accepted it
    assert _fresh(session, made[0]).sent_at is None

    clock.advance(timedelta(seconds=smtp.lease_seconds))
    assert notify.deliver_pending(session, smtp).sent == 1
    assert mail_server.message_ids() == [made[0].message_id] * 2  # a duplicate, recognisable
    assert session.scalars(
        select(Notification.id).where(Notification.idempotency_key == made[0].idempotency_key)
    ).all() == [made[0].id]


def test_a_lease_about_to_run_out_is_given_back_unsent(session, make_user, mail_server, smtp):
    made = notify_users(session, [make_user("secretariat@TSS")])
    items = notify.claim(session, smtp)
    clock.advance(timedelta(seconds=smtp.lease_seconds) - smtp.lease_margin)
    report = notify.DeliveryReport()
    notify.send_claimed(session, smtp, items, report)
    assert (report.sent, report.released) == (0, 1)
    assert mail_server.messages == []
    assert notify.deliver_pending(session, smtp).sent == 1
    assert mail_server.message_ids() == [made[0].message_id]


def test_digest_users_get_no_single_mails(session, make_user, mail_server, smtp):
    reader = make_user("secretariat@TSS")
    reader.digest = True
    made = notify_users(session, [reader])
    summary = notify_users(session, [reader], kind="digest")
    notify.deliver_pending(session, smtp)
    assert mail_server.message_ids() == [summary[0].message_id]
    assert _fresh(session, made[0]).sent_at is None  # waits for the daily digest


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def _login(server, session_, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"aftaleflow",
        b"hemmeligt",
    )
    return AuthResult(success=ok, handled=False)  # a refusal is answered 535


def test_starttls_with_credentials(session, make_user, certificate):
    cert, context = certificate
    server = MailServer(
        tls_context=context, require_starttls=True, authenticator=_login, auth_required=True
    )
    server.start()
    try:
        made = notify_users(session, [make_user("secretariat@TSS")])
        config = SmtpConfig(
            host="127.0.0.1", port=server.port, security=SmtpSecurity.STARTTLS,
            username="aftaleflow", password="hemmeligt", cafile=str(cert), timeout=5,
        )  # fmt: skip
        assert notify.deliver_pending(session, config).sent == 1
        assert server.message_ids() == [made[0].message_id]

        wrong = SmtpConfig(**{**config.__dict__, "password": "forkert"})
        notify_users(session, [make_user("secretariat@TSS")])
        assert notify.deliver_pending(session, wrong).retrying == 1
    finally:
        server.stop()


def test_implicit_tls(session, make_user, certificate):
    cert, context = certificate
    server = MailServer(ssl_context=context)
    server.start()
    try:
        made = notify_users(session, [make_user("secretariat@TSS")])
        config = SmtpConfig(
            host="127.0.0.1", port=server.port, security=SmtpSecurity.SSL, cafile=str(cert),
            timeout=5,
        )  # fmt: skip
        assert notify.deliver_pending(session, config).sent == 1
        assert server.message_ids() == [made[0].message_id]
    finally:
        server.stop()


# --- in the application -------------------------------------------------------------------


def test_unread_count_and_marking_read(session, make_user, smtp):
    anna, bo = make_user("secretariat@TSS"), make_user("chair@TSS")
    mine = notify_users(session, [anna], count=3)
    notify_users(session, [bo], count=2)
    notify_users(session, [anna], kind="digest")  # a summary is not an item of its own
    assert notify.unread_count(session, anna.id) == 3
    assert [n.id for n in notify.inbox(session, anna.id)] == sorted(
        (n.id for n in mine), reverse=True
    )

    assert notify.mark_read(session, anna.id, [mine[0].id]) == 1
    assert notify.unread_count(session, anna.id) == 2
    assert notify.mark_read(session, bo.id, [mine[1].id]) == 0  # not someone else's
    assert notify.unread_count(session, anna.id) == 2
    assert notify.mark_read(session, anna.id) == 2
    assert notify.unread_count(session, anna.id) == 0
    assert notify.unread_count(session, bo.id) == 2


# --- two deliverers at once, on their own connections ---------------------------------------


@pytest.fixture
def shared_engine(db_engine, tmp_path):
    """An engine whose commits are real: a fresh SQLite file, or the PostgreSQL test database
    (where committed rows persist for the run, so the tests use unique data)."""
    if db_engine.dialect.name == "postgresql":
        yield db_engine
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'deliver.db'}")
    migrate.upgrade(engine)
    with Session(engine) as setup:
        seed.run(setup)
        setup.commit()
    yield engine
    engine.dispose()


def test_two_deliverers_at_once_send_each_mail_once(shared_engine, mail_server, smtp):
    config = SmtpConfig(**{**smtp.__dict__, "batch_size": 4})
    with Session(shared_engine, expire_on_commit=False) as setup:
        users = []
        for number in range(5):
            user = User(email=f"{uuid.uuid4().hex}@test.aftaleflow.dk", name=f"Modtager {number}")
            setup.add(user)
            users.append(user)
        setup.commit()
        made = notify_users(setup, users, count=6)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def deliver() -> None:
        try:
            with Session(shared_engine, expire_on_commit=False) as session:
                start.wait()
                for _ in range(5):
                    notify.deliver_pending(session, config)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = sorted(n.message_id for n in made)
    received = sorted(m for m in mail_server.message_ids() if m in set(expected))
    assert received == expected  # every one, none twice
