"""The cases ready for a coming meeting, a page at a time: a body's secretariat may have
thousands waiting, so the meeting page lists a page of them by case number, with links to the
other pages and a search on title or case number (plain links and a GET form: no script)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import Body, Case, Meeting, MeetingStatus, User
from workflow.meetings import agenda

NEXT = datetime(2020, 9, 24, 7, 0, tzinfo=UTC)


@pytest.fixture
def coming(session: Session, body: Callable[[str], Body]) -> Meeting:
    meeting = Meeting(
        body_id=body("TSS").id, title="", starts_at=NEXT, status=MeetingStatus.PLANNED
    )
    session.add(meeting)
    session.flush()
    return meeting


def _listed(page: str) -> list[int]:
    section = page[page.index('id="kandidater"') :]
    return [int(n) for n in re.findall(r'name="case_id" value="(\d+)"', section)]


def test_candidates_are_listed_a_page_at_a_time_with_links_to_the_other_pages(
    session: Session,
    coming: Meeting,
    make_case: Callable[..., Case],
    logged_in: Callable[..., User],
    client: Any,
    text_of: Callable[[Any], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(agenda, "CANDIDATES_PER_PAGE", 2)
    cases = [make_case(state="at_tss", title=f"Klar sag {n}") for n in range(5)]
    make_case(title="Kladde, venter ikke på TSS")
    ids = [c.id for c in cases]
    assert [c.id for c in agenda.candidates(session, coming)] == ids
    logged_in("secretariat@TSS")

    first = client.get(f"/moeder/{coming.id}")
    assert _listed(first.get_data(as_text=True)) == ids[:2]
    assert "Sag 1–2 af 5, efter sagsnummer." in text_of(first)
    assert "Side 1 af 3" in text_of(first)
    html = first.get_data(as_text=True)
    assert f'href="/moeder/{coming.id}?kandidatside=2#kandidater"' in html
    assert "Forrige side" not in text_of(first)

    last = client.get(f"/moeder/{coming.id}?kandidatside=3")
    assert _listed(last.get_data(as_text=True)) == ids[4:]
    assert "Sag 5–5 af 5, efter sagsnummer." in text_of(last)
    assert f'href="/moeder/{coming.id}?kandidatside=2#kandidater"' in last.get_data(as_text=True)
    assert "Næste side" not in text_of(last)
    # A page beyond the last shows the last; a bad number the first.
    assert (
        _listed(client.get(f"/moeder/{coming.id}?kandidatside=99").get_data(as_text=True))
        == ids[4:]
    )
    assert (
        _listed(client.get(f"/moeder/{coming.id}?kandidatside=x").get_data(as_text=True)) == ids[:2]
    )


def test_candidates_are_searched_by_title_or_case_number(
    session: Session,
    coming: Meeting,
    make_case: Callable[..., Case],
    logged_in: Callable[..., User],
    client: Any,
    text_of: Callable[[Any], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(agenda, "CANDIDATES_PER_PAGE", 2)
    udskrivning = make_case(state="at_tss", title="Udskrivning af ældre")
    others = [make_case(state="at_tss", title=f"Anden sag {n}") for n in range(3)]
    logged_in("secretariat@TSS")

    found = client.get(f"/moeder/{coming.id}?kandidat=UDSKRIVNING")
    assert _listed(found.get_data(as_text=True)) == [udskrivning.id]
    assert 'name="kandidat" value="UDSKRIVNING"' in found.get_data(as_text=True)
    assert "Sag 1–1 af 1" in text_of(found)
    by_number = client.get(f"/moeder/{coming.id}?kandidat={others[1].id}")
    assert others[1].id in _listed(by_number.get_data(as_text=True))
    # The search is kept across pages.
    paged = client.get(f"/moeder/{coming.id}?kandidat=Anden")
    assert "kandidatside=2&amp;kandidat=Anden#kandidater" in paged.get_data(as_text=True)
    # A search without hits says so, and offers the whole list again.
    none = client.get(f"/moeder/{coming.id}?kandidat=findes%20ikke")
    assert "Ingen af sagerne klar til TSS passer til søgningen." in text_of(none)
    assert "Vis alle sager klar til TSS" in text_of(none)
    # % and _ are searched for as themselves.
    assert _listed(client.get(f"/moeder/{coming.id}?kandidat=%25").get_data(as_text=True)) == []


def test_a_single_page_of_candidates_has_no_search_or_page_links(
    coming: Meeting,
    make_case: Callable[..., Case],
    logged_in: Callable[..., User],
    client: Any,
    text_of: Callable[[Any], str],
) -> None:
    case = make_case(state="at_tss", title="Den eneste")
    logged_in("secretariat@TSS")
    response = client.get(f"/moeder/{coming.id}")
    assert _listed(response.get_data(as_text=True)) == [case.id]
    assert 'name="kandidat"' not in response.get_data(as_text=True)
    assert "Næste side" not in text_of(response)


def test_a_case_put_on_the_agenda_leaves_the_candidates(
    session: Session,
    coming: Meeting,
    make_case: Callable[..., Case],
    logged_in: Callable[..., User],
    client: Any,
    text_of: Callable[[Any], str],
) -> None:
    case = make_case(state="at_tss", title="Klar sag")
    logged_in("secretariat@TSS")
    response = client.post(
        f"/moeder/{coming.id}/punkter", data={"case_id": case.id, "kind": "decision"}
    )
    assert response.status_code == 302
    page = client.get(f"/moeder/{coming.id}")
    assert _listed(page.get_data(as_text=True)) == []
    assert "Ingen sager venter på TSS." in text_of(page)
