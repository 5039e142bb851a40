"""Shared pieces of the browser tests: the app on a live port with its own seeded SQLite file,
its people and cases, Debian's Chromium through Playwright, log-in, a case's action form,
screenshots and axe-core's WCAG 2.2 A/AA run, step by step."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from models import Body, Case, Membership, Role, User
from workflow import demo
from workflow.app import create_app
from workflow.auth import passwords
from workflow.engine import clock, migrate
from workflow.engine import core as engine
from workflow.engine.db import make_engine
from workflow.organisation import seed

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PASSWORD = "browsertest adgangskode æøå"
DEMO_PASSWORD = "aftaleflow-demo"
ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artefacts" / "browser"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Beyond the WCAG tags: every piece of content inside a landmark (best practice), and targets of
# at least 24 × 24 px (WCAG 2.2's 2.5.8, which axe ships switched off).
EXTRA_RULES = {"region": {"enabled": True}, "target-size": {"enabled": True}}

REQUIRE_ENV = "AFTALEFLOW_REQUIRE_BROWSER"

try:
    from playwright.sync_api import Browser, Locator, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None


def browser_decision(
    required: str | None, chromium_exists: bool, playwright_installed: bool
) -> tuple[str, str | None]:
    """Whether the browser tests "run", "skip" or "fail" here, and why not when they don't.

    `required` is $AFTALEFLOW_REQUIRE_BROWSER: CI sets it to 1, so a missing browser fails
    the run there instead of skipping unnoticed; elsewhere the tests skip with the reason.
    """
    if not chromium_exists:
        missing = f"{CHROMIUM} findes ikke (apt install chromium)"
    elif not playwright_installed:
        missing = "playwright er ikke installeret (pip install -e '.[dev]')"
    else:
        return "run", None
    if (required or "").strip().lower() in ("1", "true", "yes"):
        return "fail", f"Browsertestene er påkrævet ({REQUIRE_ENV}=1), men {missing}"
    return "skip", f"Browsertests springes over: {missing}"


DECISION, REASON = browser_decision(
    os.environ.get(REQUIRE_ENV), CHROMIUM.exists(), sync_playwright is not None
)
BROWSER_MARKS = [
    pytest.mark.sqlite_only,
    pytest.mark.skipif(DECISION == "skip", reason=REASON or ""),
]


def require_browser() -> None:
    """Fail the test, saying why, when the browser is required here but missing."""
    if DECISION == "fail":
        pytest.fail(REASON or "", pytrace=False)


def body(session: Session, code: str) -> Body:
    """The body with the code `code`."""
    found = session.scalar(select(Body).where(Body.code == code))
    assert found is not None, code
    return found


def add_user(
    session: Session, email: str, name: str, *roles: tuple[str, Role], is_admin: bool = False
) -> User:
    """A user who logs in with PASSWORD, holding `roles` as (body code, role)."""
    user = User(
        email=email,
        name=name,
        password_hash=passwords.hash_password(PASSWORD),
        is_admin=is_admin,
    )
    session.add(user)
    session.flush()
    for code, role in roles:
        session.add(Membership(user_id=user.id, body_id=body(session, code).id, role=role))
    session.flush()
    return user


def open_case(
    session: Session,
    author: User,
    title: str,
    *,
    process: str = "signature_initiative",
    origin: str = "SU-NORD-SOM",
    **fields: Any,
) -> Case:
    """A case opened through the engine by `author` in the body `origin`, with `fields`."""
    return engine.create_case(
        session,
        process=process,
        title=title,
        originating_body=body(session, origin),
        actor=author,
        **fields,
    )


@contextmanager
def live_app(
    url: str, populate: Callable[[Session], Any], config: dict[str, Any] | None = None
) -> Iterator[tuple[str, Any]]:
    """Migrate, seed and `populate` the SQLite file at `url`, then serve the app on a port
    (with `config` added to the app's)."""
    clock.set_time(None)
    db_engine = make_engine(url)
    migrate.upgrade(db_engine)
    with Session(db_engine, expire_on_commit=False) as session:
        seed.run(session)
        session.commit()
        extra = populate(session)
        session.commit()
    db_engine.dispose()
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "browsertest-" + "x" * 32, **(config or {})}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", extra
    finally:
        server.shutdown()
        thread.join(timeout=5)
        engine_ = app.extensions["aftaleflow.database"].engine
        if engine_ is not None:
            engine_.dispose()


