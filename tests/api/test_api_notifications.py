"""The caller's notifications through the API: list (all or unread), mark one read and unread
again, mark all read; another user's notification is not found."""

from __future__ import annotations

from support.api import problem_of

from workflow.engine import outbox


def _notify(session, user, count: int) -> list[int]:
    made = [
        outbox.enqueue(
            session,
            key=f"api-test-{user.id}-{n}",
            recipient_id=user.id,
            kind="reminder",
            subject=f"Påmindelse {n}",
            body="Fristen nærmer sig.",
        )
        for n in range(count)
    ]
    session.commit()
    return [m.id for m in made if m is not None]


def test_a_user_lists_marks_read_and_unread_and_marks_all_read(api, session):
    me = api("member@SU-NORD-SOM")
    ids = _notify(session, me.user, 3)

    inbox = me.get("/notifications").get_json()
    assert inbox["unread"] == 3 and sorted(i["id"] for i in inbox["items"]) == sorted(ids)

    read = me.post(f"/notifications/{ids[0]}/read")
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    unread_only = me.get("/notifications", query_string={"unread": "true"}).get_json()
    assert unread_only["unread"] == 2 and ids[0] not in [i["id"] for i in unread_only["items"]]

    again = me.post(f"/notifications/{ids[0]}/unread")
    assert again.status_code == 200 and again.get_json()["read_at"] is None
    assert me.get("/notifications").get_json()["unread"] == 3

    marked = me.post("/notifications/read-all").get_json()
    assert marked == {"marked": 3, "unread": 0}


def test_another_users_notification_is_not_found(api, session):
    me = api("member@SU-NORD-SOM")
    other = api("member@SU-NORD-SOM")
    [theirs] = _notify(session, other.user, 1)
    problem_of(me.post(f"/notifications/{theirs}/read"), 404)
    problem_of(me.post(f"/notifications/{theirs}/unread"), 404)
    assert me.get("/notifications").get_json() == {"unread": 0, "items": []}
    assert other.get("/notifications").get_json()["unread"] == 1
