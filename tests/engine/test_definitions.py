"""Definition validation: every error names the file and the key an admin must fix."""

from __future__ import annotations

import re
import shutil

import pytest

from workflow.engine.definitions import (
    DefinitionError,
    check_one_plan_year,
    load_definitions,
    parse_definition,
    parse_lifecycle,
)
from workflow.engine.guards import GUARDS, PREDICATES

pytestmark = pytest.mark.database_independent(
    "reads and validates the TOML definitions; no database"
)

SOURCE = "states/x.toml"

VALID = """
name = "x"
title = "Prøve"
initial = "draft"

[states.draft]
label = "Kladde"
label_en = "Draft"

[states.review]
label = "Til behandling"
label_en = "In review"
body = "TSS"
deadline = { kind = "material" }
reminders = [7, 2]

[states.consultation]
label = "I høring"
label_en = "In consultation"
deadline = { kind = "field", field = "consultation_deadline" }

[states.done]
label = "Afsluttet"
label_en = "Done"
final = true

[[transitions]]
trigger = "submit"
source = "draft"
dest = "review"
label = "Indstil"
label_en = "Submit"
allowed = ["chair@originating"]
guards = ["role_distribution_stated"]

[[transitions]]
trigger = "consult"
source = "review"
dest = "consultation"
label = "Send i høring"
label_en = "Consult"
allowed = ["secretariat@TSS"]
fields = [
  { name = "consultation_deadline", type = "date", required = true, label = "F", label_en = "D" },
]

[[transitions]]
trigger = "close"
source = ["review", "consultation"]
dest = "done"
label = "Afslut"
label_en = "Close"
allowed = ["chair@TSS", "admin"]
decision = true

[[routes]]
state = "review"
when = "escalation_required"
trigger = "consult"
reason = "Fordi."
reason_en = "Because."
"""


def _error(text: str) -> str:
    with pytest.raises(DefinitionError) as raised:
        parse_definition(text, SOURCE)
    message = str(raised.value)
    assert message.startswith(f"{SOURCE}: ")
    return message


def _replace(old: str, new: str, count: int = 1) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, count)


