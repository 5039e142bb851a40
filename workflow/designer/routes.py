"""The process designer's addresses, known without importing its views (workflow.web.routing's
LazyArea; tests/web/test_lazy_areas.py keeps the table equal to the blueprint in views.py)."""

from __future__ import annotations

from workflow.web.routing import GET, POST, LazyArea

AREA = LazyArea(
    "designer",
    "workflow.designer.views",
    "/admin/procesdesigner",
    (
        ("", "index", GET),
        ("/<name>", "edit", GET),
        ("/<name>", "save", POST),
        ("/<name>/udgiv", "publish", POST),
        ("/<name>/kasser", "discard", POST),
        ("/<name>/kontroller", "check", POST),
        ("/<name>/formular", "structure", GET),
        ("/<name>/formular", "save_structure", POST),
        ("/<name>/flyt", "move_form", GET),
        ("/<name>/flyt", "move", POST),
    ),
    before_request=("admins_only",),  # the administrators' pages only
)
