"""What a meeting's outcome for an item means for the case: the trigger it fires.

The outcomes are the minutes' vocabulary and live here. Which trigger each one fires is process
knowledge: each state that awaits a meeting of its current body declares it in states/*.toml
(`outcomes = { approved = "sku_approve", ... }`), and the definition loader checks that every
outcome is one registered below and every trigger a transition from that state.
"""

from __future__ import annotations

from enum import StrEnum

from models import Case
from workflow.engine import core as engine
from workflow.engine.definitions import ProcessDefinition
from workflow.engine.outcomes import register_outcomes


class Outcome(StrEnum):
    APPROVED = "approved"
    RECOMMENDED = "recommended"
    RETURNED = "returned"
    REJECTED = "rejected"
    POSTPONED = "postponed"
    NOTED = "noted"


OUTCOME_LABELS = {
    Outcome.APPROVED: "Godkendt",
    Outcome.RECOMMENDED: "Indstillet til videre behandling",
    Outcome.RETURNED: "Sendt tilbage",
    Outcome.REJECTED: "Afvist",
    Outcome.POSTPONED: "Udsat",
    Outcome.NOTED: "Taget til efterretning",
}

# The definitions may name these outcomes (installed with the domains, see pyproject.toml).
register_outcomes(o.value for o in Outcome)

# Outcomes that need no transition: the case simply stays where it is.
WITHOUT_TRANSITION = frozenset({Outcome.NOTED, Outcome.POSTPONED})


def outcome_triggers(case: Case) -> dict[Outcome, str]:
    """Return the trigger each outcome fires for the case in its current state.

    Only triggers its own process version can fire from that state count (a version stored
    before the definitions declared outcomes reads them from the newest version).
    """
    return triggers_in(engine.definition_of(case), engine.declarations_of(case), case.state)


def triggers_in(
    own: ProcessDefinition, declaring: ProcessDefinition, state_name: str
) -> dict[Outcome, str]:
    """`outcome_triggers` for a case of version `own` (whose outcomes `declaring` declares,
    `registry.declaring`) in state `state_name`: the same for every such case."""
    state = declaring.states.get(state_name)
    if state is None:
        return {}
    triggers: dict[Outcome, str] = {}
    for name, trigger in state.outcomes.items():
        transition = own.transition(trigger)
        if transition is not None and state_name in transition.sources:
            triggers[Outcome(name)] = trigger
    return triggers


def trigger_for(case: Case, outcome: Outcome) -> str | None:
    """Return the trigger an outcome fires for the case in its current state, or None."""
    return outcome_triggers(case).get(outcome)


def awaits_meeting(case: Case) -> bool:
    """Tell whether the case is in a state that awaits a meeting of its current body."""
    return bool(outcome_triggers(case))


def possible_outcomes(case: Case) -> list[Outcome]:
    """Return the outcomes that make sense for the case now (always incl. noted/postponed)."""
    mapped = outcome_triggers(case)
    return [o for o in Outcome if o in mapped or o in WITHOUT_TRANSITION]
