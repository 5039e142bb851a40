"""Every page is valid HTML: the W3C Nu checker finds no error on any page the crawl reaches,
for every demo role (the pages are written to a folder and checked in one run of vnu.jar)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from flask import Flask
from support.html_checker import REQUIRE_ENV, Error, check_folder, checker_decision, file_name
from support.html_checker import require_checker as _require
from test_crawl import DEMO_PASSWORD, ROLES, crawl, demo_app

__all__ = ["demo_app"]  # the demo database, one per module


def require_checker() -> str:
    return _require(os.environ.get(REQUIRE_ENV))


def report(errors: list[Error], where: dict[str, str]) -> str:
    """The errors grouped by message, each with the pages and lines it was found on."""
    by_message: dict[str, list[Error]] = defaultdict(list)
    for error in errors:
        by_message[error.message].append(error)
    lines = [f"{len(errors)} HTML errors on {len({e.page for e in errors})} pages:"]
    for message, found in sorted(by_message.items(), key=lambda item: -len(item[1])):
        lines.append(f"- {message}  ({len(found)}×)")
        lines.append(f"    {found[0].extract}")
        lines += [f"    {where.get(e.page, e.page)} line {e.line}" for e in found[:5]]
    return "\n".join(lines)


def test_every_page_of_every_role_is_valid_html(demo_app: Flask, tmp_path: Path) -> None:
    java = require_checker()
    where: dict[str, str] = {}
    for login in ROLES:
        client = demo_app.test_client()
        response = client.post(
            "/login", data={"email": f"{login}@demo.aftaleflow.dk", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 303, f"{login} could not log in"
        pages: dict[str, str] = {}
        crawl(client, pages=pages)
        for url, html in pages.items():
            name = file_name(f"{login}_{url}")
            if name in where:  # two URLs that differ only in punctuation
                name = f"{len(where)}_{name}"
            (tmp_path / name).write_text(html, encoding="utf-8")
            where[name] = f"{login} {url}"
    assert len(where) > 200, "the crawl reached almost nothing"
    errors = check_folder(java, tmp_path)
    assert errors == [], report(errors, where)


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
