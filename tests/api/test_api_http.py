"""HTTP conventions of /api/v1 (issue 17, item 3): ETag and If-Match for optimistic
concurrency, 405 with Allow and 404 as problem documents for any method and address, cursors
a client may start from, and a document whose enums and links let a client walk a case."""

from __future__ import annotations

import pytest
from support.api import PROBLEM, problem_of


def _etag(response):
    tag = response.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    return tag


def test_a_case_carries_its_version_as_etag_and_a_change_moves_it(api, make_case):
    case = make_case()
    chair = api("chair@SU-NORD-SOM")
    read = chair.get(f"/cases/{case.id}")
    tag = _etag(read)
    assert tag == f'"case-{case.id}-v{read.get_json()["version"]}"'
    edited = chair.patch(f"/cases/{case.id}", json={"title": "Ny titel"}, headers={"If-Match": tag})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["fields"]["title"] == "Ny titel"
    assert _etag(edited) != tag
    assert _etag(chair.get(f"/cases/{case.id}")) == _etag(edited)


def test_a_stale_if_match_is_412_with_the_current_etag_and_changes_nothing(api, make_case):
    case = make_case()
    chair = api("chair@SU-NORD-SOM")
    old = _etag(chair.get(f"/cases/{case.id}"))
    chair.patch(f"/cases/{case.id}", json={"summary": "Først"}, headers={"If-Match": old})
    current = _etag(chair.get(f"/cases/{case.id}"))
    stale = chair.patch(f"/cases/{case.id}", json={"summary": "Sidst"}, headers={"If-Match": old})
    problem = problem_of(stale, 412)
    assert problem["rule"] == "current_version"
    assert stale.headers["ETag"] == current
    assert chair.get(f"/cases/{case.id}").get_json()["fields"]["summary"] == "Først"
    moved = chair.post(
        f"/cases/{case.id}/transitions", json={"trigger": "submit"}, headers={"If-Match": old}
    )
    problem_of(moved, 412)
    assert chair.get(f"/cases/{case.id}").get_json()["state"] == "draft"


@pytest.mark.parametrize("header", ['W/"case-{id}-v{version}"', '"noget-andet"', "case-{id}"])
def test_a_weak_or_foreign_tag_never_matches(api, make_case, header):
    case = make_case()
    chair = api("chair@SU-NORD-SOM")
    value = header.format(id=case.id, version=case.version)
    refused = chair.patch(f"/cases/{case.id}", json={"summary": "x"}, headers={"If-Match": value})
    assert refused.status_code in (400, 412)
    assert refused.content_type == PROBLEM


