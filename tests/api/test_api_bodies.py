"""The bodies as the API lists them: dated like the body pages."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from models import Body
from workflow.engine import clock


def parents(caller) -> dict[str, str | None]:
    response = caller.get("/bodies")
    assert response.status_code == 200
    return {item["code"]: item["parent"] for item in response.get_json()["items"]}


def test_a_body_moved_from_a_later_day_keeps_its_parent_until_then(api, session):
    """A plan applied ahead of its date places the body under its new parent at once; the
    API, like the body page, names the parent of today: the former one until the day."""
    body = session.scalar(select(Body).where(Body.code == "SU-NORD-SOM"))
    new_parent = session.scalar(select(Body).where(Body.code == "SKU"))
    before = parents(api("member@TSS"))["SU-NORD-SOM"]
    assert before == "TSS"
    body.place_under(new_parent, date(2021, 1, 1))
    session.commit()
    caller = api("member@TSS")
    assert parents(caller)["SU-NORD-SOM"] == "TSS"
    clock.set_time(datetime(2021, 1, 1, 9, 0, tzinfo=UTC))
    assert parents(caller)["SU-NORD-SOM"] == "SKU"


def test_the_body_resource_says_whether_its_chairmanship_decides(api):
    items = {item["code"]: item for item in api("member@TSS").get("/bodies").get_json()["items"]}
    assert items["TSS"]["formandskab_decides"] is True
    assert items["SKU"]["formandskab_decides"] is False


def test_the_steering_group_of_2027_has_tss_terms():
    """The body that takes over TSS' role keeps its chairmanship's terms (seed 002 l.36-37)."""
    import tomllib
    from pathlib import Path

    data = tomllib.loads(Path("data/organisation-2027.toml").read_text(encoding="utf-8"))
    steering = [b for b in data["bodies"] if b["kind"] == "steering"]
    assert steering and all(b.get("formandskab_decides") is True for b in steering)
