"""The agreement's rules: the guards and routing predicates the process definitions name.

Each is registered with the engine's registries (workflow.engine.guards) when the domains are
installed; a guard returns None when its rule holds, or a Failure that explains itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, object_session

from models import (
    Body,
    BodyKind,
    Case,
    CaseEvent,
    CaseExpense,
    Consultation,
    ConsultationResponse,
    ImplementationStatus,
    Meeting,
    Party,
    PartyKind,
    PlanningArea,
    ResponseStatus,
)
from workflow.engine import formats, session_cache
from workflow.engine.actions import ActionContext, action
from workflow.engine.calendar import local_date
from workflow.engine.guards import Failure, GuardContext, guard, predicate
from workflow.engine.localtime import format_date
from workflow.engine.values import InvalidValue, is_record_id, single_line

# Each reason completes the sentence "Sagen …" / "The matter …".
FLAG_LABELS = {
    "principled": ("er principiel", "is principled"),
    "political": ("er af politisk karakter", "is political"),
    "interface_change": ("ændrer en snitflade mellem sektorerne", "changes an interface"),
    "cost_driving": (
        "medfører merudgifter for en eller flere parter",
        "creates extra expense for a party",
    ),
}


def _join(words: list[str], conjunction: str) -> str:
    """Join 'a', 'b' and 'c' as a sentence does."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


