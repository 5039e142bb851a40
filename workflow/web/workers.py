"""The production server of `aftaleflow serve --workers N`: gunicorn with sync workers.

The app is built once in the master and forked into the workers (gunicorn's preload), so a
worker starts at once and shares the master's read-only memory; each worker drops the
database connections it inherited and opens its own. POSIX only (gunicorn forks); on other
systems, and with one worker, `aftaleflow serve` runs waitress as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from workflow.web import EXTENSION_KEY


def forget_inherited_connections(app: Flask) -> None:
    """In a worker just forked from the master that built `app`: drop the master's database
    connections and let the pool open the worker's own.

    Connections are never shared across a fork: the master's are forgotten, not closed, since
    closing them would close the master's sockets too.
    """
    engine = app.extensions[EXTENSION_KEY].engine
    if engine is not None:
        engine.dispose(close=False)


def serve(
    make_app: Callable[[], Flask], *, host: str, port: int, workers: int, timeout: int = 60
) -> None:
    """Serve the app made by `make_app` with `workers` gunicorn sync workers until stopped."""
    from gunicorn.app.base import BaseApplication

    app = make_app()

    def post_fork(_server: Any, _worker: Any) -> None:
        forget_inherited_connections(app)

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": timeout,
        "preload_app": True,
        "post_fork": post_fork,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        # A sync worker serves one request at a time; keep-alive would tie it to one client.
        "keepalive": 0,
    }

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    _Server().run()
