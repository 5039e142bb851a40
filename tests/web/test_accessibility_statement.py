"""The accessibility statement: open without login, linked from every page, Danish with an
English switch, in Digitaliseringsstyrelsen's structure, with a configurable contact."""

from __future__ import annotations

import re

SECTIONS_DA = [
    "Overholdelsesstatus",
    "Utilgængeligt indhold",
    "Udarbejdelse af denne tilgængelighedserklæring",
    "Feedback og kontaktoplysninger",
    "Håndhævelsesprocedure",
]


def test_the_statement_is_open_without_login_and_has_the_required_sections(client, text_of):
    response = client.get("/tilgaengelighed")
    assert response.status_code == 200
    page = text_of(response)
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", response.get_data(as_text=True))
    assert headings == SECTIONS_DA
    assert "delvist i overensstemmelse med WCAG 2.1 niveau AA" in page
    assert "Word-dokument (DOCX)" in page and "PDF/UA-1" in page and "fpdf2" not in page
    assert "axe-core" in page and "tastaturet" in page
    assert "https://www.was.digst.dk/" in page
    # The complaint address is text: the page loads and links nothing from another host.
    assert 'href="https://www.was.digst.dk' not in response.get_data(as_text=True)
    assert "Sundhedsaftalens sekretariat i Region Hovedstaden" in page


def test_every_page_links_to_the_statement_in_its_footer(client, logged_in):
    link = 'href="/tilgaengelighed"'
    assert link in client.get("/login").get_data(as_text=True)
    logged_in("chair@TSS")
    for path in ("/", "/sager", "/organer/TSS", "/findes-ikke"):
        html = client.get(path).get_data(as_text=True)
        footer = html.split('<footer class="site-footer">', 1)[1]
        assert link in footer, path


def test_the_contact_comes_from_the_environment(client, monkeypatch, text_of):
    monkeypatch.setenv("AFTALEFLOW_ACCESSIBILITY_CONTACT", "tilgaengelighed@regionh.example")
    response = client.get("/tilgaengelighed")
    assert 'href="mailto:tilgaengelighed@regionh.example"' in response.get_data(as_text=True)
    assert "Sundhedsaftalens sekretariat" not in text_of(response)


def test_an_english_user_reads_the_statement_in_english(client, logged_in, session, text_of):
    user = logged_in("member@TSS")
    user.locale = "en"
    session.flush()
    page = text_of(client.get("/tilgaengelighed"))
    assert "Accessibility statement for Aftaleflow" in page
    assert "Compliance status" in page and "Enforcement procedure" in page
    assert "Tilgængelighedserklæring for Aftaleflow" not in page
