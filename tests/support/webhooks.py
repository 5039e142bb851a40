"""A real webhook receiver on the loopback (support.loopback), and the independent
verifier: the npm Standard Webhooks library run with node."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from support.idps import require_node
from support.loopback import LoopbackServer
from workflow.webhooks.delivery import WebhookConfig

# A sender that tries three times, waiting 30–60 s, then 60–120 s.
FAST = WebhookConfig(max_attempts=3, base_delay=60, max_delay=600, timeout=5)
VERIFIER = Path(__file__).resolve().parents[1] / "webhooks" / "verifier"


@dataclass
class Received:
    headers: dict[str, str]
    body: str

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST and answers `status`; `stop()` and `start()` take it down and up
    again on the same port (a refused connection, as a receiver that is down)."""

    status: int = 204
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: LoopbackServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def _answer(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        if request.method == "POST":
            body = request.get_data(as_text=True)
            with self._lock:
                self.received.append(Received({k.lower(): v for k, v in request.headers}, body))
            return Response(status=self.status)(environ, start_response)
        return Response(status=405)(environ, start_response)

    def start(self) -> None:
        self._server = LoopbackServer(self._answer, self.port)
        self._server.start()
        self.port = self._server.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def ids(self) -> list[str]:
        with self._lock:
            return [r.webhook_id for r in self.received]


def _install_verifier() -> None:
    """`npm ci` in the verifier's folder once (a file lock keeps parallel workers apart)."""
    with (VERIFIER / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = VERIFIER / "node_modules" / ".package-lock.json"
        lockfile = VERIFIER / "package-lock.json"
        if marker.exists() and marker.stat().st_mtime >= lockfile.stat().st_mtime:
            return
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm findes ikke (apt install npm)", pytrace=False)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=VERIFIER, check=True, timeout=600,
        )  # fmt: skip


def verify_with_node(secret: str, messages: list[Received]) -> list[dict[str, Any]]:
    """Verify each message with the npm `standardwebhooks` library; one result per message."""
    node = require_node()
    _install_verifier()
    document = {
        "secret": secret,
        "messages": [{"headers": m.headers, "body": m.body} for m in messages],
    }
    done = subprocess.run(
        [node, str(VERIFIER / "verify.mjs")], input=json.dumps(document), cwd=VERIFIER,
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return list(json.loads(done.stdout))
