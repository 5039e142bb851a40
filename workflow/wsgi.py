"""The WSGI entry point for gunicorn and other servers: `gunicorn workflow.wsgi:app`.

Logging is configured from AFTALEFLOW_LOG_FORMAT / AFTALEFLOW_LOG_LEVEL before the app is
built, and the app reads every other setting from the environment (docs/deploy.md). With
several worker processes set PROMETHEUS_MULTIPROC_DIR (see deploy/gunicorn.conf.py), whose
settings import this module once, in gunicorn's master, and fork the workers from it.
"""

from __future__ import annotations

from workflow.startup import collector_paused

with collector_paused():  # see workflow.startup
    from workflow.app import create_app
    from workflow.ops import logs

    logs.configure()
    app = create_app()
