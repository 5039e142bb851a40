"""Fixtures of the what-if tests: the history with known numbers (support.whatif), the
signature initiative's definition with a change, the what-if form posted and the error shown
at one of its fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from support.whatif import KnownHistory, build

from models import Case, Meeting, User

URL = "/admin/hvad-hvis"
TSS_DEADLINE = 'deadline = { kind = "material" }'


@pytest.fixture
def known_history(
    session: Session,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    make_meeting: Callable[..., Meeting],
) -> Callable[..., KnownHistory]:
    """Build the history of support.whatif through the engine; `waiting=True` adds the case
    submitted on 30 November, still waiting for TSS."""

    def create(*, waiting: bool = False) -> KnownHistory:
        return build(session, make_case, make_user, make_meeting, waiting=waiting)

    return create


@pytest.fixture
def replaying_admin(
    known_history: Callable[..., KnownHistory], logged_in: Callable[..., User]
) -> User:
    """An admin logged in on the client, over the history with known numbers."""
    known_history()
    return logged_in(is_admin=True)


@pytest.fixture
def signature_draft(states_dir: Path) -> Callable[..., str]:
    """The text of states/signature_initiative.toml with `new` in place of `old` (by default
    TSS's deadline, the materialefrist): the first `count` times, every time with -1."""

    def edit(new: str, old: str = TSS_DEADLINE, count: int = 1) -> str:
        text = (states_dir / "signature_initiative.toml").read_text(encoding="utf-8")
        assert old in text
        return text.replace(old, new, count)

    return edit


@pytest.fixture
def post_whatif(client: FlaskClient) -> Callable[..., Any]:
    """Post the what-if form: the last 12 months and `fields` (e.g. material_days="4")."""

    def post(**fields: str) -> Any:
        return client.post(URL, data={"months": "12", **fields})

    return post


@pytest.fixture
def field_error() -> Callable[[str, str], str]:
    """The error message the page shows at `field` (the test fails when there is none)."""

    def find(html: str, field: str) -> str:
        found = re.search(rf'<p class="form-error-message" id="{field}-fejl">(.*?)</p>', html, re.S)
        assert found, f"no error at {field}"
        return found.group(1)

    return find
