"""Writes of the search index: the flush listeners that keep it in step, and the full rebuild
behind `aftaleflow search reindex` (which also re-reads every attachment's text).

Registered through the `aftaleflow.domains` entry point, so the app, the CLI, the scheduler and
the tests all keep the index. Writes that go around the ORM (the volume generator's bulk
inserts) are caught up by a reindex.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    column,
    delete,
    event,
    insert,
    select,
    table,
    text,
    update,
)
from sqlalchemy.orm import Session

from models import (
    AgendaItem,
    Attachment,
    Consultation,
    ConsultationResponse,
    FollowUpItem,
    Meeting,
    SearchDocument,
)
from workflow.cases.attachments import storage_dir
from workflow.engine.unit_of_work import unit_of_work
from workflow.search import extract, terms
from workflow.search.index import (
    SEARCHED,
    Document,
    document_of,
    meeting_moved,
    texts_changed,
)

_PENDING = "aftaleflow_search_pending"
_MOVED = "aftaleflow_search_moved_meetings"
_DOCS: Table = SearchDocument.__table__  # type: ignore[assignment]
# SQLite's FTS5 table (migration 0020): the stems of a document's title and body under its id.
FTS = table("search_fts", column("rowid"), column("title"), column("body"))
BATCH = 1000


def _is_sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


def _drop(connection: Connection, kind: str, source_ids: list[int]) -> None:
    where = (_DOCS.c.kind == kind) & _DOCS.c.source_id.in_(source_ids)
    if _is_sqlite(connection):
        old = select(_DOCS.c.id).where(where)
        connection.execute(delete(FTS).where(FTS.c.rowid.in_(old)))
    connection.execute(delete(_DOCS).where(where))


def _add(connection: Connection, documents: list[Document]) -> None:
    if not documents:
        return
    if len(documents) == 1:  # the usual flush: one INSERT, its id without a look-up
        document = documents[0]
        inserted = connection.execute(insert(_DOCS).values(document.row()))
        if _is_sqlite(connection):
            row = {
                "title": terms.indexed(document.title[:300]),
                "body": terms.indexed(document.body),
            }
            key = inserted.inserted_primary_key
            assert key is not None
            connection.execute(insert(FTS).values(rowid=key[0], **row))
        return
    connection.execute(insert(_DOCS), [document.row() for document in documents])
    if not _is_sqlite(connection):
        return  # PostgreSQL computes the tsvector column itself
    kinds: dict[str, list[int]] = {}
    for document in documents:
        kinds.setdefault(document.kind, []).append(document.source_id)
    for kind, ids in kinds.items():
        rows = connection.execute(
            select(_DOCS.c.id, _DOCS.c.title, _DOCS.c.body).where(
                _DOCS.c.kind == kind, _DOCS.c.source_id.in_(ids)
            )
        ).all()
        connection.execute(
            insert(FTS),
            [
                {
                    "rowid": row.id,
                    "title": terms.indexed(row.title),
                    "body": terms.indexed(row.body),
                }
                for row in rows
            ],
        )


def replace_documents(
    session: Session,
    entries: Iterable[tuple[str, int, Document | None]],
    new: Iterable[tuple[str, int]] = (),
) -> None:
    """Replace the documents of these (kind, source id) pairs; None removes one. The `new`
    pairs (rows inserted by this flush) have none to remove."""
    connection = session.connection()
    entries = list(entries)
    fresh = set(new)
    kinds: dict[str, list[int]] = {}
    for kind, source_id, _document in entries:
        if (kind, source_id) not in fresh:
            kinds.setdefault(kind, []).append(source_id)
    for kind, ids in kinds.items():
        for start in range(0, len(ids), BATCH):
            _drop(connection, kind, ids[start : start + BATCH])
    found = [document for _kind, _id, document in entries if document is not None]
    for start in range(0, len(found), BATCH):
        _add(connection, found[start : start + BATCH])


@event.listens_for(Session, "after_flush")
def _note_searched_rows(session: Session, _context: Any) -> None:
    """Note the searchable rows this flush wrote (their documents are rebuilt after it)."""
    pending: dict[tuple[type, int], tuple[Any, bool]] = session.info.setdefault(_PENDING, {})
    for obj in session.new:
        if isinstance(obj, SEARCHED) and obj.id is not None:
            pending[(type(obj), obj.id)] = (obj, True)
    for obj in session.dirty:
        if isinstance(obj, SEARCHED) and obj.id is not None and texts_changed(obj):
            pending.setdefault((type(obj), obj.id), (obj, False))
        elif isinstance(obj, Meeting) and obj.id is not None and meeting_moved(obj):
            # Its items' documents carry its date and body (the year filter, the closed items'
            # rule): they follow it without being rebuilt.
            session.info.setdefault(_MOVED, {})[obj.id] = (obj.starts_at, obj.body_id)


@event.listens_for(Session, "after_flush_postexec")
def _keep_the_index(session: Session, _context: Any) -> None:
    """Rewrite the search documents of the rows noted above, in the same transaction."""
    for meeting_id, (starts_at, body_id) in session.info.pop(_MOVED, {}).items():
        session.connection().execute(
            update(_DOCS)
            .where(_DOCS.c.kind == "item", _DOCS.c.meeting_id == meeting_id)
            .values(happened_at=starts_at, body_id=body_id)
        )
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    with session.no_autoflush:
        found = [(document_of(session, obj), is_new) for obj, is_new in pending.values()]
    entries = [entry for entry, _new in found if entry is not None]
    new = [(entry[0], entry[1]) for entry, is_new in found if entry is not None and is_new]
    replace_documents(session, entries, new)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_MOVED, None)


@dataclass(frozen=True)
class Reindexed:
    """What a rebuild did: documents written and attachments whose text was read."""

    documents: int
    attachments_read: int


def _all(session: Session, model: Any) -> Iterator[Any]:
    query = select(model).order_by(model.id).execution_options(yield_per=BATCH)
    yield from session.scalars(query)


def read_attachment_texts(session: Session, folder: str | os.PathLike[str] | None = None) -> int:
    """Read again the text of every attachment whose file is there; return how many."""
    connection = session.connection()
    rows = connection.execute(
        select(Attachment.id, Attachment.filename, Attachment.storage_key).where(
            Attachment.archived_at.is_(None)
        )
    ).all()
    base = storage_dir(folder)
    read = 0
    for row in rows:
        path = base / row.storage_key
        if not path.is_file():
            continue
        connection.execute(
            update(Attachment.__table__)  # type: ignore[arg-type]
            .where(Attachment.__table__.c.id == row.id)
            .values(extracted_text=extract.text_of(row.filename, path.read_bytes()))
        )
        read += 1
    return read


def reindex(
    session: Session, folder: str | os.PathLike[str] | None = None, *, read_files: bool = True
) -> Reindexed:
    """Rebuild the whole index from the rows (and, unless told not to, re-read the attachments'
    text first), in one unit of work. Running it twice gives the same index."""
    with unit_of_work(session):
        read = read_attachment_texts(session, folder) if read_files else 0
        connection = session.connection()
        if _is_sqlite(connection):
            connection.execute(text("DELETE FROM search_fts"))
        connection.execute(delete(_DOCS))
        written = 0
        for model in SEARCHED:
            # The meetings of the items and follow-ups and the consultations of the answers are
            # read once (held here: the identity map alone would let them go).
            parent = {
                AgendaItem: Meeting, FollowUpItem: Meeting, ConsultationResponse: Consultation
            }.get(model)  # fmt: skip
            held = list(session.scalars(select(parent))) if parent is not None else []
            batch: list[Document] = []
            for obj in _all(session, model):
                entry = document_of(session, obj)
                if entry is not None and entry[2] is not None:
                    batch.append(entry[2])
                if len(batch) >= BATCH:
                    _add(connection, batch)
                    written += len(batch)
                    batch = []
            _add(connection, batch)
            written += len(batch)
            del held
    return Reindexed(written, read)
