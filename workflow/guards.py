"""Named guards and routing predicates referenced from the process definitions in states/.

A guard returns None when its rule holds, or a Failure that says, in Danish and English,
which rule failed and what to do. A predicate answers a yes/no question for routing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, ImplementationStatus, PartyKind, User
from workflow.localtime import format_date


@dataclass(frozen=True)
class Failure:
    """A rule that does not hold, explained for the user."""

    rule: str
    message: str
    message_en: str


@dataclass
class GuardContext:
    """What a guard may look at: the case, who acts, the submitted data and the time."""

    case: Case
    actor: User | None
    session: Session
    now: datetime
    data: dict[str, Any] = field(default_factory=dict)


Guard = Callable[[GuardContext], Failure | None]
Predicate = Callable[[GuardContext], bool]

GUARDS: dict[str, Guard] = {}
PREDICATES: dict[str, Predicate] = {}

FLAG_LABELS = {
    "principled": ("principiel", "principled"),
    "political": ("af politisk karakter", "political"),
    "interface_change": ("ændrer en snitflade", "changes an interface between sectors"),
    "cost_driving": ("medfører merudgifter for en eller flere parter", "creates extra expense"),
}


def guard(name: str) -> Callable[[Guard], Guard]:
    """Register a guard under the name the definitions use."""

    def register(function: Guard) -> Guard:
        GUARDS[name] = function
        return function

    return register


def predicate(name: str) -> Callable[[Predicate], Predicate]:
    """Register a routing predicate under the name the definitions use."""

    def register(function: Predicate) -> Predicate:
        PREDICATES[name] = function
        return function

    return register


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


def municipal_extra_expense(case: Case) -> Decimal:
    """Sum the extra expense the case puts on municipalities."""
    return sum(
        (e.amount_dkk for e in case.expenses if e.party.kind == PartyKind.MUNICIPALITY),
        Decimal(0),
    )


@predicate("escalation_required")
def escalation_required(ctx: GuardContext) -> bool:
    """A principled, political, interface-changing or cost-driving matter not yet at TSS."""
    return bool(ctx.case.escalation_reasons) and ctx.case.tss_cleared_at is None


@predicate("large_task_not_raised")
def large_task_not_raised(ctx: GuardContext) -> bool:
    """A large task that TSS has not yet seen (seed 000: raise it before starting)."""
    return ctx.case.large_task and ctx.case.tss_cleared_at is None


@guard("within_mandate")
def within_mandate(ctx: GuardContext) -> Failure | None:
    """Principled, political, interface or cost matters cannot be decided below TSS."""
    if not escalation_required(ctx):
        return None
    reasons_da = ", ".join(FLAG_LABELS[f][0] for f in ctx.case.escalation_reasons)
    reasons_en = ", ".join(FLAG_LABELS[f][1] for f in ctx.case.escalation_reasons)
    return Failure(
        "within_mandate",
        f"Sagen er {reasons_da} og kan ikke afgøres under TSS. "
        "Send den til drøftelse i TSS først (kommissorium for samarbejdsfora).",
        f"The matter is {reasons_en} and cannot be decided below TSS. Send it to TSS first.",
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


@guard("financing_follows")
def financing_follows(ctx: GuardContext) -> Failure | None:
    """New municipal tasks with extra expense need a business case and financing (seed 001)."""
    case = ctx.case
    if municipal_extra_expense(case) <= 0 and not case.cost_driving:
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


@guard("role_distribution_stated")
def role_distribution_stated(ctx: GuardContext) -> Failure | None:
    """The role and task distribution, including general practice, must be described."""
    missing = []
    if _blank(ctx.case.role_distribution):
        missing.append(("rolle- og opgavefordelingen", "the role and task distribution"))
    if _blank(ctx.case.general_practice_role):
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


@guard("triple_aim_described")
def triple_aim_described(ctx: GuardContext) -> Failure | None:
    """Quality, economy and the citizen's experience are described before TSS recommends."""
    parts = [
        ("kvalitet", "quality", ctx.case.triple_aim_quality),
        ("økonomi", "economy", ctx.case.triple_aim_economy),
        ("borgerens oplevelse", "the citizen's experience", ctx.case.triple_aim_experience),
    ]
    missing = [(da, en) for da, en, text in parts if _blank(text)]
    if not missing:
        return None
    return Failure(
        "triple_aim_described",
        "Beslutningsgrundlaget (Triple Aim) mangler en beskrivelse af "
        + ", ".join(m[0] for m in missing)
        + ".",
        "The decision basis (Triple Aim) lacks a description of "
        + ", ".join(m[1] for m in missing)
        + ".",
    )


@guard("focus_and_goals_stated")
def focus_and_goals_stated(ctx: GuardContext) -> Failure | None:
    """A proposal names its focus area and at least one national quality goal."""
    missing = []
    if ctx.case.focus_area_id is None:
        missing.append(("fokusområde", "focus area"))
    if not ctx.case.national_goals:
        missing.append(("mindst ét nationalt mål", "at least one national goal"))
    if not missing:
        return None
    return Failure(
        "focus_and_goals_stated",
        "Angiv " + " og ".join(m[0] for m in missing) + ", som forslaget understøtter.",
        "State the " + " and ".join(m[1] for m in missing) + " the proposal addresses.",
    )


@guard("consultation_closed")
def consultation_closed(ctx: GuardContext) -> Failure | None:
    """The comment round runs to its response deadline."""
    raw = ctx.case.extra.get("consultation_deadline")
    if not raw:
        return None
    deadline = date.fromisoformat(str(raw))
    if ctx.now.date() > deadline or ctx.data.get("all_answered") is True:
        return None
    return Failure(
        "consultation_closed",
        f"Høringsfristen {format_date(deadline)} er ikke udløbet, og ikke alle parter har svaret.",
        f"The consultation deadline {deadline.isoformat()} has not passed and not all have "
        "answered.",
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
            "Der er ikke registreret nogen enheder, der skal implementere sagen.",
            "No units have been registered to implement the case.",
        )
    pending = [u.party.name for u in units if not u.is_done]
    if not pending:
        return None
    shown = ", ".join(sorted(pending)[:5]) + (" m.fl." if len(pending) > 5 else "")
    return Failure(
        "implementation_complete",
        f"{len(pending)} enheder har endnu ikke implementeret: {shown}.",
        f"{len(pending)} units have not yet implemented the case.",
    )


@guard("after_budget_adoption")
def after_budget_adoption(ctx: GuardContext) -> Failure | None:
    """The implementation plan is adopted at the end of October, after the budgets (seed 004)."""
    plan_year = ctx.case.plan_year
    if plan_year is None:
        return Failure(
            "after_budget_adoption",
            "Implementeringsplanen mangler det år, den gælder for.",
            "The implementation plan lacks the year it applies to.",
        )
    budgets_adopted = date(plan_year - 1, 10, 1)
    if ctx.now.date() >= budgets_adopted:
        return None
    return Failure(
        "after_budget_adoption",
        f"Implementeringsplanen for {plan_year} tiltrædes først efter kommunernes og regionens "
        f"budgetvedtagelse, dvs. tidligst {format_date(budgets_adopted)}.",
        f"The implementation plan for {plan_year} is adopted after the budgets, on or after "
        f"{budgets_adopted.isoformat()}.",
    )
