"""Summaries, in Danish and English: a daily digest for users who want one, a weekly one for
secretariats.

Both are notifications in the outbox with idempotency keys per recipient and day (or week), so
a repeated or concurrent sweep never makes a second one. A daily digest takes over the user's
waiting notifications: they are marked sent when the digest that carries them is written.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from models import Body, Case, Deadline, DeadlineKind, Meeting, Membership, Notification, Role, User
from workflow import policy
from workflow.engine.calendar import local_date
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.mail_text import EMPTY, Text, bilingual, day, join, moment, same
from workflow.engine.outbox import enqueue
from workflow.notifications.delivery import DIGEST_KINDS, failed_notifications


def _profile_hint() -> Text:
    # Made when a digest is written, not at import (the English catalogue is read on first use).
    return bilingual(
        "Du får én samlet mail om dagen, fordi du har valgt daglig oversigt. Vil du hellere "
        "have hver besked med det samme, kan du ændre det under din profil i Aftaleflow."
    )


def at_local(day: date, hour: int) -> datetime:
    """Return `hour`:00 Danish time on `day`, as an aware datetime."""
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)


def _messages(count: int) -> Text:
    if count == 1:
        return bilingual("%(count)s ny besked", count=count)
    return bilingual("%(count)s nye beskeder", count=count)


def _material_deadlines(count: int) -> Text:
    if count == 1:
        return bilingual("%(count)s materialefrist", count=count)
    return bilingual("%(count)s materialefrister", count=count)


def _days_ago(count: int) -> Text:
    if count == 1:
        return bilingual("overskredet for %(count)s dag siden", count=count)
    return bilingual("overskredet for %(count)s dage siden", count=count)


def _subject(item: Notification) -> Text:
    """A notification's subject as written (the Danish where it has no English)."""
    return Text(item.subject, item.subject_en or item.subject)


def _body(item: Notification) -> Text:
    return Text(item.body, item.body_en if item.body_en is not None else item.body)


def _indented(text: str) -> list[str]:
    return [f"   {line}" if line else "" for line in text.strip().splitlines()]


def daily_key(user_id: int, day: date) -> str:
    """The idempotency key of a user's digest for one Danish calendar day."""
    return f"digest:{user_id}:{day.isoformat()}"


def weekly_key(body_id: int, user_id: int, day: date) -> str:
    """The idempotency key of a secretariat member's weekly summary for the ISO week of `day`."""
    year, week, _ = day.isocalendar()
    return f"weekly:{year}-W{week:02d}:{body_id}:{user_id}"


def _daily_body(user: User, items: list[Notification], today: date) -> Text:
    lines = [
        bilingual("Goddag %(name)s", name=user.name),
        EMPTY,
        bilingual(
            "Her er dine beskeder fra Aftaleflow til %(day)s (%(count)s):",
            day=day(today), count=_messages(len(items)),
        ),
    ]  # fmt: skip
    for number, item in enumerate(items, start=1):
        subject, body = _subject(item), _body(item)
        lines += [EMPTY, f"{number}. " + subject]
        # Each language's body keeps its own lines.
        if body.da.strip():
            lines.append(Text("\n".join(_indented(body.da)), "\n".join(_indented(body.en))))
    lines += [EMPTY, _profile_hint()]
    return join("\n", lines)


