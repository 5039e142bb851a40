"""The demo database of the test run (tests/support/demo_data.py): on PostgreSQL the first
process builds it once, as a template, and every process works on a copy made by the server;
the template goes at the end of the run, and a failed build leaves none behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from support import demo_data

from workflow.engine.db import make_engine

SERVER = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not SERVER, reason="PostgreSQL's CREATE DATABASE … TEMPLATE")


def _databases() -> set[str]:
    """This process's scratch databases (other runs may share the server)."""
    assert SERVER is not None
    admin = demo_data._admin(SERVER)
    try:
        with admin.connect() as connection:
            names = connection.scalars(text("SELECT datname FROM pg_database"))
            return {name for name in names if f"_{os.getpid()}_" in name}
    finally:
        admin.dispose()


def _rows(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(text("SELECT note FROM built ORDER BY note")))
    finally:
        engine.dispose()


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A stand-in for the demo build (minutes): one table, one row; the urls it built."""
    built: list[str] = []

    def build(url: str) -> None:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE built (note text)"))
            connection.execute(text("INSERT INTO built VALUES ('demo')"))
        engine.dispose()
        built.append(url)

    monkeypatch.setattr(demo_data, "_build", build)
    yield built


def test_the_demo_is_built_once_and_each_process_gets_a_copy(
    builds: list[str], tmp_path: Path
) -> None:
    assert SERVER is not None
    with (
        demo_data.postgres_copy(SERVER, tmp_path) as first,
        demo_data.postgres_copy(SERVER, tmp_path) as second,
    ):
        assert len(builds) == 1
        assert first != second and builds[0] not in (first, second)
        # Each copy is a database of its own: a write to one is not seen in the other.
        engine = make_engine(first)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO built VALUES ('mine')"))
        engine.dispose()
        assert _rows(first) == ["demo", "mine"]
        assert _rows(second) == ["demo"]
    template = (tmp_path / demo_data.TEMPLATE_NAME_FILE).read_text()
    assert template in _databases()
    demo_data.drop_postgres_template(tmp_path, SERVER)
    assert template not in _databases()
    assert not (tmp_path / demo_data.TEMPLATE_NAME_FILE).exists()


def test_a_failed_build_leaves_no_template(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert SERVER is not None
    before = _databases()

    def fail(url: str) -> None:
        raise RuntimeError("the demo could not be built")

    monkeypatch.setattr(demo_data, "_build", fail)
    with pytest.raises(RuntimeError), demo_data.postgres_copy(SERVER, tmp_path):
        pass
    assert _databases() == before
    assert not (tmp_path / demo_data.TEMPLATE_NAME_FILE).exists()
