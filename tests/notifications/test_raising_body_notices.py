"""The body that raised a case hears of every move of it (issue 11): in the app always, and by
mail as each member chose — at once, or in the morning's digest — through a real SMTP server;
nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from support.formandskab import decide
from support.mail import MailServer

from models import Notification
from workflow.engine import clock
from workflow.notifications import delivery as notify
from workflow.notifications import digest
from workflow.notifications.delivery import SmtpConfig, SmtpSecurity

DIGEST_HOUR = 7


@pytest.fixture
def mail_server():
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(mail_server) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1", port=mail_server.port, security=SmtpSecurity.NONE, timeout=5,
        max_attempts=4, permanent_attempts=3, backoff_seconds=60, lease_seconds=300,
        base_url="https://aftaleflow.example.dk",
    )  # fmt: skip


def _told(session, user) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(Notification.recipient_id == user.id)
            .order_by(Notification.id)
        )
    )  # fmt: skip


def _mails_to(mail_server, user) -> list[str]:
    return [str(m["Subject"]) for m in mail_server.messages if user.email in str(m["To"])]


def test_the_raising_body_hears_of_each_move_as_each_member_chose(
    session, make_case, make_user, mail_server, smtp, client, log_in, make_login_user, text_of
):
    at_once = make_login_user("member@SU-NORD-SOM", name="Straks Sørensen")
    in_digest = make_user("member@SU-NORD-SOM", name="Overblik Olsen")
    in_digest.digest = True
    # Member of the raising body and secretariat of TSS: told once per move, not twice.
    both = make_user("member@SU-NORD-SOM", "secretariat@TSS", name="Begge Bentsen")
    session.commit()
    case = make_case(title="Fælles forløb for KOL")
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    clock.advance(timedelta(hours=1))
    decide(case, "tss_return", make_user("chair@TSS"), comment="Økonomien mangler.")
    session.commit()

    # In the app, always: one notice per move for each member, whatever their mail setting.
    for user in (at_once, in_digest, both):
        assert [n.subject for n in _told(session, user)][-2:] == [
            f"{prefix}Fælles forløb for KOL{suffix}"
            for prefix, suffix in (
                ("Ny sag til behandling i TSS: ", "") if user is both else
                ("Status på '", "': Til behandling i TSS"),
                ("Status på '", "': Kladde i samordningsudvalget"),
            )
        ]  # fmt: skip
        assert len(_told(session, user)) == 2
    log_in(at_once)
    page = text_of(client.get("/beskeder"))
    assert "Status på 'Fælles forløb for KOL': Til behandling i TSS" in page
    assert "Status på 'Fælles forløb for KOL': Kladde i samordningsudvalget" in page

    # By mail: each notice at once for those who chose it; nothing yet for the digest reader.
    notify.deliver_pending(session, smtp)
    assert len(_mails_to(mail_server, at_once)) == 2
    assert len(_mails_to(mail_server, both)) == 2
    assert _mails_to(mail_server, in_digest) == []
    assert "Økonomien mangler." in next(
        m.get_body().get_content() for m in mail_server.messages
        if at_once.email in str(m["To"]) and "Kladde" in str(m["Subject"])
    )  # fmt: skip

    # The morning's digest gathers both moves in one mail.
    morning = digest.at_local(clock.now().date() + timedelta(days=1), DIGEST_HOUR)
    clock.advance(morning - clock.now())
    assert digest.build_daily_digests(session, morning, hour=DIGEST_HOUR) == 1
    session.commit()
    notify.deliver_pending(session, smtp)
    [summary] = [m for m in mail_server.messages if in_digest.email in str(m["To"])]
    text = summary.get_body().get_content()
    assert "Til behandling i TSS" in text and "Kladde" in text

    # Running everything again sends nothing twice.
    sent = len(mail_server.messages)
    assert digest.build_daily_digests(session, morning, hour=DIGEST_HOUR) == 0
    notify.deliver_pending(session, smtp)
    assert len(mail_server.messages) == sent
    assert len(set(str(m["Message-ID"]) for m in mail_server.messages)) == sent


def test_whoever_moves_the_case_is_not_told_of_their_own_move(session, make_case, make_user):
    chair = make_user("chair@SU-NORD-SOM")
    member = make_user("member@SU-NORD-SOM")
    case = make_case()
    decide(case, "submit", chair)
    session.commit()
    # The chair is asked to consent to the co-chair's proposal (the formandskab decides
    # together), and consents by moving the case: nothing tells them of that move itself.
    assert [n.kind for n in _told(session, chair)] == ["consent_requested"]
    assert [n.kind for n in _told(session, member)] == ["status_changed"]