def _first_names(names: list[str], shown: int = 5) -> str:
    """List the first names, and say how many more there are."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" og {more} andre" if more > 0 else "")


def _extra_expense(case: Case, kind: PartyKind | None = None) -> Decimal:
    """Sum the extra expense the case records, for parties of `kind` (all if None)."""
    session = object_session(case)
    if session is None or case.id is None:
        amounts = [e.amount_dkk for e in case.expenses if kind is None or e.party.kind == kind]
        return sum(amounts, Decimal(0))
    # Query rather than trust case.expenses: an expense added by id after the relationship
    # was loaded would otherwise be missed, and the rule silently skipped.
    # Kept on the session while nothing changes (a case page's forecast asks it at each step).
    if kind is None:
        total = session_cache.cached(
            session,
            ("extra_expense", case.id),
            lambda: session_cache.read(session, _EXTRA_EXPENSE, {"case_id": case.id}).scalar(),
        )
    else:
        params = {"case_id": case.id, "kind": kind}
        total = session_cache.cached(
            session,
            ("extra_expense", case.id, kind),
            lambda: session_cache.read(session, _EXTRA_EXPENSE_OF_KIND, params).scalar(),
        )
    return Decimal(total or 0)


# Built once: every transition of a forum matter asks (escalation_required). Of the tables'
# columns, run by session_cache.read: half the Python of a read of mapped attributes.
_EXPENSES = CaseExpense.__table__.c
_PARTIES = Party.__table__.c
_EXTRA_EXPENSE = select(func.coalesce(func.sum(_EXPENSES.amount_dkk), 0)).where(
    _EXPENSES.case_id == bindparam("case_id")
)
_EXTRA_EXPENSE_OF_KIND = _EXTRA_EXPENSE.join(
    Party.__table__, _PARTIES.id == _EXPENSES.party_id
).where(_PARTIES.kind == bindparam("kind"))


def municipal_extra_expense(case: Case) -> Decimal:
    """Sum the extra expense the case puts on municipalities, as stored now."""
    return _extra_expense(case, PartyKind.MUNICIPALITY)


def escalation_reasons(case: Case) -> list[str]:
    """Name why the matter must go to TSS: its flags, or a recorded extra expense for a party."""
    reasons = list(case.escalation_reasons)
    if "cost_driving" not in reasons and _extra_expense(case) > 0:
        reasons.append("cost_driving")
    return reasons


# Where the case keeps what TSS saw when it last treated the matter (seed 000 l.51-53).
TSS_SAW_KEY = "tss_saw"


def _seen_by_tss(case: Case) -> dict[str, object]:
    return {"reasons": sorted(escalation_reasons(case)), "expense": str(_extra_expense(case))}


@action("record_what_tss_saw")
def record_what_tss_saw(ctx: ActionContext) -> None:
    """On a matter's return from TSS, keep the reasons and extra expense TSS treated, so that a
    reason or cost added later sends it back (re-escalation)."""
    if ctx.case.tss_cleared_at is not None:
        ctx.case.extra = {**ctx.case.extra, TSS_SAW_KEY: _seen_by_tss(ctx.case)}


def new_since_tss(case: Case) -> list[str]:
    """The escalation reasons TSS has not treated: all of them before TSS has seen the matter;
    after, those added since, and "cost_driving" when the extra expense has grown."""
    reasons = escalation_reasons(case)
    if case.tss_cleared_at is None:
        return reasons
    seen = case.extra.get(TSS_SAW_KEY)
    if not isinstance(seen, dict):
        return []  # cleared before TSS' view was kept: nothing to compare with
    added = [r for r in reasons if r not in seen.get("reasons", [])]
    if "cost_driving" not in added and _extra_expense(case) > Decimal(str(seen.get("expense", 0))):
        added.append("cost_driving")
    return added


@predicate("escalation_required")
def escalation_required(ctx: GuardContext) -> bool:
    """A principled, political, interface-changing or cost-driving matter TSS has not treated
    (or one given a new reason or a larger extra expense after TSS returned it)."""
    return bool(new_since_tss(ctx.case))


@predicate("large_task_not_raised")
def large_task_not_raised(ctx: GuardContext) -> bool:
    """A large task that TSS has not yet seen (seed 000: raise it before starting)."""
    return ctx.case.large_task and ctx.case.tss_cleared_at is None


# The bodies a matter is raised to: where they decide, the matter is within their mandate (seed
# 002 l.33-34: the steering group treats matters of considerable economic significance).
DECIDING_ABOVE = (BodyKind.STEERING, BodyKind.POLITICAL)


@guard("within_mandate")
def within_mandate(ctx: GuardContext) -> Failure | None:
    """Principled, political, interface or cost matters cannot be decided below TSS; TSS (or
    SKU) deciding them is the point."""
    if ctx.case.current_body.kind in DECIDING_ABOVE:
        return None
    reasons = new_since_tss(ctx.case)
    if not reasons:
        return None
    reasons_da = _join([FLAG_LABELS[f][0] for f in reasons], "og")
    reasons_en = _join([FLAG_LABELS[f][1] for f in reasons], "and")
    return Failure(
        "within_mandate",
        f"Sagen {reasons_da}. Derfor kan den ikke afgøres under TSS: send den til drøftelse "
        "i TSS først (kommissorium for samarbejdsfora).",
        f"The matter {reasons_en}, so it cannot be decided below TSS. Send it to TSS first.",
    )


# The transition by which TSS gives a development task its frame (states/development_task.toml).
FRAMED_BY_TSS = "approve_frame"


@guard("started_by_cluster")
def started_by_cluster(ctx: GuardContext) -> Failure | None:
    """Only a cluster (an SU) starts a development task on its own initiative (seed 002)."""
    if ctx.case.originating_body.kind == BodyKind.COORDINATION_COMMITTEE:
        return None
    return Failure(
        "started_by_cluster",
        "Kun et samordningsudvalg kan igangsætte en udviklingsopgave på eget initiativ; en "
        "opgave, TSS igangsætter, får en ramme i et opdragspapir (»Initiativet til en "
        "udviklingsopgave kan komme fra såvel Sundhedsstyregruppen som en klynge«).",
        "Only a coordination committee starts a development task on its own initiative; a task "
        "TSS starts gets a frame in an assignment paper.",
    )


@guard("own_initiative")
def own_initiative(ctx: GuardContext) -> Failure | None:
    """A cluster's own task is reported to the joint secretariat; one TSS framed goes back to
    TSS through the comment round (seed 002 l.85-91)."""
    framed = ctx.session.scalar(
        select(CaseEvent.id)
        .where(CaseEvent.case_id == ctx.case.id, CaseEvent.trigger == FRAMED_BY_TSS)
        .limit(1)
    )
    if framed is None:
        return None
    return Failure(
        "own_initiative",
        "Opgaven er igangsat af TSS med et opdragspapir og går tilbage til TSS efter "
        "kommentering. Kun resultater af opgaver, et samordningsudvalg har igangsat udenom TSS, "
        "indrapporteres til fællessekretariatet med henblik på evt. spredning.",
        "TSS started the task with an assignment frame; it returns to TSS after the comment "
        "round. Only tasks a coordination committee started outside TSS are reported to the joint "
        "secretariat for possible spreading.",
    )


@guard("large_task_raised_in_tss")
def large_task_raised_in_tss(ctx: GuardContext) -> Failure | None:
    """A large task must be raised in TSS before it is started."""
    if not large_task_not_raised(ctx):
        return None
    return Failure(
        "large_task_raised_in_tss",
        "En større opgave skal rejses i TSS, før den igangsættes. Send sagen til TSS først.",
        "A large task must be raised in TSS before it is started. Send the case to TSS first.",
    )


def business_case_failure(case: Case) -> Failure | None:
    """Every new agreement comes with a business case (seed 001 l.128-132)."""
    if not _blank(case.business_case):
        return None
    return Failure(
        "business_case_stated",
        "Nye aftaler følges op med en businesscase: beskriv, hvad den nye opgavefordeling betyder "
        "for økonomien i det samlede patientforløb, og om den giver en kommunal merudgift "
        "(rammer for signaturindsatser).",
        "New agreements come with a business case: describe what the new division of tasks means "
        "for the economy of the whole patient pathway, and whether it gives municipalities an "
        "extra expense.",
    )


@guard("practice_plan_matter")
def practice_plan_matter(ctx: GuardContext) -> Failure | None:
    """Only a practice-plan matter goes from TSS to PPU (seed 001 l.33-35)."""
    if ctx.case.extra.get("practice_plan") is True:
        return None
    return Failure(
        "practice_plan_matter",
        "Kun praksisplansager (almen praksis) indstilles af TSS til PPU. Sagen er ikke markeret "
        "som praksisplansag; indstil den til SKU.",
        "Only practice-plan matters (general practice) are recommended by TSS to PPU. The case "
        "is not marked as one; recommend it to SKU.",
    )


@guard("business_case_stated")
def business_case_stated(ctx: GuardContext) -> Failure | None:
    """Every new agreement comes with a business case, expense recorded or not (seed 001)."""
    return business_case_failure(ctx.case)


def financing_failure(case: Case, municipal_expense: Decimal) -> Failure | None:
    """The financing rule on the case as written, given its municipal extra expense."""
    if municipal_expense <= 0 and not case.cost_driving:
        return None
    missing = []
    if _blank(case.business_case):
        missing.append(("en businesscase", "a business case"))
    if _blank(case.financing_proposal):
        missing.append(("et finansieringsforslag", "a financing proposal"))
    if not missing:
        return None
    return Failure(
        "financing_follows",
        "Forslaget giver kommunerne nye opgaver med merudgift, men mangler "
        + " og ".join(m[0] for m in missing)
        + ". Finansiering skal følge med (rammer for signaturindsatser).",
        "The proposal gives municipalities new tasks with extra expense but lacks "
        + " and ".join(m[1] for m in missing)
        + ". Financing must follow the task.",
    )


@guard("financing_follows")
def financing_follows(ctx: GuardContext) -> Failure | None:
    """New municipal tasks with extra expense need a business case and financing (seed 001)."""
    return financing_failure(ctx.case, municipal_extra_expense(ctx.case))


def role_distribution_failure(case: Case) -> Failure | None:
    """The role and task distribution, including general practice, must be described."""
    missing = []
    if _blank(case.role_distribution):
        missing.append(("rolle- og opgavefordelingen", "the role and task distribution"))
    if _blank(case.general_practice_role):
        missing.append(
            (
                "almen praksis' rolle (skriv 'ikke relevant' med begrundelse, hvis det gælder)",
                "general practice's role (write 'not relevant' and why, if so)",
            )
        )
    if not missing:
        return None
    return Failure(
        "role_distribution_stated",
        "Beskriv " + " og ".join(m[0] for m in missing) + ".",
        "Describe " + " and ".join(m[1] for m in missing) + ".",
    )


@guard("role_distribution_stated")
def role_distribution_stated(ctx: GuardContext) -> Failure | None:
    """The role and task distribution, including general practice, must be described."""
    return role_distribution_failure(ctx.case)


# What does not describe an aim: a placeholder, or a word alone (seed 002 l.49-51: "et
# tilstrækkeligt beslutningsgrundlag med afsæt i Triple Aim").
TRIPLE_AIM_PLACEHOLDERS = frozenset(
    {
        "-", "–", "?", "x", "xx", "n/a", "na", "nej", "ja", "ingen", "intet", "ikke relevant",
        "ved ikke", "uafklaret", "følger", "kommer", "senere", "tbd", "todo", "se bilag",
    }
)  # fmt: skip
TRIPLE_AIM_MIN_WORDS = 2


def addresses_aim(text: str | None) -> bool:
    """Whether a Triple Aim description says something: not empty, not a placeholder, and more
    than a word."""
    words = (text or "").strip().rstrip(".!").strip()
    if words.lower() in TRIPLE_AIM_PLACEHOLDERS:
        return False
    return len(words.split()) >= TRIPLE_AIM_MIN_WORDS


# The Triple Aim (seed 002 l.16-17, l.49-51) and the case field that addresses each: the
# population's health has a field of its own, beside the quality seed 002 names.
TRIPLE_AIMS = (
    ("triple_aim_population", "befolkningens sundhed", "the population's health"),
    ("triple_aim_quality", "kvaliteten", "quality"),
    ("triple_aim_experience", "borgerens oplevelse", "the citizen's experience"),
    ("triple_aim_economy", "lavere omkostninger (økonomi)", "lower cost (economy)"),
)


def triple_aim_failure(case: Case) -> Failure | None:
    """The decision basis addresses each aim: the population's health, quality, the citizen's
    experience and the cost, each in words of its own (not a presence check)."""
    missing = [(da, en) for name, da, en in TRIPLE_AIMS if not addresses_aim(getattr(case, name))]
    if not missing:
        return None
    return Failure(
        "triple_aim_described",
        "Beslutningsgrundlaget skal belyse alle mål i Triple Aim; beskriv med egne ord, hvad "
        "forslaget betyder for "
        + _join([m[0] for m in missing], "og")
        + " (en tom, udfyldt-for-formens-skyld eller ét-ords-beskrivelse tæller ikke).",
        "The decision basis must address every Triple Aim goal; describe what the proposal "
        "means for "
        + _join([m[1] for m in missing], "and")
        + " (an empty, placeholder or one-word description does not count).",
    )


@guard("triple_aim_described")
def triple_aim_described(ctx: GuardContext) -> Failure | None:
    """The population's health, quality, economy and the citizen's experience are described
    before TSS recommends."""
    return triple_aim_failure(ctx.case)


def focus_and_goals_failure(case: Case) -> Failure | None:
    """A proposal names its focus area and at least one national quality goal."""
    missing = []
    if case.focus_area_id is None:
        missing.append(("fokusområde", "focus area"))
    if not case.national_goals:
        missing.append(("mindst ét nationalt mål", "at least one national goal"))
    if not missing:
        return None
    return Failure(
        "focus_and_goals_stated",
        "Angiv " + " og ".join(m[0] for m in missing) + ", som forslaget understøtter.",
        "State the " + " and ".join(m[1] for m in missing) + " the proposal addresses.",
    )


@guard("focus_and_goals_stated")
def focus_and_goals_stated(ctx: GuardContext) -> Failure | None:
    """A proposal names its focus area and at least one national quality goal."""
    return focus_and_goals_failure(ctx.case)


def material_failures(case: Case, municipal_expense: Decimal | None = None) -> list[Failure]:
    """What the case's written material (the decision basis a meeting needs) fails of the
    agreement's rules: the same checks the guards above run, so a rule changed here shows in
    the guards, in the "Næste skridt" panel and in the material warnings alike.

    `municipal_expense` is the case's municipal extra expense, when the caller has read it
    for many cases at once (see `municipal_extra_expenses`); else it is read here."""
    if municipal_expense is None:
        municipal_expense = municipal_extra_expense(case)
    checks = (
        focus_and_goals_failure(case),
        role_distribution_failure(case),
        triple_aim_failure(case),
        financing_failure(case, municipal_expense),
    )
    return [failure for failure in checks if failure is not None]


def municipal_extra_expenses(session: Session, case_ids: Iterable[int]) -> dict[int, Decimal]:
    """The municipal extra expense of each case, in one statement (cases without: absent)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(CaseExpense.case_id, func.sum(CaseExpense.amount_dkk))
        .join(Party, Party.id == CaseExpense.party_id)
        .where(CaseExpense.case_id.in_(ids), Party.kind == PartyKind.MUNICIPALITY)
        .group_by(CaseExpense.case_id)
    )
    return {case_id: Decimal(total or 0) for case_id, total in rows}


