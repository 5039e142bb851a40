"""Indicators through the API only (issue 17, item 1): the registry and an indicator's values
read as the pages show them, values recorded with the import's checks (all or none, every wrong
value named) and only by those who keep the indicators."""

from __future__ import annotations

import pytest
from support.api import problem_of

from workflow.implementation import indicators


@pytest.fixture
def registry(session):
    indicators.define_indicator(
        session, code="GENIND", name="Akutte somatiske genindlæggelser", direction="down",
        unit="%", national_goal_number=2,
    )  # fmt: skip
    return session


def test_values_are_recorded_and_read_back(api, registry):
    keeper = api("secretariat@TSS")
    values = [
        {"indicator": "genind", "year": 2024, "area": "region", "value": "8,4"},
        {"indicator": "GENIND", "year": 2024, "area": "Hillerød", "value": "6.25"},
    ]
    recorded = keeper.post("/indicators/values", json={"values": values})
    assert recorded.status_code == 200, recorded.get_data(as_text=True)
    assert recorded.get_json()["created"] == 2
    again = keeper.post("/indicators/values", json={"values": values[:1]}).get_json()
    assert (again["created"], again["unchanged"]) == (0, 1)

    reader = api("member@SU-NORD-SOM")
    (listed,) = reader.get("/indicators").get_json()["items"]
    assert (listed["code"], listed["direction"], listed["national_goal"]["number"]) == (
        "GENIND", "down", 2,
    )  # fmt: skip
    detail = reader.get("/indicators/genind").get_json()
    region, hillerod = detail["series"]  # the region first
    assert region["points"] == [{"year": 2024, "value": "8.4000"}]
    assert hillerod["area"]["name"].startswith("Hillerød")
    problem_of(reader.get("/indicators/UKENDT"), 404)


def test_values_are_refused_all_or_none_with_every_wrong_one_named(api, registry):
    keeper = api("secretariat@TSS")
    values = [
        {"indicator": "GENIND", "year": 2024, "area": "region", "value": "8,4"},
        {"indicator": "UKENDT", "year": 2024, "area": "region", "value": "1"},
        {"indicator": "GENIND", "year": 2024, "area": "Rigshospitalet", "value": "1"},
    ]
    refused = problem_of(keeper.post("/indicators/values", json={"values": values}), 422)
    assert refused["rule"] == "indicator_values_valid"
    assert [e["field"] for e in refused["errors"]] == ["values/1", "values/2"]
    assert "UKENDT" in refused["errors"][0]["message"]
    detail = keeper.get("/indicators/GENIND").get_json()
    assert detail["series"] == []  # nothing was stored
    member = api("member@SU-NORD-SOM")
    forbidden = member.post("/indicators/values", json={"values": values[:1]})
    assert problem_of(forbidden, 403)["rule"] == "may_keep_indicators"
