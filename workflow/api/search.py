"""Full-text search through the API: the search page's query, filters and access rules."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from sqlalchemy import select

from models import Body
from workflow.api.cases import CASE_QUERY
from workflow.api.problems import json_response
from workflow.api.schema import array, integer, string
from workflow.api.serialize import INT, STR, TIME, iso, maybe, out
from workflow.api.spec import Call, Param, Reply, operation
from workflow.search import queries
from workflow.search.index import KINDS
from workflow.web import db

_CASE_FILTERS = {p.name: p for p in CASE_QUERY}
SEARCH_QUERY = (
    Param(
        "q",
        string(200, 1),
        'Søgeordene: alle bøjninger af et ord findes; "en frase" i anførselstegn; ord* for ord, '
        "der begynder sådan. Uden q er svaret tomt.",
    ),
    Param("type", {"type": "string", "enum": list(KINDS)}, "Kun resultater af denne type."),
    _CASE_FILTERS["process"],
    _CASE_FILTERS["state"],
    _CASE_FILTERS["body"],
    _CASE_FILTERS["focus_area"],
    _CASE_FILTERS["national_goal"],
    Param("year", integer(1900, 2200), "Kun resultater fra dette år."),
    Param("page", integer(1, queries.MAX_PAGE, default=1), "Sidenummer (20 pr. side)."),
)
HIT = out(
    {
        "kind": {"type": "string", "enum": list(KINDS)},
        "source_id": INT,
        "title": STR,
        "title_html": STR,
        "snippet_html": STR,
        "happened_at": TIME,
        "case_id": maybe(INT),
        "meeting_id": maybe(INT),
        "link": STR,
    },
    "SearchHit",
)
RESULTS = out(
    {
        "items": array(HIT),
        "total": INT,
        "counts": {"type": "object", "additionalProperties": INT},
        "capped": {
            "type": "boolean",
            "description": "Flere end `total` resultater: de nyeste `total` er talt og rangeret.",
        },
        "page": INT,
        "pages": INT,
    },
    "SearchResults",
)


def _link(hit: queries.Hit) -> str:
    if hit.kind == "item" and hit.meeting_id is not None:
        # The meeting's page (the API has no meeting to read): the item is its anchor.
        return url_for("meetings.detail", meeting_id=hit.meeting_id) + f"#punkt-{hit.source_id}"
    if hit.kind == "attachment":
        return url_for("api.download_attachment", attachment_id=hit.source_id)
    return url_for("api.get_case", case_id=hit.case_id)


def hit_json(hit: queries.Hit) -> dict[str, Any]:
    return {
        "kind": hit.kind,
        "source_id": hit.source_id,
        "title": hit.title.striptags(),
        "title_html": str(hit.title),
        "snippet_html": str(hit.snippet),
        "happened_at": iso(hit.happened_at),
        "case_id": hit.case_id,
        "meeting_id": hit.meeting_id,
        "link": _link(hit),
    }


@operation(
    "/search", "get", tag="Søgning", summary="Søg i sager, referater, høringssvar og bilag",
    query=SEARCH_QUERY,
    ok={200: Reply("De bedste resultater først, inden for det kalderen må se; fremhævede "
                   "ord i <mark>, al anden tekst HTML-escaped.", RESULTS)},
)  # fmt: skip
def search(call: Call) -> Response:
    """Search what the caller may see, ranked, with the count per type of hit."""
    session = db()
    args = call.args
    body_id = None
    if args.get("body"):
        body_id = session.scalar(select(Body.id).where(Body.code == args["body"])) or 0
    criteria = queries.SearchFilter(
        text=args.get("q", ""),
        process=args.get("process", ""),
        state=args.get("state", ""),
        body_id=body_id,
        focus_area_id=args.get("focus_area"),
        national_goal_id=args.get("national_goal"),
        year=args.get("year"),
        kind=args.get("type", ""),
        page=args["page"],
    )
    results = queries.search(session, call.actor, criteria)
    return json_response(
        {
            "items": [hit_json(hit) for hit in results.hits],
            "total": results.total,
            "counts": results.by_kind,
            "capped": results.capped,
            "page": results.page,
            "pages": results.pages,
        }
    )
