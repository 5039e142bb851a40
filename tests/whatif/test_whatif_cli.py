"""`aftaleflow whatif` against a fresh SQLite file with generated cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from workflow.cli import main
from workflow.engine import clock

pytestmark = pytest.mark.sqlite_only

STATES = Path(__file__).resolve().parents[2] / "states"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    # The generated cases lie in the last five years of the real clock: neither frozen nor
    # shifted to a demo's date by a test run before this one in the same process.
    clock.reset()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, ["--database-url", url, *args])

    assert invoke("init-db").exit_code == 0
    generated = invoke("bench-data", "--cases", "60")
    assert generated.exit_code == 0, generated.output
    return invoke


def test_whatif_prints_the_comparison(cli) -> None:  # type: ignore[no-untyped-def]
    # The generator spreads its cases over the five years before the real clock, so a case near
    # the edge may fall outside the 60 months; and a case it dated inconsistently (a decision at a
    # meeting held before the case reached the body) is left out of both sides.
    result = cli("whatif", "--months", "60", "--material", "TSS=4")
    assert result.exit_code == 0, result.output
    replayed = re.match(r"(\d+) sager oprettet", result.output.splitlines()[0])
    assert replayed is not None and 0 < int(replayed.group(1)) <= 60
    for heading in ("Tid i tilstand (dage)", "Tid hos organ", "Sager pr. møde",
                    "Overskredne frister", "Flyttede behandlinger"):  # fmt: skip
        assert heading in result.output


def test_whatif_refuses_what_it_cannot_use(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    unknown = cli("whatif", "--material", "TSX=4")
    assert unknown.exit_code == 2
    assert "Intet organ med koden 'TSX'. Mente du 'TSS'?" in unknown.output
    days = cli("whatif", "--material", "TSS=fire")
    assert days.exit_code == 2 and "materialefristen som et antal dage" in days.output
    draft = tmp_path / "kladde.toml"
    source = (STATES / "signature_initiative.toml").read_text(encoding="utf-8")
    draft.write_text(source.replace('initial = "draft"', 'initial = "kladde"'), encoding="utf-8")
    refused = cli("whatif", "--draft", str(draft))
    assert refused.exit_code == 2
    assert "kladde: initial:" in refused.output
    version = cli("whatif", "--version", "signature_initiative:9")
    assert version.exit_code == 2 and "version 9" in version.output
    no_draft = cli("whatif", "--version", "signature_initiative:kladde")
    assert no_draft.exit_code == 2
    assert "ingen kladde af processen 'signature_initiative' i procesdesigneren" in no_draft.output
