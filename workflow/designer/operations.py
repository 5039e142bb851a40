"""The designer's writes: save, discard and publish a draft; move cases in flight to the new
version. Each ends in one unit of work; publishing and moving are audited by the engine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Case, ProcessDraft, ProcessVersion, User
from workflow.designer.queries import check, source_name
from workflow.engine import core as engine
from workflow.engine.definitions import DefinitionError
from workflow.engine.errors import StaleChange
from workflow.engine.processes import VersionMoved, registry
from workflow.engine.unit_of_work import unit_of_work


class StaleDraft(StaleChange):
    """The draft was saved, published or discarded by someone else since the form was opened."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Kladden til '{name}' er blevet ændret af en anden, siden du åbnede den. Dine "
            "ændringer er ikke gemt; det, du skrev, står stadig i feltet. Se kladden, som den er "
            "nu, og gem igen, hvis din skal erstatte den.",
            f"The draft of '{name}' was changed by someone else after you opened it. Your "
            "changes were not saved; what you wrote is still in the field. Look at the draft as "
            "it is now, and save again if yours should replace it.",
        )


def _on_stale(name: str) -> StaleDraft:
    return StaleDraft(name)


def _locked_draft(session: Session, name: str) -> ProcessDraft | None:
    """The draft, locked until the unit ends (PostgreSQL; SQLite's unit holds the write lock):
    two admins publishing or saving it at once take turns, and the second sees what the
    first did."""
    return session.scalar(select(ProcessDraft).where(ProcessDraft.name == name).with_for_update())


def save_draft(
    session: Session, actor: User, name: str, source: str, *, revision: int, base_version: int
) -> ProcessDraft:
    """Save `source` as the draft of `name` once the loader accepts it.

    `revision` is the draft's revision the admin edited (0: there was none, the draft starts
    from `base_version`); a draft saved since by someone else is never overwritten.
    """
    _definition, problem = check(name, source)
    if problem is not None:
        raise DefinitionError(f"{source_name(name)}: {problem.key}: {problem.message}")
    try:
        with unit_of_work(session, on_stale=lambda: _on_stale(name)):
            draft = _locked_draft(session, name)
            if draft is None:
                if revision:
                    raise StaleDraft(name)  # published or discarded meanwhile
                latest = registry.latest(session, name).version
                if latest != base_version:
                    raise VersionMoved(name, base_version, latest)
                draft = ProcessDraft(name=name, source=source, base_version=base_version)
                session.add(draft)
            elif draft.revision != revision:
                raise StaleDraft(name)
            else:
                draft.source = source
            draft.updated_by_id = actor.id
            session.flush()
    except IntegrityError:  # two admins started the same draft at once
        raise StaleDraft(name) from None
    return draft


def discard_draft(session: Session, name: str, *, revision: int) -> None:
    """Throw the draft of `name` away (the published versions are untouched)."""
    with unit_of_work(session, on_stale=lambda: _on_stale(name)):
        draft = _locked_draft(session, name)
        if draft is None or draft.revision != revision:
            raise StaleDraft(name)
        session.delete(draft)
        session.flush()


def publish_draft(session: Session, actor: User, name: str, *, revision: int) -> ProcessVersion:
    """Publish the draft of `name` as its next version through the engine, and end the draft."""
    try:
        with unit_of_work(session, on_stale=lambda: _on_stale(name)):
            draft = _locked_draft(session, name)
            if draft is None or draft.revision != revision:
                raise StaleDraft(name)
            row = registry.publish(
                session, name, draft.source, based_on=draft.base_version, actor_id=actor.id
            )
            session.delete(draft)
            session.flush()
    except IntegrityError:  # a version of that number was stored at the same moment
        raise StaleDraft(name) from None
    return row


@dataclass(frozen=True)
class Moved:
    """What moving the cases did: how many moved, per earlier version."""

    count: int
    versions: tuple[int, ...]


def move_cases(
    session: Session,
    actor: User,
    name: str,
    state_map: dict[int, dict[str, str]],
) -> Moved:
    """Move the open cases of `name` on earlier versions to the newest one, each through the
    engine's explicit state mapping (one sealed event and one admin audit row per case).

    `state_map` maps a version to {old state: new state}; a version left out stays where it is.
    All cases move in one transaction, or none does.
    """
    newest = registry.latest(session, name).version
    moved = 0
    with unit_of_work(session):
        for version, mapping in sorted(state_map.items()):
            if version >= newest:
                continue
            old = registry.get(session, name, version)
            cases = session.scalars(
                select(Case)
                .where(
                    Case.process == name,
                    Case.process_version == version,
                    Case.state.in_(list(mapping)),
                )
                .order_by(Case.id)
            ).all()
            for case in cases:
                if old.states[case.state].final:
                    continue
                engine.migrate_case_version(
                    case, newest, mapping, actor, comment="Flyttet i procesdesigneren"
                )
                moved += 1
    return Moved(moved, tuple(sorted(state_map)))
