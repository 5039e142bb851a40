"""The comparison as plain text for `aftaleflow whatif` (Danish, as the CLI speaks)."""

from __future__ import annotations

from workflow.engine.calendar import local_date
from workflow.whatif.replay import Comparison, Row

STOPPED = {
    "history": "historikken passer ikke til sin egen definition",
    "state": "kladden mangler en tilstand, sagen var i",
    "transition": "kladden mangler et skift, sagen tog",
    "body": "kladden nævner et organ, der ikke findes",
    "calendar": "organet har intet møde sent nok i kalenderen",
}


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def _change(row: Row) -> str:
    change = row.change
    return "–" if change is None else f"{change:+.1f}".replace(".", ",")


def summary(result: Comparison) -> list[str]:
    """The sentences the page and the CLI open with."""
    earlier, later = result.moved_earlier, result.moved_later
    one = sum(1 for m in earlier if m.meetings_earlier == 1)
    lines = [
        f"{result.cases} sager oprettet {local_date(result.since):%d.%m.%Y}–"
        f"{local_date(result.now):%d.%m.%Y} er genafspillet.",
        f"{len(earlier)} behandlinger når et tidligere møde ({one} ét møde tidligere, "
        f"{len(earlier) - one} flere); {len(later)} kommer til et senere møde.",
        f"Materialefristen for førstkommende møde nås ikke: i dag {result.material_missed[0]}, "
        f"i kladden {result.material_missed[1]}.",
        f"Overskredne frister: i dag {result.breach_totals[0]}, i kladden "
        f"{result.breach_totals[1]}.",
    ]
    for reason, count in sorted(result.stopped.items()):
        lines.append(f"{count} sager kunne ikke genafspilles til ende: {STOPPED[reason]}.")
    return lines


def report(result: Comparison) -> str:
    """Summary and tables, columns separated by tabs."""
    out = summary(result)
    out += ["", "Tid i tilstand (dage)\tproces\ttilstand\tophold i dag\tgns. i dag\tophold "
            "kladde\tgns. kladde\tændring"]  # fmt: skip
    for row in result.stages:
        out.append(
            f"\t{row.key[0]}\t{row.key[1]}\t{row.today_count}\t{_days(row.today_mean)}\t"
            f"{row.draft_count}\t{_days(row.draft_mean)}\t{_change(row)}"
        )
    out += ["", "Tid hos organ (dage pr. sag)\torgan\tsager i dag\tgns. i dag\tsager kladde\t"
            "gns. kladde\tændring"]  # fmt: skip
    for row in result.bodies:
        out.append(
            f"\t{row.key[0]}\t{row.today_count}\t{_days(row.today_mean)}\t{row.draft_count}\t"
            f"{_days(row.draft_mean)}\t{_change(row)}"
        )
    out += ["", "Sager pr. møde\torgan\tdato\ti dag\tkladde"]
    for code, start, today, draft in result.meetings:
        out.append(f"\t{code}\t{local_date(start):%d.%m.%Y}\t{today}\t{draft}")
    out += ["", "Overskredne frister\tproces\ttilstand\ti dag\tkladde"]
    for process, state, today, draft in result.breaches:
        out.append(f"\t{process}\t{state}\t{today}\t{draft}")
    out += ["", "Flyttede behandlinger\tsag\torgan\ti dag\tkladde\tmøder tidligere"]
    for moved in result.moved:
        out.append(
            f"\t{moved.case.id}\t{moved.body_code}\t{local_date(moved.today):%d.%m.%Y}\t"
            f"{local_date(moved.draft):%d.%m.%Y}\t{moved.meetings_earlier}"
        )
    return "\n".join(out)
