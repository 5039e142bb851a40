"""Volume data for benchmarks: many realistic cases, bulk-inserted (`aftaleflow bench-data`).

Each case follows its process: a random walk over the transitions its definition allows, from
the initial state, for about ten steps or until a final state. Every step is an audit event
sealed onto the case's keyed chain exactly as `perform()` seals it (workflow.engine.chain), so
`aftaleflow audit verify` passes afterwards. The state a case stands in carries its open
deadline, the states it left carry met ones; decisions are dated at a meeting of the deciding
body; a third of the cases carry expected expenses. Rows go in with Core inserts (executemany)
in chunks, with ids handed out here, so 100,000 cases take minutes rather than hours.

The data is for measuring, never for a real database: the command refuses a database that
already holds cases unless told to add to them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, text
from sqlalchemy.orm import Session

from models import (
    GENESIS_HASH,
    Body,
    BodyKind,
    Case,
    CaseEvent,
    CaseExpense,
    Deadline,
    DeadlineKind,
    FocusArea,
    Meeting,
    MeetingStatus,
    Membership,
    Party,
    Role,
    User,
)
from workflow.engine import migrate
from workflow.engine.audit_key import load_key
from workflow.engine.chain import seal_case_event
from workflow.engine.definitions import ProcessDefinition, TransitionSpec
from workflow.engine.processes import registry
from workflow.engine.unit_of_work import unit_of_work
from workflow.organisation import seed

CHUNK = 5000
EVENTS_PER_CASE = 10
YEARS = 5
# The users the load generator logs in as (one password for all of them).
BENCH_PASSWORD = "bench adgangskode æøå"
CHAIR_EMAIL = "formand@bench.dk"
SECRETARIAT_EMAIL = "sekretariat@bench.dk"
WORDS = (
    "Forløbsplan", "Udskrivning", "Genoptræning", "Demens", "Diabetes", "KOL", "Hjerneskade",
    "Psykiatri", "Børn og unge", "Ældre medicinske patienter", "Data og digitalisering",
    "Akutområdet", "Rehabilitering", "Palliation", "Kronisk sygdom", "Sammenhæng",
)  # fmt: skip
DETAILS = (
    "fælles indsats", "ny samarbejdsaftale", "pilotprojekt", "udbredelse", "opfølgning",
    "tværsektoriel koordination", "kvalitetsmål", "arbejdsgang",
)  # fmt: skip


@dataclass
class VolumeReport:
    """What `generate` wrote."""

    cases: int = 0
    events: int = 0
    deadlines: int = 0
    open_deadlines: int = 0
    meetings: int = 0
    expenses: int = 0
    seconds: float = 0.0
    by_process: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One Danish line."""
        return (
            f"{self.cases} sager, {self.events} hændelser, {self.deadlines} frister "
            f"({self.open_deadlines} åbne), {self.meetings} møder og {self.expenses} "
            f"merudgiftslinjer på {self.seconds:.1f} s."
        )


@dataclass
class _World:
    """The organisation the generated cases live in."""

    bodies: dict[str, Body]
    origins: dict[str, list[Body]]
    chair_id: int
    secretariat_id: int
    party_ids: list[int]
    focus_area_ids: list[int]
    # Meetings per body id, as (starts_at, id) in time order.
    meetings: dict[int, list[tuple[datetime, int]]]


def _next_id(connection: Connection, table: Table) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(table), rows)


