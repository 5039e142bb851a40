"""The reports' addresses, known without importing their views (workflow.web.routing's
LazyArea; tests/web/test_lazy_areas.py keeps the table equal to the blueprint in views.py)."""

from __future__ import annotations

from workflow.engine.paths import resource_dir
from workflow.web.routing import GET, GET_POST, POST, LazyArea

AREA = LazyArea(
    "reports",
    "workflow.reports.views",
    "/rapporter",
    (
        ("", "index", GET),
        ("/<key>", "show", GET),
        ("/<key>/csv", "export_csv", GET),
        ("/<key>/xlsx", "export_xlsx", GET),
        ("/aarsopfoelgning/docx", "yearly_follow_up_docx", GET),
        ("/aarsopfoelgning/pdf", "yearly_follow_up_pdf", GET),
        ("/aarsopfoelgning", "yearly_follow_up", GET),
        ("/aarshjul", "annual_cycle_view", GET),
        ("/aarshjul/plan", "create_plan", POST),
        ("/plan/<int:year>", "plan", GET),
        ("/plan/<int:year>/ny", "add_plan_item", GET_POST),
        ("/plan/<int:year>/indsats/<int:item_id>", "edit_plan_item", GET_POST),
    ),
    static_folder=str(resource_dir("templates") / "reports" / "static"),
)
