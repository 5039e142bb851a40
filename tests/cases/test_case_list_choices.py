"""The case list's filter and bulk options are kept once rendered (workflow/cases/choices.py),
and its statements once built (queries.list_cases): what they depend on shows at once."""

from __future__ import annotations

import re

from models import Body
from tests.support.web import _log_in as log_in_as
from workflow.engine.processes import registry


def _options(page: str, select_id: str) -> str:
    found = re.search(rf'<select[^>]* id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert found, select_id
    return found.group(1)


def test_the_chosen_filters_are_marked_and_the_states_follow_the_process(client, logged_in):
    logged_in("member@SU-NORD-SOM")
    client.get("/sager")  # the options are kept unmarked ...
    page = client.get("/sager?proces=forum_matter&tilstand=forum_matter:draft&organ=TSS").get_data(
        as_text=True
    )
    # ... and only the reader's choices are marked, each once.
    processes, states = _options(page, "filter-proces"), _options(page, "filter-tilstand")
    bodies = _options(page, "filter-organ")
    assert processes.count(" selected>") == states.count(" selected>") == 1
    assert bodies.count(" selected>") == 1
    assert '<option value="forum_matter" selected>' in processes
    assert '<option value="forum_matter:draft" selected>' in states
    assert "signature_initiative:" not in states
    assert '<option value="TSS" selected>TSS – ' in bodies
    again = client.get("/sager").get_data(as_text=True)
    assert " selected>" not in _options(again, "filter-proces")
    assert "signature_initiative:draft" in _options(again, "filter-tilstand")


def test_a_newly_published_process_version_shows_at_once(client, logged_in, session, make_case):
    make_case(title="En sag", state="at_tss")  # the bulk form is shown beside a list of cases
    logged_in("chair@TSS")
    before = client.get("/sager").get_data(as_text=True)
    assert "Sag i samarbejdsforum" in _options(before, "filter-proces")
    latest = registry.latest(session, "forum_matter")
    source = latest.source.replace(
        'title = "Sag i samarbejdsforum"', 'title = "Sag i forummet"', 1
    ).replace('label = "Kladde"', 'label = "Udkast i forummet"', 1)
    assert source != latest.source
    registry.publish(session, "forum_matter", source, based_on=latest.version, actor_id=None)
    session.commit()
    page = client.get("/sager").get_data(as_text=True)
    assert "Sag i forummet" in _options(page, "filter-proces")
    assert "Sag i samarbejdsforum" not in _options(page, "filter-proces")
    states = _options(page, "filter-tilstand")
    assert '<optgroup label="Sag i forummet">' in states and "Udkast i forummet" in states
    assert '<optgroup label="Sag i forummet">' in _options(page, "samlet-handling-valg")


def test_a_renamed_body_shows_at_once_in_the_filter_and_the_rows(
    client, logged_in, make_case, session
):
    make_case("forum_matter", title="Sagen i forummet", origin="FORUM-DATA", state="in_forum")
    logged_in("member@FORUM-DATA")
    page = client.get("/sager").get_data(as_text=True)
    body = session.query(Body).filter_by(code="FORUM-DATA").one()
    assert f"FORUM-DATA – {body.name}" in _options(page, "filter-organ")
    body.name = "Forum for data (nyt navn)"
    session.commit()
    page = client.get("/sager").get_data(as_text=True)
    assert "FORUM-DATA – Forum for data (nyt navn)</option>" in _options(page, "filter-organ")
    assert '<abbr title="Forum for data (nyt navn)">FORUM-DATA</abbr>' in page


def test_the_options_are_kept_per_language(client, logged_in, session):
    reader = logged_in("member@SU-NORD-SOM")
    danish = client.get("/sager").get_data(as_text=True)
    assert "Sag i samarbejdsforum" in _options(danish, "filter-proces")
    reader.locale = "en"
    session.commit()
    english = client.get("/sager").get_data(as_text=True)
    assert "Forum matter" in _options(english, "filter-proces")
    assert "Sag i samarbejdsforum" not in _options(english, "filter-proces")


def test_one_shape_of_the_list_serves_each_reader_their_own_cases(
    app, client, logged_in, make_login_user, make_case
):
    # A draft is its body's only; the same statement, kept, must not show it to others.
    make_case("forum_matter", title="Kladde i FORUM-DATA", origin="FORUM-DATA")
    make_case("forum_matter", title="Delt sag", origin="FORUM-DATA", state="in_forum")
    address = "/sager?proces=forum_matter"
    logged_in("member@FORUM-DATA")
    own = client.get(address).get_data(as_text=True)
    assert "Kladde i FORUM-DATA" in own and "Delt sag" in own
    assert "2 sager matcher filtrene." in own
    elsewhere = app.test_client()
    assert log_in_as(elsewhere, make_login_user("member@SU-NORD-SOM")).status_code == 303
    other = elsewhere.get(address).get_data(as_text=True)
    assert "Kladde i FORUM-DATA" not in other and "Delt sag" in other
    assert "1 sag matcher filtrene." in other
