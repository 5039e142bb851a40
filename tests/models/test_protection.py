"""Archive law on both databases: no hard deletes, an append-only audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM cases WHERE id = :case_id",
        "DELETE FROM case_events WHERE case_id = :case_id",
        "UPDATE case_events SET comment = 'rettet' WHERE case_id = :case_id",
    ],
)
def test_database_refuses_to_delete_or_rewrite_history(session, make_case, statement):
    case = make_case()
    savepoint = session.begin_nested()
    with pytest.raises(DatabaseError, match="never deleted"):
        session.execute(text(statement), {"case_id": case.id})
    savepoint.rollback()
    remaining = session.scalar(
        text("SELECT count(*) FROM case_events WHERE case_id = :id"), {"id": case.id}
    )
    assert remaining == 1
