"""Outbox delivery over SMTP, and the in-app view of the same notifications.

Delivery claims rows with a lease (`locked_until`, and `FOR UPDATE SKIP LOCKED` on
PostgreSQL), commits the claim, sends each mail with the row's stable Message-ID and marks it
sent in its own transaction right after the server accepted it. A crash before the send leaves
the row to be claimed again when the lease runs out; a crash between the server's acceptance
and the commit is the only way a mail goes out twice, and then with the same Message-ID.

Each notification is handled on its own: one that cannot be built, or that the server refuses,
counts an attempt of its own and never holds back the others. Every failure counts an attempt
and is retried with exponential backoff (`send_after`); a permanent one (the mail cannot be
built, or a 5xx answer) is given up after `permanent_attempts`, any other after
`max_attempts`. A notification given up on is marked failed with its reason, the secretariat
sees it on its board and an admin can send it again (workflow.notifications.operations).
"""

from __future__ import annotations

import enum
import functools
import logging
import os
import re
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, selectinload

from models import Case, Membership, Notification, User
from workflow.engine import clock, metrics
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.mail_text import Text, bilingual
from workflow.engine.outbox import one_line
from workflow.engine.unit_of_work import in_unit_of_work, unit_of_work

log = logging.getLogger(__name__)

# Summaries are notifications themselves; they are mailed even to digest users and are not
# shown again in the in-app list, whose items they summarise. A password-reset link
# (workflow.auth.reset) goes the same way: at once, and never into a summary or the list.
DIGEST_KINDS = frozenset({"digest", "weekly_digest", "password_reset"})
# A notification withdrawn before delivery (its deadline moved or went away) is closed with
# failed_at and this prefix, because rows are never deleted.
CANCELLED_PREFIX = "Annulleret: "


# --- configuration ------------------------------------------------------------------------


