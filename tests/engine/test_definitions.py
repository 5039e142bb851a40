"""Definition validation: every error names the file and the key an admin must fix."""

from __future__ import annotations

import re
import shutil

import pytest

from workflow.engine.definitions import DefinitionError, load_definitions, parse_definition
from workflow.engine.guards import GUARDS, PREDICATES

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
        "development_task", "forum_matter", "implementation_plan", "joint_agreement",
        "signature_initiative",
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
