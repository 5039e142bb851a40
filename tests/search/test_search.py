"""Full-text search: Danish inflections, attachments' text, the access policy, both databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from weasyprint import HTML

from models import AgendaItem, Case, FollowUpItem, Meeting, SearchDocument, User
from workflow.cases import attachments
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.search import operations, queries
from workflow.search.queries import SearchFilter, matching_ids, search


def _find(session: Session, user: User, text: str, **filters: object) -> list[tuple[str, str]]:
    """(kind, plain title) of every hit, best first."""
    found = search(session, user, SearchFilter(text, **filters))  # type: ignore[arg-type]
    return [(hit.kind, hit.title.striptags()) for hit in found.hits]


def test_danish_inflections_find_each_other(
    session: Session, make_case: Callable[..., Case], make_user: Callable[..., User]
) -> None:
    make_case(title="Genoptræningen efter udskrivelse", state="at_tss")
    make_case(title="Fælles genoptræning i kommunerne", state="at_tss")
    reader = make_user("member@TSS")
    both = {"Genoptræningen efter udskrivelse", "Fælles genoptræning i kommunerne"}
    for word in ("genoptræning", "genoptræningen", "Genoptræningens"):
        assert {title for kind, title in _find(session, reader, word) if kind == "case"} == both
    hit = search(session, reader, SearchFilter("genoptræningen")).hits[0]
    assert "<mark>" in str(hit.title)


def test_an_event_comment_is_found_and_highlighted_safely(
    session: Session, make_case: Callable[..., Case], make_user: Callable[..., User]
) -> None:
    case = make_case(state="at_tss", title="Sag om hjemmepleje")
    author = make_user("secretariat@TSS")
    engine.append_event(
        session, case, trigger="note", actor=author, from_state=case.state,
        comment="Vi drøftede <b>tværsektoriel</b> døgnrytme grundigt.", data={},
        now=clock.now(),
    )  # fmt: skip
    session.commit()
    found = search(session, author, SearchFilter("døgnrytmen"))
    assert [hit.kind for hit in found.hits] == ["event"]
    snippet = str(found.hits[0].snippet)
    assert "<mark>døgnrytme</mark>" in snippet and "&lt;b&gt;" in snippet and "<b>" not in snippet
    assert found.hits[0].case_id == case.id


def test_a_phrase_in_a_pdf_attachment_is_found_and_linked(
    session: Session,
    tmp_path: Path,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
) -> None:
    case = make_case(state="at_tss")
    author = make_user("secretariat@SU-NORD-SOM")
    pdf = HTML(
        string="<p>Notatet anbefaler en samlet plan for rehabiliteringsforløbet i Nordsjælland.</p>"
    ).write_pdf()
    stored = attachments.upload(session, case, author, "Notat.pdf", pdf, folder=tmp_path)
    assert "rehabiliteringsforløbet" in (stored.extracted_text or "")
    reader = make_user("member@TSS")
    found = search(session, reader, SearchFilter('"samlet plan for rehabiliteringsforløbet"'))
    assert [(h.kind, h.source_id, h.case_id) for h in found.hits] == [
        ("attachment", stored.id, case.id)
    ]
    assert str(found.hits[0].title) == "Notat.pdf"
    # The words out of order are not the phrase.
    assert not search(session, reader, SearchFilter('"rehabiliteringsforløbet samlet"')).hits
    # A prefix finds it too.
    assert search(session, reader, SearchFilter("rehabilit*")).total >= 1


def test_a_closed_items_text_is_neither_found_nor_counted_by_a_non_member(
    session: Session,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    make_meeting: Callable[..., Meeting],
) -> None:
    meeting = make_meeting("TSS")
    case = make_case(state="at_tss", title="Budget")
    session.add_all(
        [
            AgendaItem(
                meeting_id=meeting.id, case_id=case.id, position=1, title="Personsag",
                closed=True, background="Fortrolig lønforhandling om xylofonstemmer.",
            ),
            AgendaItem(
                meeting_id=meeting.id, position=2, title="Åbent punkt",
                background="Offentlig drøftelse af xylofonstemmer.",
            ),
        ]
    )  # fmt: skip
    session.commit()
    member, outsider = make_user("member@TSS"), make_user("member@SU-NORD-SOM")
    admin = make_user(is_admin=True)
    assert search(session, member, SearchFilter("xylofonstemmer")).total == 2
    assert search(session, admin, SearchFilter("xylofonstemmer")).total == 2
    seen = search(session, outsider, SearchFilter("xylofonstemmer"))
    assert seen.total == 1 and seen.by_kind == {"item": 1}
    assert [h.title.striptags() for h in seen.hits] == ["Åbent punkt"]
    assert search(session, outsider, SearchFilter("lønforhandling")).total == 0
    assert search(session, make_user(), SearchFilter("xylofonstemmer")).total == 0


def test_a_drafts_text_is_only_for_its_own_body(
    session: Session, make_case: Callable[..., Case], make_user: Callable[..., User]
) -> None:
    make_case(state="draft", title="Udkast om kvadratrødder")
    assert (
        search(session, make_user("member@SU-NORD-SOM"), SearchFilter("kvadratrødder")).total == 1
    )
    assert search(session, make_user("member@TSS"), SearchFilter("kvadratrødder")).total == 0


def test_a_fixed_corpus_gives_the_same_results_on_both_databases(
    session: Session, make_case: Callable[..., Case], make_user: Callable[..., User]
) -> None:
    """The suite runs on SQLite and on PostgreSQL: both must give this very list."""
    corpus = [
        "Hjerterehabilitering for borgere i Herlev",
        "Borgernes hjerterehabiliteringsforløb",
        "Diabetes og hjerterehabilitering i almen praksis",
        "Forebyggelse af genindlæggelser",
        "Borger med hjertesvigt",
        "Rehabilitering af borgere efter hjertestop",
    ]
    made = {
        title: make_case(title=title, state="at_tss", complete=False, goals=False).id
        for title in corpus
    }
    reader = make_user("member@TSS")

    def titles(query: str) -> list[str]:
        return sorted(t for kind, t in _find(session, reader, query) if kind == "case")

    assert titles("hjerterehabilitering") == [
        "Diabetes og hjerterehabilitering i almen praksis",
        "Hjerterehabilitering for borgere i Herlev",
    ]
    assert titles("hjerterehabilitering borgere") == ["Hjerterehabilitering for borgere i Herlev"]
    assert titles("hjerterehab*") == [
        "Borgernes hjerterehabiliteringsforløb",
        "Diabetes og hjerterehabilitering i almen praksis",
        "Hjerterehabilitering for borgere i Herlev",
    ]
    assert titles('"rehabilitering af borgere"') == ["Rehabilitering af borgere efter hjertestop"]
    assert titles("og i af") == []
    # The best hit first: the title names both words.
    first = search(session, reader, SearchFilter("hjertestop rehabilitering", kind="case")).hits[0]
    assert first.case_id == made["Rehabilitering af borgere efter hjertestop"]


def test_filters_narrow_the_hits(
    session: Session, make_case: Callable[..., Case], make_user: Callable[..., User]
) -> None:
    make_case(title="Vaccinationsindsats", state="at_tss")
    make_case("forum_matter", title="Vaccinationsindsats i forum", origin="FORUM-DATA")
    reader = make_user(is_admin=True)
    assert len(_find(session, reader, "vaccinationsindsats", kind="case")) == 2
    assert len(_find(session, reader, "vaccinationsindsats", process="forum_matter")) == 1
    assert _find(session, reader, "vaccinationsindsats", year=1999) == []


def test_reindex_is_idempotent(
    session: Session,
    tmp_path: Path,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
) -> None:
    case = make_case(title="Palliation i eget hjem", state="at_tss")
    author = make_user("secretariat@SU-NORD-SOM")
    attachments.upload(session, case, author, "noter.txt", b"Lindrende behandling", folder=tmp_path)
    reader = make_user("member@TSS")

    def state() -> tuple[int, list[tuple[str, str]]]:
        count = session.scalar(select(func.count()).select_from(SearchDocument))
        return count or 0, sorted(_find(session, reader, "palliation lindrende*"))

    before = _find(session, reader, "lindrende")
    first = operations.reindex(session, tmp_path)
    after_one = state()
    operations.reindex(session, tmp_path)
    assert state() == after_one and first.attachments_read >= 1
    assert sorted(_find(session, reader, "lindrende")) == sorted(before)
    assert len(matching_ids(session, reader, SearchFilter("lindrende"))) == len(before)


def test_the_index_follows_a_changed_text_in_the_same_transaction(
    session: Session, make_case: Callable[..., Case], make_user: Callable[..., User]
) -> None:
    case = make_case(title="Zebrafinker i hjemmeplejen", state="at_tss")
    reader = make_user("member@TSS")
    session.commit()
    assert search(session, reader, SearchFilter("zebrafinker")).total == 1
    case.title = "Kolibrier i hjemmeplejen"
    session.flush()  # not committed: the index is part of the same transaction
    assert search(session, reader, SearchFilter("zebrafinker")).total == 0
    assert search(session, reader, SearchFilter("kolibrier")).total == 1
    session.rollback()
    assert search(session, reader, SearchFilter("zebrafinker")).total == 1


def test_past_the_cap_the_newest_visible_matches_are_counted_and_ranked(
    session: Session,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queries, "RANKED", 3)
    shared = [make_case(title=f"Kanelsnegle nummer {n}", state="at_tss").id for n in range(5)]
    make_case(state="draft", title="Kanelsnegle i et udkast")  # the newest, not for TSS
    reader = make_user("member@TSS")
    found = search(session, reader, SearchFilter("kanelsnegle"))
    # The hidden draft neither takes a place among the three nor shows in the count.
    assert found.capped and found.total == 3 and found.by_kind == {"case": 3}
    assert sorted(hit.case_id for hit in found.hits) == sorted(shared[-3:])
    same_kind = search(session, reader, SearchFilter("kanelsnegle", kind="case"))
    assert same_kind.capped and same_kind.total == 3
    monkeypatch.setattr(queries, "RANKED", 10)
    everything = search(session, reader, SearchFilter("kanelsnegle"))
    assert not everything.capped and everything.total == 5
    assert sorted(hit.case_id for hit in everything.hits) == sorted(shared)


def test_a_moved_meetings_items_follow_its_date_in_the_same_transaction(
    session: Session, make_user: Callable[..., User], make_meeting: Callable[..., Meeting]
) -> None:
    meeting = make_meeting("TSS")
    session.add(
        AgendaItem(meeting_id=meeting.id, position=1, title="Punkt om flamingoer", background="")
    )
    reader = make_user("member@TSS")
    session.commit()
    year = meeting.starts_at.year
    assert _find(session, reader, "flamingoer", year=year) == [("item", "Punkt om flamingoer")]
    meeting.starts_at = meeting.starts_at.replace(year=year + 1)
    session.flush()  # the meeting is moved a year on: its item is found under the new year
    assert _find(session, reader, "flamingoer", year=year) == []
    assert _find(session, reader, "flamingoer", year=year + 1) == [("item", "Punkt om flamingoer")]
    session.rollback()
    assert _find(session, reader, "flamingoer", year=year) == [("item", "Punkt om flamingoer")]


def test_a_follow_up_is_found_by_whom_the_register_shows_it(
    session: Session,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    make_meeting: Callable[..., Meeting],
) -> None:
    case = make_case(title="Budget", state="at_tss")
    meeting = make_meeting("TSS")
    owner, member = make_user("member@TSS"), make_user("member@TSS")
    secretariat = make_user("secretariat@TSS")
    session.add(
        FollowUpItem(
            case_id=case.id, meeting_id=meeting.id, description="Undersøg pelikanernes trækruter",
            owner_id=owner.id, due_on=clock.now().date(),
        )
    )  # fmt: skip
    session.commit()
    assert _find(session, owner, "pelikaner") == [("follow_up", "Budget")]
    assert _find(session, secretariat, "pelikanerne") == [("follow_up", "Budget")]
    # Another member reads the case, not the follow-up someone else owns: not even counted.
    assert search(session, member, SearchFilter("pelikaner")).total == 0
