"""`aftaleflow backup` and `restore` (issue 12, item 7): a database with cases, events,
meetings, notifications and attachment files is backed up, restored into an empty database
and folder, and then `audit verify` passes, every table has the same rows and every file is
back. Runs on SQLite, and on PostgreSQL (pg_dump/pg_restore) when TEST_DATABASE_URL is set."""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import Base, Body, Meeting, MeetingStatus, Membership, Role, User
from workflow.cases import attachments
from workflow.cli import RESTORED_NOT_AT_HEAD, main
from workflow.engine import clock, migrate
from workflow.engine import core as engine
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.engine.unit_of_work import unit_of_work
from workflow.organisation import seed

pytestmark = pytest.mark.slow
PROPOSAL = {
    "summary": "Fælles indsats for borgere med kronisk sygdom.",
    "role_distribution": "Kommunen følger op, hospitalet udreder.",
    "general_practice_role": "Almen praksis henviser.",
    "triple_aim_quality": "Færre genindlæggelser.",
    "triple_aim_economy": "Udgiftsneutral for parterne samlet.",
    "triple_aim_population": "Færre borgere bliver syge igen.",
    "triple_aim_experience": "Ét samlet forløb.",
    "business_case": "Færre indlæggelser opvejer udgiften; ingen kommunal merudgift.",
}


@pytest.fixture
def engines() -> Iterator[Callable[[str], Engine]]:
    """Engines for the test's databases, disposed afterwards."""
    made: list[Engine] = []

    def make(url: str) -> Engine:
        made.append(make_engine(url))
        return made[-1]

    yield make
    for database in made:
        database.dispose()


@pytest.fixture
def new_database(tmp_path: Path, engines: Callable[[str], Engine]) -> Iterator[Callable[[], str]]:
    """Make empty databases of the kind under test: PostgreSQL scratch databases on
    $TEST_DATABASE_URL's server, else SQLite files."""
    server = os.environ.get("TEST_DATABASE_URL")
    with ExitStack() as stack:
        made = iter(range(1, 100))

        def make() -> str:
            if server:
                return stack.enter_context(scratch_postgres_database(server))
            return f"sqlite:///{tmp_path / f'db{next(made)}.sqlite'}"

        yield make


def cli(url: str, *args: str, folder: Path) -> Result:
    return CliRunner().invoke(
        main, ["--database-url", url, *args], env={"AFTALEFLOW_ATTACHMENTS_DIR": str(folder)}
    )


def _user(session: Session, bodies: dict[str, Body], email: str, *roles: str) -> User:
    user = User(email=email, name=email.split("@")[0])
    session.add(user)
    session.flush()
    for spec in roles:
        role, _, code = spec.partition("@")
        session.add(Membership(user_id=user.id, body_id=bodies[code].id, role=Role(role)))
    return user


def populate(url: str, folder: Path, engines: Callable[[str], Engine]) -> Engine:
    """A migrated, seeded database with two cases on their way, a meeting, notifications and
    two attachment files."""
    database = engines(url)
    migrate.upgrade(database)
    with Session(database, expire_on_commit=False) as session:
        seed.run(session)
        bodies = {b.code: b for b in session.scalars(select(Body))}
        with unit_of_work(session):
            author = _user(session, bodies, "forfatter@test.dk", "member@SU-NORD-SOM")
            chair = _user(session, bodies, "formand@test.dk", "chair@SU-NORD-SOM")
            tss = _user(session, bodies, "tss@test.dk", "chair@TSS", "secretariat@TSS")
            session.add(
                Meeting(
                    body_id=bodies["TSS"].id, title="TSS-møde", status=MeetingStatus.PLANNED,
                    starts_at=clock.now() + timedelta(days=14),
                )
            )  # fmt: skip
        focus = session.scalar(text("SELECT id FROM focus_areas ORDER BY id LIMIT 1"))
        for title in ("Sag med bilag", "Anden sag"):
            case = engine.create_case(
                session, process="signature_initiative", title=title,
                originating_body=bodies["SU-NORD-SOM"], actor=author, national_goal_ids=[1, 2],
                focus_area_id=focus, **PROPOSAL,
            )  # fmt: skip
            decide(case, "submit", chair)
            decide(case, "tss_recommend", tss, comment="Anbefales")
        attachments.upload(session, case, author, "notat.pdf", b"%PDF-1.4 notat", folder=folder)
        attachments.upload(session, case, author, "tal.csv", "år;værdi\n".encode(), folder=folder)
    return database


