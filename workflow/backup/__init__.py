"""`aftaleflow backup` and `restore`: the database and the attachment files in one archive.

SQLite is copied with its online backup API and PostgreSQL with pg_dump, so a backup is
consistent while the app and the scheduler run. The database is copied first and the
attachment folder afterwards: a file is written before the row that names it is committed
(workflow.cases.attachments), and files are never deleted, so every attachment in the copy
has its file in the archive. The signing keys (session key, audit key) are not in the
archive: they must be kept apart from the data they protect (docs/deploy.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from tarfile import TarFile, TarInfo
from typing import IO

from sqlalchemy import Engine, inspect, literal, select, table
from sqlalchemy.engine import URL

from workflow.backup import archive, postgres
from workflow.backup import sqlite as sqlite_copy
from workflow.engine import clock, migrate


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the Danish message says why and what to do."""


class NotEmpty(BackupError):
    """The target database already holds data, and the restore was not forced."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup wrote."""

    path: Path
    dialect: str
    attachments: int
    size_bytes: int

    def summary(self) -> str:
        megabytes = self.size_bytes / (1024 * 1024)
        return (
            f"Backup gemt i {self.path} ({megabytes:.1f} MB): databasen ({self.dialect}) "
            f"og {self.attachments} bilagsfiler."
        )


@dataclass(frozen=True)
class RestoreReport:
    """What a restore wrote, and whether the schema is this version's."""

    attachments: int
    current: set[str]
    heads: set[str]

    @property
    def at_head(self) -> bool:
        return self.current == self.heads

    def summary(self) -> str:
        return f"Databasen er gendannet med {self.attachments} bilagsfiler."


def dialect_of(url: URL) -> str:
    """'sqlite' or 'postgresql'; other databases are not supported."""
    name = url.get_backend_name()
    if name not in archive.DATABASE_MEMBER:
        raise BackupError(f"Backup understøtter SQLite og PostgreSQL, ikke {name}.")
    return name


