"""Administration through the API only (issue 17, item 1): a user created, edited (with the
ETag in If-Match), given and relieved of a role, tied to a new party and deactivated; a party
created and moved to another planning area. The admin pages' operations, audited the same
way, and the same policy: anyone else is refused with the policy's reason."""

from __future__ import annotations

from sqlalchemy import select
from support.api import problem_of

from models import AdminAuditEntry, PlanningArea
from workflow.auth import tokens


def _audited(session, object_type, object_id):
    """The admin audit trail's actions on one object, oldest first."""
    return list(
        session.scalars(
            select(AdminAuditEntry.action)
            .where(
                AdminAuditEntry.object_type == object_type,
                AdminAuditEntry.object_id == str(object_id),
            )
            .order_by(AdminAuditEntry.seq)
        )
    )


def _areas(session):
    return list(session.scalars(select(PlanningArea).order_by(PlanningArea.code).limit(2)))


def test_a_user_from_creation_to_deactivation_by_api_only(api, session, make_case):
    admin = api(is_admin=True, name="Ada Admin")
    created = admin.post(
        "/users",
        json={"name": "Jens Hansen", "email": "jens@kommune.dk", "password": "korrekt hest 12"},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    user = created.get_json()
    assert created.headers["Location"] == f"/api/v1/users/{user['id']}"
    assert (user["name"], user["locale"], user["is_admin"], user["active"]) == (
        "Jens Hansen", "da", False, True,
    )  # fmt: skip
    assert user["memberships"] == [] and user["party"] is None
    listed = admin.get("/users", query_string={"active": "true"}).get_json()["items"]
    assert user["id"] in [u["id"] for u in listed]

    # The same address (in other letters) is a second user no more than on the page.
    again = admin.post(
        "/users",
        json={"name": "Jens H.", "email": "JENS@kommune.dk", "password": "korrekt hest 12"},
    )
    assert problem_of(again, 409)["rule"] == "unique_email"

    # An edit names the version it read; without it, or with an old one, nothing is saved.
    path = f"/users/{user['id']}"
    etag = admin.get(path).headers["ETag"]
    assert etag == created.headers["ETag"]
    assert problem_of(admin.patch(path, json={"locale": "en"}), 428)["rule"] == "current_version"
    edited = admin.patch(path, json={"name": "Jens Kr. Hansen"}, headers={"If-Match": etag})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["name"] == "Jens Kr. Hansen" and edited.headers["ETag"] != etag
    stale = admin.patch(path, json={"locale": "en"}, headers={"If-Match": etag})
    assert problem_of(stale, 412)["rule"] == "current_version"
    assert stale.headers["ETag"] == edited.headers["ETag"]
    assert admin.get(path).get_json()["locale"] == "da"

    # A role in a body lets the user see the body's cases; ended, it no longer does.
    case = make_case(title="Sag i SU Nord")
    token = tokens.create_token(session, session.get(type(admin.user), user["id"]), "jens").plain
    as_jens = {"Authorization": f"Bearer {token}"}
    assert admin.client.get(f"/api/v1/cases/{case.id}", headers=as_jens).status_code == 404
    added = admin.post(f"{path}/memberships", json={"body": "SU-NORD-SOM", "role": "member"})
    assert added.status_code == 201, added.get_data(as_text=True)
    membership = added.get_json()
    assert (membership["body"]["code"], membership["role"], membership["active"]) == (
        "SU-NORD-SOM", "member", True,
    )  # fmt: skip
    twice = admin.post(f"{path}/memberships", json={"body": "SU-NORD-SOM", "role": "member"})
    assert problem_of(twice, 409)["rule"] == "one_membership_per_role"
    unknown = admin.post(f"{path}/memberships", json={"body": "INGEN", "role": "member"})
    assert problem_of(unknown, 422)["rule"] == "known_body"
    assert admin.client.get(f"/api/v1/cases/{case.id}", headers=as_jens).status_code == 200
    ended = admin.post(f"/memberships/{membership['id']}/end", json={"until": "2020-09-01"})
    assert ended.status_code == 200, ended.get_data(as_text=True)
    assert (ended.get_json()["active"], ended.get_json()["until"]) == (False, "2020-09-01")
    assert problem_of(admin.post(f"/memberships/{membership['id']}/end", json={}), 409)
    assert admin.client.get(f"/api/v1/cases/{case.id}", headers=as_jens).status_code == 404
    assert [m["active"] for m in admin.get(path).get_json()["memberships"]] == [False]

    # A new party, moved to another planning area; the user answers for it.
    north, other = _areas(session)
    party = admin.post(
        "/parties",
        json={"code": "HOSP-TEST", "name": "Testhospitalet", "kind": "hospital",
              "planning_area_id": north.id},
    )  # fmt: skip
    assert party.status_code == 201, party.get_data(as_text=True)
    party_id = party.get_json()["id"]
    assert party.get_json()["planning_area_id"] == north.id
    taken = admin.post("/parties", json={"code": "HOSP-TEST", "name": "To", "kind": "hospital"})
    assert problem_of(taken, 409)["rule"] == "unique_code"
    moved = admin.patch(
        f"/parties/{party_id}",
        json={"planning_area_id": other.id},
        headers={"If-Match": party.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.get_json()["planning_area_id"] == other.id
    assert problem_of(
        admin.patch(f"/parties/{party_id}", json={"active": False},
                    headers={"If-Match": party.headers["ETag"]}),
        412,
    )  # fmt: skip
    assert party_id in [p["id"] for p in admin.get("/parties").get_json()["items"]]
    tied = admin.patch(
        path, json={"party_id": party_id}, headers={"If-Match": admin.get(path).headers["ETag"]}
    )
    assert tied.get_json()["party"]["code"] == "HOSP-TEST"

    # Deactivated: the user's token no longer works; nothing is deleted.
    deactivated = admin.post(f"{path}/deactivate")
    assert deactivated.status_code == 200 and deactivated.get_json()["active"] is False
    assert admin.client.get("/api/v1/cases", headers=as_jens).status_code == 401
    assert user["id"] in [
        u["id"] for u in admin.get("/users", query_string={"active": "false"}).get_json()["items"]
    ]
    assert admin.post(f"{path}/reactivate").get_json()["active"] is True

    # Audited as the pages audit: each change once, by the admin, with before and after.
    assert _audited(session, "user", user["id"]) == [
        "user_created", "user_updated", "user_updated", "user_deactivated", "user_reactivated",
    ]  # fmt: skip
    assert _audited(session, "membership", membership["id"]) == [
        "membership_added", "membership_ended",
    ]  # fmt: skip
    assert _audited(session, "party", party_id) == ["party_created", "party_updated"]
    entry = session.scalar(
        select(AdminAuditEntry).where(AdminAuditEntry.action == "party_updated")
        .order_by(AdminAuditEntry.seq.desc())
    )  # fmt: skip
    assert entry.actor_id == admin.user.id
    assert entry.data["before"]["planning_area_id"] == north.id
    assert entry.data["after"]["planning_area_id"] == other.id


def test_an_admin_keeps_their_own_rights(api):
    admin = api(is_admin=True)
    path = f"/users/{admin.user.id}"
    demoted = admin.patch(
        path, json={"is_admin": False}, headers={"If-Match": admin.get(path).headers["ETag"]}
    )
    assert problem_of(demoted, 409)["rule"] == "not_own_admin_right"
    assert problem_of(admin.post(f"{path}/deactivate"), 409)["rule"] == "not_self"
    assert admin.get(path).get_json()["is_admin"] is True


def test_an_address_beyond_a_to_z_is_taken_once(api):
    # SQLite's lower() knows only A-Z: the check must still find the very address stored.
    admin = api(is_admin=True)
    body = {"name": "Ærø Øster", "email": "ÆRØ.Østergård@kommune.dk", "password": "x" * 12}
    assert admin.post("/users", json=body).status_code == 201
    assert problem_of(admin.post("/users", json=body), 409)["rule"] == "unique_email"


def test_bad_admin_input_is_refused_with_reasons(api):
    admin = api(is_admin=True)
    short = admin.post("/users", json={"name": "A", "email": "a@b.dk", "password": "kort"})
    assert problem_of(short, 400)["errors"][0]["field"] == "password"
    spaces = admin.post("/users", json={"name": "   ", "email": "a@b.dk", "password": "x" * 12})
    assert problem_of(spaces, 422)["rule"] == "name_given"
    no_party = admin.post(
        "/users", json={"name": "A", "email": "a@b.dk", "password": "x" * 12, "party_id": 99999}
    )
    assert problem_of(no_party, 422)["rule"] == "known_party"
    problem_of(admin.get("/users/99999"), 404)
    problem_of(admin.post("/memberships/99999/end", json={}), 404)
    bad_code = admin.post("/parties", json={"code": "lille", "name": "X", "kind": "hospital"})
    assert problem_of(bad_code, 400)["errors"][0]["field"] == "code"


def test_only_admins_may_administer_through_the_api(api):
    chair = api("chair@SKU", "secretariat@TSS")
    target = api("member@TSS").user
    party = chair.get("/parties").get_json()["items"][0]
    refused = [
        chair.get("/users"),
        chair.post("/users", json={"name": "X", "email": "x@y.dk", "password": "x" * 12}),
        chair.get(f"/users/{target.id}"),
        chair.patch(f"/users/{target.id}", json={"name": "X"}, headers={"If-Match": "*"}),
        chair.post(f"/users/{target.id}/deactivate"),
        chair.post(f"/users/{target.id}/memberships", json={"body": "SKU", "role": "chair"}),
        chair.post("/parties", json={"code": "NY", "name": "Ny", "kind": "hospital"}),
        chair.patch(f"/parties/{party['id']}", json={"name": "X"}, headers={"If-Match": "*"}),
    ]
    for response in refused:
        problem = problem_of(response, 403)
        assert problem["rule"] == "may_administer"
        assert problem["detail_en"] == "Only administrators may change users, bodies and parties."
    # Parties stay reference data every user may read.
    assert chair.get(f"/parties/{party['id']}").get_json()["code"] == party["code"]
    assert target.active and target.name != "X"


def test_a_membership_cannot_end_before_it_began(api, session, make_user):
    admin = api(is_admin=True)
    user = make_user()
    added = admin.post(
        f"/users/{user.id}/memberships",
        json={"body": "SU-NORD-SOM", "role": "member", "since": "2020-09-01"},
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    path = f"/memberships/{added.get_json()['id']}/end"
    refused = admin.post(path, json={"until": "2020-08-31"})
    problem = problem_of(refused, 422)
    assert problem["rule"] == "ends_after_it_began"
    (error,) = problem["errors"]
    assert error["field"] == "until" and error["rule"] == "ends_after_it_began"
    assert problem["detail_da"] == (
        "Slutdatoen (31. august 2020) ligger før medlemskabets startdato (1. september 2020). "
        "Vælg en dato fra og med startdatoen."
    )
    assert problem["detail_en"] == (
        "The end date (31 August 2020) is before the membership's start date (1 September 2020). "
        "Choose a date on or after the start date."
    )
    assert admin.get(f"/users/{user.id}").get_json()["memberships"][0]["active"] is True
    # A membership of one day ends the day it began.
    ended = admin.post(path, json={"until": "2020-09-01"})
    assert ended.status_code == 200, ended.get_data(as_text=True)
    assert ended.get_json()["until"] == "2020-09-01"
