"""The engine runs a state's on_enter actions inside perform()'s transaction."""

from __future__ import annotations

import pytest
from support.formandskab import decide

from workflow.engine.definitions import DefinitionError, parse_definition
from workflow.implementation import operations as implementation


def test_approval_creates_the_implementation_units(make_case, make_user, session):
    case = make_case(state="at_sku")
    event = decide(case, "sku_approve", make_user("chair@SKU"))
    assert case.state == "implementation"
    units = implementation.units_of(session, case)
    assert len(units) == 36
    assert event.seq < max(
        e.seq for e in session.query(type(event)).filter_by(case_id=case.id)
    )  # the units' audit event follows the approval


def test_an_unknown_action_is_refused_by_name(states_dir):
    text = (states_dir / "signature_initiative.toml").read_text()
    broken = text.replace('"create_implementation_units"', '"make_coffee"', 1)
    with pytest.raises(DefinitionError, match="ukendt handling 'make_coffee'"):
        parse_definition(broken, "signature_initiative.toml")