def env_int(
    environ: Mapping[str, str], name: str, default: int, *, minimum: int = 0, maximum: int = 10**9
) -> int:
    """Read an integer setting, explaining in Danish what is wrong with a bad value."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} skal være et heltal, ikke '{raw}'.") from None
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} skal ligge mellem {minimum} og {maximum}, ikke {value}.")
    return value


def env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """Read a yes/no setting (1/0, true/false, ja/nej, yes/no, on/off)."""
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "ja", "yes", "on"}:
        return True
    if raw in {"0", "false", "nej", "no", "off"}:
        return False
    raise ValueError(f"{name} skal være ja eller nej (1/0), ikke '{raw}'.")


class SmtpSecurity(enum.StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


DEFAULT_PORTS = {SmtpSecurity.NONE: 25, SmtpSecurity.STARTTLS: 587, SmtpSecurity.SSL: 465}


@dataclass(frozen=True)
class SmtpConfig:
    """How and where mail is delivered, and how hard delivery is retried."""

    host: str
    port: int
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: str | None = None
    sender: str = "Aftaleflow <noreply@aftaleflow.local>"
    cafile: str | None = None
    timeout: float = 30.0
    max_attempts: int = 8
    # A refusal (5xx) or a mail that cannot be built rarely heals by itself: give up sooner.
    permanent_attempts: int = 3
    backoff_seconds: int = 60
    max_backoff_seconds: int = 6 * 3600
    lease_seconds: float = 300.0
    batch_size: int = 50
    base_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpConfig | None:
        """Read AFTALEFLOW_SMTP_*; None when no host is set (notifications stay in-app)."""
        env = os.environ if environ is None else environ
        host = env.get("AFTALEFLOW_SMTP_HOST", "").strip()
        if not host:
            return None
        raw_security = env.get("AFTALEFLOW_SMTP_SECURITY", "starttls").strip().lower()
        try:
            security = SmtpSecurity(raw_security)
        except ValueError:
            raise ValueError(
                "AFTALEFLOW_SMTP_SECURITY skal være starttls, ssl eller none, "
                f"ikke '{raw_security}'."
            ) from None
        return cls(
            host=host,
            port=env_int(env, "AFTALEFLOW_SMTP_PORT", DEFAULT_PORTS[security], minimum=1,
                         maximum=65535),
            security=security,
            username=env.get("AFTALEFLOW_SMTP_USER") or None,
            password=env.get("AFTALEFLOW_SMTP_PASSWORD") or None,
            sender=env.get("AFTALEFLOW_SMTP_FROM") or cls.sender,
            cafile=env.get("AFTALEFLOW_SMTP_CAFILE") or None,
            timeout=float(env_int(env, "AFTALEFLOW_SMTP_TIMEOUT", 30, minimum=1, maximum=600)),
            max_attempts=env_int(env, "AFTALEFLOW_SMTP_MAX_ATTEMPTS", 8, minimum=1, maximum=100),
            permanent_attempts=env_int(env, "AFTALEFLOW_SMTP_PERMANENT_ATTEMPTS", 3, minimum=1,
                                       maximum=100),
            backoff_seconds=env_int(env, "AFTALEFLOW_SMTP_BACKOFF_SECONDS", 60, minimum=1),
            lease_seconds=env_int(env, "AFTALEFLOW_SMTP_LEASE_SECONDS", 300, minimum=60),
            base_url=(env.get("AFTALEFLOW_BASE_URL") or "").rstrip("/") or None,
        )  # fmt: skip

    def __post_init__(self) -> None:
        sender_address(self.sender)  # a sender no mail can carry is refused at start-up

    def backoff(self, attempts: int) -> timedelta:
        """Wait before attempt `attempts + 1`: doubling from backoff_seconds, capped."""
        seconds = self.backoff_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.max_backoff_seconds))

    @property
    def lease_margin(self) -> timedelta:
        """Stop using a claim this long before its lease runs out, so no one else holds it then."""
        return timedelta(seconds=min(30.0, self.lease_seconds / 10))

    def describe(self) -> str:
        """Say in Danish where mail goes (without the password)."""
        user = f" som {self.username}" if self.username else ""
        return f"{self.host}:{self.port} ({self.security.value}){user}"


# --- delivery -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A notification this deliverer holds the lease on, with what it needs to send it."""

    id: int
    lease: datetime
    attempts: int
    message_id: str
    subject: str
    body: str
    case_id: int | None
    created_at: datetime
    email: str
    name: str
    active: bool
    # The recipient's language ("da" or "en"), and the English text, if the notification has
    # one (written before notifications were bilingual: none, and it is sent in Danish).
    locale: str = "da"
    subject_en: str | None = None
    body_en: str | None = None

    @property
    def english(self) -> bool:
        """Whether the mail goes out in English: the recipient reads English and the
        notification was written in English too."""
        return self.locale == "en" and self.subject_en is not None and self.body_en is not None


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    # The connection failed or was in doubt: stop, the rest waits for the next run.
    interrupted: bool = False

    def summary(self) -> str:
        """Describe the run in one Danish line."""
        return (
            f"{self.sent} mails sendt, {self.retrying} forsøges igen senere og "
            f"{self.failed} kunne ikke leveres."
        )


def _pending(now: datetime) -> ColumnElement[bool]:
    return and_(
        Notification.sent_at.is_(None),
        Notification.failed_at.is_(None),
        Notification.send_after <= now,
        or_(Notification.locked_until.is_(None), Notification.locked_until <= now),
    )


