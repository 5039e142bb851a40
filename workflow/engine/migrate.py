"""Run the Alembic migrations; the app never relies on create_all."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from workflow.engine.db import write_transaction
from workflow.engine.paths import resource_dir


def alembic_config(engine: Engine) -> Config:
    """Build an Alembic config bound to `engine`, finding migrations installed or in a checkout."""
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Upgrade the database to `revision` (default: every branch head)."""
    config = alembic_config(engine)
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the database to `revision`."""
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
