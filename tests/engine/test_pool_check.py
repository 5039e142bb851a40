"""On PostgreSQL a pooled connection is checked at checkout without a round trip: pinged only
when its socket has something to read, which an idle connection never has unless the server
closed it (a restart, a terminated backend). psycopg keeps `PREPARED_MAX` statements prepared
per connection, and keeps statements up to `CONVERTED_STATEMENT_LENGTH` converted. A new engine's
first connection (a server worker's first request) does not look the hstore type up. No statement
is JIT-compiled, in or out of a transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from workflow.engine.db import CONVERTED_STATEMENT_LENGTH, PREPARED_MAX, make_engine


@pytest.fixture
def engine(db_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """An engine of its own (its own pool) on the suite's PostgreSQL database, its pings counted
    in `engine.pings`."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("the pool check and prepared statements: PostgreSQL only")
    engine = make_engine(db_engine.url.render_as_string(hide_password=False))
    pings: list[object] = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    engine.pings = pings  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")) or 0)


def test_a_live_pooled_connection_is_used_without_a_ping(engine: Engine) -> None:
    backends = {_backend(engine) for _request in range(5)}
    assert len(backends) == 1  # the same pooled connection every time
    assert engine.pings == []  # type: ignore[attr-defined]


def test_a_connection_the_server_closed_is_found_at_checkout_and_replaced(engine: Engine) -> None:
    dead = _backend(engine)
    admin = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with admin.connect() as connection:
            # Waits until the backend has gone, as a restart's clients see it gone.
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dead})
            connection.commit()
    finally:
        admin.dispose()
    assert _backend(engine) != dead  # the first use after it succeeds, on a new connection
    assert len(engine.pings) == 1  # type: ignore[attr-defined]


def test_psycopg_keeps_prepared_max_statements(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.connection.dbapi_connection.prepared_max == PREPARED_MAX  # type: ignore[union-attr]


def test_no_statement_is_jit_compiled(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.scalar(text("SHOW jit")) == "off"
        connection.rollback()
        assert connection.scalar(text("SHOW jit")) == "off"
    with engine.begin() as connection:
        assert connection.scalar(text("SHOW jit")) == "off"


def test_psycopg_keeps_long_statements_converted(engine: Engine) -> None:
    from psycopg import _queries

    assert _queries.MAX_CACHED_STATEMENT_LENGTH >= CONVERTED_STATEMENT_LENGTH


def test_the_first_connection_does_not_look_the_hstore_type_up(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No table uses hstore; the lookup was a catalogue query on every worker's first request.
    looked_up: list[str] = []
    real_fetch = engine.dialect._type_info_fetch  # type: ignore[attr-defined]

    def fetch(connection: object, name: str) -> object:
        looked_up.append(name)
        return real_fetch(connection, name)

    monkeypatch.setattr(engine.dialect, "_type_info_fetch", fetch)
    assert _backend(engine) > 0  # the engine's first connection
    assert looked_up == []
