"""The webhook pages' addresses, known without importing their views (workflow.web.routing's
LazyArea; tests/web/test_lazy_areas.py keeps the table equal to the blueprint in views.py)."""

from __future__ import annotations

from workflow.web.routing import GET, POST, LazyArea

AREA = LazyArea(
    "webhooks",
    "workflow.webhooks.views",
    "/webhooks",
    (
        ("", "index", GET),
        ("", "create", POST),
        ("/<int:subscription_id>", "detail", GET),
        ("/<int:subscription_id>/slet", "delete", POST),
        ("/leverancer/<int:delivery_id>/send-igen", "redeliver", POST),
    ),
)
