"""Who may see and do what: the one access decision for every surface.

Views, links and buttons (templates call `may`), the API, documents, feeds, the timeline and
exports ask this module; no other module decides access. The rules are the table `RULES`: each
(action, subject kind) lists the grants that allow it, any one of which is enough. A grant is
written in the vocabulary of the process definitions, `<roles>@<where>`, optionally followed by
` if <condition>`:

- roles: `any` (every active membership, observers included), `worker` (any role but
  observer), `planner` (chair, vice-chair or secretariat), `chair` (chair or vice-chair),
  `secretariat`, `observer`, `party` (the user's party, e.g. a municipality);
- where: `anywhere`, `originating` / `current` (the case's bodies), `body` (the subject's own
  body: a meeting's, a unit's, a consulted body's), `consulted` (the bodies and parties asked in
  the case's consultation), or a body code such as `TSS`;
- `admin` alone grants to administrators;
- conditions: `shared` (the case's state is not private to its originating body, see
  `visibility` in states/*.toml, or the case has been sent on from it before), `open` (the
  case is not closed).

Transitions are not listed here: who may fire each one is part of its process definition
(`allowed = [...]`), checked by the engine; `may(user, "act", case)` asks the engine.
docs/access.md explains every rule and why read access is as wide as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import g, has_app_context
from sqlalchemy import (
    ColumnElement,
    Exists,
    Select,
    and_,
    bindparam,
    exists,
    false,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, aliased, object_session

from models import (
    Attachment,
    Body,
    BodyKind,
    BodySuccession,
    Case,
    CaseEvent,
    Consultation,
    ConsultationResponse,
    ImplementationStatus,
    Meeting,
    Membership,
    Role,
    User,
)
from workflow.engine import access
from workflow.engine import core as engine
from workflow.engine.db import written
from workflow.engine.errors import NotAllowed
from workflow.engine.processes import VERSIONS_MARK, note_mark, registry

# chair, secretariat and observer mean what they mean in the process definitions.
ROLE_GROUPS: dict[str, frozenset[Role]] = {
    "any": frozenset(Role),
    "worker": frozenset(Role) - {Role.OBSERVER},
    "planner": engine.ROLE_MATCHES["chair"] | engine.ROLE_MATCHES["secretariat"],
    "chair": engine.ROLE_MATCHES["chair"],
    "secretariat": engine.ROLE_MATCHES["secretariat"],
    "observer": engine.ROLE_MATCHES["observer"],
}
PLACES = ("anywhere", "originating", "current", "body", "consulted")
CONDITIONS = ("shared", "open", "forum")


@dataclass(frozen=True)
class Rule:
    """Who may take `action` on a subject of `kind`, and the refusal in words."""

    grants: tuple[str, ...]
    refusal: str
    refusal_en: str


# (action, subject kind) -> Rule. Subject kinds: site (the application as a whole), case,
# attachment, meeting, body, response (one party's or body's part of a consultation), unit
# (an implementation unit).
RULES: dict[tuple[str, str], Rule] = {
    ("administer", "site"): Rule(
        ("admin",),
        "Kun administratorer kan ændre brugere, organer og parter.",
        "Only administrators may change users, bodies and parties.",
    ),
    ("create_case", "site"): Rule(
        ("admin", "worker@anywhere"),
        "Kun medlemmer af et organ (ikke observatører) kan oprette sager.",
        "Only members of a body (not observers) may create cases.",
    ),
    ("act_in_bulk", "site"): Rule(
        ("admin", "planner@anywhere"),
        "Kun formandskaber og sekretariater kan handle på flere sager på én gang.",
        "Only chairs and secretariats may act on several cases at once.",
    ),
    ("keep_indicators", "site"): Rule(
        ("admin", "secretariat@TSS", "secretariat@SKU"),
        "Kun sekretariaterne for TSS og SKU kan vedligeholde indikatorerne.",
        "Only the secretariats of TSS and SKU may keep the indicators.",
    ),
    ("edit_plan", "site"): Rule(
        ("admin", "worker@TSS", "worker@SKU"),
        "Kun TSS og SKU kan ændre implementeringsplanen.",
        "Only TSS and SKU may change the implementation plan.",
    ),
    ("read_informed", "site"): Rule(
        ("admin", "any@KKR", "any@KKU", "any@SKU"),
        "Siden er for KKR Hovedstaden, KKU og SKU. Kontakt sekretariatet, hvis du skal have "
        "adgang.",
        "This page is for KKR, KKU and SKU members.",
    ),
    ("open_case", "body"): Rule(
        ("admin", "worker@body"),
        "Kun medlemmer af {body} kan oprette sager for organet.",
        "Only members of {body} may open cases for it.",
    ),
    ("view", "case"): Rule(
        ("admin", "any@originating", "any@anywhere if shared", "party@consulted"),
        "Sagen findes ikke, eller du har ikke adgang til den.",
        "The case does not exist, or you have no access to it.",
    ),
    ("act", "case"): Rule(
        ("transition",),
        "Du har ingen handlinger på sagen nu.",
        "You have no actions on this case now.",
    ),
    ("edit", "case"): Rule(
        ("admin if open", "worker@originating if open", "worker@current if open"),
        "Kun medlemmer af det organ, der har sagen, kan ændre den, og kun mens den er åben.",
        "Only members of a body that holds the case may change it, and only while it is open.",
    ),
    ("attach", "case"): Rule(
        ("admin", "worker@originating", "worker@current", "worker@consulted", "party@consulted"),
        "Du kan kun vedhæfte filer til sager, du arbejder med.",
        "You may attach files only to cases you work on.",
    ),
    ("ask_next_step", "case"): Rule(
        ("worker@originating", "worker@current"),
        "Kun medlemmer af et organ, der har sagen, kan bede om dens næste skridt.",
        "Only members of a body that holds the case may ask for its next step.",
    ),
    ("remind_material", "case"): Rule(
        ("admin", "secretariat@current", "secretariat@originating"),
        "Kun sekretariatet for det organ, der har sagen, kan minde om dens materiale.",
        "Only the secretariat of a body that holds the case may remind about its material.",
    ),
    ("migrate_version", "case"): Rule(
        ("admin",),
        "Kun administratorer kan flytte sager til en ny procesversion.",
        "Only administrators may move cases to a new process version.",
    ),
    ("run_consultation", "case"): Rule(
        ("admin", "planner@originating", "planner@current"),
        "Kun sagens sekretariat eller formandskab kan sende den i høring.",
        "Only the case's secretariat or chairs may run its consultation.",
    ),
    ("link_indicators", "case"): Rule(
        ("admin", "worker@originating", "worker@current"),
        "Kun medlemmer af et organ, der har sagen, kan knytte indikatorer til den.",
        "Only members of a body that holds the case may link indicators to it.",
    ),
    ("create_units", "case"): Rule(
        ("admin", "planner@originating", "planner@TSS"),
        "Kun sekretariatet eller formandskabet for sagen eller TSS kan oprette enhederne.",
        "Only the case's secretariat or chairs, or TSS's, may create the units.",
    ),
    # The case record (sagsakt) holds nothing the case page and its files do not show to the
    # same reader: a closed agenda item's decision is printed only for the members of its body
    # (view_closed_items), so whoever may see the case may take its record.
    ("export_record", "case"): Rule(
        ("case:view",),
        "Sagen findes ikke, eller du har ikke adgang til den.",
        "The case does not exist, or you have no access to it.",
    ),
    ("view", "attachment"): Rule(
        ("case:view",),
        "Bilaget findes ikke, eller du har ikke adgang til sagen.",
        "The attachment does not exist, or you have no access to its case.",
    ),
    ("answer", "response"): Rule(
        ("party@body", "worker@body"),
        "Kun den hørte part eller det hørte organ kan svare.",
        "Only the consulted party or body may answer.",
    ),
    ("report", "unit"): Rule(
        ("admin", "worker@body", "planner@originating", "planner@TSS"),
        "Kun den ansvarlige enhed, sagens formandskab eller sekretariat og TSS kan rapportere.",
        "Only the responsible unit, the case's chairs or secretariat and TSS may report.",
    ),
    ("view_meetings", "site"): Rule(
        ("admin", "any@anywhere"),
        "Du er ikke medlem af noget organ og kan derfor ikke se møder. Kontakt sekretariatet.",
        "You are not a member of any body, so you cannot see meetings. Contact the secretariat.",
    ),
    ("view", "meeting"): Rule(
        ("admin", "any@anywhere"),
        "Mødet findes ikke, eller du har ikke adgang til det.",
        "The meeting does not exist, or you have no access to it.",
    ),
    ("view_closed_items", "meeting"): Rule(
        ("admin", "any@body"),
        "Lukkede punkter kan kun ses af organets medlemmer.",
        "Closed items are for the body's members only.",
    ),
    ("plan", "meeting"): Rule(
        ("admin", "planner@body"),
        "Du kan ikke ændre møder i {body}. Det kan kun sekretariatet eller formandskabet for "
        "{body}.",
        "Only the secretariat or chairs of {body} may prepare and change its meetings.",
    ),
    ("edit_agenda", "meeting"): Rule(
        ("admin", "secretariat@body"),
        "Du kan ikke ændre dagsordenen. Det kan kun sekretariatet for {body}.",
        "Only the secretariat of {body} may change the agenda.",
    ),
    ("record_attendance", "meeting"): Rule(
        ("admin", "secretariat@body"),
        "Du kan ikke registrere fremmøde. Det kan kun sekretariatet for {body}.",
        "Only the secretariat of {body} may record who attended.",
    ),
    ("approve_minutes_as_participant", "meeting"): Rule(
        ("worker@body",),
        "Kun mødets deltagere fra {body} kan godkende referatet.",
        "Only the participants from {body} may approve the minutes.",
    ),
    ("write_minutes", "meeting"): Rule(
        ("admin", "secretariat@body"),
        "Du kan ikke skrive referat. Det kan kun sekretariatet for {body}.",
        "Only the secretariat of {body} may write the minutes.",
    ),
    ("apply_decisions", "meeting"): Rule(
        ("chair@body",),
        "Du kan ikke gennemføre beslutninger. Det kan kun formandskabet for {body}.",
        "Only the chairs of {body} may carry out the decisions.",
    ),
    ("record_follow_up", "meeting"): Rule(
        ("admin", "secretariat@body"),
        "Du kan ikke registrere opfølgning. Det kan kun sekretariatet for {body}.",
        "Only the secretariat of {body} may record follow-ups.",
    ),
    ("close_follow_ups", "body"): Rule(
        ("admin", "secretariat@body"),
        "Kun den ansvarlige eller sekretariatet kan melde opfølgningen udført.",
        "Only the owner or the secretariat may complete the follow-up.",
    ),
    ("keep_templates", "site"): Rule(
        ("admin",),
        "Kun administratorer kan ændre skabeloner for alle organer.",
        "Only administrators may change templates for all bodies.",
    ),
    ("watch_material", "body"): Rule(
        ("worker@body",),
        "Kun medlemmer af {body} kan følge materialefristerne for organets sager.",
        "Only members of {body} may watch the material deadlines of its cases.",
    ),
    ("plan_meetings", "body"): Rule(
        ("admin", "planner@body"),
        "Du kan ikke planlægge møder i {body}. Det kan kun sekretariatet eller formandskabet "
        "for {body}.",
        "Only the secretariat or chairs of {body} may plan its meetings.",
    ),
    # Seed 000 l.68-69: the forum's chairmanship may set up ad hoc groups (no one else).
    ("set_up_ad_hoc_group", "body"): Rule(
        ("chair@body if forum",),
        "Kun formandskabet for et samarbejdsforum kan nedsætte ad hoc-grupper under det; "
        "{body} er ikke et forum, eller du er ikke i dets formandskab.",
        "Only the chairs of a standing forum may set up ad hoc groups under it; {body} is not "
        "a forum, or you are not among its chairs.",
    ),
    ("see_failed_deliveries", "body"): Rule(
        ("admin", "secretariat@body"),
        "Kun sekretariatet for {body} kan se de beskeder til organet, der ikke kunne leveres.",
        "Only the secretariat of {body} may see the notifications to it that failed.",
    ),
    ("keep_webhooks", "body"): Rule(
        ("admin", "secretariat@body"),
        "Kun sekretariatet for {body} kan se og ændre organets webhooks.",
        "Only the secretariat of {body} may see and change its webhooks.",
    ),
    # The webhook pages as a whole: for anyone who keeps some body's webhooks.
    ("keep_webhooks", "site"): Rule(
        ("admin", "secretariat@anywhere"),
        "Webhooks holdes af organernes sekretariater, og du er ikke sekretariat for noget organ. "
        "Kontakt en administrator, hvis du skal have adgang.",
        "Webhooks are kept by the bodies' secretariats, and you are not the secretariat of any "
        "body. Contact an administrator if you need access.",
    ),
    ("retry_delivery", "site"): Rule(
        ("admin",),
        "Kun administratorer kan sende en opgivet besked igen. Kontakt en administrator.",
        "Only administrators may send a failed notification again. Contact an administrator.",
    ),
    ("view_operations", "site"): Rule(
        ("admin",),
        "Driftssiden er for administratorer. Kontakt en administrator.",
        "The operations page is for administrators. Contact an administrator.",
    ),
    ("replay_whatif", "site"): Rule(
        ("admin",),
        "Kun administratorer kan genafspille sagerne mod en ændret proces eller mødekalender.",
        "Only administrators may replay the cases against a changed process or calendar.",
    ),
    ("design_processes", "site"): Rule(
        ("admin",),
        "Kun administratorer kan ændre og udgive procesdefinitioner.",
        "Only administrators may edit and publish process definitions.",
    ),
    ("read_metrics", "site"): Rule(
        ("admin",),
        "Målingerne kan kun læses af administratorer eller med driftens adgangsnøgle.",
        "Only administrators, or the monitoring's access token, may read the metrics.",
    ),
    ("keep_templates", "body"): Rule(
        ("admin", "secretariat@body"),
        "Du kan ikke ændre beslutningsskabeloner. Det kan kun sekretariatet for {body}.",
        "Only the secretariat of {body} may keep its decision templates.",
    ),
}


SUBJECT_KINDS = ("site", "case", "attachment", "meeting", "body", "response", "unit")
SPECIAL_GRANTS = ("admin", "transition", "case:view")
_BODY_CODE = re.compile(r"^[A-ZÆØÅ][A-ZÆØÅ0-9-]*$")


class PolicyError(ValueError):
    """The rules table names something the policy does not know."""


def check_rules(rules: dict[tuple[str, str], Rule]) -> None:
    """Validate the table at load: known subject kinds, role groups, places and conditions."""
    for (action, kind), rule in rules.items():
        where = f"RULES[({action!r}, {kind!r})]"
        if kind not in SUBJECT_KINDS:
            raise PolicyError(f"{where}: ukendt slags emne {kind!r}; kendte: {SUBJECT_KINDS}")
        if not rule.grants or not rule.refusal or not rule.refusal_en:
            raise PolicyError(f"{where}: mangler tilladelser eller en dansk og engelsk afvisning")
        for text in rule.grants:
            grant, _sep, condition = text.partition(" if ")
            if condition and condition not in CONDITIONS:
                raise PolicyError(f"{where}: ukendt betingelse {condition!r} i {text!r}")
            if grant in SPECIAL_GRANTS:
                continue
            roles, at, place = grant.partition("@")
            if not at or (roles not in ROLE_GROUPS and roles != "party"):
                raise PolicyError(f"{where}: ukendt rolle {roles!r} i {text!r}")
            if place not in PLACES and not _BODY_CODE.match(place):
                raise PolicyError(f"{where}: ukendt sted {place!r} i {text!r}")


check_rules(RULES)


@dataclass(frozen=True)
class Standing:
    """What the policy knows of a user: active, admin, party and active memberships."""

    user_id: int | None
    active: bool
    is_admin: bool
    party_id: int | None
    roles: frozenset[tuple[int, Role]]
    codes: dict[str, int]

    def holds(self, group: str, body_ids: Iterable[int | None]) -> bool:
        wanted = ROLE_GROUPS[group]
        ids = {b for b in body_ids if b is not None}
        return any(body_id in ids and role in wanted for body_id, role in self.roles)

    def holds_anywhere(self, group: str) -> bool:
        wanted = ROLE_GROUPS[group]
        return any(role in wanted for _body_id, role in self.roles)

    @property
    def body_ids(self) -> set[int]:
        return {body_id for body_id, _role in self.roles}


NOBODY = Standing(None, False, False, None, frozenset(), {})

# Aliases built once: building one per call costs more than the query it serves.
_PREDECESSOR = aliased(Body, name="predecessor_body")
_SENT_ON_EVENT = aliased(CaseEvent, name="sent_on_event")
# Every request reads the standing: the statement is built once (its SQL cache key with it).
_STANDING_QUERY = (
    select(Membership.body_id, Membership.role, Body.code, _PREDECESSOR.code)
    .join(Body, Body.id == Membership.body_id)
    .outerjoin(BodySuccession, BodySuccession.successor_id == Membership.body_id)
    .outerjoin(_PREDECESSOR, _PREDECESSOR.id == BodySuccession.predecessor_id)
    .where(Membership.user_id == bindparam("user_id"), Membership.active.is_(True))
)


# The standings of several users (a body's members on the meeting page) in one statement.
_STANDINGS_QUERY = (
    select(Membership.user_id, Membership.body_id, Membership.role, Body.code, _PREDECESSOR.code)
    .join(Body, Body.id == Membership.body_id)
    .outerjoin(BodySuccession, BodySuccession.successor_id == Membership.body_id)
    .outerjoin(_PREDECESSOR, _PREDECESSOR.id == BodySuccession.predecessor_id)
    .where(
        Membership.user_id.in_(bindparam("user_ids", expanding=True)),
        Membership.active.is_(True),
    )
)


def _standing_of(user: User, rows: Iterable[Any]) -> Standing:
    """A standing from its memberships' rows (body id, role, code, former code)."""
    rows = list(rows)
    codes = {former: body_id for body_id, _role, _code, former in rows if former is not None}
    codes |= {code: body_id for body_id, _role, code, _former in rows}
    return Standing(
        user.id,
        True,
        user.is_admin,
        user.party_id,
        frozenset((body_id, Role(role)) for body_id, role, _code, _former in rows),
        codes,
    )


