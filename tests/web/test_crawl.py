"""Every link a page shows leads somewhere: log in as each demo role, follow every same-origin
link reachable from the dashboard (breadth first, bounded) and expect no 4xx or 5xx. Every
page reached must also fit a phone (390 px, no sideways scrolling) and pass axe-core in
Chromium (tests/support/phone.py; skipped where the browser tests skip), and be valid HTML to
the W3C Nu checker (tests/support/html_checker.py: one run of vnu.jar per role; skipped without
Java or the jar, failed in CI). The pages are fetched once for all three checks, which take
the first page of each markup shape (`markup_sample`: a kind of address and the set of its
elements and classes; about half a role's pages repeat an earlier one's markup with other
text).

A link the user may not follow must not be shown (docs/access.md): the pages ask the access
policy before they render a link, so a refusal here is a link shown by mistake. Downloads are
followed too and checked as what they are (tests/support/crawl.py): every role that is shown
the case record's button fetches a record or two and gets a ZIP that verifies.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.crawl import (
    DEMO_PASSWORD,
    DOWNLOADS_PER_ROLE,
    ROLES,
    case_record_problem,
    crawl,
    markup_sample,
)
from support.demo_data import DemoDatabase, demo_session
from support.html_checker import check_pages, checker_or_none, report
from support.phone import describe, phone_browser, phone_problems
from support.web import build_app

from models import User
from workflow import demo
from workflow.engine import clock

RECORD_BUTTON = "/sagsakt.zip"
# The demo roles that see no case, so are never shown a case record's button.
NO_CASES = {"ingen"}


@pytest.fixture(scope="module")
def demo_app(demo_database: DemoDatabase) -> Iterator[Flask]:
    """The demo organisation and cases, served at the demo's date, rolled back afterwards."""
    with demo_session(demo_database) as session:
        yield from _served(session, demo_database.url)


def _served(session: Session, database_url: str) -> Iterator[Flask]:
    admin = session.scalar(select(User).where(User.email == "admin@demo.aftaleflow.dk"))
    assert admin is not None
    session.add(
        User(email="ingen@demo.aftaleflow.dk", name="Uden Medlemskab",
             password_hash=admin.password_hash)
    )  # fmt: skip
    session.flush()
    clock.set_time(demo.load_script().today)
    try:
        # A page that fails must show up as its 500, not stop the crawl.
        yield build_app(session, database_url, PROPAGATE_EXCEPTIONS=False)
    finally:
        clock.set_time(None)


