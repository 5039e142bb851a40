"""The what-if page replays the process designer's saved draft: offered as a choice when one
exists, linked from the designer's page, validated by the loader, refused clearly when gone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import ProcessDraft, User
from workflow.engine.processes import registry

URL = "/admin/hvad-hvis"
DESIGNER = "/admin/procesdesigner/signature_initiative"
CHOICE = "signature_initiative:kladde"
LINK = f'href="{URL}?version=signature_initiative:kladde"'
THIRTY_DAYS = 'deadline = { kind = "days_after_entry", days = 30 }'


def _save_draft(client: FlaskClient, session: Session, source: str) -> None:
    """Save `source` as the draft, through the designer."""
    version = registry.latest(session, "signature_initiative").version
    response = client.post(
        DESIGNER,
        data={"source": source, "revision": "0", "base_version": str(version), "handling": "gem"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)


@pytest.mark.usefixtures("replaying_admin")
def test_the_designers_draft_is_replayed_from_its_link(
    session: Session,
    client: FlaskClient,
    signature_draft: Callable[..., str],
    post_whatif: Callable[..., Any],
    text_of: Callable[[Any], str],
) -> None:
    # A draft whose TSS deadline is 30 days after entry.
    _save_draft(client, session, signature_draft(THIRTY_DAYS))
    designer_page = client.get(DESIGNER).get_data(as_text=True)
    assert LINK in designer_page, re.findall(r"href=\"/admin/hvad-hvis[^\"]*\"", designer_page)
    assert "Genafspil med denne kladde" in designer_page
    page = client.get(f"{URL}?version={CHOICE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.findall(r"<option[^>]*kladde[^>]*>", html) == [f'<option selected value="{CHOICE}">']
    assert "Signaturindsats – kladde i procesdesigneren" in text_of(page)
    response = post_whatif(version=CHOICE)
    assert response.status_code == 200, response.get_data(as_text=True)
    text = text_of(response)
    assert "Overskredne frister: i dag 0, i kladden 4." in text
    assert "Signaturindsats Til behandling i TSS 0 4" in text


def test_without_a_draft_the_choice_is_not_offered_and_asking_for_it_is_refused(
    session: Session,
    client: FlaskClient,
    logged_in: Callable[..., User],
    post_whatif: Callable[..., Any],
    field_error: Callable[[str, str], str],
    text_of: Callable[[Any], str],
) -> None:
    logged_in(is_admin=True)
    assert "Genafspil med denne kladde" not in text_of(client.get(DESIGNER))
    page = client.get(URL)
    assert "kladde i procesdesigneren" not in text_of(page)
    linked = client.get(f"{URL}?version={CHOICE}")
    assert linked.status_code == 404
    assert "Der er ingen kladde eller gemt version med det navn" in field_error(
        linked.get_data(as_text=True), "version"
    )
    posted = post_whatif(version=CHOICE)
    assert posted.status_code == 422
    assert "Der er ingen kladde af processen &#39;signature_initiative&#39;" in field_error(
        posted.get_data(as_text=True), "version"
    )


def test_a_stored_draft_the_loader_refuses_is_not_replayed(
    session: Session,
    logged_in: Callable[..., User],
    signature_draft: Callable[..., str],
    post_whatif: Callable[..., Any],
    field_error: Callable[[str, str], str],
) -> None:
    """A draft saved before a rule changed may no longer load: its error, at the choice."""
    version = registry.latest(session, "signature_initiative").version
    broken = signature_draft('deadline = { kind = "moede" }')
    session.add(ProcessDraft(name="signature_initiative", source=broken, base_version=version))
    session.commit()
    logged_in(is_admin=True)
    response = post_whatif(version=CHOICE)
    assert response.status_code == 422
    assert "states.at_tss.deadline.kind: ukendt fristtype &#39;moede&#39;" in field_error(
        response.get_data(as_text=True), "version"
    )