def _pending_answers(ctx: GuardContext) -> list[str] | None:
    """Name who has not answered in the round recorded since the case entered its state.

    None when no round is recorded in the app (it was run by mail, say).
    """
    consultation_id = ctx.session.scalar(
        select(Consultation.id)
        .where(
            Consultation.case_id == ctx.case.id,
            Consultation.created_at >= ctx.case.state_entered_at,
        )
        .order_by(Consultation.id.desc())
        .limit(1)
    )
    if consultation_id is None:
        return None
    rows = ctx.session.execute(
        select(Party.name, Body.name)
        .select_from(ConsultationResponse)
        .outerjoin(Party, Party.id == ConsultationResponse.party_id)
        .outerjoin(Body, Body.id == ConsultationResponse.body_id)
        .where(
            ConsultationResponse.consultation_id == consultation_id,
            ConsultationResponse.status == ResponseStatus.PENDING,
        )
    ).all()
    return sorted(party or body or "?" for party, body in rows)


@guard("consultation_closed")
def consultation_closed(ctx: GuardContext) -> Failure | None:
    """The comment round runs to its response deadline, unless everyone has answered."""
    raw = ctx.case.extra.get("consultation_deadline")
    if not raw:
        return None
    deadline = date.fromisoformat(str(raw))
    # The deadline runs to the end of the day in Danish time, not UTC.
    if local_date(ctx.now) > deadline:
        return None
    pending = _pending_answers(ctx)
    if pending is None and ctx.data.get("all_answered") is True:
        return None  # a round run outside the app: the secretariat's word that all answered
    if pending == []:
        return None
    if pending:
        missing_da = f"{len(pending)} har endnu ikke svaret: {_first_names(pending)}"
    else:
        missing_da = "ikke alle parter har svaret"
    return Failure(
        "consultation_closed",
        f"Høringsfristen {format_date(deadline)} er ikke udløbet, og {missing_da}. Vent til "
        "fristen er udløbet, eller til alle har svaret.",
        f"The consultation deadline {formats.format_date(deadline, 'en')} has not passed and "
        "not all have answered.",
    )


