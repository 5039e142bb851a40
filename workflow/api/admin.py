"""Administration through the API: users (list, create, edit, deactivate), their memberships
(add, end) and parties (create, edit). The admin pages' operations (workflow.admin.operations,
each audited) and checks (workflow.admin.checks), behind the same policy (`administer`).

Users and parties have no version column: their ETag is the fingerprint of their audited
values (the one the admin forms carry), and an edit sends it in `If-Match`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from flask import Response, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Body, Membership, Party, PartyKind, PlanningArea, Role, User
from workflow import policy
from workflow.admin import operations
from workflow.admin.checks import (
    deactivates_self,
    demotes_self,
    email_taken,
    ends_before_it_began,
    fingerprint,
    party_code_taken,
)
from workflow.api.cases import CURSOR, IF_MATCH, LIMIT
from workflow.api.listing import cursor_id, encode_cursor
from workflow.api.preconditions import require_current
from workflow.api.problems import ApiProblem, json_response
from workflow.api.reference_data import REFERENCE
from workflow.api.refusals import refusal
from workflow.api.schema import INT32_MAX, array, date_input, integer, nullable, obj, string
from workflow.api.serialize import (
    BODY_REF,
    BOOL,
    DAY,
    INT,
    PARTY,
    PARTY_REF,
    STR,
    TIME,
    body_ref,
    iso,
    iso_date,
    maybe,
    out,
    page,
    party_json,
)
from workflow.api.spec import Call, Param, Reply, operation
from workflow.auth import passwords
from workflow.engine import clock
from workflow.engine.calendar import local_date
from workflow.engine.errors import NotAllowed
from workflow.web import db

USERS, PARTIES = "Administration: brugere", "Administration: parter"
ERRORS = (403, 409, 422)
EDIT_ERRORS = (403, 409, 412, 422, 428)
LOCALE = {"type": "string", "enum": ["da", "en"], "examples": ["da"]}
ROLE = {"type": "string", "enum": [r.value for r in Role], "examples": ["member"]}
PARTY_KIND = {"type": "string", "enum": [k.value for k in PartyKind], "examples": ["hospital"]}
# One address without spaces or control characters, as the admin form's check.
ADDRESS_PART = r"[^@\s\u0000-\u001f\u007f]+"
EMAIL = string(
    254, 3, pattern=f"^{ADDRESS_PART}@{ADDRESS_PART}\\.{ADDRESS_PART}$",
    examples=["jens.hansen@kommune.dk"],
)  # fmt: skip
NAME = string(200, 1, examples=["Jens Hansen"])
PASSWORD = string(passwords.MAX_LENGTH, passwords.MIN_LENGTH, examples=["korrekt hest batteri"])
PARTY_ID = nullable({**integer(1), REFERENCE: "parties"})
AREA_ID = nullable({**integer(1), REFERENCE: "planning_areas"})
CODE = string(64, 1, pattern=r"^[A-ZÆØÅ][A-ZÆØÅ0-9-]*$", examples=["HOSP-BOH"])
ETAG = {"ETag": {"type": "string"}}

MEMBERSHIP = out(
    {"id": INT, "user_id": INT, "body": BODY_REF, "role": ROLE, "since": maybe(DAY),
     "until": maybe(DAY), "active": BOOL, "source": maybe(STR)},
    "Membership",
)  # fmt: skip
USER_PROPERTIES: dict[str, Any] = {
    "id": INT,
    "name": STR,
    "email": STR,
    "locale": STR,
    "is_admin": BOOL,
    "active": BOOL,
    "party": maybe(PARTY_REF),
    "created_at": TIME,
}
USER_SUMMARY = out(USER_PROPERTIES, "UserSummary")
USER = out({**USER_PROPERTIES, "memberships": array(MEMBERSHIP)}, "User")
USER_PAGE = page(USER_SUMMARY, "UserPage")

NEW_USER = obj(
    {"name": NAME, "email": EMAIL, "locale": LOCALE, "is_admin": {"type": "boolean"},
     "password": PASSWORD, "party_id": PARTY_ID},
    required=("name", "email", "password"),
    description="En ny bruger med den adgangskode, de første gang logger ind med.",
)  # fmt: skip
USER_EDIT = obj(
    {"name": NAME, "email": EMAIL, "locale": LOCALE, "is_admin": {"type": "boolean"},
     "party_id": PARTY_ID, "new_password": PASSWORD},
    description="Ret brugeren; udeladte felter bevares. 'new_password' sætter en ny adgangskode "
    "(brugeren logges ud alle steder).",
)  # fmt: skip
NEW_MEMBERSHIP = obj(
    {"body": {**string(32, 1), REFERENCE: "bodies"}, "role": ROLE,
     "since": {**date_input(), "description": "Fra (standard: i dag)."}},
    required=("body", "role"),
)  # fmt: skip
END_MEMBERSHIP = obj({"until": {**date_input(), "description": "Til og med (standard: i dag)."}})
NEW_PARTY = obj(
    {"code": CODE, "name": {**NAME, "examples": ["Bornholms Hospital"]}, "kind": PARTY_KIND,
     "planning_area_id": AREA_ID, "active": {"type": "boolean", "default": True}},
    required=("code", "name", "kind"),
)  # fmt: skip
PARTY_EDIT = obj(
    {"name": NAME, "planning_area_id": AREA_ID, "active": {"type": "boolean"}},
    description="Ret parten (fx flyt en kommune til et andet planområde fra i dag); udeladte "
    "felter bevares. Koden og arten ændres ikke.",
)  # fmt: skip

USER_ID = "$response.body#/id"
USER_LINKS = {
    "GetUser": {"operationId": "get_user", "parameters": {"path.user_id": USER_ID}},
    "EditUser": {
        "operationId": "edit_user",
        "parameters": {"path.user_id": USER_ID, "header.If-Match": "$response.header.ETag"},
    },
    "AddMembership": {"operationId": "add_membership", "parameters": {"path.user_id": USER_ID}},
    "DeactivateUser": {"operationId": "deactivate_user", "parameters": {"path.user_id": USER_ID}},
}
MEMBERSHIP_LINKS = {
    "EndMembership": {
        "operationId": "end_membership",
        "parameters": {"path.membership_id": "$response.body#/id"},
    },
    "GetMembersUser": {
        "operationId": "get_user",
        "parameters": {"path.user_id": "$response.body#/user_id"},
    },
}
PARTY_LINKS = {
    "GetParty": {"operationId": "get_party", "parameters": {"path.party_id": "$response.body#/id"}},
    "EditParty": {
        "operationId": "edit_party",
        "parameters": {
            "path.party_id": "$response.body#/id",
            "header.If-Match": "$response.header.ETag",
        },
    },
}


# Access, lookups and refusals ---------------------------------------------------------------


def _admin(call: Call) -> User:
    """The caller, if they may administer (else 403 with the policy's reason)."""
    try:
        policy.require(call.actor, "administer", None, db())
    except NotAllowed as error:
        raise refusal(error) from None
    return call.actor


def _not_found(what_da: str, what_en: str, number: int) -> ApiProblem:
    return ApiProblem(
        "not-found", f"{what_da} nr. {number} findes ikke.", f"{what_en} {number} does not exist."
    )


def _conflict(rule: str, field: str | None, da: str, en: str) -> ApiProblem:
    error = {"rule": rule, "message": da, "message_da": da, "message_en": en}
    if field is not None:
        error["field"] = field
    return ApiProblem("conflict", da, en, errors=[error], rule=rule)


def _unprocessable(rule: str, field: str, da: str, en: str) -> ApiProblem:
    error = {"field": field, "rule": rule, "message": da, "message_da": da, "message_en": en}
    return ApiProblem("unprocessable", da, en, errors=[error], rule=rule)


Row = TypeVar("Row")


def _get(session: Session, model: type[Row], number: int) -> Row | None:
    """The row with this id; None also beyond the id column's range."""
    return session.get(model, number) if number <= INT32_MAX else None


def _find_user(session: Session, user_id: int) -> User:
    user = _get(session, User, user_id)
    if user is None:
        raise _not_found("Bruger", "User", user_id)
    return user


def _find_party(session: Session, party_id: int) -> Party:
    party = _get(session, Party, party_id)
    if party is None:
        raise _not_found("Part", "Party", party_id)
    return party


def _known_party(session: Session, party_id: int | None) -> int | None:
    if party_id is not None and _get(session, Party, party_id) is None:
        raise _unprocessable(
            "known_party", "party_id",
            f"Part nr. {party_id} findes ikke. Se GET /api/v1/parties.",
            f"Party {party_id} does not exist. See GET /api/v1/parties.",
        )  # fmt: skip
    return party_id


def _known_area(session: Session, area_id: int | None) -> int | None:
    if area_id is not None and _get(session, PlanningArea, area_id) is None:
        raise _unprocessable(
            "known_planning_area", "planning_area_id",
            f"Planområde nr. {area_id} findes ikke.", f"Planning area {area_id} does not exist.",
        )  # fmt: skip
    return area_id


def _named(value: str, field: str) -> str:
    """A name that says something (the page's required field): not only spaces."""
    if not value.strip():
        raise _unprocessable(
            "name_given", field, "Skriv et navn, ikke kun mellemrum.", "Give a name, not spaces."
        )
    return value


def _unused_email(session: Session, email: str, except_id: int | None = None) -> str:
    if email_taken(session, email, except_id):
        raise _conflict(
            "unique_email", "email",
            "Der findes allerede en bruger med den e-mailadresse.",
            "A user with that e-mail address already exists.",
        )  # fmt: skip
    return email.strip()


def _acceptable_password(password: str, email: str, field: str) -> str:
    problem = passwords.policy_problem(password, email)
    if problem is not None:
        raise _unprocessable(
            "password_policy", field, str(problem),
            f"The password must be {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters "
            "and not the e-mail address.",
        )  # fmt: skip
    return password


# Users --------------------------------------------------------------------------------------


def user_etag(user: User) -> str:
    """The user's ETag: the fingerprint of their audited values (the admin form's)."""
    return f'"user-{user.id}-{fingerprint(operations.user_values(user))}"'


def membership_json(membership: Membership) -> dict[str, Any]:
    return {
        "id": membership.id,
        "user_id": membership.user_id,
        "body": body_ref(membership.body),
        "role": str(membership.role),
        "since": iso_date(membership.since),
        "until": iso_date(membership.until),
        "active": membership.active,
        "source": membership.source,
    }


def user_summary(user: User) -> dict[str, Any]:
    party = user.party
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "locale": user.locale,
        "is_admin": user.is_admin,
        "active": user.active,
        "party": {"id": party.id, "code": party.code, "name": party.name} if party else None,
        "created_at": iso(user.created_at),
    }


