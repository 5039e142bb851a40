"""Publishing through the engine: validated by the loader, a new version, and a restart's sync
of states/ never undoing it (while a file changed since is still stored)."""

from __future__ import annotations

import shutil

import pytest

from workflow.engine.definitions import DefinitionError
from workflow.engine.processes import ProcessRegistry, VersionMoved, registry

OLD_LABEL = 'label = "Rejst i TSS"'


@pytest.fixture
def files(tmp_path, states_dir):
    for path in states_dir.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_a_published_version_survives_the_sync_of_the_unchanged_files(
    session, files, make_user, published, publish
):
    admin = make_user(is_admin=True)
    row = publish(published.source.replace(OLD_LABEL, 'label = "Hos TSS"'), admin)
    assert ProcessRegistry(directory=files).sync(session) == []
    assert registry.latest(session, "forum_matter").version == row.version
    # A file edited after the publish is new text: it is stored as the next version.
    path = files / "forum_matter.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(OLD_LABEL, 'label = "I TSS"'), encoding="utf-8"
    )
    created = ProcessRegistry(directory=files).sync(session)
    assert [(r.name, r.version) for r in created] == [("forum_matter", row.version + 1)]


def test_publish_validates_with_the_loader_and_checks_the_version(make_user, published, publish):
    admin = make_user(is_admin=True)
    with pytest.raises(DefinitionError, match=r"transitions\[4\]\.dest: ukendt tilstand"):
        publish(published.source.replace('dest = "at_tss"', 'dest = "x"'), admin)
    with pytest.raises(DefinitionError, match="name: skal være 'forum_matter'"):
        publish(published.source.replace('name = "forum_matter"', 'name = "andet"'), admin)
    with pytest.raises(VersionMoved):
        publish(
            published.source.replace(OLD_LABEL, 'label = "Hos TSS"'), admin,
            based_on=published.version - 1,
        )  # fmt: skip


def test_only_one_process_may_hold_a_case_per_plan_year(make_user, published, publish):
    admin = make_user(is_admin=True)
    with pytest.raises(DefinitionError) as raised:
        publish(
            published.source.replace(
                "escalation_days = 14", "escalation_days = 14\nplan_year = true"
            ),
            admin,
        )
    assert str(raised.value) == (
        "forum_matter (kladde): plan_year: kun én proces kan have en sag pr. planår "
        "(også implementation_plan)"
    )
