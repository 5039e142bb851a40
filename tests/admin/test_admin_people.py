"""A user's party (municipality, hospital, general practice) and memberships on the admin
pages: set, audited, listed; a party that does not exist is refused with a 4xx."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import AdminAuditEntry, Party, User


@pytest.fixture
def admin(logged_in):
    return logged_in(is_admin=True, name="Ada Admin")


def _party(session, code: str) -> Party:
    party = session.scalar(select(Party).where(Party.code == code))
    assert party is not None
    return party


def _fingerprint(html: str) -> str:
    found = re.search(r'id="fingerprint" name="fingerprint" type="hidden" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _entries(session, action):
    return list(
        session.scalars(
            select(AdminAuditEntry)
            .where(AdminAuditEntry.action == action)
            .order_by(AdminAuditEntry.id)
        )
    )


def test_a_new_user_is_created_with_a_party(client, admin, session):
    albertslund = _party(session, "KOM-ALBERTSLUND")
    form = client.get("/admin/brugere/ny").get_data(as_text=True)
    assert f'<option value="{albertslund.id}">Albertslund Kommune</option>' in form
    assert 'label="Kommune"' in form and 'label="Hospital"' in form  # grouped by kind
    response = client.post(
        "/admin/brugere/ny",
        data={"name": "Sanne Holm", "email": "sanne@albertslund.dk", "locale": "da",
              "password": "en lang nok adgangskode", "party_id": str(albertslund.id)},
    )  # fmt: skip
    assert response.status_code == 303
    user = session.scalar(select(User).where(User.email == "sanne@albertslund.dk"))
    assert user is not None and user.party_id == albertslund.id
    (entry,) = _entries(session, "user_created")
    assert entry.data["after"]["party_id"] == albertslund.id


def test_an_admin_moves_a_user_to_another_party_and_it_is_audited(
    client, admin, make_login_user, session, text_of
):
    user = make_login_user("member@SU-SYD-SOM", name="Ib Vang")
    hvidovre = _party(session, "KOM-HVIDOVRE")
    form = client.get(f"/admin/brugere/{user.id}").get_data(as_text=True)
    response = client.post(
        f"/admin/brugere/{user.id}",
        data={"name": user.name, "email": user.email, "locale": "da",
              "party_id": str(hvidovre.id), "fingerprint": _fingerprint(form)},
    )  # fmt: skip
    assert response.status_code == 303
    assert user.party_id == hvidovre.id
    (entry,) = _entries(session, "user_updated")
    assert entry.actor_id == admin.id
    assert (entry.data["before"]["party_id"], entry.data["after"]["party_id"]) == (
        None,
        hvidovre.id,
    )
    page = client.get(f"/admin/brugere/{user.id}").get_data(as_text=True)
    assert f'<option selected value="{hvidovre.id}">Hvidovre Kommune</option>' in page


def test_the_user_list_shows_party_and_active_memberships(
    client, admin, make_login_user, session, text_of
):
    user = make_login_user("chair@TSS", "member@SU-SYD-SOM", name="Åse Lind")
    user.party_id = _party(session, "KOM-HVIDOVRE").id
    session.flush()
    page = text_of(client.get("/admin/brugere"))
    row = next(line for line in page.splitlines() if "Åse Lind" in line)
    assert "Hvidovre Kommune" in row
    assert "TSS: Formand" in row and "SU-SYD-SOM: Medlem" in row


@pytest.mark.parametrize("party_id", ["999999", "ikke-et-tal"])
def test_a_party_that_does_not_exist_is_refused(
    client, admin, make_login_user, session, text_of, party_id
):
    user = make_login_user(name="Ib Vang")
    form = client.get(f"/admin/brugere/{user.id}").get_data(as_text=True)
    response = client.post(
        f"/admin/brugere/{user.id}",
        data={"name": user.name, "email": user.email, "locale": "da", "party_id": party_id,
              "fingerprint": _fingerprint(form)},
    )  # fmt: skip
    assert response.status_code == 422
    assert user.party_id is None and _entries(session, "user_updated") == []
    assert "Parten findes ikke. Vælg en part fra listen" in text_of(response)
