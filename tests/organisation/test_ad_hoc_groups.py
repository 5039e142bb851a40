"""A forum's chairs set up ad hoc groups under the forum (seed 000 l.68-69): a temporary working
group, audited, with an end date; no one else may."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from models import AdminAuditEntry, BodyKind, Membership, Role
from workflow import policy
from workflow.engine.errors import NotAllowed
from workflow.organisation import operations


def test_a_forums_chair_sets_up_a_temporary_group_under_the_forum(session, body, make_user):
    chair = make_user("chair@FORUM-DATA")
    forum = body("FORUM-DATA")
    group = operations.set_up_ad_hoc_group(
        session, chair, forum, name="Ad hoc-gruppe om børnedata", ends_on=date(2021, 6, 30),
        task="Børneområdets aktivitetsdata.",
    )  # fmt: skip
    assert (group.code, group.kind, group.parent_id) == ("FORUM-DATA-AH1", BodyKind.WORKING_GROUP,
                                                         forum.id)  # fmt: skip
    assert (group.valid_from, group.valid_to) == (date(2020, 9, 1), date(2021, 6, 30))
    [membership] = session.scalars(select(Membership).where(Membership.body_id == group.id))
    assert (membership.user_id, membership.role) == (chair.id, Role.CHAIR)
    entry = session.scalar(
        select(AdminAuditEntry).where(AdminAuditEntry.action == operations.AD_HOC_CREATED)
    )
    assert entry is not None and entry.actor_id == chair.id
    assert entry.data["forum"] == "FORUM-DATA" and entry.data["valid_to"] == "2021-06-30"
    second = operations.set_up_ad_hoc_group(
        session, chair, forum, name="Psykiatri", ends_on=date(2020, 12, 31)
    )
    assert second.code == "FORUM-DATA-AH2"


@pytest.mark.parametrize(
    ("roles", "code"),
    [
        (("secretariat@FORUM-DATA", "member@FORUM-DATA"), "FORUM-DATA"),
        (("chair@SU-NORD-SOM",), "SU-NORD-SOM"),  # a chair, but not of a forum
        (("chair@FORUM-KOMM",), "FORUM-DATA"),  # another forum's chair
    ],
)
def test_no_one_but_the_forums_chairs_may(session, body, make_user, roles, code):
    with pytest.raises(NotAllowed) as refused:
        operations.set_up_ad_hoc_group(
            session, make_user(*roles), body(code), name="Gruppe", ends_on=date(2021, 1, 31)
        )
    assert refused.value.rule == "may_set_up_ad_hoc_group"
    assert "Kun formandskabet for et samarbejdsforum" in refused.value.message


def test_the_group_needs_an_end_date_within_two_years(session, body, make_user):
    chair = make_user("chair@FORUM-DATA")
    for ends_on in (date(2020, 9, 1), date(2023, 1, 1)):
        with pytest.raises(operations.AdHocRefused):
            operations.set_up_ad_hoc_group(
                session, chair, body("FORUM-DATA"), name="Gruppe", ends_on=ends_on
            )


def test_without_the_rule_in_the_policy_the_refusal_disappears(session, body, make_user):
    rule = policy.RULES[("set_up_ad_hoc_group", "body")]
    su_chair, forum_chair = make_user("chair@SU-NORD-SOM"), make_user("chair@FORUM-DATA")
    assert not policy.may(su_chair, "set_up_ad_hoc_group", body("SU-NORD-SOM"), session)
    assert policy.may(forum_chair, "set_up_ad_hoc_group", body("FORUM-DATA"), session)
    loosened = replace(rule, grants=("chair@body",))  # the forum condition taken out
    policy.check_rules({("set_up_ad_hoc_group", "body"): loosened})
    policy.RULES[("set_up_ad_hoc_group", "body")] = loosened
    try:
        assert policy.may(su_chair, "set_up_ad_hoc_group", body("SU-NORD-SOM"), session)
    finally:
        policy.RULES[("set_up_ad_hoc_group", "body")] = rule


def test_the_forum_page_offers_the_form_to_its_chair_only(client, logged_in, text_of):
    logged_in("secretariat@FORUM-DATA")
    assert "Nedsæt ad hoc-gruppe" not in text_of(client.get("/organer/FORUM-DATA"))
    assert client.get("/organer/FORUM-DATA/ad-hoc-gruppe").status_code == 403


def test_the_chair_sets_up_the_group_through_the_form(client, logged_in, text_of):
    logged_in("chair@FORUM-DATA")
    assert "Nedsæt ad hoc-gruppe" in text_of(client.get("/organer/FORUM-DATA"))
    refused = client.post(
        "/organer/FORUM-DATA/ad-hoc-gruppe", data={"name": "Børnedata", "ends_on": "2020-08-01"}
    )
    assert refused.status_code == 422
    assert "Slutdatoen skal ligge efter i dag" in text_of(refused)
    created = client.post(
        "/organer/FORUM-DATA/ad-hoc-gruppe",
        data={"name": "Børnedata", "task": "Aktivitetsdata", "ends_on": "2021-03-31"},
    )
    assert created.status_code == 303
    assert created.headers["Location"].endswith("/organer/FORUM-DATA-AH1")
    page = text_of(client.get("/organer/FORUM-DATA-AH1"))
    assert "Børnedata" in page and "til og med 31. marts 2021" in page