def claim(session: Session, config: SmtpConfig, now: datetime | None = None) -> list[Claimed]:
    """Lease up to one batch of due notifications to this deliverer and commit the lease."""
    now = now or clock.now()
    lease = now + timedelta(seconds=config.lease_seconds)
    query = (
        select(Notification.id)
        .join(User, User.id == Notification.recipient_id)
        .where(
            _pending(now),
            # A digest user's notifications wait for the daily summary.
            or_(User.digest.is_(False), Notification.kind.in_(DIGEST_KINDS)),
        )
        .order_by(Notification.send_after, Notification.id)
        .limit(config.batch_size)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Notification)
    with unit_of_work(session):
        ids = list(session.scalars(query))
        if not ids:
            return []
        session.execute(
            update(Notification)
            .where(Notification.id.in_(ids))
            .values(locked_until=lease)
            .execution_options(synchronize_session=False)
        )
        # Columns, not entities: this session's identity map may hold stale copies.
        rows = session.execute(
            select(
                Notification.id,
                Notification.attempts,
                Notification.message_id,
                Notification.subject,
                Notification.body,
                Notification.case_id,
                Notification.created_at,
                User.email,
                User.name,
                User.active,
                # The recipient's language, read with the address (no read of its own).
                User.locale,
                Notification.subject_en,
                Notification.body_en,
            )
            .join(User, User.id == Notification.recipient_id)
            .where(Notification.id.in_(ids))
            .order_by(Notification.send_after, Notification.id)
        ).tuples()
        claimed = [
            Claimed(
                id=id_, lease=lease, attempts=attempts, message_id=message_id, subject=subject,
                body=body, case_id=case_id, created_at=created_at, email=email, name=name,
                active=active, locale=locale, subject_en=subject_en, body_en=body_en,
            )
            for (id_, attempts, message_id, subject, body, case_id, created_at, email, name,
                 active, locale, subject_en, body_en) in rows
        ]  # fmt: skip
    return claimed


class FailureKind(enum.Enum):
    """How a failed attempt counts towards giving up."""

    TRANSIENT = "transient"  # no connection, 4xx, time-outs: worth `max_attempts`
    PERMANENT = "permanent"  # cannot be built, or 5xx: worth `permanent_attempts`
    FINAL = "final"  # nothing to retry (the recipient is deactivated): given up at once


class UnbuildableMessage(ValueError):
    """The notification's data cannot make a mail (the reason in Danish, and what to do)."""


# The wire format of every mail: CRLF line ends, headers folded, 7-bit bodies (quoted-printable)
# so any server takes them; a header value with CR or LF is refused, never passed on.
WIRE_POLICY = email_policy.SMTP.clone(cte_type="7bit")
INTERNATIONAL_POLICY = email_policy.SMTPUTF8


@dataclass(frozen=True)
class Outgoing:
    """A mail ready for the wire: the envelope's addresses and the exact bytes to send."""

    sender: str
    recipient: str
    data: bytes
    international: bool


def _is_clean_address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(
        at
        and local
        and domain
        and "@" not in local
        and not any(ch.isspace() or not ch.isprintable() for ch in address)
    )


# "Name <address>" or a bare address; anything more would be a second address or header.
_SENDER = re.compile(
    r'^(?:"?(?P<name>[^"<>@,;]*?)"?\s*<(?P<address>[^<>\s]+)>|(?P<bare>[^<>\s,;]+))$'
)


@functools.lru_cache(maxsize=8)
def sender_address(sender: str) -> Address:
    """The configured sender as an address, or a ValueError saying what to write instead."""
    text = sender.strip()
    found = _SENDER.match(text) if text.isprintable() else None
    address = (found["address"] or found["bare"]) if found else ""
    if found is None or not _is_clean_address(address):
        raise ValueError(
            f"AFTALEFLOW_SMTP_FROM skal være én afsenderadresse som 'Aftaleflow "
            f"<aftaleflow@regionh.dk>', ikke '{sender}'."
        )
    local, _at, domain = address.rpartition("@")
    return Address(display_name=(found["name"] or "").strip(), username=local, domain=domain)


def recipient_address(name: str, email: str) -> Address:
    """The recipient's address with their name on one line; an address that is not exactly
    one mailbox (white space, line breaks, no domain) is refused, never sent."""
    address = email.strip()
    if not _is_clean_address(address):
        raise UnbuildableMessage(
            f"Modtagerens e-mailadresse '{one_line(address)}' er ugyldig. Ret den under "
            "Administration → Brugere, og send beskeden igen."
        )
    local, _at, domain = address.rpartition("@")
    return Address(display_name=one_line(name), username=local, domain=domain)


