"""An audit trail you can trust: `audit verify` finds an edit even after the chain was
recomputed without the key, events cut off a case's end, a deleted case, an edited or deleted
admin entry, a case whose state its events do not explain, and a doctored checkpoint file."""

from __future__ import annotations

import hashlib
import json
import stat
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import GENESIS_HASH, AdminAuditEntry, Body, Case, CaseEvent, Membership, Role, User
from workflow import demo
from workflow.cli import main
from workflow.engine import admin_audit, audit, audit_key, checkpoints
from workflow.engine import core as engine
from workflow.engine.db import make_engine
from workflow.engine.unit_of_work import unit_of_work


@pytest.fixture
def database(fresh_url: str) -> Iterator[Engine]:
    database = make_engine(fresh_url)
    yield database
    database.dispose()


def _two_cases(database: Engine) -> tuple[int, int]:
    """Two forum matters: one raised (two or more events), one only created."""
    with Session(database, expire_on_commit=False) as session:
        forum = session.scalars(select(Body).where(Body.code == "FORUM-DATA")).one()
        chair = User(email="chair@test.aftaleflow.dk", name="Formand")
        session.add(chair)
        session.flush()
        session.add(Membership(user_id=chair.id, body_id=forum.id, role=Role.CHAIR))
        admin_audit.record(session, action="create", object_type="user", object_id=chair.id)
        session.commit()
        raised = engine.create_case(
            session, process="forum_matter", title="Data om genindlæggelser",
            originating_body=forum, actor=chair,
        )  # fmt: skip
        decide(raised, "raise", chair)
        engine.edit_case(raised, chair, {"summary": "Opdateret resumé."})
        quiet = engine.create_case(
            session, process="forum_matter", title="Fælles medicinliste",
            originating_body=forum, actor=chair,
        )  # fmt: skip
        return raised.id, quiet.id


def _attack(database: Engine, *statements: str) -> None:
    """Someone with write access to the database: lift the append-only triggers and write."""
    postgres = database.dialect.name == "postgresql"
    with database.begin() as connection:
        for table in ("cases", "case_events", "admin_audit", "deadlines", "notifications"):
            for operation in ("update", "delete"):
                on = f" ON {table}" if postgres else ""
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{operation}{on}"))
        for statement in statements:
            connection.execute(text(statement))


def _verify(database: Engine) -> audit.AuditReport:
    with Session(database) as session:
        return audit.verify(session)


def _problems(database: Engine) -> list[str]:
    return [str(problem) for problem in _verify(database).problems]


def _checkpoint(database: Engine) -> None:
    with Session(database) as session:
        checkpoints.write(session)


LEGACY_FIELDS = ("case_id", "seq", "actor_id", "trigger", "from_state", "to_state", "comment",
                 "data", "meeting_id")  # fmt: skip


def _sha256_chain(database: Engine, case_id: int) -> None:
    """Recompute a case's chain the only way one can without the key: plain SHA-256 (which is
    all the chain was before it was keyed)."""
    with database.begin() as connection:
        rows = connection.execute(
            select(CaseEvent.__table__).where(CaseEvent.case_id == case_id).order_by("seq")
        ).mappings()
        previous = GENESIS_HASH
        for row in list(rows):
            payload = {k: row[k] for k in LEGACY_FIELDS}
            payload["created_at"] = row["created_at"].isoformat(timespec="microseconds")
            payload["prev_hash"] = previous
            canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
            sealed = hashlib.sha256(canonical.encode()).hexdigest()
            connection.execute(
                CaseEvent.__table__.update()
                .where(CaseEvent.id == row["id"])
                .values(prev_hash=previous, hash=sealed)
            )
            previous = sealed


def test_an_untouched_trail_verifies_clean_with_and_without_a_checkpoint(database):
    _two_cases(database)
    report = _verify(database)
    assert report.problems == []
    assert report.events == 4 and report.cases == 2 and report.admin_entries >= 2
    assert "Intet kontrolpunkt" in report.checkpoint_line()
    _checkpoint(database)
    report = _verify(database)
    assert report.problems == [] and report.checkpoint is not None
    assert "Holdt op mod kontrolpunktet" in report.checkpoint_line()