def _reset_sequences(connection: Connection, tables: Sequence[Table]) -> None:
    """PostgreSQL: move each id sequence past the ids handed out here."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


def _users(session: Session, bodies: dict[str, Body]) -> tuple[int, int]:
    """The bench users: a chair of every forum and of TSS, and TSS's and the forums'
    secretariat (found again when they exist)."""
    from workflow.auth import passwords

    ids = []
    for email, name, role in (
        (CHAIR_EMAIL, "Bench Formand", Role.CHAIR),
        (SECRETARIAT_EMAIL, "Bench Sekretariat", Role.SECRETARIAT),
    ):
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email, name=name, password_hash=passwords.hash_password(BENCH_PASSWORD)
            )
            session.add(user)
            session.flush()
            for body in bodies.values():
                if body.kind in (BodyKind.FORUM, BodyKind.STEERING):
                    session.add(Membership(user_id=user.id, body_id=body.id, role=role))
        ids.append(user.id)
    session.flush()
    return ids[0], ids[1]


def _meetings(
    connection: Connection, bodies: Sequence[Body], start: datetime, now: datetime
) -> dict[int, list[tuple[datetime, int]]]:
    """About one meeting a month per deciding body, from `start` to a quarter past `now`."""
    next_id = _next_id(connection, Meeting.__table__)  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = []
    by_body: dict[int, list[tuple[datetime, int]]] = {}
    for body in bodies:
        day = start + timedelta(days=body.id % 28)
        while day < now + timedelta(days=90):
            starts_at = day.replace(hour=13, minute=0, second=0, microsecond=0)
            status = MeetingStatus.CLOSED if starts_at < now else MeetingStatus.PLANNED
            rows.append(
                {"id": next_id, "body_id": body.id, "title": f"{body.code} møde",
                 "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=2),
                 "location": "Regionsgården", "status": status, "created_at": starts_at -
                 timedelta(days=60), "version": 1}
            )  # fmt: skip
            by_body.setdefault(body.id, []).append((starts_at, next_id))
            next_id += 1
            day += timedelta(days=30)
    _insert(connection, Meeting.__table__, rows)  # type: ignore[arg-type]
    return by_body


def _meeting_at(world: _World, body_id: int, moment: datetime) -> int | None:
    """The body's last meeting before `moment` (None if it has none yet)."""
    found = None
    for starts_at, meeting_id in world.meetings.get(body_id, ()):
        if starts_at > moment:
            break
        found = meeting_id
    return found


def _origins(bodies: dict[str, Body]) -> dict[str, list[Body]]:
    forums = [b for b in bodies.values() if b.kind == BodyKind.FORUM and b.active]
    committees = [
        b for b in bodies.values() if b.kind == BodyKind.COORDINATION_COMMITTEE and b.active
    ]
    tss = [bodies["TSS"]] if "TSS" in bodies else []
    return {
        "forum_matter": forums or committees,
        "development_task": tss + committees,
        "joint_agreement": tss,
        "signature_initiative": tss + forums,
        "implementation_plan": tss,
    }


def _state_body_id(world: _World, origin: Body, ref: str) -> int:
    if ref == "originating":
        return origin.id
    body = world.bodies.get(ref)
    return body.id if body is not None else origin.id


def _outgoing(definition: ProcessDefinition) -> dict[str, list[TransitionSpec]]:
    moves: dict[str, list[TransitionSpec]] = {}
    for transition in definition.transitions:
        for source in transition.sources:
            moves.setdefault(source, []).append(transition)
    return moves


@dataclass
class _Rows:
    cases: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    expenses: list[dict[str, Any]] = field(default_factory=list)

    def clear(self) -> None:
        self.cases.clear()
        self.events.clear()
        self.deadlines.clear()
        self.expenses.clear()


class _Ids:
    def __init__(self, connection: Connection) -> None:
        self.case = _next_id(connection, Case.__table__)  # type: ignore[arg-type]
        self.event = _next_id(connection, CaseEvent.__table__)  # type: ignore[arg-type]
        self.deadline = _next_id(connection, Deadline.__table__)  # type: ignore[arg-type]
        self.expense = _next_id(connection, CaseExpense.__table__)  # type: ignore[arg-type]