# A user's row with each active membership's body, role, code and the code of a body it took
# over from, outer-joined: a user without any keeps one row, its membership columns NULL.
MEMBERSHIP_COLUMNS = (Membership.body_id, Membership.role, Body.code, _PREDECESSOR.code)


def with_memberships(
    statement: Select[Any], *, only: ColumnElement[bool] | None = None
) -> Select[Any]:
    """`statement` (which reads `User`) with the user's active memberships outer-joined as
    `MEMBERSHIP_COLUMNS` reads them; `only` limits the join to the rows it holds for (a
    statement of several parts joins them to one part's users)."""
    condition = and_(Membership.user_id == User.id, Membership.active.is_(True))
    if only is not None:
        condition = and_(condition, only)
    return (
        statement.outerjoin_from(User, Membership, condition)
        .outerjoin_from(Membership, Body, Body.id == Membership.body_id)
        .outerjoin_from(
            Membership, BodySuccession, BodySuccession.successor_id == Membership.body_id
        )
        .outerjoin_from(
            BodySuccession, _PREDECESSOR, _PREDECESSOR.id == BodySuccession.predecessor_id
        )
    )


# The page frame reads the logged-in user on every request, then their standing and the stored
# process versions: one statement reads all three, the user's row once per active membership
# (once with none), with the versions' mark (workflow.engine.processes.VERSIONS_MARK).
_USER_WITH_STANDING = with_memberships(
    select(User, *MEMBERSHIP_COLUMNS, VERSIONS_MARK.c.versions, VERSIONS_MARK.c.newest)
    .join_from(User, VERSIONS_MARK, true())
    .where(User.id == bindparam("user_id"))
)


