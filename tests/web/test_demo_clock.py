"""Demo mode says plainly that the app runs on the demo data's date."""

from __future__ import annotations


def test_demo_banner_names_the_date(make_app):
    app = make_app(DEMO_CLOCK=True)
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "Demotilstand" in page
    assert "1. september 2020" in page  # the tests' frozen clock


def test_no_banner_outside_demo_mode(client):
    assert "Demotilstand" not in client.get("/login").get_data(as_text=True)
