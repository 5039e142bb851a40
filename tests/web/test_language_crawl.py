"""Every page reads as its language: crawl the demo as several roles in Danish and in English.

A page fails on an ISO date in its visible text, an English-formatted amount in Danish
("2,400,000", "kr.."), a raw message key (an event's or a meeting history entry's key), and,
in English, a Danish status, step or button label left untranslated, or a Danish phrase of the
app's own inside a longer English text ("Møde i TSS", "Afgrænsning: alle sager"): every phrase
of three words or more from the catalogue and the process definitions whose English differs,
and the fragments below that once slipped through. Attributes (datetime=, value=, href=) are
not read: only what a reader sees.
"""

from __future__ import annotations

import re
import tomllib
from collections import deque
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from support.crawl import DEMO_PASSWORD, NOT_FOLLOWED, download_check, links_of
from test_crawl import demo_app

from workflow.cases.queries import SPECIAL_TRIGGERS
from workflow.meetings.labels import HISTORY_LABELS

__all__ = ["demo_app"]  # the demo database, one per module

ROOT = Path(__file__).resolve().parents[2]
PAGES_PER_ROLE = 120
# The roles whose pages between them reach every kind of page: cases, meetings, minutes,
# consultations, implementation, reports, the annual calendar and the admin pages.
ROLES = ["sekretariat.tss", "formand.sku", "medlem.su-nord-som", "observatoer.kkr", "admin"]

ISO_DATE = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])")
# "2,400,000" or "1,234.50": English grouping of thousands. Danish writes "2.400.000".
ENGLISH_AMOUNT = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")
DOUBLE_STOP = "kr.."
# Danish fragments the app composes around names and dates, too short for the catalogue rule.
DANISH_FRAGMENTS = (
    "Møde i", "Møder i", "Sat på dagsordenen", "Afgrænsning", "afgrænser", "alle sager",
    "Besluttet af", "Materialefrist", "Afventer svar", "Har svaret", "Svarer ikke",
    "Beslutning i", "Orienteres", "Overskredne frister", "Ingen data", "Indikatorer",
    "Formandskabet på", "Status pr.",
)  # fmt: skip
# Pages whose Danish is stored text, not the interface: notifications are written when sent
# (in Danish), and the API's reference is the OpenAPI document's own (Danish) descriptions.
STORED_TEXT_PAGES = ("/beskeder", "/api/")


class _Visible(HTMLParser):
    """The page's visible text, one string per text node and per button; `written` holds the
    text people wrote, which the page marks as Danish (`lang="da"` on an English page)."""

    HIDDEN = frozenset({"script", "style", "template", "title"})
    VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "wbr", "col"})

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.written: set[str] = set()
        self.buttons: list[str] = []
        self._hidden = 0
        self._button: list[str] | None = None
        self._langs: list[tuple[str, bool]] = []  # open elements' (tag, marked Danish)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self._langs.append((tag, (dict(attrs).get("lang") or "").startswith("da")))
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "button":
            self._button = []
        elif tag == "input" and dict(attrs).get("type") == "submit":
            self.buttons.append((dict(attrs).get("value") or "").strip())

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._langs) - 1, -1, -1):
            if self._langs[index][0] == tag:
                del self._langs[index:]
                break
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "button" and self._button is not None:
            self.buttons.append(" ".join(" ".join(self._button).split()))
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        text = " ".join(data.split())
        if text:
            self.texts.append(text)
            if any(danish for tag, danish in self._langs if tag != "html"):
                self.written.add(text)
            if self._button is not None:
                self._button.append(text)


def visible(html: str) -> _Visible:
    parser = _Visible()
    parser.feed(html)
    return parser


def _definitions() -> Iterable[dict[str, object]]:
    for path in sorted((ROOT / "states").glob("*.toml")):
        with path.open("rb") as handle:
            yield tomllib.load(handle)


def message_keys() -> set[str]:
    """Every key an event or a history entry is stored under: none may reach a page."""
    keys = set(SPECIAL_TRIGGERS) | set(HISTORY_LABELS)
    for definition in _definitions():
        for transition in definition.get("transitions", []):  # type: ignore[attr-defined]
            keys.add(transition["trigger"])
    # A key of one plain word may be a word of the page's language ("hold", "edit" in
    # English): only the ones with an underscore are unambiguous.
    return {key for key in keys if "_" in key}


def danish_labels() -> tuple[set[str], set[str]]:
    """Danish state and step labels (any text), and button words from the catalogue, that
    have their own English: neither may show on an English page."""
    labels: set[str] = set()
    for definition in _definitions():
        states = definition.get("states", {})
        assert isinstance(states, dict)
        specs = list(states.values()) + list(definition.get("transitions", []))  # type: ignore[call-overload]
        for spec in specs:
            if spec.get("label") and spec.get("label_en") and spec["label"] != spec["label_en"]:
                labels.add(spec["label"])
    with (ROOT / "translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="en")
    buttons = {
        str(m.id) for m in catalogue if m.id and isinstance(m.id, str) and m.string
        and m.string != m.id and "%(" not in m.id
    }  # fmt: skip
    return labels, buttons


def danish_phrases() -> re.Pattern[str]:
    """The app's own Danish phrases that have their own English: catalogue messages and
    process labels of three words or more (shorter ones are common in names and cases' text),
    and DANISH_FRAGMENTS; as one pattern that matches whole words only."""
    labels, words = danish_labels()
    phrases = {
        p for p in labels | words
        if len(p.split()) >= 3 and "\n" not in p and "{" not in p and "<" not in p
    }  # fmt: skip
    phrases |= set(DANISH_FRAGMENTS)
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in ordered) + r")(?!\w)")