@contextmanager
def live_demo(url: str) -> Iterator[str]:
    """The demo organisation and cases (`aftaleflow demo`) in the SQLite file at `url`, served
    on a port with the clock running from the demo's date (`serve --demo-clock`)."""

    def populate(session: Session) -> None:
        demo.run(session, progress=lambda _line: None)

    with live_app(url, populate, {"DEMO_CLOCK": True}) as (base_url, _nothing):
        clock.run_from(demo.load_script().today)
        try:
            yield base_url
        finally:
            clock.reset()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser)."""
    require_browser()
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def new_page(browser: Browser, javascript: bool = True) -> Iterator[Page]:
    """A fresh browser context (its own cookies), Danish, with short timeouts."""
    # The app forbids inline scripts (CSP); axe is injected as one, so only tests bypass it.
    context = browser.new_context(bypass_csp=True, locale="da-DK", java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: Page, name: str) -> None:
    """Keep a full-page screenshot as a test artefact."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    # A long page (the API reference) takes Chromium seconds to paint whole on a loaded machine.
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True, timeout=30_000)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.2 A/AA rules, `region` and `target-size` on the page; describe
    each violation briefly."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "([tags, rules]) => axe.run(document, {runOnly: {type: 'tag', values: tags}, rules})",
        [WCAG_TAGS, EXTRA_RULES],
    )
    return [
        {
            "id": v["id"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
            "html": [n["html"][:200] for n in v["nodes"]][:3],
        }
        for v in result["violations"]
    ]


def duplicate_ids(page: Page) -> list[str]:
    """The ids used more than once on the page. axe-core 4 retired its duplicate-id rules, but
    a shared id still names the wrong section for a screen reader (aria-labelledby)."""
    found: list[str] = page.evaluate(
        "() => { const seen = {}; for (const e of document.querySelectorAll('[id]'))"
        " seen[e.id] = (seen[e.id] || 0) + 1;"
        " return Object.keys(seen).filter(k => seen[k] > 1); }"
    )
    return found


def page_problems(page: Page) -> list[dict[str, Any]]:
    """axe's WCAG 2.2 A/AA violations on the page, and any id used more than once."""
    found = axe_violations(page)
    duplicates = duplicate_ids(page)
    if duplicates:
        found.append({"id": "duplicate-id", "targets": duplicates})
    return found


def log_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the login form and land on the dashboard."""
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(f"{base_url}/")


@contextmanager
def page_as(
    browser: Browser,
    base_url: str,
    email: str,
    password: str = PASSWORD,
    *,
    javascript: bool = True,
) -> Iterator[Page]:
    """A fresh tab (`new_page`) logged in as `email` on the dashboard of the app at `base_url`."""
    with new_page(browser, javascript) as page:
        log_in(page, base_url, email, password)
        yield page


@contextmanager
def live_page(
    url: str, populate: Callable[[Session], Any], email: str
) -> Iterator[tuple[Page, str, Any]]:
    """`live_app`'s server on the SQLite file at `url`, and a Chromium tab logged in there as
    `email`: the tab, the server's address and what `populate` returned."""
    with (
        live_app(url, populate) as (base_url, extra),
        chromium() as browser,
        page_as(browser, base_url, email) as page,
    ):
        yield page, base_url, extra


def open_action(page: Page, action: str) -> Locator:
    """Open the form of the case's action named `action` (its <details>) and return it."""
    form = page.locator("details.action").filter(
        has=page.locator("summary", has_text=re.compile(f"^{re.escape(action)}$"))
    )
    form.locator("summary").click()
    return form


class Steps:
    """A walk through the pages: each step's screenshot (named `prefix` + the step's name) and
    what `page_problems` finds on it, in `problems` by step for the steps that have any."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.problems: dict[str, list[dict[str, Any]]] = {}

    def check(self, page: Page, name: str) -> None:
        """Keep a screenshot of the step, once the page has loaded, and its problems."""
        page.wait_for_load_state()
        shot(page, self.prefix + name)
        found = page_problems(page)
        if found:
            self.problems[name] = found
