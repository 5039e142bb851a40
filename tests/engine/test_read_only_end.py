"""On PostgreSQL a transaction that ran only SELECTs (a page's) ends with COMMIT, so psycopg
keeps the statements it prepared (it forgets them all at every ROLLBACK, and PostgreSQL would
parse and plan each statement of every page anew); one that wrote ends with ROLLBACK as ever."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, bindparam, select, text, update
from sqlalchemy.orm import Session

from models import User
from workflow.engine.db import make_engine

_BY_ID = select(User.email).where(User.id == bindparam("user_id"))


@pytest.fixture
def engine(db_engine: Engine) -> Iterator[Engine]:
    """An engine of its own (its own connections) on the suite's PostgreSQL database."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    engine = make_engine(db_engine.url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()


def _prepared(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT statement FROM pg_prepared_statements")))


def test_statements_stay_prepared_across_transactions_that_only_read(engine: Engine) -> None:
    for _request in range(8):
        with Session(engine) as session:  # ends, like a request's, without a commit
            session.execute(_BY_ID, {"user_id": 1}).all()
    assert any("FROM users" in statement for statement in _prepared(engine))


def test_a_transaction_that_wrote_is_still_rolled_back(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(_BY_ID, {"user_id": 1}).all()
        session.add(User(email="rolled-back@test.aftaleflow.dk", name="Rullet tilbage"))
        session.flush()
    with Session(engine) as session:
        session.execute(_BY_ID, {"user_id": 1}).all()
        session.execute(text("UPDATE users SET name = 'Ændret i tekst'"))
    with Session(engine) as session:
        session.execute(update(User).values(name="Ændret"))
        session.rollback()
    with Session(engine) as session:
        names = set(session.scalars(select(User.name)))
        emails = set(session.scalars(select(User.email)))
    assert "rolled-back@test.aftaleflow.dk" not in emails
    assert not names & {"Ændret", "Ændret i tekst"}
