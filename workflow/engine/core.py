"""The engine: the one place a case's state changes.

`perform()` checks the trigger, the version, the actor's permission, the declared fields and
the guards; then applies the transition on the process's shared machine, writes the audit
event, recomputes deadlines, follows automatic routes and enqueues notifications — in one
database transaction. On any failure nothing is written and the case is as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast
from weakref import WeakSet

from sqlalchemy import Table, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    GENESIS_HASH,
    Body,
    BodyKind,
    BodySuccession,
    Case,
    CaseEvent,
    CaseExpense,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingStatus,
    Membership,
    Notification,
    Role,
    User,
    WebhookSubscription,
)
from workflow.engine import (
    access,
    actions,
    admin_audit,
    clock,
    deadlines,
    formandskab,
    formats,
    metrics,
    request_id,
    session_cache,
)
from workflow.engine import notices as notifications
from workflow.engine import values as boundary
from workflow.engine.audit_key import load_key
from workflow.engine.calendar import local_date
from workflow.engine.chain import case_event_hash, seal_case_event
from workflow.engine.definitions import FieldSpec, ProcessDefinition, RoleRef, TransitionSpec
from workflow.engine.errors import Conflict, GuardFailed, InvalidTrigger, NotAllowed
from workflow.engine.guards import GUARDS, PREDICATES, Failure, GuardContext
from workflow.engine.localtime import format_datetime
from workflow.engine.mail_text import labelled
from workflow.engine.processes import registry
from workflow.engine.unit_of_work import case_conflict, unit_of_work

# Data keys the engine itself understands, beside the fields a transition declares.
ENGINE_DATA_KEYS = frozenset({"meeting_id", "all_answered"})

ROLE_MATCHES: dict[str, frozenset[Role]] = {
    "chair": frozenset({Role.CHAIR, Role.VICE_CHAIR}),
    "vice_chair": frozenset({Role.VICE_CHAIR}),
    "member": frozenset({Role.CHAIR, Role.VICE_CHAIR, Role.MEMBER, Role.SECRETARIAT}),
    "secretariat": frozenset({Role.SECRETARIAT}),
    "observer": frozenset({Role.OBSERVER}),
}
ROLE_PRECEDENCE = {"chair": 0, "vice_chair": 0, "secretariat": 1, "member": 2, "observer": 3}
ROLE_WORDS = {
    "chair": ("formandskabet for {}", "the chairs of {}"),
    "vice_chair": ("næstformanden for {}", "the vice chair of {}"),
    "member": ("medlemmer af {}", "members of {}"),
    "secretariat": ("sekretariatet for {}", "the secretariat of {}"),
    "observer": ("observatører i {}", "observers in {}"),
}
EDITABLE_FIELDS = frozenset(
    {
        "title", "summary", "focus_area_id", "plan_year", "principled", "political",
        "interface_change", "cost_driving", "large_task", "business_case", "financing_proposal",
        "role_distribution", "general_practice_role", "triple_aim_quality", "triple_aim_economy",
        "triple_aim_experience", "triple_aim_population", "esdh_case_number", "received_on",
        "sent_on", "journal_description",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Permission:
    """The role through which an actor may fire a transition."""

    role: RoleRef
    body_id: int | None

    @property
    def as_chair(self) -> bool:
        return self.role.role in ("chair", "vice_chair")


def _session(case: Case) -> Session:
    session = object_session(case)
    if session is None:
        raise ValueError("the case must belong to a session")
    return session


def definition_of(case: Case) -> ProcessDefinition:
    """Return the definition version the case follows."""
    return registry.get(_session(case), case.process, case.process_version)


def declarations_of(case: Case) -> ProcessDefinition:
    """Return the definition whose meeting outcomes, implementation and plan year the case has.

    Its own version, or the newest for a version stored before definitions declared them.
    """
    return registry.declaring(_session(case), definition_of(case))


def body_by_code(session: Session, code: str) -> Body:
    """Return the body with `code`, or explain that the organisation must be seeded."""
    body = session_cache.cached(
        session, ("body", code), lambda: session.scalar(select(Body).where(Body.code == code))
    )
    if body is None:
        raise LookupError(
            f"Organet '{code}' findes ikke. Kør 'aftaleflow seed' for at oprette organisationen."
        )
    return body


def pick_successor(
    session: Session, case: Case, candidates: Sequence[Body], day: date | None = None
) -> Body:
    """Which of a closed body's successors takes `case` over on `day` (today by default).

    The body that already holds or raised it; else the one in the line of parents of the body
    that raised it (as placed on `day`; as applied, for today's work), e.g. a samordningsudvalg
    placed under its sundhedsråd; else the one of the raising body's planning area; else the
    first successor named (the plan's default).
    """
    by_id = {body.id: body for body in candidates}
    for held in (case.current_body_id, case.originating_body_id):
        if held in by_id:
            return by_id[held]
    origin = session.get(Body, case.originating_body_id)
    node, seen = origin, set[int]()
    while node is not None and node.id not in seen:
        if node.id in by_id:
            return by_id[node.id]
        seen.add(node.id)
        node = node.parent_on(day)  # today's work: the parents as applied
    area = origin.planning_area_id if origin is not None else None
    same_area = [body for body in candidates if area is not None and body.planning_area_id == area]
    return same_area[0] if same_area else candidates[0]


def closed_on(body: Body, day: date | None) -> bool:
    """Whether `body` has handed its work over on `day`.

    A body is closed from the day after its last day (`valid_to`): on its own days it is
    itself, so history before a reorganisation shows the old body (a case decided in 2021 still
    shows SKU). `day=None` is today's work: a body that an applied reorganisation has closed
    ahead of its date (inactive) is closed already, because its open cases and memberships
    moved when the plan was applied. An inactive body without a last day is closed on any day.
    """
    if day is None:
        return not body.active or (
            body.valid_to is not None and body.valid_to < local_date(clock.now())
        )
    if body.valid_to is not None:
        return body.valid_to < day
    return not body.active


def body_now(
    session: Session, code: str, case: Case | None = None, day: date | None = None
) -> Body:
    """The body that does the work of the body with `code` on `day` (today's work by
    default): the body itself while it exists, else its successor after a reorganisation,
    chosen for `case` as `successor_for` does, or without a case the first successor the plan
    named (its default). Code that must name a body of the agreement ("TSS" for the
    implementation plan, the escalation's last resort) asks here, so it follows the
    organisation's data; a day before the reorganisation's effective date names the old body."""
    if case is not None:
        return named_body(session, case, code, day)
    body = body_by_code(session, code)
    seen: set[int] = set()
    while closed_on(body, day) and body.id not in seen:
        seen.add(body.id)
        first = session.scalar(
            select(Body)
            .join(BodySuccession, BodySuccession.successor_id == Body.id)
            .where(BodySuccession.predecessor_id == body.id)
            .order_by(BodySuccession.id)
            .limit(1)
        )
        if first is None:
            break
        body = first
    return body


def successor_for(session: Session, case: Case, body: Body, day: date | None = None) -> Body:
    """The body that does `body`'s work for `case` on `day` (today's work by default).

    Process definitions name bodies by code ("TSS", "SKU"); when the organisation closes such
    a body (a reorganisation), its successors (body_successions) take over from the day after
    its last day, so the same definitions run in the new structure, while a day before it
    (a milestone, a decision in 2021) still names the body itself (`closed_on`). A body
    without successors is itself, whatever its dates.
    """
    seen: set[int] = set()
    while closed_on(body, day) and body.id not in seen:
        seen.add(body.id)
        candidates = session.scalars(
            select(Body)
            .join(BodySuccession, BodySuccession.successor_id == Body.id)
            .where(BodySuccession.predecessor_id == body.id)
            .order_by(BodySuccession.id)
        ).all()
        if not candidates:
            break
        body = pick_successor(session, case, candidates, day)
    return body


def named_body(session: Session, case: Case, code: str, day: date | None = None) -> Body:
    """The body that a code named by the case's definition ("SKU", "TSS") stands for, for
    `case` on `day` (today's work by default).

    Where the definition names the body by its kind (`[body_kinds] SKU = "political"`), the
    organisation answers: the body holding the case in a state of that body, if it is of the
    kind and open on the day; else the first body of the kind in the line of parents above
    the body that raised the case, as placed on the day. Only where the structure names none
    (a body raised the case outside the line, or the line has no such body) is it the named
    body itself, or its successor once it has closed (`successor_for`).
    """
    kind = _definition_in(session, case).body_kinds.get(code)
    if kind is not None:
        found = _body_of_kind(session, case, code, kind, day)
        if found is not None:
            return found
    return successor_for(session, case, body_by_code(session, code), day)


def _serves_on(body: Body, day: date | None) -> bool:
    """Whether `body` does its own work on `day`: begun and not closed (today's work: not
    closed, so the bodies of a plan applied ahead of its date serve at once)."""
    begun = day is None or body.valid_from is None or body.valid_from <= day
    return begun and not closed_on(body, day)


def _definition_in(session: Session, case: Case) -> ProcessDefinition:
    """The case's definition, also for a case not yet added to the session (a new case)."""
    if case.process_version is None:
        return registry.latest(session, case.process)
    return registry.get(session, case.process, case.process_version)


def _body_of_kind(
    session: Session, case: Case, code: str, kind: str, day: date | None
) -> Body | None:
    state = _definition_in(session, case).states.get(case.state)
    if state is not None and state.body == code and case.current_body_id is not None:
        held = session.get(Body, case.current_body_id)
        if held is not None and held.kind == kind and _serves_on(held, day):
            return held
    # Today's work (no day): the parents as applied, like the closures (`closed_on`).
    origin = session.get(Body, case.originating_body_id) if case.originating_body_id else None
    node = origin.parent_on(day) if origin is not None else None
    seen: set[int] = set()
    while node is not None and node.id not in seen:
        if node.kind == kind and _serves_on(node, day):
            return node
        seen.add(node.id)
        node = node.parent_on(day)
    return None


def _named_body(session: Session, case: Case, code: str) -> Body:
    return named_body(session, case, code)


def _ref_body_id(session: Session, case: Case, ref: str) -> int:
    if ref == "current":
        return case.current_body_id
    if ref == "originating":
        return case.originating_body_id
    return _named_body(session, case, ref).id


def _body_code(session: Session, body_id: int) -> str:
    body = session.get(Body, body_id)
    return body.code if body else str(body_id)


def _ref_body_code(session: Session, case: Case, ref: str) -> str:
    return _body_code(session, _ref_body_id(session, case, ref))


def describe_roles(session: Session, case: Case, roles: tuple[RoleRef, ...]) -> tuple[str, str]:
    """Say in Danish and English who holds `roles` for this case."""
    danish: list[str] = []
    english: list[str] = []
    for ref in roles:
        if ref.role == "admin":
            danish.append("administratorer")
            english.append("administrators")
            continue
        code = _ref_body_code(session, case, ref.body)
        da, en = ROLE_WORDS[ref.role]
        danish.append(da.format(code))
        english.append(en.format(code))
    return " eller ".join(danish), " or ".join(english)


# Statements every transition runs, built once: building and keying a statement costs more
# Python than SQLite takes to run it. Of the tables' columns, not the mapped attributes, run
# by session_cache.read (autoflush first): half the Python of a read of mapped attributes.
_MEMBERSHIPS = Membership.__table__.c
_MEMBERSHIPS_OF_USER = select(_MEMBERSHIPS.body_id, _MEMBERSHIPS.role).where(
    _MEMBERSHIPS.user_id == bindparam("user_id"), _MEMBERSHIPS.active.is_(True)
)
_CASE_EVENTS = CaseEvent.__table__.c
# The chain's head, and whether any webhook subscription is active: one statement, read in
# the transaction that writes the event, instead of a second read of the subscriptions in the
# webhook outbox's flush listener for every event when (as mostly) no one subscribes.
_CHAIN_HEAD = (
    select(
        _CASE_EVENTS.seq,
        _CASE_EVENTS.hash,
        exists().where(WebhookSubscription.__table__.c.deleted_at.is_(None)).label("subscribed"),
    )
    .where(_CASE_EVENTS.case_id == bindparam("case_id"))
    .order_by(_CASE_EVENTS.seq.desc())
    .limit(1)
)
# The events sealed while no subscription was active (see sealed_unsubscribed).
_UNSUBSCRIBED = "engine.events_sealed_unsubscribed"


def sealed_unsubscribed(session: Session, event: CaseEvent) -> bool:
    """Whether `event` was sealed, in this session's transaction, when no webhook subscription
    was active: its chain head was read together with the subscriptions' existence."""
    marked: WeakSet[CaseEvent] | None = session.info.get(_UNSUBSCRIBED)
    return marked is not None and event in marked


def _memberships(session: Session, actor: User) -> frozenset[tuple[int, Role]]:
    def load() -> frozenset[tuple[int, Role]]:
        rows = session_cache.read(session, _MEMBERSHIPS_OF_USER, {"user_id": actor.id})
        return frozenset((body_id, role) for body_id, role in rows)

    return session_cache.cached(session, ("memberships", actor.id), load)


def find_permission(
    session: Session, case: Case, transition: TransitionSpec, actor: User | None
) -> Permission | None:
    """Return how `actor` may fire `transition` (chairs first), or None."""
    if actor is None or not actor.active or transition.automatic_only:
        return None
    held = _memberships(session, actor)
    matches: list[Permission] = []
    for ref in transition.allowed:
        if ref.role == "admin":
            if actor.is_admin:
                matches.append(Permission(ref, None))
            continue
        body_id = _ref_body_id(session, case, ref.body)
        if any((body_id, role) in held for role in ROLE_MATCHES[ref.role]):
            matches.append(Permission(ref, body_id))
    # The most specific role names how the actor acted: chairs, then the secretariat.
    matches.sort(key=lambda p: ROLE_PRECEDENCE.get(p.role.role, len(ROLE_PRECEDENCE)))
    return matches[0] if matches else None


def holders(session: Session, case: Case, transition: TransitionSpec) -> list[Permission]:
    """The body roles that may fire `transition` on the case now (administrators aside)."""
    if transition.automatic_only:
        return []
    return [
        Permission(ref, _ref_body_id(session, case, ref.body))
        for ref in transition.allowed
        if ref.role != "admin"
    ]


def _transition_for(definition: ProcessDefinition, case: Case, trigger: str) -> TransitionSpec:
    valid = [t.trigger for t in definition.transitions_from(case.state) if not t.automatic_only]
    transition = definition.transition(trigger)
    if transition is None or case.state not in transition.sources or transition.automatic_only:
        state = definition.states[case.state]
        what = "findes ikke i processen" if transition is None else "er ikke mulig nu"
        listed = ", ".join(valid) if valid else "ingen (sluttilstand)"
        raise InvalidTrigger(
            f"Handlingen '{trigger}' {what}: sagen er i tilstanden '{state.label}'. "
            f"Mulige handlinger nu: {listed}.",
            f"The action '{trigger}' is not possible in state '{state.label_en}'. "
            f"Valid now: {', '.join(valid) or 'none (final state)'}.",
            valid,
        )
    return transition


def _field_failure(spec: FieldSpec, problem_da: str, problem_en: str) -> Failure:
    return Failure(
        f"field:{spec.name}",
        f"Feltet '{spec.label}' {problem_da}.",
        f"The field '{spec.label_en}' {problem_en}.",
    )


def _coerce(spec: FieldSpec, value: Any) -> tuple[Any, Failure | None]:
    """Return the value in its stored (JSON) form, or a failure that explains the problem."""
    try:
        if spec.type == "date":
            try:
                parsed = value if isinstance(value, date) else boundary.iso_date(str(value))
            except boundary.InvalidValue:
                raise ValueError(value) from None  # said as "must be a date" below
            return boundary.within_calendar(parsed).isoformat(), None
        if spec.type == "meeting":
            if not boundary.is_record_id(value):
                raise ValueError(value)
            return int(value), None
        if spec.type == "int":
            if isinstance(value, bool) or not -boundary.ID_MAX <= int(value) <= boundary.ID_MAX:
                raise ValueError
            return int(value), None
        if spec.type == "bool":
            if isinstance(value, bool):
                return value, None
            if str(value).lower() in ("true", "1", "ja", "yes", "on"):
                return True, None
            if str(value).lower() in ("false", "0", "nej", "no", "off"):
                return False, None
            raise ValueError
        if spec.type == "body":
            code = str(value).strip().upper()
            if not code or len(code) > BODY_CODE_MAX:
                raise ValueError(value)
            return code, None
        if spec.type == "choice" and str(value) not in spec.choices:
            return None, _field_failure(
                spec,
                f"skal være en af: {', '.join(spec.choices)}",
                f"must be one of: {', '.join(spec.choices)}",
            )
        return boundary.long_text(str(value)).strip(), None
    except boundary.InvalidValue as problem:
        return None, Failure(
            f"field:{spec.name}",
            f"{spec.label}: {problem.message_da}",
            f"{spec.label_en}: {problem.message_en}",
        )
    except (TypeError, ValueError, OverflowError):
        formats = {
            "date": ("en dato (ÅÅÅÅ-MM-DD)", "a date (YYYY-MM-DD)"),
            "body": ("et organs kode", "a body's code"),
        }
        da, en = formats.get(spec.type, ("et heltal", "a whole number"))
        if spec.type == "bool":
            da, en = "ja eller nej", "yes or no"
        return None, _field_failure(spec, f"skal være {da}", f"must be {en}")


ALL_ANSWERED = FieldSpec(
    "all_answered", "bool", False, "Alle parter har svaret", "All parties have answered"
)


def _validate_fields(
    transition: TransitionSpec, comment: str | None, data: dict[str, Any]
) -> tuple[dict[str, Any], list[Failure]]:
    """Check and coerce the submitted fields; `data['all_answered']` becomes a real bool."""
    failures: list[Failure] = []
    values: dict[str, Any] = {}
    if data.get("all_answered") is not None:
        # A form sends "false" or "nej" as text: read it as the bool it means.
        answered, failure = _coerce(ALL_ANSWERED, data["all_answered"])
        if failure is not None:
            failures.append(failure)
            data.pop("all_answered")
        else:
            data["all_answered"] = answered
    if comment:
        try:
            boundary.long_text(comment)
        except boundary.InvalidValue as problem:
            failures.append(Failure("field:comment", problem.message_da, problem.message_en))
    declared = {spec.name for spec in transition.fields}
    for key in sorted(set(data) - declared - ENGINE_DATA_KEYS):
        failures.append(
            Failure(
                f"field:{key}",
                f"Feltet '{key}' hører ikke til handlingen '{transition.label}'.",
                f"The field '{key}' does not belong to '{transition.label_en}'.",
            )
        )
    for spec in transition.fields:
        raw = comment if spec.name == "comment" else data.get(spec.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.required:
                failures.append(_field_failure(spec, "skal udfyldes", "is required"))
            continue
        value, failure = _coerce(spec, raw)
        if failure is not None:
            failures.append(failure)
        elif spec.name != "comment":
            values[spec.name] = value
    return values, failures


BODY_CODE_MAX = 32


def _body_field_failures(
    session: Session, transition: TransitionSpec, values: dict[str, Any]
) -> list[Failure]:
    """A "body" field names an active body of one of the kinds the definition allows."""
    failures: list[Failure] = []
    for spec in transition.fields:
        code = values.get(spec.name)
        if spec.type != "body" or not code:
            continue
        body = session.scalar(select(Body).where(Body.code == code))
        if body is None or not body.active or str(body.kind) not in spec.body_kinds:
            allowed = session.scalars(
                select(Body.code)
                .where(Body.active.is_(True), Body.kind.in_([BodyKind(k) for k in spec.body_kinds]))
                .order_by(Body.code)
            ).all()
            failures.append(
                _field_failure(
                    spec,
                    f"skal være et aktivt organ af den rette slags: {', '.join(allowed)}",
                    f"must be an active body of the right kind: {', '.join(allowed)}",
                )
            )
    return failures


def deciding_body_id(case: Case, permission: Permission) -> int:
    """Return the body that takes a decision: the one whose role lets the actor act."""
    return permission.body_id if permission.body_id is not None else case.current_body_id


def _decision_failures(
    session: Session, case: Case, permission: Permission, data: dict[str, Any], now: datetime
) -> tuple[list[Failure], Meeting | None]:
    """Decisions are taken at a meeting of the deciding body, or by its chairs on its behalf."""
    meeting_id = data.get("meeting_id")
    if meeting_id is None:
        if permission.as_chair:
            # A formandskab decision: only where the body's terms allow it (seed 000).
            terms = formandskab.terms_failure(session, deciding_body_id(case, permission))
            return ([terms] if terms is not None else []), None
        return [
            Failure(
                "decision_at_meeting",
                "Sekretariatet registrerer beslutninger, der er truffet på et møde: angiv mødet. "
                "Mellem møderne kan formandskabet beslutte på organets vegne.",
                "The secretariat records decisions taken at a meeting: give the meeting. "
                "Between meetings the chairs may decide on the body's behalf.",
            )
        ], None
    body_id = deciding_body_id(case, permission)
    meeting = session.get(Meeting, int(meeting_id)) if boundary.is_record_id(meeting_id) else None
    if meeting is None or meeting.body_id != body_id:
        code = _body_code(session, body_id)
        return [
            Failure(
                "decision_at_meeting",
                f"Mødet findes ikke eller er ikke et møde i {code}, som træffer beslutningen. "
                f"Angiv et af {formats.genitive(code)} møder.",
                f"The meeting does not exist or is not a meeting of {code}, which decides.",
            )
        ], None
    if meeting.status == MeetingStatus.CANCELLED:
        return [
            Failure(
                "decision_at_meeting",
                "Mødet er aflyst; en beslutning kan ikke knyttes til det.",
                "The meeting is cancelled; no decision can be recorded on it.",
            )
        ], None
    if not meeting_has_begun(meeting, now):
        when_da = format_datetime(meeting.starts_at)
        local = meeting.starts_at.astimezone(clock.LOCAL_TZ)
        when_en = f"{local.day} {local:%B %Y, %H:%M}"
        between = (
            " Mellem møderne kan formandskabet beslutte på organets vegne uden møde."
            if permission.as_chair
            else ""
        )
        between_en = (
            " Between meetings the chairs may decide on the body's behalf without a meeting."
            if permission.as_chair
            else ""
        )
        return [
            Failure(
                "decision_at_meeting",
                f"Mødet den {when_da} er ikke holdt endnu, og en beslutning kan kun knyttes til et "
                "møde, der er holdt eller i gang. Sæt sagen på mødets dagsorden i stedet; "
                "beslutningen registreres, når referatet godkendes." + between,
                f"The meeting of {when_en} has not taken place yet; a decision can only be "
                "recorded on a meeting that has taken place or is in progress. Put the case on "
                "the meeting's agenda instead; the decision is recorded when the minutes are "
                "approved." + between_en,
            )
        ], None
    return [], meeting


# Statuses that say the meeting took place, whatever the clock says.
HELD_STATUSES = frozenset(
    {MeetingStatus.HELD, MeetingStatus.MINUTES_APPROVED, MeetingStatus.CLOSED}
)


def meeting_has_begun(meeting: Meeting, now: datetime) -> bool:
    """A decision may name a meeting that is held or in progress, never a coming one."""
    return meeting.status in HELD_STATUSES or meeting.starts_at <= now


def check(
    case: Case,
    trigger: str,
    actor: User | None,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> list[Failure]:
    """Dry-run `perform()`'s guards: the rules that would refuse this action now."""
    session = _session(case)
    transition = _transition_for(definition_of(case), case, trigger)
    permission = find_permission(session, case, transition, actor)
    data = dict(data or {})
    values, failures = _validate_fields(transition, comment, data)
    failures += _body_field_failures(session, transition, values)
    context = GuardContext(case, actor, session, clock.now(), data)
    failures += [f for name in transition.guards if (f := GUARDS[name](context)) is not None]
    if transition.decision and permission is not None:
        decision_failures, meeting = _decision_failures(
            session, case, permission, data, clock.now()
        )
        failures += decision_failures
        if not decision_failures and meeting is None and actor is not None:
            body_id = deciding_body_id(case, permission)
            proposal = formandskab.pending_proposal(session, case, trigger, body_id)
            if proposal is not None:
                consent = formandskab.consent_failure(proposal, actor)
                failures += [consent] if consent is not None else []
    return failures


def would_propose(
    case: Case, trigger: str, actor: User | None, data: dict[str, Any] | None = None
) -> bool:
    """Whether `actor` taking this decision now would only propose it to the chairmanship: a
    co-chair deciding without a meeting, with no proposal of the other co-chair to consent to."""
    session = _session(case)
    transition = _transition_for(definition_of(case), case, trigger)
    permission = find_permission(session, case, transition, actor)
    if not transition.decision or permission is None or not permission.as_chair:
        return False
    if (data or {}).get("meeting_id") not in (None, ""):
        return False
    body_id = deciding_body_id(case, permission)
    return formandskab.pending_proposal(session, case, trigger, body_id) is None


def allowed_triggers(case: Case, actor: User | None) -> list[TransitionSpec]:
    """List the transitions `actor` may fire from the case's current state (guards aside)."""
    session = _session(case)
    definition = definition_of(case)
    return [
        t
        for t in definition.transitions_from(case.state)
        if find_permission(session, case, t, actor) is not None
    ]


def perform(
    case: Case,
    trigger: str,
    actor: User | None,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    """Fire `trigger` on `case` as `actor`, audited and committed as one transaction."""
    session = _session(case)
    now = clock.now()
    data = dict(data or {})
    definition = definition_of(case)
    # A stale form is a conflict even when its action is no longer valid: say what happened.
    if expected_version is not None and expected_version != case.version:
        raise Conflict(expected_version, case.version)
    transition = _transition_for(definition, case, trigger)
    if session.in_transaction():
        # A request's reads are open already: check in that transaction, leaving it (and
        # whatever the caller has written in it) as it was when the action is refused.
        extra, meeting, proposes = _checked(session, case, transition, actor, comment, data, now)
        with _one_transaction(session, case, expected_version):
            event = _apply_and_route(
                session, definition, case, transition, actor, comment, extra, meeting, now,
                proposes,
            )  # fmt: skip
    else:
        # Nothing open: check inside the unit that writes, so a transition is one transaction,
        # not a read transaction ended and a writer's begun (on SQLite the rules are then read
        # under the write lock too). A refusal rolls back a transaction that wrote nothing.
        with _one_transaction(session, case, expected_version):
            extra, meeting, proposes = _checked(
                session, case, transition, actor, comment, data, now
            )
            event = _apply_and_route(
                session, definition, case, transition, actor, comment, extra, meeting, now,
                proposes,
            )  # fmt: skip
    if event.trigger == formandskab.PROPOSED:
        return event  # a proposal awaiting the other co-chair, not the transition
    metrics.TRANSITIONS.labels(definition.name, trigger).inc()
    return event


def _apply_and_route(
    session: Session,
    definition: ProcessDefinition,
    case: Case,
    transition: TransitionSpec,
    actor: User | None,
    comment: str | None,
    extra: dict[str, Any],
    meeting: Meeting | None,
    now: datetime,
    proposes: bool,
) -> CaseEvent:
    if proposes:
        # One co-chair's formandskab decision: recorded as a proposal, the case unchanged.
        assert actor is not None  # a chair's permission names a user
        return _propose(session, case, transition.trigger, actor, comment or "", extra, now)
    event = _apply(session, definition, case, transition, actor, comment or "", extra, meeting, now)
    _follow_routes(session, definition, case, actor, now)
    return event


def _checked(
    session: Session,
    case: Case,
    transition: TransitionSpec,
    actor: User | None,
    comment: str | None,
    data: dict[str, Any],
    now: datetime,
) -> tuple[dict[str, Any], Meeting | None, bool]:
    """Check the actor's permission, the fields and the guards; return the event's data, the
    meeting a decision names and whether the action is a co-chair's proposal awaiting the other
    co-chair, or raise the refusal."""
    permission = find_permission(session, case, transition, actor)
    if permission is None:
        da, en = describe_roles(session, case, transition.allowed)
        raise NotAllowed(
            f"Du kan ikke udføre '{transition.label}' på denne sag. Det kan kun {da}.",
            f"You may not '{transition.label_en}' on this case. Only {en} may.",
            [str(ref) for ref in transition.allowed],
        )
    values, failures = _validate_fields(transition, comment, data)
    failures += _body_field_failures(session, transition, values)
    context = GuardContext(case, actor, session, now, data)
    failures += [f for name in transition.guards if (f := GUARDS[name](context)) is not None]
    meeting: Meeting | None = None
    if transition.decision:
        decision_failures, meeting = _decision_failures(session, case, permission, data, now)
        failures += decision_failures
    if failures:
        raise GuardFailed(failures)

    extra: dict[str, Any] = {"role": str(permission.role), **values}
    if transition.decision:
        extra["decision_body"] = _body_code(session, deciding_body_id(case, permission))
        if meeting is None:
            # A formandskab decision between meetings: the first co-chair proposes it, and
            # it is taken when the other consents (seed 000: a joint chairmanship).
            assert actor is not None  # a chair's permission names a user
            body_id = deciding_body_id(case, permission)
            proposal = formandskab.pending_proposal(session, case, transition.trigger, body_id)
            if proposal is None:
                return {**extra, "body_id": body_id}, meeting, True
            refusal = formandskab.consent_failure(proposal, actor)
            if refusal is not None:
                raise GuardFailed([refusal])
            extra["on_behalf_of_body"] = True  # formandskabsbeslutning between meetings
            extra["co_chairs"] = [proposal.user_id, actor.id]
    if data.get("all_answered") is not None:
        extra["all_answered"] = data["all_answered"]
    return extra, meeting, False


def _propose(
    session: Session,
    case: Case,
    trigger: str,
    actor: User,
    comment: str,
    extra: dict[str, Any],
    now: datetime,
) -> CaseEvent:
    """Record a co-chair's decision as a proposal awaiting the other co-chair's consent."""
    case.updated_at = now  # a new version: a form read before the proposal is stale
    session.flush()
    side = formandskab.side_of(actor)
    event = append_event(
        session,
        case,
        trigger=formandskab.PROPOSED,
        actor=actor,
        from_state=case.state,
        comment=comment,
        data={**extra, "proposed_trigger": trigger, "side": side},
        now=now,
    )
    transition = _transition_for(definition_of(case), case, trigger)
    notifications.proposal_awaits_consent(
        session, case, event, int(extra["body_id"]),
        labelled(transition.label, transition.label_en), side,
    )  # fmt: skip
    return event


def _one_transaction(session: Session, case: Case, expected_version: int | None) -> Any:
    """The unit of work of a change to `case`; a concurrent change of the case (its version
    moved under us) is reported as a Conflict with the version the caller read."""
    return unit_of_work(session, case_conflict(session, case.id, expected_version or case.version))


def _state_body_id(session: Session, case: Case, state_body: str, body_field: str = "") -> int:
    chosen = case.extra.get(body_field) if body_field else None
    if isinstance(chosen, str) and chosen:
        # The body chosen on the way in (type A: a cluster or a temporary working group).
        found = session.scalar(select(Body.id).where(Body.code == chosen))
        if found is not None:
            return found
    if state_body == "originating":
        return case.originating_body_id
    return _named_body(session, case, state_body).id


def _move_to_body(session: Session, case: Case, body_id: int) -> None:
    """Hand the case to a body, keeping `case.current_body` in step with its id."""
    body = session.get(Body, body_id)
    assert body is not None  # the id comes from a seeded body
    case.current_body_id = body_id
    # Without this a relationship loaded earlier in the session would name the old body. Set
    # as loaded, not as a change: the id above is what is written, and a changed relationship
    # costs the flush its many-to-one bookkeeping on every transition.
    set_committed_value(case, "current_body", body)


def append_event(
    session: Session,
    case: Case,
    *,
    trigger: str,
    actor: User | None,
    from_state: str | None,
    comment: str,
    data: dict[str, Any],
    now: datetime,
    meeting_id: int | None = None,
) -> CaseEvent:
    """Append one event, sealed onto the case's chain, to its audit trail."""
    # Lock the case row first (PostgreSQL; SQLite's writer lock already serialises, so the
    # statement is not sent there): a writer that appends without changing the case, like
    # the scheduler, must not read the same last event as a concurrent transition and fork
    # the chain.
    if not _is_sqlite(session):
        session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    event = _sealed_event(
        session, case, trigger=trigger, actor=actor, from_state=from_state, comment=comment,
        data=data, now=now, meeting_id=meeting_id,
    )  # fmt: skip
    session.flush()
    return event


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _sealed_event(
    session: Session,
    case: Case,
    *,
    trigger: str,
    actor: User | None,
    from_state: str | None,
    comment: str,
    data: dict[str, Any],
    now: datetime,
    meeting_id: int | None,
) -> CaseEvent:
    """Add (not flush) the next event on the case's chain, sealed onto its last one. The
    caller holds the case: its row lock (PostgreSQL) or the writer's lock (SQLite)."""
    last = session_cache.read(session, _CHAIN_HEAD, {"case_id": case.id}).first()
    event = CaseEvent(
        case_id=case.id,
        seq=(last.seq + 1) if last else 1,
        actor_id=actor.id if actor else None,
        trigger=trigger,
        from_state=from_state,
        to_state=case.state,
        comment=comment,
        data=data,
        meeting_id=meeting_id,
        created_at=now,
        prev_hash=last.hash if last else GENESIS_HASH,
        request_id=request_id.current(),
    )
    event.hash = case_event_hash(event)
    session.add(event)
    if last is not None and not last.subscribed:
        session.info.setdefault(_UNSUBSCRIBED, WeakSet()).add(event)
    return event


def _apply(
    session: Session,
    definition: ProcessDefinition,
    case: Case,
    transition: TransitionSpec,
    actor: User | None,
    comment: str,
    extra: dict[str, Any],
    meeting: Meeting | None,
    now: datetime,
    caused_by: User | None = None,
) -> CaseEvent:
    from_state = case.state
    from_body_id = case.current_body_id
    enters = transition.enters_state
    # A self-loop (udsættelse) moves the case to a meeting after the one it was planned for;
    # a records-only one leaves the case in its state as it was.
    postponed_past = (
        _postponed_past(session, case, meeting) if enters and transition.is_self_loop else None
    )
    # The case, its event and its deadlines are written by one flush (each flush costs more
    # than its statements); nothing read meanwhile depends on them.
    with session.no_autoflush:
        registry.machine(definition).events[transition.trigger].trigger(case)
        dest = definition.states[case.state]
        # The declared fields first: a state's body may be the one a field names.
        stored = {k: v for k, v in extra.items() if k in {f.name for f in transition.fields}}
        if stored:
            case.extra = {**case.extra, **stored}
        if enters:
            _move_to_body(session, case, _state_body_id(session, case, dest.body, dest.body_field))
            case.state_entered_at = now
        case.updated_at = now
        if transition.clears_escalation:
            case.tss_cleared_at = now
        if not _is_sqlite(session):
            # The case's UPDATE takes its row lock before the chain's head is read, so a
            # concurrent writer cannot seal onto the same last event (SQLite: the writer's
            # lock is held since the unit began).
            session.flush()
        event = _sealed_event(
            session, case, trigger=transition.trigger, actor=actor, from_state=from_state,
            comment=comment, data=extra, now=now, meeting_id=meeting.id if meeting else None,
        )  # fmt: skip
        if enters:
            deadlines.recompute(
                session, case, dest, now, left_state=from_state != case.state, after=postponed_past
            )
    session.flush()
    if dest.on_enter and from_state != case.state:
        actions.run_on_enter(session, case, dest.on_enter, caused_by or actor, now)
    notifications.after_transition(
        session, case, event, definition, transition, actor,
        body_changed=from_body_id != case.current_body_id, caused_by=caused_by,
    )  # fmt: skip
    return event


def _postponed_past(session: Session, case: Case, meeting: Meeting | None) -> datetime | None:
    """Return the start of the meeting a postponed case is no longer planned for."""
    starts = [deadlines.planned_meeting_start(session, case)]
    if meeting is not None:
        starts.append(meeting.starts_at)
    known = [start for start in starts if start is not None]
    return max(known) if known else None


def _follow_routes(
    session: Session, definition: ProcessDefinition, case: Case, actor: User | None, now: datetime
) -> None:
    """Fire the definition's automatic routes from the state the case arrived in."""
    for _ in range(len(definition.routes) + 1):
        context = GuardContext(case, actor, session, now)
        route = next(
            (r for r in definition.routes if r.state == case.state and PREDICATES[r.when](context)),
            None,
        )
        if route is None:
            return
        transition = _transition_for(definition, case, route.trigger)
        extra = {"automatic": True, "reason_en": route.reason_en}
        if actor is not None:
            extra["caused_by"] = actor.id
        _apply(
            session, definition, case, transition, None, route.reason, extra, None, now,
            caused_by=actor,
        )  # fmt: skip


@dataclass(frozen=True)
class ExpenseLine:
    """A party's expected extra expense (merudgift) per year, in DKK."""

    party_id: int
    amount: Decimal
    note: str = ""


def _sync_expenses(
    session: Session, case: Case, wanted: Sequence[ExpenseLine]
) -> dict[str, list[list[str]]] | None:
    """Make the case's expenses match `wanted`; return before/after for the audit, if changed."""
    stored = {
        e.party_id: e
        for e in session.scalars(select(CaseExpense).where(CaseExpense.case_id == case.id))
    }

    def snapshot(lines: Iterable[tuple[int, Decimal, str]]) -> list[list[str]]:
        return sorted([str(party), f"{Decimal(amount):.2f}", note] for party, amount, note in lines)

    before = snapshot((e.party_id, e.amount_dkk, e.note) for e in stored.values())
    after = snapshot((w.party_id, w.amount, w.note) for w in wanted)
    if before == after:
        return None
    wanted_by_party = {w.party_id: w for w in wanted}
    for party_id, dropped in stored.items():
        if party_id not in wanted_by_party:
            session.delete(dropped)  # the audit event keeps the old figures
    for party_id, line in wanted_by_party.items():
        row = stored.get(party_id)
        if row is None:
            session.add(
                CaseExpense(
                    case_id=case.id, party_id=party_id, amount_dkk=line.amount, note=line.note
                )
            )
        else:
            row.amount_dkk, row.note = line.amount, line.note
    session.flush()
    session.expire(case, ["expenses"])
    return {"before": before, "after": after}


def create_case(
    session: Session,
    *,
    process: str,
    title: str,
    originating_body: Body,
    actor: User | None,
    national_goal_ids: list[int] | None = None,
    expenses: Sequence[ExpenseLine] = (),
    extra: dict[str, Any] | None = None,
    **fields: Any,
) -> Case:
    """Open a case in its process's initial state, audited as the 'create' event.

    `actor` None is the engine itself opening a case its definition's `opens` rhythm asks for
    (the scheduler's daily rhythms job): no member check, the event names no person."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Ukendte felter: {', '.join(sorted(unknown))}")
    if not title.strip():
        raise GuardFailed([Failure("field:title", "Sagen skal have en titel.", "Title required.")])
    if actor is not None and not access.may(actor, "open_case", originating_body, session):
        raise NotAllowed(
            f"Kun medlemmer af {originating_body.code} kan oprette sager for organet.",
            f"Only members of {originating_body.code} may open cases for it.",
            [f"member@{originating_body.code}"],
            rule="member_of_originating_body",
        )
    definition = registry.latest(session, process)
    if not definition.may_start_in(str(originating_body.kind), originating_body.code):
        who_da, who_en = starters(definition)
        raise NotAllowed(
            f"En sag af typen »{definition.title}« startes af {who_da}; "
            f"{originating_body.code} kan ikke starte den.",
            f"A case of the kind '{definition.title_en}' is started by {who_en}; "
            f"{originating_body.code} cannot start it.",
            list(definition.started_by),
        )
    now = clock.now()
    initial = definition.states[definition.initial]
    case = Case(
        process=definition.name,
        process_version=definition.version,
        state=definition.initial,
        title=title.strip(),
        originating_body_id=originating_body.id,
        current_body_id=originating_body.id,
        created_by_id=actor.id if actor is not None else None,
        created_at=now,
        updated_at=now,
        state_entered_at=now,
        extra=dict(extra or {}),
        **fields,
    )
    with unit_of_work(session):
        case.current_body_id = _state_body_id(session, case, initial.body)
        session.add(case)
        if national_goal_ids:
            from models import NationalGoal

            case.national_goals = list(
                session.scalars(select(NationalGoal).where(NationalGoal.id.in_(national_goal_ids)))
            )
        session.flush()
        created: dict[str, Any] = {"process_version": definition.version}
        if expenses and (figures := _sync_expenses(session, case, expenses)):
            created["expenses"] = figures["after"]
        append_event(
            session, case, trigger="create", actor=actor, from_state=None,
            comment="", data=created, now=now,
        )  # fmt: skip
        deadlines.recompute(session, case, initial, now, left_state=False)
    return case


# How a body kind is named where a definition says who may start a case.
KIND_WORDS = {
    "political": ("de politiske udvalg", "the political committees"),
    "steering": ("styregruppen", "the steering group"),
    "coordination_committee": ("et samordningsudvalg", "a coordination committee"),
    "forum": ("et samarbejdsforum", "a standing forum"),
    "theme_group": ("en temagruppe", "a theme group"),
    "working_group": ("en arbejdsgruppe", "a working group"),
    "observer": ("observatørerne", "the observers"),
}


def starters(definition: ProcessDefinition) -> tuple[str, str]:
    """Name, in Danish and English, who may start a case of the process."""
    danish = [KIND_WORDS.get(entry, (entry, entry))[0] for entry in definition.started_by]
    english = [KIND_WORDS.get(entry, (entry, entry))[1] for entry in definition.started_by]
    return " eller ".join(danish), " or ".join(english)


def edit_case(
    case: Case,
    actor: User,
    changes: dict[str, Any],
    expected_version: int | None = None,
    national_goal_ids: list[int] | None = None,
    expenses: Sequence[ExpenseLine] | None = None,
) -> CaseEvent | None:
    """Change a case's content fields and expenses (not its state), audited as an 'edit'."""
    session = _session(case)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Ukendte felter: {', '.join(sorted(unknown))}")
    definition = definition_of(case)
    if definition.states[case.state].final:
        raise NotAllowed(
            "Sagen er afsluttet og kan ikke ændres; oplysningerne er bevaret i sagens historik.",
            "The case is closed and cannot be changed.",
            [],
            rule="case_not_closed",
        )
    if not access.may(actor, "edit", case, session):
        raise NotAllowed(
            "Kun medlemmer af det organ, der har sagen, kan ændre den.",
            "Only members of a body that holds the case may change it.",
            ["member@originating", "member@current"],
            rule="member_may_edit",
        )
    if expected_version is not None and expected_version != case.version:
        raise Conflict(expected_version, case.version)
    changed = {k: v for k, v in changes.items() if getattr(case, k) != v}
    goals_changed = national_goal_ids is not None and sorted(national_goal_ids) != sorted(
        g.id for g in case.national_goals
    )
    now = clock.now()
    with _one_transaction(session, case, expected_version):
        figures = _sync_expenses(session, case, expenses) if expenses is not None else None
        if not changed and not goals_changed and figures is None:
            return None
        for key, value in changed.items():
            setattr(case, key, value)
        if goals_changed:
            from models import NationalGoal

            case.national_goals = list(
                session.scalars(
                    select(NationalGoal).where(NationalGoal.id.in_(national_goal_ids or []))
                )
            )
        case.updated_at = now
        session.flush()
        fields_changed = sorted(changed) + (["national_goals"] if goals_changed else [])
        edited: dict[str, Any] = {"fields": fields_changed}
        if figures is not None:
            fields_changed.append("expenses")
            edited["expenses"] = figures
        event = append_event(
            session, case, trigger="edit", actor=actor, from_state=case.state, comment="",
            data=edited, now=now,
        )  # fmt: skip
        # A matter flagged (say) principled after it reached the forum goes to TSS now.
        _follow_routes(session, definition, case, actor, now)
    return event


def migrate_case_version(
    case: Case,
    to_version: int,
    state_map: dict[str, str],
    actor: User,
    comment: str = "",
    expected_version: int | None = None,
) -> CaseEvent:
    """Move a case to another version of its process through an explicit state mapping."""
    session = _session(case)
    if not access.may(actor, "migrate_version", case, session):
        raise NotAllowed(
            "Kun administratorer kan flytte sager til en ny procesversion.",
            "Only administrators may move cases to a new process version.",
            ["admin"],
            rule="admin_only",
        )
    if expected_version is not None and expected_version != case.version:
        raise Conflict(expected_version, case.version)
    target = registry.get(session, case.process, to_version)
    new_state = state_map.get(case.state)
    if new_state is None or new_state not in target.states:
        raise GuardFailed(
            [
                Failure(
                    "state_map",
                    f"Tilstanden '{case.state}' skal afbildes på en tilstand i version "
                    f"{to_version} ({', '.join(target.states)}).",
                    f"State '{case.state}' must map to a state of version {to_version}.",
                )
            ]
        )
    now = clock.now()
    from_state, from_version = case.state, case.process_version
    with _one_transaction(session, case, expected_version):
        case.process_version = to_version
        case.state = new_state
        _move_to_body(session, case, _state_body_id(session, case, target.states[new_state].body))
        case.updated_at = now
        if new_state != from_state:
            case.state_entered_at = now
        session.flush()
        data = {"from_version": from_version, "to_version": to_version, "state_map": state_map}
        event = append_event(
            session, case, trigger="migrate_version", actor=actor, from_state=from_state,
            comment=comment, data=data, now=now,
        )  # fmt: skip
        admin_audit.record(
            session,
            actor_id=actor.id,
            action="migrate_case_version",
            object_type="case",
            object_id=str(case.id),
            data={**data, "from_state": from_state, "to_state": new_state},
            created_at=now,
        )
        deadlines.recompute(session, case, target.states[new_state], now, left_state=False)
    return event


@dataclass(frozen=True)
class Reassignment:
    """One case handed to other bodies without a transition (a reorganisation)."""

    case: Case
    current_body: Body
    originating_body: Body
    comment: str
    data: dict[str, Any]


def reassign_case(
    case: Case,
    *,
    current_body: Body,
    originating_body: Body,
    actor: User | None,
    comment: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Hand one open case to other bodies; see reassign_cases()."""
    move = Reassignment(case, current_body, originating_body, comment, data)
    reassign_cases(_session(case), [move], actor, now)


REASSIGN_CHUNK = 500


def reassign_cases(
    session: Session, moves: Sequence[Reassignment], actor: User | None, now: datetime
) -> int:
    """Hand open cases to other bodies without a transition (a reorganisation), in bulk.

    Per case: the bodies change and the version moves on (a stale form is a conflict), one
    audited event ("reorganise") is sealed onto the case's chain, the open deadlines of its
    state are cancelled and rebuilt for the new body (a deadline counted from the state's entry
    keeps its day; a material deadline follows the new body's first reachable meeting), and the
    new body's chairs and secretariat are told. The state and the time it was entered stay.
    Rows are written in bulk (a plan moves thousands of cases), in the caller's unit of work;
    returns the number of cases moved.
    """
    key = load_key()
    material: dict[int, Meeting | None] = {}
    with unit_of_work(session):
        session.flush()
        for start in range(0, len(moves), REASSIGN_CHUNK):
            chunk = moves[start : start + REASSIGN_CHUNK]
            ids = [move.case.id for move in chunk]
            # Lock the cases (PostgreSQL) before reading the chains' heads, as append_event does.
            session.execute(select(Case.id).where(Case.id.in_(ids)).with_for_update())
            heads = _chain_heads(session, ids)
            session.execute(
                update(Deadline)
                .where(
                    Deadline.case_id.in_(ids),
                    Deadline.met_at.is_(None),
                    Deadline.cancelled_at.is_(None),
                    Deadline.kind != DeadlineKind.FOLLOW_UP,
                )
                .values(cancelled_at=now)
                .execution_options(synchronize_session="fetch")
            )
            events: list[dict[str, Any]] = []
            new_deadlines: list[dict[str, Any]] = []
            notes: list[dict[str, Any]] = []
            for move in chunk:
                case, body = move.case, move.current_body
                head = heads.get(case.id)
                event = {
                    "case_id": case.id, "seq": head[0] + 1 if head else 1,
                    "actor_id": actor.id if actor else None, "trigger": "reorganise",
                    "from_state": case.state, "to_state": case.state, "comment": move.comment,
                    "data": move.data, "meeting_id": None, "created_at": now,
                    "prev_hash": head[1] if head else GENESIS_HASH,
                }  # fmt: skip
                event["hash"] = seal_case_event(event, key)
                event["request_id"] = request_id.current()  # a correlation tag, not sealed
                events.append(event)
                deadline = _rebuilt_deadline(session, case, body, now, material)
                if deadline is not None:
                    new_deadlines.append(deadline)
                if case.current_body_id != body.id:
                    notes += notifications.reassignment_rows(session, case, event, body)
            # One set-based update per (new current, new originating) pair: a plan sends
            # thousands of cases to a few dozen bodies.
            cases = cast(Table, Case.__table__)
            pairs: dict[tuple[int, int], list[int]] = {}
            for move in chunk:
                pair = (move.current_body.id, move.originating_body.id)
                pairs.setdefault(pair, []).append(move.case.id)
            for (current_id, originating_id), case_ids in pairs.items():
                session.execute(
                    update(cases)
                    .where(cases.c.id.in_(case_ids))
                    .values(
                        current_body_id=current_id,
                        originating_body_id=originating_id,
                        updated_at=now,
                        version=cases.c.version + 1,
                    )
                )
            session.execute(insert(CaseEvent), events)
            if new_deadlines:
                session.execute(insert(Deadline), new_deadlines)
            if notes:
                session.execute(insert(Notification), notes)
            # The deadlines were written around the ORM's flush, so its listener did not see them.
            deadlines.refresh_next_due(session, ids)
            for move in chunk:
                # The rows were written around the ORM: read the case afresh when next used.
                session.expire(move.case)
    return len(moves)


def _rebuilt_deadline(
    session: Session, case: Case, body: Body, now: datetime, material: dict[int, Meeting | None]
) -> dict[str, Any] | None:
    """The deadline of the case's state at its new body, as a row."""
    state = definition_of(case).states[case.state]
    rule = state.deadline
    if rule is None:
        return None
    if rule.kind == "material":
        if body.id not in material:
            material[body.id] = deadlines.reachable_meeting(session, body, now)
        meeting = material[body.id]
        if meeting is None:
            return None  # no meeting planned yet; scheduling one sets the deadline
        due_at, meeting_id = deadlines.material_deadline(meeting, body), meeting.id
        kind = DeadlineKind.MATERIAL
    else:
        built = deadlines.build_deadline(session, case, state, case.state_entered_at)
        if built is None:
            return None
        due_at, meeting_id, kind = built.due_at, None, built.kind
    return {
        "case_id": case.id, "kind": kind,
        "state": state.name, "body_id": body.id, "meeting_id": meeting_id, "due_at": due_at,
        "reminder_days": list(state.reminders), "escalation_level": 0, "created_at": now,
    }  # fmt: skip


def _chain_heads(session: Session, ids: list[int]) -> dict[int, tuple[int, str]]:
    """The last event's (seq, hash) of each case."""
    newest = (
        select(CaseEvent.case_id, func.max(CaseEvent.seq).label("seq"))
        .where(CaseEvent.case_id.in_(ids))
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash).join(
            newest, (newest.c.case_id == CaseEvent.case_id) & (newest.c.seq == CaseEvent.seq)
        )
    )
    return {case_id: (seq, digest) for case_id, seq, digest in rows}
