"""The OpenID provider tests skip with a visible reason where Node is missing, but fail where
$AFTALEFLOW_REQUIRE_BROWSER=1 (CI), and CI installs what they need."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.idps import node_decision

ROOT = Path(__file__).resolve().parents[2]


def test_they_run_where_node_is() -> None:
    assert node_decision("1", "/usr/bin/node") == ("run", None)
    assert node_decision(None, "/usr/bin/node") == ("run", None)


@pytest.mark.parametrize("required", [None, "", "0"])
def test_without_the_requirement_a_missing_node_skips_and_says_why(required) -> None:
    decision, reason = node_decision(required, None)
    assert decision == "skip" and reason is not None and "node findes ikke" in reason


@pytest.mark.parametrize("required", ["1", "true"])
def test_with_the_requirement_a_missing_node_fails(required) -> None:
    decision, reason = node_decision(required, None)
    assert decision == "fail"
    assert reason is not None and "AFTALEFLOW_REQUIRE_BROWSER=1" in reason


def test_ci_installs_xmlsec1_node_and_npm_and_the_provider_package() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    for package in ("xmlsec1:xmlsec1", "node:nodejs", "npm:npm"):
        assert package in script
    assert "exit 1" in script.split("for tool in", 1)[1].split("\ndone\n", 1)[0]
    makefile = (ROOT / "Makefile").read_text()
    assert "pytest: install sso-idp" in makefile and "npm ci" in makefile
    assert (ROOT / "tests" / "sso" / "oidc-provider" / "package-lock.json").is_file()