def _sqlite_file(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupError("En SQLite-database i hukommelsen kan ikke tages backup af.")
    return Path(str(url.database))


def _attachment_files(folder: Path) -> list[tuple[str, Path]]:
    if not folder.is_dir():
        return []
    return sorted(
        (path.relative_to(folder).as_posix(), path) for path in folder.rglob("*") if path.is_file()
    )


def create_backup(engine: Engine, target: Path, attachments_dir: Path) -> BackupReport:
    """Write the database and the attachment files to the archive `target` (replaced whole)."""
    dialect = dialect_of(engine.url)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed at the end: an interrupted backup never leaves a
    # half archive under the name of a good one.
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with tempfile.TemporaryDirectory(prefix="aftaleflow-backup-") as work:
            copy = Path(work) / archive.DATABASE_MEMBER[dialect]
            revisions = _copy_database(engine, copy)
            if not revisions:
                raise BackupError(
                    "Databasen er ikke oprettet endnu (kør 'aftaleflow init-db'); der er intet "
                    "at tage backup af."
                )
            files = _attachment_files(attachments_dir)
            manifest = archive.Manifest(
                format=archive.FORMAT, dialect=dialect,
                created_at=clock.now().isoformat(timespec="seconds"),
                revisions=revisions, attachments=len(files),
            )  # fmt: skip
            archive.write(partial, manifest, copy, files)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(target, dialect, len(files), target.stat().st_size)


def _copy_database(engine: Engine, copy: Path) -> list[str]:
    """Copy the database to `copy`; return the migration revisions the copy is at."""
    try:
        if engine.url.get_backend_name() == "sqlite":
            database = _sqlite_file(engine.url)
            if not database.is_file():
                raise BackupError(f"Databasefilen {database} findes ikke.")
            # Read from the copy, not the live file: the copy describes itself, and the
            # backup takes no lock the app's writers would wait for.
            sqlite_copy.snapshot(database, copy)
            return sqlite_copy.revisions(copy)
        if not migrate.is_initialised(engine):
            return []
        current, _heads = migrate.revisions(engine)
        postgres.dump(engine.url, copy)
        return sorted(current)
    except postgres.ToolError as exc:
        raise BackupError(str(exc)) from None


def has_data(engine: Engine) -> bool:
    """Tell whether any table other than Alembic's holds a row.

    SQLite's shadow tables (those an FTS5 table such as search_fts keeps its index in) are
    left out: they hold rows in a database just migrated, and the virtual table above them
    holds a row only when the data does."""
    names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            shadows = {
                row[1]
                for row in connection.exec_driver_sql("PRAGMA main.table_list")
                if row[2] == "shadow"
            }
            names = [n for n in names if n not in shadows]
        return any(
            connection.execute(select(literal(1)).select_from(table(name)).limit(1)).first()
            for name in names
        )


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(block)
    return digest.hexdigest()


def _conflicts(bundle: TarFile, members: list[tuple[str, TarInfo]], folder: Path) -> list[str]:
    """Attachment files already in the folder with other contents than the backup's."""
    found = []
    for name, member in members:
        existing = folder / name
        if not existing.exists():
            continue
        with existing.open("rb") as mine, archive.open_member(bundle, member) as theirs:
            if existing.stat().st_size != member.size or _sha256(mine) != _sha256(theirs):
                found.append(name)
    return found


def restore_backup(
    engine: Engine, source: Path, attachments_dir: Path, *, force: bool = False
) -> RestoreReport:
    """Restore the archive `source` into the (empty, unless `force`) database and folder."""
    dialect = dialect_of(engine.url)
    try:
        with archive.open_archive(source) as bundle:
            manifest = archive.read_manifest(bundle, source)
            if manifest.dialect != dialect:
                raise BackupError(
                    f"Backuppen er af en {manifest.dialect}-database og kan ikke gendannes i "
                    f"en {dialect}-database. Gendan i en database af samme slags."
                )
            if not force and has_data(engine):
                raise NotEmpty(
                    "Databasen indeholder allerede data, og gendannelsen ville overskrive dem. "
                    "Gendan i en tom database, eller brug --force, hvis den skal overskrives."
                )
            members = [(str(name), member) for name, member in archive.attachment_members(bundle)]
            clashes = [] if force else _conflicts(bundle, members, attachments_dir)
            if clashes:
                raise NotEmpty(
                    f"{len(clashes)} bilagsfiler i {attachments_dir} har et andet indhold end "
                    f"backuppens (fx {clashes[0]}). Gendan i en tom bilagsmappe, eller brug "
                    "--force, hvis filerne skal overskrives."
                )
            _restore_database(engine, bundle, manifest)
            for name, member in members:
                path = attachments_dir / name
                path.parent.mkdir(parents=True, exist_ok=True)
                with archive.open_member(bundle, member) as data, path.open("wb") as out:
                    shutil.copyfileobj(data, out, length=1024 * 1024)
    except archive.ArchiveError as exc:
        raise BackupError(str(exc)) from None
    current, heads = migrate.revisions(engine)
    return RestoreReport(len(members), current, heads)


def _restore_database(engine: Engine, bundle: TarFile, manifest: archive.Manifest) -> None:
    replace_existing = bool(inspect(engine).get_table_names())
    # Our own pooled connections must not hold the file or the tables while they are replaced.
    engine.dispose()
    with tempfile.TemporaryDirectory(prefix="aftaleflow-restore-") as work:
        copy = Path(work) / archive.DATABASE_MEMBER[manifest.dialect]
        archive.extract_database(bundle, manifest, copy)
        try:
            if manifest.dialect == "sqlite":
                sqlite_copy.load(copy, _sqlite_file(engine.url))
            else:
                postgres.load(copy, engine.url, replace_existing=replace_existing)
        except postgres.ToolError as exc:
            raise BackupError(str(exc)) from None
    engine.dispose()