@guard("implementation_complete")
def implementation_complete(ctx: GuardContext) -> Failure | None:
    """Every required unit has implemented the case or is not relevant, with a reason."""
    units = ctx.session.scalars(
        select(ImplementationStatus).where(ImplementationStatus.case_id == ctx.case.id)
    ).all()
    if not units:
        return Failure(
            "implementation_complete",
            "Der er ikke registreret nogen enheder, der skal implementere sagen. Registrér "
            "kommunerne og hospitalerne under implementering.",
            "No units have been registered to implement the case.",
        )
    pending = sorted(u.party.name for u in units if not u.is_done)
    if not pending:
        return None
    count = "1 enhed" if len(pending) == 1 else f"{len(pending)} enheder"
    return Failure(
        "implementation_complete",
        f"{count} har endnu ikke implementeret sagen: {_first_names(pending)}. Registrér dem "
        "som implementeret, eller som ikke relevant med en begrundelse.",
        f"{len(pending)} units have not yet implemented the case.",
    )


@guard("implementation_scope_valid")
def implementation_scope_valid(ctx: GuardContext) -> Failure | None:
    """The planning areas an approved case is spread to exist (empty: the whole region)."""
    from workflow.implementation.operations import SCOPE_KEY, parse_scope

    raw = ctx.data.get(SCOPE_KEY)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raw = ctx.case.extra.get(SCOPE_KEY)
    known = set(ctx.session.scalars(select(PlanningArea.code)))
    unknown = [code for code in parse_scope(raw) if code not in known]
    if not unknown:
        return None
    word = "Planområdet" if len(unknown) == 1 else "Planområderne"
    return Failure(
        "implementation_scope_valid",
        f"{word} {_join(unknown, 'og')} findes ikke. Skriv planområdernes koder adskilt af "
        f"komma ({', '.join(sorted(known))}), eller lad feltet stå tomt for hele regionen.",
        f"Unknown planning area {', '.join(unknown)}. Use {', '.join(sorted(known))}, or leave "
        "the field empty for the whole region.",
    )


