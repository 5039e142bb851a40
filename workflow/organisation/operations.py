"""Writes to the organisation: applying a reorganisation plan in one unit of work.

Every case moves through the engine (`engine.core.reassign_case`: one sealed event per case,
deadlines recomputed, the new body told); meetings are cancelled and series planned through
the meetings domain's operations; memberships, closures and successions are recorded with one
admin audit entry. Nothing is deleted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Body,
    BodyKind,
    BodyName,
    BodySuccession,
    Case,
    Deadline,
    ImplementationStatus,
    Meeting,
    MeetingSeries,
    Membership,
    Party,
    PlanningArea,
    Reorganisation,
    Role,
    SuccessionKind,
    User,
)
from workflow import policy
from workflow.engine import admin_audit, clock
from workflow.engine import core as engine
from workflow.engine.calendar import local_date
from workflow.engine.formats import format_date
from workflow.engine.unit_of_work import unit_of_work
from workflow.meetings import operations as meetings
from workflow.organisation import seed
from workflow.organisation.reorganise import Plan, PlanError, Preview, preview


@dataclass(frozen=True)
class Applied:
    """What applying a plan did (all zero when it had been applied before)."""

    already_applied: bool
    cases_moved: int
    memberships_carried: int
    memberships_ended: int
    meetings_cancelled: int
    series_started: int


def _with_dates(plan: Plan) -> dict[str, list[dict[str, object]]]:
    """The plan's new organisation, each row valid from the effective date unless it says."""
    data: dict[str, list[dict[str, object]]] = {}
    for kind in ("planning_areas", "parties", "bodies"):
        data[kind] = [
            {"valid_from": plan.effective, **spec} for spec in plan.organisation.get(kind, [])
        ]
    return data


def _move_comment(plan: Plan, old: Body, new: Body) -> str:
    return (
        f"Flyttet fra {old.code} til {new.name} ({new.code}) ved reorganisering "
        f"'{plan.title}' pr. {format_date(plan.effective)}."
    )


def apply_plan(session: Session, plan: Plan, actor: User, now: datetime | None = None) -> Applied:
    """Apply `plan` in one unit of work; refuse it (PlanError) while it has gaps.

    Applying a plan a second time changes nothing.
    """
    now = now or clock.now()
    policy.require(actor, "administer", None, session)
    with unit_of_work(session):
        result = preview(session, plan)
        if result.already_applied:
            return Applied(True, 0, 0, 0, 0, 0)
        if result.gaps:
            raise PlanError(result.gaps)
        # First, before the organisation changes: a case's new version names its bodies as
        # the old one did, and the moves below were worked out for these cases.
        _migrate_versions(session, plan, result, actor)
        seed.seed_organisation(session, seed.SeedReport(update=False), _with_dates(plan))
        bodies = {b.code: b for b in session.scalars(select(Body))}
        _close_and_reparent(session, plan, result, bodies)
        carried, ended = _memberships(session, plan, result, bodies)
        cancelled = _meetings(session, plan, result, actor)
        for spec in plan.series:
            series, _meetings_planned = meetings.plan_series(
                session, bodies[spec.body], spec.first, actor,
                frequency=spec.frequency, count=spec.count, interval=spec.interval,
                duration_minutes=spec.duration_minutes, location=spec.location,
                title=f"Møde i {bodies[spec.body].name}",
            )  # fmt: skip
            series.valid_from = plan.effective
        # After the new series: a material deadline follows the new body's first meeting.
        _move_cases(session, plan, result, bodies, actor, now)
        for unit_id, _case_id, _old, new in result.units_moved:
            unit = session.get(ImplementationStatus, unit_id)
            if unit is not None:
                unit.responsible_body_id = bodies[new].id
        for deadline_id, _case_id, _old, new in result.deadlines_moved:
            deadline = session.get(Deadline, deadline_id)
            if deadline is not None:
                deadline.body_id = bodies[new].id
        summary = summarise(result)
        session.add(
            Reorganisation(
                name=plan.name,
                effective_on=plan.effective,
                plan_digest=plan.digest,
                applied_at=now,
                applied_by_id=actor.id,
                summary=summary,
            )
        )
        admin_audit.record(
            session, actor_id=actor.id, action="reorganise", object_type="organisation",
            object_id=plan.name, data=summary, created_at=now,
        )  # fmt: skip
    return Applied(False, len(result.moves), carried, ended, cancelled, len(plan.series))


