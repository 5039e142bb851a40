"""A meeting's statuses and history entries named in the reader's language, never as keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from workflow.meetings import lifecycle
from workflow.meetings.outcomes import Outcome
from workflow.web.i18n import _l, label

# The history's own actions; the lifecycle's steps are named by their definition labels.
HISTORY_LABELS: dict[str, str] = {
    "planned": _l("Mødet er planlagt"),
    "details_changed": _l("Mødets oplysninger er ændret"),
    "moved": _l("Mødet er flyttet"),
    "cancelled": _l("Mødet er aflyst"),
    "cancel": _l("Mødet er aflyst"),
    "item_added": _l("Punkt tilføjet dagsordenen"),
    "item_changed": _l("Punkt på dagsordenen ændret"),
    "item_removed": _l("Punkt fjernet fra dagsordenen"),
    "item_moved": _l("Punkt flyttet på dagsordenen"),
    "outcome_recorded": _l("Beslutning registreret"),
    "send_for_review": _l("Dagsordenen er sendt til formandskabet"),
    "return_to_draft": _l("Dagsordenen er sendt tilbage til sekretariatet"),
    "publish": _l("Dagsordenen er udsendt"),
    "hold": _l("Mødet er registreret som afholdt"),
    "approve_minutes": _l("Referatet er godkendt"),
    "close": _l("Mødet er afsluttet"),
    "reopen": _l("Mødet er genåbnet"),
    "attendance_recorded": _l("Fremmødet er registreret"),
    "participant_approved_minutes": _l("En deltager har godkendt referatet"),
}


def history_label(action: str) -> str:
    """Name a history entry's action: its own label, the step's label, or a plain word."""
    if action in HISTORY_LABELS:
        return str(HISTORY_LABELS[action])
    transition = lifecycle.definition().transition(action)
    if transition is not None:
        return label(transition)
    # An action added later without a label still must not show its key.
    return str(_l("Mødet er ændret"))


class StatusLabels(Mapping[str, str]):
    """Each meeting status's label in the reader's language, from the definition."""

    def __getitem__(self, status: str) -> str:
        return label(lifecycle.definition().states[str(status)])

    def __iter__(self) -> Iterator[str]:
        return iter(lifecycle.definition().states)

    def __len__(self) -> int:
        return len(lifecycle.definition().states)


STATUS_LABELS: Mapping[str, str] = StatusLabels()


# The outcomes as pages show them; outcomes.OUTCOME_LABELS stays the Danish of the minutes.
OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.APPROVED: _l("Godkendt"),
    Outcome.RECOMMENDED: _l("Indstillet til videre behandling"),
    Outcome.RETURNED: _l("Sendt tilbage"),
    Outcome.REJECTED: _l("Afvist"),
    Outcome.POSTPONED: _l("Udsat"),
    Outcome.NOTED: _l("Taget til efterretning"),
}