def load_user(session: Session, user_id: int) -> User | None:
    """The user with `user_id`, their standing kept for the request as `standing` keeps it, and
    the stored process versions' mark noted for the transaction: all in one statement."""
    rows = session.execute(_USER_WITH_STANDING, {"user_id": user_id}).all()
    if not rows:
        return None
    user: User = rows[0][0]
    note_mark(session, rows[0][5], rows[0][6])
    if user.active and has_app_context():
        memberships = [row[1:5] for row in rows if row[1] is not None]
        g.setdefault("policy_standing", {})[user.id] = _standing_of(user, memberships)
    return user


def standing(session: Session, user: User | None) -> Standing:
    """The user's standing, read once per request (memberships change between requests)."""
    if user is None or not user.active:
        return NOBODY
    cache: dict[int, Standing] | None = None
    if has_app_context():
        cache = g.setdefault("policy_standing", {})
        if user.id in cache:
            return cache[user.id]
    # A body that took over from a closed one (a reorganisation) answers to the closed body's
    # code in the rules too ("secretariat@TSS" is held in TSS's successor): read in the same
    # statement as the memberships.
    found = _standing_of(user, session.execute(_STANDING_QUERY, {"user_id": user.id}))
    if cache is not None:
        cache[user.id] = found
    return found


