"""The `aftaleflow` command line against a fresh SQLite file."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from support.formandskab import decide

from workflow.cli import main

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, ["--database-url", url, *args], input=input)

    invoke.url = url
    return invoke


def test_commands_need_an_initialised_database(cli):
    result = cli("seed")
    assert result.exit_code != 0
    assert "aftaleflow init-db" in result.output


def test_init_db_and_seed_are_idempotent(cli):
    assert cli("init-db").exit_code == 0
    assert cli("init-db").exit_code == 0
    first = cli("seed")
    assert first.exit_code == 0, first.output
    assert "29 kommuner oprettet" in first.output
    assert "opdateret" not in first.output  # linking new bodies to parents is no update
    second = cli("seed")
    assert "intet ændret" in second.output


def test_users_create_and_list(cli):
    cli("init-db")
    cli("seed")
    result = cli(
        "users", "create", "Lone@Example.dk", "--name", "Lone Hansen",
        "--password", "en-lang-adgangskode", "--role", "chair@TSS", "--role", "member@SKU",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    listing = cli("users", "list")
    assert "lone@example.dk" in listing.output
    assert "chair@TSS" in listing.output
    duplicate = cli(
        "users", "create", "lone@example.dk", "--name", "X", "--password", "en-lang-adgangskode"
    )
    assert duplicate.exit_code != 0
    assert "findes allerede" in duplicate.output
    bad_role = cli(
        "users", "create", "x@example.dk", "--name", "X", "--password", "en-lang-adgangskode",
        "--role", "boss@TSS",
    )  # fmt: skip
    assert bad_role.exit_code != 0
    assert "ukendt rolle" in bad_role.output


def test_audit_verify_finds_tampering(cli):
    cli("init-db")
    cli("seed")
    cli(
        "users", "create", "admin@example.dk", "--name", "Admin", "--admin",
        "--password", "en-lang-adgangskode", "--role", "chair@FORUM-DATA",
    )  # fmt: skip
    from sqlalchemy.orm import Session

    from models import Body, User
    from workflow.engine import core as workflow_engine
    from workflow.engine.db import make_engine

    engine = make_engine(cli.url)
    with Session(engine) as session:
        forum = session.query(Body).filter_by(code="FORUM-DATA").one()
        admin = session.query(User).filter_by(email="admin@example.dk").one()
        case = workflow_engine.create_case(
            session, process="forum_matter", title="Data om genindlæggelser",
            originating_body=forum, actor=admin,
        )  # fmt: skip
        decide(case, "raise", admin)
    engine.dispose()
    intact = cli("audit", "verify")
    assert intact.exit_code == 0
    assert "2 hændelser" in intact.output

    raw = create_engine(cli.url)
    with raw.begin() as connection:  # an attacker with database access, bypassing the triggers
        connection.execute(text("DROP TRIGGER case_events_no_update"))
        connection.execute(text("UPDATE case_events SET comment = 'ændret' WHERE seq = 1"))
    raw.dispose()
    tampered = cli("audit", "verify")
    assert tampered.exit_code == 1
    assert "ændret efter registrering" in tampered.output


def test_scheduler_once_and_processes_list(cli):
    cli("init-db")
    cli("seed")
    sweep = cli("scheduler", "--once")
    assert sweep.exit_code == 0, sweep.output
    assert "påmindelser" in sweep.output
    listing = cli("processes", "list")
    assert "signature_initiative" in listing.output
    assert "version 1" in listing.output
    assert "Ingen ændrede" in cli("processes", "sync").output


def test_process_diagram_as_svg(cli):
    cli("init-db")
    cli("seed")
    result = cli("processes", "diagram", "signature_initiative", "--current", "at_tss")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<svg")
    assert 'aria-current="step"' in result.output
    unknown = cli("processes", "diagram", "ukendt")
    assert unknown.exit_code != 0
    assert "findes ikke" in unknown.output


def test_serve_refuses_without_secret_key_on_postgresql(monkeypatch):
    monkeypatch.delenv("AFTALEFLOW_SECRET_KEY", raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["--database-url", "postgresql+psycopg://127.0.0.1/test", "serve"])
    assert result.exit_code != 0
    assert "AFTALEFLOW_SECRET_KEY" in result.output


def _mark_as_demo(url: str) -> None:
    """Record the demo's audited build, as `aftaleflow demo` does, without building it all."""
    from sqlalchemy.orm import Session

    from workflow.engine import admin_audit
    from workflow.engine.unit_of_work import unit_of_work

    engine = create_engine(url)
    with Session(engine) as session, unit_of_work(session):
        admin_audit.record(
            session, action="demo", object_type="demo", object_id="data/demo.toml",
            data={"today": "2021-05-27T12:00:00+02:00"},
        )  # fmt: skip
    engine.dispose()