def _footer() -> Text:
    # Made when a mail is composed, not at import: the English catalogue is read on first use,
    # and every start (web, scheduler, CLI) imports this module.
    return bilingual("Denne besked er sendt automatisk af Aftaleflow. Svar ikke på den.")


def build_message(config: SmtpConfig, item: Claimed) -> EmailMessage:
    """Compose the mail for one notification, with its stable Message-ID, in the recipient's
    language: English for one who reads English, if the notification was written in English
    too (one written before is sent in Danish), else Danish.

    Every header value is one line (a subject made from a case title with a line break in it is
    joined, not split into headers), and the wire policy refuses any CR or LF left."""
    message = EmailMessage(policy=WIRE_POLICY)
    message["From"] = sender_address(config.sender)
    message["To"] = recipient_address(item.name, item.email)
    language = "en" if item.english else "da"
    subject, body = (item.subject_en, item.body_en) if item.english else (item.subject, item.body)
    assert subject is not None and body is not None  # `english` checked both
    message["Subject"] = one_line(subject)
    message["Message-ID"] = item.message_id
    message["Date"] = rfc2822_datetime(item.created_at.astimezone(LOCAL_TZ))
    message["Auto-Submitted"] = "auto-generated"
    footer = ["", "-- ", _footer().pick(language)]
    if item.case_id is not None and config.base_url:
        link = f"{config.base_url}/sager/{item.case_id}"
        footer.insert(1, bilingual("Se sagen: %(link)s", link=link).pick(language))
    message.set_content(body.rstrip() + "\n" + "\n".join(footer) + "\n")
    # After set_content, which clears every Content-* header set before it.
    message["Content-Language"] = language
    return message


def prepare(config: SmtpConfig, item: Claimed) -> Outgoing:
    """Build the mail and turn it into bytes now, so whatever the data makes impossible fails
    here, for this notification alone, and never on the open connection."""
    message = build_message(config, item)
    sender = sender_address(config.sender).addr_spec
    recipient = recipient_address(item.name, item.email).addr_spec
    international = not (sender + recipient).isascii()
    data = message.as_bytes(policy=INTERNATIONAL_POLICY if international else WIRE_POLICY)
    return Outgoing(sender, recipient, data, international)


def _send(smtp: smtplib.SMTP, outgoing: Outgoing) -> None:
    # An address beyond ASCII needs the server's SMTPUTF8; smtplib refuses it otherwise.
    options = ("SMTPUTF8", "BODY=8BITMIME") if outgoing.international else ()
    smtp.sendmail(outgoing.sender, [outgoing.recipient], outgoing.data, mail_options=options)


