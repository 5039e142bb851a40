"""The engine's per-session read cache never hides a write: a new membership is seen by the
next permission check, committed or not."""

from __future__ import annotations

from sqlalchemy import select

from models import Membership, Role
from workflow.engine import core as engine


def test_a_new_membership_is_seen_at_once(session, body, make_case, make_user):
    case = make_case(state="at_tss")
    user = make_user("member@SU-NORD-SOM")
    transition = engine.definition_of(case).transition("tss_return")
    assert engine.find_permission(session, case, transition, user) is None  # now cached
    assert engine.find_permission(session, case, transition, user) is None
    session.add(Membership(user_id=user.id, body_id=body("TSS").id, role=Role.CHAIR))
    # Unflushed: the cache is not used, the query autoflushes and finds the chair.
    assert engine.find_permission(session, case, transition, user) is not None
    session.commit()
    assert engine.find_permission(session, case, transition, user) is not None
    [held] = session.scalars(
        select(Membership).where(
            Membership.user_id == user.id, Membership.body_id == body("TSS").id
        )
    )
    held.active = False  # dirty until flushed
    assert engine.find_permission(session, case, transition, user) is None
