"""The bodies' pages' addresses, known without importing their views (workflow.web.routing's
LazyArea; tests/web/test_lazy_areas.py keeps the table equal to the blueprint in views.py)."""

from __future__ import annotations

from workflow.web.routing import GET, GET_POST, LazyArea

AREA = LazyArea(
    "bodies",
    "workflow.organisation.views",
    "/organer",
    (
        ("", "index", GET),
        ("/<code>", "detail", GET),
        ("/<code>/ad-hoc-gruppe", "new_ad_hoc_group", GET_POST),
    ),
    # The case pages' forecast names a missed meeting's material deadline.
    template_globals={"materialefrist": "workflow.engine.deadlines:material_deadline"},
)