def test_the_sample_and_the_real_definitions_are_valid(states_dir):
    definition = parse_definition(VALID, SOURCE)
    assert definition.initial == "draft"
    assert [t.trigger for t in definition.transitions] == ["submit", "consult", "close"]
    assert definition.transition("close").sources == ("review", "consultation")
    assert str(definition.transition("close").allowed[1]) == "admin"
    assert definition.states["review"].reminders == (7, 2)
    definitions = load_definitions(states_dir)
    assert sorted(definitions) == [
        "agreement_review", "development_task", "electoral_period_report", "forum_matter",
        "forum_work_plan", "implementation_plan", "joint_agreement", "signature_initiative",
    ]  # fmt: skip
    used = {g for d in definitions.values() for t in d.transitions for g in t.guards}
    assert used <= set(GUARDS)
    assert {r.when for d in definitions.values() for r in d.routes} <= set(PREDICATES)


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        # unknown states
        ('initial = "draft"', 'initial = "start"', "initial", "ukendt tilstand 'start'"),
        ('source = "draft"', 'source = "kladde"', "transitions[0].source",
         "ukendt tilstand 'kladde'"),
        ('dest = "review"', 'dest = "reviews"', "transitions[0].dest", "ukendt tilstand 'reviews'"),
        # missing required keys
        ('dest = "review"\n', "", "transitions[0].dest", "mangler"),
        ('label = "Indstil"\n', "", "transitions[0].label", "mangler"),
        ('trigger = "submit"\n', "", "transitions[0].trigger", "mangler"),
        ('allowed = ["chair@originating"]\n', "", "transitions[0].allowed", "mangler"),
        ('label_en = "Draft"\n', "", "states.draft.label_en", "mangler"),
        # guards, roles, bodies
        ('guards = ["role_distribution_stated"]', 'guards = ["has_budget"]',
         "transitions[0].guards", "ukendt regel 'has_budget'"),
        ('allowed = ["chair@originating"]', 'allowed = ["boss@originating"]',
         "transitions[0].allowed", "ukendt rolle 'boss@originating'"),
        ('allowed = ["chair@originating"]', 'allowed = ["chair"]',
         "transitions[0].allowed", "ukendt rolle 'chair'"),
        ('allowed = ["chair@originating"]', 'allowed = ["chair@tss"]',
         "transitions[0].allowed", "ukendt organ 'tss'"),
        ('body = "TSS"', 'body = "current"', "states.review.body", "ukendt organ 'current'"),
        # deadlines and reminders
        ('{ kind = "material" }', '{ kind = "weekly" }', "states.review.deadline.kind",
         "ukendt fristtype 'weekly'"),
        ('{ kind = "material" }', '{ kind = "days_after_entry" }',
         "states.review.deadline.days", "positivt antal dage"),
        ('{ kind = "material" }', '{ kind = "month_day", month_day = "10-32" }',
         "states.review.deadline.month_day", "'10-32' skal være en dato"),
        ('{ kind = "material" }', '{ kind = "month_day", month_day = "02-29" }',
         "states.review.deadline.month_day", "'02-29' skal være en dato"),
        ('field = "consultation_deadline" }', 'field = "svarfrist" }',
         "states.consultation.deadline.field", "'svarfrist' er ikke et datofelt"),
        ("reminders = [7, 2]", "reminders = [7, -2]", "states.review.reminders", "positive heltal"),
        # final and dead-end states
        ("final = true", "final = false", "states.done", "ingen udgående overgange"),
        ('source = ["review", "consultation"]', 'source = ["review", "consultation", "done"]',
         "states.done.final", "en sluttilstand kan ikke have udgående overgange (close)"),
        # duplicates and misspelt keys
        ('trigger = "consult"', 'trigger = "submit"', "transitions[1].trigger",
         "'submit' er allerede defineret"),
        ('guards = ["role_distribution_stated"]', 'guard = ["role_distribution_stated"]',
         "transitions[0].guard", "ukendt nøgle"),
        ("reminders = [7, 2]", "reminder = [7, 2]", "states.review.reminder", "ukendt nøgle"),
        ('type = "date"', 'type = "datetime"', "transitions[1].fields[0].type",
         "ukendt felttype 'datetime'"),
        ("required = true", "required = true, mandatory = true",
         "transitions[1].fields[0].mandatory", "ukendt nøgle"),
        # routes
        ('state = "review"', 'state = "nowhere"', "routes[0].state", "ukendt tilstand 'nowhere'"),
        ('when = "escalation_required"', 'when = "always"', "routes[0].when",
         "ukendt betingelse 'always'"),
        ('trigger = "consult"\nreason', 'trigger = "submit"\nreason', "routes[0].trigger",
         "'submit' er ikke en overgang fra tilstanden 'review'"),
        ('reason_en = "Because."', 'because = "Because."', "routes[0].because", "ukendt nøgle"),
    ],
)  # fmt: skip
def test_each_error_names_the_file_and_the_key(old, new, key, words):
    message = _error(_replace(old, new))
    assert f"{SOURCE}: {key}: " in message
    assert words in message


def test_unreachable_state_is_named():
    text = VALID + '\n[states.limbo]\nlabel = "Limbo"\nlabel_en = "Limbo"\nfinal = true\n'
    assert "states.limbo: kan ikke nås fra starttilstanden 'draft'" in _error(text)


def test_duplicate_field_is_named():
    field = '{ name = "consultation_deadline", type = "date", label = "F", label_en = "D" }'
    text = _replace('label_en = "D" },\n]', f'label_en = "D" }},\n  {field},\n]')
    assert "transitions[1].fields[1].name: feltet 'consultation_deadline'" in _error(text)


def test_choice_field_needs_its_choices():
    text = _replace('type = "date", required = true', 'type = "choice", required = true')
    assert "transitions[1].fields[0].choices: mangler" in _error(text)


def test_broken_toml_and_missing_tables():
    assert "ugyldig TOML" in _error('name = "x"\n[states\n')
    assert "states: skal være en tabel" in _error('name = "x"\ninitial = "a"\n')
    without_transitions = VALID.split("[[transitions]]")[0]
    assert "transitions: mindst én overgang" in _error(without_transitions)
    assert "name: 'X-1' skal bestå af små bogstaver" in _error(
        _replace('name = "x"', 'name = "X-1"')
    )
    assert "ukendt nøgle" in _error("owner = 'TSS'\n" + VALID)


