"""One refusal page (workflow.web.refusal): a page the policy refuses answers 403 with the
refusing rule's own reason, in Danish or English; anonymous visitors still go to the login page;
under /api a refusal that rises stays a problem document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import User
from workflow import policy
from workflow.engine.errors import NotAllowed

# (address, the user's roles, the rule that refuses them, the body code its reason names)
REFUSED_PAGES = [
    ("/admin", ("chair@TSS",), ("administer", "site"), ""),
    ("/admin/brugere", ("chair@TSS",), ("administer", "site"), ""),
    ("/admin/procesdesigner", ("secretariat@TSS",), ("design_processes", "site"), ""),
    ("/admin/hvad-hvis", ("chair@TSS", "secretariat@SKU"), ("replay_whatif", "site"), ""),
    ("/admin/drift", ("secretariat@TSS",), ("view_operations", "site"), ""),
    (
        "/organer/FORUM-DATA/ad-hoc-gruppe",
        ("secretariat@FORUM-DATA",),
        ("set_up_ad_hoc_group", "body"),
        "FORUM-DATA",
    ),
]


@pytest.mark.parametrize(("path", "roles", "rule", "code"), REFUSED_PAGES)
def test_a_refused_page_gives_the_policy_rules_reason(
    client: FlaskClient,
    logged_in: Callable[..., User],
    text_of: Callable[[Any], str],
    session: Session,
    path: str,
    roles: tuple[str, ...],
    rule: tuple[str, str],
    code: str,
) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    user = logged_in(*roles)
    reason = policy.RULES[rule]
    refused = client.get(path)
    assert refused.status_code == 403, path
    assert "text/html" in refused.headers["Content-Type"]
    assert reason.refusal.format(body=code) in text_of(refused)
    user.locale = "en"
    session.flush()
    english = client.get(path)
    assert english.status_code == 403, path
    assert reason.refusal_en.format(body=code) in text_of(english)


def test_the_title_says_admins_only_when_only_admins_are_let_in(
    client: FlaskClient, logged_in: Callable[..., User], text_of: Callable[[Any], str]
) -> None:
    logged_in("chair@FORUM-DATA", "secretariat@TSS")
    assert "Kun for administratorer" in text_of(client.get("/admin/drift"))
    other = text_of(client.get("/organer/TSS/ad-hoc-gruppe"))
    assert "Du har ikke adgang" in other and "Kun for administratorer" not in other


def test_the_pages_still_open_to_whom_the_rules_let_in(
    client: FlaskClient, logged_in: Callable[..., User]
) -> None:
    logged_in("chair@FORUM-DATA", is_admin=True)
    for path, _roles, _rule, _body in REFUSED_PAGES:
        assert client.get(path).status_code == 200, path


def _refusing() -> None:
    raise NotAllowed("Nej.", "No.", ["admin"], rule="may_probe")


def test_a_refusal_rising_under_the_api_stays_a_problem_document(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    app.add_url_rule("/api/v1/probe-refusal", "probe_api", _refusing)
    app.add_url_rule("/probe-refusal", "probe_page", _refusing)
    client = app.test_client()
    problem = client.get("/api/v1/probe-refusal", headers={"Accept-Language": "en"})
    assert problem.status_code == 403
    assert problem.headers["Content-Type"].startswith("application/problem+json")
    body = problem.get_json()
    assert body["rule"] == "may_probe" and body["allowed"] == ["admin"]
    assert body["reasons"] == {"da": "Nej.", "en": "No."}
    page = client.get("/probe-refusal")
    assert page.status_code == 403 and "text/html" in page.headers["Content-Type"]
    assert "Nej." in page.get_data(as_text=True)
