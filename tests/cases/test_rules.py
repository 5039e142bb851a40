"""Every named guard, holding and failing, with the rule named in Danish; and the decision
rule: chairs may decide on the body's behalf, the secretariat records decisions at meetings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from support.formandskab import decide

from models import (
    CaseExpense,
    Consultation,
    ConsultationResponse,
    ImplementationState,
    ImplementationStatus,
    MeetingStatus,
    Notification,
    Party,
    PartyKind,
    ResponseStatus,
)
from workflow.cases import rules as guards
from workflow.engine import clock
from workflow.engine.errors import GuardFailed
from workflow.engine.guards import GUARDS, GuardContext

TESTED_GUARDS = {
    "within_mandate",
    "large_task_raised_in_tss",
    "financing_follows",
    "business_case_stated",
    "role_distribution_stated",
    "triple_aim_described",
    "focus_and_goals_stated",
    "consultation_closed",
    "implementation_complete",
    "after_budget_adoption",
    "budget_dates_for_plan_year",
    "kkr_dialogue_date_valid",
    "kkr_dialogue_recorded",
    "indicator_values_recorded",
    "new_working_group_valid",
    "implementation_scope_valid",
    "practice_plan_matter",
    "started_by_cluster",
    "own_initiative",
}


def test_every_guard_has_tests_here():
    assert set(GUARDS) == TESTED_GUARDS


@pytest.fixture
def run(session):
    """Run one guard on a case: None when it holds, else the Failure."""

    def call(name, case, **data):
        failure = GUARDS[name](GuardContext(case, None, session, clock.now(), data))
        assert failure is None or failure.rule == name
        return failure

    return call


def _party(session, kind, offset=0):
    return session.scalars(select(Party).where(Party.kind == kind).order_by(Party.id)).all()[offset]


def _expense(session, case, kind, amount="100000"):
    party = _party(session, kind)
    session.add(CaseExpense(case_id=case.id, party_id=party.id, amount_dkk=Decimal(amount)))
    session.commit()


# --- Escalation (seed 000) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "words"),
    [
        ("principled", "Sagen er principiel."),
        ("political", "Sagen er af politisk karakter."),
        ("interface_change", "Sagen ændrer en snitflade mellem sektorerne."),
        ("cost_driving", "Sagen medfører merudgifter for en eller flere parter."),
    ],
)
def test_within_mandate_names_why_the_matter_belongs_in_tss(make_case, run, flag, words):
    case = make_case("forum_matter", origin="FORUM-DATA", **{flag: True})
    failure = run("within_mandate", case)
    assert failure.message.startswith(words)
    assert "kan den ikke afgøres under TSS" in failure.message
    case.tss_cleared_at = clock.now()
    assert run("within_mandate", case) is None


def test_within_mandate_holds_for_a_plain_matter(make_case, run):
    assert run("within_mandate", make_case("forum_matter", origin="FORUM-DATA")) is None


def test_recorded_extra_expense_for_any_party_makes_the_matter_cost_driving(
    session, make_case, run
):
    case = make_case("forum_matter", origin="FORUM-DATA")
    _expense(session, case, PartyKind.REGION)
    failure = run("within_mandate", case)
    assert "medfører merudgifter" in failure.message


def test_large_task_must_be_raised_in_tss_before_it_starts(make_case, run):
    case = make_case("forum_matter", origin="FORUM-DATA", large_task=True)
    failure = run("large_task_raised_in_tss", case)
    assert "større opgave skal rejses i TSS, før den igangsættes" in failure.message
    case.tss_cleared_at = clock.now()
    assert run("large_task_raised_in_tss", case) is None
    assert run("large_task_raised_in_tss", make_case("forum_matter", origin="FORUM-DATA")) is None


# --- Financing follows (seed 001) ---------------------------------------------------------


def test_cost_driving_proposal_lacks_business_case_and_financing(make_case, run):
    case = make_case(cost_driving=True, business_case="")
    failure = run("financing_follows", case)
    assert "mangler en businesscase og et finansieringsforslag" in failure.message
    assert "Finansiering skal følge med" in failure.message
    case.business_case = "Gevinst efter to år."
    assert "mangler et finansieringsforslag." in run("financing_follows", case).message
    case.financing_proposal = "Regionen finansierer år 1."
    assert run("financing_follows", case) is None


def test_municipal_extra_expense_needs_business_case_and_financing(session, make_case, run):
    case = make_case(business_case="")
    assert case.expenses == []  # loaded before the expense is added, as a web form would
    assert run("financing_follows", case) is None
    _expense(session, case, PartyKind.MUNICIPALITY)
    assert "mangler en businesscase" in run("financing_follows", case).message
    case.business_case, case.financing_proposal = "Se bilag.", "Deles efter befolkningstal."
    assert run("financing_follows", case) is None


def test_extra_expense_for_the_region_alone_is_not_a_municipal_task(session, make_case, run):
    case = make_case()
    _expense(session, case, PartyKind.REGION)
    assert run("financing_follows", case) is None
    assert guards.municipal_extra_expense(case) == 0


def test_extra_expense_kept_on_the_session_shows_a_new_expense_at_once(session, make_case):
    # The sums are kept on the session while nothing changes (a case page's forecast asks
    # them at every step); an expense added, pending or flushed, is counted at once.
    case = make_case()
    assert guards.municipal_extra_expense(case) == 0
    assert guards.municipal_extra_expense(case) == 0
    first, second = (
        _party(session, PartyKind.MUNICIPALITY),
        _party(session, PartyKind.MUNICIPALITY, 1),
    )
    session.add(CaseExpense(case_id=case.id, party_id=first.id, amount_dkk=Decimal(5)))
    assert guards.municipal_extra_expense(case) == 5
    session.add(CaseExpense(case_id=case.id, party_id=second.id, amount_dkk=Decimal(7)))
    session.flush()
    assert guards.municipal_extra_expense(case) == 12
    _expense(session, case, PartyKind.REGION, "30")
    assert guards.municipal_extra_expense(case) == 12
    assert guards._extra_expense(case) == 42


# --- Role distribution and decision basis -----------------------------------------------


def test_role_distribution_including_general_practice(make_case, run):
    case = make_case(role_distribution="", general_practice_role="")
    failure = run("role_distribution_stated", case)
    assert failure.message.startswith("Beskriv rolle- og opgavefordelingen og almen praksis' rolle")
    case.role_distribution = "Kommunen følger op."
    failure = run("role_distribution_stated", case)
    assert "rolle- og opgavefordelingen" not in failure.message
    assert "skriv 'ikke relevant' med begrundelse" in failure.message
    case.general_practice_role = "Ikke relevant: indsatsen ligger efter udskrivning."
    assert run("role_distribution_stated", case) is None


def test_triple_aim_before_tss_recommends(make_case, run):
    case = make_case(triple_aim_quality="", triple_aim_experience="  ")
    failure = run("triple_aim_described", case)
    assert "kvaliteten og borgerens oplevelse (en tom" in failure.message
    case.triple_aim_quality, case.triple_aim_experience = "Bedre forløb.", "Borgeren er tryg."
    assert run("triple_aim_described", case) is None


def test_focus_area_and_national_goal(make_case, run):
    case = make_case(goals=False)
    failure = run("focus_and_goals_stated", case)
    assert (
        failure.message
        == "Angiv fokusområde og mindst ét nationalt mål, som forslaget understøtter."
    )
    assert run("focus_and_goals_stated", make_case()) is None


# --- Consultation, implementation, plan year --------------------------------------------


def test_consultation_cannot_close_before_its_deadline_unless_all_answered(make_case, run):
    case = make_case("joint_agreement", origin="SU-MIDT-SOM")
    assert run("consultation_closed", case) is None  # no consultation held
    case.extra = {"consultation_deadline": "2020-09-15"}
    failure = run("consultation_closed", case)
    assert "Høringsfristen 15. september 2020 er ikke udløbet" in failure.message
    assert "ikke alle parter har svaret" in failure.message
    assert run("consultation_closed", case, all_answered=True) is None
    clock.set_time(datetime(2020, 9, 15, 21, 59, tzinfo=UTC))  # 23:59 on the day itself
    assert run("consultation_closed", case) is not None
    clock.set_time(datetime(2020, 9, 15, 22, 0, tzinfo=UTC))  # midnight in Denmark
    assert run("consultation_closed", case) is None


def _consultation(session, case, *statuses, created_at=None):
    round_ = Consultation(
        case_id=case.id, title="Høring", deadline=date(2020, 10, 2),
        created_at=created_at or clock.now(),
    )  # fmt: skip
    session.add(round_)
    session.flush()
    for offset, status in enumerate(statuses):
        party = _party(session, PartyKind.MUNICIPALITY, offset)
        session.add(
            ConsultationResponse(consultation_id=round_.id, party_id=party.id, status=status)
        )
    session.commit()
    return round_


def test_answers_recorded_in_the_app_decide_whether_all_have_answered(
    session, make_case, make_user, run
):
    case = make_case("joint_agreement", origin="SU-MIDT-SOM", state="drafting")
    chair = make_user("chair@SU-MIDT-SOM")
    _consultation(session, case, ResponseStatus.ANSWERED, created_at=clock.now())  # old round
    clock.advance(timedelta(days=1))
    decide(case, "start_consultation", chair, data={"consultation_deadline": "2020-10-02"})
    assert run("consultation_closed", case, all_answered=True) is None  # round run by mail
    round_ = _consultation(session, case, ResponseStatus.ANSWERED, ResponseStatus.PENDING)
    failure = run("consultation_closed", case, all_answered=True)
    waiting = _party(session, PartyKind.MUNICIPALITY, 1).name
    assert f"og 1 har endnu ikke svaret: {waiting}." in failure.message
    round_.responses[1].status = ResponseStatus.NO_ANSWER  # declined: the round may close
    session.commit()
    assert run("consultation_closed", case) is None
    decide(case, "end_consultation", chair)
    assert case.state == "at_tss"


def _units(session, case, *states):
    parties = session.scalars(
        select(Party).where(Party.kind == PartyKind.MUNICIPALITY).order_by(Party.name)
    ).all()
    for party, state in zip(parties, states, strict=False):
        reason = "Ingen målgruppe." if state == ImplementationState.NOT_RELEVANT else ""
        session.add(
            ImplementationStatus(case_id=case.id, party_id=party.id, status=state, reason=reason)
        )
    session.commit()
    return parties


def test_implementation_completes_only_when_every_unit_is_done(session, make_case, run):
    case = make_case(state="implementation")
    failure = run("implementation_complete", case)
    assert "ikke registreret nogen enheder" in failure.message
    parties = _units(
        session, case, ImplementationState.IMPLEMENTED, ImplementationState.NOT_RELEVANT,
        ImplementationState.IN_PROGRESS,
    )  # fmt: skip
    failure = run("implementation_complete", case)
    assert failure.message.startswith(
        f"1 enhed har endnu ikke implementeret sagen: {parties[2].name}."
    )
    unit = session.scalar(
        select(ImplementationStatus).where(ImplementationStatus.party_id == parties[2].id)
    )
    unit.status = ImplementationState.IMPLEMENTED
    session.commit()
    assert run("implementation_complete", case) is None


def test_many_pending_units_are_summarised(session, make_case, run):
    case = make_case(state="implementation")
    _units(session, case, *[ImplementationState.NOT_STARTED] * 7)
    message = run("implementation_complete", case).message
    assert message.startswith("7 enheder har endnu ikke implementeret sagen: ")
    assert " og 2 andre. " in message


def test_plan_is_adopted_at_an_sku_meeting_after_the_recorded_budgets(
    session, make_case, run, body
):
    from models import Meeting, MeetingStatus

    case = make_case("implementation_plan", origin="TSS", plan_year=2021, state="awaiting_adoption")
    failure = run("after_budget_adoption", case)
    assert "kommunernes budgetter og regionens budget er ikke registreret" in failure.message
    case.extra = {"municipal_budgets_adopted_on": "2020-10-13"}
    assert "regionens budget er ikke registreret" in run("after_budget_adoption", case).message
    case.extra = {**case.extra, "regional_budget_adopted_on": "2020-10-06"}
    meeting = Meeting(
        body_id=body("SKU").id,
        title="SKU",
        starts_at=datetime(2020, 10, 13, 13, tzinfo=UTC),
        status=MeetingStatus.HELD,
    )
    session.add(meeting)
    session.flush()
    failure = run("after_budget_adoption", case, meeting_id=meeting.id)
    assert "den sidste var 13. oktober 2020, og mødet er 13. oktober 2020" in failure.message
    meeting.starts_at = datetime(2020, 10, 28, 13, tzinfo=UTC)
    assert run("after_budget_adoption", case, meeting_id=meeting.id) is None
    case.plan_year = None
    assert "mangler det år" in run("after_budget_adoption", case).message


def test_budget_dates_lie_in_the_year_before_the_plan_year_and_not_ahead(make_case, run):
    case = make_case("implementation_plan", origin="TSS", plan_year=2021)
    clock.set_time(datetime(2020, 10, 20, 8, tzinfo=UTC))
    assert (
        run(
            "budget_dates_for_plan_year",
            case,
            municipal_budgets_adopted_on="2020-10-13",
            regional_budget_adopted_on="2020-09-29",
        )
        is None
    )
    failure = run("budget_dates_for_plan_year", case, regional_budget_adopted_on="2021-09-29")
    assert "datoen for regionens budget skal ligge i 2020" in failure.message
    failure = run("budget_dates_for_plan_year", case, municipal_budgets_adopted_on="2020-10-21")
    assert "kommunernes budgetter" in failure.message


def test_a_kkr_dialogue_is_recorded_once_it_has_been_held(make_case, run):
    case = make_case("implementation_plan", origin="TSS", plan_year=2021)
    assert run("kkr_dialogue_date_valid", case, dialogue_on="2020-08-31") is None
    assert (
        "har ikke fundet sted endnu"
        in run("kkr_dialogue_date_valid", case, dialogue_on="2020-09-02").message
    )


def test_the_dialogue_counts_only_since_the_plan_last_came_to_it(session, make_case, run):
    from workflow.engine.core import append_event

    case = make_case("implementation_plan", origin="TSS", plan_year=2021, state="kkr_dialogue")

    def event(trigger, from_state):
        append_event(
            session, case, trigger=trigger, actor=None, from_state=from_state, comment="",
            data={}, now=clock.now(),
        )  # fmt: skip

    assert "registrér dialogen" in run("kkr_dialogue_recorded", case).message
    event("record_kkr_dialogue", "kkr_dialogue")
    assert run("kkr_dialogue_recorded", case) is None
    event("return_to_dialogue", "awaiting_adoption")
    assert run("kkr_dialogue_recorded", case) is not None


def test_the_follow_up_needs_the_regions_value_of_each_indicator_the_plan_names(
    session, make_case, run
):
    from models import Indicator, IndicatorDirection, IndicatorValue, PlanItem

    case = make_case("implementation_plan", origin="TSS", plan_year=2021, state="follow_up")
    assert "angiver ingen indikatorer" in run("indicator_values_recorded", case).message
    named = [
        Indicator(code=code, name=code, direction=IndicatorDirection.UP, unit="%")
        for code in ("A-1", "B-2")
    ]
    item = PlanItem(plan_case_id=case.id, title="Linje")
    item.indicators.extend(named)
    session.add_all([*named, item])
    session.flush()
    region = _party(session, PartyKind.REGION)
    municipality = _party(session, PartyKind.MUNICIPALITY)
    session.add_all(
        [
            IndicatorValue(indicator_id=named[0].id, year=2021, party_id=region.id, value=1),
            # A municipality's value, and the region's of another year, are not the region's.
            IndicatorValue(indicator_id=named[1].id, year=2021, party_id=municipality.id, value=2),
            IndicatorValue(indicator_id=named[1].id, year=2020, party_id=region.id, value=2),
        ]
    )
    session.flush()
    failure = run("indicator_values_recorded", case)
    assert "Regionens værdi for 2021 mangler for B-2" in failure.message
    session.add(IndicatorValue(indicator_id=named[1].id, year=2021, party_id=region.id, value=3))
    session.flush()
    assert run("indicator_values_recorded", case) is None


def test_a_new_working_group_is_named_with_an_end_and_instead_of_another_choice(make_case, run):
    case = make_case("joint_agreement", state="terms_of_reference")
    name = {"new_working_group": "Arbejdsgruppe om respiration"}
    assert run("new_working_group_valid", case) is None
    assert run("new_working_group_valid", case, drafting_body="SU-NORD-SOM") is None
    assert (
        run("new_working_group_valid", case, **name, new_working_group_until="2021-03-01") is None
    )
    assert "angiv dens slutdato" in run("new_working_group_valid", case, **name).message
    both = run(
        "new_working_group_valid", case, **name, new_working_group_until="2021-03-01",
        drafting_body="SU-NORD-SOM",
    )  # fmt: skip
    assert "ikke begge dele" in both.message
    long_name = {"new_working_group": "A" * 201, "new_working_group_until": "2021-03-01"}
    assert "højst 200 tegn" in run("new_working_group_valid", case, **long_name).message
    two_lines = {"new_working_group": "Arbejds-\ngruppe", "new_working_group_until": "2021-03-01"}
    assert "Arbejdsgruppens navn" in run("new_working_group_valid", case, **two_lines).message


def test_implementation_scope_valid_names_the_unknown_planning_area(make_case, run):
    case = make_case(state="at_sku")
    assert run("implementation_scope_valid", case) is None
    assert run("implementation_scope_valid", case, implementation_scope="") is None
    assert run("implementation_scope_valid", case, implementation_scope="nord; Midt") is None
    failure = run("implementation_scope_valid", case, implementation_scope="NORD, ØST")
    assert failure.message.startswith("Planområdet ØST findes ikke.")
    assert "BORNHOLM, BYEN, MIDT, NORD, SYD" in failure.message
    # An empty field keeps the scope the case already names, so that is checked too.
    case.extra = {"implementation_scope": "VEST, ØST"}
    assert (
        "Planområderne VEST og ØST findes ikke" in run("implementation_scope_valid", case).message
    )
    assert run("implementation_scope_valid", case, implementation_scope="SYD") is None


# --- Decisions: at a meeting, or by the chairs on the body's behalf ------------------------


def test_chairs_decide_on_the_bodys_behalf_between_meetings(make_case, make_user):
    # TSS's terms let its chairmanship decide; decide() has the other co-chair propose first.
    case = make_case(state="at_tss")
    event = decide(case, "tss_return", make_user("vice_chair@TSS"), comment="Mangler økonomi.")
    assert event.data["on_behalf_of_body"] is True
    assert event.data["decision_body"] == "TSS"
    assert event.meeting_id is None


def test_secretariat_records_a_decision_at_a_meeting_of_the_body(
    make_case, make_user, make_meeting
):
    case = make_case(state="at_sku")
    secretariat = make_user("secretariat@SKU")
    with pytest.raises(GuardFailed) as refused:
        decide(case, "sku_approve", secretariat)
    assert refused.value.failures[0].rule == "decision_at_meeting"
    assert (
        "Sekretariatet registrerer beslutninger, der er truffet på et møde" in refused.value.message
    )
    for meeting in (make_meeting("TSS"), make_meeting("SKU", status=MeetingStatus.CANCELLED)):
        with pytest.raises(GuardFailed):
            decide(case, "sku_approve", secretariat, data={"meeting_id": meeting.id})
    with pytest.raises(GuardFailed):
        decide(case, "sku_approve", secretariat, data={"meeting_id": "det sidste"})
    meeting = make_meeting("SKU")
    event = decide(case, "sku_approve", secretariat, data={"meeting_id": str(meeting.id)})
    assert event.meeting_id == meeting.id
    assert "on_behalf_of_body" not in event.data


def test_chair_may_also_name_the_meeting(make_case, make_user, make_meeting):
    case = make_case(state="at_sku")
    meeting = make_meeting("SKU")
    event = decide(case, "sku_approve", make_user("chair@SKU"), data={"meeting_id": meeting.id})
    assert event.meeting_id == meeting.id
    assert "on_behalf_of_body" not in event.data


# --- Observers are informed once ------------------------------------------------------


def test_kkr_and_kku_observers_are_informed_exactly_once_on_sku_approval(
    session, make_case, make_user, make_meeting
):
    case = make_case(state="at_sku")
    kkr, kku, both = (
        make_user("observer@KKR"),
        make_user("observer@KKU"),
        make_user("observer@KKR", "observer@KKU"),
    )
    decide(case, "sku_approve", make_user("chair@SKU"), data={"meeting_id": make_meeting("SKU").id})
    for observer in (kkr, kku, both):
        [informed] = session.scalars(
            select(Notification).where(Notification.recipient_id == observer.id)
        ).all()
        assert informed.kind == "information"
        assert informed.subject == f"Til orientering: {case.title} – Godkend"


# --- A business case on every new agreement (seed 001 l.128-132) ----------------------------


def test_every_new_agreement_needs_a_business_case_without_any_expense(make_case, run):
    case = make_case(business_case="")
    assert case.expenses == [] and not case.cost_driving
    failure = run("business_case_stated", case)
    assert failure.message.startswith("Nye aftaler følges op med en businesscase")
    assert run("financing_follows", case) is None  # the financing rule alone let it through
    case.business_case = "Færre genindlæggelser; ingen kommunal merudgift."
    assert run("business_case_stated", case) is None


@pytest.mark.parametrize(
    ("process", "trigger"),
    [
        ("signature_initiative", "tss_recommend"),
        ("signature_initiative", "sku_approve"),
        ("joint_agreement", "tss_approve"),
        ("joint_agreement", "sku_approve"),
    ],
)
def test_the_approvals_of_new_agreements_ask_for_the_business_case(process, trigger):
    from workflow.engine.definitions import load_definitions

    transition = load_definitions()[process].transition(trigger)
    assert "business_case_stated" in transition.guards


# --- Practice-plan matters go from TSS to PPU (seed 001 l.33-35) ----------------------------


def test_only_a_case_marked_as_a_practice_plan_matter_goes_to_ppu(make_case, run):
    case = make_case("joint_agreement", origin="TSS")
    failure = run("practice_plan_matter", case)
    assert failure is not None and failure.message.startswith("Kun praksisplansager")
    case.extra = {**case.extra, "practice_plan": False}
    assert run("practice_plan_matter", case) is not None
    case.extra = {**case.extra, "practice_plan": True}
    assert run("practice_plan_matter", case) is None


# --- Type B: a cluster's own development task (seed 002 l.83-91) ---------------------------


def test_only_a_cluster_starts_a_task_on_its_own_initiative(make_case, run):
    assert run("started_by_cluster", make_case("development_task", origin="SU-SYD-SOM")) is None
    failure = run("started_by_cluster", make_case("development_task", origin="TSS"))
    assert "Kun et samordningsudvalg kan igangsætte en udviklingsopgave på eget initiativ" in (
        failure.message
    )


def test_a_task_tss_framed_is_not_the_clusters_own(session, make_case, run):
    from workflow.engine.core import append_event

    case = make_case("development_task", origin="SU-SYD-SOM", state="development")
    assert run("own_initiative", case) is None
    append_event(
        session, case, trigger="approve_frame", actor=None, from_state="assignment_frame",
        comment="", data={}, now=clock.now(),
    )  # fmt: skip
    session.commit()
    assert "igangsat af TSS med et opdragspapir" in run("own_initiative", case).message


def test_within_mandate_holds_where_tss_itself_decides(session, make_case, run):
    """Seed 002 l.33-34: TSS treats matters of economic significance — it is not sent to
    itself with "send den til drøftelse i TSS først"."""
    case = make_case("development_task", origin="SU-SYD-SOM", state="at_tss", cost_driving=True)
    case.current_body = _body(session, "TSS")
    assert run("within_mandate", case) is None
    case.current_body = _body(session, "SU-SYD-SOM")
    assert "send den til drøftelse i TSS først" in run("within_mandate", case).message


def _body(session, code):
    from models import Body

    return session.scalar(select(Body).where(Body.code == code))


# --- Triple Aim: the three aims addressed, not only filled in (seed 002 l.16-17, l.49-51) ---


@pytest.mark.parametrize("placeholder", ["-", "Ikke relevant", "Udgiftsneutral.", "?", "tbd"])
def test_a_placeholder_or_one_word_does_not_address_an_aim(make_case, run, placeholder):
    case = make_case(triple_aim_economy=placeholder)
    failure = run("triple_aim_described", case)
    assert "skal belyse alle mål i Triple Aim" in failure.message
    assert "lavere omkostninger (økonomi)" in failure.message
    assert "borgerens oplevelse" not in failure.message


def test_descriptions_in_words_address_every_aim(make_case, run):
    assert run("triple_aim_described", make_case()) is None
    case = make_case(triple_aim_quality="", triple_aim_experience="-")
    failure = run("triple_aim_described", case)
    assert "kvaliteten og borgerens oplevelse" in failure.message


@pytest.mark.parametrize("missing", ["", "-", "ikke relevant", "Sundhed."])
def test_the_populations_health_is_an_aim_of_its_own(make_case, run, missing):
    """Seed 002's Triple Aim: the population's health is described in its own field, with the
    same substance rule as the others (issue 16, point 7)."""
    case = make_case(triple_aim_population=missing)
    failure = run("triple_aim_described", case)
    assert "befolkningens sundhed (en tom" in failure.message
    assert "kvaliteten" not in failure.message
    assert "the population's health" in failure.message_en
    case.triple_aim_population = "Færre borgere i regionen udvikler KOL."
    assert run("triple_aim_described", case) is None


def test_without_the_populations_field_among_the_aims_its_refusal_disappears(
    make_case, run, monkeypatch
):
    case = make_case(triple_aim_population="-")
    assert run("triple_aim_described", case) is not None
    monkeypatch.setattr(
        guards,
        "TRIPLE_AIMS",
        tuple(a for a in guards.TRIPLE_AIMS if a[0] != "triple_aim_population"),
    )
    assert run("triple_aim_described", case) is None


def test_without_the_substance_rule_a_placeholder_would_pass(make_case, run, monkeypatch):
    """Turn the rule back into a presence check: the refusal of a placeholder disappears."""
    case = make_case(triple_aim_economy="-")
    assert run("triple_aim_described", case) is not None
    monkeypatch.setattr(guards, "TRIPLE_AIM_PLACEHOLDERS", frozenset())
    monkeypatch.setattr(guards, "TRIPLE_AIM_MIN_WORDS", 1)
    assert run("triple_aim_described", case) is None
