"""Versioned process definitions: files in states/ are stored as versions in the database.

A case records the version it started on and keeps following it after the file changes.
One `transitions` machine is built per (process, version) and shared by all its cases.
"""

from __future__ import annotations

from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from models import ProcessPublication, ProcessVersion
from workflow.engine import admin_audit
from workflow.engine.definitions import (
    DefinitionError,
    ProcessDefinition,
    check_one_plan_year,
    load_definitions,
    parse_definition,
)
from workflow.engine.errors import StaleChange
from workflow.engine.unit_of_work import unit_of_work

if TYPE_CHECKING:
    from transitions import Machine


class UnknownProcess(LookupError):
    """No stored definition has this name (or version)."""


class VersionMoved(StaleChange):
    """Another version of the process was stored since the draft was started from one."""

    def __init__(self, name: str, based_on: int, latest: int) -> None:
        self.based_on = based_on
        self.latest = latest
        super().__init__(
            f"Der er gemt en nyere version af processen '{name}' (version {latest}), siden "
            f"kladden blev startet fra version {based_on}. Kassér kladden, og start forfra fra "
            "den nyeste version; intet er udgivet.",
            f"A newer version of process '{name}' (version {latest}) was stored after the draft "
            f"was started from version {based_on}. Discard the draft and start again from the "
            "newest version; nothing was published.",
        )


