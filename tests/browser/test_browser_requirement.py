"""The browser tests skip with a visible reason where Chromium or Playwright is missing, but
fail where $AFTALEFLOW_REQUIRE_BROWSER=1 (CI), so a missing browser cannot pass unnoticed."""

from __future__ import annotations

from pathlib import Path

import browser_support
import pytest
from browser_support import browser_decision


def test_they_run_when_chromium_and_playwright_are_there() -> None:
    assert browser_decision("1", True, True) == ("run", None)
    assert browser_decision(None, True, True) == ("run", None)


@pytest.mark.parametrize("required", [None, "", "0"])
def test_without_the_requirement_a_missing_browser_skips_and_says_why(required) -> None:
    decision, reason = browser_decision(required, False, True)
    assert decision == "skip"
    assert reason == (
        "Browsertests springes over: /usr/bin/chromium findes ikke (apt install chromium)"
    )
    decision, reason = browser_decision(required, True, False)
    assert decision == "skip" and reason is not None and "playwright" in reason


@pytest.mark.parametrize("required", ["1", "true", " 1 "])
def test_with_the_requirement_a_missing_browser_fails(required) -> None:
    decision, reason = browser_decision(required, False, True)
    assert decision == "fail"
    assert reason is not None
    assert "AFTALEFLOW_REQUIRE_BROWSER=1" in reason and "/usr/bin/chromium" in reason
    assert browser_decision(required, True, False)[0] == "fail"


def test_a_required_missing_browser_fails_the_test_that_opens_it(monkeypatch) -> None:
    monkeypatch.setattr(browser_support, "DECISION", "fail")
    monkeypatch.setattr(browser_support, "REASON", "Browsertestene er påkrævet")
    with pytest.raises(pytest.fail.Exception, match="påkrævet"), browser_support.chromium():
        pass  # pragma: no cover - never reached


def test_ci_requires_the_browser_and_stops_when_chromium_cannot_be_installed() -> None:
    script = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "export AFTALEFLOW_REQUIRE_BROWSER=1" in script
    install = script.split("apt-get install", 1)[1].split("\nfi\n", 1)[0]
    assert "exit 1" in install and "warning" not in install
