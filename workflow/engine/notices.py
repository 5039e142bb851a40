"""Who hears about a transition: written to the outbox in the transition's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from models import Body, Case, CaseEvent, User
from workflow.engine.definitions import ProcessDefinition, TransitionSpec
from workflow.engine.mail_text import EMPTY, Text, bilingual, labelled
from workflow.engine.outbox import (
    CHAIRS_AND_SECRETARIAT,
    insert_new,
    members_of,
    notification_row,
)


def _body(session: Session, body_id: int) -> Body:
    body = session.get(Body, body_id)
    assert body is not None  # foreign keys guarantee it
    return body


def after_transition(
    session: Session,
    case: Case,
    event: CaseEvent,
    definition: ProcessDefinition,
    transition: TransitionSpec,
    actor: User | None,
    *,
    body_changed: bool,
    caused_by: User | None = None,
) -> None:
    """Tell the new body, every member of the originating body and the informed bodies —
    once each.

    Whoever acted (or caused an automatic route) sees the result at once and is not told.
    A records-only transition changes no state: only the bodies it informs are told.
    """
    skip = {user.id for user in (actor, caused_by) if user is not None}
    state = definition.states[case.state]
    current = _body(session, case.current_body_id)
    messages: dict[int, tuple[str, Text, Text]] = {}
    # Each message in Danish and English, built once for all its recipients (the recipient's
    # language is chosen when it is sent or shown).
    reason = EMPTY
    if event.comment:
        reason = "\n\n" + bilingual("Begrundelse: %(comment)s", comment=event.comment)
    title = case.title
    state_label = labelled(state.label, state.label_en)
    transition_label = labelled(transition.label, transition.label_en)

    if transition.enters_state and (body_changed or transition.is_self_loop):
        arrived = (
            "case_arrived",
            bilingual(
                "Ny sag til behandling i %(body)s: %(title)s", body=current.code, title=title
            ),
            bilingual(
                "Sagen '%(title)s' er nu hos %(body)s (%(state)s).",
                title=title, body=current.name, state=state_label,
            ) + reason,
        )  # fmt: skip
        for user_id in members_of(session, current.id, CHAIRS_AND_SECRETARIAT):
            messages.setdefault(user_id, arrived)
    # Every member of the body that raised the case hears of each move (setdefault: once).
    moved = members_of(session, case.originating_body_id) if transition.enters_state else []
    if moved:
        status = (
            "status_changed",
            bilingual("Status på '%(title)s': %(state)s", title=title, state=state_label),
            bilingual(
                "%(transition)s: sagen er nu '%(state)s' hos %(body)s.",
                transition=transition_label, state=state_label, body=current.code,
            ) + reason,
        )  # fmt: skip
        for user_id in moved:
            messages.setdefault(user_id, status)
    for code in transition.inform:
        body = session.query(Body).filter_by(code=code).one_or_none()
        if body is None:
            continue  # an organisation without this observer body informs no one
        process = labelled(definition.title, definition.title_en)
        lowered = Text(transition_label.da.lower(), transition_label.en.lower())
        information = (
            "information",
            bilingual("Til orientering: %(title)s – %(transition)s", title=title,
                      transition=transition_label),
            bilingual(
                "%(process)s '%(title)s': %(transition)s (%(state)s).",
                process=process, title=title, transition=lowered, state=state_label,
            ) + reason,
        )  # fmt: skip
        for user_id in members_of(session, body.id):
            messages.setdefault(user_id, information)
    # One INSERT for every recipient; a key stored already (the event told before) is
    # skipped by the database, not looked up one by one.
    rows = [
        notification_row(
            key=f"event:{event.id}:user:{user_id}",
            recipient_id=user_id,
            kind=kind,
            subject=subject,
            body=body_text,
            case_id=case.id,
            created_at=event.created_at,
        )
        for user_id, (kind, subject, body_text) in sorted(messages.items())
        if user_id not in skip
    ]
    insert_new(session, rows)


def proposal_awaits_consent(
    session: Session, case: Case, event: CaseEvent, body_id: int, label: Text, side: str | None
) -> None:
    """Tell the other co-chairs of the deciding body that a co-chair's decision awaits their
    consent (seed 000 l.83-85: a joint chairmanship) — once, keyed by the proposal event."""
    from workflow.engine.formandskab import CHAIR_ROLES, side_of

    body = _body(session, body_id)
    subject = bilingual(
        "Forslag til formandskabet i %(body)s: %(title)s", body=body.code, title=case.title
    )
    text = bilingual(
        "En medformand for %(body)s foreslår »%(label)s« på sagen '%(title)s'. "
        "Formandskabet har besluttet, når du som den anden medformand giver dit "
        "samtykke ved at udføre samme handling på sagen.",
        body=body.name, label=label, title=case.title,
    )  # fmt: skip
    if event.comment:
        text += "\n\n" + bilingual("Begrundelse: %(comment)s", comment=event.comment)
    rows = []
    for user_id in members_of(session, body_id, CHAIR_ROLES):
        user = session.get(User, user_id)
        if user is None or user_id == event.actor_id:
            continue
        if side is not None and side_of(user) == side:
            continue  # the proposer's own side cannot consent
        rows.append(
            notification_row(
                key=f"event:{event.id}:user:{user_id}",
                recipient_id=user_id,
                kind="consent_requested",
                subject=subject,
                body=text,
                case_id=case.id,
                created_at=event.created_at,
            )
        )
    insert_new(session, rows)


def reassignment_rows(
    session: Session, case: Case, event: Mapping[str, Any], to_body: Body
) -> list[dict[str, Any]]:
    """The outbox rows telling the chairs and secretariat of the body a reorganisation hands
    a case to (written in bulk with the move).

    The recipients are read once per body and session (a plan moves thousands of cases);
    the key names the case and the event's place on its chain, so it is new.
    """
    cache: dict[int, list[int]] = session.info.setdefault("reassignment_recipients", {})
    if to_body.id not in cache:
        cache[to_body.id] = members_of(session, to_body.id, CHAIRS_AND_SECRETARIAT)
    subject = bilingual("Sag flyttet til %(body)s: %(title)s", body=to_body.code, title=case.title)
    # The event's comment is the audit trail's, in Danish.
    text = bilingual(
        "Sagen '%(title)s' er nu hos %(body)s. %(comment)s",
        title=case.title, body=to_body.name, comment=event["comment"],
    )  # fmt: skip
    return [
        notification_row(
            key=f"case:{case.id}:event:{event['seq']}:user:{user_id}",
            recipient_id=user_id,
            kind="case_arrived",
            subject=subject,
            body=text,
            case_id=case.id,
            created_at=event["created_at"],
        )
        for user_id in cache[to_body.id]
    ]
