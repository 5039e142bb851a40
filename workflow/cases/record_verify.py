"""Check a case record ZIP on its own: what `aftaleflow record verify FILE.zip` runs.

Every file the manifest lists is present with its size and SHA-256, no file is there that it
does not list, and the events' chain holds (record_chain.verify; the seals too when the audit
key is given). Problems are reported in Danish, one a line.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from workflow.cases import record_chain
from workflow.cases.record import EVENTS_FILE, FORMAT, MANIFEST_FILE


@dataclass
class RecordReport:
    """What verifying a record found."""

    case_id: Any = None
    files: int = 0
    events: int = 0
    keyed: bool = False
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One Danish line: intact, or how many problems."""
        if self.problems:
            return f"{len(self.problems)} problemer i sagsakten for sag {self.case_id}."
        seals = " og seglene med revisionsnøglen" if self.keyed else ""
        return (
            f"Sagsakten for sag {self.case_id} er intakt: {self.files} filer og kæden af "
            f"{self.events} hændelser{seals} kontrolleret."
        )


def _read_json(archive: zipfile.ZipFile, name: str, report: RecordReport) -> Any:
    try:
        return json.loads(archive.read(name))
    except KeyError:
        report.problems.append(f"{name} mangler")
    except ValueError:
        report.problems.append(f"{name} er ikke gyldig JSON")
    return None


def _check_files(archive: zipfile.ZipFile, manifest: dict[str, Any], report: RecordReport) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, list):
        report.problems.append("manifest.json har ingen liste af filer")
        return
    present = set(archive.namelist()) - {MANIFEST_FILE}
    for item in listed:
        name = str(item.get("name")) if isinstance(item, dict) else ""
        if name not in present:
            report.problems.append(f"{name or '(uden navn)'}: mangler i udtrækket")
            continue
        present.discard(name)
        report.files += 1
        digest = hashlib.sha256()
        size = 0
        with archive.open(name) as data:
            while block := data.read(1024 * 1024):
                digest.update(block)
                size += len(block)
        if digest.hexdigest() != item.get("sha256"):
            report.problems.append(f"{name}: SHA-256 passer ikke med manifestet")
        if size != item.get("size"):
            report.problems.append(f"{name}: størrelsen passer ikke med manifestet")
    for name in sorted(present):
        report.problems.append(f"{name}: står ikke i manifestet")


def _check_chain(
    events: Any, manifest: dict[str, Any], key: bytes | None, report: RecordReport
) -> None:
    chain = record_chain.verify(events, key)
    report.events, report.keyed = chain.events, chain.keyed
    report.problems.extend(f"{EVENTS_FILE}: {problem}" for problem in chain.problems)
    summary = manifest.get("chain") or {}
    rows = events.get("events") if isinstance(events, dict) else None
    head = rows[-1].get("hash") if isinstance(rows, list) and rows else None
    if summary.get("events") != chain.events or summary.get("head") != head:
        report.problems.append(
            f"{EVENTS_FILE}: kædens længde eller sidste hash passer ikke med manifestet"
        )
    if isinstance(events, dict) and events.get("case_id") != report.case_id:
        report.problems.append(f"{EVENTS_FILE}: hører til en anden sag end manifestet")


def verify(source: str | Path | IO[bytes], key: bytes | None = None) -> RecordReport:
    """Verify the record ZIP at `source` (a path or a binary file)."""
    report = RecordReport()
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        report.problems.append(f"Filen er ikke et læsbart ZIP-arkiv ({error})")
        return report
    with archive:
        manifest = _read_json(archive, MANIFEST_FILE, report)
        if not isinstance(manifest, dict):
            return report
        if manifest.get("format") != FORMAT:
            report.problems.append(f"manifest.json: ukendt format {manifest.get('format')!r}")
        report.case_id = (manifest.get("case") or {}).get("id")
        _check_files(archive, manifest, report)
        events = _read_json(archive, EVENTS_FILE, report)
        if events is not None:
            _check_chain(events, manifest, key, report)
    return report