BUDGET_FIELDS = {
    "municipal_budgets_adopted_on": ("kommunernes budgetter", "the municipalities' budgets"),
    "regional_budget_adopted_on": ("regionens budget", "the region's budget"),
}


def _recorded_day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _adoption_meeting(ctx: GuardContext) -> Meeting | None:
    meeting_id = ctx.data.get("meeting_id")
    if not is_record_id(meeting_id):
        return None
    return ctx.session.get(Meeting, int(str(meeting_id)))


@guard("after_budget_adoption")
def after_budget_adoption(ctx: GuardContext) -> Failure | None:
    """The plan is adopted at an SKU meeting held after the municipalities and the region
    adopted their budgets for the plan year (seed 004 l.337-339); the dates are the
    secretariat's record (`record_budget_adoption`)."""
    plan_year = ctx.case.plan_year
    if plan_year is None:
        return Failure(
            "after_budget_adoption",
            "Implementeringsplanen mangler det år, den gælder for.",
            "The implementation plan lacks the year it applies to.",
        )
    days = {name: _recorded_day(ctx.case.extra.get(name)) for name in BUDGET_FIELDS}
    missing = [words for name, words in BUDGET_FIELDS.items() if days[name] is None]
    if missing:
        return Failure(
            "after_budget_adoption",
            f"Implementeringsplanen for {plan_year} tiltrædes på et møde i SKU efter "
            f"kommunernes og regionens vedtagelse af budgettet for {plan_year}, men datoen for "
            f"{_join([da for da, _en in missing], 'og')} er ikke registreret. Sekretariatet "
            "registrerer budgetvedtagelserne på sagen først.",
            f"The implementation plan for {plan_year} is adopted at an SKU meeting after the "
            f"municipalities and the region adopted their budgets for {plan_year}; the date of "
            f"{_join([en for _da, en in missing], 'and')} has not been recorded.",
        )
    last = max(day for day in days.values() if day is not None)
    meeting = _adoption_meeting(ctx)
    body = ctx.case.current_body
    if meeting is None and body is not None and body.formandskab_decides:
        # Where the body's chairs may otherwise decide between meetings: not this one.
        return Failure(
            "after_budget_adoption",
            "Implementeringsplanen tiltrædes på et møde i SKU, ikke af formandskabet "
            "mellem møderne. Angiv mødet.",
            "The implementation plan is adopted at an SKU meeting, not by the chairs "
            "between meetings. Give the meeting.",
        )
    # Without a meeting the decision rule asks for one (decision_at_meeting); the forecast
    # asks for the day of each meeting it considers (ctx.now).
    held_on = local_date(meeting.starts_at if meeting is not None else ctx.now)
    if held_on > last:
        return None
    return Failure(
        "after_budget_adoption",
        f"Implementeringsplanen for {plan_year} tiltrædes på et møde i SKU efter kommunernes og "
        f"regionens budgetvedtagelse; den sidste var {format_date(last)}, og mødet er "
        f"{format_date(held_on)}. Tiltræd planen på et senere møde.",
        f"The implementation plan for {plan_year} is adopted at an SKU meeting after the "
        f"budgets; the last was adopted on {formats.format_date(last, 'en')} and the meeting is "
        f"on {formats.format_date(held_on, 'en')}. Adopt the plan at a later meeting.",
    )


