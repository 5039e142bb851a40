"""Single sign-on's writes: just-in-time provisioning, memberships kept in step with the
provider's groups, refusals and seen assertions; every change audited, each one unit of work."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Body, ExternalIdentity, Membership, Party, SeenAssertion, User
from workflow.admin.operations import membership_values, user_values
from workflow.engine import admin_audit, clock
from workflow.engine.unit_of_work import unit_of_work
from workflow.sso.mapping import Grant, Identity, Refusal
from workflow.web.i18n import _l

EMAIL_TAKEN = _l(
    "E-mailadressen fra din identitetsudbyder tilhører allerede en anden bruger i Aftaleflow. "
    "Kontakt sekretariatet, så brugerne kan blive lagt sammen."
)
DEACTIVATED = _l(
    "Din bruger er deaktiveret i Aftaleflow og kan ikke logge ind. Kontakt en administrator, "
    "hvis du skal have adgang igen."
)
UNKNOWN_BODY = _l(
    "En af dine roller peger på et organ, som ikke findes i Aftaleflow. Kontakt sekretariatet."
)
REPLAYED = _l("Dette login er allerede brugt. Start forfra fra Aftaleflows login-side.")


def source_of(provider: str) -> str:
    """The `Membership.source` of memberships the provider's groups keep."""
    return f"sso:{provider}"


def provision(session: Session, identity: Identity, grant: Grant, today: date) -> User:
    """Make or update the user of `identity` and keep their memberships in step (audited).

    Raises Refusal (nothing written) when the e-mail belongs to another user, the user is
    deactivated, or a rule names a body that does not exist.
    """
    with unit_of_work(session):
        linked = session.scalar(
            select(ExternalIdentity).where(
                ExternalIdentity.provider == identity.provider,
                ExternalIdentity.subject == identity.subject,
            )
        )
        user = linked.user if linked is not None else _by_email(session, grant.email)
        if user is not None and not user.active:
            raise Refusal("deactivated", DEACTIVATED, {"user_id": user.id})
        bodies = _bodies(session, grant)
        party = _party(session, grant.party)
        if user is None:
            user = _create_user(session, grant, party)
        else:
            _update_user(session, user, grant, party)
        if linked is None:
            linked = ExternalIdentity(
                user_id=user.id, provider=identity.provider, subject=identity.subject
            )
            session.add(linked)
        linked.last_login_at = clock.now()
        changes = _sync_memberships(session, user, identity.provider, grant, bodies, today)
        _audit(
            session,
            user.id,
            "sso_login",
            "user",
            user.id,
            {
                "provider": identity.provider,
                "subject": identity.subject,
                "assurance": identity.assurance,
                "memberships": sorted(f"{code}:{role}" for code, role in grant.memberships),
                "changed": changes,
                "unknown_groups": list(grant.unknown_groups),
            },
        )
        session.flush()
    return user


def record_refusal(session: Session, provider: str, refusal: Refusal, subject: str | None) -> None:
    """Audit a turned-away sign-in (nothing else is written)."""
    with unit_of_work(session):
        _audit(
            session,
            None,
            "sso_refused",
            "sso_provider",
            provider,
            {"reason": refusal.code, "subject": subject, **refusal.detail},
        )


def remember_assertion(
    session: Session, provider: str, assertion_id: str, expires_at: datetime
) -> None:
    """Note an assertion as used; Refusal if it was used before (a replay)."""
    try:
        with unit_of_work(session):
            # The assertion's own validity is real time, not the app's (possibly shifted) clock.
            now = datetime.now(UTC)
            session.execute(delete(SeenAssertion).where(SeenAssertion.expires_at < now))
            if session.get(SeenAssertion, assertion_id) is not None:
                raise Refusal("replayed", REPLAYED, {"assertion_id": assertion_id})
            session.add(
                SeenAssertion(assertion_id=assertion_id, provider=provider, expires_at=expires_at)
            )
    except IntegrityError:
        # Another server took the same assertion a moment ago.
        raise Refusal("replayed", REPLAYED, {"assertion_id": assertion_id}) from None