def _one_case(
    rng: random.Random,
    world: _World,
    definition: ProcessDefinition,
    moves: dict[str, list[TransitionSpec]],
    ids: _Ids,
    rows: _Rows,
    key: bytes,
    start: datetime,
    now: datetime,
) -> tuple[int, int]:
    """Add one case's rows; return (events, open deadlines)."""
    case_id = ids.case
    ids.case += 1
    origin = rng.choice(world.origins.get(definition.name) or list(world.bodies.values()))
    created = start + timedelta(seconds=rng.randrange(int((now - start).total_seconds()) - 86400))
    created = created.replace(microsecond=rng.randrange(1_000_000))
    steps = max(1, int(rng.gauss(EVENTS_PER_CASE * 1.5, 4)))
    state = definition.initial
    moment = created
    prev_hash = GENESIS_HASH
    seq = 0
    events = 0
    entered = created

    def add_event(trigger: str, source: str | None, dest: str, data: dict[str, Any],
                  meeting_id: int | None, actor: int | None) -> None:  # fmt: skip
        nonlocal prev_hash, seq, events
        seq += 1
        values: dict[str, Any] = {
            "id": ids.event, "case_id": case_id, "seq": seq, "actor_id": actor,
            "trigger": trigger, "from_state": source, "to_state": dest,
            "comment": "" if rng.random() < 0.6 else "Drøftet og besluttet som indstillet.",
            "data": data, "meeting_id": meeting_id, "created_at": moment, "prev_hash": prev_hash,
        }  # fmt: skip
        prev_hash = values["hash"] = seal_case_event(values, key)
        ids.event += 1
        events += 1
        rows.events.append(values)

    def add_deadline(state_name: str, body_id: int, since: datetime, met: datetime | None) -> int:
        spec = definition.states[state_name]
        if spec.deadline is None or spec.final:
            return 0
        days = spec.deadline.days or 30
        due = (since + timedelta(days=days)).replace(hour=22, minute=59, second=59, microsecond=0)
        rows.deadlines.append(
            {"id": ids.deadline, "case_id": case_id, "kind": DeadlineKind.STATE,
             "state": state_name, "body_id": body_id, "meeting_id": None, "due_at": due,
             "reminder_days": list(spec.reminders), "met_at": met, "cancelled_at": None,
             "escalation_level": 0 if met or due > now else 1, "created_at": since}
        )  # fmt: skip
        ids.deadline += 1
        return 0 if met else 1

    body_id = _state_body_id(world, origin, definition.states[state].body)
    add_event("create", None, state, {"process_version": definition.version}, None,
              world.secretariat_id)  # fmt: skip
    # About half the cases end in a final state; the rest are still open somewhere.
    closes = rng.random() < 0.5
    for number in range(steps):
        options = [t for t in moves.get(state, ()) if not definition.states[state].final]
        if not options:
            break
        last = number == steps - 1
        wanted = [t for t in options if definition.states[t.dest].final == (last and closes)]
        if not wanted and not closes:
            break  # only ways out of the process are left: the case stays open here
        options = wanted or options
        step = now - moment
        if step < timedelta(days=2):
            break
        transition = rng.choice(options)
        moment = moment + timedelta(
            seconds=rng.randrange(3600, max(3601, int(step.total_seconds() * 0.35)))
        )
        dest_body = _state_body_id(world, origin, definition.states[transition.dest].body)
        meeting_id = None
        if transition.decision and rng.random() < 0.8:
            meeting_id = _meeting_at(world, body_id, moment)
        data: dict[str, Any] = {"role": "chair" if transition.decision else "secretariat"}
        if transition.decision:
            data["decision_body"] = next(
                (code for code, b in world.bodies.items() if b.id == body_id), origin.code
            )
            if meeting_id is None:
                data["on_behalf_of_body"] = True  # the chairs decided between meetings
        if transition.dest != state:
            add_deadline(state, body_id, entered, moment)
            entered = moment
        source, state, body_id = state, transition.dest, dest_body
        add_event(transition.trigger, source, state, data, meeting_id, world.chair_id)
        if rng.random() < 0.4 and now - moment > timedelta(days=2):
            # The secretariat edits the case now and then (an 'edit' event, as edit_case writes).
            moment += timedelta(seconds=rng.randrange(600, 86400))
            add_event("edit", state, state, {"fields": [rng.choice(("summary", "title"))]},
                      None, world.secretariat_id)  # fmt: skip
    open_deadlines = add_deadline(state, body_id, entered, None)
    next_due = rows.deadlines[-1]["due_at"] if open_deadlines else None
    title = f"{rng.choice(WORDS)}: {rng.choice(DETAILS)} {case_id}"
    rows.cases.append(
        {"id": case_id, "process": definition.name, "process_version": definition.version,
         "state": state, "title": title,
         "summary": f"Sagen om {title.lower()} i {origin.name}.",
         "originating_body_id": origin.id, "current_body_id": body_id,
         "focus_area_id": rng.choice(world.focus_area_ids) if world.focus_area_ids else None,
         "plan_year": created.year + 1 if definition.plan_year else None,
         "principled": rng.random() < 0.1, "political": rng.random() < 0.05,
         "interface_change": False, "cost_driving": rng.random() < 0.1, "large_task": False,
         "business_case": "", "financing_proposal": "", "role_distribution": "",
         "general_practice_role": "", "triple_aim_quality": "", "triple_aim_economy": "",
         "triple_aim_experience": "", "triple_aim_population": "",
         "esdh_case_number": f"24-{case_id:07d}",
         "received_on": None, "sent_on": None, "journal_description": "", "extra": {},
         "tss_cleared_at": None, "created_by_id": world.secretariat_id, "created_at": created,
         "updated_at": moment, "state_entered_at": entered, "version": events,
         "next_due_at": next_due}
    )  # fmt: skip
    if world.party_ids and rng.random() < 0.33:
        for party_id in rng.sample(world.party_ids, k=min(len(world.party_ids), rng.randint(1, 3))):
            rows.expenses.append(
                {"id": ids.expense, "case_id": case_id, "party_id": party_id,
                 "amount_dkk": Decimal(rng.randrange(10, 5000) * 1000), "note": ""}
            )  # fmt: skip
            ids.expense += 1
    return events, open_deadlines