@guard("budget_dates_for_plan_year")
def budget_dates_for_plan_year(ctx: GuardContext) -> Failure | None:
    """The budgets for the plan year are adopted in the year before it, and not in the future."""
    plan_year = ctx.case.plan_year
    if plan_year is None:
        return None  # after_budget_adoption names the missing year where it matters
    today = local_date(ctx.now)
    wrong: list[tuple[str, str]] = []
    for name, (da, en) in BUDGET_FIELDS.items():
        day = _recorded_day(ctx.data.get(name))
        if day is not None and (day.year != plan_year - 1 or day > today):
            wrong.append((da, en))
    if not wrong:
        return None
    return Failure(
        "budget_dates_for_plan_year",
        f"Budgettet for {plan_year} vedtages i {plan_year - 1}, og en vedtagelse registreres, "
        f"når den har fundet sted: datoen for {_join([da for da, _en in wrong], 'og')} skal "
        f"ligge i {plan_year - 1} og ikke efter i dag.",
        f"The budgets for {plan_year} are adopted in {plan_year - 1} and recorded once adopted: "
        f"the date for {_join([en for _da, en in wrong], 'and')} must lie in {plan_year - 1} "
        "and not after today.",
    )


KKR_DIALOGUE = "record_kkr_dialogue"


@guard("kkr_dialogue_date_valid")
def kkr_dialogue_date_valid(ctx: GuardContext) -> Failure | None:
    """A dialogue is recorded once it has taken place."""
    day = _recorded_day(ctx.data.get("dialogue_on"))
    if day is None or day <= local_date(ctx.now):
        return None
    return Failure(
        "kkr_dialogue_date_valid",
        f"Dialogen den {format_date(day)} har ikke fundet sted endnu. Registrér den, når den "
        "har været holdt.",
        f"The dialogue on {formats.format_date(day, 'en')} has not taken place yet.",
    )


