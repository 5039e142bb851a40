"""The baseline page `make bench` compares every key page with: bare Flask + SQLAlchemy +
Jinja, one indexed ORM query (the 50 most recently changed of all cases) rendered as a table,
under the same server and settings as the product (gunicorn sync workers, the same engine).

Run alone with `python -m bench.baseline DATABASE_URL PORT WORKERS`.
"""

from __future__ import annotations

import sys

from flask import Flask, render_template_string
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case
from workflow.engine.db import make_engine
from workflow.web import EXTENSION_KEY, Database

PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Sager</title></head><body>
<h1>Senest ændrede sager</h1>
<table><thead><tr><th>Nr.</th><th>Titel</th><th>Proces</th><th>Tilstand</th><th>Ændret</th></tr>
</thead><tbody>
{% for case in cases %}<tr><td>{{ case.id }}</td><td>{{ case.title }}</td>
<td>{{ case.process }}</td><td>{{ case.state }}</td><td>{{ case.updated_at }}</td></tr>
{% endfor %}</tbody></table></body></html>"""


def create_baseline(url: str) -> Flask:
    """The bare page over `url`'s database."""
    app = Flask("baseline")
    engine = make_engine(url)
    # Where workflow.web.workers finds the engine to drop after a fork.
    app.extensions[EXTENSION_KEY] = Database(lambda: Session(engine), engine, owns_sessions=True)

    @app.get("/")
    def page() -> str:
        with Session(engine) as session:
            cases = session.scalars(select(Case).order_by(Case.updated_at.desc()).limit(50)).all()
            return render_template_string(PAGE, cases=cases)

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    return app


def main() -> None:
    from workflow.web.workers import serve

    url, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    serve(lambda: create_baseline(url), host="127.0.0.1", port=port, workers=workers)


if __name__ == "__main__":
    main()
