"""The crawl of every page a user is shown links to, shared by the link test
(tests/web/test_crawl.py) and the phone-width test (tests/browser/test_phone_width.py)."""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from workflow.cases import record_verify

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


def case_record_problem(response: TestResponse) -> str | None:
    """What is wrong with a downloaded case record (None: a ZIP that verifies)."""
    if response.mimetype != "application/zip":
        return f"served as {response.mimetype}, not a ZIP"
    problems = record_verify.verify(io.BytesIO(response.get_data())).problems
    return "; ".join(problems) or None


# Downloads, by how their paths end, and the check of what they serve (never the pages' HTML
# checks). Each case record renders a PDF/A, so a role fetches the first few it is shown,
# outside the page budget: enough to show that the button works for every role that sees it.
DOWNLOADS: dict[str, Callable[[TestResponse], str | None]] = {
    "/sagsakt.zip": case_record_problem,
}
DOWNLOAD_SUFFIXES = tuple(DOWNLOADS)
DOWNLOADS_PER_ROLE = 2


def download_check(url: str) -> Callable[[TestResponse], str | None] | None:
    """The check of the download `url` leads to (None: a page)."""
    path = urlsplit(url).path
    return next((check for suffix, check in DOWNLOADS.items() if path.endswith(suffix)), None)


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


def _fetch_download(
    client: FlaskClient, url: str, linked_from: str, refused: dict[str, tuple[int, str]]
) -> None:
    check = download_check(url)
    assert check is not None
    response = client.get(url)
    if response.status_code != 200:
        refused[url] = (response.status_code, linked_from)
        return
    problem = check(response)
    if problem:
        refused[url] = (response.status_code, f"{linked_from}; {problem}")


def crawl(
    client: FlaskClient,
    start: str = "/",
    pages: dict[str, str] | None = None,
    downloads: list[str] | None = None,
) -> tuple[dict[str, tuple[int, str]], int]:
    """Visit pages breadth first from `start`; return the refused ones, with where they were
    linked from, and how many pages were visited. The HTML pages shown are kept in `pages`
    (path: HTML), for the phone-width check (tests/support/phone.py). The first
    DOWNLOADS_PER_ROLE downloads (DOWNLOADS) are fetched as soon as a page links them, apart
    from the page budget, and checked as what they are, never as HTML: one refused or broken
    is refused (what is wrong follows where it was linked from); the ones fetched are added to
    `downloads`."""
    queue: deque[tuple[str, str]] = deque([(start, "(start)")])
    seen = {start}
    refused: dict[str, tuple[int, str]] = {}
    fetched: list[str] = [] if downloads is None else downloads
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
            if link in seen or link.startswith(NOT_FOLLOWED):
                continue
            seen.add(link)
            if download_check(link) is None:
                queue.append((link, url))
            elif len(fetched) < DOWNLOADS_PER_ROLE:
                _fetch_download(client, link, url, refused)
                fetched.append(link)
    return refused, visited


# A start tag with its class attribute, if any: the vocabulary a page's markup is built from.
_TAG_AND_CLASS = re.compile(r'<(\w+)(?:[^>]*?\sclass="([^"]*)")?')


def markup_shape(url: str, html: str) -> tuple[str, frozenset[tuple[str, str]]]:
    """What a page's markup checks depend on, short of its text: its kind of address (the path
    with its numbers taken out, the query's keys) and the set of its elements with their
    classes. Two case pages in different states differ in it (other forms, other buttons); two
    in the same state of the same process, for the same reader, do not."""
    path, _, query = url.partition("?")
    keys = sorted({part.split("=", 1)[0] for part in query.split("&") if part})
    address = _NUMBER.sub("N", path) + ("?" + "&".join(keys) if keys else "")
    return address, frozenset(_TAG_AND_CLASS.findall(html))


_NUMBER = re.compile(r"\d+")


def markup_sample(pages: dict[str, str]) -> dict[str, str]:
    """The first page (in crawl order) of each markup shape: the phone, axe and Nu checks take
    seconds a page, and a role's crawl fetches up to PAGES_PER_ROLE, about half of them the
    same markup as an earlier one with other text (the suite must stay under 25 minutes)."""
    sample: dict[str, str] = {}
    shapes: set[tuple[str, frozenset[tuple[str, str]]]] = set()
    for url, html in pages.items():
        shape = markup_shape(url, html)
        if shape not in shapes:
            shapes.add(shape)
            sample[url] = html
    return sample
