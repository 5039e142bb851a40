"""On-enter actions of implementation, named by the process definitions (`on_enter = [...]`)."""

from __future__ import annotations

from workflow.engine.actions import ActionContext, action
from workflow.implementation.operations import close_follow_ups as close
from workflow.implementation.operations import create_units
from workflow.implementation.operations import record_indicator_values as record_values


@action("create_implementation_units")
def create_implementation_units(context: ActionContext) -> None:
    """Create the units that must implement the case, with their follow-up deadlines."""
    create_units(context.session, context.case, context.actor, context.now)


@action("close_follow_ups")
def close_follow_ups(context: ActionContext) -> None:
    """Meet the case's open follow-up deadlines: implementation tracking has ended."""
    close(context.session, context.case, context.now)


@action("record_indicator_values")
def record_indicator_values(context: ActionContext) -> None:
    """Put the values SKU followed up on into the case's record, as they stood that day."""
    record_values(context.session, context.case, context.now)