def test_loading_a_folder_names_the_file_that_fails(tmp_path, states_dir):
    for path in states_dir.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    broken = tmp_path / "forum_matter.toml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace('guards = ["within_mandate"]', 'guards = ["x"]'),
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError, match=re.escape("states/forum_matter.toml: transitions[")):
        load_definitions(tmp_path)
    (tmp_path / "copy.toml").write_text(VALID, encoding="utf-8")
    (tmp_path / "copy2.toml").write_text(VALID, encoding="utf-8")
    broken.unlink()
    with pytest.raises(
        DefinitionError, match=re.escape("states/copy2.toml: name: 'x' findes allerede")
    ):
        load_definitions(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DefinitionError, match="ingen procesdefinitioner"):
        load_definitions(empty)


def test_every_process_has_its_transition_tests(states_dir):
    tests = states_dir.parent / "tests" / "states"
    missing = [n for n in load_definitions(states_dir) if not (tests / f"test_{n}.py").exists()]
    assert missing == [], "add tests/states/test_<process>.py with PROCESS = '<process>'"


# --- What the domains read from a definition: meeting outcomes, implementation, plan year ----

REVIEW_REMINDERS = "reminders = [7, 2]"
CONSULTATION_DEADLINE = 'deadline = { kind = "field", field = "consultation_deadline" }'
TRACKING = 'tracks_implementation = true\ncompletes_implementation = "close"'


def _with(anchor: str, lines: str) -> str:
    return _replace(anchor, f"{anchor}\n{lines}")


def test_outcomes_implementation_and_plan_year_are_read():
    text = _with(REVIEW_REMINDERS, 'outcomes = { approved = "close", returned = "consult" }')
    text = text.replace(CONSULTATION_DEADLINE, f"{CONSULTATION_DEADLINE}\n{TRACKING}")
    definition = parse_definition("plan_year = true\n" + text, SOURCE)
    review = definition.states["review"]
    assert dict(review.outcomes) == {"approved": "close", "returned": "consult"}
    assert review.awaits_meeting and not definition.states["draft"].awaits_meeting
    assert definition.implementation_state is definition.states["consultation"]
    assert definition.states["consultation"].completes_implementation == "close"
    assert definition.plan_year and definition.declares_domain_keys
    assert not parse_definition(VALID, SOURCE).declares_domain_keys


@pytest.mark.parametrize(
    ("anchor", "lines", "key", "words"),
    [
        # outcomes: a table of known outcomes, each firing a transition from the state
        (REVIEW_REMINDERS, 'outcomes = "close"', "states.review.outcomes", "skal være en tabel"),
        (REVIEW_REMINDERS, "outcomes = {}", "states.review.outcomes", "mindst ét udfald"),
        (REVIEW_REMINDERS, 'outcomes = { approvd = "close" }', "states.review.outcomes.approvd",
         "ukendt mødeudfald"),
        (REVIEW_REMINDERS, "outcomes = { approved = 3 }", "states.review.outcomes.approved",
         "skal være tekst"),
        (REVIEW_REMINDERS, 'outcomes = { approved = "finish" }',
         "states.review.outcomes.approved", "ukendt overgang 'finish'"),
        (REVIEW_REMINDERS, 'outcomes = { approved = "submit" }',
         "states.review.outcomes.approved", "'submit' er ikke en overgang fra tilstanden 'review'"),
        # implementation: one tracking state, ended by a transition from it
        (CONSULTATION_DEADLINE, 'completes_implementation = "close"',
         "states.consultation.completes_implementation", "kræver tracks_implementation = true"),
        (CONSULTATION_DEADLINE, "tracks_implementation = true",
         "states.consultation.completes_implementation", "mangler"),
        (CONSULTATION_DEADLINE, TRACKING.replace('"close"', '"consult"'),
         "states.consultation.completes_implementation",
         "'consult' er ikke en overgang fra tilstanden 'consultation'"),
        (CONSULTATION_DEADLINE, "tracks_implementation = 1",
         "states.consultation.tracks_implementation", "true eller false"),
    ],
)  # fmt: skip
def test_each_domain_key_error_names_the_file_and_the_key(anchor, lines, key, words):
    message = _error(_with(anchor, lines))
    assert f"{SOURCE}: {key}: " in message
    assert words in message


