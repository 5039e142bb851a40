"""Every `<int:…>` in the app's addresses stops at the database's id range."""

from __future__ import annotations

import re

from flask import Flask, url_for
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter, Rule

from workflow.web.routing import LazyBuildRule, at_most, id_url


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**11))
@settings(max_examples=300, deadline=None)
def test_the_url_pattern_matches_exactly_the_numbers_up_to_its_limit(n: int, limit: int) -> None:
    assert bool(re.fullmatch(at_most(limit), str(n))) == (n <= limit)


def test_an_address_built_once_for_any_id_is_the_one_url_for_builds(app: Flask) -> None:
    with app.test_request_context("/"):
        case_href = id_url("cases.detail", "case_id")
        for case_id in (1, 7, 2147483647):
            assert case_href(case_id) == url_for("cases.detail", case_id=case_id)


def _sample_values(rule: Rule) -> dict[str, object]:
    """A value each argument's converter accepts: a number for `int`, else a word."""
    return {
        name: 7 if isinstance(converter, IntegerConverter) else "a-b"
        for name, converter in rule._converters.items()
    }


def test_every_rule_builds_its_urls_lazily_and_exactly_as_werkzeug_does(app: Flask) -> None:
    # The builders are written on first use (cold start, issue 14); the addresses are the same.
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(rules) > 200
    lazy = [rule for rule in rules if isinstance(rule, LazyBuildRule)]
    assert lazy == rules
    for rule in lazy:
        values = _sample_values(rule)
        for append_unknown in (False, True):
            eager = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            extra = {"side": "2"} if append_unknown else {}
            assert rule.build({**values, **extra}, append_unknown) == eager(**values, **extra)
        assert "_build" in vars(rule) and "build_first" not in repr(rule._build)
        assert rule.build(values, False) == eager(**values)  # the written builder is kept


def test_url_for_builds_the_same_address_before_and_after_the_builder_is_written(
    app: Flask,
) -> None:
    with app.test_request_context("/"):
        first = url_for("cases.detail", case_id=12, faner="x")
        assert url_for("cases.detail", case_id=12, faner="x") == first
        assert first == "/sager/12?faner=x"