def approver(session: Session, plan: Plan) -> User:
    """The administrator an approved plan is applied as when the scheduler applies it: the
    plan's `approved_by`, who must be an active user with administrator rights at that moment
    (else PlanError, and the plan waits)."""
    email = plan.approved_by or ""
    user = session.scalar(select(User).where(User.email == email)) if email else None
    if user is None or not user.active or not policy.may(user, "administer", None, session):
        raise PlanError(
            [
                (
                    f"{plan.name}: approved_by '{email}' er ikke en aktiv administrator",
                    f"{plan.name}: approved_by '{email}' is not an active administrator",
                )
            ]
        )
    return user


def apply_approved(session: Session, plan: Plan, now: datetime) -> Applied | None:
    """Apply an approved plan whose effective date has come (the scheduler's sweep), as its
    approver and audited exactly as `aftaleflow reorganise --actor` would; None while the plan
    is not approved, not yet due or already applied. PlanError when it cannot be applied now:
    nothing is written, and the next sweep tries again."""
    if not is_due(session, plan, now):
        return None
    return apply_plan(session, plan, approver(session, plan), now)


def is_due(session: Session, plan: Plan, now: datetime) -> bool:
    """Whether an approved plan's effective date has come and it is not applied yet (a read:
    the sweep asks before it takes the write lock, `apply_approved` again under it)."""
    if not plan.approved or local_date(now) < plan.effective:
        return False
    return not session.scalar(select(Reorganisation.id).where(Reorganisation.name == plan.name))


def summarise(result: Preview) -> dict[str, object]:
    """The applied plan's counts, stored with it and in the admin audit entry."""
    by_body = Counter(f"{m.from_body}->{m.to_body}" for m in result.moves)
    return {
        "effective": result.plan.effective.isoformat(),
        "digest": result.plan.digest,
        "closed": [code for code, _successors in result.closing],
        "new_bodies": result.new_bodies,
        "new_parties": len(result.new_parties),
        "cases_moved": len(result.moves),
        "cases_by_body": dict(sorted(by_body.items())),
        "closed_cases_kept": result.kept_closed,
        "deadlines_moved": len(result.deadlines_moved),
        "units_moved": len(result.units_moved),
        "memberships_carried": len(result.memberships_carried),
        "memberships_ended": len(result.memberships_ended),
        "series_ended": len(result.series_ended),
        "meetings_cancelled": len(result.meetings_cancelled),
        "series_started": len(result.series_started),
        "versions_moved": len(result.versions_moved),
        "reparented": [[code, before, after] for code, before, after in result.reparented],
        "areas_moved": [[code, before, after] for code, before, after in result.areas_moved],
    }


def _close_and_reparent(
    session: Session, plan: Plan, result: Preview, bodies: dict[str, Body]
) -> None:
    for code, successors in result.closing:
        body = bodies[code]
        body.valid_to = plan.last_day
        body.active = False
        kind = SuccessionKind.REPLACED
        if len(successors) > 1:
            kind = SuccessionKind.SPLIT
        elif successors and sum(successors[0] in named for _c, named in result.closing) > 1:
            kind = SuccessionKind.MERGED
        for successor in successors:
            session.add(
                BodySuccession(
                    predecessor_id=body.id,
                    successor_id=bodies[successor].id,
                    kind=kind,
                    effective_on=plan.effective,
                    reorganisation=plan.name,
                )
            )
    for spec in plan.renames:
        body = bodies[spec.body]
        if body.name != spec.name:
            session.add(
                BodyName(
                    body_id=body.id, name=body.name, name_en=body.name_en,
                    valid_from=body.valid_from, valid_to=plan.last_day,
                )
            )  # fmt: skip
            body.name, body.name_en = spec.name, spec.name_en or body.name_en
    for party in session.scalars(select(Party).where(Party.code.in_(plan.end_parties))):
        party.valid_to = party.valid_to or plan.last_day
    for area in session.scalars(
        select(PlanningArea).where(PlanningArea.code.in_(plan.end_planning_areas))
    ):
        area.valid_to = area.valid_to or plan.last_day
    # Dated: the former parent and planning area are kept for the days before the plan.
    for code, _before, parent in result.reparented:
        bodies[code].place_under(bodies[parent], plan.effective)
    if result.areas_moved:
        areas = {a.code: a for a in session.scalars(select(PlanningArea))}
        parties = {
            p.code: p
            for p in session.scalars(
                select(Party).where(Party.code.in_([c for c, _b, _a in result.areas_moved]))
            )
        }
        for code, _before, area_code in result.areas_moved:
            parties[code].move_to_area(areas[area_code], plan.effective)
    session.flush()


