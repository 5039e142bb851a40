"""Nudging a case along: asking whoever may take its next step, and reminding the body that
must deliver missing material. Each is recorded on the case's timeline and allowed once a day
(per case and asker, or per case and reminded body), so a click twice does not spam anyone.

Taking the case's record (sagsakt) is a disclosure, logged on the admin chain (not on the
case's timeline: the record must not change by being taken; docs/record.md)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Case, CaseEvent, User
from workflow import policy
from workflow.cases import record
from workflow.cases.next_step import next_step
from workflow.engine import admin_audit, clock
from workflow.engine.calendar import end_of_day, local_date
from workflow.engine.core import append_event
from workflow.engine.errors import WorkflowError
from workflow.engine.localtime import format_date
from workflow.engine.mail_text import EMPTY, Text, bilingual, day, join, labelled
from workflow.engine.outbox import CHAIRS_AND_SECRETARIAT, enqueue, members_of
from workflow.engine.unit_of_work import unit_of_work

ASKED = "next_step_requested"
REMINDED = "material_reminder_sent"
RECORD_EXPORTED = "case_record_exported"
Channel = Literal["page", "api"]


def _today_events(session: Session, case: Case, trigger: str, now: datetime) -> list[CaseEvent]:
    """The case's events of `trigger` from today (Danish calendar day)."""
    day_start = end_of_day(local_date(now) - timedelta(days=1))
    return list(
        session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == case.id,
                CaseEvent.trigger == trigger,
                CaseEvent.created_at > day_start,
            )
        )
    )


def ask_for_next_step(session: Session, case: Case, actor: User, now: datetime) -> int:
    """Ask the people who may take the case's next step to take it; return how many were told.

    Refused for someone who may act themselves, when no one holds the role, and a second
    time on the same day by the same person."""
    policy.require(actor, "ask_next_step", case, session)
    step = next_step(session, case, now)
    if step is None or policy.may(actor, "act", case, session):
        raise WorkflowError(
            "Du kan selv tage sagens næste skridt under »Dine handlinger«.",
            "You can take the case's next step yourself under “Your actions”.",
        )
    recipients = [u for u in step.recipients if u.id != actor.id]
    if not recipients:
        raise WorkflowError(
            "Ingen har lige nu den rolle, der kan tage sagens næste skridt. Kontakt en "
            "administrator.",
            "No one holds the role that can take the case's next step. Contact an administrator.",
        )
    if any(e.actor_id == actor.id for e in _today_events(session, case, ASKED, now)):
        raise WorkflowError(
            f"Du har allerede bedt om sagens næste skridt i dag ({format_date(now)}). "
            "Du kan spørge igen i morgen.",
            "You have already asked for the case's next step today. You can ask again tomorrow.",
        )
    what = "indstilling" if step.asks_for_recommendation else "behandling"
    names = ", ".join(u.name for u in recipients)
    today = local_date(now).isoformat()
    state = labelled(step.state.label, step.state.label_en)
    if step.asks_for_recommendation:
        subject = bilingual("%(name)s beder om indstilling: %(title)s", name=actor.name,
                            title=case.title)  # fmt: skip
    else:
        subject = bilingual("%(name)s beder om behandling: %(title)s", name=actor.name,
                            title=case.title)  # fmt: skip
    text = bilingual(
        "%(name)s beder dig om at tage det næste skridt på sagen '%(title)s' (%(state)s).",
        name=actor.name, title=case.title, state=state,
    )  # fmt: skip
    with unit_of_work(session):
        event = append_event(
            session, case, trigger=ASKED, actor=actor, from_state=case.state,
            comment=f"{actor.name} bad om {what}: {names}.", now=now,
            data={"asked": [u.id for u in recipients], "what": what},
        )  # fmt: skip
        for person in recipients:
            enqueue(
                session,
                key=f"ask:{case.id}:{actor.id}:{today}:{person.id}",
                recipient_id=person.id,
                kind="next_step_requested",
                subject=subject,
                body=text,
                case_id=case.id,
                created_at=event.created_at,
                send_after=event.created_at,
            )
    return len(recipients)


def material_body(session: Session, case: Case) -> Body:
    """The body that must deliver the case's material: the one that raised it."""
    body = session.get(Body, case.originating_body_id)
    assert body is not None  # foreign keys guarantee it
    return body


def remind_about_material(session: Session, case: Case, actor: User, now: datetime) -> int:
    """Remind the body that must deliver the case's material (its chairs and secretariat) of
    what is missing before the materialefrist; once a day per case and body."""
    policy.require(actor, "remind_material", case, session)
    body = material_body(session, case)
    if any(
        (e.data or {}).get("body") == body.code for e in _today_events(session, case, REMINDED, now)
    ):
        raise WorkflowError(
            f"{body.name} er allerede mindet om sagen i dag ({format_date(now)}). Der kan "
            "sendes én påmindelse om dagen; prøv igen i morgen.",
            f"{body.name} has already been reminded about the case today. One reminder a day "
            "can be sent; try again tomorrow.",
        )
    step = next_step(session, case, now)
    missing = [Text(f.message, f.message_en or f.message) for f in step.missing] if step else []
    deadline = f" Fristen er {format_date(step.deadline)}." if step and step.deadline else ""
    due = EMPTY
    if step and step.deadline:
        due = " " + bilingual("Fristen er %(day)s.", day=day(step.deadline))
    lacks = EMPTY
    if missing:
        lacks = "\n" + bilingual("Det mangler:") + "\n- " + join("\n- ", missing)
    subject = bilingual("Påmindelse om materiale: %(title)s", title=case.title)
    text = (
        bilingual("Sagen '%(title)s' skal have sit materiale på plads.", title=case.title)
        + due
        + lacks
    )
    today = local_date(now).isoformat()
    recipients = [u for u in members_of(session, body.id, CHAIRS_AND_SECRETARIAT) if u != actor.id]
    with unit_of_work(session):
        event = append_event(
            session, case, trigger=REMINDED, actor=actor, from_state=case.state,
            comment=f"{actor.name} mindede {body.name} om sagens materiale.{deadline}",
            data={"body": body.code, "reminded": recipients}, now=now,
        )  # fmt: skip
        for user_id in recipients:
            enqueue(
                session,
                key=f"material_reminder:{case.id}:{body.id}:{today}:{user_id}",
                recipient_id=user_id,
                kind="reminder",
                subject=subject,
                body=text,
                case_id=case.id,
                created_at=event.created_at,
                send_after=event.created_at,
            )
    return len(recipients)


def export_record(
    session: Session,
    case: Case,
    reader: User,
    *,
    channel: Channel,
    folder: str | os.PathLike[str] | None = None,
) -> record.Record:
    """Build the case's record for `reader` and log its disclosure: one sealed entry on the
    admin chain (who, when, which case, through the page or the API, and the fingerprint of the
    very record handed out), committed before the first byte is streamed.

    Nothing is logged when the record is refused (no access, a damaged file): nothing was
    disclosed. The case and its events are not touched, so the same case gives the same ZIP."""
    built = record.build(session, case, reader, folder=folder)
    with unit_of_work(session):
        admin_audit.record(
            session,
            actor_id=reader.id,
            action=RECORD_EXPORTED,
            object_type="case",
            object_id=case.id,
            data={
                "channel": channel,
                "as_of": built.as_of.astimezone(UTC).isoformat(),
                "events": built.events,
                "chain_head": built.chain_head,
                "files": len(built.entries) - 1,
                "manifest_sha256": built.manifest_sha256,
            },
            created_at=clock.now(),
        )
    return built