def read_standings(session: Session, users: Iterable[User]) -> None:
    """Read the standings of several users in one statement, for a page that asks the policy
    about each of them (a body's members): `standing` then finds them read. Outside a
    request there is nowhere to keep them, and each is read when asked."""
    if not has_app_context():
        return
    cache: dict[int, Standing] = g.setdefault("policy_standing", {})
    wanted = {user.id: user for user in users if user.active and user.id not in cache}
    if not wanted:
        return
    rows: dict[int, list[Any]] = {user_id: [] for user_id in wanted}
    for user_id, *row in session.execute(_STANDINGS_QUERY, {"user_ids": sorted(wanted)}):
        rows[user_id].append(row)
    for user_id, user in wanted.items():
        cache[user_id] = _standing_of(user, rows[user_id])


# A body's members (deactivated users too), by name, each with every active membership of
# theirs: a page that lists them and asks the policy about each (the meeting page's minutes
# steps) reads them and their standings in one statement.
_OF_BODY = aliased(Membership, name="membership_of_body")
_MEMBERS_WITH_STANDINGS = with_memberships(
    select(User, *MEMBERSHIP_COLUMNS)
    .where(
        exists().where(
            _OF_BODY.user_id == User.id,
            _OF_BODY.body_id == bindparam("body_id"),
            _OF_BODY.active.is_(True),
        )
    )
    .order_by(User.name, User.id)
)