def build_daily_digests(session: Session, now: datetime, *, hour: int) -> int:
    """Write today's digest for each digest user with waiting notifications; return how many.

    Nothing happens before `hour` Danish time; notifications arriving after today's digest
    wait for tomorrow's. No commit: the sweep's transaction carries it.
    """
    today = local_date(now)
    if now < at_local(today, hour):
        return 0
    rows = session.execute(
        select(Notification, User)
        .join(User, User.id == Notification.recipient_id)
        .where(
            Notification.sent_at.is_(None),
            Notification.failed_at.is_(None),
            Notification.send_after <= now,
            or_(Notification.locked_until.is_(None), Notification.locked_until <= now),
            Notification.kind.not_in(DIGEST_KINDS),
            User.digest.is_(True),
            User.active.is_(True),
        )
        .order_by(Notification.recipient_id, Notification.created_at, Notification.id)
        .execution_options(populate_existing=True)
    ).tuples()
    waiting: dict[int, tuple[User, list[Notification]]] = {}
    for notification, user in rows:
        waiting.setdefault(user.id, (user, []))[1].append(notification)
    made = 0
    for user, items in waiting.values():
        digest = enqueue(
            session,
            key=daily_key(user.id, today),
            recipient_id=user.id,
            kind="digest",
            subject=bilingual(
                "Aftaleflow: dagens oversigt %(day)s – %(count)s",
                day=day(today),
                count=_messages(len(items)),
            ),
            body=_daily_body(user, items, today),
            send_after=now,
            created_at=now,
        )
        if digest is None:
            continue  # today's digest went out already; these wait for tomorrow's
        for item in items:
            item.sent_at = now
            item.locked_until = None
        made += 1
    return made


@dataclass(frozen=True)
class WeeklyContent:
    """What a body's secretariat is told about the coming week."""

    material: list[tuple[Deadline, Case, Meeting | None]]
    overdue: list[tuple[Deadline, Case]]
    failed: list[Notification]


@functools.cache
def _kind_labels() -> dict[DeadlineKind, Text]:
    # Made on the first weekly digest, not at import (the English catalogue is read on first
    # use, and every start imports this module).
    return {
        DeadlineKind.MATERIAL: bilingual("materialefrist"),
        DeadlineKind.STATE: bilingual("behandlingsfrist"),
        DeadlineKind.CONSULTATION: bilingual("høringsfrist"),
        DeadlineKind.FOLLOW_UP: bilingual("opfølgning"),
    }


def weekly_content(session: Session, body: Body, now: datetime) -> WeeklyContent:
    """Collect a body's material deadlines in the next seven days and its overdue items."""
    week_end = datetime.combine(local_date(now) + timedelta(days=7), time(0), tzinfo=LOCAL_TZ)
    open_here = and_(
        Deadline.body_id == body.id, Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None)
    )
    material: list[tuple[Deadline, Case, Meeting | None]] = [
        (deadline, case, meeting)
        for deadline, case, meeting in session.execute(
            select(Deadline, Case, Meeting)
            .join(Case, Case.id == Deadline.case_id)
            .outerjoin(Meeting, Meeting.id == Deadline.meeting_id)
            .where(
                open_here,
                Deadline.kind == DeadlineKind.MATERIAL,
                Deadline.due_at >= now,
                Deadline.due_at < week_end,
            )
            .order_by(Deadline.due_at, Case.id)
        ).tuples()
    ]
    overdue = [
        (deadline, case)
        for deadline, case in session.execute(
            select(Deadline, Case)
            .join(Case, Case.id == Deadline.case_id)
            .where(open_here, Deadline.due_at < now)
            .order_by(Deadline.due_at, Case.id)
        ).tuples()
    ]
    failed = failed_notifications(session, [body.id], since=now - timedelta(days=7))
    return WeeklyContent(material, overdue, failed)


def seen_by(session: Session, user: User, content: WeeklyContent) -> WeeklyContent:
    """The part of a body's weekly content about cases `user` may see (workflow.policy): a
    deadline of the body can outlive the case's visibility (a follow-up of a case returned to
    a draft of another body)."""
    ids = {case.id for _d, case, _m in content.material} | {case.id for _d, case in content.overdue}
    ids |= {n.case_id for n in content.failed if n.case_id is not None}
    seen = (
        set(
            session.scalars(
                select(Case.id).where(Case.id.in_(ids), policy.visible_cases(session, user))
            )
        )
        if ids
        else set()
    )
    return WeeklyContent(
        [row for row in content.material if row[1].id in seen],
        [row for row in content.overdue if row[1].id in seen],
        [n for n in content.failed if n.case_id is None or n.case_id in seen],
    )