class ProcessRegistry:
    """Cache of parsed definitions and their shared machines, keyed by (name, version)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        # Keyed by content hash too: a version number alone could name different texts in
        # databases the same process talks to (tests roll back, databases are rebuilt).
        self._definitions: dict[tuple[str, int, str], ProcessDefinition] = {}
        self._machines: dict[tuple[str, int, str], Machine] = {}
        self._lock = Lock()

    def sync(self, session: Session) -> list[ProcessVersion]:
        """Store each file whose content differs from its latest version as a new version."""
        created: list[ProcessVersion] = []
        for name, definition in load_definitions(self.directory).items():
            latest = self._latest_row(session, name)
            if latest is not None and latest.sha256 == definition.sha256:
                continue
            if latest is not None and self._file_is_behind_designer(session, latest, definition):
                continue
            row = ProcessVersion(
                name=name,
                version=(latest.version + 1) if latest else 1,
                source=definition.source,
                sha256=definition.sha256,
            )
            session.add(row)
            created.append(row)
        session.flush()
        return created

    def publish(
        self, session: Session, name: str, source: str, *, based_on: int, actor_id: int | None
    ) -> ProcessVersion:
        """Store `source` as the next version of `name`, validated by the loader and audited.

        Refused (`VersionMoved`) when a version newer than `based_on` was stored meanwhile, so
        a publish never silently drops a change made since the draft was started. Cases in
        flight keep their version; new cases start on this one.
        """
        source_name = f"{name} (kladde)"
        definition = parse_definition(source, source_name)
        if definition.name != name:
            raise DefinitionError(
                f"{source_name}: name: skal være '{name}'; en ny proces oprettes i states/"
            )
        check_one_plan_year(definition, self.all_latest(session))
        with unit_of_work(session):
            latest = self._latest_row(session, name)
            if latest is None:
                raise UnknownProcess(f"Processen '{name}' findes ikke.")
            if latest.version != based_on:
                raise VersionMoved(name, based_on, latest.version)
            if latest.sha256 == definition.sha256:
                raise DefinitionError(
                    f"{source_name}: kladden er magen til version {latest.version}; "
                    "der er intet at udgive"
                )
            row = ProcessVersion(
                name=name, version=latest.version + 1, source=source, sha256=definition.sha256
            )
            session.add(row)
            session.flush()
            session.add(
                ProcessPublication(
                    process_version_id=row.id,
                    name=name,
                    version=row.version,
                    based_on=based_on,
                    published_by_id=actor_id,
                )
            )
            admin_audit.record(
                session,
                actor_id=actor_id,
                action="process_published",
                object_type="process",
                object_id=name,
                data={"version": row.version, "based_on": based_on, "sha256": row.sha256},
            )
        return row

    def _file_is_behind_designer(
        self, session: Session, latest: ProcessVersion, definition: ProcessDefinition
    ) -> bool:
        """Whether the newest version was published in the designer and the file holds the
        text of an earlier version: storing it again would undo the published change."""
        published = session.scalar(
            select(ProcessPublication.id).where(ProcessPublication.process_version_id == latest.id)
        )
        if published is None:
            return False
        earlier = session.scalar(
            select(ProcessVersion.id).where(
                ProcessVersion.name == latest.name, ProcessVersion.sha256 == definition.sha256
            )
        )
        return earlier is not None

    def latest(self, session: Session, name: str) -> ProcessDefinition:
        """Return the newest stored version of process `name`."""
        versions = [d for (n, _v), d in self._stored(session).items() if n == name]
        if not versions:
            raise UnknownProcess(
                f"Processen '{name}' findes ikke. Kendte: {', '.join(self.names(session))}."
            )
        return max(versions, key=lambda definition: definition.version)

    def get(self, session: Session, name: str, version: int) -> ProcessDefinition:
        """Return version `version` of process `name`."""
        # Stored versions never change (a trigger forbids it), so the session keeps each one
        # it has seen across its transactions: a transition does not read the catalogue again.
        seen: dict[tuple[str, int], ProcessDefinition] = session.info.setdefault(
            "process_versions", {}
        )
        definition = seen.get((name, version)) or self._stored(session).get((name, version))
        if definition is None:
            raise UnknownProcess(f"Processen '{name}' findes ikke i version {version}.")
        seen[(name, version)] = definition
        return definition

    def stored(self, session: Session) -> dict[tuple[str, int], ProcessDefinition]:
        """Every stored version, keyed by (name, version)."""
        return dict(self._stored(session))

    def _stored(self, session: Session) -> dict[tuple[str, int], ProcessDefinition]:
        # One small query per transaction serves every question about the stored versions
        # (lists, the dashboard, the visibility rules, each case's own version): the versions'
        # keys and checksums only; a version's source is read and parsed once per process.
        # When the transaction has read the versions' mark (the page frame reads it with the
        # user), the set kept for that mark serves without the query.
        stored: dict[tuple[str, int], ProcessDefinition] | None = session.info.get(_STORED)
        if stored is None:
            mark: tuple[int, int] | None = session.info.get(_MARK)
            if mark is not None:
                stored = _BY_MARK.get((_database(session), *mark))
            if stored is None:
                stored = self._read_stored(session)
            session.info[_STORED] = stored
        return stored

    def _read_stored(self, session: Session) -> dict[tuple[str, int], ProcessDefinition]:
        stored: dict[tuple[str, int], ProcessDefinition] = {}
        rows = session.execute(_VERSION_KEYS).all()
        for row_id, name, version, sha256 in rows:
            definition = self._definitions.get((name, version, sha256))
            if definition is None:
                full = session.get(ProcessVersion, row_id)
                assert full is not None
                definition = self._parse(full)
            stored[(name, version)] = definition
        # Kept for other requests and workers' marks only when every row read is committed
        # (no version written in this transaction, which might yet be rolled back).
        if rows and not session.info.get(_WROTE_VERSIONS):
            if len(_BY_MARK) >= _MARKS_KEPT:
                _BY_MARK.clear()
            _BY_MARK[(_database(session), len(rows), max(row[0] for row in rows))] = stored
        return stored

    def declaring(self, session: Session, definition: ProcessDefinition) -> ProcessDefinition:
        """Return the version whose meeting outcomes, implementation and plan year apply.

        That is `definition` itself, unless it was stored before the definitions declared these
        (it declares none of them): its cases then read them from the newest version of their
        process, for the states and triggers their own version has.
        """
        if definition.declares_domain_keys:
            return definition
        latest = self.latest(session, definition.name)
        return latest if latest.declares_domain_keys else definition

    def names(self, session: Session) -> list[str]:
        """List the names of every stored process."""
        return sorted({name for name, _version in self._stored(session)})

    def all_latest(self, session: Session) -> list[ProcessDefinition]:
        """Return the newest version of every process, by name."""
        return [self.latest(session, name) for name in self.names(session)]

    def machine(self, definition: ProcessDefinition) -> Machine:
        """Return the one shared machine of this definition version (never one per case)."""
        from transitions import Machine  # on the first transition, not at start

        key = (definition.name, definition.version, definition.sha256)
        with self._lock:
            machine = self._machines.get(key)
            if machine is None:
                machine = Machine(
                    model=None,
                    states=list(definition.states),
                    initial=definition.initial,
                    transitions=[
                        {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
                        for t in definition.transitions
                    ],
                    auto_transitions=False,
                    ignore_invalid_triggers=False,
                )
                self._machines[key] = machine
            return machine

    def _latest_row(self, session: Session, name: str) -> ProcessVersion | None:
        """The newest stored row of `name`, read afresh (storing and publishing a version)."""
        newest = (
            select(func.max(ProcessVersion.version))
            .where(ProcessVersion.name == name)
            .scalar_subquery()
        )
        return session.scalar(
            select(ProcessVersion).where(
                ProcessVersion.name == name, ProcessVersion.version == newest
            )
        )

    def _parse(self, row: ProcessVersion) -> ProcessDefinition:
        key = (row.name, row.version, row.sha256)
        cached = self._definitions.get(key)
        if cached is None:
            try:
                parsed = parse_definition(row.source, f"{row.name} version {row.version}")
            except DefinitionError as exc:  # a stored version that no longer validates
                raise DefinitionError(f"{exc} (gemt version)") from exc
            cached = parsed.with_version(row.version)
            self._definitions[key] = cached
        return cached


_STORED = "process_stored"
_MARK = "process_versions_mark"
_WROTE_VERSIONS = "process_versions_written"
# Read in every transaction that asks about a process: built once (its SQL cache key with it).
_VERSION_KEYS = select(
    ProcessVersion.id, ProcessVersion.name, ProcessVersion.version, ProcessVersion.sha256
).order_by(ProcessVersion.name, ProcessVersion.version)

# The stored versions' mark: how many there are and the newest id. Versions are only ever
# added (a trigger forbids changing or deleting one) and a publish commits its row, so in one
# database the mark names one set of versions, in every worker: the page frame reads it in the
# statement that reads the user (`workflow.policy.load_user`) and `note_mark` hands it over.
VERSIONS_MARK = select(
    func.count(ProcessVersion.id).label("versions"),
    func.max(ProcessVersion.id).label("newest"),
).subquery("versions_mark")
# (database, versions, newest id) -> the stored versions: kept across requests and sessions.
_BY_MARK: dict[tuple[str, int, int], dict[tuple[str, int], ProcessDefinition]] = {}
_MARKS_KEPT = 16


def note_mark(session: Session, versions: int, newest: int | None) -> None:
    """Note the stored versions' mark read in the session's transaction (see VERSIONS_MARK)."""
    if newest is not None and _STORED not in session.info:
        session.info[_MARK] = (versions, newest)


def _database(session: Session) -> str:
    # One process may talk to several databases (tools, tests): a mark is one database's.
    return str(session.get_bind().engine.url)


def _forget_latest(session: Session) -> None:
    session.info.pop(_STORED, None)
    session.info.pop(_MARK, None)


@event.listens_for(Session, "after_flush")
def _new_versions_change_the_latest(session: Session, _context: Any) -> None:
    if any(isinstance(obj, ProcessVersion) for obj in session.new):
        _forget_latest(session)
        session.info[_WROTE_VERSIONS] = True
        # Rolled back (tests roll back every write) a row's id may be given again to other text.
        _BY_MARK.clear()


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    _forget_latest(session)
    session.info.pop(_WROTE_VERSIONS, None)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    _forget_latest(session)
    session.info.pop(_WROTE_VERSIONS, None)


registry = ProcessRegistry()
