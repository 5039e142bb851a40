"""Cold start of the production server, several times: `python -m bench.cold_start`.

Starts the server exactly as `make bench` does (`python -m workflow --database-url URL serve
--workers N --port P`: gunicorn sync workers, the app built once in the master and forked) and
measures, per run:

- wall time from starting the process to the first 200 of /healthz (bench/run.py's `_wait_for`);
- CPU time the server's processes (master and workers) had spent by then: the machine is
  shared, so the wall time alone says as much about the neighbours as about the app; and of
  it the workers' (a worker's start and its first request: on PostgreSQL its first connection);
- VmRSS and PSS of each worker at the first 200, and again after the key pages of `make bench`
  (each asked a few times, as a chair, a secretariat and through the API).

It prints each run and the median (and min/max) of the runs. Knobs: BENCH_COLD_RUNS (7),
BENCH_COLD_CASES (200: generated once into var/bench/cold-start.db, or BENCH_COLD_URL: a
database that is there already; it is migrated, indexed and analysed, and a bench member may be
added, so give it a copy, never a database others read), BENCH_WORKERS (2), BENCH_COLD_ROUNDS
(3 rounds of the pages).
`--no-compile` skips writing the bytecode of workflow/ and models/ first (see
bench.run.compile_sources); `--json` prints the result as JSON as well.

Comparisons on a shared machine are only fair run by run, so two knobs start other servers
alternately with this one, on the same database: BENCH_COLD_BEFORE=DIR, another checkout of
the product (say, main before a change; its bytecode is written too), and `--baseline`, the
bare Flask page `make bench` compares with (bench/baseline.py, first 200 only).
"""

from __future__ import annotations

