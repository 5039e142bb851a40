"""The case-record exports logged on the admin audit chain, for the record tests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AdminAuditEntry
from workflow.cases import operations


def exports_of(session: Session, case_id: int) -> list[AdminAuditEntry]:
    """The logged exports of the case's record, oldest first."""
    return list(
        session.scalars(
            select(AdminAuditEntry)
            .where(
                AdminAuditEntry.action == operations.RECORD_EXPORTED,
                AdminAuditEntry.object_id == str(case_id),
            )
            .order_by(AdminAuditEntry.seq)
        )
    )