def _weekly_body(user: User, body: Body, content: WeeklyContent, now: datetime) -> Text:
    today = local_date(now)
    _, week, _ = today.isocalendar()
    lines = [
        bilingual("Goddag %(name)s", name=user.name),
        EMPTY,
        bilingual(
            "Ugeoversigt for %(body)s (%(code)s), uge %(week)s: %(first)s – %(last)s.",
            body=body.name, code=body.code, week=week, first=day(today),
            last=day(today + timedelta(days=6)),
        ),
        EMPTY,
        bilingual(
            "Materialefrister i den kommende uge (%(count)s):", count=len(content.material)
        ),
    ]  # fmt: skip
    if not content.material:
        lines.append("  " + bilingual("Ingen materialefrister i den kommende uge."))
    for deadline, case, meeting in content.material:
        to_meeting = EMPTY
        if meeting:
            to_meeting = " " + bilingual("til mødet %(start)s", start=moment(meeting.starts_at))
        lines.append("  - " + moment(deadline.due_at) + f": {case.title}" + to_meeting)
    lines += [
        EMPTY, bilingual("Overskredne frister (%(count)s):", count=len(content.overdue))
    ]  # fmt: skip
    if not content.overdue:
        lines.append("  " + bilingual("Ingen overskredne frister."))
    for deadline, case in content.overdue:
        days = (today - local_date(deadline.due_at)).days
        lines.append(
            f"  - {case.title}: " + _kind_labels()[deadline.kind] + " " + day(deadline.due_at)
            + ", " + _days_ago(days)
        )  # fmt: skip
    if content.failed:
        lines += [
            EMPTY,
            bilingual(
                "Beskeder, der ikke kunne leveres den seneste uge (%(count)s):",
                count=len(content.failed),
            ),
        ]
        for notification in content.failed:
            # The reason is recorded in Danish.
            reason = (
                same(notification.last_error)
                if notification.last_error
                else bilingual("ukendt fejl")
            )
            lines.append(
                f"  - {notification.recipient.email}: " + _subject(notification) + " ("
                + reason + ")"
            )  # fmt: skip
        lines.append(
            "  " + bilingual("Kontakt modtagerne, eller ret deres e-mailadresse i Aftaleflow.")
        )
    lines += [EMPTY, bilingual("Oversigten sendes hver uge til organets sekretariat.")]
    return join("\n", lines)


def build_weekly_digests(session: Session, now: datetime, *, hour: int, weekday: int) -> int:
    """On `weekday` (ISO, 1 = Monday) from `hour`, write each secretariat's weekly summary.

    Return how many were written. No commit: the sweep's transaction carries it.
    """
    today = local_date(now)
    if today.isoweekday() != weekday or now < at_local(today, hour):
        return 0
    recipients: dict[int, list[int]] = defaultdict(list)
    for user_id, body_id in session.execute(
        select(Membership.user_id, Membership.body_id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.role == Role.SECRETARIAT,
            Membership.active.is_(True),
            User.active.is_(True),
        )
        .order_by(Membership.body_id, Membership.user_id)
    ).tuples():
        recipients[body_id].append(user_id)
    keys = {
        weekly_key(body_id, user_id, today)
        for body_id, users in recipients.items()
        for user_id in users
    }
    done = set(
        session.scalars(
            select(Notification.idempotency_key).where(Notification.idempotency_key.in_(keys))
        )
    ) if keys else set()  # fmt: skip
    made = 0
    for body_id, users in recipients.items():
        missing = [u for u in users if weekly_key(body_id, u, today) not in done]
        if not missing:
            continue
        body = session.get(Body, body_id)
        assert body is not None  # foreign keys guarantee it
        everything = weekly_content(session, body, now)
        _, week, _ = today.isocalendar()
        for user_id in missing:
            user = session.get(User, user_id)
            assert user is not None
            content = seen_by(session, user, everything)
            added = enqueue(
                session,
                key=weekly_key(body_id, user_id, today),
                recipient_id=user_id,
                kind="weekly_digest",
                subject=bilingual(
                    "Aftaleflow: ugeoversigt for %(code)s, uge %(week)s – %(material)s, "
                    "%(overdue)s overskredne",
                    code=body.code,
                    week=week,
                    material=_material_deadlines(len(content.material)),
                    overdue=len(content.overdue),
                ),
                body=_weekly_body(user, body, content, now),
                send_after=now,
                created_at=now,
            )
            made += added is not None
    return made
