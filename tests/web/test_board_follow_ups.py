"""The secretariat's deadline board lists follow-ups and other deadlines months ahead, which
the overdue and 7-day sections would not show until it is almost too late."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from models import Deadline, DeadlineKind


def _section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert match is not None, f"section {heading_id} missing"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def _deadline(session, case, body, kind, due_at, **extra):
    session.add(
        Deadline(case_id=case.id, kind=kind, state=case.state, body_id=body.id, due_at=due_at,
                 reminder_days=[], **extra)
    )  # fmt: skip
    session.flush()


def test_follow_ups_months_ahead_are_on_the_board_nearest_first(
    client, logged_in, make_case, body, session
):
    su = body("SU-NORD-SOM")
    case = make_case(title="Udbredt indsats", state="implementation")
    _deadline(session, case, su, DeadlineKind.FOLLOW_UP, datetime(2021, 3, 1, 22, 59, tzinfo=UTC))
    _deadline(session, case, su, DeadlineKind.STATE, datetime(2021, 2, 27, 22, 59, tzinfo=UTC))
    met = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)
    _deadline(session, case, su, DeadlineKind.FOLLOW_UP, datetime(2021, 1, 1, tzinfo=UTC),
              met_at=met)  # fmt: skip
    other = make_case(title="Andet udvalg", origin="SU-SYD-SOM", state="implementation")
    _deadline(
        session, other, body("SU-SYD-SOM"), DeadlineKind.FOLLOW_UP,
        datetime(2021, 3, 1, 22, 59, tzinfo=UTC),
    )  # fmt: skip
    logged_in("secretariat@SU-NORD-SOM")
    text = _section(client.get("/").get_data(as_text=True), "senere-frister")
    assert "Andet udvalg" not in text
    assert text.count("Udbredt indsats") == 2
    assert text.index("27. februar 2021") < text.index("1. marts 2021")
    assert "Opfølgning" in text and "1. januar 2021" not in text


def test_board_says_when_nothing_lies_ahead(client, logged_in):
    logged_in("secretariat@TSS")
    text = _section(client.get("/").get_data(as_text=True), "senere-frister")
    assert "Ingen senere frister." in text