def test_scheduler_refuses_the_real_clock_on_a_demo_database(cli):
    # The --demo-clock run below shifts this process's clock; the suite's clock fixture puts
    # it back afterwards.
    cli("init-db")
    cli("seed")
    _mark_as_demo(cli.url)
    refused = cli("scheduler", "--once")
    assert refused.exit_code == 1
    assert "Databasen indeholder demodata, hvis historie slutter 27. maj 2021" in refused.output
    assert "'aftaleflow scheduler --demo-clock --once'" in refused.output
    served = cli("serve", "--with-scheduler")
    assert served.exit_code == 1
    assert "'aftaleflow serve --demo-clock --with-scheduler'" in served.output
    swept = cli("scheduler", "--once", "--demo-clock")
    assert swept.exit_code == 0, swept.output
    assert "Demotilstand: uret kører fra demoens dato, 27. maj 2021." in swept.output
    assert "påmindelser" in swept.output


def test_reorganise_shows_refuses_applies_once_and_the_audit_holds(cli, tmp_path):
    cli("init-db")
    cli("seed")
    cli(
        "users", "create", "admin@example.dk", "--name", "Admin", "--admin",
        "--password", "en-lang-adgangskode", "--role", "secretariat@SKU",
    )  # fmt: skip
    dry = cli("reorganise", "sundhedsreform-2027", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Lukker SKU pr. 2026-12-31 → SR-BYEN" in dry.output
    assert "Admin (secretariat) SKU → SR-BYEN" in dry.output
    assert "Planen kan gennemføres" in dry.output

    from pathlib import Path

    from workflow.organisation.reorganise import find_plan

    demo = find_plan("sundhedsreform-2027")
    gappy = tmp_path / "huller.toml"
    gappy.write_text(
        demo.read_text(encoding="utf-8")
        .replace('organisation = "../organisation-2027.toml"',
                 f'organisation = "{(demo.parent / "../organisation-2027.toml").resolve()}"')
        .replace('roles = ["secretariat"]\nto = "SR-BYEN"', 'roles = ["chair"]\nto = "SR-BYEN"')
        .replace('[[memberships]]\nfrom = "SKU"\nend = true\n', ""),
        encoding="utf-8",
    )  # fmt: skip
    refused = cli("reorganise", str(Path(gappy)), "--dry-run")
    assert refused.exit_code == 1
    assert "Medlemskabet Admin (secretariat) i SKU er hverken videreført" in refused.output
    assert "Planen kan IKKE gennemføres" in refused.output

    assert cli("reorganise", "sundhedsreform-2027").exit_code != 0  # --actor or --dry-run
    applied = cli("reorganise", "sundhedsreform-2027", "--actor", "admin@example.dk")
    assert applied.exit_code == 0, applied.output
    assert "er gennemført" in applied.output
    again = cli("reorganise", "sundhedsreform-2027", "--actor", "admin@example.dk")
    assert "allerede gennemført; intet ændret" in again.output
    assert cli("audit", "verify").exit_code == 0


def test_serve_with_workers_refuses_to_run_the_scheduler_in_every_worker(cli):
    cli("init-db")
    result = cli("serve", "--workers", "2", "--with-scheduler")
    assert result.exit_code != 0
    assert "aftaleflow scheduler" in result.output