def members_with_standings(session: Session, body_id: int) -> list[User]:
    """The users with an active membership of the body (deactivated users too), by name;
    the active ones' standings kept for the request, as `read_standings` keeps them."""
    members = MembersRead()
    for user, *membership in session.execute(_MEMBERS_WITH_STANDINGS, {"body_id": body_id}):
        members.add(user, membership)
    return members.kept()


class MembersRead:
    """Users read a row per active membership (`MEMBERSHIP_COLUMNS` after the user, as
    `with_memberships` joins them), gathered in the order read; `kept` keeps the active
    ones' standings for the request, as `read_standings` keeps them, and returns the users."""

    def __init__(self) -> None:
        self._users: dict[int, User] = {}
        self._rows: dict[int, list[Any]] = {}

    def add(self, user: User, membership: Sequence[Any]) -> None:
        self._users.setdefault(user.id, user)
        held = self._rows.setdefault(user.id, [])
        if membership[0] is not None:
            held.append(membership)

    def kept(self) -> list[User]:
        if has_app_context():
            cache: dict[int, Standing] = g.setdefault("policy_standing", {})
            for user_id, user in self._users.items():
                if user.active and user_id not in cache:
                    cache[user_id] = _standing_of(user, self._rows[user_id])
        return list(self._users.values())


