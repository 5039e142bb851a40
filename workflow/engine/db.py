"""Database engine and sessions; SQLite gets WAL, synchronous=NORMAL and a busy timeout.

SQLite transactions begin deferred: a reader takes no lock and, in WAL mode, reads a snapshot
while the one writer works, so a page is never queued behind a write. A writer asks for the
write lock when its transaction begins (`WRITE_LOCK`, which the unit of work sets), so writers
queue on the busy timeout instead of failing when a read transaction tries to become a write
transaction after another writer committed (SQLITE_BUSY_SNAPSHOT, which no timeout waits out).
"""

from __future__ import annotations

import os
import re
import select
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    create_engine,
    event,
    exc,
    literal_column,
    make_url,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_PATH = Path("var") / "aftaleflow.db"
BUSY_TIMEOUT_MS = 15_000


def database_url(url: str | None = None) -> str:
    """Return the URL to use: the argument, $AFTALEFLOW_DATABASE_URL, or the local SQLite file."""
    return url or os.environ.get("AFTALEFLOW_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; NORMAL is durable with WAL and much
    # faster than FULL; the busy timeout makes writers wait instead of "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# The execution option that makes a SQLite transaction begin with the write lock.
WRITE_LOCK = "aftaleflow_write_lock"
# Where a connection notes how its current SQLite transaction began.
_BEGUN = "aftaleflow.sqlite_begun"


@dataclass(frozen=True)
class _Begun:
    immediate: bool
    changes: int  # the connection's total_changes at BEGIN: more later means it has written


def _sqlite_begin(conn: Connection) -> None:
    # A reader begins deferred (no lock); a writer immediate, waiting on the busy timeout.
    begin_sqlite_transaction(conn, immediate=bool(conn.get_execution_options().get(WRITE_LOCK)))


def begin_sqlite_transaction(conn: Connection, *, immediate: bool) -> None:
    """Emit BEGIN (or BEGIN IMMEDIATE) on a SQLite connection and note how it began."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
    conn.info[_BEGUN] = _Begun(immediate, _total_changes(conn))


def holds_write_lock(conn: Connection) -> bool:
    """Whether `conn`'s transaction holds the write lock: always on other databases; on SQLite
    when it began immediate or has written since it began."""
    if conn.dialect.name != "sqlite":
        return True
    begun: _Begun | None = conn.info.get(_BEGUN)
    return begun is None or begun.immediate or _total_changes(conn) != begun.changes


def _total_changes(conn: Connection) -> int:
    return int(conn.connection.dbapi_connection.total_changes)  # type: ignore[union-attr]


# A process's, state's or trigger's name, as the definition loader allows it.
_DEFINED_NAME = re.compile(r"[a-z][a-z0-9_]*")


def written(value: str | int) -> ColumnElement[Any]:
    """A name or version number of the process definitions, written into the SQL instead of
    bound: the conditions over every stored version's states (which cases are open, which
    a chair decides, which are private) list a hundred of them, the same for every reader,
    and SQLAlchemy handles each bound value (an IN list expanded anew) on every execution.
    Only what the loader accepts as a name (`[a-z][a-z0-9_]*`) or a whole number is taken."""
    if isinstance(value, int) and not isinstance(value, bool):
        return literal_column(str(int(value)))
    if isinstance(value, str) and _DEFINED_NAME.fullmatch(value):
        return literal_column(f"'{value}'")
    raise ValueError(f"not a defined name or number: {value!r}")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for `url`, configuring SQLite for concurrent web and scheduler use."""
    url = database_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        # pysqlite's own transaction handling is switched off so BEGIN is ours.
        event.listen(engine, "connect", _disable_pysqlite_begin)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    psycopg = make_url(url).get_driver_name() == "psycopg"
    # psycopg's connections get a check that costs no round trip (`_ping_on_news`), and the
    # dialect does not look the hstore type up in the catalogue on the first connection
    # (each server worker's, on its first request): no table uses hstore.
    options: dict[str, Any] = {"use_native_hstore": False} if psycopg else {}
    engine = create_engine(url, pool_pre_ping=not psycopg, **{**options, **kwargs})
    if psycopg:
        _keep_long_statements_converted()
        event.listen(engine, "connect", _configure_psycopg)
        event.listen(engine.pool, "checkout", _ping_on_news(engine))
        event.listen(engine, "begin", _note_begin)
        event.listen(engine, "before_cursor_execute", _note_writes)
        event.listen(engine, "rollback", _end_reading_with_commit)
    return engine


# How many statements psycopg keeps prepared per connection (its default is 100). The 7 key
# pages use 44; a crawl of 181 pages (every route a chair and a secretariat reach, once each)
# ran 118 distinct statements, each prepared once it has run 5 times: with 100 the pages a
# worker serves would evict each other's and PostgreSQL parse and plan them anew. A prepared
# statement costs the server a little memory per connection.
PREPARED_MAX = 300


