"""What each key page costs per request in process, beside the baseline page, by measures the
load of a shared machine does not move much: CPU time (median of many requests, baseline and
page alternately) and Python function calls (cProfile).

    python -m bench.page_cost sqlite:///var/bench/bench-100000.db [ROUNDS] [PAGE…] [--top N]

PAGE filters by a part of the page's name ("dashboard", "case list"…). `--top N` prints the N
functions with the most own time per page, to see where a page spends it. `make bench` measures
the same pages through the production server under load; this is the quick look before and
after a change.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.baseline import create_baseline
from bench.profile_pages import logged_in


def _calls(request: Callable[[], Any]) -> tuple[int, pstats.Stats]:
    profiler = cProfile.Profile()
    profiler.enable()
    request()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    return int(stats.total_calls), stats  # type: ignore[attr-defined]


def _cpu_ms(request: Callable[[], Any]) -> float:
    began = time.process_time()
    request()
    return (time.process_time() - began) * 1000


def main(argv: list[str]) -> None:
    top = 0
    if "--top" in argv:
        at = argv.index("--top")
        top = int(argv[at + 1])
        del argv[at : at + 2]
    url = argv[0]
    rounds = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 40
    wanted = [part for part in argv[1:] if not part.isdigit()]

    app, pages, token, clients = logged_in(url)
    baseline = create_baseline(url).test_client()

    def get_baseline() -> None:
        assert baseline.get("/").status_code == 200

    for _ in range(5):
        get_baseline()
    base_calls, _ = _calls(get_baseline)
    print(f"{'page':<26} {'CPU ms':>8} {'× base':>7} {'calls':>8} {'× base':>7}")
    for name, (who, path) in pages.items():
        if wanted and not any(part in name for part in wanted):
            continue
        headers = {"Authorization": f"Bearer {token}"} if who == "token" else {}
        client = clients.get(who) or app.test_client()

        def get_page(client: Any = client, path: str = path, headers: Any = headers) -> None:
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, (path, answer.status_code)

        for _ in range(3):
            get_page()
        page_times, base_times = [], []
        for _ in range(rounds):
            base_times.append(_cpu_ms(get_baseline))
            page_times.append(_cpu_ms(get_page))
        page_ms, base_ms = statistics.median(page_times), statistics.median(base_times)
        calls, stats = _calls(get_page)
        print(
            f"{name:<26} {page_ms:8.2f} {page_ms / base_ms:6.1f}× {calls:8d} "
            f"{calls / base_calls:6.1f}×   (baseline {base_ms:.2f} ms, {base_calls} calls)"
        )
        if top:
            out = io.StringIO()
            stats.stream = out  # type: ignore[attr-defined]
            stats.sort_stats("tottime").print_stats(top)
            print("\n".join(out.getvalue().splitlines()[6:]))


if __name__ == "__main__":
    main(sys.argv[1:])
