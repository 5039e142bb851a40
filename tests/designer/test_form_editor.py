"""The designer's form: each state's and transition's inputs write into the same draft TOML
(comments kept), the loader's message lands at the input it names, and added states and
transitions become part of the definition."""

from __future__ import annotations

import re

import pytest

from workflow.designer import form_editor
from workflow.designer.queries import check
from workflow.engine.processes import registry

URL = "/admin/procesdesigner/forum_matter/formular"


def _error_of(html: str, key: str) -> str:
    input_id = form_editor.field_id(key)
    found = re.search(rf'<p class="form-error-message" id="{input_id}-fejl">(.*?)</p>', html)
    assert found, html
    assert f'href="#{input_id}"' in html
    return found.group(1)


def _refused_at(response, key: str) -> str:
    """The message at the input `key` of a form the designer refused (422)."""
    assert response.status_code == 422
    return _error_of(response.get_data(as_text=True), key)


def test_the_form_shows_each_state_and_transition(client, logged_in, text_of):
    logged_in(is_admin=True)
    response = client.get(URL)
    assert response.status_code == 200
    page = text_of(response)
    assert "Tilstand: Rejst i TSS (at_tss)" in page
    assert "Overgang: Rejs i TSS (escalate)" in page
    html = response.get_data(as_text=True)
    assert 'name="transitions[4].allowed" value="chair@current, secretariat@current"' in html


@pytest.mark.parametrize(
    "name",
    [
        "agreement_review", "development_task", "electoral_period_report", "forum_matter",
        "forum_work_plan", "implementation_plan", "joint_agreement", "signature_initiative",
    ],
)  # fmt: skip
def test_unchanged_form_keeps_the_text_as_it_was(form_inputs, session, name):
    published = registry.latest(session, name)
    posted = form_inputs(published)
    result = form_editor.apply(published.source, posted)
    # Every line and comment stays; tomlkit only drops the space before "}" after a date
    # at the end of an inline table (forum_work_plan's `opens`).
    assert result.splitlines() == [
        line.replace(" }", "}") if re.search(r"\d{4}-\d\d-\d\d }$", line) else line
        for line in published.source.splitlines()
    ]


def test_a_change_in_the_form_is_saved_into_the_draft_keeping_comments(
    client, logged_in, post_form, saved_draft, saved_definition
):
    logged_in(is_admin=True)
    response = post_form(
        **{
            "states.at_tss.label": "Rejst i styregruppen",
            "states.at_tss.reminders": "10, 3",
            "states.decided.deadline.days": "45",
            "transitions[4].allowed": "secretariat@current",
        }
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "# Forum matter (seed 000)" in saved_draft().source  # comments stay
    definition = saved_definition()
    assert definition.states["at_tss"].label == "Rejst i styregruppen"
    assert definition.states["at_tss"].reminders == (10, 3)
    assert definition.states["decided"].deadline.days == 45
    assert [str(r) for r in definition.transition("escalate").allowed] == ["secretariat@current"]
    # The TOML view edits the same draft.
    assert "Rejst i styregruppen" in client.get("/admin/procesdesigner/forum_matter").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("transitions[4].allowed", "chef@current", "ukendt rolle &#39;chef@current&#39;"),
        ("states.decided.deadline.days", "0", "skal være et positivt antal dage"),
        ("states.decided.deadline.days", "mange", "skal være et helt antal dage"),
        ("states.at_tss.reminders", "om en uge", "skal være hele antal dage"),
        ("transitions[4].guards", "findes_ikke", "ukendt regel &#39;findes_ikke&#39;"),
        ("states.at_tss.body", "tss", "ukendt organ &#39;tss&#39;"),
        ("states.at_tss.label", "linje\x00", "kontroltegn"),
    ],
)
def test_the_loaders_message_is_shown_at_the_input_it_names(
    logged_in, post_form, saved_draft, key, value, expected
):
    logged_in(is_admin=True)
    assert expected in _refused_at(post_form(**{key: value}), key)
    assert saved_draft() is None