def row_counts(database: Engine) -> dict[str, int]:
    """Rows in every table of the schema, Alembic's included."""
    names = [*Base.metadata.tables, "alembic_version"]
    with database.connect() as connection:
        return {
            name: connection.execute(select(func.count()).select_from(text(name))).scalar_one()
            for name in sorted(names)
        }


def files_of(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


def test_backup_then_restore_into_an_empty_database_gives_back_everything(
    new_database, tmp_path, engines
):
    source_url, target_url = new_database(), new_database()
    source_files, target_files = tmp_path / "bilag", tmp_path / "gendannede-bilag"
    source = populate(source_url, source_files, engines)
    before = row_counts(source)
    for table in ("cases", "case_events", "meetings", "notifications", "attachments"):
        assert before[table] > 0, table

    made = cli(source_url, "backup", str(tmp_path / "backup.tar"), folder=source_files)
    assert made.exit_code == 0, made.output
    assert "og 2 bilagsfiler" in made.output
    restored = cli(target_url, "restore", str(tmp_path / "backup.tar"), folder=target_files)
    assert restored.exit_code == 0, restored.output
    assert "Databasens skema passer til denne version" in restored.output

    verified = cli(target_url, "audit", "verify", folder=target_files)
    assert verified.exit_code == 0, verified.output
    assert "Revisionssporet er intakt" in verified.output
    target = engines(target_url)
    assert row_counts(target) == before
    assert files_of(target_files) == files_of(source_files)
    assert len(files_of(target_files)) == 2


def test_restore_refuses_a_database_with_data_unless_forced(new_database, tmp_path, engines):
    first_url, second_url = new_database(), new_database()
    first = populate(first_url, tmp_path / "a", engines)
    second = populate(second_url, tmp_path / "b", engines)
    with Session(second) as session, unit_of_work(session):
        _user(session, {}, "kun-i-den-anden@test.dk")
    archive = str(tmp_path / "a.tar")
    assert cli(first_url, "backup", archive, folder=tmp_path / "a").exit_code == 0

    refused = cli(second_url, "restore", archive, folder=tmp_path / "b")
    assert refused.exit_code == 1
    assert "Databasen indeholder allerede data" in refused.output and "--force" in refused.output
    assert row_counts(second)["users"] == row_counts(first)["users"] + 1  # untouched

    forced = cli(second_url, "restore", "--force", archive, folder=tmp_path / "b")
    assert forced.exit_code == 0, forced.output
    assert row_counts(second) == row_counts(first)
    assert cli(second_url, "audit", "verify", folder=tmp_path / "b").exit_code == 0


def test_restore_into_a_migrated_but_empty_database(new_database, tmp_path, engines):
    source_url, target_url = new_database(), new_database()
    source = populate(source_url, tmp_path / "a", engines)
    assert cli(target_url, "init-db", folder=tmp_path / "b").exit_code == 0
    assert cli(source_url, "backup", str(tmp_path / "a.tar"), folder=tmp_path / "a").exit_code == 0
    restored = cli(target_url, "restore", str(tmp_path / "a.tar"), folder=tmp_path / "b")
    assert restored.exit_code == 0, restored.output
    assert row_counts(engines(target_url)) == row_counts(source)


def test_an_old_backup_is_restored_and_the_operator_told_to_upgrade(
    new_database, tmp_path, engines
):
    old_url, target_url = new_database(), new_database()
    old = engines(old_url)
    migrate.upgrade(old, "0001")
    assert cli(old_url, "backup", str(tmp_path / "old.tar"), folder=tmp_path / "a").exit_code == 0
    restored = cli(target_url, "restore", str(tmp_path / "old.tar"), folder=tmp_path / "b")
    assert restored.exit_code == RESTORED_NOT_AT_HEAD
    assert "Kør 'aftaleflow init-db'" in restored.output
    assert cli(target_url, "init-db", folder=tmp_path / "b").exit_code == 0
    current, heads = migrate.revisions(engines(target_url))
    assert current == heads


def test_restore_explains_a_file_that_is_no_backup(new_database, tmp_path):
    url = new_database()
    junk = tmp_path / "noter.txt"
    junk.write_text("ikke en backup")
    result = cli(url, "restore", str(junk), folder=tmp_path / "b")
    assert result.exit_code == 1
    assert "er ikke en Aftaleflow-backup" in result.output


def test_a_crafted_archive_cannot_write_outside_the_attachments_folder(
    new_database, tmp_path, engines
):
    url = new_database()
    populate(url, tmp_path / "a", engines)
    good = tmp_path / "good.tar"
    assert cli(url, "backup", str(good), folder=tmp_path / "a").exit_code == 0
    crafted = tmp_path / "crafted.tar"
    with tarfile.open(good) as source, tarfile.open(crafted, "w") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member))
        evil = tmp_path / "evil"
        evil.write_bytes(b"x")
        target.add(evil, arcname="attachments/../../uden-for.txt")
    result = cli(new_database(), "restore", str(crafted), folder=tmp_path / "b")
    assert result.exit_code == 1
    assert "ugyldig bilagssti" in result.output
    assert not (tmp_path / "uden-for.txt").exists()


