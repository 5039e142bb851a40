"""Benchmark: rendering the agenda as tagged PDF (WeasyPrint) and as DOCX, by agenda size.

Synthetic agendas of 5, 20 and 60 items (each with four sections of a few hundred words, two
attachments, and every fifth item closed), rendered in full and as the public edition. No
database: the documents are drawn from a frozen snapshot, as the download is. Prints the
median of BENCH_DOCUMENT_RUNS runs (default 5) and the pages. Run with `python -m bench.documents`.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from pypdf import PdfReader

from workflow.meetings import documents

SIZES = tuple(int(n) for n in os.environ.get("BENCH_DOCUMENT_ITEMS", "5,20,60").split(","))
RUNS = int(os.environ.get("BENCH_DOCUMENT_RUNS", "5"))
PARAGRAPH = (
    "Indsatsen skal sikre sammenhængende forløb for ældre medicinske patienter på tværs af "
    "hospital, kommune og almen praksis. Økonomien er beskrevet i bilaget, og udgifterne "
    "fordeles efter aftale mellem parterne. "
) * 4


def snapshot(items: int) -> dict[str, Any]:
    """An agenda of `items` items as workflow.meetings.agenda.snapshot freezes it."""
    return {
        "kind": "agenda", "body_code": "TSS", "body_name": "Tværsektoriel Strategisk Styregruppe",
        "title": "", "date": "13. november 2020", "when": "13. november 2020 kl. 09:00",
        "location": "Regionsgården, Kongens Værftsvej", "online_url": "", "version": 1,
        "present": ["Anna Andersen", "Bo Berg"], "absent": ["Carl Carlsen"],
        "minute_taker": "Sofie Sekretær", "chair_decisions": [],
        "items": [
            {"number": n, "title": f"Sag nummer {n} om fælles forløb", "kind_label": "Beslutning",
             "closed": n % 5 == 0, "public_summary": "Drøftelse af udgiftsfordeling.",
             "sections": [[label, PARAGRAPH] for label in
                          ("Baggrund", "Indstilling", "Økonomi", "Sagsfremstilling")],
             "attachments": ["bilag-1.pdf", "bilag-2.docx"], "outcome": None,
             "outcome_label": None, "decision_text": ""}
            for n in range(1, items + 1)
        ],
    }  # fmt: skip


def _median(render: Callable[[], bytes]) -> tuple[float, bytes]:
    times, data = [], b""
    for _ in range(RUNS):
        start = time.perf_counter()
        data = render()
        times.append(time.perf_counter() - start)
    return statistics.median(times), data


def main() -> None:
    documents.to_pdf(snapshot(1))  # load pango and the fonts once, as a running server has
    print(f"{'items':>5} {'pages':>5} {'PDF (s)':>8} {'PDF public (s)':>14} {'DOCX (s)':>8}")
    for items in SIZES:
        snap = snapshot(items)
        pdf_time, pdf = _median(lambda snap=snap: documents.to_pdf(snap))
        public_time, _ = _median(lambda snap=snap: documents.to_pdf(snap, public=True))
        docx_time, _ = _median(lambda snap=snap: documents.to_docx(snap))
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(f"{items:>5} {pages:>5} {pdf_time:>8.2f} {public_time:>14.2f} {docx_time:>8.3f}")


if __name__ == "__main__":
    main()