def test_an_edit_is_found_even_with_the_chain_recomputed_without_the_key(database):
    raised, _ = _two_cases(database)
    _attack(database, f"UPDATE case_events SET comment = 'Godkendt' WHERE case_id = {raised} "
                      "AND seq = 1")  # fmt: skip
    _sha256_chain(database, raised)
    problems = _problems(database)
    assert f"Sag {raised}, hændelse 1: {audit.EDITED}" in problems
    # Every event after it is resealed without the key, so each is reported.
    assert all(p.startswith(f"Sag {raised},") for p in problems)


def test_events_deleted_from_a_case_end_are_found_against_the_checkpoint(database):
    raised, _ = _two_cases(database)
    _checkpoint(database)
    with Session(database) as session:
        last = session.scalar(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == raised))
    # The last event is the edit, which left the state alone: the chain and state still agree.
    _attack(database, f"DELETE FROM case_events WHERE case_id = {raised} AND seq = {last}")
    problems = _problems(database)
    assert problems == [
        f"Sag {raised}: de sidste hændelser er slettet: kæden ender ved nr. {last - 1}, men "
        f"kontrolpunktet 1. september 2020 kl. 10:00 kendte nr. {last}"
    ]


def test_a_case_without_events_and_a_case_deleted_whole_are_found(database):
    raised, quiet = _two_cases(database)
    _checkpoint(database)
    _attack(
        database,
        f"DELETE FROM case_events WHERE case_id = {quiet}",
        f"DELETE FROM deadlines WHERE case_id = {raised}",
        f"DELETE FROM case_national_goals WHERE case_id = {raised}",
        f"DELETE FROM notifications WHERE case_id = {raised}",
        f"DELETE FROM search_documents WHERE case_id = {raised}",
        f"DELETE FROM case_events WHERE case_id = {raised}",
        f"DELETE FROM cases WHERE id = {raised}",
    )
    problems = _problems(database)
    assert f"Sag {quiet}: sagen har ingen hændelser; dens revisionsspor er slettet" in problems
    assert any(
        p.startswith(f"Sag {raised}: sagen og alle dens hændelser er slettet") for p in problems
    )


def test_a_case_whose_state_differs_from_its_last_event_is_found(database):
    raised, _ = _two_cases(database)
    with Session(database) as session:
        real = session.get(Case, raised).state
    _attack(database, f"UPDATE cases SET state = 'decided' WHERE id = {raised}")
    assert _problems(database) == [
        f"Sag {raised}: sagens tilstand 'decided' passer ikke med den sidste hændelse "
        f"(nr. 3), der førte den til '{real}'"
    ]


def test_an_edited_or_deleted_admin_entry_is_found(database):
    _two_cases(database)
    _checkpoint(database)
    with Session(database) as session:
        entries = session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.seq)).all()
    first, last = entries[0].seq, entries[-1].seq
    _attack(database, f"UPDATE admin_audit SET object_id = 'andet' WHERE seq = {first}")
    assert _problems(database) == [f"Administrationsloggen, post {first}: {audit.EDITED}"]
    _attack(database, f"DELETE FROM admin_audit WHERE seq = {last}")
    problems = _problems(database)
    assert problems[-1].startswith(
        f"Administrationsloggen: de sidste poster er slettet: kæden ender ved nr. {last - 1}"
    )


