"""Events that are not transitions get a label in the case's timeline in both languages, and
the error pages speak the user's language."""

from __future__ import annotations

import re
from pathlib import Path

from workflow.cases.queries import SPECIAL_TRIGGERS
from workflow.engine import clock
from workflow.engine import core as engine

WORKFLOW = Path(__file__).resolve().parents[2] / "workflow"


def _written_triggers() -> set[str]:
    """Every trigger the modules in workflow/ write with append_event, literal or constant."""
    found: set[str] = set()
    for source in WORKFLOW.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        found |= set(re.findall(r'\btrigger="([a-z_]+)"', text))
        found |= set(re.findall(r'^[A-Z_]*TRIGGER = "([a-z_]+)"', text, re.M))
        for pair in re.findall(r'trigger = "([a-z_]+)" if .* else "([a-z_]+)"', text):
            found |= set(pair)
    return found


def test_every_event_written_outside_transitions_has_a_label():
    written = _written_triggers()
    assert {"deadline_overdue", "deadline_escalated", "implementation_report"} <= written
    assert written - set(SPECIAL_TRIGGERS) == set()


def test_overdue_event_is_described_in_danish_and_english(
    client, logged_in, make_case, session, text_of
):
    case = make_case(title="Forsinket sag")
    engine.append_event(
        session, case, trigger="deadline_overdue", actor=None, from_state=case.state,
        comment="Fristen er overskredet.", data={"level": 1}, now=clock.now(),
    )  # fmt: skip
    session.commit()
    user = logged_in("member@SU-NORD-SOM")
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "En frist blev overskredet" in page
    assert "deadline_overdue" not in page
    user.locale = "en"
    session.commit()
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "A deadline was missed" in page


def test_error_pages_follow_the_users_language(client, logged_in, session, text_of):
    user = logged_in("member@SU-NORD-SOM")
    danish = client.get("/sager/999999")
    assert danish.status_code == 404
    assert "Siden findes ikke" in text_of(danish)
    user.locale = "en"
    session.commit()
    english = text_of(client.get("/sager/999999"))
    assert "Page not found" in english and "Siden findes ikke" not in english
    assert "Go to the front page" in english


def test_refused_form_without_csrf_is_explained_in_english(
    make_app, make_login_user, password, session
):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    user = make_login_user("member@SU-NORD-SOM")
    user.locale = "en"
    session.flush()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token.group(1)}
    )
    response = client.post("/profil", data={"levering": "dagligt", "sprog": "en"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "The form has expired" in text and "sikkerhedsnøgle" not in text
