"""Versioned definitions: a changed file is a new version, cases in flight keep theirs, and an
administrator moves a case to a new version only through an explicit state map."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from support.formandskab import decide

from models import AdminAuditEntry, Deadline, ProcessVersion
from workflow import policy
from workflow.engine import core as engine
from workflow.engine import processes
from workflow.engine.errors import Conflict, GuardFailed, NotAllowed
from workflow.engine.processes import ProcessRegistry, UnknownProcess, registry

# Version 2 lets only the secretariat withdraw a draft.
OLD_WITHDRAW = """trigger = "withdraw"
source = "draft"
dest = "withdrawn"
confirm = true
label = "Træk tilbage"
label_en = "Withdraw"
allowed = ["chair@originating", "secretariat@originating"]"""
NEW_WITHDRAW = OLD_WITHDRAW.replace('"chair@originating", ', "")


@pytest.fixture
def edited(tmp_path, states_dir, session):
    """Store version 2 of the signature initiative, as an admin editing states/ would."""
    for path in states_dir.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "signature_initiative.toml"
    text = target.read_text(encoding="utf-8")
    assert OLD_WITHDRAW in text
    target.write_text(text.replace(OLD_WITHDRAW, NEW_WITHDRAW), encoding="utf-8")

    def sync():
        created = ProcessRegistry(directory=tmp_path).sync(session)
        session.commit()
        return created

    return sync


def test_changed_file_becomes_a_new_version_and_nothing_else_does(session, edited):
    before = registry.latest(session, "signature_initiative").version
    created = edited()
    assert [(row.name, row.version) for row in created] == [("signature_initiative", before + 1)]
    assert edited() == []  # unchanged files add nothing
    latest = registry.latest(session, "signature_initiative")
    assert latest.version == before + 1
    assert NEW_WITHDRAW in latest.source
    stored = session.scalars(
        select(ProcessVersion.version).where(ProcessVersion.name == "signature_initiative")
    ).all()
    assert sorted(stored) == list(range(1, before + 2))


def test_cases_in_flight_keep_their_version_and_new_cases_take_the_new_one(
    session, make_case, make_user, edited
):
    old = make_case()
    edited()
    new = make_case()
    assert new.process_version == old.process_version + 1
    old_definition, new_definition = engine.definition_of(old), engine.definition_of(new)
    assert registry.machine(old_definition) is not registry.machine(new_definition)

    chair = make_user("chair@SU-NORD-SOM")
    assert [t.trigger for t in engine.allowed_triggers(old, chair)] == ["submit", "withdraw"]
    assert [t.trigger for t in engine.allowed_triggers(new, chair)] == ["submit"]
    with pytest.raises(NotAllowed):
        decide(new, "withdraw", chair, comment="Dublet.")
    decide(old, "withdraw", chair, comment="Dublet.")
    assert old.state == "withdrawn"
    assert old.process_version == old_definition.version


def test_admin_migrates_a_case_through_an_explicit_state_map(
    session, make_case, make_user, make_meeting, edited
):
    make_meeting("TSS", datetime(2020, 10, 1, 8, tzinfo=UTC))
    case = make_case()
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    [material] = session.scalars(select(Deadline).where(Deadline.case_id == case.id)).all()
    from_version = case.process_version
    edited()
    admin = make_user(is_admin=True)

    event = engine.migrate_case_version(
        case, from_version + 1, {"at_tss": "draft", "at_sku": "at_sku"}, admin,
        comment="Ny tilbagetrækningsregel.",
    )  # fmt: skip

    assert (case.process_version, case.state) == (from_version + 1, "draft")
    assert case.current_body.code == "SU-NORD-SOM"
    assert event.trigger == "migrate_version"
    assert (event.from_state, event.to_state, event.actor_id) == ("at_tss", "draft", admin.id)
    assert event.data["from_version"] == from_version
    assert event.data["state_map"] == {"at_tss": "draft", "at_sku": "at_sku"}
    audit = session.scalars(
        select(AdminAuditEntry).where(
            AdminAuditEntry.action == "migrate_case_version",
            AdminAuditEntry.object_id == str(case.id),
        )
    ).all()
    assert [a.actor_id for a in audit] == [admin.id]
    # Deadlines follow the new state: the draft has none, so the material deadline goes.
    assert material.cancelled_at is not None
    assert session.scalars(select(Deadline).where(Deadline.case_id == case.id)).all() == [material]
    # The case now follows version 2: its chair may no longer withdraw it.
    with pytest.raises(NotAllowed):
        decide(case, "withdraw", make_user("chair@SU-NORD-SOM"), comment="Dublet.")
    decide(case, "withdraw", make_user("secretariat@SU-NORD-SOM"), comment="Dublet.")


def test_migration_is_refused_to_non_admins_and_for_an_incomplete_map(
    session, make_case, make_user, edited, footprint
):
    case = make_case(state="at_sku")
    edited()
    to_version = case.process_version + 1
    before = footprint(case)
    with pytest.raises(NotAllowed) as refused:
        engine.migrate_case_version(case, to_version, {"at_sku": "at_sku"}, make_user("chair@TSS"))
    assert "Kun administratorer" in refused.value.message
    admin = make_user(is_admin=True)
    with pytest.raises(GuardFailed) as refused:
        engine.migrate_case_version(case, to_version, {"at_tss": "at_tss"}, admin)
    assert "Tilstanden 'at_sku' skal afbildes på en tilstand i version" in refused.value.message
    with pytest.raises(GuardFailed):
        engine.migrate_case_version(case, to_version, {"at_sku": "at_politicians"}, admin)
    with pytest.raises(UnknownProcess):
        engine.migrate_case_version(case, to_version + 5, {"at_sku": "at_sku"}, admin)
    assert footprint(case) == before


def test_migration_with_a_stale_version_is_a_conflict(make_case, make_user, edited):
    case = make_case(state="at_sku")
    edited()
    with pytest.raises(Conflict):
        engine.migrate_case_version(
            case, case.process_version + 1, {"at_sku": "at_sku"}, make_user(is_admin=True),
            expected_version=case.version - 1,
        )  # fmt: skip


def test_the_stored_versions_are_kept_across_transactions_by_their_mark(session, make_user, edited):
    """The page frame reads the versions' mark with the user; the versions read once are kept
    for that mark, in every session of the process, until a version is stored: another
    worker's publish (which this process never flushed) gives a new mark, read afresh."""
    user = make_user()

    def next_request() -> tuple[dict, list[str]]:
        session.commit()  # a new transaction, as the next request's
        assert processes._STORED not in session.info
        policy.load_user(session, user.id)
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        connection = session.connection()
        event.listen(connection, "before_cursor_execute", record)
        try:
            stored = registry.stored(session)
        finally:
            event.remove(connection, "before_cursor_execute", record)
        return stored, statements

    first, _read = next_request()
    again, statements = next_request()
    assert statements == []
    assert again == first
    kept = dict(processes._BY_MARK)
    before = registry.latest(session, "signature_initiative").version
    edited()
    # As in another worker, which kept what it read and never saw this flush.
    processes._BY_MARK.update(kept)
    after, statements = next_request()
    assert len(statements) == 1
    assert ("signature_initiative", before + 1) in after
    assert NEW_WITHDRAW in after[("signature_initiative", before + 1)].source
