"""The W3C Nu HTML checker (npm `vnu-jar`, installed by `make html-checker` from the lockfile in
tests/web/vnu) on Debian's Java: many pages checked in one JVM start.

Without Java or the jar the validity tests skip, saying why; under AFTALEFLOW_REQUIRE_BROWSER=1
(CI) they fail instead, like the browser and single sign-on tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
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
