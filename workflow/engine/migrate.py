"""Run the Alembic migrations; the app never relies on create_all.

Alembic is imported by the functions that run it, not with this module: the `aftaleflow`
command imports this module for every subcommand, `serve` too (cold start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect

from workflow.engine.db import write_transaction
from workflow.engine.paths import resource_dir

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(engine: Engine) -> Config:
    """Build an Alembic config bound to `engine`, finding migrations installed or in a checkout."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


# Database objects the migrations make for one dialect only, outside the models: the search
# index's PostgreSQL `tsv` column and GIN index, and SQLite's FTS5 table with its shadow tables
# (migration 0020); the index on a JSON field of the events, spelt per dialect (0026).
# Comparing the models with the database leaves them out.
DIALECT_ONLY_PREFIXES = ("search_fts", "ix_search_documents_tsv", "ix_case_events_decision_body")
DIALECT_ONLY_COLUMNS = {("search_documents", "tsv")}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter: compare everything but the dialect-only search structures above."""
    if name is None:
        return True
    if type_ == "column":
        table = getattr(getattr(obj, "table", None), "name", "")
        return (table, name) not in DIALECT_ONLY_COLUMNS
    return not name.startswith(DIALECT_ONLY_PREFIXES)


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Upgrade the database to `revision` (default: every branch head)."""
    from alembic import command

    config = alembic_config(engine)
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the database to `revision`."""
    from alembic import command

    config = alembic_config(engine)
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def is_initialised(engine: Engine) -> bool:
    """Tell whether the migrations have been applied at all."""
    return inspect(engine).has_table("alembic_version")


def revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """Return the revisions the database is at and the heads this code's migrations reach."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, heads
