"""The unit of work of a change to a meeting: a concurrent change of the meeting (its version
moved under us) is reported in words the secretariat understands.

Both the meetings' operations and the material deadlines that follow a meeting use it, so it
lives apart from either.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from workflow.engine.errors import StaleChange, WorkflowError
from workflow.engine.unit_of_work import unit_of_work

MEETING_CHANGED = (
    "Mødet er blevet ændret af en anden imens. Genindlæs mødet, og prøv igen.",
    "The meeting was changed by someone else meanwhile. Reload it and try again.",
)


def meeting_changed() -> WorkflowError:
    """The error for a concurrent change of a meeting (its version moved under us)."""
    return StaleChange(*MEETING_CHANGED)


def meeting_unit(session: Session) -> AbstractContextManager[Session]:
    """The unit of work of a change to a meeting."""
    return unit_of_work(session, meeting_changed)
