"""Who may start each process (the definitions' `started_by`): the SUs designate signature
initiatives (seed 001 l.118-120), forum matters are raised in forums (seed 000 l.51-56)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workflow.engine import core as engine
from workflow.engine.definitions import load_definitions, parse_definition
from workflow.engine.errors import NotAllowed

DEFINITIONS = load_definitions()


@pytest.mark.parametrize(
    ("process", "origin", "who"),
    [
        ("signature_initiative", "FORUM-DATA", "et samordningsudvalg"),
        ("signature_initiative", "TEMA-AELDRE", "et samordningsudvalg"),
        ("signature_initiative", "TSS", "et samordningsudvalg"),
        ("forum_matter", "SU-NORD-SOM", "et samarbejdsforum"),
        ("forum_matter", "SKU", "et samarbejdsforum"),
        ("implementation_plan", "SU-NORD-SOM", "styregruppen"),
    ],
)
def test_a_body_that_may_not_start_the_process_is_refused(
    session, body, make_user, process, origin, who
):
    with pytest.raises(NotAllowed) as refused:
        engine.create_case(
            session,
            process=process,
            title="Forkert sted",
            originating_body=body(origin),
            actor=make_user(f"member@{origin}"),
        )
    assert f"startes af {who}; {origin} kan ikke starte den" in refused.value.message


def test_the_bodies_the_definitions_name_may_start(session, body, make_user):
    for process, origin in (
        ("signature_initiative", "SU-BORNHOLM"),
        ("forum_matter", "FORUM-HJAELP"),
        ("development_task", "TSS"),
        ("development_task", "SU-SYD-PSYK"),
        ("joint_agreement", "TEMA-PSYK"),
    ):
        case = engine.create_case(
            session,
            process=process,
            title="Rette sted",
            originating_body=body(origin),
            actor=make_user(f"member@{origin}"),
        )
        assert case.originating_body.code == origin


def test_without_the_rule_in_the_definition_the_refusal_disappears():
    definition = DEFINITIONS["signature_initiative"]
    assert not definition.may_start_in("forum", "FORUM-DATA")
    without = "\n".join(
        line for line in definition.source.splitlines() if not line.startswith("started_by")
    )
    loosened = parse_definition(without, "states/signature_initiative.toml")
    assert loosened.may_start_in("forum", "FORUM-DATA")
    assert replace(definition, started_by=()).may_start_in("steering", "TSS")


def test_new_case_offers_only_the_processes_a_users_bodies_may_start(client, logged_in, text_of):
    logged_in("member@FORUM-DATA")
    page = text_of(client.get("/sager/ny"))
    assert "Sag i samarbejdsforum" in page
    assert "Fælles samarbejdsaftale (type A)" in page
    assert "Signaturindsats" not in page
    assert "Årlig implementeringsplan" not in page
    refused = client.get("/sager/ny/signature_initiative")
    assert refused.status_code == 403
    assert "startes af et samordningsudvalg" in text_of(refused)


def test_the_form_offers_only_bodies_that_may_start_the_process(client, logged_in):
    logged_in("member@FORUM-DATA", "member@SU-MIDT-SOM")
    html = client.get("/sager/ny/signature_initiative").get_data(as_text=True)
    assert 'value="SU-MIDT-SOM"' in html
    assert 'value="FORUM-DATA"' not in html
