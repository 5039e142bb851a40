"""The signature initiative's main path through the engine, end to end."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import CaseEvent, Deadline, Notification
from workflow import engine
from workflow.errors import GuardFailed, NotAllowed


def test_draft_to_sku_approval(session, make_case, make_user):
    case = make_case()
    su_chair = make_user("chair@SU-NORD-SOM")
    tss_chair = make_user("chair@TSS")
    sku_chair = make_user("chair@SKU")
    kkr = make_user("observer@KKR")

    engine.perform(case, "submit", su_chair)
    assert case.state == "at_tss"
    engine.perform(case, "tss_recommend", tss_chair)
    engine.perform(case, "sku_approve", sku_chair)
    assert case.state == "implementation"
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert [e.trigger for e in events] == ["create", "submit", "tss_recommend", "sku_approve"]
    assert events[-1].data["on_behalf_of_body"] is True
    informed = session.scalars(
        select(Notification).where(Notification.recipient_id == kkr.id)
    ).all()
    assert len(informed) == 1
    open_deadlines = session.scalars(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.met_at.is_(None))
    ).all()
    assert [d.state for d in open_deadlines] == ["implementation"]


def test_member_cannot_decide_at_sku(make_case, make_user):
    case = make_case(state="at_sku")
    with pytest.raises(NotAllowed) as refused:
        engine.perform(case, "sku_approve", make_user("member@SU-NORD-SOM"))
    assert "formandskabet for SKU" in refused.value.message


def test_cost_driving_needs_business_case(make_case, make_user):
    case = make_case(state="at_tss", cost_driving=True)
    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "tss_recommend", make_user("chair@TSS"))
    assert "businesscase" in refused.value.message
    assert case.state == "at_tss"