import compileall
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import load
from bench.run import (
    _children,
    _free_port,
    _log_in,
    _prepare,
    _rss_mb,
    _wait_for,
    compile_sources,
)

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
CASES = int(os.environ.get("BENCH_COLD_CASES", "200"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
ROUNDS = int(os.environ.get("BENCH_COLD_ROUNDS", "3"))
URL = os.environ.get("BENCH_COLD_URL", "")
BEFORE = os.environ.get("BENCH_COLD_BEFORE", "")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, proc(5)).
    return (int(fields[11]) + int(fields[12])) / TICK


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages counted once over the processes sharing them."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _workers_cpu(pid: int) -> list[float]:
    spent = []
    for each in _children(pid):
        with contextlib.suppress(FileNotFoundError):  # a worker that just ended
            spent.append(cpu_seconds(each))
    return spent


def _memory(pid: int) -> dict[str, Any]:
    workers = _children(pid)
    return {
        "master_rss_mb": _rss_mb(pid),
        "worker_rss_mb": [_rss_mb(worker) for worker in workers],
        "worker_pss_mb": [pss_mb(worker) for worker in workers],
    }


def _get(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": load.USER_AGENT, **headers})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def one_run(
    url: str,
    prep: dict[str, Any],
    env: dict[str, str],
    root: Path = ROOT,
    baseline: bool = False,
) -> dict[str, Any]:
    """Start the server (the product in `root`, or the bare baseline page), time it to the
    first 200, ask the key pages (the product only), stop it."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = (
        [sys.executable, "-m", "bench.baseline", url, str(port), str(WORKERS)]
        if baseline
        else [sys.executable, "-m", "workflow", "--database-url", url, "serve",
              "--workers", str(WORKERS), "--port", str(port)]
    )  # fmt: skip
    env = {**env, "PYTHONPATH": os.pathsep.join([str(root), env.get("PYTHONPATH", "")])}
    with tempfile.TemporaryFile() as log:  # the server's log, shown when a run fails
        began = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=root, start_new_session=True, stdout=log, stderr=log
        )
        try:
            return _measure(process.pid, began, base, None if baseline else prep, env)
        except Exception:
            log.seek(0)
            sys.stderr.write(log.read()[-5000:].decode(errors="replace"))
            raise
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _measure(
    pid: int, began: float, base: str, prep: dict[str, Any] | None, env: dict[str, str]
) -> dict[str, Any]:
    wall = _wait_for(f"{base}/healthz", began)
    workers_cpu = sum(_workers_cpu(pid))
    cpu = cpu_seconds(pid) + workers_cpu
    result: dict[str, Any] = {
        "wall_s": wall, "cpu_s": cpu, "workers_cpu_s": workers_cpu, "first_200": _memory(pid),
    }  # fmt: skip
    if prep is None:
        return result
    cookies = {
        email: _log_in(base, email, env["BENCH_PASSWORD"])
        for email in {who for who, _ in prep["pages"].values() if who != "token"}
    }
    for _round in range(ROUNDS):
        for who, path in prep["pages"].values():
            headers = (
                {"Authorization": f"Bearer {prep['token']}"}
                if who == "token"
                else {"Cookie": cookies[who]}
            )
            status = _get(base + path, headers)
            if status != 200:
                raise RuntimeError(f"{path} svarede {status}")
    result["after_pages"] = _memory(pid)
    return result


def _spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):6.2f}  (min {min(values):6.2f}, max {max(values):6.2f})"
    )


def main() -> None:
    from workflow import volume

    if "--no-compile" not in sys.argv:
        compile_sources()
    url = URL or f"sqlite:///{ROOT / 'var' / 'bench' / 'cold-start.db'}"
    if not URL:
        (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    prep = _prepare(url, CASES)
    env = {**os.environ, "AFTALEFLOW_SECRET_KEY": "bench-" + "x" * 40,
           "BENCH_PASSWORD": volume.BENCH_PASSWORD}  # fmt: skip
    env.pop("TEST_DATABASE_URL", None)
    # Started alternately with this tree's server, so every variant sees the same machine.
    others: dict[str, Callable[[], dict[str, Any]]] = {}
    if BEFORE:
        others["before"] = lambda: one_run(url, prep, env, Path(BEFORE))
        if "--no-compile" not in sys.argv:
            for package in ("workflow", "models"):
                compileall.compile_dir(Path(BEFORE) / package, quiet=1)
    if "--baseline" in sys.argv:
        others["baseline"] = lambda: one_run(url, prep, env, baseline=True)
    compared: dict[str, list[dict[str, Any]]] = {name: [] for name in others}
    runs = []
    for number in range(1, RUNS + 1):
        for name, start in others.items():
            other = start()
            compared[name].append(other)
            print(f"run {number} ({name}): first 200 after {other['wall_s']:.2f} s wall, "
                  f"{other['cpu_s']:.2f} s CPU", flush=True)  # fmt: skip
        run = one_run(url, prep, env)
        runs.append(run)
        first, after = run["first_200"], run["after_pages"]
        print(
            f"run {number}: first 200 after {run['wall_s']:.2f} s wall, {run['cpu_s']:.2f} s CPU "
            f"({run['workers_cpu_s']:.3f} s of it the workers'); "
            f"worker RSS {', '.join(f'{mb:.0f}' for mb in first['worker_rss_mb'])} MB "
            f"(after the pages {', '.join(f'{mb:.0f}' for mb in after['worker_rss_mb'])} MB, "
            f"PSS {', '.join(f'{mb:.0f}' for mb in after['worker_pss_mb'])} MB); "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    largest = {
        when: [max(run[when]["worker_rss_mb"]) for run in runs]
        for when in ("first_200", "after_pages")
    }
    print(f"{len(runs)} runs, {WORKERS} workers, {url.split('://')[0]}:")
    print(f"  wall to first 200 (s)           {_spread([run['wall_s'] for run in runs])}")
    print(f"  CPU to first 200 (s)            {_spread([run['cpu_s'] for run in runs])}")
    print(f"  of it the workers' (s)          {_spread([run['workers_cpu_s'] for run in runs])}")
    print(f"  largest worker RSS at 200 (MB)  {_spread(largest['first_200'])}")
    print(f"  largest worker RSS after (MB)   {_spread(largest['after_pages'])}")
    pss = [max(run["after_pages"]["worker_pss_mb"]) for run in runs]
    print(f"  largest worker PSS after (MB)   {_spread(pss)}")
    for name, results in compared.items():
        print(f"  {name}: wall to first 200 (s)   {_spread([r['wall_s'] for r in results])}")
        print(f"  {name}: CPU to first 200 (s)    {_spread([r['cpu_s'] for r in results])}")
    if "--json" in sys.argv:
        print(json.dumps({"workers": WORKERS, "runs": runs, **compared}, indent=2))


if __name__ == "__main__":
    main()