# The pages' markup does not depend on the database: the phone, axe and Nu checks run in the
# SQLite run of the suite, and the PostgreSQL run follows the links (CI runs both).
MARKUP_CHECKED = not os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the phone checks of all roles (None where browser tests skip)."""
    if not MARKUP_CHECKED:
        yield None
        return
    with phone_browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def html_checker() -> str | None:
    """Java for the Nu checker (None where it cannot run here and is not required)."""
    return checker_or_none() if MARKUP_CHECKED else None


@pytest.mark.parametrize("login", ROLES)
def test_every_link_a_role_is_shown_can_be_followed(
    demo_app: Flask, browser: Any, html_checker: str | None, login: str, tmp_path: Path
) -> None:
    client = demo_app.test_client()
    response = client.post(
        "/login", data={"email": f"{login}@demo.aftaleflow.dk", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 303, f"{login} could not log in"
    pages: dict[str, str] = {}
    downloads: list[str] = []
    refused, visited = crawl(client, pages=pages, downloads=downloads)
    assert visited > (5 if login == "ingen" else 20), "the crawl reached almost nothing"
    assert refused == {}, "\n".join(
        f"{status} {url}  (linked from {source})" for url, (status, source) in refused.items()
    )
    shown_the_record = any(RECORD_BUTTON in html for html in pages.values())
    assert shown_the_record == (login not in NO_CASES), f"shown the record: {shown_the_record}"
    assert bool(downloads) == shown_the_record
    assert all(url.endswith("/sagsakt.zip") for url in downloads)
    assert not set(downloads) & set(pages), "a download was checked as a page"
    checked = markup_sample(pages)
    if browser is not None:
        problems = phone_problems(browser, demo_app, checked)
        assert problems == {}, describe(problems)
    if html_checker is not None:
        errors, where = check_pages(html_checker, checked, tmp_path, login)
        assert errors == [], report(errors, where)


def test_the_crawler_reports_a_broken_link() -> None:
    """The crawl itself must be able to fail: every broken link is reported with its source."""
    app = Flask(__name__)
    pages = {
        "": '<a href="/a">a</a> <a href="/b#x">b</a> <a href="https://example.org/">away</a>',
        "a": '<a href="/findes-ikke">broken</a> <a href="b">b again</a>',
        "b": '<a href="/">home</a> <a href="/forbudt">forbidden</a>',
        "forbudt": "",
    }
    for name, body in pages.items():
        app.add_url_rule(f"/{name}", name or "home", lambda body=body: body)
    app.before_request(lambda: ("nej", 403) if request.path == "/forbudt" else None)
    refused, visited = crawl(app.test_client(), "/")
    assert visited == 5
    assert refused == {"/findes-ikke": (404, "/a"), "/forbudt": (403, "/b")}


def test_the_crawler_checks_downloads_as_downloads() -> None:
    """A download is fetched once a page links it, outside the page budget and never as a page:
    one that is refused or serves no valid record is reported; only the first few are fetched."""
    app = Flask(__name__)
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("manifest.json", "{}")
    links = "".join(f'<a href="/sager/{n}/sagsakt.zip">ZIP</a>' for n in (1, 2, 3))
    app.add_url_rule("/", "home", lambda: f'<a href="/side">side</a> {links}')
    app.add_url_rule("/side", "page", lambda: "<p>side</p>")
    app.add_url_rule(
        "/sager/<int:n>/sagsakt.zip", "zip",
        lambda n: (b"ikke en zip", 200, {"Content-Type": "application/zip"}) if n == 1
        else ("<p>HTML</p>", 200) if n == 2 else ("", 404),
    )  # fmt: skip
    pages: dict[str, str] = {}
    downloads: list[str] = []
    refused, visited = crawl(app.test_client(), "/", pages=pages, downloads=downloads)
    assert visited == 2 and set(pages) == {"/", "/side"}
    assert DOWNLOADS_PER_ROLE == 2
    assert downloads == ["/sager/1/sagsakt.zip", "/sager/2/sagsakt.zip"]
    assert refused == {
        "/sager/1/sagsakt.zip": (
            200,
            "/; Filen er ikke et læsbart ZIP-arkiv (File is not a zip file)",
        ),
        "/sager/2/sagsakt.zip": (200, "/; served as text/html, not a ZIP"),
    }
    assert case_record_problem(_zip_response(good.getvalue())) is not None  # no events.json


def _zip_response(data: bytes) -> Any:
    app = Flask(__name__)
    app.add_url_rule("/z", "z", lambda: (data, 200, {"Content-Type": "application/zip"}))
    return app.test_client().get("/z")


def test_the_phone_check_reports_a_wide_page_and_each_axe_violation(
    demo_app: Flask, browser: Any
) -> None:
    """The phone check itself must be able to fail: a page wider than the phone and an image
    without a text alternative outside the landmarks are reported with path, rule and target."""
    if browser is None:
        pytest.skip("the markup checks run in the SQLite run, where Chromium runs")
    head = '<!doctype html><html lang="da"><head><meta charset="utf-8"><title>t</title></head>'
    pages = {
        "/bred?side=2": f'{head}<body><main><h1>Bred</h1><div style="width:900px">x</div>'
        "</main></body></html>",
        "/uden-alt": f'{head}<body><main><h1>Billede</h1></main><img src="/static/x.png" id="b">'
        "</body></html>",
        "/i-orden": f"{head}<body><main><h1>I orden</h1><p>Tekst.</p></main></body></html>",
    }
    problems = phone_problems(browser, demo_app, pages)
    assert set(problems) == {"/bred?side=2", "/uden-alt"}
    assert problems["/bred?side=2"]["width"] > 390
    rules = {violation["id"] for violation in problems["/uden-alt"]["axe"]}
    assert {"image-alt", "region"} <= rules
    message = describe(problems)
    assert "/uden-alt: axe image-alt at [['#b']]" in message
    assert "/bred?side=2: " in message


def test_the_markup_checks_take_each_shape_of_page_once() -> None:
    """Pages differing only in their text or numbers are checked once; a page with other
    elements or classes, or at another kind of address, is checked too."""
    case = '<main><h1>{}</h1><form class="{}"><button>Send</button></form></main>'
    pages = {
        "/sager/1": case.format("Sag 1", "transition"),
        "/sager/2": case.format("En anden sag", "transition"),
        "/sager/3": case.format("Sag 3", "transition transition--danger"),
        "/sager/4/rediger": case.format("Sag 4", "transition"),
        "/sager?side=2": "<main><table></table></main>",
        "/sager?side=3": "<main><table></table></main>",
        "/sager?side=2&organ=TSS": "<main><table></table></main>",
    }
    assert list(markup_sample(pages)) == [
        "/sager/1", "/sager/3", "/sager/4/rediger", "/sager?side=2", "/sager?side=2&organ=TSS",
    ]  # fmt: skip
