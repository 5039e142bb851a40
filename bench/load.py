"""The load generator of `make bench`: Debian's wrk when installed, else a small threaded one.

Both keep `connections` requests in flight for `seconds` and report requests per second, the
50th, 95th and 99th percentile latency, and errors (server errors, wrong statuses and failed
connections). wrk is driven through a Lua script that prints its figures as JSON.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

WRK = None if os.environ.get("BENCH_NO_WRK") else shutil.which("wrk")
# One User-Agent for the log-in and the load: the session is bound to it (strong protection).
USER_AGENT = "aftaleflow-bench"
NAME = "wrk 4.1 (Debian)" if WRK else "bench/load.py (threaded Python generator)"

REPORT = r"""
local counts = {}
function setup(thread) table.insert(counts, thread) end
function init(args) e5 = 0 bad = 0 end
function response(status, headers, body)
  if status >= 500 then e5 = e5 + 1 end
  if status ~= EXPECTED and status < 500 and not OTHER_OK then bad = bad + 1 end
end
function done(summary, latency, requests)
  local e5_total, bad_total = 0, 0
  for _, thread in ipairs(counts) do
    e5_total = e5_total + thread:get("e5")
    bad_total = bad_total + thread:get("bad")
  end
  local sockets = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests": %d, "rps": %.3f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, '
    .. '"server_errors": %d, "wrong_status": %d, "socket_errors": %d}\n',
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, e5_total, bad_total, sockets))
end
"""

MIXED = r"""
math.randomseed(os.time())
GETS = {%(gets)s}
POSTS = {%(posts)s}
BODIES = {%(bodies)s}
GET_HEADERS = {%(get_headers)s}
POST_HEADERS = {%(post_headers)s}
request = function()
  if math.random() < 0.1 then
    return wrk.format("POST", POSTS[math.random(#POSTS)], POST_HEADERS,
                      BODIES[math.random(#BODIES)])
  end
  return wrk.format("GET", GETS[math.random(#GETS)], GET_HEADERS)
end
"""


def _lua_list(values: list[str]) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values)


def _lua_table(headers: dict[str, str]) -> str:
    return ", ".join(
        f"[{json.dumps(k, ensure_ascii=False)}] = {json.dumps(v, ensure_ascii=False)}"
        for k, v in headers.items()
    )


def _wrk(url: str, connections: int, seconds: float, headers: dict[str, str], script: str) -> Any:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        command = [
            WRK or "wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds:g}s",
            "--timeout", "30s", "-s", lua.name,
        ]  # fmt: skip
        for key, value in {"User-Agent": USER_AGENT, **headers}.items():
            command += ["-H", f"{key}: {value}"]
        run = subprocess.run(
            [*command, url], capture_output=True, text=True, timeout=seconds + 120, check=False
        )
    finally:
        Path(lua.name).unlink()
    line = next((line for line in run.stdout.splitlines() if line.startswith("JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gav intet resultat: {run.stdout[-500:]} {run.stderr[-500:]}")
    figures = json.loads(line[5:])
    figures["errors"] = (
        figures["server_errors"] + figures["wrong_status"] + figures["socket_errors"]
    )
    return figures


def run(url: str, connections: int, seconds: float, headers: dict[str, str]) -> dict[str, Any]:
    """Load one page; every answer should be a 200."""
    if WRK:
        script = "EXPECTED = 200\nOTHER_OK = false\n" + REPORT
        return _wrk(url, connections, seconds, headers, script)
    return _python(url, connections, seconds, lambda: ("GET", urlsplit(url).path or "/",
                                                       headers, None), expected=200)  # fmt: skip


def run_mixed(
    base: str,
    connections: int,
    seconds: float,
    gets: list[str],
    get_headers: dict[str, str],
    posts: list[str],
    post_headers: dict[str, str],
    bodies: list[str],
) -> dict[str, Any]:
    """90 % page views, 10 % transitions: only server errors and failed connections count
    (a transition that does not apply to the case's current state is a 4xx, as it should)."""
    get_headers = {"User-Agent": USER_AGENT, **get_headers}
    post_headers = {"User-Agent": USER_AGENT, **post_headers}
    if WRK:
        script = "EXPECTED = 200\nOTHER_OK = true\n" + REPORT + MIXED % {
            "gets": _lua_list(gets), "posts": _lua_list(posts), "bodies": _lua_list(bodies),
            "get_headers": _lua_table(get_headers), "post_headers": _lua_table(post_headers),
        }  # fmt: skip
        return _wrk(f"{base}/", connections, seconds, {}, script)

    def pick() -> tuple[str, str, dict[str, str], str | None]:
        if random.random() < 0.1:
            return "POST", random.choice(posts), post_headers, random.choice(bodies)
        return "GET", random.choice(gets), get_headers, None

    return _python(base, connections, seconds, pick, expected=None)


def _python(url: str, connections: int, seconds: float, pick: Any, expected: int | None) -> Any:
    parts = urlsplit(url)
    latencies: list[float] = []
    counts = {"server_errors": 0, "wrong_status": 0, "socket_errors": 0}
    lock = threading.Lock()
    until = time.perf_counter() + seconds

    def worker() -> None:
        while time.perf_counter() < until:
            method, path, headers, body = pick()
            began = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                connection.request(
                    method, path, body=body, headers={"User-Agent": USER_AGENT, **headers}
                )
                answer = connection.getresponse()
                answer.read()
                connection.close()
                status = answer.status
            except OSError:
                with lock:
                    counts["socket_errors"] += 1
                continue
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)
                if status >= 500:
                    counts["server_errors"] += 1
                elif expected is not None and status != expected:
                    counts["wrong_status"] += 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()

    def at(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * share))] if latencies else 0

    return {
        "requests": len(latencies), "rps": len(latencies) / seconds, "p50_ms": at(0.5),
        "p95_ms": at(0.95), "p99_ms": at(0.99), **counts, "errors": sum(counts.values()),
    }  # fmt: skip