def _by_email(session: Session, email: str) -> User | None:
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        return None
    # An existing local user is linked on first sign-in, unless another provider's identity
    # holds the account already: then the address alone does not prove it is the same person.
    if session.scalar(select(ExternalIdentity.id).where(ExternalIdentity.user_id == user.id)):
        raise Refusal("email_taken", EMAIL_TAKEN, {"user_id": user.id})
    return user


def _bodies(session: Session, grant: Grant) -> dict[str, Body]:
    codes = {code for code, _role in grant.memberships}
    found = {body.code: body for body in session.scalars(select(Body).where(Body.code.in_(codes)))}
    missing = sorted(codes - set(found))
    if missing:
        raise Refusal("unknown_body", UNKNOWN_BODY, {"bodies": missing})
    return found


def _party(session: Session, code: str | None) -> Party | None:
    if code is None:
        return None
    party = session.scalar(select(Party).where(Party.code == code))
    if party is None:
        raise Refusal("unknown_body", UNKNOWN_BODY, {"party": code})
    return party


def _create_user(session: Session, grant: Grant, party: Party | None) -> User:
    # No password: a provisioned user signs in through the provider only.
    user = User(
        email=grant.email,
        name=grant.name,
        password_hash=None,
        is_admin=grant.admin,
        party_id=party.id if party else None,
    )
    session.add(user)
    session.flush()
    _audit(session, user.id, "sso_user_created", "user", user.id, {"to": user_values(user)})
    return user


def _update_user(session: Session, user: User, grant: Grant, party: Party | None) -> None:
    before = user_values(user)
    user.name = grant.name
    if user.email.lower() != grant.email:
        user.email = grant.email
    user.party_id = party.id if party else user.party_id
    user.is_admin = grant.admin or (user.is_admin and user.password_hash is not None)
    after = user_values(user)
    if after != before:
        session.flush()
        _audit(session, user.id, "sso_user_updated", "user", user.id, {"from": before, "to": after})


def _sync_memberships(
    session: Session,
    user: User,
    provider: str,
    grant: Grant,
    bodies: dict[str, Body],
    today: date,
) -> list[str]:
    """Grant the memberships the groups give, end those the provider gave and no longer
    gives; an administrator's own memberships are left alone. Returns what changed."""
    source = source_of(provider)
    wanted = {(bodies[code].id, role) for code, role in grant.memberships}
    existing = {
        (m.body_id, m.role): m
        for m in session.scalars(select(Membership).where(Membership.user_id == user.id))
    }
    changes: list[str] = []
    for key, membership in existing.items():
        if membership.active and membership.source == source and key not in wanted:
            before = membership_values(membership)
            membership.active = False
            membership.until = today
            _membership_audit(session, user, "sso_membership_ended", membership, before, source)
            changes.append(f"-{membership.body_id}:{membership.role}")
    for body_id, role in sorted(wanted):
        found = existing.get((body_id, role))
        if found is not None and found.active:
            continue
        earlier = membership_values(found) if found is not None else None
        granted = found or Membership(user_id=user.id, body_id=body_id, role=role)
        session.add(granted)
        granted.active, granted.since, granted.until = True, today, None
        granted.source = source
        session.flush()
        _membership_audit(session, user, "sso_membership_added", granted, earlier, source)
        changes.append(f"+{body_id}:{role}")
    return changes


def _membership_audit(
    session: Session,
    user: User,
    action: str,
    membership: Membership,
    before: dict[str, Any] | None,
    source: str,
) -> None:
    _audit(
        session,
        user.id,
        action,
        "membership",
        membership.id,
        {"from": before, "to": membership_values(membership), "source": source},
    )


def _audit(
    session: Session,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str | int,
    data: dict[str, Any],
) -> None:
    admin_audit.record(
        session,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=data,
        created_at=clock.now(),
    )