@functools.lru_cache(maxsize=4)
def _tls_context(cafile: str | None) -> ssl.SSLContext:
    # Loading the system's CA store takes tens of milliseconds: do it once per CA file.
    return ssl.create_default_context(cafile=cafile)


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    smtp: smtplib.SMTP
    if config.security is SmtpSecurity.SSL:
        smtp = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=_tls_context(config.cafile)
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    try:
        if config.security is SmtpSecurity.STARTTLS:
            smtp.starttls(context=_tls_context(config.cafile))
        if config.username:
            smtp.login(config.username, config.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return min(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(
            f"{address}: {code} {message.decode(errors='replace')}"
            for address, (code, message) in exc.recipients.items()
        )
        return f"Modtageren blev afvist af mailserveren ({answers})."
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else (str(exc.smtp_error))
        )
        return f"Mailserveren svarede {exc.smtp_code}: {text}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"Mailserveren kan ikke modtage adressen: {exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS-forbindelsen til mailserveren fejlede: {exc}"
    if isinstance(exc, OSError):
        return f"Kunne ikke forbinde til mailserveren: {exc}"
    return f"Mailfejl: {exc}"


def _describe_unbuildable(exc: Exception) -> str:
    if isinstance(exc, UnbuildableMessage):
        return f"Beskeden kunne ikke dannes: {exc}"
    return (
        f"Beskeden kunne ikke dannes ({type(exc).__name__}: {exc}). Ret sagens eller "
        "modtagerens oplysninger, og send beskeden igen."
    )


def _mark_sent(session: Session, item: Claimed) -> bool:
    """Record that the server accepted the mail; False if our lease was lost meanwhile."""
    with unit_of_work(session):
        result = session.execute(
            update(Notification)
            .where(
                Notification.id == item.id,
                Notification.locked_until == item.lease,
                Notification.sent_at.is_(None),
            )
            .values(sent_at=clock.now(), locked_until=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
    return bool(getattr(result, "rowcount", 0))


def _attempts_allowed(config: SmtpConfig, kind: FailureKind) -> int:
    if kind is FailureKind.FINAL:
        return 1
    if kind is FailureKind.PERMANENT:
        return min(config.permanent_attempts, config.max_attempts)
    return config.max_attempts


def _record_failure(
    session: Session, config: SmtpConfig, item: Claimed, error: str, kind: FailureKind
) -> bool:
    """Count a failed attempt; return True if the notification is now given up on."""
    now = clock.now()
    attempts = item.attempts + 1
    give_up = attempts >= _attempts_allowed(config, kind)
    values: dict[str, object] = {
        "attempts": attempts, "last_error": error[:2000], "locked_until": None,
    }  # fmt: skip
    if give_up:
        values["failed_at"] = now
    else:
        values["send_after"] = now + config.backoff(attempts)
    with unit_of_work(session):
        session.execute(
            update(Notification)
            .where(
                Notification.id == item.id,
                Notification.locked_until == item.lease,
                Notification.sent_at.is_(None),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return give_up


def _release(session: Session, items: Sequence[Claimed]) -> None:
    """Give back claims that were not attempted, so the next run takes them at once."""
    with unit_of_work(session):
        for item in items:
            session.execute(
                update(Notification)
                .where(Notification.id == item.id, Notification.locked_until == item.lease)
                .values(locked_until=None)
                .execution_options(synchronize_session=False)
            )


def _failed(
    session: Session,
    config: SmtpConfig,
    report: DeliveryReport,
    item: Claimed,
    error: str,
    kind: FailureKind,
) -> None:
    if _record_failure(session, config, item, error, kind):
        report.failed += 1
        # The reason names the recipient's address: it stays on the row (the overview shows
        # it to those who may see it) and out of the log.
        log.warning("notification %s given up (%s)", item.id, kind.value)
    else:
        report.retrying += 1


def _give_back(session: Session, report: DeliveryReport, rest: Sequence[Claimed]) -> None:
    """The connection is gone or in doubt: hand the rest back for the next run, uncounted."""
    _release(session, rest)
    report.released += len(rest)
    report.interrupted = True


def send_claimed(
    session: Session, config: SmtpConfig, items: Sequence[Claimed], report: DeliveryReport
) -> None:
    """Send claimed notifications over one SMTP connection, recording each outcome at once
    (one unit of work per mail, so a crash never forgets a mail the server accepted).

    A notification that cannot be built or that the server refuses is charged alone and the
    next one follows on the same connection; when the connection itself fails, the one being
    sent is charged and the rest are handed back untouched."""
    if in_unit_of_work(session):
        raise RuntimeError("Mail is delivered outside a unit of work: each outcome commits.")
    smtp: smtplib.SMTP | None = None
    try:
        for index, item in enumerate(items):
            if clock.now() >= item.lease - config.lease_margin:
                _release(session, items[index:])
                report.released += len(items) - index
                return
            if not item.active:
                error = "Ikke sendt: modtageren er deaktiveret i Aftaleflow."
                _failed(session, config, report, item, error, FailureKind.FINAL)
                continue
            try:
                outgoing = prepare(config, item)
            except Exception as exc:  # whatever the data makes impossible: this one only
                error = _describe_unbuildable(exc)
                _failed(session, config, report, item, error, FailureKind.PERMANENT)
                continue
            if smtp is None:
                try:
                    smtp = _connect(config)
                except (OSError, smtplib.SMTPException) as exc:
                    # The server is down or refuses us: every mail still to go had its attempt.
                    for rest in items[index:]:
                        _failed(session, config, report, rest, _describe(exc),
                                FailureKind.TRANSIENT)  # fmt: skip
                    report.interrupted = True
                    return
            try:
                _send(smtp, outgoing)
            except smtplib.SMTPNotSupportedError as exc:  # raised before MAIL: still usable
                _failed(session, config, report, item, _describe(exc), FailureKind.PERMANENT)
                continue
            except smtplib.SMTPServerDisconnected as exc:
                _failed(session, config, report, item, _describe(exc), FailureKind.TRANSIENT)
                _give_back(session, report, items[index + 1 :])
                return
            except smtplib.SMTPException as exc:
                code = _smtp_code(exc)
                permanent = code is not None and code >= 500
                kind = FailureKind.PERMANENT if permanent else FailureKind.TRANSIENT
                _failed(session, config, report, item, _describe(exc), kind)
                if code is None or code == 421:  # 421: the server closes the connection
                    _give_back(session, report, items[index + 1 :])
                    return
                continue
            except Exception as exc:  # time-outs, resets and the unforeseen: the line is in doubt
                _failed(session, config, report, item, _describe(exc), FailureKind.TRANSIENT)
                _give_back(session, report, items[index + 1 :])
                return
            if _mark_sent(session, item):
                report.sent += 1
            else:
                log.warning("notification %s: lease lost before it was marked sent", item.id)
    finally:
        if smtp is not None:
            _quit(smtp)


def deliver_pending(
    session: Session, config: SmtpConfig, *, max_batches: int = 20
) -> DeliveryReport:
    """Claim and send due notifications, batch by batch, until none are left, the cap, or the
    server gives trouble (what was handed back waits for the next run)."""
    report = DeliveryReport()
    for _ in range(max_batches):
        items = claim(session, config)
        send_claimed(session, config, items, report)
        if len(items) < config.batch_size or report.interrupted:
            break
    for outcome, count in (
        ("sent", report.sent), ("retrying", report.retrying), ("failed", report.failed),
    ):  # fmt: skip
        if count:
            metrics.DELIVERIES.labels(outcome).inc(count)
    return report


# --- in the application -------------------------------------------------------------------


def _cancelled() -> ColumnElement[bool]:
    return and_(
        Notification.failed_at.is_not(None), Notification.last_error.like(f"{CANCELLED_PREFIX}%")
    )


def _in_app(user_id: int) -> ColumnElement[bool]:
    return and_(
        Notification.recipient_id == user_id,
        Notification.kind.not_in(DIGEST_KINDS),
        not_(_cancelled()),
    )


def about_visible(visible: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """Notifications of no case, or of a case among the `visible` ones (the access policy's
    clause for the reader, `workflow.policy.visible_cases`; None: every case)."""
    if visible is None:
        return true()
    # Correlated, so the database checks the few notifications at hand rather than listing
    # every visible case first.
    return or_(
        Notification.case_id.is_(None),
        exists().where(Case.id == Notification.case_id, visible),
    )


def inbox(
    session: Session,
    user_id: int,
    *,
    unread_only: bool = False,
    limit: int = 50,
    visible: ColumnElement[bool] | None = None,
) -> list[Notification]:
    """Return a user's notifications in the application, newest first; with `visible`, only
    those of no case or of a case the user may see."""
    query = select(Notification).where(_in_app(user_id), about_visible(visible))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list(session.scalars(query))


def own_notification(
    session: Session,
    user_id: int,
    notification_id: int,
    visible: ColumnElement[bool] | None = None,
) -> Notification | None:
    """One of the user's notifications as `inbox` would show it, else None."""
    return session.scalar(
        select(Notification).where(
            Notification.id == notification_id, _in_app(user_id), about_visible(visible)
        )
    )


def unread_count(session: Session, user_id: int, visible: ColumnElement[bool] | None = None) -> int:
    """Count the user's unread notifications (the number beside the bell), as `inbox` shows
    them."""
    return int(session.scalar(_unread_count_query(user_id, visible)) or 0)


@functools.lru_cache(maxsize=1024)
def _unread_count_query(user_id: int, visible: ColumnElement[bool] | None) -> Select[tuple[int]]:
    # Every page's header counts: the statement is kept per user and access rule (the policy
    # keeps the rule while the user's standing is the same), so SQLAlchemy computes its cache
    # key once instead of walking the access rule on every request. A rule is keyed by
    # identity, and the cache holds it, so an id is never reused for another rule.
    return select(func.count()).where(
        _in_app(user_id), Notification.read_at.is_(None), about_visible(visible)
    )


def mark_read(session: Session, user_id: int, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all, or those given) and commit; return how many."""
    query = (
        update(Notification)
        .where(_in_app(user_id), Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    with unit_of_work(session):
        result = session.execute(query)
    return int(getattr(result, "rowcount", 0))


def mark_unread(session: Session, user_id: int, notification_ids: Iterable[int]) -> int:
    """Mark the user's own notifications (those given) unread again; return how many."""
    query = (
        update(Notification)
        .where(
            _in_app(user_id),
            Notification.read_at.is_not(None),
            Notification.id.in_(list(notification_ids)),
        )
        .values(read_at=None)
        .execution_options(synchronize_session="fetch")
    )
    with unit_of_work(session):
        result = session.execute(query)
    return int(getattr(result, "rowcount", 0))


def failed_notifications(
    session: Session,
    body_ids: Iterable[int] | None,
    *,
    since: datetime | None = None,
    limit: int = 200,
    visible: ColumnElement[bool] | None = None,
) -> list[Notification]:
    """Notifications given up on that concern these bodies' members or their cases (None:
    every one; with `visible`, only those of no case or of a case the reader may see).

    This is what a secretariat sees: who did not get which message, and why.
    """
    ids: tuple[int, ...] | None = None
    if body_ids is not None:
        ids = tuple(sorted(set(body_ids)))
        if not ids:
            return []
    statement = _failed_query(ids, since is not None, limit, visible)
    return list(session.scalars(statement, {"since": since} if since is not None else {}))


@functools.lru_cache(maxsize=1024)
def _failed_query(
    body_ids: tuple[int, ...] | None,
    since: bool,
    limit: int,
    visible: ColumnElement[bool] | None,
) -> Select[tuple[Notification]]:
    # The front page asks on every view: the statement is kept per bodies and access rule (the
    # policy keeps the rule per standing), so SQLAlchemy keys it once.
    query = select(Notification).where(
        Notification.failed_at.is_not(None), not_(_cancelled()), about_visible(visible)
    )
    if body_ids is not None:
        # Correlated, so the database reads the few failed notifications by their index and
        # checks each, rather than looking up the notifications of every case of the bodies.
        member = exists().where(
            Membership.user_id == Notification.recipient_id,
            Membership.body_id.in_(body_ids),
            Membership.active.is_(True),
        )
        case_here = exists().where(
            Case.id == Notification.case_id, Case.current_body_id.in_(body_ids)
        )
        query = query.where(or_(member, case_here))
    if since:
        query = query.where(
            Notification.failed_at >= bindparam("since", type_=Notification.failed_at.type)
        )
    return (
        query.options(selectinload(Notification.recipient))
        .order_by(Notification.failed_at.desc(), Notification.id.desc())
        .limit(limit)
    )


def cancel_pending(
    session: Session,
    *,
    deadline_ids: Iterable[int],
    reason: str,
    kinds: Iterable[str] = ("reminder",),
) -> int:
    """Withdraw undelivered notifications about these deadlines (no commit); return how many."""
    ids = list(deadline_ids)
    if not ids:
        return 0
    now = clock.now()
    result = session.execute(
        update(Notification)
        .where(
            Notification.deadline_id.in_(ids),
            Notification.kind.in_(list(kinds)),
            Notification.sent_at.is_(None),
            Notification.failed_at.is_(None),
        )
        .values(failed_at=now, read_at=now, locked_until=None,
                last_error=f"{CANCELLED_PREFIX}{reason}")
        .execution_options(synchronize_session="fetch")
    )  # fmt: skip
    return int(getattr(result, "rowcount", 0))