def kind_of(subject: Any) -> str:
    """The subject kind a rule names for `subject` (None is the application as a whole)."""
    kinds: dict[type, str] = {
        Case: "case",
        Attachment: "attachment",
        Meeting: "meeting",
        Body: "body",
        ConsultationResponse: "response",
        ImplementationStatus: "unit",
    }
    if subject is None:
        return "site"
    for cls, kind in kinds.items():
        if isinstance(subject, cls):
            return kind
    raise TypeError(f"the access policy knows no subject of type {type(subject).__name__}")


def _case_of(session: Session, subject: Any) -> Case | None:
    if isinstance(subject, Case):
        return subject
    if isinstance(subject, (Attachment, ImplementationStatus)):
        return session.get(Case, subject.case_id)
    if isinstance(subject, ConsultationResponse):
        return session.get(Case, subject.consultation.case_id)
    return None


def _own_body(subject: Any) -> int | None:
    if isinstance(subject, Meeting):
        return subject.body_id
    if isinstance(subject, Body):
        return subject.id
    if isinstance(subject, ConsultationResponse):
        return subject.body_id
    if isinstance(subject, ImplementationStatus):
        return subject.responsible_body_id
    return None


def _consulted(session: Session, case: Case) -> tuple[set[int], set[int]]:
    """The bodies and the parties asked in the case's consultations."""
    rows = session.execute(
        select(ConsultationResponse.body_id, ConsultationResponse.party_id)
        .join(Consultation, Consultation.id == ConsultationResponse.consultation_id)
        .where(Consultation.case_id == case.id)
    ).all()
    return {b for b, _p in rows if b is not None}, {p for _b, p in rows if p is not None}


def is_shared(case: Case, session: Session) -> bool:
    """Whether the case is visible beyond its originating body: it is not in a draft state, or
    it has been sent on from one before (a case TSS returns for revision stays shared)."""
    state = engine.definition_of(case).states.get(case.state)
    if state is None or state.visibility != "originating":
        return True
    return session.scalar(select(_sent_on(case.id, [case.state]))) is True


def _sent_on(case_id: Any, private_names: list[str] | list[ColumnElement[Any]]) -> Exists:
    """EXISTS: the case has left a private state for another state at least once."""
    # Its own alias, correlated only to the cases: reports join the case events themselves.
    event = _SENT_ON_EVENT
    return (
        exists()
        .where(
            event.case_id == case_id,
            event.from_state.in_(private_names),
            event.to_state.not_in(private_names),
        )
        .correlate(Case)
    )


def _is_open(case: Case) -> bool:
    state = engine.definition_of(case).states.get(case.state)
    return state is None or not state.final


