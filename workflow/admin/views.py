"""Administration: users, memberships, bodies, parties and planning areas; all audited.

Users are deactivated, never deleted; an ended membership keeps its row with `until` set.
Two admins editing the same object are told when their form is stale: each form carries a
fingerprint of the values it was opened with, and a save against changed values is refused
with the user's input kept.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from models import (
    AdminAuditEntry,
    Body,
    BodyKind,
    Membership,
    Party,
    PartyKind,
    PlanningArea,
    Role,
    User,
)
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
from workflow.admin.forms import (
    NONE,
    BodyForm,
    ConfirmForm,
    EditUserForm,
    EndMembershipForm,
    FingerprintForm,
    MembershipForm,
    NewBodyForm,
    NewPartyForm,
    NewPlanningAreaForm,
    NewUserForm,
    PartyForm,
    PlanningAreaForm,
    UserForm,
)
from workflow.admin.operations import (
    body_values,
    party_values,
    planning_area_values,
    user_values,
)
from workflow.auth.login import current_actor, current_user
from workflow.engine import clock, values
from workflow.engine.calendar import local_date
from workflow.organisation.views import kind_label
from workflow.sso.queries import linked_providers
from workflow.sso.settings import provider_label
from workflow.web import db
from workflow.web.filters import role_label
from workflow.web.i18n import _, _l, pick

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50
AUDIT_SHOWN = 30
Page = str | tuple[str, int] | Response


# Access ------------------------------------------------------------------------------------


@bp.before_request
def admins_only() -> Response | None:
    """Send visitors to the login page; refuse users the policy does not let in."""
    user = current_user()
    if user is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    # Refused with the rule's own reason: workflow.web.refusal renders the NotAllowed.
    policy.require(user, "administer", None, db())
    return None


# Fingerprints -------------------------------------------------------------------------------


def is_stale(form: FingerprintForm, current: dict[str, Any]) -> bool:
    """Whether someone changed the object since the form was opened (input is kept)."""
    if form.fingerprint.data == fingerprint(current):
        return False
    # The next save compares with what is stored now, so the admin can re-save on purpose.
    form.fingerprint.data = fingerprint(current)
    return True


def stale_message(what: str) -> str:
    """Explain a refused save of a stale form."""
    return _(
        "%(what)s er blevet ændret af en anden, siden du åbnede formularen. Dine ændringer er "
        "ikke gemt; det, du skrev, står stadig i formularen. Se de nuværende værdier, ret til, "
        "og gem igen.",
        what=what,
    )


# Overview -----------------------------------------------------------------------------------


ACTION_WORDS = {
    "user_created": _l("Bruger oprettet"),
    "user_updated": _l("Bruger ændret"),
    "user_password_set": _l("Adgangskode skiftet"),
    "user_deactivated": _l("Bruger deaktiveret"),
    "user_party_set": _l("Brugerens part ændret"),
    "user_reactivated": _l("Bruger genaktiveret"),
    "membership_added": _l("Medlemskab tilføjet"),
    "membership_reactivated": _l("Medlemskab genoptaget"),
    "membership_ended": _l("Medlemskab afsluttet"),
    "body_created": _l("Organ oprettet"),
    "body_updated": _l("Organ ændret"),
    "ad_hoc_group_created": _l("Ad hoc-gruppe nedsat af forummets formandskab"),
    "working_group_created": _l(
        "Midlertidig arbejdsgruppe nedsat ved godkendelse af et kommissorium"
    ),
    "party_created": _l("Part oprettet"),
    "party_updated": _l("Part ændret"),
    "planning_area_created": _l("Planområde oprettet"),
    "planning_area_updated": _l("Planområde omdøbt"),
    "migrate_case_version": _l("Sag flyttet til ny procesversion"),
    "process_published": _l("Procesversion udgivet i procesdesigneren"),
    "reseal_audit": _l("Revisionssporet forseglet med revisionsnøglen"),
    "case_record_exported": _l("Sagsakt udleveret til journalisering"),
}


def action_words(action: str) -> str:
    """Name an audited admin action in the user's language."""
    return str(ACTION_WORDS[action]) if action in ACTION_WORDS else action


