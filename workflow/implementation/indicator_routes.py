"""The indicators' addresses, known without importing their views (workflow.web.routing's
LazyArea; tests/web/test_lazy_areas.py keeps the table equal to the blueprint in
indicator_views.py)."""

from __future__ import annotations

from workflow.web.routing import GET, GET_POST, POST, LazyArea

AREA = LazyArea(
    "indicators",
    "workflow.implementation.indicator_views",
    "/indikatorer",
    (
        ("", "index", GET),
        ("/<code>", "detail", GET),
        ("/<code>/sager", "link", POST),
        ("/indlaes", "import_values", GET_POST),
        ("/ny", "create", GET_POST),
        ("/<code>/ret", "edit", GET_POST),
        ("/sag/<int:case_id>", "link_case", POST),
    ),
)
