"""Objects as JSON, each beside the schema that documents it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Integer, String
from sqlalchemy.orm import Session

from models import (
    AgendaItem,
    Body,
    Case,
    CaseEvent,
    CaseExpense,
    Deadline,
    FocusArea,
    Meeting,
    NationalGoal,
    Notification,
    Party,
)
from workflow.api.problems import request_language
from workflow.api.schema import (
    TEXT_MAX_LENGTH,
    Schema,
    array,
    date_input,
    integer,
    nullable,
    string,
    text,
)
from workflow.api.spec import component
from workflow.cases.queries import case_expenses
from workflow.engine import clock, values
from workflow.engine import core as engine
from workflow.engine.definitions import FieldSpec, ProcessDefinition, TransitionSpec

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
DAY: Schema = {"type": "string", "format": "date"}
STRINGS: Schema = array(STR)


def out(properties: dict[str, Schema], name: str) -> Schema:
    """A response object schema: every listed property is always present."""
    return component(
        name, {"type": "object", "properties": properties, "required": list(properties)}
    )


def maybe(reference: Schema) -> Schema:
    """A referenced schema, or null."""
    return {"anyOf": [reference, {"type": "null"}]}


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with offset (UTC), or None."""
    return moment.isoformat() if moment is not None else None


def iso_date(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


# --- Case fields: typed from the model's columns, so the document follows the schema. ---

CASE_FIELDS = tuple(sorted(engine.EDITABLE_FIELDS))


def case_field_input(name: str) -> Schema:
    """The input schema of an editable case field, from its column."""
    column = Case.__table__.c[name]
    kind = column.type
    schema: Schema
    if isinstance(kind, Boolean):
        schema = {"type": "boolean"}
    elif isinstance(kind, Integer):
        schema = integer(1) if column.foreign_keys else integer(1900, 2200)
    elif isinstance(kind, Date):
        schema = date_input()
    elif isinstance(kind, String) and kind.length is None:
        schema = text()
    elif isinstance(kind, String):
        schema = string(kind.length or TEXT_MAX_LENGTH, 1 if name == "title" else 0)
    else:  # pragma: no cover - a new column type must be described here first
        raise TypeError(f"no schema for {name}: {kind!r}")
    if name == "focus_area_id":
        schema["x-reference"] = "focus_areas"
    return nullable(schema) if column.nullable else schema


def case_field_output(name: str) -> Schema:
    """The output schema of a case field: its JSON type, nullable when the column is."""
    schema: Schema = {"type": case_field_input(name)["type"]}
    if name in ("received_on", "sent_on"):
        schema["format"] = "date"
    return schema


def case_field_value(case: Case, name: str) -> Any:
    value = getattr(case, name)
    return value.isoformat() if isinstance(value, date) else value


NATIONAL_GOAL_IDS = array(
    {**integer(1), "x-reference": "national_goals"}, uniqueItems=True, maxItems=20
)

BODY_REF = out({"id": INT, "code": STR, "name": STR}, "BodyRef")
PARTY_REF = out({"id": INT, "code": STR, "name": STR}, "PartyRef")
AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
EXPENSE = out(
    {
        "party": PARTY_REF,
        "amount_dkk": {"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["250000.00"]},
        "note": STR,
    },
    "Expense",
)


def expense_json(expense: CaseExpense) -> dict[str, Any]:
    """A party's expected extra expense per year; the amount as a decimal string (exact)."""
    party = expense.party
    return {
        "party": {"id": party.id, "code": party.code, "name": party.name},
        "amount_dkk": f"{expense.amount_dkk:.2f}",
        "note": expense.note,
    }


def body_ref(body: Body) -> dict[str, Any]:
    return {"id": body.id, "code": body.code, "name": body.name}


BODY = out(
    {
        "id": INT,
        "code": STR,
        "name": STR,
        "name_en": nullable(STR),
        "kind": STR,
        "parent": nullable(STR),
        "active": BOOL,
        "material_deadline_days": INT,
        "material_deadline_working_days": BOOL,
        "formandskab_decides": BOOL,
    },
    "Body",
)


def body_json(body: Body, today: date) -> dict[str, Any]:
    """A body as the body pages show it: placed under its parent of `today` (a plan applied
    ahead of its effective date keeps the former parent until then)."""
    parent = body.parent_on(today)
    return {
        "id": body.id,
        "code": body.code,
        "name": body.name,
        "name_en": body.name_en,
        "kind": str(body.kind),
        "parent": parent.code if parent is not None else None,
        "active": body.active,
        "material_deadline_days": body.material_deadline_days,
        "material_deadline_working_days": body.material_deadline_working_days,
        "formandskab_decides": body.formandskab_decides,
    }


NATIONAL_GOAL = out(
    {"id": INT, "number": INT, "name": STR, "name_en": nullable(STR)}, "NationalGoal"
)
FOCUS_AREA = out(
    {"id": INT, "code": STR, "name": STR, "name_en": nullable(STR), "period": STR}, "FocusArea"
)
PARTY = out(
    {"id": INT, "code": STR, "name": STR, "kind": STR, "planning_area_id": nullable(INT),
     "active": BOOL},
    "Party",
)  # fmt: skip


def national_goal_json(goal: NationalGoal) -> dict[str, Any]:
    return {"id": goal.id, "number": goal.number, "name": goal.name, "name_en": goal.name_en}


def focus_area_json(area: FocusArea) -> dict[str, Any]:
    return {
        "id": area.id,
        "code": area.code,
        "name": area.name,
        "name_en": area.name_en,
        "period": area.period,
    }


def party_json(party: Party) -> dict[str, Any]:
    return {
        "id": party.id,
        "code": party.code,
        "name": party.name,
        "kind": party.kind.value,
        "planning_area_id": party.planning_area_id,
        "active": party.active,
    }


FIELD_SPEC = out(
    {"name": STR, "type": STR, "required": BOOL, "label": STR, "label_en": STR, "choices": STRINGS},
    "FieldSpec",
)


def field_json(spec: FieldSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "type": spec.type,
        "required": spec.required,
        "label": spec.label,
        "label_en": spec.label_en,
        "choices": list(spec.choices),
    }


ALLOWED_TRIGGER = out(
    {
        "trigger": STR,
        "label": STR,
        "label_en": STR,
        "dest": STR,
        "decision": BOOL,
        "as_chair": BOOL,
        "needs_meeting": BOOL,
        "fields": array(FIELD_SPEC),
    },
    "AllowedTrigger",
)


def allowed_json(session: Session, case: Case, actor: Any) -> list[dict[str, Any]]:
    """The caller's possible actions now, as the engine sees them."""
    found = []
    for transition in engine.allowed_triggers(case, actor):
        permission = engine.find_permission(session, case, transition, actor)
        as_chair = permission is not None and permission.as_chair
        found.append(
            {
                "trigger": transition.trigger,
                "label": transition.label,
                "label_en": transition.label_en,
                "dest": transition.dest,
                "decision": transition.decision,
                "as_chair": as_chair,
                "needs_meeting": transition.decision and not as_chair,
                "fields": [field_json(f) for f in transition.fields],
            }
        )
    return found


DEADLINE = out(
    {
        "id": INT,
        "kind": STR,
        "state": STR,
        "due_at": TIME,
        "body": nullable(STR),
        "meeting_id": nullable(INT),
        "escalation_level": INT,
        "overdue": BOOL,
    },
    "Deadline",
)


def deadline_json(deadline: Deadline, codes: dict[int, str]) -> dict[str, Any]:
    return {
        "id": deadline.id,
        "kind": str(deadline.kind),
        "state": deadline.state,
        "due_at": iso(deadline.due_at),
        "body": codes.get(deadline.body_id) if deadline.body_id else None,
        "meeting_id": deadline.meeting_id,
        "escalation_level": deadline.escalation_level,
        "overdue": deadline.due_at < clock.now(),
    }


GOAL_REF = out({"id": INT, "number": INT, "name": STR}, "NationalGoalRef")
FOCUS_REF = out({"id": INT, "code": STR, "name": STR}, "FocusAreaRef")

CASE_SUMMARY_PROPERTIES: dict[str, Schema] = {
    "id": INT,
    "process": STR,
    "process_version": INT,
    "process_title": STR,
    "state": STR,
    "state_label": STR,
    "state_label_en": STR,
    "final": BOOL,
    "version": INT,
    "title": STR,
    "originating_body": BODY_REF,
    "current_body": BODY_REF,
    "focus_area_id": nullable(INT),
    "created_at": TIME,
    "updated_at": TIME,
    "state_entered_at": TIME,
    "next_deadline": nullable(TIME),
}
CASE_SUMMARY = out(CASE_SUMMARY_PROPERTIES, "CaseSummary")


def case_summary(
    case: Case, definition: ProcessDefinition, next_deadline: datetime | None
) -> dict[str, Any]:
    state = definition.states[case.state]
    return {
        "id": case.id,
        "process": case.process,
        "process_version": case.process_version,
        "process_title": definition.title,
        "state": case.state,
        "state_label": state.label,
        "state_label_en": state.label_en,
        "final": state.final,
        "version": case.version,
        "title": case.title,
        "originating_body": body_ref(case.originating_body),
        "current_body": body_ref(case.current_body),
        "focus_area_id": case.focus_area_id,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
        "state_entered_at": iso(case.state_entered_at),
        "next_deadline": iso(next_deadline),
    }


CASE = out(
    {
        **CASE_SUMMARY_PROPERTIES,
        "fields": component(
            "CaseFields",
            {
                "type": "object",
                "properties": {name: case_field_output(name) for name in CASE_FIELDS},
                "required": list(CASE_FIELDS),
            },
        ),
        "focus_area": maybe(FOCUS_REF),
        "national_goals": array(GOAL_REF),
        "extra": {"type": "object", "description": "Values captured by transitions' fields."},
        "expenses": {
            **array(EXPENSE),
            "description": "Parternes forventede merudgift pr. år (finansieringsreglen læser dem).",
        },
        "deadlines": array(DEADLINE),
        "allowed_triggers": array(ALLOWED_TRIGGER),
    },
    "Case",
)


def case_json(
    session: Session, case: Case, actor: Any, deadlines: list[Deadline], codes: dict[int, str]
) -> dict[str, Any]:
    """A case with its fields, deadlines and what the caller may do now."""
    definition = engine.definition_of(case)
    upcoming = min((d.due_at for d in deadlines), default=None)
    focus = case.focus_area
    return {
        **case_summary(case, definition, upcoming),
        "fields": {name: case_field_value(case, name) for name in CASE_FIELDS},
        "focus_area": {"id": focus.id, "code": focus.code, "name": focus.name} if focus else None,
        "national_goals": [
            {"id": g.id, "number": g.number, "name": g.name} for g in case.national_goals
        ],
        "extra": case.extra or {},
        "expenses": [expense_json(e) for e in case_expenses(session, case)],
        "deadlines": [deadline_json(d, codes) for d in deadlines],
        "allowed_triggers": allowed_json(session, case, actor),
    }


EVENT = out(
    {
        "seq": INT,
        "trigger": STR,
        "from_state": nullable(STR),
        "to_state": STR,
        "actor": maybe(component("UserRef", {
            "type": "object",
            "properties": {"id": INT, "name": STR},
            "required": ["id", "name"],
        })),
        "comment": STR,
        "data": {"type": "object"},
        "meeting_id": nullable(INT),
        "created_at": TIME,
        "hash": STR,
    },
    "Event",
)  # fmt: skip


def event_json(event: CaseEvent) -> dict[str, Any]:
    actor = event.actor
    return {
        "seq": event.seq,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": {"id": actor.id, "name": actor.name} if actor is not None else None,
        "comment": event.comment,
        "data": event.data or {},
        "meeting_id": event.meeting_id,
        "created_at": iso(event.created_at),
        "hash": event.hash,
    }


TRANSITION_RESULT = out(
    {
        "case_id": INT,
        "state": STR,
        "state_label": STR,
        "state_label_en": STR,
        "version": INT,
        "current_body": BODY_REF,
        "event": EVENT,
        "routed": {
            **array(EVENT),
            "description": "Flytninger, motoren selv foretog bagefter efter processens regler; "
            "'comment' er reglens begrundelse, 'data.reason_en' den engelske.",
        },
        "allowed_triggers": array(ALLOWED_TRIGGER),
    },
    "TransitionResult",
)


MEETING_PROPERTIES: dict[str, Schema] = {
    "id": INT,
    "body": BODY_REF,
    "title": STR,
    "starts_at": TIME,
    "ends_at": nullable(TIME),
    "location": STR,
    "online_url": nullable(STR),
    "status": STR,
}
MEETING_SUMMARY = out(MEETING_PROPERTIES, "MeetingSummary")
AGENDA_ITEM = out(
    {
        "id": INT,
        "position": INT,
        "title": STR,
        "kind": STR,
        "case_id": nullable(INT),
        "closed": BOOL,
        "outcome": nullable(STR),
    },
    "AgendaItem",
)
MEETING = out({**MEETING_PROPERTIES, "items": array(AGENDA_ITEM)}, "Meeting")


def meeting_summary(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "body": body_ref(meeting.body),
        "title": meeting.title,
        "starts_at": iso(meeting.starts_at),
        "ends_at": iso(meeting.ends_at),
        "location": meeting.location,
        "online_url": values.safe_link(meeting.online_url),
        "status": str(meeting.status),
    }


def agenda_item_json(item: AgendaItem, *, sees_closed: bool, sees_case: bool) -> dict[str, Any]:
    """An agenda item as the caller may read it (both decided by workflow.policy).

    A closed item is given to a caller who is no member of the meeting's body
    (`view_closed_items`) in its public edition, as the meeting page and the public agenda
    documents give it: its title, no case and no outcome. An item names its case only to a
    caller who may see that case (as the page links it).
    """
    public = item.closed and not sees_closed
    return {
        "id": item.id,
        "position": item.position,
        "title": item.title,
        "kind": str(item.kind),
        "case_id": item.case_id if sees_case and not public else None,
        "closed": item.closed,
        "outcome": None if public else item.outcome,
    }


# A notification's text in the reader's language, as /notifications and /me/notifications give
# it (both publish their items as "Notification").
NOTIFICATION_TEXT: dict[str, Schema] = {
    "subject": {
        **STR,
        "description": (
            "Emnet på kalderens sprog (Accept-Language da eller en; ellers tokenets brugers "
            "sprog; ellers dansk). En besked skrevet før beskeder fik engelsk tekst, er altid "
            "på dansk: se `language`."
        ),
    },
    "body": {**STR, "description": "Teksten, på samme sprog som `subject`."},
    "language": {
        "type": "string",
        "enum": ["da", "en"],
        "description": "Sproget, `subject` og `body` er skrevet på.",
    },
}


def notification_text(notification: Notification) -> dict[str, str]:
    """The notification's subject and body in the request's language (the Danish, if it has
    no English), and which language that is."""
    language = "en" if notification.in_english(request_language()) else "da"
    return {
        "subject": notification.subject_in(language),
        "body": notification.body_in(language),
        "language": language,
    }


NOTIFICATION = out(
    {
        "id": INT,
        "kind": STR,
        **NOTIFICATION_TEXT,
        "case_id": nullable(INT),
        "created_at": TIME,
        "sent_at": nullable(TIME),
        "read_at": nullable(TIME),
    },
    "Notification",
)


def notification_json(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        **notification_text(notification),
        "case_id": notification.case_id,
        "created_at": iso(notification.created_at),
        "sent_at": iso(notification.sent_at),
        "read_at": iso(notification.read_at),
    }


PROCESS_SUMMARY_PROPERTIES: dict[str, Schema] = {
    "name": STR,
    "version": INT,
    "title": STR,
    "title_en": STR,
    "description": STR,
    "initial": STR,
}
PROCESS_SUMMARY = out(PROCESS_SUMMARY_PROPERTIES, "ProcessSummary")
STATE = out(
    {
        "name": STR,
        "label": STR,
        "label_en": STR,
        "body": STR,
        "final": BOOL,
        "deadline": nullable({"type": "object"}),
        "reminders": array(INT),
        "description": STR,
    },
    "State",
)
TRANSITION = out(
    {
        "trigger": STR,
        "sources": STRINGS,
        "dest": STR,
        "label": STR,
        "label_en": STR,
        "allowed": STRINGS,
        "guards": STRINGS,
        "fields": array(FIELD_SPEC),
        "decision": BOOL,
        "inform": STRINGS,
        "clears_escalation": BOOL,
        "automatic_only": BOOL,
        # Only records (a self-loop): the case does not enter its state again.
        "records_only": BOOL,
        "description": STR,
    },
    "Transition",
)
PROCESS = out(
    {
        **PROCESS_SUMMARY_PROPERTIES,
        "sha256": STR,
        "escalation_days": INT,
        "follow_up_months": INT,
        "rules": STRINGS,
        "states": array(STATE),
        "transitions": array(TRANSITION),
        "routes": array(
            component("Route", {
                "type": "object",
                "properties": {
                    "state": STR, "when": STR, "trigger": STR, "reason": STR, "reason_en": STR,
                },
                "required": ["state", "when", "trigger", "reason", "reason_en"],
            })
        ),
    },
    "Process",
)  # fmt: skip


def process_summary(definition: ProcessDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "version": definition.version,
        "title": definition.title,
        "title_en": definition.title_en,
        "description": definition.description,
        "initial": definition.initial,
    }


def transition_json(t: TransitionSpec) -> dict[str, Any]:
    return {
        "trigger": t.trigger,
        "sources": list(t.sources),
        "dest": t.dest,
        "label": t.label,
        "label_en": t.label_en,
        "allowed": [str(r) for r in t.allowed],
        "guards": list(t.guards),
        "fields": [field_json(f) for f in t.fields],
        "decision": t.decision,
        "inform": list(t.inform),
        "clears_escalation": t.clears_escalation,
        "automatic_only": t.automatic_only,
        "records_only": t.records_only,
        "description": t.description,
    }


def process_json(definition: ProcessDefinition) -> dict[str, Any]:
    """The whole definition: states, transitions (who may, guards, fields) and routes."""
    states = []
    for s in definition.states.values():
        deadline = None
        if s.deadline is not None:
            d = s.deadline
            deadline = {
                "kind": d.kind, "days": d.days, "field": d.field,
                "month_day": d.month_day, "year_offset": d.year_offset,
            }  # fmt: skip
        states.append(
            {
                "name": s.name,
                "label": s.label,
                "label_en": s.label_en,
                "body": s.body,
                "final": s.final,
                "deadline": deadline,
                "reminders": list(s.reminders),
                "description": s.description,
            }
        )
    return {
        **process_summary(definition),
        "sha256": definition.sha256,
        "escalation_days": definition.escalation_days,
        "follow_up_months": definition.follow_up_months,
        "rules": list(definition.rules),
        "states": states,
        "transitions": [transition_json(t) for t in definition.transitions],
        "routes": [
            {"state": r.state, "when": r.when, "trigger": r.trigger, "reason": r.reason,
             "reason_en": r.reason_en}
            for r in definition.routes
        ],
    }  # fmt: skip


def page(items_schema: Schema, name: str) -> Schema:
    """A page of a cursor-paginated list."""
    return out({"items": array(items_schema), "next_cursor": nullable(STR)}, name)
