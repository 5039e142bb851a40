"""The process designer's pages: admins only; the loader's message at the field (4xx, never
500); a valid draft saved, diffed and published as an audited new version that new cases
follow while cases in flight keep theirs; concurrent edits refused, never lost."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import AdminAuditEntry, ProcessPublication
from workflow.engine import core as engine
from workflow.engine.processes import registry

URL = "/admin/procesdesigner/forum_matter"
OLD_LABEL = 'label = "Rejst i TSS"'
NEW_LABEL = 'label = "Rejst i styregruppen"'


def _error_at_field(response) -> str:
    html = response.get_data(as_text=True)
    found = re.search(r'<p class="form-error-message" id="source-fejl"[^>]*>(.*?)</p>', html, re.S)
    assert found, html
    assert 'aria-invalid="true"' in html and 'href="#source"' in html
    return found.group(1)


def test_the_designer_is_for_admins_only(client, logged_in):
    assert client.get("/admin/procesdesigner").status_code == 302
    logged_in("secretariat@TSS")
    for response in (
        client.get("/admin/procesdesigner"),
        client.get(URL),
        client.post(URL, data={"source": "x"}),
        client.post(URL + "/udgiv", data={"revision": "1"}),
    ):
        assert response.status_code == 403
        assert "Kun administratorer kan ændre og udgive procesdefinitioner" in response.get_data(
            as_text=True
        )


def test_an_admin_sees_every_process_and_its_published_text(client, logged_in, published, text_of):
    logged_in(is_admin=True)
    page = text_of(client.get("/admin/procesdesigner"))
    assert "Sag i samarbejdsforum" in page and "Signaturindsats" in page
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Rejst i TSS" in html and "<svg" in html
    assert f"Udgivet version: {published.version}." in text_of(response)
    assert client.get("/admin/procesdesigner/findes_ikke").status_code == 404


def test_an_error_is_shown_at_the_field_with_the_loaders_message_and_nothing_is_saved(
    logged_in, published, post_source, saved_draft
):
    logged_in(is_admin=True)
    broken = published.source.replace('dest = "at_tss"', 'dest = "at_tsss"')
    response = post_source(broken)
    assert response.status_code == 422
    message = _error_at_field(response)
    line = broken.splitlines().index('dest = "at_tsss"') + 1
    assert f"Linje {line}: transitions[4].dest: ukendt tilstand &#39;at_tsss&#39;" in message
    assert "at_tsss" in response.get_data(as_text=True)  # the admin's text is kept
    assert saved_draft() is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("name = [", "ugyldig TOML"),
        ("", "Skriv definitionen."),
        ('name = "forum_matter"\x00', "kontroltegn"),
        (
            'name = "en_anden"\ntitle = "x"\ninitial = "a"\n[states.a]\nlabel = "a"\nlabel_en = "a"'
            '\nfinal = true\n[[transitions]]\ntrigger = "t"\nsource = "a"\ndest = "a"\nlabel = "t"'
            '\nlabel_en = "t"\nallowed = ["admin"]',
            "states.a.final",
        ),
    ],
)
def test_bad_input_is_a_4xx_with_a_message_never_a_500(logged_in, post_source, source, expected):
    logged_in(is_admin=True)
    response = post_source(source)
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)


def test_bad_hidden_numbers_are_a_bad_request(client, logged_in, published, post_source):
    logged_in(is_admin=True)
    response = post_source(published.source, revision="-1")
    assert response.status_code == 400
    assert client.post(URL + "/udgiv", data={"revision": "abc"}).status_code == 400


def test_checking_shows_the_diagram_of_the_text_without_saving(
    logged_in, published, post_source, saved_draft
):
    logged_in(is_admin=True)
    changed = published.source.replace(OLD_LABEL, NEW_LABEL)
    response = post_source(changed, action="kontroller")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Rejst i styregruppen" in html.split('id="designer-diagram"')[1]
    assert "Definitionen er gyldig" in html
    assert saved_draft() is None


def test_the_live_check_answers_with_the_message_or_the_diagram(client, logged_in, published):
    logged_in(is_admin=True)
    bad = client.post(URL + "/kontroller", data={"source": "name = ["})
    assert bad.status_code == 422
    assert bad.get_json()["valid"] is False and "ugyldig TOML" in bad.get_json()["message"]
    good = client.post(
        URL + "/kontroller", data={"source": published.source.replace(OLD_LABEL, NEW_LABEL)}
    )
    assert good.status_code == 200
    assert good.get_json()["valid"] is True and "Rejst i styregruppen" in good.get_json()["svg"]


def test_a_saved_draft_is_diffed_and_published_as_an_audited_new_version(
    client, logged_in, published, post_source, saved_draft, session, make_case, text_of
):
    admin = logged_in(is_admin=True)
    in_flight = make_case("forum_matter", origin="FORUM-DATA")
    changed = published.source.replace(OLD_LABEL, NEW_LABEL)
    response = post_source(changed)
    assert response.status_code == 303
    draft = saved_draft()
    assert draft is not None and draft.base_version == published.version
    page = client.get(URL).get_data(as_text=True)
    removed = '<del><span class="sr-only">Fjernet: </span>- label = &#34;Rejst i TSS&#34;</del>'
    added = '<ins><span class="sr-only">Tilføjet: </span>+ label = &#34;Rejst i styregruppen'
    assert removed in page and added in page

    response = client.post(URL + "/udgiv", data={"revision": str(draft.revision)})
    assert response.status_code == 303
    assert f"Version {published.version + 1} er udgivet" in text_of(client.get(URL))
    latest = registry.latest(session, "forum_matter")
    assert latest.version == published.version + 1
    assert latest.states["at_tss"].label == "Rejst i styregruppen"
    assert saved_draft() is None
    publication = session.scalar(select(ProcessPublication))
    assert (publication.version, publication.based_on, publication.published_by_id) == (
        latest.version, published.version, admin.id,
    )  # fmt: skip
    entry = session.scalar(
        select(AdminAuditEntry).where(AdminAuditEntry.action == "process_published")
    )
    assert entry.actor_id == admin.id and entry.object_id == "forum_matter"
    assert entry.data["version"] == latest.version
    assert "Procesversion udgivet i procesdesigneren" in text_of(client.get("/admin"))

    new = make_case("forum_matter", origin="FORUM-DATA")
    assert new.process_version == latest.version
    assert in_flight.process_version == published.version
    assert engine.definition_of(in_flight).states["at_tss"].label == "Rejst i TSS"


def test_two_admins_never_overwrite_each_others_draft(
    client, logged_in, published, post_source, saved_draft, session
):
    logged_in(is_admin=True)
    first = published.source.replace(OLD_LABEL, NEW_LABEL)
    assert post_source(first).status_code == 303
    # A second admin opened the page before the first saved: their form has no draft revision.
    second = published.source.replace(OLD_LABEL, 'label = "Hos TSS"')
    response = post_source(second)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "er blevet ændret af en anden" in html and "Hos TSS" in html
    draft = saved_draft()
    assert NEW_LABEL in draft.source
    # Their form now carries the current revision: saving again replaces on purpose.
    assert f'name="revision" type="hidden" value="{draft.revision}"' in html
    response = post_source(second, revision=str(draft.revision))
    assert response.status_code == 303
    session.refresh(draft)
    assert "Hos TSS" in draft.source
    # Publishing or discarding the revision seen before that save is refused as well.
    assert client.post(URL + "/udgiv", data={"revision": "1"}).status_code == 409
    assert client.post(URL + "/kasser", data={"revision": "1"}).status_code == 409
    assert client.post(URL + "/kasser", data={"revision": str(draft.revision)}).status_code == 303
    assert saved_draft() is None


def test_a_version_stored_since_the_draft_began_refuses_the_publish(
    client, logged_in, published, post_source, saved_draft, publish, session
):
    admin = logged_in(is_admin=True)
    changed = published.source.replace(OLD_LABEL, NEW_LABEL)
    assert post_source(changed).status_code == 303
    draft = saved_draft()
    other = published.source.replace(OLD_LABEL, 'label = "Hos TSS"')
    publish(other, admin)
    response = client.post(URL + "/udgiv", data={"revision": str(draft.revision)})
    assert response.status_code == 409
    assert "Der er gemt en nyere version" in response.get_data(as_text=True)
    assert registry.latest(session, "forum_matter").version == published.version + 1


def test_publishing_the_unchanged_text_is_refused(
    client, logged_in, published, post_source, saved_draft
):
    logged_in(is_admin=True)
    assert post_source(published.source).status_code == 303
    draft = saved_draft()
    response = client.post(URL + "/udgiv", data={"revision": str(draft.revision)})
    assert response.status_code == 422
    assert "der er intet at udgive" in response.get_data(as_text=True)


def test_the_designer_reads_in_english(client, logged_in, published, post_source, text_of):
    logged_in(is_admin=True)
    client.post("/sprog", data={"sprog": "en", "tilbage": "/"})
    page = text_of(client.get(URL))
    assert "Process designer: Forum matter" in page
    assert f"Published version: {published.version}." in page
    broken = post_source("name = [")
    assert "The definition is not valid" in text_of(broken)
    assert "Edit states and transitions in a form" in page
    form = text_of(client.get(URL + "/formular"))
    assert "States and transitions" in form and "Reminders (days before the deadline)" in form
    assert "State: Raised in TSS (at_tss)" in form
