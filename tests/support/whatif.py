"""A history with known numbers, built through the engine: cases submitted to TSS on days
around TSS's materialefrist (8 working days; 4 in the what-if), decided at its meetings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from models import Case, Meeting, User
from support.formandskab import decide
from workflow.engine import clock
from workflow.engine import core as workflow_engine
from workflow.engine.clock import LOCAL_TZ


def local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)


# TSS meets on Thursdays. Its materialefrist for 29 October 2020 is Monday 19 October with
# 8 working days and Friday 23 October with 4.
TSS_MEETINGS = (date(2020, 10, 1), date(2020, 10, 29), date(2020, 11, 26), date(2020, 12, 17))
# Submitted before both deadlines: at the meeting of 29 October either way.
ON_TIME = (date(2020, 10, 14), date(2020, 10, 15))
# Submitted between the two deadlines: 26 November today, 29 October with 4 working days.
BETWEEN = (date(2020, 10, 20), date(2020, 10, 21), date(2020, 10, 23))
# Submitted after both deadlines: 26 November either way.
LATE = (date(2020, 10, 26),)
WAITING = date(2020, 11, 30)
NOW = local(date(2020, 12, 1))


@dataclass
class KnownHistory:
    meetings: dict[date, Meeting]
    cases: dict[date, Case]  # by the day the case was submitted to TSS


def build(
    session: Session,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    make_meeting: Callable[..., Meeting],
    *,
    waiting: bool = False,
) -> KnownHistory:
    """Submit one case on each day above and have TSS decide it at the meeting it reaches
    with today's materialefrist; `waiting` adds one submitted on 30 November, still waiting
    for TSS (planned for 17 December)."""
    meetings = {day: make_meeting("TSS", local(day, 13)) for day in TSS_MEETINGS}
    su_chair = make_user("chair@SU-NORD-SOM")
    tss_secretariat = make_user("secretariat@TSS")
    cases: dict[date, Case] = {}
    for day in (*ON_TIME, *BETWEEN, *LATE):
        clock.set_time(local(date(2020, 9, 1)))
        case = make_case(title=f"Indsendt {day:%d.%m}")
        clock.set_time(local(day))
        decide(case, "submit", su_chair)  # the SU's chairs, between meetings
        cases[day] = case
    for day, case in sorted(cases.items()):
        meeting_day = date(2020, 10, 29) if day in ON_TIME else date(2020, 11, 26)
        clock.set_time(local(meeting_day, 15))
        workflow_engine.perform(
            case, "tss_recommend", tss_secretariat, data={"meeting_id": meetings[meeting_day].id}
        )
    if waiting:
        clock.set_time(local(date(2020, 9, 1)))
        case = make_case(title="Venter på TSS")
        clock.set_time(local(WAITING))
        decide(case, "submit", su_chair)
        cases[WAITING] = case
    clock.set_time(NOW)
    session.commit()
    return KnownHistory(meetings, cases)
