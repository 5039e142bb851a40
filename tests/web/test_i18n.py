"""Danish first, English per user: the switch, translated pages, dates and amounts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from models import AdminAuditEntry
from workflow.web import i18n


def test_pages_are_danish_by_default(client, logged_in, text_of):
    logged_in("member@TSS")
    page = client.get("/")
    # DKFDS's <html> also carries class="no-js" (its script swaps it), so match the tag's lang.
    assert re.search(r'<html lang="da"[ >]', page.get_data(as_text=True))
    assert "Dine organer og roller" in text_of(page)


def test_switching_to_english_is_saved_and_audited(client, logged_in, session, text_of):
    user = logged_in("chair@TSS")
    response = client.post("/sprog", data={"sprog": "en", "tilbage": "/sager"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/sager"
    assert user.locale == "en"
    entry = session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.action == "set_locale"))
    assert entry is not None and entry.data == {"from": "da", "to": "en"}
    assert entry.actor_id == user.id
    page = client.get("/")
    assert re.search(r'<html lang="en"[ >]', page.get_data(as_text=True))
    assert "Your bodies and roles" in text_of(page)
    assert "Chair" in text_of(page)


def test_english_case_page_uses_the_definitions_english_labels(
    client, logged_in, make_case, text_of
):
    case = make_case(title="Forslag")
    client.post("/logout")
    user = logged_in("chair@SU-NORD-SOM")
    user.locale = "en"
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Draft in the coordination committee" in page
    assert "Recommend to TSS" in page
    assert "Case details" in page


def test_unknown_language_is_ignored(client, logged_in):
    user = logged_in("member@TSS")
    client.post("/sprog", data={"sprog": "xx"})
    assert user.locale == "da"


def test_dates_times_and_amounts_follow_the_language(app):
    moment = datetime(2020, 11, 13, 8, 30, tzinfo=UTC)
    with app.test_request_context():
        assert i18n.format_date(date(2020, 11, 13)) == "13. november 2020"
        assert i18n.format_datetime(moment) == "13. november 2020 kl. 09:30"
        assert i18n.format_amount(Decimal("1234.5")) == "1.234,50 kr."
    with app.test_request_context(), _english():
        assert i18n.format_date(date(2020, 11, 13)) == "13 November 2020"
        assert i18n.format_datetime(moment) == "13 November 2020 at 09:30"
        assert i18n.format_amount(Decimal("1234.5")) == "DKK 1,234.50"


class _english:
    """Force English for the current request context."""

    def __enter__(self) -> None:
        from flask_babel import force_locale

        self._context = force_locale("en")
        self._context.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)


def test_catalogues_are_compiled_when_missing(tmp_path):
    source = tmp_path / "translations" / "en" / "LC_MESSAGES"
    source.mkdir(parents=True)
    (source / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Sager"\nmsgstr "Cases"\n',
        encoding="utf-8",
    )
    folder = i18n.compile_catalogues(tmp_path / "translations")
    assert (folder / "en" / "LC_MESSAGES" / "messages.mo").exists()


def test_every_message_has_an_english_translation():
    from babel.messages.pofile import read_po

    from workflow.engine.paths import resource_dir

    with (resource_dir("translations") / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []


def test_translations_follow_a_language_forced_within_the_request(app):
    from flask import render_template_string

    page = '{{ _("Sager") }} | {{ _("Fra »%(old)s« til »%(new)s«", old="<b>", new="x") }}'
    with app.test_request_context():
        # The catalogue is kept for the request: a forced language shows at once, and the
        # request's own language again after it (templates and Python alike).
        assert render_template_string(page) == "Sager | Fra »&lt;b&gt;« til »x«"
        assert i18n._("Sager") == "Sager" and str(i18n._l("Sager")) == "Sager"
        assert i18n.current_locale() == "da"
        with _english():
            assert render_template_string(page).startswith("Cases | ")
            assert i18n._("Sager") == "Cases" and str(i18n._l("Sager")) == "Cases"
            assert i18n.current_locale() == "en"
        assert render_template_string(page).startswith("Sager | ")
        assert i18n._("Sager") == "Sager" and i18n.current_locale() == "da"
        # Always a format string, as Jinja's new-style gettext: "%%" reads "%".
        assert render_template_string('{{ _("%(n)s %%", n=5) }}') == "5 %"
        assert i18n._("%(n)s %%", n=5) == "5 %"
    with app.app_context():
        assert i18n._("Sager") == "Sager" and i18n.current_locale() == "da"