def _memberships(
    session: Session, plan: Plan, result: Preview, bodies: dict[str, Body]
) -> tuple[int, int]:
    for membership_id, _name, _code, target, role in result.memberships_carried:
        old = session.get(Membership, membership_id)
        assert old is not None
        existing = session.scalar(
            select(Membership).where(
                Membership.user_id == old.user_id,
                Membership.body_id == bodies[target].id,
                Membership.role == role,
            )
        )
        if existing is None:
            session.add(
                Membership(
                    user_id=old.user_id,
                    body_id=bodies[target].id,
                    role=role,
                    since=plan.effective,
                    active=True,
                )
            )
        elif not existing.active:
            existing.active, existing.since, existing.until = True, plan.effective, None
        _end(old, plan.last_day)
    for membership_id, _name, _code, _role in result.memberships_ended:
        old = session.get(Membership, membership_id)
        assert old is not None
        _end(old, plan.last_day)
    session.flush()
    return len(result.memberships_carried), len(result.memberships_ended)


def _end(membership: Membership, last_day: date) -> None:
    membership.until = last_day
    membership.active = False


def _meetings(session: Session, plan: Plan, result: Preview, actor: User) -> int:
    for series_id, _code, _title in result.series_ended:
        series = session.get(MeetingSeries, series_id)
        assert series is not None
        series.valid_to = plan.last_day
    for meeting_id, _code, _starts in result.meetings_cancelled:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        meetings.cancel_meeting(
            session, meeting, actor,
            comment=f"Organet lukkes ved reorganisering '{plan.title}' pr. "
            f"{format_date(plan.effective)}.",
        )  # fmt: skip
    return len(result.meetings_cancelled)


def _migrate_versions(session: Session, plan: Plan, result: Preview, actor: User) -> None:
    for case_id, _process, _before, after, state, target in result.versions_moved:
        case = session.get(Case, case_id)
        assert case is not None
        engine.migrate_case_version(
            case, after, {state: target}, actor,
            comment=f"Ny procesversion ved reorganisering '{plan.title}' pr. "
            f"{format_date(plan.effective)}.",
        )  # fmt: skip


def _move_cases(
    session: Session,
    plan: Plan,
    result: Preview,
    bodies: dict[str, Body],
    actor: User,
    now: datetime,
) -> None:
    ids = [move.case_id for move in result.moves]
    cases: dict[int, Case] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        cases.update((c.id, c) for c in session.scalars(select(Case).where(Case.id.in_(chunk))))
    moves = []
    for move in result.moves:
        old, new = bodies[move.from_body], bodies[move.to_body]
        named = old if old.id != new.id else bodies[move.from_origin]
        moves.append(
            engine.Reassignment(
                case=cases[move.case_id],
                current_body=new,
                originating_body=bodies[move.to_origin],
                comment=_move_comment(plan, named, new),
                data={
                    "reorganisation": plan.name,
                    "effective": plan.effective.isoformat(),
                    "from_body": move.from_body,
                    "to_body": move.to_body,
                    "from_originating_body": move.from_origin,
                    "to_originating_body": move.to_origin,
                },
            )
        )
    engine.reassign_cases(session, moves, actor, now)


# --- Ad hoc groups (seed 000 l.68-69) ------------------------------------------------------

AD_HOC_CREATED = "ad_hoc_group_created"
# The longest an ad hoc group may run: it is temporary (a task, not a standing body).
AD_HOC_MAX_DAYS = 2 * 366


