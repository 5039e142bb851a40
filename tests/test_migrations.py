"""Migrations: upgrade from empty, round trip, models in step, records protected."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import AdminAuditEntry, Base, Body, Membership, Role, User
from workflow.engine import audit, migrate
from workflow.engine import core as engine
from workflow.organisation import seed


def test_upgrade_from_empty_creates_every_table(empty_engine):
    assert not migrate.is_initialised(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.is_initialised(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_downgrade_and_upgrade_round_trip(empty_engine):
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine)
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    assert "cases" in inspect(empty_engine).get_table_names()


# SQLite's reflection cannot read an index on an expression and says so; the index (0026, on
# the events' JSON field, spelt per dialect) is left out of the comparison anyway.
@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index ix_case_events_decision_body"
)
def test_migrations_match_the_models(empty_engine):
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": migrate.include_object}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM cases",
        "DELETE FROM case_events",
        "UPDATE case_events SET comment = 'rettet'",
        "DELETE FROM users",
    ],
)
def test_records_cannot_be_deleted_nor_the_audit_trail_changed(empty_engine, statement):
    migrate.upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (email, name, is_admin, active, locale, digest, created_at) "
                "VALUES ('a@b.dk', 'A', FALSE, TRUE, 'da', FALSE, '2020-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO bodies (code, name, kind, material_deadline_days, "
                "material_deadline_working_days, active) VALUES ('X', 'X', 'forum', 7, FALSE, TRUE)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO cases (process, process_version, state, title, summary, "
                "originating_body_id, current_body_id, principled, political, interface_change,"
                " cost_driving, large_task, business_case, financing_proposal, "
                "role_distribution, general_practice_role, triple_aim_quality, "
                "triple_aim_economy, triple_aim_experience, journal_description, extra, "
                "created_at, updated_at, state_entered_at, version) VALUES ('p', 1, 's', 't', "
                "'', 1, 1, FALSE, FALSE, FALSE, FALSE, FALSE, '', '', '', '', '', '', '', '', "
                "'{}', '2020-01-01', '2020-01-01', '2020-01-01', 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO case_events (case_id, seq, trigger, to_state, comment, data, "
                "created_at, prev_hash, hash) VALUES (1, 1, 'create', 's', '', '{}', "
                "'2020-01-01', '0', '1')"
            )
        )
    with pytest.raises(DatabaseError, match="never deleted"), empty_engine.begin() as connection:
        connection.execute(text(statement))


LEGACY_FIELDS = ("case_id", "seq", "actor_id", "trigger", "from_state", "to_state", "comment",
                 "meeting_id", "prev_hash")  # fmt: skip


def _legacy_chain_intact(connection) -> bool:
    """The plain SHA-256 chain every database had before 0008."""
    rows = connection.execute(text("SELECT * FROM case_events ORDER BY case_id, seq")).mappings()
    previous: dict[int, str] = {}
    for row in rows:
        payload = {k: row[k] for k in LEGACY_FIELDS}
        payload["data"] = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        created = row["created_at"]
        created = datetime.fromisoformat(created) if isinstance(created, str) else created
        created = created.astimezone(UTC) if created.tzinfo else created.replace(tzinfo=UTC)
        payload["created_at"] = created.isoformat(timespec="microseconds")
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        if row["prev_hash"] != previous.get(row["case_id"], "0" * 64):
            return False
        if hashlib.sha256(canonical.encode()).hexdigest() != row["hash"]:
            return False
        previous[row["case_id"]] = row["hash"]
    return True


def test_an_old_database_is_resealed_with_the_key_and_the_resealing_recorded(empty_engine):
    migrate.upgrade(empty_engine)
    with Session(empty_engine, expire_on_commit=False) as session:
        seed.run(session)
        forum = session.scalars(select(Body).where(Body.code == "FORUM-DATA")).one()
        chair = User(email="chair@test.aftaleflow.dk", name="Formand")
        session.add(chair)
        session.flush()
        session.add(Membership(user_id=chair.id, body_id=forum.id, role=Role.CHAIR))
        session.commit()
        case = engine.create_case(
            session, process="forum_matter", title="Data", originating_body=forum, actor=chair
        )
        decide(case, "raise", chair)
    # Back to the plain SHA-256 chain and an unchained admin log, as before 0008.
    migrate.downgrade(empty_engine, "0006")
    postgres = empty_engine.dialect.name == "postgresql"
    with empty_engine.begin() as connection:
        assert _legacy_chain_intact(connection)
        assert "seq" not in {c["name"] for c in inspect(connection).get_columns("admin_audit")}
        # An edit the old chain shows; re-sealing must not hide it without a word.
        connection.execute(
            text("DROP TRIGGER case_events_no_update" + (" ON case_events" if postgres else ""))
        )
        connection.execute(text("UPDATE case_events SET comment = 'Rettet' WHERE seq = 1"))

    migrate.upgrade(empty_engine)
    with Session(empty_engine) as session:
        report = audit.verify(session)
        resealed = session.scalars(
            select(AdminAuditEntry).where(AdminAuditEntry.action == "reseal_audit")
        ).one()
    assert report.problems == []
    assert report.admin_entries == resealed.seq  # the record is the admin chain's head
    assert resealed.data["case_events"] == report.events
    assert resealed.data["broken_before"] == [f"sag {case.id}, hændelse 1"]
    with pytest.raises(DatabaseError, match="never deleted"), empty_engine.begin() as connection:
        connection.execute(text("UPDATE admin_audit SET action = 'x'"))


def test_0013_dates_the_parents_and_planning_areas_the_administrators_changed(empty_engine):
    """Upgrading to 0013 back-fills former parents and planning areas from the admin record:
    a change on day D ends the former value on D - 1."""
    from datetime import date

    from models import Party, PlanningArea
    from workflow.admin import operations as admin
    from workflow.engine import clock

    migrate.upgrade(empty_engine)
    clock.set_time(datetime(2022, 3, 10, 9, 0, tzinfo=UTC))
    try:
        with Session(empty_engine, expire_on_commit=False) as session:
            seed.run(session)
            actor = User(email="admin@test.aftaleflow.dk", name="Admin", is_admin=True)
            session.add(actor)
            session.commit()
            su = session.scalars(select(Body).where(Body.code == "SU-NORD-SOM")).one()
            ppu = session.scalars(select(Body).where(Body.code == "PPU")).one()
            fields = admin.BodyFields(
                name=su.name, name_en=su.name_en, kind=su.kind, parent_id=ppu.id,
                planning_area_id=su.planning_area_id,
                material_deadline_days=su.material_deadline_days,
                material_deadline_working_days=su.material_deadline_working_days, active=True,
            )  # fmt: skip
            assert admin.update_body(session, actor, su, fields)
            egedal = session.scalars(select(Party).where(Party.code == "KOM-EGEDAL")).one()
            midt = session.scalars(select(PlanningArea).where(PlanningArea.code == "MIDT")).one()
            assert admin.update_party(
                session, actor, egedal, name=egedal.name, planning_area_id=midt.id, active=True
            )
            su_id, tss_id, egedal_id = su.id, su.former_parents[0].parent_id, egedal.id
    finally:
        clock.set_time(None)
    migrate.downgrade(empty_engine, "0012")
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        parents = connection.execute(
            text("SELECT body_id, parent_id, valid_from, valid_to FROM body_parents")
        ).all()
        areas = connection.execute(
            text(
                "SELECT party_id, pa.code, ppa.valid_to FROM party_planning_areas ppa "
                "JOIN planning_areas pa ON pa.id = ppa.planning_area_id"
            )
        ).all()
    assert [(b, p, f, str(t)) for b, p, f, t in parents] == [
        (su_id, tss_id, None, str(date(2022, 3, 9)))
    ]
    assert [(p, code, str(t)) for p, code, t in areas] == [(egedal_id, "NORD", "2022-03-09")]
