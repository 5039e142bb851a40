"""Key files: a random key, readable by its owner only, made once; a second maker keeps the
first key, and no temporary file is left behind."""

from __future__ import annotations

import stat

from workflow.engine.keyfiles import create_key_file


def test_a_key_file_is_made_with_its_folder_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "var" / "some.key"
    create_key_file(path)
    key = path.read_text("utf-8").strip()
    assert len(key) == 64 and int(key, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["some.key"]


def test_the_first_key_wins(tmp_path):
    path = tmp_path / "some.key"
    create_key_file(path)
    first = path.read_text("utf-8")
    create_key_file(path)
    assert path.read_text("utf-8") == first
    assert [p.name for p in tmp_path.iterdir()] == ["some.key"]
