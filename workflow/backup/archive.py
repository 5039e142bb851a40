"""The backup file: one tar archive holding a manifest, the database copy and the attachments.

    aftaleflow-backup.json     format, database kind, when, migration revision, file count
    database.sqlite3           SQLite: the online-backup copy      (or)
    database.pgdump            PostgreSQL: pg_dump's custom format
    attachments/<storage key>  every file in the attachments folder, byte for byte

Attachments live on disk, not in the database (workflow.cases.attachments), so a backup
without them would restore cases whose files are missing. The archive is not compressed:
pg_dump's format is compressed already, and most attachments (PDF, DOCX, XLSX) are too.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import IO

MANIFEST = "aftaleflow-backup.json"
FORMAT = 1
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ATTACHMENTS = "attachments"


class ArchiveError(ValueError):
    """The file is not an Aftaleflow backup this version can read."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds."""

    format: int
    dialect: str
    created_at: str
    revisions: list[str]
    attachments: int


def write(
    target: Path, manifest: Manifest, database_copy: Path, attachments: list[tuple[str, Path]]
) -> None:
    """Write the archive to `target` (a new file; the caller renames it into place)."""
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as archive:
        data = json.dumps(asdict(manifest), indent=2).encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime = len(data), int(time.time())
        archive.addfile(info, io.BytesIO(data))
        archive.add(database_copy, arcname=DATABASE_MEMBER[manifest.dialect], recursive=False)
        for name, path in attachments:
            archive.add(path, arcname=f"{ATTACHMENTS}/{name}", recursive=False)


def open_archive(source: Path) -> tarfile.TarFile:
    """Open a backup for reading; refuse anything that is not a tar archive."""
    try:
        return tarfile.open(source, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise ArchiveError(f"{source} er ikke en Aftaleflow-backup (ikke et tar-arkiv).") from exc


def read_manifest(archive: tarfile.TarFile, source: Path) -> Manifest:
    """Read and check the manifest."""
    try:
        member = archive.extractfile(MANIFEST)
        assert member is not None
        raw = json.loads(member.read().decode("utf-8"))
        manifest = Manifest(**raw)
    except (KeyError, AssertionError, ValueError, TypeError) as exc:
        raise ArchiveError(
            f"{source} er ikke en Aftaleflow-backup (manifestet {MANIFEST} mangler eller er "
            "ugyldigt)."
        ) from exc
    if manifest.format != FORMAT or manifest.dialect not in DATABASE_MEMBER:
        raise ArchiveError(
            f"{source} har backupformat {manifest.format} ({manifest.dialect}); denne version "
            f"af Aftaleflow læser format {FORMAT}. Gendan med den version, der lavede backuppen."
        )
    return manifest


def extract_database(archive: tarfile.TarFile, manifest: Manifest, target: Path) -> None:
    """Copy the database member to `target`."""
    member = archive.extractfile(DATABASE_MEMBER[manifest.dialect])
    if member is None:
        raise ArchiveError("Backuppen mangler databasekopien.")
    with member, target.open("wb") as out:
        shutil.copyfileobj(member, out, length=1024 * 1024)


def attachment_members(archive: tarfile.TarFile) -> Iterator[tuple[PurePosixPath, tarfile.TarInfo]]:
    """The attachment files, each with its path inside the attachments folder.

    Only plain files under attachments/ with no '..' or absolute part are read, so a crafted
    archive cannot write outside the folder."""
    for member in archive.getmembers():
        path = PurePosixPath(member.name)
        if path.parts[:1] != (ATTACHMENTS,) or len(path.parts) < 2 or member.isdir():
            continue
        relative = PurePosixPath(*path.parts[1:])
        if not member.isfile() or relative.is_absolute() or ".." in relative.parts:
            raise ArchiveError(f"Backuppen indeholder en ugyldig bilagssti: {member.name}")
        yield relative, member


def open_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    """The bytes of one member."""
    handle = archive.extractfile(member)
    if handle is None:
        raise ArchiveError(f"Backuppen indeholder en ugyldig fil: {member.name}")
    return handle
