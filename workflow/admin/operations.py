"""Administration's writes: users, memberships, bodies, parties and planning areas.

Each function takes the session, the acting admin and values the admin pages have validated,
makes the change with its audit row (who, what, the values before and after) and ends it in
one unit of work. Users are deactivated, never deleted; an ended membership keeps its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Body,
    BodyKind,
    Membership,
    Party,
    PartyKind,
    PlanningArea,
    Role,
    User,
)
from models.user import new_session_token
from workflow.auth import passwords
from workflow.engine import admin_audit, clock
from workflow.engine.calendar import local_date
from workflow.engine.unit_of_work import unit_of_work

# Audited values -----------------------------------------------------------------------------


def user_values(user: User) -> dict[str, Any]:
    """The audited values of a user (never the password hash)."""
    return {
        "name": user.name,
        "email": user.email,
        "locale": user.locale,
        "is_admin": user.is_admin,
        "active": user.active,
        "party_id": user.party_id,
    }


def membership_values(membership: Membership) -> dict[str, Any]:
    """The audited values of a membership."""
    return {
        "user_id": membership.user_id,
        "body_id": membership.body_id,
        "role": str(membership.role),
        "since": membership.since.isoformat() if membership.since else None,
        "until": membership.until.isoformat() if membership.until else None,
        "active": membership.active,
        "source": membership.source,
    }


def body_values(body: Body) -> dict[str, Any]:
    """The audited values of a body."""
    return {
        "code": body.code,
        "name": body.name,
        "name_en": body.name_en,
        "kind": str(body.kind),
        "parent_id": body.parent_id,
        "planning_area_id": body.planning_area_id,
        "material_deadline_days": body.material_deadline_days,
        "material_deadline_working_days": body.material_deadline_working_days,
        "formandskab_decides": body.formandskab_decides,
        "active": body.active,
    }


def party_values(party: Party) -> dict[str, Any]:
    """The audited values of a party."""
    return {
        "name": party.name,
        "planning_area_id": party.planning_area_id,
        "active": party.active,
    }


def new_party_values(party: Party) -> dict[str, Any]:
    """The audited values of a party when it is created (its code and kind never change)."""
    return {"code": party.code, "kind": str(party.kind), **party_values(party)}


def planning_area_values(area: PlanningArea) -> dict[str, Any]:
    """The audited values of a planning area."""
    return {"code": area.code, "name": area.name}


def audit(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Record one admin change: who, what, and the values before and after."""
    admin_audit.record(
        session,
        # None: a change made on the command line, by whoever runs the server.
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data={"before": before, "after": after},
        created_at=clock.now(),
    )


# Users --------------------------------------------------------------------------------------


def create_user(
    session: Session,
    actor: User | None,
    *,
    name: str,
    email: str,
    locale: str | None,
    is_admin: bool,
    password: str,
    party_id: int | None = None,
) -> User:
    """Create a user with an Argon2-hashed password and their party, if any (audited)."""
    with unit_of_work(session):
        user = User(
            name=name.strip(),
            email=email.strip(),
            locale=locale,
            is_admin=is_admin,
            password_hash=passwords.hash_password(password),
            party_id=party_id or None,
        )
        session.add(user)
        session.flush()
        audit(session, actor, "user_created", "user", user.id, None, user_values(user))
    return user


def update_user(
    session: Session,
    actor: User,
    user: User,
    *,
    name: str,
    email: str,
    locale: str,
    is_admin: bool,
    party_id: int | None,
    new_password: str = "",
) -> None:
    """Change a user's name, e-mail, language, admin flag and party, and set a new password if
    given (each audited)."""
    with unit_of_work(session):
        before = user_values(user)
        user.name = name.strip()
        user.email = email.strip()
        user.locale = locale
        user.is_admin = is_admin
        user.party_id = party_id or None
        after = user_values(user)
        if after != before:
            audit(session, actor, "user_updated", "user", user.id, before, after)
        if new_password:
            user.password_hash = passwords.hash_password(new_password)
            # Whoever was logged in as the user with the old password is logged out.
            user.session_token = new_session_token()
            audit(session, actor, "user_password_set", "user", user.id, None, None)


def set_user_active(session: Session, actor: User, user: User, active: bool) -> bool:
    """Deactivate a user (they can no longer log in) or let them in again (audited); False
    when the user already was so."""
    if user.active == active:
        return False
    with unit_of_work(session):
        before = user_values(user)
        user.active = active
        action = "user_reactivated" if active else "user_deactivated"
        audit(session, actor, action, "user", user.id, before, user_values(user))
    return True


def set_user_party(session: Session, actor: User | None, user: User, party: Party | None) -> bool:
    """Tie a user to a party (a municipality, a hospital, general practice …), or to none, so
    they may answer the consultations their party is asked in (audited). False when unchanged."""
    party_id = party.id if party is not None else None
    if user.party_id == party_id:
        return False
    with unit_of_work(session):
        before = user_values(user)
        user.party_id = party_id
        audit(session, actor, "user_party_set", "user", user.id, before, user_values(user))
    return True


# Memberships --------------------------------------------------------------------------------


