"""The baseline a page is compared with is the mean of a run before and a run after it."""

from __future__ import annotations

from bench.run import bracketed


def _run(rps: float, p95: float, errors: int = 0) -> dict[str, float]:
    return {"requests": rps * 8, "rps": rps, "p50_ms": p95 / 2, "p95_ms": p95,
            "p99_ms": p95 * 2, "errors": errors}  # fmt: skip


def test_a_baseline_that_drifts_during_a_page_is_compared_at_its_mean():
    before, after = _run(300.0, 20.0), _run(500.0, 10.0)

    base = bracketed(before, after)

    assert base["rps"] == 400.0
    assert base["p95_ms"] == 15.0
    assert base["p99_ms"] == 30.0
    assert base["runs"] == [before, after]


def test_errors_of_either_baseline_run_are_kept():
    assert bracketed(_run(300.0, 20.0, errors=1), _run(300.0, 20.0, errors=2))["errors"] == 3