class _Check:
    """Evaluates grants for one user and one subject, reading only what a grant needs."""

    def __init__(self, session: Session, user: User | None, who: Standing, subject: Any) -> None:
        self.session, self.user, self.who, self.subject = session, user, who, subject
        self.case = _case_of(session, subject)

    def condition(self, name: str) -> bool:
        if name == "forum":  # the subject is a standing forum (seed 000)
            return isinstance(self.subject, Body) and self.subject.kind == BodyKind.FORUM
        if self.case is None:
            return False
        return is_shared(self.case, self.session) if name == "shared" else _is_open(self.case)

    def bodies(self, place: str) -> set[int | None]:
        case = self.case
        if place == "originating":
            return {case.originating_body_id} if case else set()
        if place == "current":
            return {case.current_body_id} if case else set()
        if place == "body":
            return {_own_body(self.subject)}
        if place == "consulted":
            return set(_consulted(self.session, case)[0]) if case else set()
        # A body code: the user holds a role there only if it is among their bodies.
        return {self.who.codes[place]} if place in self.who.codes else set()

    def party_asked(self, place: str) -> bool:
        if self.who.party_id is None:
            return False
        if place == "body" and isinstance(self.subject, ConsultationResponse):
            return self.subject.party_id == self.who.party_id
        if place == "consulted" and self.case is not None:
            return self.who.party_id in _consulted(self.session, self.case)[1]
        return False

    def grant(self, text: str) -> bool:
        grant, _sep, condition = text.partition(" if ")
        if condition and not self.condition(condition):
            return False
        if grant == "admin":
            return self.who.is_admin
        if grant == "transition":
            return self.case is not None and bool(engine.allowed_triggers(self.case, self.user))
        if grant.startswith("case:"):
            return self.case is not None and may(self.user, grant[5:], self.case, self.session)
        roles, _at, place = grant.partition("@")
        if roles == "party":
            return self.party_asked(place)
        if place == "anywhere":
            return self.who.holds_anywhere(roles)
        return self.who.holds(roles, self.bodies(place))


def _session_of(subject: Any, user: User | None) -> Session:
    session = object_session(subject) if subject is not None else None
    session = session or (object_session(user) if user is not None else None)
    if session is None:
        from workflow.web import db  # a request's session, for checks about the site

        return db()
    return session


def may(
    user: User | None, action: str, subject: Any = None, session: Session | None = None
) -> bool:
    """Whether `user` may take `action` on `subject` (None: the application as a whole)."""
    rule = RULES[(action, kind_of(subject))]
    session = session or _session_of(subject, user)
    who = standing(session, user)
    if not who.active:
        return False
    check = _Check(session, user, who, subject)
    return any(check.grant(grant) for grant in rule.grants)


def bodies_where(
    session: Session, user: User | None, action: str, among: Iterable[Body] | None = None
) -> list[Body]:
    """The active bodies, by code, on which `user` may take `action` (for form choices).

    `among`: the active bodies of the user's active memberships, when the caller has read
    them already (the front page): a rule that grants a role held on the body itself is then
    answered from them, without reading the bodies again."""
    query = select(Body).where(Body.active.is_(True)).order_by(Body.code)
    held = _held_for(RULES[(action, "body")].grants, standing(session, user))
    if held is None:
        return [body for body in session.scalars(query) if may(user, action, body, session)]
    # The rule grants a role held on the body itself, to someone who is no admin: exactly the
    # active bodies where the user holds it pass (`may` would say the same of each).
    if not held:
        return []
    if among is not None:
        return sorted({b.id: b for b in among if b.id in held}.values(), key=lambda b: b.code)
    return list(session.scalars(query.where(Body.id.in_(sorted(held)))))


def bodies_held_for(session: Session, user: User | None, action: str) -> set[int] | None:
    """The ids of the bodies, active or not, where `user` holds a role the rule for `action`
    on a body grants on the body itself: `bodies_where` without its statement, for a statement
    that leaves out the inactive bodies itself. None when the standing alone does not say (an
    admin, another grant): ask `bodies_where`."""
    return _held_for(RULES[(action, "body")].grants, standing(session, user))


def _held_for(grants: Iterable[str], who: Standing) -> set[int] | None:
    """The bodies a non-admin's standing holds a role in that `grants` give on a body itself
    (`worker@body`…), when those are the only grants besides `admin`; None when another grant
    (or being an admin) may let other bodies pass."""
    if who.is_admin:
        return None
    held: set[int] = set()
    for grant in grants:
        if grant == "admin":
            continue
        roles, at, place = grant.partition("@")
        if not at or place != "body" or roles not in ROLE_GROUPS:
            return None
        held |= {body_id for body_id, role in who.roles if role in ROLE_GROUPS[roles]}
    return held


def require(
    user: User | None, action: str, subject: Any = None, session: Session | None = None
) -> None:
    """Raise NotAllowed, with the rule's explanation, unless `user` may take `action`."""
    session = session or _session_of(subject, user)
    if not may(user, action, subject, session):
        rule = RULES[(action, kind_of(subject))]
        body_id = _own_body(subject)
        body = session.get(Body, body_id) if body_id is not None else None
        code = body.code if body is not None else ""
        raise NotAllowed(
            rule.refusal.format(body=code),
            rule.refusal_en.format(body=code),
            list(rule.grants),
            rule=f"may_{action}",
        )