def test_an_outcome_cannot_fire_an_automatic_transition():
    text = _with(REVIEW_REMINDERS, 'outcomes = { approved = "consult" }')
    text = text.replace('allowed = ["secretariat@TSS"]', "automatic_only = true")
    assert "states.review.outcomes.approved: 'consult' udføres kun automatisk" in _error(text)


def test_only_one_state_tracks_implementation():
    text = _with(REVIEW_REMINDERS, TRACKING).replace(
        CONSULTATION_DEADLINE, f"{CONSULTATION_DEADLINE}\n{TRACKING}"
    )
    assert (
        f"{SOURCE}: states.consultation.tracks_implementation: kun én tilstand kan følge "
        "implementeringen (også 'review')"
    ) in _error(text)


def test_visibility_consultation_and_open_plan_lines_are_read_and_checked():
    text = _with(CONSULTATION_DEADLINE, "consultation = true")
    text = text.replace("[states.draft]\n", '[states.draft]\nvisibility = "originating"\n')
    definition = parse_definition(text, SOURCE)
    assert definition.states["consultation"].consultation
    assert not definition.states["review"].consultation
    assert definition.states["draft"].visibility == "originating"
    assert definition.states["review"].visibility == "organisation"
    plan = parse_definition(
        "plan_year = true\n" + _with(REVIEW_REMINDERS, "plan_lines_open = true"), SOURCE
    )
    assert plan.states["review"].plan_lines_open
    assert f"{SOURCE}: states.review.plan_lines_open: kræver plan_year = true" in _error(
        _with(REVIEW_REMINDERS, "plan_lines_open = true")
    )
    assert f"{SOURCE}: states.review.visibility: skal være en af organisation, originating" in (
        _error(_with(REVIEW_REMINDERS, 'visibility = "hemmelig"'))
    )


def test_plan_year_and_kind_are_checked():
    assert f"{SOURCE}: plan_year: skal være true eller" in _error('plan_year = "ja"\n' + VALID)
    assert f"{SOURCE}: kind: ukendt slags 'meeting'" in _error('kind = "meeting"\n' + VALID)
    assert f"{SOURCE}: kind: 'lifecycle' er ikke en sagsproces" in _error(
        'kind = "lifecycle"\n' + VALID
    )


def test_only_one_process_has_a_plan_year(tmp_path, states_dir):
    for path in states_dir.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    plan = (tmp_path / "implementation_plan.toml").read_text(encoding="utf-8")
    (tmp_path / "plan_copy.toml").write_text(
        plan.replace('name = "implementation_plan"', 'name = "plan_copy"'), encoding="utf-8"
    )
    with pytest.raises(DefinitionError) as raised:
        load_definitions(tmp_path)
    assert str(raised.value) == (
        "states/plan_copy.toml: plan_year: kun én proces kan have en sag pr. planår "
        "(også states/implementation_plan.toml)"
    )


def test_the_one_plan_year_check_lets_a_plan_process_be_its_own_next_version(states_dir):
    definitions = load_definitions(states_dir)
    plan = definitions["implementation_plan"]
    check_one_plan_year(plan, definitions.values())  # its own (older) version is no other
    check_one_plan_year(definitions["forum_matter"], definitions.values())  # no plan_year
    copy = parse_definition(
        plan.source.replace('name = "implementation_plan"', 'name = "plan_copy"'), "kopi"
    )
    with pytest.raises(DefinitionError) as raised:
        check_one_plan_year(copy, definitions.values())
    assert str(raised.value) == (
        "kopi: plan_year: kun én proces kan have en sag pr. planår (også implementation_plan)"
    )


