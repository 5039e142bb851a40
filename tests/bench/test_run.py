"""A small-N run of `make bench` (bench/run.py), so the benchmark never rots: every
measurement runs and the result and the table are written. Timings are printed, never
asserted (speed is what `make bench` reports, not what a test decides)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.sqlite_only


def test_make_bench_runs_end_to_end_on_a_small_database(tmp_path):
    env = {
        **os.environ,
        "BENCH_CASES": "120",
        "BENCH_SECONDS": "1",
        "BENCH_CONNECTIONS": "2,4",
        "BENCH_SWEEP_ROWS": "3000",
        "BENCH_SWEEP_DUE": "100",
        "BENCH_TRANSACTIONS": "10",
        "BENCH_DATA_DIR": str(tmp_path / "data"),
        "BENCH_RESULTS_DIR": str(tmp_path / "results"),
        "BENCH_DOC": str(tmp_path / "performance.md"),
        "BENCH_DATABASES": "sqlite",
        "BENCH_SEARCH_ROUNDS": "3",
        "BENCH_COLD_STARTS": "2",
    }
    env.pop("TEST_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "bench.run"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    print(run.stdout)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    [written] = (tmp_path / "results").glob("*-sqlite.json")
    result = json.loads(written.read_text())
    pages = {page["page"] for page in result["pages"]}
    assert pages == {
        "dashboard (chair)", "dashboard (secretariat)", "case list page 1",
        "case list filtered", "case detail", "meeting page", "API case list",
    }  # fmt: skip
    for page in result["pages"]:
        # Every page answered, as the logged-in user it was asked as (how many requests a
        # run finishes depends on the machine, so that is printed, not asserted).
        assert page["status"] == 200, page
        for load in ("c2", "c4"):
            assert page[load]["product"]["errors"] == 0, page
    assert result["mixed"]["errors"] == 0
    assert result["sweep"]["reminders"] >= 100
    assert result["perform"]["perform_tx_s"] > 0 and result["perform"]["raw_tx_s"] > 0
    assert result["rss_mb"] and result["cold_start_s"] > 0
    assert len(result["cold_starts_s"]) == len(result["baseline_cold_starts_s"]) == 2
    table = (tmp_path / "performance.md").read_text()
    assert "| measurement | figure | baseline | ratio | budget | result |" in table
    assert "perform() tx/s" in table
    assert result["whatif"]["months"] == 6 and result["whatif"]["cases"] >= 1
    assert "what-if replay:" in table
    # The full-text search: every query as both users, found in the index the run built.
    search = result["search"]
    # (the mixed load's transitions have added their comments since the index was built)
    assert search["documents"] >= result["generated"]["search_documents"] > 120
    asked = {(row["label"], row["as"]) for row in search["queries"]}
    assert asked == {
        (label, who)
        for label in ("two words", "two words, common", "phrase", "prefix")
        for who in ("secretariat", "member")
    }
    assert all(row["hits"] > 0 for row in search["queries"] if row["label"] != "two words")
    assert search["plan"]["member"] and search["load_average"]["before"]
    assert "| query | as | hits | median | p95 | CPU per search |" in table
    assert "search two words `genoptræning pilotprojekt` as member: p95" in table