def test_a_doctored_checkpoint_file_is_found(database, audit_checkpoint_dir):
    _two_cases(database)
    _checkpoint(database)
    _checkpoint(database)
    _checkpoint(database)
    path = audit_checkpoint_dir / checkpoints.FILE_NAME
    lines = path.read_text().splitlines()
    forged = json.loads(lines[2])
    forged["events"] = 1  # hide that the trail was ever longer
    path.write_text("\n".join([lines[0], lines[1], json.dumps(forged)]) + "\n")
    problems = _problems(database)
    assert problems == [
        f"Kontrolpunktfilen {path}, linje 3: signaturen passer ikke; linjen er ændret eller ikke "
        "skrevet med revisionsnøglen"
    ]
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")  # the middle one taken out
    assert _problems(database) == [
        f"Kontrolpunktfilen {path}, linje 2: linjen følger ikke efter den forrige; en linje er "
        "fjernet, flyttet eller indsat"
    ]


def test_verify_on_the_command_line_says_what_is_wrong_and_exits_non_zero(fresh_url, database):
    raised, _ = _two_cases(database)
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", fresh_url, "audit", "checkpoint"]).exit_code == 0
    intact = runner.invoke(main, ["--database-url", fresh_url, "audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "Revisionssporet er intakt" in intact.output
    _attack(database, f"UPDATE cases SET state = 'decided' WHERE id = {raised}")
    broken = runner.invoke(main, ["--database-url", fresh_url, "audit", "verify"])
    assert broken.exit_code == 1
    assert f"Sag {raised}: sagens tilstand 'decided' passer ikke" in broken.output
    assert "1 problemer" in broken.output


def test_a_fresh_demo_database_verifies_clean(database):
    with Session(database) as session:
        demo.run(session)
        checkpoints.write(session)
        report = audit.verify(session)
    assert report.problems == []
    assert report.events > 100 and report.admin_entries >= 2


def test_concurrent_admin_writers_never_fork_the_chain(database):
    writers = 8
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            with Session(database) as session:
                barrier.wait()
                with unit_of_work(session):  # as the app writes: the unit takes the write lock
                    admin_audit.record(
                        session, action="test", object_type="writer", object_id=number
                    )
        except BaseException as error:  # reported below; a thread must not swallow it
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(database) as session:
        seqs = session.scalars(select(AdminAuditEntry.seq).order_by(AdminAuditEntry.seq)).all()
        writers_seen = session.scalars(
            select(AdminAuditEntry.object_id).where(AdminAuditEntry.action == "test")
        ).all()
    assert seqs == list(range(1, len(seqs) + 1))
    assert sorted(writers_seen) == [str(n) for n in range(writers)]
    assert _problems(database) == []


def test_the_key_file_is_made_on_init_db_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv(audit_key.KEY_ENV)
    key_path = tmp_path / "keys" / "audit.key"
    monkeypatch.setenv(audit_key.KEY_FILE_ENV, str(key_path))
    result = CliRunner().invoke(
        main, ["--database-url", f"sqlite:///{tmp_path / 'k.db'}", "init-db"]
    )
    assert result.exit_code == 0, result.output
    assert f"filen {key_path}" in result.output and "sikkerhedskopi" in result.output
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert len(key_path.read_text().strip()) == 64


def test_a_too_short_key_is_refused_with_advice(monkeypatch):
    monkeypatch.setenv(audit_key.KEY_ENV, "kort")
    with pytest.raises(audit_key.AuditKeyError, match="mindst 32 tegn"):
        audit_key.load_key()


def test_a_postgresql_server_without_the_audit_key_refuses_to_start(tmp_path, monkeypatch):
    """Servers sharing a database must seal with one key: none may quietly make its own."""
    monkeypatch.setenv("AFTALEFLOW_SECRET_KEY", "s" * 64)
    monkeypatch.delenv(audit_key.KEY_ENV)
    monkeypatch.setenv(audit_key.KEY_FILE_ENV, str(tmp_path / "audit.key"))
    url = "postgresql+psycopg://127.0.0.1/test"
    result = CliRunner().invoke(main, ["--database-url", url, "serve"])
    assert result.exit_code != 0
    assert f"Revisionsnøglen {tmp_path / 'audit.key'} findes ikke" in result.output
    assert not (tmp_path / "audit.key").exists()
