"""Every link a page shows leads somewhere: log in as each demo role, follow every same-origin
link reachable from the dashboard (breadth first, bounded) and expect no 4xx or 5xx.

A link the user may not follow must not be shown (docs/access.md): the pages ask the access
policy before they render a link, so a refusal here is a link shown by mistake.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support.web import build_app

from models import User
from workflow import demo
from workflow.engine import clock

PAGES_PER_ROLE = 250
DEMO_PASSWORD = "aftaleflow-demo"
# One user of each kind the demo has: chairs and vice-chairs of the political and the steering
# level, secretariats, members of an SU and a forum, an observer and the administrator.
ROLES = [
    "admin",
    "formand.sku",
    "naestformand.sku",
    "formand.tss",
    "sekretariat.tss",
    "medlem.tss",
    "formand.su-nord-som",
    "sekretariat.su-nord-som",
    "medlem.su-nord-som",
    "sekretariat.forum-data",
    "medlem.forum-genop",
    "observatoer.kkr",
    "hoering.albertslund",  # a municipality's consultation respondent: a party, no membership
    "ingen",  # an account an administrator has not yet given a membership
]
# Links that end the session or leave the pages (they are tested where they belong).
NOT_FOLLOWED = ("/logout", "/static/")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_of(page_url: str, html: str) -> list[str]:
    """The same-origin paths (with query) that a page links to."""
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        absolute, _fragment = urldefrag(urljoin("http://localhost" + page_url, href))
        parts = urlsplit(absolute)
        if parts.scheme in ("http", "https") and parts.netloc == "localhost":
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(
    client: FlaskClient, start: str = "/", pages: dict[str, str] | None = None
) -> tuple[dict[str, tuple[int, str]], int]:
    """Visit pages breadth first from `start`; return the refused ones, with where they were
    linked from, and how many pages were visited. `pages`, when given, receives each HTML
    page's text by its URL."""
    queue: deque[tuple[str, str]] = deque([(start, "(start)")])
    seen = {start}
    refused: dict[str, tuple[int, str]] = {}
    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        url, linked_from = queue.popleft()
        visited += 1
        response = client.get(url)
        if response.status_code >= 400:
            refused[url] = (response.status_code, linked_from)
            continue
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin("http://localhost" + url, response.location))
            location = target.path + (f"?{target.query}" if target.query else "")
            if target.netloc in ("", "localhost") and location not in seen:
                seen.add(location)
                queue.append((location, url))
            continue
        if not response.mimetype.startswith("text/html"):
            continue
        html = response.get_data(as_text=True)
        if pages is not None:
            pages[url] = html
        for link in links_of(url, html):
            if link not in seen and not link.startswith(NOT_FOLLOWED):
                seen.add(link)
                queue.append((link, url))
    return refused, visited


@pytest.fixture(scope="module")
def demo_app(db_engine: Engine, database_url: str) -> Iterator[Flask]:
    """The demo organisation and cases, served at the demo's date, rolled back afterwards."""
    connection = db_engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    demo.run(session, progress=lambda _line: None)
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
        session.close()
        transaction.rollback()
        connection.close()


@pytest.mark.parametrize("login", ROLES)
def test_every_link_a_role_is_shown_can_be_followed(demo_app: Flask, login: str) -> None:
    client = demo_app.test_client()
    response = client.post(
        "/login", data={"email": f"{login}@demo.aftaleflow.dk", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 303, f"{login} could not log in"
    refused, visited = crawl(client)
    assert visited > (5 if login == "ingen" else 20), "the crawl reached almost nothing"
    assert refused == {}, "\n".join(
        f"{status} {url}  (linked from {source})" for url, (status, source) in refused.items()
    )


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
