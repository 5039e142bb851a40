"""Summaries in Danish (in English for those who read it): one daily digest for users who
chose it, and a weekly overview of the coming week's material deadlines and overdue items for
each secretariat — once each."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from support.formandskab import decide

from models import Deadline, DeadlineKind, Meeting, Notification
from workflow import scheduler
from workflow.engine import clock
from workflow.engine.calendar import end_of_day
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.outbox import enqueue
from workflow.scheduler import SchedulerConfig

CONFIG = SchedulerConfig()


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def _tell(session, user, subject: str) -> Notification:
    made = enqueue(
        session, key=f"test:{user.id}:{subject}", recipient_id=user.id, kind="status_changed",
        subject=subject, body=f"Sagen '{subject}' er nu hos TSS.",
        send_after=clock.now(), created_at=clock.now(),
    )  # fmt: skip
    session.commit()
    return made


def _digests(session, user, kind="digest") -> list[Notification]:
    return session.scalars(
        select(Notification)
        .where(Notification.recipient_id == user.id, Notification.kind == kind)
        .order_by(Notification.id)
    ).all()


def test_a_daily_digest_gathers_the_days_notifications_once(session, make_user):
    reader = make_user("secretariat@TSS", name="Karen Sørensen")
    reader.digest = True
    hasty = make_user("chair@TSS")
    items = [_tell(session, reader, title) for title in ("Kronisk sygdom", "Ældre medicinske")]
    _tell(session, hasty, "Kronisk sygdom")

    clock.set_time(_local(2020, 9, 2, 7, 59))
    assert scheduler.sweep(session, config=CONFIG).digests == 0
    clock.set_time(_local(2020, 9, 2, 8, 0))
    assert scheduler.sweep(session, config=CONFIG).digests == 1
    [digest] = _digests(session, reader)
    assert digest.subject == "Aftaleflow: dagens oversigt 2. september 2020 – 2 nye beskeder"
    assert digest.body.startswith("Goddag Karen Sørensen")
    assert "1. Kronisk sygdom" in digest.body and "2. Ældre medicinske" in digest.body
    assert "Sagen 'Kronisk sygdom' er nu hos TSS." in digest.body
    assert "daglig oversigt" in digest.body
    assert all(session.get(Notification, n.id).sent_at == clock.now() for n in items)
    assert _digests(session, hasty) == []  # wants each message at once

    clock.set_time(_local(2020, 9, 2, 9, 30))
    late = _tell(session, reader, "Genoptræning")
    clock.set_time(_local(2020, 9, 2, 10, 0))
    assert scheduler.sweep(session, config=CONFIG).digests == 0  # one digest a day
    assert session.get(Notification, late.id).sent_at is None
    clock.set_time(_local(2020, 9, 3, 8, 0))
    assert scheduler.sweep(session, config=CONFIG).digests == 1
    assert "1 ny besked" in _digests(session, reader)[-1].subject


def test_no_digest_without_waiting_notifications(session, make_user):
    reader = make_user("secretariat@TSS")
    reader.digest = True
    session.commit()
    clock.set_time(_local(2020, 9, 2, 8, 0))
    assert scheduler.sweep(session, config=CONFIG).digests == 0


@pytest.fixture
def week_of_work(session, body, make_case, make_user):
    """A case with its material deadline on Friday 11 September, and one overdue since 31 August."""
    tss = body("TSS")
    session.add(Meeting(body_id=tss.id, starts_at=_local(2020, 9, 23, 9)))
    session.commit()
    planned = make_case(title="Fælles akutfunktion")
    decide(planned, "submit", make_user("chair@SU-NORD-SOM"))
    late = make_case(title="Sengepladser på tværs", state="at_tss")
    session.add(
        Deadline(
            case_id=late.id, kind=DeadlineKind.STATE, state="at_tss", body_id=tss.id,
            due_at=end_of_day(date(2020, 8, 31)), reminder_days=[], created_at=clock.now(),
        )
    )  # fmt: skip
    session.commit()
    return planned, late


def test_weekly_overview_for_each_secretariat(session, make_user, week_of_work):
    secretary = make_user("secretariat@TSS", name="Mette Holm")
    other = make_user("secretariat@SKU")
    clock.set_time(_local(2020, 9, 7, 7, 59))  # Monday
    assert scheduler.sweep(session, config=CONFIG).weekly == 0
    clock.set_time(_local(2020, 9, 7, 8, 0))
    assert scheduler.sweep(session, config=CONFIG).weekly == 2
    [overview] = _digests(session, secretary, "weekly_digest")
    assert overview.subject == (
        "Aftaleflow: ugeoversigt for TSS, uge 37 – 1 materialefrist, 1 overskredne"
    )
    body = overview.body
    assert "Goddag Mette Holm" in body
    assert "uge 37: 7. september 2020 – 13. september 2020" in body
    assert "Materialefrister i den kommende uge (1):" in body
    assert "11. september 2020 kl. 23:59: Fælles akutfunktion til mødet 23. september 2020" in body
    assert "Overskredne frister (1):" in body
    assert "Sengepladser på tværs: behandlingsfrist 31. august 2020" in body
    [quiet] = _digests(session, other, "weekly_digest")
    assert "Ingen materialefrister i den kommende uge." in quiet.body
    assert "Ingen overskredne frister." in quiet.body

    clock.set_time(_local(2020, 9, 7, 15, 0))
    assert scheduler.sweep(session, config=CONFIG).weekly == 0  # once a week
    clock.set_time(_local(2020, 9, 8, 8, 0))
    assert scheduler.sweep(session, config=CONFIG).weekly == 0  # Tuesday
    clock.set_time(_local(2020, 9, 14, 8, 0))
    assert scheduler.sweep(session, config=CONFIG).weekly == 2  # next Monday


def test_weekly_overview_in_english_for_a_secretary_who_reads_english(
    session, make_user, week_of_work
):
    secretary = make_user("secretariat@TSS", name="Mette Holm")
    secretary.locale = "en"
    session.commit()
    clock.set_time(_local(2020, 9, 7, 8, 0))  # Monday
    scheduler.sweep(session, config=CONFIG)
    [overview] = _digests(session, secretary, "weekly_digest")
    # Written in both languages; the English is mailed (and shown) to an English reader.
    assert overview.subject_in("en") == (
        "Aftaleflow: weekly summary for TSS, week 37 – 1 material deadline, 1 passed"
    )
    assert overview.subject_in("da").startswith("Aftaleflow: ugeoversigt for TSS, uge 37")
    body = overview.body_in("en")
    assert body.startswith("Hello Mette Holm")
    assert "week 37: 7 September 2020 – 13 September 2020" in body
    assert "Material deadlines in the coming week (1):" in body
    assert (
        "11 September 2020 at 23:59: Fælles akutfunktion for the meeting on 23 September 2020"
        in body
    )
    assert "Sengepladser på tværs: deadline for handling 31 August 2020, passed 7 days ago" in body


def test_weekly_overview_lists_failed_deliveries(session, make_user, body):
    secretary = make_user("secretariat@TSS")
    member = make_user("chair@TSS")
    failed = _tell(session, member, "Kronisk sygdom")
    failed.failed_at = clock.now()
    failed.last_error = "Mailserveren svarede 550: Ingen sådan postkasse"
    session.commit()
    clock.set_time(_local(2020, 9, 7, 8, 0))
    scheduler.sweep(session, config=CONFIG)
    [overview] = _digests(session, secretary, "weekly_digest")
    assert "Beskeder, der ikke kunne leveres den seneste uge (1):" in overview.body
    assert f"{member.email}: Kronisk sygdom (Mailserveren svarede 550" in overview.body


def test_weekly_overview_leaves_out_the_drafts_of_other_bodies(
    session, make_user, body, make_case, week_of_work
):
    """A follow-up of TSS stays open on a case TSS returned: a draft of SU-SYD-SOM again."""
    draft = make_case(title="Syds kladde", origin="SU-SYD-SOM")
    session.add(
        Deadline(
            case_id=draft.id, kind=DeadlineKind.FOLLOW_UP, state="draft", body_id=body("TSS").id,
            due_at=end_of_day(date(2020, 9, 1)), reminder_days=[], created_at=clock.now(),
        )
    )  # fmt: skip
    session.commit()
    outsider = make_user("secretariat@TSS")
    insider = make_user("secretariat@TSS", "member@SU-SYD-SOM")
    clock.set_time(_local(2020, 9, 7, 8, 0))
    scheduler.sweep(session, config=CONFIG)
    [theirs] = _digests(session, outsider, "weekly_digest")
    assert "Syds kladde" not in theirs.body and "Overskredne frister (1):" in theirs.body
    assert theirs.subject.endswith("1 overskredne")
    [ours] = _digests(session, insider, "weekly_digest")
    assert "Syds kladde: opfølgning 1. september 2020" in ours.body
    assert ours.subject.endswith("2 overskredne")
