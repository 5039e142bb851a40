"""iCalendar feeds (RFC 5545): a body's meetings, and a user's meetings and material deadlines.

Calendar programs subscribe by URL without a login, so a user's feed is reached through a
secret token; only its SHA-256 is stored, and issuing a new one revokes the old.

icalendar is imported by the feeds themselves, not when the app starts (cold start).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import (
    Body,
    CalendarFeedToken,
    Case,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingStatus,
    Membership,
    User,
)
from workflow import policy
from workflow.engine import clock, values
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.unit_of_work import unit_of_work
from workflow.web.i18n import _, format_date, genitive, meeting_title

if TYPE_CHECKING:
    from icalendar import Calendar, Event, Timezone

PRODID = "-//Aftaleflow//Sundhedsaftalen Region Hovedstaden//DA"
UID_DOMAIN = "aftaleflow"
# Old meetings stay in the feed for a while so a calendar keeps its history.
FEED_HISTORY = timedelta(days=365)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User) -> str:
    """Give the user a new feed token (revoking the old); return it — it is shown once."""
    now = clock.now()
    with unit_of_work(session):
        for old in session.scalars(
            select(CalendarFeedToken).where(
                CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None)
            )
        ):
            old.revoked_at = now
        token = secrets.token_urlsafe(32)
        session.add(CalendarFeedToken(user_id=user.id, token_hash=_hash(token), created_at=now))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """Return the active user whose current feed token this is."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(
        select(CalendarFeedToken).where(
            CalendarFeedToken.token_hash == _hash(token), CalendarFeedToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def has_token(session: Session, user: User) -> bool:
    """Tell whether the user has a feed token in force."""
    return (
        session.scalar(
            select(CalendarFeedToken.id).where(
                CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None)
            )
        )
        is not None
    )


def copenhagen() -> Timezone:
    """Return Europe/Copenhagen as a VTIMEZONE with the EU rules (since 1996) as RRULEs.

    Every calendar program reads yearly rules; a list of dates is not read by all of them.
    """
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    zone = Timezone()
    zone.add("tzid", "Europe/Copenhagen")
    zone.add("x-lic-location", "Europe/Copenhagen")
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("dtstart", datetime(1996, 3, 31, 2, 0))
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("dtstart", datetime(1996, 10, 27, 3, 0))
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def _calendar(name: str) -> Calendar:
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Copenhagen")
    calendar.add_component(copenhagen())
    return calendar


def meeting_event(meeting: Meeting, body: Body) -> Event:
    """Return the VEVENT of a meeting, in Danish time; cancelled meetings say so."""
    from icalendar import Event

    event = Event()
    event.add("uid", f"meeting-{meeting.id}@{UID_DOMAIN}")
    event.add("dtstamp", clock.now())
    event.add("sequence", meeting.version)
    event.add("summary", f"{body.code}: {meeting_title(meeting)}")
    event.add("dtstart", meeting.starts_at.astimezone(LOCAL_TZ))
    ends = meeting.ends_at or meeting.starts_at + timedelta(hours=2)
    event.add("dtend", ends.astimezone(LOCAL_TZ))
    if meeting.location:
        event.add("location", meeting.location)
    online_url = values.safe_link(meeting.online_url)
    if online_url:
        event.add("url", online_url)
    lines = [_("Møde i %(body)s", body=body.name) + "."]
    if online_url:
        lines.append(f"Online: {online_url}")
    event.add("description", "\n".join(lines))
    cancelled = meeting.status is MeetingStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def deadline_event(deadline: Deadline, case: Case, meeting: Meeting | None, body: Body) -> Event:
    """Return an all-day VEVENT on the Danish date of a material deadline."""
    from icalendar import Event

    day = deadline.due_at.astimezone(LOCAL_TZ).date()
    event = Event()
    event.add("uid", f"deadline-{deadline.id}@{UID_DOMAIN}")
    event.add("dtstamp", clock.now())
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    if meeting is not None:
        when = format_date(meeting.starts_at)
        summary = _(
            "Materialefrist: %(title)s (%(body)s den %(date)s)",
            title=case.title,
            body=body.code,
            date=when,
        )
        description = _(
            "Materialet til %(body)s møde den %(date)s skal være klar senest i dag kl. 23:59.",
            body=genitive(body.code),
            date=when,
        )
    else:
        summary = _("Materialefrist: %(title)s (%(body)s)", title=case.title, body=body.code)
        description = _(
            "Materialet til %(body)s møde skal være klar senest i dag kl. 23:59.",
            body=genitive(body.code),
        )
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    return event


def _meetings(session: Session, body_ids: Iterable[int]) -> list[tuple[Meeting, Body]]:
    since = clock.now() - FEED_HISTORY
    rows = session.execute(
        select(Meeting, Body)
        .join(Body, Body.id == Meeting.body_id)
        .where(Meeting.body_id.in_(list(body_ids)), Meeting.starts_at >= since)
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    return [(meeting, body) for meeting, body in rows]


def body_feed(session: Session, body: Body) -> bytes:
    """Return the iCalendar feed of a body's meetings."""
    calendar = _calendar(_("Møder i %(body)s", body=body.name))
    for meeting, meeting_body in _meetings(session, [body.id]):
        calendar.add_component(meeting_event(meeting, meeting_body))
    return bytes(calendar.to_ical())


def user_feed(session: Session, user: User) -> bytes:
    """Return the user's feed: their bodies' meetings and the open material deadlines of
    cases before or raised by those bodies that the user may see (workflow.policy)."""
    body_ids = set(
        session.scalars(
            select(Membership.body_id).where(
                Membership.user_id == user.id, Membership.active.is_(True)
            )
        )
    )
    calendar = _calendar(f"Aftaleflow – {user.name}")
    for meeting, body in _meetings(session, body_ids):
        calendar.add_component(meeting_event(meeting, body))
    rows = session.execute(
        select(Deadline, Case, Body)
        .join(Case, Case.id == Deadline.case_id)
        .join(Body, Body.id == Deadline.body_id)
        .where(
            Deadline.kind == DeadlineKind.MATERIAL,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            or_(Deadline.body_id.in_(body_ids), Case.originating_body_id.in_(body_ids)),
            policy.visible_cases(session, user),
        )
        .order_by(Deadline.due_at, Deadline.id)
    ).all()
    for deadline, case, body in rows:
        planned = session.get(Meeting, deadline.meeting_id) if deadline.meeting_id else None
        calendar.add_component(deadline_event(deadline, case, planned, body))
    return bytes(calendar.to_ical())
