"""A real webhook receiver on the loopback (a threaded http.server), and the independent
verifier: the npm Standard Webhooks library run with node."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from support.idps import require_node
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
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                with receiver._lock:
                    receiver.received.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
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
