"""The waitress server of `aftaleflow serve`, refusing oversized bodies before reading them.

Waitress reads a whole request body (into memory or a temporary file) before it calls the
app, so the app's own size check would come after the damage. Its `max_request_body_size`
refuses a body as soon as the Content-Length is read (or, for a chunked body, as soon as the
limit is passed); its plain English answer to that is replaced here by a Danish one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask
from waitress.utilities import RequestEntityTooLarge

TOO_LARGE_PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Det, du sendte, er for stort</title></head>
<body><h1>Det, du sendte, er for stort</h1>
<p>Der kan højst sendes {limit} MB ad gangen. Gør filen mindre, eller del den op i flere, og
prøv igen. Forespørgslen er afvist uden at blive læst.</p>
<p lang="en">The request body is larger than {limit} MB and was refused unread.</p>
</body></html>
"""


class _TooLarge(RequestEntityTooLarge):  # type: ignore[misc]
    limit = 0

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        body = TOO_LARGE_PAGE.format(limit=self.limit // (1024 * 1024)).encode("utf-8")
        return f"{self.code} {self.reason}", [("Content-Type", "text/html; charset=utf-8")], body


class _DanishErrorTask(ErrorTask):  # type: ignore[misc]
    def execute(self) -> None:
        error = self.request.error
        if isinstance(error, RequestEntityTooLarge) and not isinstance(error, _TooLarge):
            danish = _TooLarge(error.body)
            danish.limit = self.channel.server.adj.max_request_body_size - 1
            self.request.error = danish
        super().execute()


class _Channel(HTTPChannel):  # type: ignore[misc]
    error_task_class = _DanishErrorTask


def make_server(app: Flask, **adjustments: Any) -> Any:
    """A waitress server for `app` that refuses bodies over the app's MAX_CONTENT_LENGTH
    unread (waitress refuses a body of its limit or more, hence the + 1)."""
    limit = int(app.config["MAX_CONTENT_LENGTH"])
    socket_map: dict[int, Any] = {}
    server = create_server(app, map=socket_map, max_request_body_size=limit + 1, **adjustments)
    for dispatcher in socket_map.values():
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = _Channel
    return server


def serve(app: Flask, **adjustments: Any) -> None:
    """Serve `app` until interrupted, as waitress.serve does."""
    server = make_server(app, **adjustments)
    server.print_listen("Serving on http://{}:{}")
    server.run()


@contextmanager
def serving(
    app: Flask, host: str = "127.0.0.1", port: int = 0, **adjustments: Any
) -> Iterator[tuple[str, int]]:
    """Serve `app` as `serve` does, from a thread, until the block ends; yield the address it
    listens on (port 0: a free one). For load tests and benchmarks."""
    server = make_server(app, host=host, port=port, **adjustments)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    try:
        yield host, int(server.effective_port)
    finally:
        # Close the sockets from waitress's own loop thread, then stop its worker threads.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        loop.join(timeout=10)
        server.task_dispatcher.shutdown()
