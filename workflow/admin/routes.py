"""The administration's addresses, known without importing its views (workflow.web.routing's
LazyArea; tests/web/test_lazy_areas.py keeps the table equal to the blueprint in views.py)."""

from __future__ import annotations

from workflow.web.routing import GET, GET_POST, POST, LazyArea

AREA = LazyArea(
    "admin",
    "workflow.admin.views",
    "/admin",
    (
        ("", "index", GET),
        ("/brugere", "users", GET),
        ("/brugere/ny", "new_user", GET_POST),
        ("/brugere/<int:user_id>", "edit_user", GET_POST),
        ("/brugere/<int:user_id>/deaktiver", "deactivate_user", POST),
        ("/brugere/<int:user_id>/aktiver", "reactivate_user", POST),
        ("/brugere/<int:user_id>/medlemskaber", "add_membership", POST),
        ("/medlemskaber/<int:membership_id>/afslut", "end_membership", POST),
        ("/organer", "bodies", GET),
        ("/organer/ny", "new_body", GET_POST),
        ("/organer/<code>", "edit_body", GET_POST),
        ("/parter", "parties", GET),
        ("/parter/ny", "new_party", GET_POST),
        ("/parter/<code>", "edit_party", GET_POST),
        ("/planomraader/ny", "new_planning_area", GET_POST),
        ("/planomraader/<code>", "edit_planning_area", GET_POST),
    ),
    before_request=("admins_only",),  # the administrators' pages only
)