def add_membership(
    session: Session, actor: User | None, user: User, *, body_id: int, role: Role, since: date
) -> Membership | None:
    """Give a user a role in a body, or resume an ended membership of that role (audited);
    None when the user already holds the role there."""
    existing = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.body_id == body_id,
            Membership.role == role,
        )
    )
    if existing is not None and existing.active:
        return None
    with unit_of_work(session):
        if existing is not None:
            before = membership_values(existing)
            existing.active, existing.since, existing.until = True, since, None
            # Resumed by an administrator: a sign-on no longer ends it.
            existing.source = None
            membership, action = existing, "membership_reactivated"
        else:
            before = None
            membership = Membership(user_id=user.id, body_id=body_id, role=role, since=since)
            session.add(membership)
            action = "membership_added"
        session.flush()
        audit(
            session, actor, action, "membership", membership.id, before,
            membership_values(membership),
        )  # fmt: skip
    return membership


def end_membership(
    session: Session, actor: User | None, membership: Membership, until: date
) -> bool:
    """End a membership: the role no longer gives any permission; the row is kept (audited).
    False when it had already ended."""
    if not membership.active:
        return False
    with unit_of_work(session):
        before = membership_values(membership)
        membership.active = False
        membership.until = until
        audit(
            session, actor, "membership_ended", "membership", membership.id,
            before, membership_values(membership),
        )  # fmt: skip
    return True


# Bodies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyFields:
    """A body's editable values, as the admin entered them."""

    name: str
    name_en: str | None
    kind: BodyKind
    parent_id: int | None
    planning_area_id: int | None
    material_deadline_days: int
    material_deadline_working_days: bool
    active: bool
    formandskab_decides: bool = False


def _apply_body(session: Session, body: Body, fields: BodyFields) -> None:
    body.name = fields.name.strip()
    body.name_en = (fields.name_en or "").strip() or None
    body.kind = fields.kind
    parent = session.get(Body, fields.parent_id) if fields.parent_id else None
    if body.id is None:
        body.parent = parent
    else:
        # From today; the parent it had until yesterday is kept for pages about earlier days.
        body.place_under(parent, local_date(clock.now()))
    body.planning_area_id = fields.planning_area_id or None
    body.material_deadline_days = fields.material_deadline_days
    body.material_deadline_working_days = fields.material_deadline_working_days
    body.formandskab_decides = fields.formandskab_decides
    body.active = fields.active


def create_body(session: Session, actor: User, code: str, fields: BodyFields) -> Body:
    """Create a body (audited)."""
    with unit_of_work(session):
        body = Body(code=code.strip())
        _apply_body(session, body, fields)
        session.add(body)
        session.flush()
        audit(session, actor, "body_created", "body", body.id, None, body_values(body))
    return body


def update_body(session: Session, actor: User, body: Body, fields: BodyFields) -> bool:
    """Change a body's names, kind, parent, planning area and material deadline (audited);
    False when nothing changed."""
    with unit_of_work(session):
        before = body_values(body)
        _apply_body(session, body, fields)
        after = body_values(body)
        if after != before:
            audit(session, actor, "body_updated", "body", body.id, before, after)
    return after != before


# Parties and planning areas -----------------------------------------------------------------


def create_party(
    session: Session,
    actor: User,
    *,
    code: str,
    name: str,
    kind: PartyKind,
    planning_area_id: int | None,
    active: bool,
) -> Party:
    """Create a party: code, name, kind and planning area (audited)."""
    with unit_of_work(session):
        party = Party(
            code=code.strip(),
            name=name.strip(),
            kind=kind,
            planning_area_id=planning_area_id or None,
            active=active,
        )
        session.add(party)
        session.flush()
        audit(session, actor, "party_created", "party", party.id, None, new_party_values(party))
    return party


def update_party(
    session: Session,
    actor: User,
    party: Party,
    *,
    name: str,
    planning_area_id: int | None,
    active: bool,
) -> bool:
    """Change a party's name, planning area and whether it is active (audited); False when
    nothing changed."""
    with unit_of_work(session):
        before = party_values(party)
        party.name = name.strip()
        # From today; the area it belonged to until yesterday is kept for earlier days.
        area = session.get(PlanningArea, planning_area_id) if planning_area_id else None
        party.move_to_area(area, local_date(clock.now()))
        party.active = active
        after = party_values(party)
        if after != before:
            audit(session, actor, "party_updated", "party", party.id, before, after)
    return after != before


def create_planning_area(session: Session, actor: User, *, code: str, name: str) -> PlanningArea:
    """Create a planning area (audited)."""
    with unit_of_work(session):
        area = PlanningArea(code=code.strip(), name=name.strip())
        session.add(area)
        session.flush()
        audit(
            session, actor, "planning_area_created", "planning_area", area.id,
            None, planning_area_values(area),
        )  # fmt: skip
    return area


def rename_planning_area(session: Session, actor: User, area: PlanningArea, name: str) -> bool:
    """Rename a planning area; its code stays (audited). False when the name is unchanged."""
    with unit_of_work(session):
        before = planning_area_values(area)
        area.name = name.strip()
        after = planning_area_values(area)
        if after != before:
            audit(
                session, actor, "planning_area_updated", "planning_area", area.id,
                before, after,
            )  # fmt: skip
    return after != before