def _ping_on_news(engine: Engine) -> Any:
    """A pool checkout check in place of `pool_pre_ping`'s `SELECT 1` round trip on every
    checkout (every request): the connection is pinged only when its socket has something
    to read. An idle PostgreSQL connection is sent nothing unasked; a server that restarts, or
    terminates the backend, sends its FATAL error and closes the socket, which then polls
    readable. A dead connection found so renews the pool, as a failed pre-ping did."""

    def check(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            waiting = _readable(dbapi_connection.pgconn.socket)
        except Exception:  # no socket: the connection is closed
            raise exc.InvalidatePoolError() from None
        if waiting and not engine.dialect._do_ping_w_event(dbapi_connection):
            raise exc.InvalidatePoolError()

    return check


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


# Where a PostgreSQL connection notes whether its transaction ran anything but SELECTs.
_MAY_HAVE_WRITTEN = "aftaleflow.may_have_written"


def _note_begin(conn: Connection) -> None:
    conn.info[_MAY_HAVE_WRITTEN] = False


def _note_writes(
    conn: Connection, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
) -> None:
    # Anything but a compiled SELECT might write: DML, DDL and text alike.
    if (
        context is None
        or context.compiled is None
        or context.is_text
        or context.isddl
        or context.is_crud
    ):
        conn.info[_MAY_HAVE_WRITTEN] = True


def _end_reading_with_commit(conn: Connection) -> None:
    """End a PostgreSQL transaction that ran only SELECTs (a page's) with COMMIT, which ends
    it exactly as ROLLBACK would: the one commit outside the unit of work, of nothing.
    psycopg forgets every prepared statement at a ROLLBACK (DEALLOCATE ALL), and every
    read-only request ended with one, so no statement was ever prepared and PostgreSQL parsed
    and planned each of a page's statements on every request. The ROLLBACK that follows finds
    no transaction and sends nothing."""
    # A connection SQLAlchemy has invalidated (the server went away) is left to the rollback,
    # as is one whose transaction failed or is not known to be open; asked first, since asking
    # such a connection anything else raises.
    if conn.invalidated or conn.closed or conn.info.get(_MAY_HAVE_WRITTEN) is not False:
        return
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection is None or dbapi_connection.closed:
        return
    from psycopg.pq import TransactionStatus

    if dbapi_connection.info.transaction_status != TransactionStatus.INTRANS:
        return
    try:
        dbapi_connection.commit()
    except Exception:  # a broken connection: the rollback that follows handles it as ever
        return


class BinaryArray(list[Any]):
    """A list that psycopg sends to PostgreSQL as a binary array (on the connections of
    `make_engine`; elsewhere as an ordinary list, in text). Its text form is built in Python,
    element by element: for the sweep's ten columns of 10,000 reminders about 0.15 s of CPU,
    the binary form about 0.02 s."""


# The longest statement psycopg keeps converted (its `%(name)s` placeholders into `$n`) in its
# cache of 128: it converts longer ones anew, character by character, on every execution
# (4 KB by default; the secretariat's front page's deadline statement is 14 KB, about 2,400
# Python calls a view). A private constant of psycopg's: if it goes, statements are converted
# as before.
CONVERTED_STATEMENT_LENGTH = 64 * 1024


def _keep_long_statements_converted() -> None:
    from psycopg import _queries

    if getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", None) is not None:
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(
            _queries.MAX_CACHED_STATEMENT_LENGTH, CONVERTED_STATEMENT_LENGTH
        )


def _configure_psycopg(dbapi_connection: Any, _record: Any) -> None:
    from psycopg.types.array import ListBinaryDumper

    dbapi_connection.prepared_max = PREPARED_MAX
    dbapi_connection.adapters.register_dumper(BinaryArray, ListBinaryDumper)
    # No JIT compilation: PostgreSQL compiles a statement it estimates costly (the reports over
    # every case), which took 2.3-4.2 s of a report's 11-16 s at 100,000 cases and never pays
    # for itself in a web request. Set per connection rather than as a startup option, which a
    # pooler such as PgBouncer refuses.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET jit = off")
    dbapi_connection.autocommit = autocommit


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection whose transaction holds the write lock from BEGIN, committed at the end
    (migrations: they read the schema version, then change the schema)."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_LOCK: True})
        with connection.begin():
            yield connection


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory; objects stay usable after commit (web views render them)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def scratch_postgres_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """Create a throw-away database on `server_url`'s server and drop it afterwards.

    Test runs and benchmarks use one each, so parallel runs never share tables. With
    `template` (the name of a database on the same server that nobody is connected to) the new
    database starts as a copy of it: the server copies the files, no rows are inserted again.
    """
    server_url = server_url.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"aftaleflow_scratch_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    copied = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
