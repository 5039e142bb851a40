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
    body,
    live_page,
    open_case,
    page_problems,
    shot,
)
from sqlalchemy.orm import Session

from models import Meeting, Notification, Role
from workflow import scheduler
from workflow.engine import clock
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
    meeting = Meeting(
        body_id=body(session, "TSS").id, title="TSS-møde",
        starts_at=clock.now() + timedelta(days=30),
    )  # fmt: skip
    session.add(meeting)
    session.commit()
    case = open_case(
        session, admin, "Fælles akutforløb", national_goal_ids=[1],
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
    with live_page(url, _populate, ADMIN) as (page, base_url, ids):
        yield page, base_url, ids


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
