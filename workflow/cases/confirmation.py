"""The confirmation step before an irreversible case action (`confirm = true` in states/*.toml).

The first post of such an action shows what will happen and carries the user's input on in
hidden fields; only the post that says `confirmed` fires it. Plain forms: no JavaScript needed.
The expected version travels with the input, so a change made meanwhile is still a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import Case, Meeting, User
from workflow.cases.forms import ALL_ANSWERED_FIELD, COMMENT_FIELD, MEETING_FIELD, ActionForm
from workflow.engine import core as engine
from workflow.engine import values
from workflow.engine.processes import registry
from workflow.web.i18n import _, format_datetime, label, meeting_title

CONFIRMED_FIELD = "confirmed"
CONFIRMED_VALUE = "ja"


def needs_confirmation(session: Session, case: Case, trigger: str) -> bool:
    """Ask when the case's own version or the newest one marks the action irreversible."""
    own = engine.definition_of(case).transition(trigger)
    newest = registry.latest(session, case.process).transition(trigger)
    return any(t is not None and t.confirm for t in (own, newest))


def is_confirmed(submitted: Mapping[str, str]) -> bool:
    return submitted.get(CONFIRMED_FIELD) == CONFIRMED_VALUE


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page says will happen, and the input it posts on."""

    form: ActionForm
    from_state: str
    to_state: str
    facts: list[tuple[str, str]]
    informed: list[str]
    carried: list[tuple[str, str]]
    # The first co-chair's decision between meetings is a proposal to the chairmanship.
    proposal: bool = False


def _meeting_words(session: Session, raw: str) -> str:
    meeting_id = values.parse_id(raw)
    meeting = session.get(Meeting, meeting_id) if meeting_id is not None else None
    if meeting is None:
        return raw
    return f"{meeting_title(meeting)} – {format_datetime(meeting.starts_at)}"


def build(
    session: Session,
    case: Case,
    form: ActionForm,
    raw: dict[str, str],
    actor: User | None = None,
) -> Confirmation:
    """Describe the action the user is about to take, with the values they gave."""
    definition = engine.definition_of(case)
    transition = form.transition
    facts: list[tuple[str, str]] = []
    carried: list[tuple[str, str]] = []
    for action_field in form.fields:
        value = raw.get(action_field.name, "")
        if action_field.kind == "bool":
            if value:
                carried.append((action_field.name, value))
                facts.append((action_field.label, _("Ja")))
            continue
        carried.append((action_field.name, value))
        if action_field.name == MEETING_FIELD:
            shown = (
                _meeting_words(session, value)
                if value.strip()
                else _("Intet møde – forslag til formandskabet, som beslutter på organets vegne")
            )
            facts.append((action_field.label, shown))
        elif value.strip():
            chosen = next((o.label for o in action_field.options if o.value == value), value)
            facts.append((action_field.label, chosen))
        elif action_field.name not in (COMMENT_FIELD, ALL_ANSWERED_FIELD):
            facts.append((action_field.label, _("Ikke udfyldt")))
    return Confirmation(
        form=form,
        from_state=label(definition.states[case.state]),
        to_state=label(definition.states[transition.dest]),
        facts=facts,
        informed=list(transition.inform),
        carried=carried,
        proposal=engine.would_propose(
            case, transition.trigger, actor, {MEETING_FIELD: raw.get(MEETING_FIELD, "").strip()}
        ),
    )
