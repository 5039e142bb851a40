"""The W3C Nu HTML checker (npm `vnu-jar`, installed by `make html-checker` from the lockfile in
tests/web/vnu) on Debian's Java: many pages checked in one JVM start.

Without Java or the jar the validity tests skip, saying why; under AFTALEFLOW_REQUIRE_BROWSER=1
(CI) they fail instead, like the browser and single sign-on tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

VNU_PACKAGE = Path(__file__).resolve().parents[1] / "web" / "vnu"
VNU_JAR = VNU_PACKAGE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
REQUIRE_ENV = "AFTALEFLOW_REQUIRE_BROWSER"


def checker_decision(
    required: str | None, java: str | None, jar_exists: bool
) -> tuple[str, str | None]:
    """Whether the validity tests "run", "skip" or "fail" here, and why not when they don't."""
    if java is None:
        missing = "java findes ikke (apt install default-jre-headless)"
    elif not jar_exists:
        missing = f"{VNU_JAR} findes ikke (make html-checker)"
    else:
        return "run", None
    if (required or "").strip().lower() in ("1", "true", "yes"):
        return "fail", f"HTML-tjekket er påkrævet ({REQUIRE_ENV}=1), men {missing}"
    return "skip", f"HTML-tjekket springes over: {missing}"


def require_checker(required: str | None) -> str:
    """The java executable; skip or fail the test, saying why, when it cannot run here."""
    java = shutil.which("java")
    decision, reason = checker_decision(required, java, VNU_JAR.is_file())
    if decision == "fail":
        pytest.fail(reason or "", pytrace=False)
    if decision == "skip":
        pytest.skip(reason or "")
    assert java is not None
    return java


def checker_or_none() -> str | None:
    """The java executable, or None where the check cannot run here and is not required (it
    fails the test, saying why, where it is required: CI)."""
    java = shutil.which("java")
    decision, reason = checker_decision(os.environ.get(REQUIRE_ENV), java, VNU_JAR.is_file())
    if decision == "fail":
        pytest.fail(reason or "", pytrace=False)
    return java if decision == "run" else None


@dataclass(frozen=True)
class Error:
    """One error the checker reports: the page (its file name), line and message."""

    page: str
    line: int
    message: str
    extract: str


def check_folder(java: str, folder: Path) -> list[Error]:
    """Every error the Nu checker finds in the .html files under `folder` (one JVM start)."""
    result = subprocess.run(
        [java, "-Xss4m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # The JSON report goes to stderr; a JVM that fails says so there too.
    try:
        messages = json.loads(result.stderr)["messages"]
    except (ValueError, KeyError) as error:
        raise AssertionError(f"vnu.jar gave no report: {result.stderr[:2000]}") from error
    return [
        Error(
            page=Path(m.get("url", "")).name,
            line=int(m.get("lastLine", 0)),
            message=m.get("message", ""),
            extract=" ".join((m.get("extract") or "").split())[:160],
        )
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]


def file_name(url: str) -> str:
    """A file name that says which page it holds: "/sager/3?fane=x" -> "sager_3_fane_x.html"."""
    stem = re.sub(r"[^A-Za-z0-9æøåÆØÅ]+", "_", url).strip("_") or "forside"
    return stem[:150] + ".html"


def check_pages(
    java: str, pages: dict[str, str], folder: Path, prefix: str = ""
) -> tuple[list[Error], dict[str, str]]:
    """Check the crawled `pages` (URL: HTML) in one run: the errors, and which page each file
    name stands for."""
    where: dict[str, str] = {}
    for url, html in pages.items():
        name = file_name(f"{prefix}_{url}")
        if name in where:  # two URLs that differ only in punctuation
            name = f"{len(where)}_{name}"
        (folder / name).write_text(html, encoding="utf-8")
        where[name] = f"{prefix} {url}".strip()
    return check_folder(java, folder), where


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
