"""Typed SQLAlchemy models of Aftaleflow, one module per aggregate."""

from models.attachment import Attachment
from models.audit import AdminAuditEntry
from models.base import Base, utcnow
from models.body import Body, BodyKind
from models.case import Case, CaseExpense, case_national_goals
from models.deadline import Deadline, DeadlineKind
from models.event import GENESIS_HASH, CaseEvent
from models.goal import FocusArea, FocusSubGoal, NationalGoal
from models.implementation import ImplementationState, ImplementationStatus
from models.meeting import AgendaItem, ItemKind, Meeting, MeetingStatus
from models.membership import Membership, Role
from models.notification import Notification
from models.party import Party, PartyKind, PlanningArea
from models.process import ProcessVersion
from models.user import User

__all__ = [
    "GENESIS_HASH",
    "AdminAuditEntry",
    "AgendaItem",
    "Attachment",
    "Base",
    "Body",
    "BodyKind",
    "Case",
    "CaseEvent",
    "CaseExpense",
    "Deadline",
    "DeadlineKind",
    "FocusArea",
    "FocusSubGoal",
    "ImplementationState",
    "ImplementationStatus",
    "ItemKind",
    "Meeting",
    "MeetingStatus",
    "Membership",
    "NationalGoal",
    "Notification",
    "Party",
    "PartyKind",
    "PlanningArea",
    "ProcessVersion",
    "Role",
    "User",
    "case_national_goals",
    "utcnow",
]