def test_the_real_definitions_declare_their_meeting_outcomes_and_implementation(states_dir):
    definitions = load_definitions(states_dir)
    assert "meeting" not in definitions  # a lifecycle, not a process
    for definition in definitions.values():
        for state in definition.states.values():
            for outcome, trigger in state.outcomes.items():
                transition = definition.transition(trigger)
                assert transition is not None, (definition.name, state.name, outcome)
                assert state.name in transition.sources, (definition.name, state.name, outcome)
    tracking = {
        name: (d.implementation_state.name, d.implementation_state.completes_implementation)
        for name, d in definitions.items()
        if d.implementation_state is not None
    }
    assert tracking == {
        "signature_initiative": ("implementation", "report_implemented"),
        "joint_agreement": ("implementation", "report_implemented"),
        "development_task": ("spreading", "report_spread"),
    }
    assert [name for name, d in definitions.items() if d.plan_year] == ["implementation_plan"]


# --- Lifecycles: the life of a record that is not a case (states/meeting.toml) ---------------

LIFECYCLE = """
kind = "lifecycle"
name = "thing"
title = "Ting"
initial = "open"

[states.open]
label = "Åben"
label_en = "Open"

[states.shut]
label = "Lukket"
label_en = "Shut"

[states.gone]
label = "Væk"
label_en = "Gone"
final = true

[[transitions]]
trigger = "close"
source = "open"
dest = "shut"
label = "Luk"
label_en = "Close"
allowed = ["secretariat@current", "admin"]
guards = ["started"]

[[transitions]]
trigger = "reopen"
source = "shut"
dest = "open"
label = "Genåbn"
label_en = "Reopen"
allowed = ["chair@current"]
needs_comment = true

[[transitions]]
trigger = "remove"
source = ["open", "shut"]
dest = "gone"
label = "Fjern"
label_en = "Remove"
allowed = ["chair@current"]
own_operation = true
"""
LIFECYCLE_STATES = ("open", "shut", "gone")


def _lifecycle_error(text: str, states=LIFECYCLE_STATES, guards=("started",)) -> str:
    with pytest.raises(DefinitionError) as raised:
        parse_lifecycle(text, SOURCE, states=states, guards=guards)
    message = str(raised.value)
    assert message.startswith(f"{SOURCE}: ")
    return message


def test_a_lifecycle_is_read_and_skipped_by_the_process_loader(tmp_path):
    lifecycle = parse_lifecycle(LIFECYCLE, SOURCE, states=LIFECYCLE_STATES, guards=("started",))
    assert lifecycle.initial == "open"
    assert [t.trigger for t in lifecycle.transitions_from("shut")] == ["reopen", "remove"]
    close = lifecycle.transition("close")
    assert close is not None and close.name == "close"
    assert [str(r) for r in close.allowed] == ["secretariat@current", "admin"]
    assert close.guards == ("started",) and not close.needs_comment
    assert lifecycle.transition("reopen").needs_comment
    assert lifecycle.transition("remove").own_operation
    assert lifecycle.states["gone"].final
    (tmp_path / "thing.toml").write_text(LIFECYCLE, encoding="utf-8")
    (tmp_path / "x.toml").write_text(VALID, encoding="utf-8")
    assert list(load_definitions(tmp_path)) == ["x"]


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('kind = "lifecycle"\n', "", "kind", 'skal være "lifecycle"'),
        ('initial = "open"', 'initial = "ajar"', "initial", "ukendt tilstand 'ajar'"),
        ('source = "open"', 'source = "ajar"', "transitions[0].source", "ukendt tilstand 'ajar'"),
        ('dest = "shut"', 'dest = "ajar"', "transitions[0].dest", "ukendt tilstand 'ajar'"),
        ('allowed = ["chair@current"]', 'allowed = ["chair@TSS"]', "transitions[1].allowed",
         "brug chair@current"),
        ('allowed = ["chair@current"]', 'allowed = ["chair@originating"]',
         "transitions[1].allowed", "brug chair@current"),
        ('allowed = ["chair@current"]', 'allowed = ["boss@current"]', "transitions[1].allowed",
         "ukendt rolle 'boss@current'"),
        ('allowed = ["chair@current"]\n', "", "transitions[1].allowed", "mangler"),
        ('guards = ["started"]', 'guards = ["begun"]', "transitions[0].guards",
         "ukendt regel 'begun'"),
        ("needs_comment = true", 'needs_comment = "ja"', "transitions[1].needs_comment",
         "true eller false"),
        ("needs_comment = true", "needs_reason = true", "transitions[1].needs_reason",
         "ukendt nøgle"),
        ("own_operation = true", "own_operation = 1", "transitions[2].own_operation",
         "true eller false"),
        ('label_en = "Open"', 'label_en = "Open"\nbody = "TSS"', "states.open.body",
         "ukendt nøgle"),
        ('trigger = "reopen"', 'trigger = "close"', "transitions[1].trigger",
         "'close' er allerede defineret"),
        ('source = ["open", "shut"]', 'source = ["open", "shut", "gone"]', "states.gone.final",
         "en sluttilstand kan ikke have udgående overgange (remove)"),
        ('name = "thing"', 'name = "Thing"', "name", "små bogstaver"),
    ],
)  # fmt: skip
def test_each_lifecycle_error_names_the_file_and_the_key(old, new, key, words):
    assert old in LIFECYCLE, old
    message = _lifecycle_error(LIFECYCLE.replace(old, new, 1))
    assert f"{SOURCE}: {key}: " in message
    assert words in message