@guard("kkr_dialogue_recorded")
def kkr_dialogue_recorded(ctx: GuardContext) -> Failure | None:
    """The plan is discussed with the municipalities via KKR (seed 004, DESIGN): the dialogue
    is on record since the case last came to the dialogue before it is closed."""
    events = ctx.session.execute(
        select(CaseEvent.trigger, CaseEvent.from_state, CaseEvent.to_state)
        .where(CaseEvent.case_id == ctx.case.id)
        .order_by(CaseEvent.seq)
    ).all()
    recorded = False
    for trigger, from_state, to_state in events:
        if to_state == ctx.case.state and from_state != ctx.case.state:
            recorded = False  # (back) in the dialogue: what came before does not count
        elif trigger == KKR_DIALOGUE:
            recorded = True
    if recorded:
        return None
    return Failure(
        "kkr_dialogue_recorded",
        "Implementeringsplanen drøftes med kommunerne via KKR, før dialogen afsluttes: "
        "registrér dialogen (dato, hvem der deltog, hvad der blev drøftet og aftalt) først.",
        "The implementation plan is discussed with the municipalities via KKR before the "
        "dialogue is closed: record the dialogue (date, who took part, what was agreed) first.",
    )


@guard("indicator_values_recorded")
def indicator_values_recorded(ctx: GuardContext) -> Failure | None:
    """The yearly follow-up is on the indicators (seed 004 l.299-300): each indicator the
    plan's lines aim to move has the region's value for the plan year before SKU treats it."""
    from workflow.implementation.indicators import plan_indicator_values

    values = plan_indicator_values(ctx.session, ctx.case)
    if not values:
        return Failure(
            "indicator_values_recorded",
            "Opfølgningen på implementeringsplanen sker på indikatorerne, men planens linjer "
            "angiver ingen indikatorer. Angiv, hvilke indikatorer indsatserne skal påvirke.",
            "The follow-up on the implementation plan is on its indicators, but the plan's "
            "lines name none. Name the indicators the initiatives aim to move.",
        )
    missing = [v.indicator.code for v in values if v.value is None]
    if not missing:
        return None
    return Failure(
        "indicator_values_recorded",
        f"Regionens værdi for {ctx.case.plan_year} mangler for {_join(missing, 'og')}. "
        "Indlæs indikatorværdierne (CSV eller API), før SKU følger op.",
        f"The region's value for {ctx.case.plan_year} is missing for "
        f"{_join(missing, 'and')}. Import the indicator values before SKU follows up.",
    )


