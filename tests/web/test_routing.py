"""Every `<int:…>` in the app's addresses stops at the database's id range."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.web.routing import at_most


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**11))
@settings(max_examples=300, deadline=None)
def test_the_url_pattern_matches_exactly_the_numbers_up_to_its_limit(n: int, limit: int) -> None:
    assert bool(re.fullmatch(at_most(limit), str(n))) == (n <= limit)