def test_a_lifecycle_has_exactly_the_owners_states():
    assert f"{SOURCE}: states.gone: ukendt tilstand; tilstandene er netop: open, shut" in (
        _lifecycle_error(LIFECYCLE, states=("open", "shut"))
    )
    assert f"{SOURCE}: states: mangler tilstanden 'archived'" in _lifecycle_error(
        LIFECYCLE, states=(*LIFECYCLE_STATES, "archived")
    )
    limbo = LIFECYCLE + '\n[states.limbo]\nlabel = "L"\nlabel_en = "L"\nfinal = true\n'
    assert f"{SOURCE}: states.limbo: kan ikke nås fra starttilstanden 'open'" in (
        _lifecycle_error(limbo, states=None)
    )


# --- Irreversible transitions ask the user to confirm (confirm = true) ----------------------


def test_confirm_is_read_and_checked():
    confirmed = parse_definition(_replace('dest = "done"', 'dest = "done"\nconfirm = true'), SOURCE)
    assert confirmed.transition("close").confirm is True
    assert confirmed.transition("submit").confirm is False
    assert "transitions[2].confirm: skal være true eller false" in _error(
        _replace('dest = "done"', 'dest = "done"\nconfirm = "ja"')
    )
    asks_no_one = _replace('dest = "done"', 'dest = "done"\nconfirm = true\nautomatic_only = true')
    assert "ingen bruger at spørge" in _error(asks_no_one)


def test_every_irreversible_transition_of_the_processes_asks_for_confirmation(states_dir):
    unmarked = [
        f"{name}: {t.trigger}"
        for name, definition in load_definitions(states_dir).items()
        for t in definition.transitions
        if not t.confirm
        and not t.automatic_only
        and (definition.states[t.dest].final or (t.trigger == "sku_approve"))
    ]
    assert unmarked == [], "mark these transitions confirm = true in states/*.toml"


# --- A transition that only records facts (records_only = true) ------------------------------

NOTE = """
[[transitions]]
trigger = "note"
source = "review"
dest = "review"
records_only = true
label = "Notér"
label_en = "Note"
allowed = ["secretariat@TSS"]
fields = [{ name = "noted_on", type = "date", required = true, label = "D", label_en = "D" }]
"""


def _with_note(note: str = NOTE) -> str:
    return _replace("\n[[routes]]", note + "\n[[routes]]")


