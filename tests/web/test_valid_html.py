"""The W3C Nu checker as the crawl test uses it (tests/web/test_crawl.py checks every page of
every demo role with it): it can fail, it says where, and it runs where it must."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.html_checker import (
    REQUIRE_ENV,
    check_folder,
    check_pages,
    checker_decision,
    file_name,
    report,
)
from support.html_checker import require_checker as _require

pytestmark = pytest.mark.database_independent("runs the Nu checker on written pages; no database")


def require_checker() -> str:
    return _require(os.environ.get(REQUIRE_ENV))


def test_the_checker_reports_an_invalid_page(tmp_path: Path) -> None:
    """The check itself must be able to fail: a duplicate id and a select without a
    placeholder are reported with their page and line."""
    java = require_checker()
    (tmp_path / "side.html").write_text(
        '<!doctype html>\n<html lang="da"><head><title>t</title></head><body>\n'
        '<p id="a">x</p><p id="a">y</p>\n'
        '<label>Sprog <select name="s" required><option value="da">Dansk</option></select>'
        "</label>\n</body></html>\n",
        encoding="utf-8",
    )
    errors = check_folder(java, tmp_path)
    assert {(e.page, e.line) for e in errors} == {("side.html", 3), ("side.html", 4)}
    assert any("Duplicate ID" in e.message for e in errors)
    assert "side.html line 3" in report(errors, {})


def test_without_java_or_the_jar_it_skips_and_says_why_but_fails_in_ci() -> None:
    assert checker_decision("1", "/usr/bin/java", True) == ("run", None)
    decision, reason = checker_decision(None, None, True)
    assert decision == "skip" and reason is not None and "default-jre-headless" in reason
    decision, reason = checker_decision("", "/usr/bin/java", False)
    assert decision == "skip" and reason is not None and "make html-checker" in reason
    decision, reason = checker_decision("1", None, True)
    assert decision == "fail" and reason is not None and f"{REQUIRE_ENV}=1" in reason


def test_ci_installs_java_and_make_installs_the_checker() -> None:
    root = Path(__file__).resolve().parents[2]
    script = (root / ".ci" / "run").read_text()
    assert "default-jre-headless" in script
    makefile = (root / "Makefile").read_text()
    assert "pytest: install sso-idp html-checker" in makefile
    assert (root / "tests" / "web" / "vnu" / "package-lock.json").is_file()


def test_page_file_names_say_which_page() -> None:
    assert file_name("admin_/sager/3?fane=noter") == "admin_sager_3_fane_noter.html"
    assert file_name("/") == "forside.html"


def test_crawled_pages_are_checked_under_names_that_say_where(tmp_path: Path) -> None:
    java = require_checker()
    pages = {"/": "<!doctype html><html lang=da><title>t</title><p id=a><p id=a>", "/?a=1": ""}
    errors, where = check_pages(java, pages, tmp_path, "admin")
    assert where == {"admin.html": "admin /", "admin_a_1.html": "admin /?a=1"}
    assert [e.page for e in errors if "Duplicate ID" in e.message] == ["admin.html"]
