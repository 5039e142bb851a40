"""The what-if page's addresses, known without importing its views (workflow.web.routing's
LazyArea; tests/web/test_lazy_areas.py keeps the table equal to the blueprint in views.py)."""

from __future__ import annotations

from workflow.web.routing import GET, POST, LazyArea

AREA = LazyArea(
    "whatif",
    "workflow.whatif.views",
    "/admin/hvad-hvis",
    (
        ("", "index", GET),
        ("", "run", POST),
    ),
)