def problems_of(
    html: str,
    locale: str,
    keys: set[str],
    labels: set[str],
    words: set[str],
    phrases: re.Pattern[str] | None = None,
) -> list[str]:
    page = visible(html)
    found: list[str] = []
    for text in page.texts:
        found += [f"ISO date {m!r} in {text!r}" for m in ISO_DATE.findall(text)]
        tokens = set(re.findall(r"[a-z]+(?:_[a-z]+)+", text))
        found += [f"raw key {key!r} in {text!r}" for key in sorted(tokens & keys)]
        if locale == "da":
            found += [f"English amount {m!r} in {text!r}" for m in ENGLISH_AMOUNT.findall(text)]
            if DOUBLE_STOP in text:
                found.append(f"'kr..' in {text!r}")
        else:
            found += [f"Danish label {text!r}" for _ in [0] if text in labels]
            wrote = text in page.written
            if phrases is not None and not wrote and text not in labels and text not in words:
                found += [f"Danish {m!r} in {text!r}" for m in phrases.findall(text)]
    if locale == "en":
        found += [f"Danish button {b!r}" for b in page.buttons if b in words or b in labels]
    return found


def crawl_language(client: FlaskClient, locale: str) -> tuple[dict[str, list[str]], int]:
    """Visit pages breadth first; return each page's problems and how many were read."""
    keys = message_keys()
    labels, words = danish_labels()
    phrases = danish_phrases()
    queue: deque[str] = deque(["/"])
    seen = {"/"}
    problems: dict[str, list[str]] = {}
    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin("http://localhost" + url, response.location))
            location = target.path + (f"?{target.query}" if target.query else "")
            if target.netloc in ("", "localhost") and location not in seen:
                seen.add(location)
                queue.append(location)
            continue
        if response.status_code != 200 or not response.mimetype.startswith("text/html"):
            continue
        visited += 1
        html = response.get_data(as_text=True)
        stored = url.startswith(STORED_TEXT_PAGES)
        found = problems_of(html, locale, keys, labels, words, None if stored else phrases)
        if found:
            problems[url] = found
        for link in links_of(url, html):
            # Downloads have no language to read (the case record is Danish for every reader);
            # test_crawl fetches and checks them.
            if (
                link not in seen
                and not link.startswith(NOT_FOLLOWED)
                and download_check(link) is None
            ):
                seen.add(link)
                queue.append(link)
    return problems, visited


@pytest.mark.database_independent(
    "the words, dates and amounts a page shows come from the catalogues and the formatting"
    " module, the same on either database; the PostgreSQL run renders every page in test_crawl"
)
@pytest.mark.parametrize("locale", ["da", "en"])
@pytest.mark.parametrize("login", ROLES)
def test_every_page_reads_as_its_language(demo_app: Flask, login: str, locale: str) -> None:
    client = demo_app.test_client()
    response = client.post(
        "/login", data={"email": f"{login}@demo.aftaleflow.dk", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 303, f"{login} could not log in"
    assert client.post("/sprog", data={"sprog": locale, "tilbage": "/"}).status_code == 303
    problems, visited = crawl_language(client, locale)
    assert visited > 10, "the crawl reached almost nothing"
    assert problems == {}, "\n".join(
        f"{url}: {'; '.join(sorted(set(found))[:6])}" for url, found in problems.items()
    )


def test_the_checks_catch_each_kind_of_slip() -> None:
    """The crawl must be able to fail: each rule finds its example and spares the right form."""
    keys, labels, words = {"item_added"}, {"Kladde i SU"}, {"Gem"}
    danish = (
        '<p>Mødet <time datetime="2021-05-27">27. maj 2021</time> · 2.400.000 kr.</p>'
        "<p>2021-05-27</p><p>2,400,000 kr..</p><li>item_added</li>"
    )
    found = problems_of(danish, "da", keys, labels, words)
    assert [f.split(" ", 2)[:2] for f in found] == [
        ["ISO", "date"], ["English", "amount"], ["'kr..'", "in"], ["raw", "key"],
    ]  # fmt: skip
    english = "<p>Kladde i SU</p><button>Gem</button><p>Draft · DKK 2,400,000</p>"
    assert problems_of(english, "en", keys, labels, words) == [
        "Danish label 'Kladde i SU'",
        "Danish button 'Gem'",
    ]


def test_a_danish_phrase_inside_english_text_is_caught() -> None:
    """Fragments inside a longer English text: the app's phrases, not the words in names."""
    phrases = danish_phrases()
    english = (
        "<p>Scope: alle sager.</p><li>TSS · Meeting: Møde i Tværsektoriel Strategisk "
        "Styregruppe</li><p>Case 3 · Sat på dagsordenen for TSS' møde</p>"
        "<p>Københavns Kommune · Meeting of TSS · Decided by SKU</p>"
        '<blockquote lang="da">Sat på dagsordenen, som aftalt.</blockquote>'
    )
    found = problems_of(english, "en", set(), set(), set(), phrases)
    assert found == [
        "Danish 'alle sager' in 'Scope: alle sager.'",
        "Danish 'Møde i' in 'TSS · Meeting: Møde i Tværsektoriel Strategisk Styregruppe'",
        "Danish 'Sat på dagsordenen' in \"Case 3 · Sat på dagsordenen for TSS' møde\"",
    ]
    # A catalogue phrase of its own inside a longer text is caught as well.
    assert problems_of("<p>Status: Kun sager med overskredet frist</p>", "en", set(), set(),
                       set(), phrases)  # fmt: skip