def test_a_transition_by_if_match_alone_moves_the_case_and_answers_the_new_etag(api, make_case):
    case = make_case()
    # A formandskab decision: the other co-chair has proposed it; this chair's act takes it.
    proposal = api("chair@SU-NORD-SOM").act(case.id, "submit")
    assert proposal.get_json()["state"] == "draft"
    chair = api("chair@SU-NORD-SOM")
    tag = _etag(chair.get(f"/cases/{case.id}"))
    moved = chair.post(
        f"/cases/{case.id}/transitions", json={"trigger": "submit"}, headers={"If-Match": tag}
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.get_json()["state"] == "at_tss"
    assert _etag(moved) == _etag(chair.get(f"/cases/{case.id}"))
    star = chair.patch(f"/cases/{case.id}", json={"summary": "Alle"}, headers={"If-Match": "*"})
    assert star.status_code == 200


def test_a_write_naming_no_version_is_428(api, make_case):
    case = make_case()
    chair = api("chair@SU-NORD-SOM")
    problem = problem_of(chair.patch(f"/cases/{case.id}", json={"summary": "x"}), 428)
    assert "If-Match" in problem["detail"]
    problem_of(chair.post(f"/cases/{case.id}/transitions", json={"trigger": "submit"}), 428)


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE"])
def test_a_wrong_method_is_405_problem_with_allow(api, method):
    caller = api("member@SU-NORD-SOM")
    response = caller.client.open("/api/v1/cases", method=method, headers=caller.headers())
    problem = problem_of(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert method in problem["detail"]


@pytest.mark.parametrize(
    "path", ["/api/v1/%0A", "/api/v1/cases/%0A", "/api/v1/x%0Ay", "/api/v1/%00"]
)
def test_odd_addresses_are_404_problems(client, path):
    problem_of(client.get(path), 404)
    problem_of(client.open(path, method="TRACE"), 404)


def test_cursor_zero_is_an_empty_page_and_an_id_pages_after_it(api, make_case):
    older, newer = make_case(title="Ældre"), make_case(title="Nyere")
    caller = api("member@SU-NORD-SOM")
    empty = caller.get("/cases", query_string={"cursor": "0"})
    assert empty.status_code == 200
    assert empty.get_json() == {"items": [], "next_cursor": None}
    after = caller.get("/cases", query_string={"cursor": str(newer.id)}).get_json()["items"]
    assert [c["id"] for c in after] == [older.id]
    problem_of(caller.get("/cases", query_string={"cursor": "WA"}), 400)


def test_the_document_lists_processes_triggers_bodies_and_goals_that_exist(client):
    document = client.get("/api/v1/openapi.json").get_json()
    create = document["paths"]["/api/v1/cases"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "signature_initiative" in body["process"]["enum"]
    assert "SU-NORD-SOM" in body["originating_body"]["enum"]
    assert body["national_goal_ids"]["items"]["enum"][:2] == [1, 2]
    assert body["focus_area_id"]["enum"][-1] is None
    perform = document["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]
    trigger = perform["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"submit", "tss_recommend", "sku_approve"} <= set(trigger["trigger"]["enum"])
    assert "escalate" in trigger["trigger"]["enum"]
    name = document["paths"]["/api/v1/processes/{name}"]["get"]["parameters"][0]["schema"]
    assert "forum_matter" in name["enum"]


def test_the_document_links_create_to_transition_at_the_answered_etag(client):
    document = client.get("/api/v1/openapi.json").get_json()
    created = document["paths"]["/api/v1/cases"]["post"]["responses"]["201"]
    link = created["links"]["PerformAllowedTrigger"]
    assert link["operationId"] == "perform"
    assert link["parameters"] == {
        "path.case_id": "$response.body#/id",
        "header.If-Match": "$response.header.ETag",
    }
    assert link["requestBody"]["trigger"] == "$response.body#/allowed_triggers/0/trigger"
    assert "ETag" in created["headers"]
    moved = document["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]["responses"]["200"]
    assert moved["links"]["PerformAllowedTrigger"]["parameters"]["path.case_id"] == (
        "$response.body#/case_id"
    )


def test_notifications_are_marked_read_through_the_api_and_only_ones_own(api, session):
    from models import Notification

    reader, other = api("member@SU-NORD-SOM"), api("member@SU-NORD-SOM")
    for number, user in enumerate((reader.user, reader.user, other.user)):
        session.add(
            Notification(
                idempotency_key=f"read-{number}", message_id=f"<read-{number}@aftaleflow>",
                recipient_id=user.id, kind="reminder", subject="Frist", body="Fristen nærmer sig.",
            )
        )  # fmt: skip
    session.commit()
    mine = reader.get("/me/notifications", query_string={"unread": "true"}).get_json()["items"]
    theirs = other.get("/me/notifications").get_json()["items"]
    assert len(mine) == 2
    one = reader.post("/me/notifications/read", json={"ids": [mine[0]["id"], theirs[0]["id"]]})
    assert one.get_json() == {"marked": 1, "unread": 1}
    assert reader.post("/me/notifications/read", json={}).get_json() == {"marked": 1, "unread": 0}
    assert other.get("/me/notifications", query_string={"unread": "true"}).get_json()["items"]