def test_a_new_state_and_transition_join_the_definition(logged_in, post_form, saved_definition):
    logged_in(is_admin=True)
    new = {
        "ny_tilstand.name": "hos_kku",
        "ny_tilstand.label": "Hos KKU",
        "ny_tilstand.label_en": "With KKU",
        "ny_tilstand.body": "KKU",
    }
    # A state nothing leads to is refused at the new state's inputs.
    response = post_form(**new)
    assert response.status_code == 422
    assert "kan ikke nås fra starttilstanden" in response.get_data(as_text=True)
    new |= {
        "ny_overgang.trigger": "send_til_kku",
        "ny_overgang.label": "Send til KKU",
        "ny_overgang.label_en": "Send to KKU",
        "ny_overgang.source": "decided",
        "ny_overgang.dest": "hos_kku",
        "ny_overgang.allowed": "chair@current",
    }
    # hos_kku has no way out and is not final.
    response = post_form(**new)
    assert "har ingen udgående overgange" in _refused_at(response, "ny_tilstand.name")
    response = post_form(**{**new, "ny_overgang.dest": "closed"})
    assert response.status_code == 422
    response = post_form(**{**new, "ny_overgang.allowed": "kok@current"})
    assert "ukendt rolle" in _error_of(response.get_data(as_text=True), "ny_overgang.allowed")
    response = post_form(**{**new, "ny_tilstand.final": "on"})
    assert response.status_code == 303, response.get_data(as_text=True)
    definition = saved_definition()
    assert definition.states["hos_kku"].final and definition.states["hos_kku"].body == "KKU"
    assert definition.transition("send_til_kku").sources == ("decided",)


def test_a_transitions_fields_are_edited_and_added_in_the_form(
    logged_in, post_form, saved_definition
):
    logged_in(is_admin=True)
    # transitions[2] is "decide", whose one field is the decision (comment).
    changes = {
        "transitions[2].fields[0].label": "Beslutningens ordlyd",
        "transitions[2].fields[0].required": "",
        "transitions[2].nyt_felt.name": "decided_on",
        "transitions[2].nyt_felt.type": "dato",
        "transitions[2].nyt_felt.label": "Besluttet den",
        "transitions[2].nyt_felt.label_en": "Decided on",
    }
    response = post_form(**changes)
    assert "ukendt felttype &#39;dato&#39;" in _refused_at(response, "transitions[2].nyt_felt.type")
    changes["transitions[2].nyt_felt.type"] = "date"
    assert post_form(**changes).status_code == 303
    definition = saved_definition()
    fields = definition.transition("decide").fields
    assert [(f.name, f.type, f.required, f.label) for f in fields] == [
        ("comment", "text", False, "Beslutningens ordlyd"),
        ("decided_on", "date", False, "Besluttet den"),
    ]


def test_records_only_is_a_checkbox_refused_on_a_transition_that_moves_the_case(
    client, logged_in, session, form_inputs, saved_draft
):
    """The plan's record_kkr_dialogue is records-only: the box is ticked, an unchanged form
    keeps the key; ticked on a transition to another state the loader's refusal stands at it."""
    plan = registry.latest(session, "implementation_plan")
    logged_in(is_admin=True)
    url = "/admin/procesdesigner/implementation_plan/formular"
    triggers = [t.trigger for t in plan.transitions]
    dialogue = f"transitions[{triggers.index('record_kkr_dialogue')}].records_only"
    conclude = f"transitions[{triggers.index('conclude_dialogue')}].records_only"
    html = client.get(url).get_data(as_text=True)
    box = form_editor.field_id(dialogue)
    assert re.search(rf'<input type="checkbox"[^>]*id="{box}"[^>]*value="on" checked', html)
    assert f'aria-describedby="{box}-hint"' in html and f'id="{box}-hint"' in html

    message = _refused_at(client.post(url, data=form_inputs(plan, **{conclude: "on"})), conclude)
    assert "conclude_dialogue" in message and "source = dest" in message
    assert saved_draft() is None

    response = client.post(url, data=form_inputs(plan, **{dialogue: ""}))
    assert response.status_code == 303, response.get_data(as_text=True)
    draft = saved_draft()
    assert draft is not None
    definition, problem = check("implementation_plan", draft.source)
    assert problem is None and definition is not None
    assert not definition.transition("record_kkr_dialogue").records_only
    assert definition.transition("record_budget_adoption").records_only


# Removing ----------------------------------------------------------------------------------------
# In forum_matter, transitions[1] is "withdraw", the only way into the state "withdrawn";
# transitions[2] is "decide", whose one field is the decision (comment).


