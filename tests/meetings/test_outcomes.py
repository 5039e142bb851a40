"""Meeting outcomes are declared on the states that await a meeting (states/*.toml) and read
from the version each case follows."""

from __future__ import annotations

import pytest

from workflow.engine import core as engine
from workflow.engine.definitions import load_definitions
from workflow.engine.outcomes import OUTCOMES
from workflow.engine.processes import ProcessRegistry
from workflow.implementation import annual_cycle
from workflow.implementation import operations as implementation
from workflow.meetings.outcomes import (
    Outcome,
    awaits_meeting,
    outcome_triggers,
    possible_outcomes,
    trigger_for,
)

DEFINITIONS = load_definitions()
AWAITING = [
    (definition.name, state.name)
    for definition in DEFINITIONS.values()
    for state in definition.states.values()
    if state.awaits_meeting
]
ORIGIN = {
    "signature_initiative": "SU-NORD-SOM",
    "forum_matter": "FORUM-DATA",
    "joint_agreement": "SU-MIDT-SOM",
    "development_task": "SU-SYD-SOM",
    "implementation_plan": "TSS",
    # The rhythms' processes (issue 16 point 9): SKU reviews its own agreement, an SU reports
    # before the electoral period ends, a forum presents its work plan to TSS.
    "agreement_review": "SKU",
    "electoral_period_report": "SU-SYD-SOM",
    "forum_work_plan": "FORUM-DATA",
}
# The keys a stored version written before they existed does not have.
DOMAIN_KEYS = (
    "outcomes",
    "tracks_implementation",
    "completes_implementation",
    "plan_year",
    "plan_lines_open",
    "consultation =",
)


def test_the_definitions_name_exactly_the_outcomes_the_minutes_know():
    assert {o.value for o in Outcome} == OUTCOMES


@pytest.mark.parametrize(("process", "state"), AWAITING)
def test_every_state_with_outcomes_fires_transitions_that_exist_from_it(make_case, process, state):
    declared = DEFINITIONS[process].states[state].outcomes
    for outcome, trigger in declared.items():
        transition = DEFINITIONS[process].transition(trigger)
        assert transition is not None and state in transition.sources, (outcome, trigger)
    year = {"plan_year": 2021} if DEFINITIONS[process].plan_year else {}
    case = make_case(process, origin=ORIGIN[process], state=state, **year)
    assert awaits_meeting(case)
    assert {str(o): t for o, t in outcome_triggers(case).items()} == dict(declared)
    assert set(possible_outcomes(case)) == {Outcome(o) for o in declared} | {
        Outcome.NOTED, Outcome.POSTPONED
    }  # fmt: skip


def test_a_state_without_outcomes_awaits_no_meeting(make_case):
    case = make_case(state="implementation")
    assert not awaits_meeting(case)
    assert trigger_for(case, Outcome.APPROVED) is None
    assert possible_outcomes(case) == [Outcome.POSTPONED, Outcome.NOTED]


def test_a_version_stored_before_the_keys_existed_reads_them_from_the_newest_version(
    session, tmp_path, states_dir, make_case
):
    """Cases in flight on an old stored version keep their meetings and implementation."""
    for path in states_dir.glob("*.toml"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(DOMAIN_KEYS)]
        (tmp_path / path.name).write_text("".join(kept), encoding="utf-8")
    ProcessRegistry(directory=tmp_path).sync(session)
    session.commit()
    at_tss = make_case(state="at_tss")
    implementing = make_case(state="implementation")
    plan = make_case("implementation_plan", origin="TSS", plan_year=2030)
    legacy = engine.definition_of(at_tss)
    assert not legacy.declares_domain_keys
    ProcessRegistry(directory=states_dir).sync(session)
    session.commit()
    assert engine.definition_of(at_tss) is legacy  # the case keeps its version
    assert awaits_meeting(at_tss)
    assert trigger_for(at_tss, Outcome.RETURNED) == "tss_return"
    assert implementation.is_implementing(implementing)
    assert implementation.completion_trigger(implementing) == "report_implemented"
    assert annual_cycle.is_plan(plan)
    assert annual_cycle.plan_lines_open(plan)