def _private_states(session: Session) -> list[tuple[str, int, str]]:
    """(process, version, state) of every stored version's states private to the originating
    body: a case keeps the rules of its own version."""
    if has_app_context() and "policy_private_states" in g:
        return list(g.policy_private_states)
    found = [
        (name, version, state.name)
        for (name, version), definition in registry.stored(session).items()
        for state in definition.states.values()
        if state.visibility == "originating"
    ]
    if has_app_context():
        g.policy_private_states = found
    return found


def visible_cases(
    session: Session, user: User | None, *, bodies_written: bool = False
) -> ColumnElement[bool]:
    """A WHERE clause for the cases `user` may see (the same rule as `may(user, "view", case)`):
    admins all; others every shared case, the drafts of their own bodies and the cases their
    party is consulted on; a user without memberships only the last.

    `bodies_written`: the user's bodies written into the SQL rather than bound, for a
    statement kept per reader anyway (the front page's sections): a bound IN list is expanded
    on every execution, once per copy of the rule. Elsewhere they stay bound, so that one
    compiled statement serves every reader (SQLAlchemy keeps 500 of them per engine)."""
    who = standing(session, user)
    if not who.active:
        return false()
    if who.is_admin:
        return true()
    # Built once per request and user, as the standing it reads: the header's unread count and
    # the page itself ask for the same rule.
    cache: dict[tuple[int | None, bool], ColumnElement[bool]] = (
        g.setdefault("policy_visible_cases", {}) if has_app_context() else {}
    )
    key = (who.user_id, bodies_written)
    if key not in cache:
        cache[key] = _visible_to(
            who.party_id, frozenset(who.body_ids), tuple(_private_states(session)), bodies_written
        )
    return cache[key]


@lru_cache(maxsize=1024)
def _visible_to(
    party_id: int | None,
    body_ids: frozenset[int],
    private_states: tuple[tuple[str, int, str], ...],
    bodies_written: bool = False,
) -> ColumnElement[bool]:
    """The rule for a standing, from exactly what it depends on: kept across requests, since
    building it (and SQLAlchemy's cache key of every statement it is part of) costs more than
    most queries it filters. A published version changes `private_states`, a membership
    `body_ids`: either gives a new rule."""
    # A party consulted on a case reads it, membership or not (the "party@consulted" grant).
    consulted: ColumnElement[bool] = false()
    if party_id is not None:
        consulted = Case.id.in_(
            select(Consultation.case_id)
            .join(ConsultationResponse, ConsultationResponse.consultation_id == Consultation.id)
            .where(ConsultationResponse.party_id == party_id)
        )
    if not body_ids:
        return consulted
    # The process names, versions and states are written into the SQL (`written`), the same
    # for every reader: the rule is part of most statements, and every bound value, an IN
    # list above all, is handled anew on each execution.
    private = [
        and_(
            Case.process == written(name),
            Case.process_version == written(version),
            Case.state == written(state),
        )
        for name, version, state in private_states
    ]
    if not private:
        return true()
    own_body = Case.originating_body_id.in_(
        [written(body_id) for body_id in sorted(body_ids)] if bodies_written else sorted(body_ids)
    )
    private_names = sorted({state for _name, _version, state in private_states})
    sent_on = _sent_on(Case.id, [written(state) for state in private_names])
    return or_(not_(or_(*private)), own_body, consulted, sent_on)


def visible_agenda_items(
    session: Session,
    user: User | None,
    body_id: Any,
    closed: Any,
) -> ColumnElement[bool]:
    """A WHERE clause for agenda items, given their meeting's body and closed flag (the search
    index): the same rules as `may(user, "view_meetings")` for any item and
    `may(user, "view_closed_items", meeting)` for a closed one, read from RULES."""
    if not may(user, "view_meetings", None, session):
        return false()
    who = standing(session, user)
    bodies: set[int] = set()
    for text in RULES[("view_closed_items", "meeting")].grants:
        if text == "admin":
            if who.is_admin:
                return true()
            continue
        roles, _at, place = text.partition("@")
        if place != "body" or roles not in ROLE_GROUPS:
            raise PolicyError(f"visible_agenda_items kan ikke læse reglen {text!r}")
        wanted = ROLE_GROUPS[roles]
        bodies |= {body for body, role in who.roles if role in wanted}
    not_closed: ColumnElement[bool] = not_(closed)
    if not bodies:
        return not_closed
    return or_(not_closed, body_id.in_(sorted(bodies)))


# The engine asks this policy before it changes a case's content (workflow.engine.access).
access.install_policy(may)