def _world(session: Session, connection: Connection, start: datetime, now: datetime) -> _World:
    bodies = {b.code: b for b in session.scalars(select(Body).order_by(Body.id))}
    chair_id, secretariat_id = _users(session, bodies)
    origins = _origins(bodies)
    deciding = {b.id: b for group in origins.values() for b in group}
    deciding.update({b.id: b for b in bodies.values() if b.kind == BodyKind.POLITICAL})
    return _World(
        bodies=bodies,
        origins=origins,
        chair_id=chair_id,
        secretariat_id=secretariat_id,
        party_ids=list(session.scalars(select(Party.id).where(Party.active).order_by(Party.id))),
        focus_area_ids=list(session.scalars(select(FocusArea.id).order_by(FocusArea.id))),
        meetings=_meetings(connection, list(deciding.values()), start, now),
    )


def generate(
    engine: Engine,
    cases: int,
    *,
    seed_value: int = 14,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> VolumeReport:
    """Add `cases` generated cases (with events, deadlines, meetings, expenses) to the
    database behind `engine`, migrating and seeding it first when needed."""
    import time

    began = time.perf_counter()
    migrate.upgrade(engine)
    now = now or datetime.now(UTC)
    start = now - timedelta(days=365 * YEARS)
    rng = random.Random(seed_value)
    key = load_key()
    report = VolumeReport()
    with Session(engine, expire_on_commit=False) as session:
        seed.run(session)
        definitions = [registry.latest(session, name) for name in registry.names(session)]
        with unit_of_work(session):
            world = _world(session, session.connection(), start, now)
        report.meetings = sum(len(m) for m in world.meetings.values())
    weights = {d.name: (3 if d.name == "forum_matter" else 1) for d in definitions}
    pool = [d for d in definitions for _ in range(weights[d.name])]
    moves = {d.name: _outgoing(d) for d in definitions}
    tables = [Case.__table__, CaseEvent.__table__, Deadline.__table__, CaseExpense.__table__]
    rows = _Rows()
    for batch in _batches(cases, CHUNK):
        with engine.begin() as connection:
            ids = _Ids(connection)
            for _ in range(batch):
                definition = rng.choice(pool)
                events, open_count = _one_case(
                    rng, world, definition, moves[definition.name], ids, rows, key, start, now
                )
                report.events += events
                report.open_deadlines += open_count
                report.by_process[definition.name] = report.by_process.get(definition.name, 0) + 1
            report.cases += len(rows.cases)
            report.deadlines += len(rows.deadlines)
            report.expenses += len(rows.expenses)
            _insert(connection, Case.__table__, rows.cases)  # type: ignore[arg-type]
            _insert(connection, CaseEvent.__table__, rows.events)  # type: ignore[arg-type]
            _insert(connection, Deadline.__table__, rows.deadlines)  # type: ignore[arg-type]
            _insert(connection, CaseExpense.__table__, rows.expenses)  # type: ignore[arg-type]
            rows.clear()
        if progress is not None:
            progress(f"{report.cases} af {cases} sager ({time.perf_counter() - began:.0f} s)")
    with engine.begin() as connection:
        _reset_sequences(connection, [*tables, Meeting.__table__])  # type: ignore[list-item]
        connection.execute(text("ANALYZE"))  # fresh planner statistics for the new volume
    report.seconds = time.perf_counter() - began
    return report


def _batches(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size