def _diagram_of(html: str) -> str:
    found = re.search(r'<figure class="diagram">(.*?)</figure>', html, re.S)
    assert found, html
    return found.group(1)


def test_a_state_and_its_transition_are_removed_keeping_the_comments(
    client, logged_in, published, post_form, saved_draft, saved_definition
):
    logged_in(is_admin=True)
    assert "Trukket tilbage" in _diagram_of(client.get(URL).get_data(as_text=True))
    response = post_form(**{"states.withdrawn.fjern": "on", "transitions[1].fjern": "on"})
    assert response.status_code == 303, response.get_data(as_text=True)
    source = saved_draft().source
    assert "[states.withdrawn]" not in source
    assert 'trigger = "withdraw"' not in source
    # The comment above the routes was filed under the removed state by tomlkit; it stays.
    assert "# The engine sends these matters to TSS by itself" in source
    removed_lines = {"[states.withdrawn]", 'trigger = "withdraw"', 'dest = "withdrawn"'}
    definition = saved_definition()
    assert "withdrawn" not in definition.states
    assert "withdraw" not in {t.trigger for t in definition.transitions}
    kept = [line for line in published.source.splitlines() if line.startswith("#")]
    assert all(line in source.splitlines() for line in kept)
    assert not removed_lines & set(source.splitlines())
    page = client.get(URL).get_data(as_text=True)
    assert "Trukket tilbage" not in _diagram_of(page)
    assert 'name="states.withdrawn.label"' not in page


def test_a_field_is_removed(client, logged_in, post_form, saved_definition):
    logged_in(is_admin=True)
    response = post_form(**{"transitions[2].fields[0].fjern": "on"})
    assert response.status_code == 303, response.get_data(as_text=True)
    definition = saved_definition()
    assert definition.transition("decide").fields == ()
    assert definition.transition("withdraw").fields  # only the ticked one went
    page = client.get(URL).get_data(as_text=True)
    assert 'name="transitions[2].fields[0].label"' not in page
    assert 'name="transitions[1].fields[0].label"' in page


def test_removing_a_state_a_transition_uses_is_refused_at_the_field(
    logged_in, post_form, saved_draft
):
    logged_in(is_admin=True)
    response = post_form(**{"states.withdrawn.fjern": "on"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "ukendt tilstand &#39;withdrawn&#39;" in _error_of(html, "transitions[1].dest")
    assert "ukendt tilstand &#39;withdrawn&#39;" in _error_of(html, "states.withdrawn.fjern")
    assert saved_draft() is None
    assert "Trukket tilbage" in _diagram_of(html)  # the draft is as it was


def test_after_a_removal_the_loaders_message_lands_at_the_input_shown(
    logged_in, post_form, saved_draft
):
    """The loader counts transitions after the removal; the form before it."""
    logged_in(is_admin=True)
    response = post_form(
        **{
            "states.withdrawn.fjern": "on",
            "transitions[1].fjern": "on",
            "transitions[4].allowed": "chef@current",
        }
    )
    assert "ukendt rolle" in _refused_at(response, "transitions[4].allowed")
    assert saved_draft() is None


def test_the_remove_boxes_and_the_replay_link_read_in_english(
    client, logged_in, post_form, text_of
):
    logged_in(is_admin=True)
    client.post("/sprog", data={"sprog": "en", "tilbage": "/"})
    form = text_of(client.get(URL))
    assert "Remove the state" in form and "Remove the transition" in form
    assert "Remove the field comment" in form
    post_form(**{"transitions[2].fields[0].fjern": "on"})
    assert "Replay with this draft" in text_of(client.get("/admin/procesdesigner/forum_matter"))
    replay = text_of(client.get("/admin/hvad-hvis?version=forum_matter:kladde"))
    assert "Forum matter – draft in the process designer" in replay


def test_a_new_fields_error_lands_at_its_input_after_a_transition_above_is_removed(
    logged_in, post_form, saved_draft
):
    logged_in(is_admin=True)
    changes = {
        "states.withdrawn.fjern": "on",
        "transitions[1].fjern": "on",
        "transitions[2].nyt_felt.name": "decided_on",
        "transitions[2].nyt_felt.type": "dato",
    }
    response = post_form(**changes)
    assert "ukendt felttype &#39;dato&#39;" in _refused_at(response, "transitions[2].nyt_felt.type")
    assert saved_draft() is None
