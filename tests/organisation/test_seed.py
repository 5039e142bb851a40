"""The real organisation: bodies, parties, planning areas, goals — loaded idempotently."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from models import Body, BodyKind, FocusArea, NationalGoal, Party, PartyKind, PlanningArea
from workflow.engine.definitions import DefinitionError
from workflow.engine.processes import ProcessRegistry
from workflow.organisation import seed


def test_the_organisation_of_the_health_agreement(session):
    codes = set(session.scalars(select(Body.code)))
    assert {"SKU", "PPU", "TSS", "KKR", "KKU"} <= codes
    committees = session.scalars(
        select(Body).where(Body.kind == BodyKind.COORDINATION_COMMITTEE)
    ).all()
    assert len(committees) == 10
    forums = session.scalars(select(Body).where(Body.kind == BodyKind.FORUM)).all()
    assert len(forums) == 5
    assert all(forum.parent.code == "TSS" for forum in forums)
    assert session.scalar(select(func.count()).select_from(FocusArea)) == 3
    assert session.scalar(select(func.count()).select_from(NationalGoal)) == 8


def test_29_municipalities_each_in_a_planning_area(session):
    municipalities = session.scalars(
        select(Party).where(Party.kind == PartyKind.MUNICIPALITY)
    ).all()
    assert len(municipalities) == 29
    assert all(m.planning_area is not None for m in municipalities)
    by_name = {m.name: m.planning_area.code for m in municipalities}
    assert by_name["Hillerød Kommune"] == "NORD"
    assert by_name["Bornholms Regionskommune"] == "BORNHOLM"


def test_seed_twice_changes_nothing(session):
    report = seed.run(session)
    assert not report.changed
    assert "intet ændret" in report.summary()


def test_a_definition_naming_an_unknown_body_is_refused(session, states_dir, tmp_path, monkeypatch):
    copy = tmp_path / "states"
    shutil.copytree(states_dir, copy)
    path = copy / "forum_matter.toml"
    path.write_text(path.read_text().replace('"chair@TSS"', '"chair@TSSX"', 1))
    monkeypatch.setattr(seed, "registry", ProcessRegistry(copy))
    with pytest.raises(
        DefinitionError, match=r"forum_matter.toml: transitions\[\d+\].allowed.*TSSX"
    ):
        seed.check_body_codes(session)


def test_a_plain_seed_keeps_an_admins_correction_and_update_applies_the_file(session):
    hilleroed = session.scalar(select(Party).where(Party.name == "Hillerød Kommune"))
    midt = session.scalar(select(PlanningArea).where(PlanningArea.code == "MIDT"))
    hilleroed.planning_area_id = midt.id  # corrected in the admin pages
    session.commit()

    report = seed.run(session)
    assert hilleroed.planning_area.code == "MIDT"
    assert "bevaret" in report.summary() and "--update" in report.summary()

    report = seed.run(session, update=True)
    session.refresh(hilleroed)
    assert hilleroed.planning_area.code == "NORD"
    assert report.updated == {"kommuner": 1}


def test_copenhagen_is_koebenhavns_kommune_and_update_fixes_an_old_database(session):
    koebenhavn = session.scalar(select(Party).where(Party.code == "KOM-KOEBENHAVN"))
    assert koebenhavn.name == "Københavns Kommune"
    koebenhavn.name = "København Kommune"  # as databases seeded before the correction say
    session.commit()

    seed.run(session, update=True)
    session.refresh(koebenhavn)
    assert koebenhavn.name == "Københavns Kommune"
    assert session.scalar(select(Party).where(Party.name == "København Kommune")) is None


def test_a_definition_naming_a_kind_the_organisation_lacks_is_refused(
    session, states_dir, tmp_path, monkeypatch
):
    copy = tmp_path / "states"
    shutil.copytree(states_dir, copy)
    path = copy / "forum_matter.toml"
    text = path.read_text(encoding="utf-8")
    assert 'TSS = "steering"' in text
    path.write_text(text.replace('TSS = "steering"', 'TSS = "working_group"'), encoding="utf-8")
    monkeypatch.setattr(seed, "registry", ProcessRegistry(copy))
    # The seeded organisation has a body of every kind since its working group (AG-IV) came in:
    # an organisation without a working group is one whose working groups are themed groups.
    for body in session.scalars(select(Body).where(Body.kind == BodyKind.WORKING_GROUP)):
        body.kind = BodyKind.THEME_GROUP
    session.flush()
    with pytest.raises(
        DefinitionError, match=r"forum_matter.toml: body_kinds.TSS: .*'working_group'"
    ):
        seed.check_body_codes(session)
