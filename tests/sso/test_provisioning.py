"""Just-in-time provisioning on the database under test (SQLite and PostgreSQL): the user made
or updated, linked to the provider's subject, memberships kept in step with the groups and an
administrator's grants left alone, all audited; refusals write nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import AdminAuditEntry, ExternalIdentity, Membership, Role, SeenAssertion, User
from workflow.sso import operations
from workflow.sso.mapping import Grant, Identity, Refusal

TODAY = date(2020, 9, 1)


def identity(subject: str = "sub-1", provider: str = "entra") -> Identity:
    return Identity(provider, subject, "Anna Andersen", "anna@regionh.dk", ())


def granting(*memberships: tuple[str, Role], email: str = "anna@regionh.dk", admin=False) -> Grant:
    return Grant(
        name="Anna Andersen", email=email, party="REGION-H",
        memberships=frozenset(memberships), admin=admin, unknown_groups=(),
    )  # fmt: skip


def held(session, user: User) -> set[tuple[str, Role, str | None]]:
    return {
        (m.body.code, m.role, m.source)
        for m in session.scalars(
            select(Membership).where(Membership.user_id == user.id, Membership.active)
        )
    }


def actions(session, user: User) -> list[str]:
    return list(
        session.scalars(
            select(AdminAuditEntry.action)
            .where(AdminAuditEntry.actor_id == user.id)
            .order_by(AdminAuditEntry.seq)
        )
    )


def test_a_first_sign_in_makes_the_user_and_links_the_subject(session) -> None:
    user = operations.provision(session, identity(), granting(("TSS", Role.SECRETARIAT)), TODAY)
    assert (user.name, user.email, user.password_hash) == (
        "Anna Andersen", "anna@regionh.dk", None,
    )  # fmt: skip
    assert user.party is not None and user.party.code == "REGION-H"
    assert held(session, user) == {("TSS", Role.SECRETARIAT, "sso:entra")}
    link = session.scalar(select(ExternalIdentity).where(ExternalIdentity.user_id == user.id))
    assert link is not None and (link.provider, link.subject) == ("entra", "sub-1")
    assert actions(session, user) == ["sso_user_created", "sso_membership_added", "sso_login"]


def test_the_next_sign_in_follows_the_groups_and_leaves_an_admins_grant_alone(
    session, body
) -> None:
    user = operations.provision(session, identity(), granting(("TSS", Role.SECRETARIAT)), TODAY)
    session.add(Membership(user_id=user.id, body_id=body("PPU").id, role=Role.MEMBER))
    session.flush()
    again = operations.provision(
        session, identity(), granting(("SKU", Role.CHAIR), email="a.andersen@regionh.dk"), TODAY
    )
    assert again.id == user.id and again.email == "a.andersen@regionh.dk"
    assert held(session, user) == {("SKU", Role.CHAIR, "sso:entra"), ("PPU", Role.MEMBER, None)}
    ended = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.active.is_(False))
    )
    assert ended is not None and ended.body.code == "TSS" and ended.until == TODAY
    assert "sso_membership_ended" in actions(session, user)
    assert "sso_user_updated" in actions(session, user)


def test_a_local_user_with_the_same_address_is_linked_on_first_sign_in(session, make_user) -> None:
    local = make_user("member@TSS")
    local.email = "anna@regionh.dk"
    session.flush()
    user = operations.provision(session, identity(), granting(("TSS", Role.MEMBER)), TODAY)
    assert user.id == local.id
    # The member role the administrator gave is the same one the group gives: it stays the
    # administrator's (no source), so a later sign-in without the group does not end it.
    assert held(session, user) == {("TSS", Role.MEMBER, None)}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_address_held_by_another_providers_identity_is_refused(session) -> None:
    operations.provision(session, identity(), granting(("TSS", Role.MEMBER)), TODAY)
    users, links = _count(session, User), _count(session, ExternalIdentity)
    with pytest.raises(Refusal) as refused:
        operations.provision(
            session, identity("other", "kombit"), granting(("TSS", Role.MEMBER)), TODAY
        )
    assert refused.value.code == "email_taken"
    assert (_count(session, User), _count(session, ExternalIdentity)) == (users, links)


def test_a_deactivated_user_is_refused_and_nothing_changes(session) -> None:
    user = operations.provision(session, identity(), granting(("TSS", Role.MEMBER)), TODAY)
    user.active = False
    session.flush()
    with pytest.raises(Refusal, match="deactivated"):
        operations.provision(session, identity(), granting(("SKU", Role.CHAIR)), TODAY)
    assert held(session, user) == {("TSS", Role.MEMBER, "sso:entra")}


def test_a_rule_naming_a_body_that_does_not_exist_writes_nothing(session) -> None:
    users = _count(session, User)
    with pytest.raises(Refusal, match="unknown_body"):
        operations.provision(session, identity(), granting(("NOPE", Role.MEMBER)), TODAY)
    assert _count(session, User) == users


def test_a_refusal_is_audited_without_an_actor(session) -> None:
    operations.record_refusal(
        session, "entra", Refusal("no_known_group", "x", {"groups": ["g"]}), "sub-9"
    )
    entry = session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.seq.desc())).first()
    assert entry is not None and entry.action == "sso_refused" and entry.actor_id is None
    assert entry.data == {"reason": "no_known_group", "subject": "sub-9", "groups": ["g"]}


def test_an_assertion_is_taken_once_and_a_copy_is_a_replay(session) -> None:
    expires = datetime.now(UTC) + timedelta(minutes=5)
    operations.remember_assertion(session, "kombit", "_assertion-1", expires)
    with pytest.raises(Refusal) as replayed:
        operations.remember_assertion(session, "kombit", "_assertion-1", expires)
    assert replayed.value.code == "replayed"
    assert "allerede brugt" in str(replayed.value.message)


def test_expired_notes_are_cleared_when_the_next_assertion_is_taken(session) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    operations.remember_assertion(session, "kombit", "_old", past)
    operations.remember_assertion(session, "kombit", "_new", past + timedelta(hours=1))
    assert session.get(SeenAssertion, "_old") is None
    assert session.get(SeenAssertion, "_new") is not None