def test_records_only_is_read_on_a_self_loop():
    definition = parse_definition(_with_note(), SOURCE)
    note = definition.transition("note")
    assert note.records_only and note.is_self_loop and not note.enters_state
    assert definition.transition("submit").enters_state
    # A plain self-loop (a postponement) still enters its state again.
    plain = parse_definition(_with_note(NOTE.replace("records_only = true\n", "")), SOURCE)
    assert plain.transition("note").is_self_loop and plain.transition("note").enters_state


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        # To another state: the error names the file, the transition and both states.
        ('dest = "review"\nrecords_only', 'dest = "done"\nrecords_only',
         "'note' går fra 'review' til 'done'"),
        # From several states, one of them the destination: still not a self-loop.
        ('source = "review"', 'source = ["draft", "review"]',
         "'note' går fra 'draft', 'review' til 'review'"),
        ("records_only = true", 'records_only = "ja"', "skal være true eller false"),
    ],
)  # fmt: skip
def test_records_only_is_refused_where_the_case_would_move(old, new, words):
    message = _error(_with_note(NOTE.replace(old, new)))
    assert message.startswith(f"{SOURCE}: transitions[3].records_only: ")
    assert words in message
    if "går fra" in words:
        assert "source = dest" in message


def test_records_only_may_not_change_the_field_its_states_deadline_reads():
    in_consultation = NOTE.replace('"review"', '"consultation"').replace(
        "noted_on", "consultation_deadline"
    )
    message = _error(_with_note(in_consultation))
    assert "transitions[3].records_only: 'note' ændrer feltet 'consultation_deadline'" in message


def test_the_annual_plans_records_are_records_only(states_dir):
    plan = load_definitions(states_dir)["implementation_plan"]
    assert {t.trigger for t in plan.transitions if t.records_only} == {
        "record_kkr_dialogue", "record_budget_adoption"
    }  # fmt: skip


def test_records_only_on_a_moving_transition_names_the_file_in_a_folder(tmp_path, states_dir):
    for path in states_dir.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    plan = tmp_path / "implementation_plan.toml"
    text = plan.read_text(encoding="utf-8")
    moving = 'dest = "awaiting_adoption"\nlabel = "Afslut dialog'
    assert moving in text
    plan.write_text(
        text.replace(moving, moving.replace("\nlabel", "\nrecords_only = true\nlabel")),
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as raised:
        load_definitions(tmp_path)
    message = str(raised.value)
    assert message.startswith("states/implementation_plan.toml: transitions[")
    assert "].records_only: 'conclude_dialogue' går fra 'kkr_dialogue' til 'awaiting_adoption'" in (
        message
    )


def _with_body_kinds(table: str) -> str:
    return _replace('initial = "draft"\n', f'initial = "draft"\n\n[body_kinds]\n{table}\n')


def test_a_definition_names_a_body_by_its_kind():
    definition = parse_definition(_with_body_kinds('TSS = "steering"'), SOURCE)
    assert definition.body_kinds == {"TSS": "steering"}
    assert parse_definition(VALID, SOURCE).body_kinds == {}


def test_an_unknown_kind_or_a_body_the_definition_does_not_name_is_refused():
    message = _error(_with_body_kinds('TSS = "council"'))
    assert "body_kinds.TSS: ukendt art 'council'" in message
    message = _error(_with_body_kinds('SKU = "political"'))
    assert "body_kinds.SKU: definitionen nævner ikke organet SKU" in message


@pytest.mark.parametrize(
    ("opens", "words"),
    [
        ('{ every = "month", body = "SKU" }', "ukendt rytme 'month'"),
        ('{ every = "year" }', "angiv enten body"),
        ('{ every = "year", body = "SKU", kind = "political" }', "angiv enten body"),
        ('{ every = "year", body = "sku" }', "ikke en organkode"),
        ('{ every = "electoral_period", kind = "club" }', "ukendt art 'club'"),
        ('{ every = "new_body", kind = "forum", since = "2026" }', "skal være en dato"),
        ('{ every = "year", body = "SKU", often = true }', "often"),
    ],
)
def test_a_rhythm_must_be_known_and_name_its_bodies(opens, words):
    text = VALID.replace('initial = "draft"', f'initial = "draft"\nopens = {opens}', 1)
    with pytest.raises(DefinitionError) as error:
        parse_definition(text, SOURCE)
    assert words in str(error.value)


def test_a_rhythm_is_read_from_the_definition():
    text = VALID.replace(
        'initial = "draft"', 'initial = "draft"\nopens = { every = "year", body = "SKU" }', 1
    )
    opens = parse_definition(text, SOURCE).opens
    assert opens is not None and (opens.every, opens.body, opens.kind) == ("year", "SKU", "")
    assert parse_definition(VALID, SOURCE).opens is None
