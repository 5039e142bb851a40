"""A WSGI app served on a free loopback port in a thread: the webhook receiver, the identity
providers, the app beside them and the phone check's page server all start theirs here."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WsgiApp = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    """No line per request in the captured log (a failing test's report stays readable);
    errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LoopbackServer:
    """`app` on 127.0.0.1: `start()` binds `port` (0: a free one, then kept), `stop()` closes
    it, so a server can go down and come back on the same port (a receiver that is down)."""

    def __init__(self, app: WsgiApp, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Serve in a daemon thread; return the base URL."""
        self._server = make_server(
            "127.0.0.1", self.port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


@contextmanager
def serve(app: WsgiApp) -> Iterator[str]:
    """Serve `app` on a free loopback port for the block; yields its base URL."""
    server = LoopbackServer(app)
    try:
        yield server.start()
    finally:
        server.stop()
