"""axe-core's WCAG 2.1 A/AA rules find no violations on the body, process, admin, meeting,
report, implementation, API documentation, inbox, settings and accessibility statement pages
(Debian's Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    BROWSER_MARKS,
    add_user,
    chromium,
    live_app,
    log_in,
    new_page,
    page_problems,
    shot,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Meeting, Notification, Role
from workflow import scheduler
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.scheduler import SchedulerConfig

pytestmark = BROWSER_MARKS

ADMIN = "admin@axe.test"
PAGES = [
    "/organer",
    "/organer/TSS",
    "/processer",
    "/processer/signature_initiative",
    "/admin",
    "/admin/brugere",
    "/admin/brugere/{admin_id}",
    "/admin/organer",
    "/admin/organer/TSS",
    "/admin/parter",
    "/admin/parter/ny",
    "/admin/planomraader/ny",
    "/admin/planomraader/NORD",
    "/admin/drift",
    "/moeder",
    "/moeder/{meeting_id}",
    "/rapporter",
    "/rapporter/implementering",
    "/implementering",
    "/api/v1/docs",
    "/beskeder",
    "/profil",
    "/profil/tokens",
    "/tilgaengelighed",
]


def _populate(session: Session) -> dict[str, int]:
    """An admin who is also TSS secretariat, a TSS meeting, a case and an unread message."""
    admin = add_user(
        session, ADMIN, "Ada Admin", ("TSS", Role.SECRETARIAT), ("SU-NORD-SOM", Role.CHAIR),
        is_admin=True,
    )  # fmt: skip
    tss = session.scalar(select(Body).where(Body.code == "TSS"))
    origin = session.scalar(select(Body).where(Body.code == "SU-NORD-SOM"))
    assert tss is not None and origin is not None
    meeting = Meeting(body_id=tss.id, title="TSS-møde", starts_at=clock.now() + timedelta(days=30))
    session.add(meeting)
    session.commit()
    case = engine.create_case(
        session, process="signature_initiative", title="Fælles akutforløb",
        originating_body=origin, actor=admin, national_goal_ids=[1],
        summary="Ét forløb på tværs af sektorer.",
    )  # fmt: skip
    session.add(
        Notification(
            idempotency_key="axe:1", message_id="<axe.1@aftaleflow>", recipient_id=admin.id,
            case_id=case.id, kind="reminder", subject="Påmindelse: Fælles akutforløb",
            body="Materialefristen nærmer sig.",
        )
    )  # fmt: skip
    # The operations page with a sweep behind it and a delivery given up on (its retry button).
    failed = Notification(
        idempotency_key="axe:2", message_id="<axe.2@aftaleflow>", recipient_id=admin.id,
        kind="reminder", subject="Påmindelse: opgivet", body="Fristen nærmer sig.",
        attempts=3, failed_at=clock.now(), last_error="Mailserveren svarede 550",
    )  # fmt: skip
    session.add(failed)
    session.commit()
    scheduler.sweep(session, config=SchedulerConfig())
    return {"admin_id": admin.id, "meeting_id": meeting.id}


@pytest.fixture(scope="module")
def logged_in_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, dict]]:
    """One logged-in admin tab on a live server, shared by the page checks."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('axe')) / 'axe.db'}"
    with (
        live_app(url, _populate) as (base_url, ids),
        chromium() as browser,
        new_page(browser) as page,
    ):
        log_in(page, base_url, ADMIN)
        yield page, base_url, ids


@pytest.fixture
def real_clock() -> Iterator[None]:
    """The live server runs on real time (its data was made with it)."""
    clock.set_time(None)
    yield


@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_wcag_violations(
    logged_in_page: tuple[Any, str, dict[str, int]], real_clock: None, path: str
) -> None:
    page, base_url, ids = logged_in_page
    response = page.goto(base_url + path.format(**ids))
    assert response is not None and response.status == 200, path
    name = path.strip("/").replace("/", "_").replace("{", "").replace("}", "") or "forside"
    shot(page, f"axe-side-{name}")
    assert page_problems(page) == []
