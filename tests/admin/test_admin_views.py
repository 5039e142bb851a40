"""Administration: admins only; every change audited and effective; stale edits refused."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from models import AdminAuditEntry, Body, Membership, Party, PlanningArea, User
from workflow.engine import core as engine


def _entries(session, action):
    return list(
        session.scalars(
            select(AdminAuditEntry)
            .where(AdminAuditEntry.action == action)
            .order_by(AdminAuditEntry.id)
        )
    )


def _fingerprint(html: str) -> str:
    found = re.search(r'id="fingerprint" name="fingerprint" type="hidden" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.fixture
def admin(logged_in):
    return logged_in(is_admin=True, name="Ada Admin")


def test_admin_pages_are_for_admins_only(client, logged_in, text_of):
    assert client.get("/admin").status_code == 302
    logged_in("chair@TSS")
    for path in (
        "/admin", "/admin/brugere", "/admin/organer/TSS", "/admin/parter",
        "/admin/parter/ny", "/admin/planomraader/ny", "/admin/planomraader/NORD",
    ):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Kun administratorer kan ændre brugere, organer og parter." in text_of(response)
    assert client.post("/admin/organer/ny", data={"code": "X"}).status_code == 403
    assert client.post("/admin/planomraader/ny", data={"code": "X"}).status_code == 403
    assert client.post("/admin/parter/ny", data={"code": "X"}).status_code == 403


def test_admin_pages_render(client, admin, text_of):
    for path in (
        "/admin", "/admin/brugere", "/admin/brugere/ny", f"/admin/brugere/{admin.id}",
        "/admin/organer", "/admin/organer/ny", "/admin/organer/TSS", "/admin/parter",
        "/admin/parter/REGION-H", "/admin/parter/ny", "/admin/planomraader/ny",
        "/admin/planomraader/NORD",
    ):  # fmt: skip
        assert client.get(path).status_code == 200, path


def test_a_created_user_can_log_in_and_the_creation_is_audited(
    client, admin, session, make_app, text_of
):
    response = client.post(
        "/admin/brugere/ny",
        data={"name": "Ny Bruger", "email": "ny@region.dk", "locale": "en",
              "password": "en lang nok adgangskode"},
    )  # fmt: skip
    assert response.status_code == 303
    user = session.scalar(select(User).where(User.email == "ny@region.dk"))
    assert user is not None and user.locale == "en" and not user.is_admin
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    (entry,) = _entries(session, "user_created")
    assert entry.actor_id == admin.id and entry.object_id == str(user.id)
    assert entry.data["after"]["email"] == "ny@region.dk"
    assert "password" not in str(entry.data) and "argon2" not in str(entry.data)
    other = make_app().test_client()
    login = other.post(
        "/login", data={"email": "ny@region.dk", "password": "en lang nok adgangskode"}
    )
    assert login.status_code == 303


def test_a_duplicate_email_or_short_password_is_refused_with_the_input_kept(client, admin, text_of):
    response = client.post(
        "/admin/brugere/ny",
        data={"name": "Dublet", "email": admin.email.upper(), "locale": "da", "password": "kort"},
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Adgangskoden skal være mindst 12 tegn." in page
    assert 'value="Dublet"' in response.get_data(as_text=True)


def test_a_deactivated_user_cannot_log_in_until_reactivated(
    client, admin, make_login_user, session, make_app, password, text_of
):
    user = make_login_user("member@TSS")
    assert client.post(f"/admin/brugere/{user.id}/deaktiver").status_code == 303
    assert user.active is False
    (entry,) = _entries(session, "user_deactivated")
    assert entry.data == {
        "before": {**entry.data["after"], "active": True},
        "after": {**entry.data["before"], "active": False},
    }
    other = make_app().test_client()
    response = other.post("/login", data={"email": user.email, "password": password})
    assert "Din bruger er deaktiveret" in text_of(response)
    client.post(f"/admin/brugere/{user.id}/aktiver")
    assert user.active is True and len(_entries(session, "user_reactivated")) == 1
    assert other.post("/login", data={"email": user.email, "password": password}).status_code == 303
    assert session.get(User, user.id) is not None  # never deleted


def test_an_admin_cannot_lock_themselves_out(client, admin, text_of):
    client.post(f"/admin/brugere/{admin.id}/deaktiver")
    assert admin.active is True
    response = client.post(
        f"/admin/brugere/{admin.id}",
        data={"name": admin.name, "email": admin.email, "locale": "da",
              "fingerprint": _fingerprint(client.get(f"/admin/brugere/{admin.id}").text)},
    )  # fmt: skip
    assert response.status_code == 422 and admin.is_admin
    assert "Du kan ikke fjerne din egen administratorret" in text_of(response)


def test_an_edit_is_audited_with_before_and_after(client, admin, make_login_user, session):
    user = make_login_user("member@TSS", name="Gammelt Navn")
    form = client.get(f"/admin/brugere/{user.id}").get_data(as_text=True)
    response = client.post(
        f"/admin/brugere/{user.id}",
        data={"name": "Nyt Navn", "email": user.email, "locale": "en", "is_admin": "y",
              "fingerprint": _fingerprint(form)},
    )  # fmt: skip
    assert response.status_code == 303
    assert (user.name, user.locale, user.is_admin) == ("Nyt Navn", "en", True)
    (entry,) = _entries(session, "user_updated")
    assert entry.data["before"]["name"] == "Gammelt Navn"
    assert entry.data["after"]["name"] == "Nyt Navn" and entry.data["after"]["is_admin"] is True


def test_a_stale_edit_is_refused_and_keeps_the_input(
    client, admin, make_login_user, session, text_of
):
    user = make_login_user("member@TSS", name="Første Navn")
    form = client.get(f"/admin/brugere/{user.id}").get_data(as_text=True)
    user.name = "Ændret Af En Anden"  # another admin saves first
    session.commit()
    data = {"name": "Mit Navn", "email": user.email, "locale": "da",
            "fingerprint": _fingerprint(form)}  # fmt: skip
    response = client.post(f"/admin/brugere/{user.id}", data=data)
    assert response.status_code == 409
    assert "ændret af en anden, siden du åbnede formularen" in text_of(response)
    html = response.get_data(as_text=True)
    assert 'value="Mit Navn"' in html and "Ændret Af En Anden" in html
    assert user.name == "Ændret Af En Anden" and _entries(session, "user_updated") == []
    # Saving again on purpose, from the refreshed form, works.
    data["fingerprint"] = _fingerprint(html)
    assert client.post(f"/admin/brugere/{user.id}", data=data).status_code == 303
    assert user.name == "Mit Navn"


def test_membership_changes_give_and_take_permissions(
    client, admin, make_login_user, make_case, session, body
):
    case = make_case(state="at_tss")
    user = make_login_user()
    assert engine.allowed_triggers(case, user) == []
    response = client.post(
        f"/admin/brugere/{user.id}/medlemskaber",
        data={"body_id": str(body("TSS").id), "role": "chair"},
    )
    assert response.status_code == 303
    assert "tss_recommend" in [t.trigger for t in engine.allowed_triggers(case, user)]
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership is not None and membership.since is not None
    assert len(_entries(session, "membership_added")) == 1

    response = client.post(f"/admin/medlemskaber/{membership.id}/afslut", data={})
    assert response.status_code == 303
    assert membership.active is False and membership.until is not None
    assert engine.allowed_triggers(case, user) == []
    (ended,) = _entries(session, "membership_ended")
    assert ended.data["before"]["active"] is True and ended.data["after"]["active"] is False
    assert session.get(Membership, membership.id) is not None  # kept, not deleted

    client.post(
        f"/admin/brugere/{user.id}/medlemskaber",
        data={"body_id": str(body("TSS").id), "role": "chair"},
    )
    assert membership.active is True and membership.until is None
    assert len(_entries(session, "membership_reactivated")) == 1


def test_a_membership_cannot_end_before_it_began(
    client, admin, make_login_user, session, body, text_of
):
    user = make_login_user("chair@TSS", is_admin=True)
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    membership.since = date(2020, 9, 1)
    session.flush()
    path = f"/admin/medlemskaber/{membership.id}/afslut"
    refused = client.post(path, data={"until": "2020-08-31"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    field_error = rf'<p class="form-error-message" id="slut-{membership.id}-fejl">(.*?)</p>'
    error = re.search(field_error, html)
    assert error is not None
    assert error.group(1) == (
        "Slutdatoen (31. august 2020) ligger før medlemskabets startdato (1. september 2020). "
        "Vælg en dato fra og med startdatoen."
    )
    assert f'aria-describedby="slut-{membership.id}-fejl"' in html
    assert 'value="2020-08-31"' in html  # the date given is kept
    # The user's own form shows what is stored, not the other form's post.
    assert re.search(r'<input checked class="form-checkbox"[^>]*name="is_admin"', html), html
    assert membership.active is True and _entries(session, "membership_ended") == []

    admin.locale = "en"
    session.flush()
    english = text_of(client.post(path, data={"until": "2020-08-31"}))
    assert "The end date (31 August 2020) is before the membership's start date" in english

    # A membership of one day ends the day it began.
    assert client.post(path, data={"until": "2020-09-01"}).status_code == 303
    assert membership.active is False and membership.until == date(2020, 9, 1)


def test_a_body_is_created_and_its_material_deadline_edited(client, admin, session, body):
    response = client.post(
        "/admin/organer/ny",
        data={"code": "AD-HOC-DATA", "name": "Ad hoc-gruppe om data", "kind": "working_group",
              "parent_id": str(body("TSS").id), "planning_area_id": "0",
              "material_deadline_days": "5", "active": "y"},
    )  # fmt: skip
    assert response.status_code == 303
    created = body("AD-HOC-DATA")
    assert created.parent_id == body("TSS").id and created.material_deadline_days == 5
    assert len(_entries(session, "body_created")) == 1

    tss = body("TSS")
    form = client.get("/admin/organer/TSS").get_data(as_text=True)
    response = client.post(
        "/admin/organer/TSS",
        data={"code": "TSS", "name": tss.name, "kind": "steering",
              "parent_id": str(tss.parent_id), "planning_area_id": "0",
              "material_deadline_days": "6", "active": "y", "fingerprint": _fingerprint(form)},
    )  # fmt: skip
    assert response.status_code == 303
    assert tss.material_deadline_days == 6 and tss.material_deadline_working_days is False
    (entry,) = _entries(session, "body_updated")
    assert entry.data["before"]["material_deadline_days"] == 8
    assert entry.data["after"]["material_deadline_working_days"] is False


def test_a_body_cannot_be_placed_under_its_own_child(client, admin, body):
    form = client.get("/admin/organer/TSS").get_data(as_text=True)
    child = body("SU-NORD-SOM")
    assert f'<option value="{child.id}"' not in form
    response = client.post(
        "/admin/organer/TSS",
        data={"name": "TSS", "kind": "steering", "parent_id": str(child.id),
              "planning_area_id": "0", "material_deadline_days": "8",
              "fingerprint": _fingerprint(form)},
    )  # fmt: skip
    assert response.status_code == 422
    assert body("TSS").parent_id != child.id


def test_a_stale_body_edit_is_refused(client, admin, session, body, text_of):
    form = client.get("/admin/organer/SKU").get_data(as_text=True)
    sku = body("SKU")
    sku.material_deadline_days = 12
    session.commit()
    response = client.post(
        "/admin/organer/SKU",
        data={"name": sku.name, "kind": "political", "parent_id": "0", "planning_area_id": "0",
              "material_deadline_days": "9", "material_deadline_working_days": "y",
              "active": "y", "fingerprint": _fingerprint(form)},
    )  # fmt: skip
    assert response.status_code == 409
    assert "Organet er blevet ændret af en anden" in text_of(response)
    assert sku.material_deadline_days == 12


def test_a_municipality_moves_to_another_planning_area(client, admin, session):
    party = session.scalar(select(Party).where(Party.code == "KOM-TAARNBY"))
    byen = session.scalar(select(PlanningArea).where(PlanningArea.code == "BYEN"))
    assert party is not None and byen is not None and party.planning_area_id != byen.id
    form = client.get(f"/admin/parter/{party.code}").get_data(as_text=True)
    response = client.post(
        f"/admin/parter/{party.code}",
        data={"name": party.name, "planning_area_id": str(byen.id), "active": "y",
              "fingerprint": _fingerprint(form)},
    )  # fmt: skip
    assert response.status_code == 303
    assert party.planning_area_id == byen.id
    (entry,) = _entries(session, "party_updated")
    assert entry.data["after"]["planning_area_id"] == byen.id


def test_admin_posts_without_a_csrf_token_are_refused(make_app, make_login_user, session, password):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    admin = make_login_user(is_admin=True)
    user = make_login_user("member@TSS")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    client.post(
        "/login", data={"email": admin.email, "password": password, "csrf_token": token.group(1)}
    )
    assert client.post(f"/admin/brugere/{user.id}/deaktiver").status_code == 400
    assert user.active is True
    assert client.post("/admin/organer/ny", data={"code": "X", "name": "X"}).status_code == 400
    assert session.scalar(select(Body).where(Body.code == "X")) is None
    # With the token from the page, the same change goes through.
    html = client.get(f"/admin/brugere/{user.id}").get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', html)
    assert (
        client.post(
            f"/admin/brugere/{user.id}/deaktiver", data={"csrf_token": tokens[-1]}
        ).status_code
        == 303
    )
    assert user.active is False


def _area(session, code):
    return session.scalar(select(PlanningArea).where(PlanningArea.code == code))


def test_a_planning_area_is_created_and_renamed_with_both_audited(client, admin, session, text_of):
    response = client.post(
        "/admin/planomraader/ny", data={"code": "VEST", "name": "Planområde Vest"}
    )
    assert response.status_code == 303
    area = _area(session, "VEST")
    assert area is not None and area.name == "Planområde Vest"
    (created,) = _entries(session, "planning_area_created")
    assert created.actor_id == admin.id and created.object_id == str(area.id)
    assert created.data == {"before": None, "after": {"code": "VEST", "name": "Planområde Vest"}}
    listing = text_of(client.get("/admin/parter"))
    assert "Planområde Vest VEST 0" in listing

    form = client.get("/admin/planomraader/VEST").get_data(as_text=True)
    response = client.post(
        "/admin/planomraader/VEST",
        data={"name": "Planområde Vestegnen", "fingerprint": _fingerprint(form)},
    )
    assert response.status_code == 303
    assert area.name == "Planområde Vestegnen" and area.code == "VEST"
    (renamed,) = _entries(session, "planning_area_updated")
    assert renamed.data["before"]["name"] == "Planområde Vest"
    assert renamed.data["after"]["name"] == "Planområde Vestegnen"
    assert "Planområde omdøbt" in text_of(client.get("/admin"))


def test_a_planning_area_code_or_name_in_use_is_refused_with_the_input_kept(
    client, admin, session, text_of
):
    response = client.post(
        "/admin/planomraader/ny", data={"code": "NORD", "name": "planområde midt"}
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Der findes allerede et planområde med koden NORD." in page
    assert "Der findes allerede et planområde med det navn." in page
    assert 'value="planområde midt"' in response.get_data(as_text=True)
    response = client.post("/admin/planomraader/ny", data={"code": "vest", "name": ""})
    assert response.status_code == 422
    assert "Koden skal begynde med et stort bogstav" in text_of(response)
    assert 'aria-describedby="name-fejl"' in response.get_data(as_text=True)
    assert _entries(session, "planning_area_created") == []


def test_a_stale_planning_area_rename_is_refused(client, admin, session, text_of):
    form = client.get("/admin/planomraader/SYD").get_data(as_text=True)
    area = _area(session, "SYD")
    area.name = "Planområde Syd (ny)"
    session.commit()
    response = client.post(
        "/admin/planomraader/SYD",
        data={"name": "Sydområdet", "fingerprint": _fingerprint(form)},
    )
    assert response.status_code == 409
    assert "Planområdet er blevet ændret af en anden" in text_of(response)
    assert area.name == "Planområde Syd (ny)"
    assert _entries(session, "planning_area_updated") == []
    # The refused form carries the current fingerprint: saving again is a deliberate choice.
    again = client.post(
        "/admin/planomraader/SYD",
        data={"name": "Sydområdet", "fingerprint": _fingerprint(response.get_data(as_text=True))},
    )
    assert again.status_code == 303 and area.name == "Sydområdet"


def test_a_party_is_created_with_code_kind_and_planning_area_and_audited(
    client, admin, session, text_of
):
    nord = _area(session, "NORD")
    response = client.post(
        "/admin/parter/ny",
        data={"code": "HOSP-NYT", "name": "Nyt Hospital Nordsjælland", "kind": "hospital",
              "planning_area_id": str(nord.id), "active": "y"},
    )  # fmt: skip
    assert response.status_code == 303
    party = session.scalar(select(Party).where(Party.code == "HOSP-NYT"))
    assert party is not None and party.kind == "hospital" and party.planning_area_id == nord.id
    assert party.active is True
    (entry,) = _entries(session, "party_created")
    assert entry.actor_id == admin.id and entry.data["before"] is None
    assert entry.data["after"] == {
        "code": "HOSP-NYT", "kind": "hospital", "name": "Nyt Hospital Nordsjælland",
        "planning_area_id": nord.id, "active": True,
    }  # fmt: skip
    listing = text_of(client.get("/admin/parter"))
    assert "Nyt Hospital Nordsjælland HOSP-NYT Hospital Planområde Nord Aktiv" in listing
    # The new party is editable like the seeded ones.
    assert client.get("/admin/parter/HOSP-NYT").status_code == 200


def test_a_party_code_in_use_is_refused(client, admin, session, text_of):
    response = client.post(
        "/admin/parter/ny",
        data={"code": "REGION-H", "name": "Endnu en region", "kind": "region",
              "planning_area_id": "0"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Der findes allerede en part med koden REGION-H." in text_of(response)
    assert 'value="Endnu en region"' in response.get_data(as_text=True)
    assert _entries(session, "party_created") == []


def test_new_party_and_planning_area_posts_without_csrf_are_refused(
    make_app, make_login_user, session, password
):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    admin = make_login_user(is_admin=True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    client.post(
        "/login", data={"email": admin.email, "password": password, "csrf_token": token.group(1)}
    )
    data = {"code": "VEST", "name": "Planområde Vest"}
    assert client.post("/admin/planomraader/ny", data=data).status_code == 400
    assert _area(session, "VEST") is None
    party = {"code": "HOSP-X", "name": "X", "kind": "hospital", "planning_area_id": "0"}
    assert client.post("/admin/parter/ny", data=party).status_code == 400
    assert client.post("/admin/planomraader/NORD", data={"name": "Nord"}).status_code == 400
    assert _area(session, "NORD").name == "Planområde Nord"
    html = client.get("/admin/planomraader/ny").get_data(as_text=True)
    form_token = re.findall(r'name="csrf_token" value="([^"]+)"', html)[-1]
    response = client.post("/admin/planomraader/ny", data={**data, "csrf_token": form_token})
    assert response.status_code == 303 and _area(session, "VEST") is not None


def test_a_bodys_formandskab_terms_are_edited_in_its_form(client, admin, session, body):
    """The terms that let a body's chairmanship decide between meetings (seed 000 l.66-67)."""
    sku = body("SKU")
    form = client.get("/admin/organer/SKU").get_data(as_text=True)
    assert "Formandskabet kan træffe beslutninger på organets vegne" in form
    response = client.post(
        "/admin/organer/SKU",
        data={"name": sku.name, "kind": "political", "parent_id": "0", "planning_area_id": "0",
              "material_deadline_days": str(sku.material_deadline_days),
              "formandskab_decides": "y", "active": "y", "fingerprint": _fingerprint(form)},
    )  # fmt: skip
    assert response.status_code == 303
    session.refresh(sku)
    assert sku.formandskab_decides is True
    (entry,) = _entries(session, "body_updated")
    assert (
        entry.data["before"]["formandskab_decides"],
        entry.data["after"]["formandskab_decides"],
    ) == (False, True)
