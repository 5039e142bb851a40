"""Fixtures of the process designer's tests: forum_matter's published version and a publish
through the engine, the designer's two forms (the TOML text and the inputs) posted as an
admin's browser posts them, and the draft they save."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ProcessDraft, ProcessVersion, User
from workflow.designer import form_editor
from workflow.designer.queries import check
from workflow.engine.definitions import ProcessDefinition
from workflow.engine.processes import registry

SOURCE_URL = "/admin/procesdesigner/forum_matter"
FORM_URL = "/admin/procesdesigner/forum_matter/formular"


@pytest.fixture
def published(session: Session) -> ProcessDefinition:
    """The published version of forum_matter, the process these tests edit."""
    return registry.latest(session, "forum_matter")


@pytest.fixture
def publish(session: Session, published: ProcessDefinition) -> Callable[..., ProcessVersion]:
    """Publish `text` through the engine as forum_matter's next version, by `admin`, based on
    the published version (or on `based_on`)."""

    def run(text: str, admin: User, *, based_on: int | None = None) -> ProcessVersion:
        base = published.version if based_on is None else based_on
        return registry.publish(session, "forum_matter", text, based_on=base, actor_id=admin.id)

    return run


@pytest.fixture
def post_source(client: FlaskClient, published: ProcessDefinition) -> Callable[..., Any]:
    """Post the designer's TOML form: `source` as a draft based on the published version,
    with the draft `revision` the page carried ("0": none yet) and the button pressed
    (`action`: "gem" saves, "kontroller" checks)."""

    def post(source: str, *, revision: str = "0", action: str = "gem") -> Any:
        return client.post(
            SOURCE_URL,
            data={
                "source": source,
                "revision": revision,
                "base_version": str(published.version),
                "handling": action,
            },
        )

    return post


@pytest.fixture
def form_inputs() -> Callable[..., dict[str, str]]:
    """Every input of the designer's form of `version` as the page shows it, with `changes`
    (key path -> value) applied, and no draft revision yet."""

    def inputs(version: ProcessDefinition, **changes: str) -> dict[str, str]:
        posted = {
            item.name: item.value
            for group in form_editor.groups(version.source)
            for item in group.inputs
        }
        posted.update(changes)
        return {**posted, "revision": "0", "base_version": str(version.version)}

    return inputs


@pytest.fixture
def post_form(
    client: FlaskClient,
    published: ProcessDefinition,
    form_inputs: Callable[..., dict[str, str]],
) -> Callable[..., Any]:
    """Post the designer's form of inputs for the published version, with `changes` (key
    path -> value) made in it; the button is "Gem kladde"."""

    def post(**changes: str) -> Any:
        return client.post(FORM_URL, data=form_inputs(published, **changes))

    return post


@pytest.fixture
def saved_draft(session: Session) -> Callable[[], ProcessDraft | None]:
    """The draft the designer holds, if any (these tests edit one process only)."""

    def find() -> ProcessDraft | None:
        return session.scalar(select(ProcessDraft))

    return find


@pytest.fixture
def saved_definition(
    saved_draft: Callable[[], ProcessDraft | None],
) -> Callable[[], ProcessDefinition]:
    """The saved draft as the loader reads it; the test fails when it does not load."""

    def load() -> ProcessDefinition:
        draft = saved_draft()
        assert draft is not None
        definition, problem = check("forum_matter", draft.source)
        assert problem is None, problem
        assert definition is not None
        return definition

    return load
