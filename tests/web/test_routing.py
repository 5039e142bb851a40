"""Every `<int:…>` in the app's addresses stops at the database's id range."""

from __future__ import annotations

import re

from flask import Flask, url_for
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.web.routing import at_most, id_url


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**11))
@settings(max_examples=300, deadline=None)
def test_the_url_pattern_matches_exactly_the_numbers_up_to_its_limit(n: int, limit: int) -> None:
    assert bool(re.fullmatch(at_most(limit), str(n))) == (n <= limit)


def test_an_address_built_once_for_any_id_is_the_one_url_for_builds(app: Flask) -> None:
    with app.test_request_context("/"):
        case_href = id_url("cases.detail", "case_id")
        for case_id in (1, 7, 2147483647):
            assert case_href(case_id) == url_for("cases.detail", case_id=case_id)