@bp.get("")
def index() -> str:
    """Show the admin sections and the latest audited changes."""
    session = db()
    entries = session.execute(
        select(AdminAuditEntry, User.name)
        .outerjoin(User, User.id == AdminAuditEntry.actor_id)
        .order_by(AdminAuditEntry.created_at.desc(), AdminAuditEntry.id.desc())
        .limit(AUDIT_SHOWN)
    ).all()
    return render_template("admin/index.html", entries=entries, action_words=action_words)


def _page_number() -> int:
    raw = request.args.get("side", "1")
    return values.parse_id(raw) or 1


# Users --------------------------------------------------------------------------------------


@bp.get("/brugere")
def users() -> str:
    """List the users, a page at a time (paginated in the database)."""
    session = db()
    page = _page_number()
    total = session.scalar(select(func.count()).select_from(User)) or 0
    rows = session.scalars(
        select(User)
        .options(joinedload(User.party))
        .order_by(User.name, User.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template(
        "admin/users.html",
        users=rows,
        page=page,
        pages=pages,
        total=total,
        memberships=_active_memberships(session, [u.id for u in rows]),
    )


def _active_memberships(session: Session, user_ids: list[int]) -> dict[int, list[Membership]]:
    """Each listed user's active memberships, by body code (one query for the page)."""
    found: dict[int, list[Membership]] = {}
    for membership in session.scalars(
        select(Membership)
        .join(Membership.body)
        .where(Membership.user_id.in_(user_ids), Membership.active.is_(True))
        .options(joinedload(Membership.body))
        .order_by(Body.code, Membership.role)
    ):
        found.setdefault(membership.user_id, []).append(membership)
    return found


def _party_choices(session: Session, form: UserForm) -> None:
    """Every party, grouped by kind (municipalities, hospitals, general practice …)."""
    parties = session.scalars(select(Party).order_by(Party.kind, Party.name)).all()
    groups: dict[str, list[SelectChoice]] = {}
    for party in parties:
        label = party.name if party.active else _("%(name)s (inaktiv)", name=party.name)
        groups.setdefault(party_kind_label(party.kind), []).append(SelectChoice(party.id, label))
    form.party_id.choices = {_("Ingen part"): [SelectChoice(NONE, _("Ingen part"))], **groups}


def _chosen_party(session: Session, form: UserForm) -> int | None:
    """The chosen party's id (None for none); the select's choices already refuse others."""
    return form.party_id.data or None


@bp.route("/brugere/ny", methods=["GET", "POST"])
def new_user() -> Page:
    """Create a user with an Argon2-hashed password."""
    session = db()
    form = NewUserForm()
    _party_choices(session, form)
    if form.validate_on_submit():
        email = (form.email.data or "").strip()
        if email_taken(session, email):
            form.email.errors.append(_("Der findes allerede en bruger med den e-mailadresse."))
        else:
            user = operations.create_user(
                session,
                current_actor(),
                name=form.name.data or "",
                email=email,
                locale=form.locale.data,
                is_admin=bool(form.is_admin.data),
                password=form.password.data or "",
                party_id=_chosen_party(session, form),
            )
            flash(_("Brugeren %(name)s er oprettet.", name=user.name), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_new.html", form=form), status


def _user_or_404(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _user_form(session: Session, user: User) -> EditUserForm:
    """The user's form as stored (not from the request: a POST to another form of the page
    would otherwise leave its checkbox unticked)."""
    form = EditUserForm(formdata=None, obj=user)
    _party_choices(session, form)
    form.party_id.data = user.party_id or NONE
    form.fingerprint.data = fingerprint(user_values(user))
    return form


def _render_user(
    session: Session,
    user: User,
    form: EditUserForm,
    status: int = 200,
    stale: bool = False,
    ending: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """The user's page; `ending` holds a refused end of a membership (its id, the error at
    its date field and the date given)."""
    memberships = session.scalars(
        select(Membership)
        .where(Membership.user_id == user.id)
        .options(joinedload(Membership.body))
        .order_by(Membership.active.desc(), Membership.id)
    ).all()
    add_form = MembershipForm()
    _membership_choices(session, add_form)
    html = render_template(
        "admin/user_edit.html",
        user=user,
        form=form,
        memberships=memberships,
        providers=[provider_label(key) for key in linked_providers(session, user.id)],
        add_form=add_form,
        confirm=ConfirmForm(),
        stale=stale_message(_("Brugeren")) if stale else None,
        current=user_values(user),
        ending=ending,
    )
    return html, status


@bp.route("/brugere/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int) -> Page:
    """Edit a user's name, e-mail, language and admin flag, or set a new password."""
    session = db()
    user = _user_or_404(session, user_id)
    actor = current_actor()
    form = EditUserForm(obj=user if request.method == "GET" else None)
    _party_choices(session, form)
    if request.method == "GET":
        form.party_id.data = user.party_id or NONE
        form.fingerprint.data = fingerprint(user_values(user))
        return _render_user(session, user, form)
    if not form.validate_on_submit():
        return _render_user(session, user, form, 422)
    before = user_values(user)
    if is_stale(form, before):
        return _render_user(session, user, form, 409, stale=True)
    email = (form.email.data or "").strip()
    if email_taken(session, email, except_id=user.id):
        form.email.errors.append(_("Der findes allerede en bruger med den e-mailadresse."))
        return _render_user(session, user, form, 422)
    if demotes_self(actor, user, bool(form.is_admin.data)):
        form.is_admin.errors.append(
            _("Du kan ikke fjerne din egen administratorret. Bed en anden administrator om det.")
        )
        return _render_user(session, user, form, 422)
    operations.update_user(
        session,
        actor,
        user,
        name=form.name.data or "",
        email=email,
        locale=form.locale.data or "da",
        is_admin=bool(form.is_admin.data),
        party_id=_chosen_party(session, form),
        new_password=form.new_password.data or "",
    )
    flash(_("Ændringerne af %(name)s er gemt.", name=user.name), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


def _set_active(user_id: int, active: bool) -> Response | tuple[str, int]:
    session = db()
    user = _user_or_404(session, user_id)
    actor = current_actor()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if deactivates_self(actor, user, active):
        flash(_("Du kan ikke deaktivere dig selv. Bed en anden administrator om det."), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    operations.set_user_active(session, actor, user, active)
    if active:
        flash(_("%(name)s kan logge ind igen.", name=user.name), "success")
    else:
        flash(
            _("%(name)s er deaktiveret og kan ikke længere logge ind.", name=user.name), "success"
        )
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


@bp.post("/brugere/<int:user_id>/deaktiver")
def deactivate_user(user_id: int) -> Response | tuple[str, int]:
    """Deactivate a user: they can no longer log in; nothing is deleted."""
    return _set_active(user_id, False)


@bp.post("/brugere/<int:user_id>/aktiver")
def reactivate_user(user_id: int) -> Response | tuple[str, int]:
    """Let a deactivated user log in again."""
    return _set_active(user_id, True)


# Memberships --------------------------------------------------------------------------------


def _membership_choices(session: Session, form: MembershipForm) -> None:
    bodies = session.scalars(select(Body).where(Body.active).order_by(Body.code)).all()
    form.body_id.choices = [SelectChoice(b.id, f"{b.code} – {b.name}") for b in bodies]
    form.role.choices = [SelectChoice(r.value, role_label(r)) for r in Role]


@bp.post("/brugere/<int:user_id>/medlemskaber")
def add_membership(user_id: int) -> Page:
    """Give a user a role in a body (or resume an ended membership of that role)."""
    session = db()
    user = _user_or_404(session, user_id)
    actor = current_actor()
    form = MembershipForm()
    _membership_choices(session, form)
    if not form.validate_on_submit():
        flash(_("Medlemskabet blev ikke tilføjet: vælg et organ og en rolle."), "error")
        return _render_user(session, user, _user_form(session, user), 422)
    membership = operations.add_membership(
        session,
        actor,
        user,
        body_id=form.body_id.data,
        role=Role(form.role.data),
        since=form.since.data or local_date(clock.now()),
    )
    if membership is None:
        flash(_("Brugeren har allerede den rolle i organet."), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    flash(_("Medlemskabet er tilføjet."), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


@bp.post("/medlemskaber/<int:membership_id>/afslut")
def end_membership(membership_id: int) -> Page:
    """End a membership: the role no longer gives any permission; the row is kept."""
    session = db()
    membership = session.get(Membership, membership_id)
    if membership is None:
        abort(404)
    form = EndMembershipForm()
    if not form.validate_on_submit():
        flash(_("Skriv slutdatoen som en dato, eller lad feltet stå tomt."), "error")
        return redirect(url_for("admin.edit_user", user_id=membership.user_id), code=303)
    until = form.until.data or local_date(clock.now())
    too_early = ends_before_it_began(membership, until) if membership.active else None
    if too_early is not None:
        user = _user_or_404(session, membership.user_id)
        ending = {"id": membership.id, "error": pick(*too_early), "value": until.isoformat()}
        return _render_user(session, user, _user_form(session, user), 422, ending=ending)
    operations.end_membership(session, current_actor(), membership, until)
    flash(_("Medlemskabet er afsluttet."), "success")
    return redirect(url_for("admin.edit_user", user_id=membership.user_id), code=303)


# Bodies -------------------------------------------------------------------------------------


@bp.get("/organer")
def bodies() -> str:
    """List every body, active or not."""
    rows = db().scalars(select(Body).options(joinedload(Body.parent)).order_by(Body.code)).all()
    return render_template("admin/bodies.html", bodies=rows, kind_label=kind_label)


def _body_choices(session: Session, form: BodyForm, body: Body | None) -> None:
    excluded = _descendants(session, body.id) | {body.id} if body is not None else set()
    others = session.scalars(select(Body).order_by(Body.code)).all()
    form.parent_id.choices = [SelectChoice(NONE, _("Intet overordnet organ"))] + [
        SelectChoice(b.id, f"{b.code} – {b.name}") for b in others if b.id not in excluded
    ]
    areas = session.scalars(select(PlanningArea).order_by(PlanningArea.code)).all()
    form.planning_area_id.choices = [SelectChoice(NONE, _("Intet planområde"))] + [
        SelectChoice(a.id, a.name) for a in areas
    ]
    form.kind.choices = [SelectChoice(k.value, kind_label(k)) for k in BodyKind]


def _descendants(session: Session, body_id: int) -> set[int]:
    """The bodies under `body_id`, at any depth (a parent cannot be one of them)."""
    children: dict[int, list[int]] = {}
    for child_id, parent_id in session.execute(select(Body.id, Body.parent_id)):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(child_id)
    found: set[int] = set()
    stack = [body_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _body_fields(form: BodyForm) -> operations.BodyFields:
    return operations.BodyFields(
        name=form.name.data or "",
        name_en=form.name_en.data,
        kind=BodyKind(form.kind.data),
        parent_id=form.parent_id.data or None,
        planning_area_id=form.planning_area_id.data or None,
        material_deadline_days=int(form.material_deadline_days.data or 0),
        material_deadline_working_days=bool(form.material_deadline_working_days.data),
        formandskab_decides=bool(form.formandskab_decides.data),
        active=bool(form.active.data),
    )


def _render_body(
    form: BodyForm, body: Body | None, status: int = 200, stale: bool = False
) -> tuple[str, int]:
    html = render_template(
        "admin/body_form.html",
        form=form,
        body=body,
        stale=stale_message(_("Organet")) if stale else None,
        current=body_values(body) if body is not None else None,
    )
    return html, status


@bp.route("/organer/ny", methods=["GET", "POST"])
def new_body() -> Page:
    """Create a body."""
    session = db()
    form = NewBodyForm()
    _body_choices(session, form, None)
    if request.method == "GET":
        form.active.data = True
        form.material_deadline_days.data = 7
        return _render_body(form, None)
    if not form.validate_on_submit():
        return _render_body(form, None, 422)
    code = (form.code.data or "").strip()
    if session.scalar(select(Body.id).where(Body.code == code)) is not None:
        form.code.errors.append(_("Der findes allerede et organ med koden %(code)s.", code=code))
        return _render_body(form, None, 422)
    body = operations.create_body(session, current_actor(), code, _body_fields(form))
    flash(_("Organet %(code)s er oprettet.", code=body.code), "success")
    return redirect(url_for("admin.edit_body", code=body.code), code=303)


@bp.route("/organer/<code>", methods=["GET", "POST"])
def edit_body(code: str) -> Page:
    """Edit a body: names, kind, parent, planning area and material deadline."""
    session = db()
    body = session.scalar(select(Body).where(Body.code == code))
    if body is None:
        abort(404)
    form = BodyForm(obj=body if request.method == "GET" else None)
    _body_choices(session, form, body)
    if request.method == "GET":
        form.parent_id.data = body.parent_id or NONE
        form.planning_area_id.data = body.planning_area_id or NONE
        form.fingerprint.data = fingerprint(body_values(body))
        return _render_body(form, body)
    if not form.validate_on_submit():
        return _render_body(form, body, 422)
    before = body_values(body)
    if is_stale(form, before):
        return _render_body(form, body, 409, stale=True)
    operations.update_body(session, current_actor(), body, _body_fields(form))
    flash(_("Ændringerne af %(code)s er gemt.", code=body.code), "success")
    return redirect(url_for("admin.edit_body", code=body.code), code=303)


# Parties and planning areas -----------------------------------------------------------------


PARTY_KIND_LABELS = {
    PartyKind.REGION: _l("Region"),
    PartyKind.MUNICIPALITY: _l("Kommune"),
    PartyKind.GENERAL_PRACTICE: _l("Almen praksis"),
    PartyKind.USER_ORGANISATION: _l("Brugerorganisation"),
    PartyKind.HOSPITAL: _l("Hospital"),
}


def party_kind_label(kind: PartyKind | str) -> str:
    """Name a kind of party in the user's language."""
    return str(PARTY_KIND_LABELS.get(PartyKind(kind), str(kind)))


@bp.get("/parter")
def parties() -> str:
    """List the parties with their planning areas, and the planning areas with their counts."""
    session = db()
    rows = session.scalars(
        select(Party).options(joinedload(Party.planning_area)).order_by(Party.kind, Party.name)
    ).all()
    areas = session.execute(
        select(PlanningArea, func.count(Party.id))
        .outerjoin(Party, Party.planning_area_id == PlanningArea.id)
        .group_by(PlanningArea.id)
        .order_by(PlanningArea.code)
    ).all()
    return render_template(
        "admin/parties.html", parties=rows, areas=areas, party_kind_label=party_kind_label
    )


def _area_choices(session: Session, form: PartyForm) -> None:
    areas = session.scalars(select(PlanningArea).order_by(PlanningArea.code)).all()
    form.planning_area_id.choices = [SelectChoice(NONE, _("Intet planområde"))] + [
        SelectChoice(a.id, a.name) for a in areas
    ]


@bp.route("/parter/ny", methods=["GET", "POST"])
def new_party() -> Page:
    """Create a party: code, name, kind and planning area."""
    session = db()
    form = NewPartyForm()
    _area_choices(session, form)
    form.kind.choices = [SelectChoice(k.value, party_kind_label(k)) for k in PartyKind]
    if request.method == "GET":
        form.active.data = True
        return _render_party(form, None)
    if not form.validate_on_submit():
        return _render_party(form, None, 422)
    code = (form.code.data or "").strip()
    if party_code_taken(session, code):
        form.code.errors.append(_("Der findes allerede en part med koden %(code)s.", code=code))
        return _render_party(form, None, 422)
    party = operations.create_party(
        session,
        current_actor(),
        code=code,
        name=form.name.data or "",
        kind=PartyKind(form.kind.data),
        planning_area_id=form.planning_area_id.data or None,
        active=bool(form.active.data),
    )
    flash(_("Parten %(name)s er oprettet.", name=party.name), "success")
    return redirect(url_for("admin.parties"), code=303)


def _render_party(
    form: PartyForm, party: Party | None, status: int = 200, stale: bool = False
) -> tuple[str, int]:
    html = render_template(
        "admin/party_form.html",
        form=form,
        party=party,
        stale=stale_message(_("Parten")) if stale else None,
    )
    return html, status


@bp.route("/parter/<code>", methods=["GET", "POST"])
def edit_party(code: str) -> Page:
    """Edit a party, e.g. move a municipality to another planning area."""
    session = db()
    party = session.scalar(select(Party).where(Party.code == code))
    if party is None:
        abort(404)
    form = PartyForm(obj=party if request.method == "GET" else None)
    _area_choices(session, form)
    if request.method == "GET":
        form.planning_area_id.data = party.planning_area_id or NONE
        form.fingerprint.data = fingerprint(party_values(party))
        return _render_party(form, party)
    if not form.validate_on_submit():
        return _render_party(form, party, 422)
    before = party_values(party)
    if is_stale(form, before):
        return _render_party(form, party, 409, stale=True)
    operations.update_party(
        session,
        current_actor(),
        party,
        name=form.name.data or "",
        planning_area_id=form.planning_area_id.data or None,
        active=bool(form.active.data),
    )
    flash(_("Ændringerne af %(name)s er gemt.", name=party.name), "success")
    return redirect(url_for("admin.parties"), code=303)


def _name_taken(session: Session, name: str, except_id: int | None = None) -> bool:
    query = select(PlanningArea.id).where(func.lower(PlanningArea.name) == name.lower())
    if except_id is not None:
        query = query.where(PlanningArea.id != except_id)
    return session.scalar(query) is not None


def _render_area(
    form: PlanningAreaForm, area: PlanningArea | None, status: int = 200, stale: bool = False
) -> tuple[str, int]:
    html = render_template(
        "admin/planning_area_form.html",
        form=form,
        area=area,
        stale=stale_message(_("Planområdet")) if stale else None,
    )
    return html, status


@bp.route("/planomraader/ny", methods=["GET", "POST"])
def new_planning_area() -> Page:
    """Create a planning area."""
    session = db()
    form = NewPlanningAreaForm()
    if request.method == "GET":
        return _render_area(form, None)
    if not form.validate_on_submit():
        return _render_area(form, None, 422)
    code = (form.code.data or "").strip()
    name = (form.name.data or "").strip()
    if session.scalar(select(PlanningArea.id).where(PlanningArea.code == code)) is not None:
        form.code.errors.append(
            _("Der findes allerede et planområde med koden %(code)s.", code=code)
        )
    if _name_taken(session, name):
        form.name.errors.append(_("Der findes allerede et planområde med det navn."))
    if form.errors:
        return _render_area(form, None, 422)
    area = operations.create_planning_area(session, current_actor(), code=code, name=name)
    flash(_("Planområdet %(name)s er oprettet.", name=area.name), "success")
    return redirect(url_for("admin.parties"), code=303)


@bp.route("/planomraader/<code>", methods=["GET", "POST"])
def edit_planning_area(code: str) -> Page:
    """Rename a planning area (its code stays: implementation scopes refer to it)."""
    session = db()
    area = session.scalar(select(PlanningArea).where(PlanningArea.code == code))
    if area is None:
        abort(404)
    form = PlanningAreaForm(obj=area if request.method == "GET" else None)
    if request.method == "GET":
        form.fingerprint.data = fingerprint(planning_area_values(area))
        return _render_area(form, area)
    if not form.validate_on_submit():
        return _render_area(form, area, 422)
    before = planning_area_values(area)
    if is_stale(form, before):
        return _render_area(form, area, 409, stale=True)
    name = (form.name.data or "").strip()
    if _name_taken(session, name, except_id=area.id):
        form.name.errors.append(_("Der findes allerede et planområde med det navn."))
        return _render_area(form, area, 422)
    operations.rename_planning_area(session, current_actor(), area, name)
    flash(_("Ændringerne af %(name)s er gemt.", name=area.name), "success")
    return redirect(url_for("admin.parties"), code=303)