class AdHocRefused(ValueError):
    """The ad hoc group cannot be set up as asked; the message says why, in both languages."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message)
        self.message, self.message_en = message, message_en


def _ad_hoc_code(session: Session, forum: Body, infix: str = "AH") -> str:
    """The next free code under the body: FORUM-DATA-AH1, FORUM-DATA-AH2, … (TSS-AG1 for a
    drafting working group)."""
    prefix = f"{forum.code}-{infix}"
    taken = set(session.scalars(select(Body.code).where(Body.code.like(f"{prefix}%"))))
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"[:32]


WORKING_GROUP_CREATED = "working_group_created"


def temporary_group_problem(ends_on: date, today: date) -> tuple[str, str] | None:
    """Why a temporary group cannot run until `ends_on` (Danish, English), or None."""
    if ends_on <= today:
        return (
            "Slutdatoen skal ligge efter i dag: en midlertidig arbejdsgruppe nedsættes for en "
            "periode.",
            "The end date must be after today: a temporary working group is set up for a period.",
        )
    if (ends_on - today).days > AD_HOC_MAX_DAYS:
        return (
            "En arbejdsgruppe er midlertidig: vælg en slutdato inden for to år.",
            "A working group is temporary: choose an end date within two years.",
        )
    return None


def set_up_drafting_group(
    session: Session, actor: User | None, parent: Body, *, name: str, ends_on: date, case: str
) -> Body:
    """Set up the temporary working group that drafts a joint agreement, named when its terms
    of reference are approved (seed 002 l.75-77), under the approving body and audited on the
    admin chain. The one who recorded the approval is its secretariat: the joint secretariat
    appoints the members of temporary working groups (seed 002 l.47-49)."""
    today = local_date(clock.now())
    problem = temporary_group_problem(ends_on, today)
    if problem is not None:
        raise AdHocRefused(*problem)
    with unit_of_work(session):
        group = Body(
            code=_ad_hoc_code(session, parent, "AG"), name=name.strip(),
            kind=BodyKind.WORKING_GROUP, parent=parent, valid_from=today, valid_to=ends_on,
            formandskab_decides=False,
        )  # fmt: skip
        session.add(group)
        session.flush()
        if actor is not None:
            session.add(
                Membership(
                    user_id=actor.id,
                    body_id=group.id,
                    role=Role.SECRETARIAT,
                    since=today,
                    until=ends_on,
                )
            )
        admin_audit.record(
            session, action=WORKING_GROUP_CREATED, object_type="body", object_id=group.id,
            actor_id=actor.id if actor is not None else None,
            data={"parent": parent.code, "code": group.code, "name": group.name,
                  "valid_from": today.isoformat(), "valid_to": ends_on.isoformat(),
                  "case": case},
        )  # fmt: skip
    return group


def set_up_ad_hoc_group(
    session: Session, actor: User, forum: Body, *, name: str, ends_on: date, task: str = ""
) -> Body:
    """A forum's chair sets up a temporary working group under the forum (seed 000 l.68-69):
    from today until `ends_on`, with the chair as its chair; audited on the admin chain."""
    policy.require(actor, "set_up_ad_hoc_group", forum, session)
    today = local_date(clock.now())
    if ends_on <= today:
        raise AdHocRefused(
            "Slutdatoen skal ligge efter i dag: en ad hoc-gruppe nedsættes for en periode.",
            "The end date must be after today: an ad hoc group is set up for a period.",
        )
    if (ends_on - today).days > AD_HOC_MAX_DAYS:
        raise AdHocRefused(
            "En ad hoc-gruppe er midlertidig: vælg en slutdato inden for to år.",
            "An ad hoc group is temporary: choose an end date within two years.",
        )
    with unit_of_work(session):
        group = Body(
            code=_ad_hoc_code(session, forum), name=name.strip(), kind=BodyKind.WORKING_GROUP,
            parent=forum, valid_from=today, valid_to=ends_on, formandskab_decides=False,
        )  # fmt: skip
        session.add(group)
        session.flush()
        session.add(
            Membership(
                user_id=actor.id, body_id=group.id, role=Role.CHAIR, since=today, until=ends_on
            )
        )
        admin_audit.record(
            session, action=AD_HOC_CREATED, object_type="body", object_id=group.id,
            actor_id=actor.id,
            data={"forum": forum.code, "code": group.code, "name": group.name,
                  "valid_from": today.isoformat(), "valid_to": ends_on.isoformat(),
                  "task": task.strip()},
        )  # fmt: skip
    return group
