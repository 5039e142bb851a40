"""What a meeting's outcome for an item means for the case: the trigger it fires per process.

Kept here, beside the meetings, rather than in states/*.toml: it describes how minutes are
read, not the process. A state listed here is one that awaits a meeting of its current body.
"""

from __future__ import annotations

from enum import StrEnum


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

# process -> state -> outcome -> trigger
OUTCOME_TRIGGERS: dict[str, dict[str, dict[Outcome, str]]] = {
    "signature_initiative": {
        "draft": {Outcome.RECOMMENDED: "submit", Outcome.APPROVED: "submit"},
        "at_tss": {
            Outcome.RECOMMENDED: "tss_recommend",
            Outcome.APPROVED: "tss_recommend",
            Outcome.RETURNED: "tss_return",
            Outcome.REJECTED: "tss_reject",
        },
        "at_sku": {
            Outcome.APPROVED: "sku_approve",
            Outcome.REJECTED: "sku_reject",
            Outcome.POSTPONED: "sku_postpone",
            Outcome.RETURNED: "sku_return",
        },
    },
    "joint_agreement": {
        "terms_of_reference": {Outcome.APPROVED: "approve_terms", Outcome.REJECTED: "reject_terms"},
        "at_tss": {
            Outcome.APPROVED: "tss_approve",
            Outcome.RECOMMENDED: "tss_approve",
            Outcome.RETURNED: "tss_return",
            Outcome.REJECTED: "cancel",
        },
        "at_sku": {
            Outcome.APPROVED: "sku_approve",
            Outcome.POSTPONED: "sku_postpone",
            Outcome.RETURNED: "sku_return",
            Outcome.REJECTED: "sku_reject",
        },
    },
    "development_task": {
        "assignment_frame": {Outcome.APPROVED: "approve_frame", Outcome.REJECTED: "reject_frame"},
        "at_tss": {
            Outcome.APPROVED: "approve_spreading",
            Outcome.RECOMMENDED: "refer_to_sku",
            Outcome.RETURNED: "tss_return",
            Outcome.REJECTED: "tss_reject",
        },
        "at_sku": {Outcome.APPROVED: "sku_approve", Outcome.REJECTED: "sku_reject"},
    },
    "forum_matter": {
        "in_forum": {Outcome.APPROVED: "decide", Outcome.REJECTED: "reject"},
        "at_tss": {
            Outcome.APPROVED: "tss_decide",
            Outcome.RETURNED: "tss_return_to_forum",
            Outcome.REJECTED: "tss_reject",
        },
    },
    "implementation_plan": {
        "initial_discussion": {Outcome.NOTED: "discuss", Outcome.APPROVED: "discuss"},
        "awaiting_adoption": {Outcome.APPROVED: "adopt", Outcome.RETURNED: "return_to_dialogue"},
        "follow_up": {Outcome.APPROVED: "complete", Outcome.NOTED: "complete"},
    },
}

# Outcomes that need no transition: the case simply stays where it is.
WITHOUT_TRANSITION = frozenset({Outcome.NOTED, Outcome.POSTPONED})


def trigger_for(process: str, state: str, outcome: Outcome) -> str | None:
    """Return the trigger an outcome fires for a case in `state`, or None."""
    return OUTCOME_TRIGGERS.get(process, {}).get(state, {}).get(outcome)


def awaiting_states(process: str) -> frozenset[str]:
    """Return the states of a process in which a case awaits a meeting."""
    return frozenset(OUTCOME_TRIGGERS.get(process, {}))


def possible_outcomes(process: str, state: str) -> list[Outcome]:
    """Return the outcomes that make sense for a case in `state` (always incl. noted/postponed)."""
    mapped = OUTCOME_TRIGGERS.get(process, {}).get(state, {})
    return [o for o in Outcome if o in mapped or o in WITHOUT_TRANSITION]