def _user_answer(session: Session, user: User, status: int = 200) -> Response:
    memberships = session.scalars(
        select(Membership)
        .where(Membership.user_id == user.id)
        .options(joinedload(Membership.body))
        .order_by(Membership.active.desc(), Membership.id)
    )
    response = json_response(
        {**user_summary(user), "memberships": [membership_json(m) for m in memberships]}, status
    )
    response.headers["ETag"] = user_etag(user)
    response.headers["Location"] = url_for("api.get_user", user_id=user.id)
    return response


@operation(
    "/users", "get", tag=USERS, summary="List brugere",
    query=(Param("active", {"type": "boolean"}, "true: kun aktive; false: kun deaktiverede."),
           LIMIT, CURSOR),
    ok={200: Reply("En side af brugere, nyeste først.", USER_PAGE)},
    errors=(403,),
)  # fmt: skip
def list_users(call: Call) -> Response:
    """List the users (administrators only), the newest first."""
    _admin(call)
    query = select(User).options(joinedload(User.party))
    if call.args.get("active") is not None:
        query = query.where(User.active.is_(call.args["active"]))
    after = cursor_id(call.args.get("cursor"))
    if after is not None:
        query = query.where(User.id < after)
    limit = call.args["limit"]
    found = list(db().scalars(query.order_by(User.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(found[limit - 1].id) if len(found) > limit else None
    return json_response({"items": [user_summary(u) for u in found[:limit]],
                          "next_cursor": next_cursor})  # fmt: skip


@operation(
    "/users", "post", tag=USERS, summary="Opret en bruger", body=NEW_USER,
    ok={201: Reply("Brugeren er oprettet (revisionssporet nævner det).", USER, headers=ETAG,
                   links=USER_LINKS)},
    errors=ERRORS,
)  # fmt: skip
def create_user(call: Call) -> Response:
    """Create a user with an Argon2-hashed password, as the admin page does (audited)."""
    actor = _admin(call)
    session = db()
    body = call.body
    email = _unused_email(session, body["email"])
    user = operations.create_user(
        session, actor, name=_named(body["name"], "name"), email=email,
        locale=body.get("locale", "da"), is_admin=body.get("is_admin", False),
        password=_acceptable_password(body["password"], email, "password"),
        party_id=_known_party(session, body.get("party_id")),
    )  # fmt: skip
    return _user_answer(session, user, 201)


@operation(
    "/users/<int:user_id>", "get", tag=USERS, summary="Hent en bruger",
    ok={200: Reply("Brugeren med alle medlemskaber (de aktive først).", USER, headers=ETAG)},
    errors=(403,),
)  # fmt: skip
def get_user(call: Call) -> Response:
    """Read a user and their memberships; the ETag is what an edit sends in `If-Match`."""
    _admin(call)
    session = db()
    return _user_answer(session, _find_user(session, call.path["user_id"]))


@operation(
    "/users/<int:user_id>", "patch", tag=USERS, summary="Ret en bruger", body=USER_EDIT,
    headers=(IF_MATCH,),
    ok={200: Reply("Ændringen er gemt (revisionssporet har værdierne før og efter).", USER,
                   headers=ETAG, links=USER_LINKS)},
    errors=EDIT_ERRORS,
)  # fmt: skip
def edit_user(call: Call) -> Response:
    """Change a user's name, e-mail, language, admin flag or party, or set a new password;
    `If-Match` must name the user's current ETag (412 otherwise, as the page's stale form)."""
    actor = _admin(call)
    session = db()
    user = _find_user(session, call.path["user_id"])
    require_current(user_etag(user), "brugeren", "user")
    body = call.body
    email = _unused_email(session, body.get("email", user.email), except_id=user.id)
    is_admin = body.get("is_admin", user.is_admin)
    if demotes_self(actor, user, is_admin):
        raise _conflict(
            "not_own_admin_right", "is_admin",
            "Du kan ikke fjerne din egen administratorret. Bed en anden administrator om det.",
            "You cannot remove your own administrator right. Ask another administrator.",
        )  # fmt: skip
    new_password = body.get("new_password", "")
    if new_password:
        _acceptable_password(new_password, email, "new_password")
    operations.update_user(
        session, actor, user, name=_named(body.get("name", user.name), "name"), email=email,
        locale=body.get("locale", user.locale), is_admin=is_admin,
        party_id=_known_party(session, body.get("party_id", user.party_id)),
        new_password=new_password,
    )  # fmt: skip
    return _user_answer(session, user)


def _set_active(call: Call, active: bool) -> Response:
    actor = _admin(call)
    session = db()
    user = _find_user(session, call.path["user_id"])
    if deactivates_self(actor, user, active):
        raise _conflict(
            "not_self", None,
            "Du kan ikke deaktivere dig selv. Bed en anden administrator om det.",
            "You cannot deactivate yourself. Ask another administrator.",
        )  # fmt: skip
    operations.set_user_active(session, actor, user, active)
    return _user_answer(session, user)


@operation(
    "/users/<int:user_id>/deactivate", "post", tag=USERS, summary="Deaktivér en bruger",
    ok={200: Reply("Brugeren kan ikke længere logge ind, og brugerens API-nøgler virker ikke; "
                   "intet er slettet.", USER, headers=ETAG)},
    errors=(403, 409),
)  # fmt: skip
def deactivate_user(call: Call) -> Response:
    """Deactivate a user (audited; already deactivated: unchanged)."""
    return _set_active(call, False)


@operation(
    "/users/<int:user_id>/reactivate", "post", tag=USERS, summary="Genaktivér en bruger",
    ok={200: Reply("Brugeren kan logge ind igen.", USER, headers=ETAG)},
    errors=(403,),
)  # fmt: skip
def reactivate_user(call: Call) -> Response:
    """Let a deactivated user log in again (audited; already active: unchanged)."""
    return _set_active(call, True)


# Memberships --------------------------------------------------------------------------------


def _membership_answer(membership: Membership, status: int = 200) -> Response:
    response = json_response(membership_json(membership), status)
    response.headers["Location"] = url_for("api.get_user", user_id=membership.user_id)
    return response


@operation(
    "/users/<int:user_id>/memberships", "post", tag=USERS,
    summary="Giv en bruger en rolle i et organ", body=NEW_MEMBERSHIP,
    ok={201: Reply("Medlemskabet er tilføjet (eller et afsluttet genoptaget).", MEMBERSHIP,
                   links=MEMBERSHIP_LINKS)},
    errors=ERRORS,
)  # fmt: skip
def add_membership(call: Call) -> Response:
    """Give a user a role in an active body from a day (today if none), or resume an ended
    membership of that role (audited); 409 when the user already holds the role there."""
    actor = _admin(call)
    session = db()
    user = _find_user(session, call.path["user_id"])
    code = call.body["body"]
    body = session.scalar(select(Body).where(Body.code == code, Body.active.is_(True)))
    if body is None:
        raise _unprocessable(
            "known_body", "body",
            f"Der er intet aktivt organ med koden {code}. Se GET /api/v1/bodies.",
            f"There is no active body with the code {code}. See GET /api/v1/bodies.",
        )  # fmt: skip
    since = call.body.get("since")
    membership = operations.add_membership(
        session, actor, user, body_id=body.id, role=Role(call.body["role"]),
        since=date.fromisoformat(since) if since else local_date(clock.now()),
    )  # fmt: skip
    if membership is None:
        raise _conflict(
            "one_membership_per_role", "role",
            "Brugeren har allerede den rolle i organet.",
            "The user already holds that role in the body.",
        )  # fmt: skip
    return _membership_answer(membership, 201)


@operation(
    "/memberships/<int:membership_id>/end", "post", tag=USERS, summary="Afslut et medlemskab",
    body=END_MEMBERSHIP,
    ok={200: Reply("Rollen giver ikke længere nogen ret; rækken bevares.", MEMBERSHIP)},
    errors=ERRORS,
)  # fmt: skip
def end_membership(call: Call) -> Response:
    """End a membership on a day (today if none); it keeps its row (audited); 409 when it had
    already ended, 422 (at `until`) when the day lies before the membership began."""
    actor = _admin(call)
    session = db()
    membership = _get(session, Membership, call.path["membership_id"])
    if membership is None:
        raise _not_found("Medlemskab", "Membership", call.path["membership_id"])
    until = call.body.get("until")
    day = date.fromisoformat(until) if until else local_date(clock.now())
    too_early = ends_before_it_began(membership, day) if membership.active else None
    if too_early is not None:
        raise _unprocessable("ends_after_it_began", "until", *too_early)
    if not operations.end_membership(session, actor, membership, day):
        raise _conflict(
            "membership_active", None,
            "Medlemskabet er allerede afsluttet.", "The membership has already ended.",
        )  # fmt: skip
    return _membership_answer(membership)


# Parties ------------------------------------------------------------------------------------


def party_etag(party: Party) -> str:
    """The party's ETag: the fingerprint of its audited values (the admin form's)."""
    return f'"party-{party.id}-{fingerprint(operations.party_values(party))}"'


def _party_answer(party: Party, status: int = 200) -> Response:
    response = json_response(party_json(party), status)
    response.headers["ETag"] = party_etag(party)
    response.headers["Location"] = url_for("api.get_party", party_id=party.id)
    return response


@operation(
    "/parties", "post", tag=PARTIES, summary="Opret en part", body=NEW_PARTY,
    ok={201: Reply("Parten er oprettet (revisionssporet nævner det).", PARTY, headers=ETAG,
                   links=PARTY_LINKS)},
    errors=ERRORS,
)  # fmt: skip
def create_party(call: Call) -> Response:
    """Create a party: code, name, kind and planning area (administrators; audited)."""
    actor = _admin(call)
    session = db()
    body = call.body
    if party_code_taken(session, body["code"]):
        raise _conflict(
            "unique_code", "code",
            f"Der findes allerede en part med koden {body['code']}.",
            f"A party with the code {body['code']} already exists.",
        )  # fmt: skip
    party = operations.create_party(
        session, actor, code=body["code"], name=_named(body["name"], "name"),
        kind=PartyKind(body["kind"]),
        planning_area_id=_known_area(session, body.get("planning_area_id")),
        active=body.get("active", True),
    )  # fmt: skip
    return _party_answer(party, 201)


@operation(
    "/parties/<int:party_id>", "get", tag=PARTIES, summary="Hent en part",
    ok={200: Reply("Parten; ETag er det, en rettelse sender i If-Match.", PARTY, headers=ETAG)},
)  # fmt: skip
def get_party(call: Call) -> Response:
    """Read a party (any user: parties are reference data)."""
    return _party_answer(_find_party(db(), call.path["party_id"]))


@operation(
    "/parties/<int:party_id>", "patch", tag=PARTIES, summary="Ret en part", body=PARTY_EDIT,
    headers=(IF_MATCH,),
    ok={200: Reply("Ændringen er gemt (revisionssporet har værdierne før og efter).", PARTY,
                   headers=ETAG, links=PARTY_LINKS)},
    errors=EDIT_ERRORS,
)  # fmt: skip
def edit_party(call: Call) -> Response:
    """Change a party's name, planning area (from today) or whether it is active; `If-Match`
    must name its current ETag."""
    actor = _admin(call)
    session = db()
    party = _find_party(session, call.path["party_id"])
    require_current(party_etag(party), "parten", "party")
    body = call.body
    operations.update_party(
        session, actor, party, name=_named(body.get("name", party.name), "name"),
        planning_area_id=_known_area(session, body.get("planning_area_id", party.planning_area_id)),
        active=body.get("active", party.active),
    )  # fmt: skip
    return _party_answer(party)
