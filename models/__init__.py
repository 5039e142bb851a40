"""Typed SQLAlchemy models of Aftaleflow, one module per aggregate."""

from models.api_token import ApiToken
from models.attachment import Attachment
from models.audit import AdminAuditEntry
from models.base import Base, utcnow
from models.body import (
    Body,
    BodyKind,
    BodyName,
    BodyParent,
    BodySuccession,
    Reorganisation,
    SuccessionKind,
)
from models.calendar_feed import CalendarFeedToken
from models.case import Case, CaseExpense, case_national_goals
from models.consultation import Consultation, ConsultationResponse, ResponseStatus
from models.deadline import Deadline, DeadlineKind
from models.decision import DecisionTemplate, FollowUpItem
from models.event import GENESIS_HASH, CaseEvent
from models.external_identity import ExternalIdentity, SeenAssertion
from models.goal import FocusArea, FocusSubGoal, NationalGoal
from models.implementation import ImplementationState, ImplementationStatus
from models.indicator import Indicator, IndicatorDirection, IndicatorValue, case_indicators
from models.login_throttle import LoginThrottle
from models.meeting import AgendaItem, ItemKind, Meeting, MeetingStatus
from models.meeting_attendance import Attendance, MeetingAttendee, MinutesApproval
from models.meeting_series import (
    DocumentVersion,
    MeetingHistoryEntry,
    MeetingSeries,
    SeriesFrequency,
    meeting_series_meetings,
)
from models.membership import Membership, Role
from models.notification import Notification
from models.party import Party, PartyKind, PartyPlanningArea, PlanningArea
from models.plan import PlanItem, plan_item_indicators
from models.process import ProcessVersion
from models.process_draft import ProcessDraft, ProcessPublication
from models.scheduler_lock import SchedulerLock
from models.search import SearchDocument
from models.user import User
from models.webhook import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "GENESIS_HASH",
    "AdminAuditEntry",
    "AgendaItem",
    "ApiToken",
    "Attachment",
    "Attendance",
    "Base",
    "Body",
    "BodyKind",
    "BodyName",
    "BodyParent",
    "BodySuccession",
    "CalendarFeedToken",
    "Case",
    "CaseEvent",
    "CaseExpense",
    "Consultation",
    "ConsultationResponse",
    "Deadline",
    "DeadlineKind",
    "DecisionTemplate",
    "DeliveryStatus",
    "DocumentVersion",
    "ExternalIdentity",
    "FocusArea",
    "FocusSubGoal",
    "FollowUpItem",
    "ImplementationState",
    "ImplementationStatus",
    "Indicator",
    "IndicatorDirection",
    "IndicatorValue",
    "ItemKind",
    "LoginThrottle",
    "Meeting",
    "MeetingAttendee",
    "MeetingHistoryEntry",
    "MeetingSeries",
    "MeetingStatus",
    "Membership",
    "MinutesApproval",
    "NationalGoal",
    "Notification",
    "Party",
    "PartyKind",
    "PartyPlanningArea",
    "PlanItem",
    "PlanningArea",
    "ProcessDraft",
    "ProcessPublication",
    "ProcessVersion",
    "Reorganisation",
    "ResponseStatus",
    "Role",
    "SchedulerLock",
    "SearchDocument",
    "SeenAssertion",
    "SeriesFrequency",
    "SuccessionKind",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "case_indicators",
    "case_national_goals",
    "meeting_series_meetings",
    "plan_item_indicators",
    "utcnow",
]