NEW_GROUP = "new_working_group"
NEW_GROUP_UNTIL = "new_working_group_until"
DRAFTING_BODY = "drafting_body"


@guard("new_working_group_valid")
def new_working_group_valid(ctx: GuardContext) -> Failure | None:
    """Type A (seed 002 l.75-77): the approver names an existing cluster or working group, or
    sets up a new temporary working group by its name and the day it ends — not both."""
    from workflow.organisation.operations import temporary_group_problem

    name = str(ctx.data.get(NEW_GROUP) or "").strip()
    until = _recorded_day(ctx.data.get(NEW_GROUP_UNTIL))
    if not name:
        if ctx.data.get(NEW_GROUP_UNTIL) in (None, ""):
            return None
        return Failure(
            "new_working_group_valid",
            "Giv den nye arbejdsgruppe et navn, eller lad slutdatoen stå tom.",
            "Give the new working group a name, or leave its end date empty.",
        )
    if str(ctx.data.get(DRAFTING_BODY) or "").strip():
        return Failure(
            "new_working_group_valid",
            "Vælg enten en eksisterende klynge eller arbejdsgruppe eller nedsæt en ny "
            "arbejdsgruppe – ikke begge dele.",
            "Choose an existing cluster or working group, or set up a new working group – "
            "not both.",
        )
    try:
        single_line(name, 200)  # a body's name: one line
    except InvalidValue as refused:
        return Failure(
            "new_working_group_valid",
            f"Arbejdsgruppens navn: {refused.message_da}",
            f"The working group's name: {refused.message_en}",
        )
    if until is None:
        return Failure(
            "new_working_group_valid",
            "En midlertidig arbejdsgruppe nedsættes for en periode: angiv dens slutdato.",
            "A temporary working group is set up for a period: give its end date.",
        )
    problem = temporary_group_problem(until, local_date(ctx.now))
    if problem is None:
        return None
    return Failure("new_working_group_valid", *problem)


@action("set_up_drafting_working_group")
def set_up_drafting_working_group(ctx: ActionContext) -> None:
    """The working group named with the approval is set up, under the approving body, and
    drafts: the case, its deadline and its reminders go to it (type A, seed 002 l.75-77)."""
    from models import Deadline
    from workflow.organisation.operations import set_up_drafting_group

    # Only on the approval that named it: a later return to drafting stays with the group.
    approval = ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == ctx.case.id).order_by(CaseEvent.seq.desc())
    ).first()
    data = (approval.data or {}) if approval is not None else {}
    name = str(data.get(NEW_GROUP) or "").strip()
    until = _recorded_day(data.get(NEW_GROUP_UNTIL))
    if not name or until is None:
        return
    parent = ctx.session.scalar(select(Body).where(Body.code == data.get("decision_body")))
    if parent is None:
        parent = ctx.case.current_body
    group = set_up_drafting_group(
        ctx.session, ctx.actor, parent, name=name, ends_on=until,
        case=ctx.case.esdh_case_number or str(ctx.case.id),
    )  # fmt: skip
    ctx.case.extra = {**ctx.case.extra, DRAFTING_BODY: group.code}
    ctx.case.current_body_id = group.id
    ctx.case.current_body = group
    for deadline in ctx.session.scalars(
        select(Deadline).where(
            Deadline.case_id == ctx.case.id,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
    ):
        deadline.body_id = group.id
    ctx.session.flush()