@pytest.mark.sqlite_only
def test_a_sqlite_backup_runs_beside_an_open_write_transaction(new_database, tmp_path, engines):
    url = new_database()
    database = populate(url, tmp_path / "a", engines)
    with database.connect() as writer:
        writer.execute(text("UPDATE users SET name = 'halvfærdig' WHERE email = 'tss@test.dk'"))
        # The writer holds SQLite's write lock and has not committed: the backup neither
        # waits for it nor copies its change.
        made = cli(url, "backup", str(tmp_path / "a.tar"), folder=tmp_path / "a")
        assert made.exit_code == 0, made.output
    copy = new_database()
    assert cli(copy, "restore", str(tmp_path / "a.tar"), folder=tmp_path / "b").exit_code == 0
    with engines(copy).connect() as connection:
        names = connection.execute(text("SELECT name FROM users ORDER BY email")).scalars().all()
    assert "halvfærdig" not in names and "tss" in names


def test_a_missing_pg_dump_is_explained(tmp_path, monkeypatch):
    from sqlalchemy.engine import make_url

    from workflow.backup import postgres

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(postgres.ToolError, match=r"pg_dump findes ikke.*postgresql-client"):
        postgres.dump(make_url("postgresql+psycopg://aftaleflow@db/aftaleflow"), tmp_path / "x")


def test_restore_does_not_overwrite_other_attachment_files_unless_forced(
    new_database, tmp_path, engines
):
    url = new_database()
    populate(url, tmp_path / "a", engines)
    assert cli(url, "backup", str(tmp_path / "a.tar"), folder=tmp_path / "a").exit_code == 0
    name = next(iter(files_of(tmp_path / "a")))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / name).write_bytes(b"et andet indhold")
    target = new_database()
    refused = cli(target, "restore", str(tmp_path / "a.tar"), folder=tmp_path / "b")
    assert refused.exit_code == 1
    assert "har et andet indhold end backuppens" in refused.output
    assert (tmp_path / "b" / name).read_bytes() == b"et andet indhold"
    forced = cli(target, "restore", "--force", str(tmp_path / "a.tar"), folder=tmp_path / "b")
    assert forced.exit_code == 0, forced.output
    assert files_of(tmp_path / "b") == files_of(tmp_path / "a")
