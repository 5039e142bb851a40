"""The one formatting module: amounts, dates and body names as Danish and English readers
expect them, the same on pages, in documents, mails and exports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from workflow.engine import formats

pytestmark = pytest.mark.database_independent("formats amounts, dates and names; no database")


@pytest.mark.parametrize(
    ("value", "danish", "english"),
    [
        (Decimal("2400000.00"), "2.400.000 kr.", "DKK 2,400,000"),
        (Decimal("2400000"), "2.400.000 kr.", "DKK 2,400,000"),
        (Decimal("1234.50"), "1.234,50 kr.", "DKK 1,234.50"),
        (Decimal("0.05"), "0,05 kr.", "DKK 0.05"),
        (250000, "250.000 kr.", "DKK 250,000"),
        (0, "0 kr.", "DKK 0"),
        (Decimal("-1500"), "-1.500 kr.", "DKK -1,500"),
    ],
)
def test_whole_kroner_have_no_oere_and_oere_are_kept(value, danish, english):
    assert formats.format_amount(value) == danish
    assert formats.format_amount(value, "en") == english


def test_an_amount_beyond_the_default_precision_is_shown_whole():
    assert formats.format_amount(Decimal("123456789012345678901234567890")).startswith(
        "123.456.789.012.345.678.901.234.567.890"
    )


@pytest.mark.parametrize(
    ("name", "danish"),
    [
        ("SKU", "SKU's"),  # an abbreviation in capitals takes 's
        ("PPU", "PPU's"),
        ("TSS", "TSS'"),  # a name ending in s, x or z takes only an apostrophe
        ("Praksisplanudvalget", "Praksisplanudvalgets"),
        ("Region Hovedstaden", "Region Hovedstadens"),
        ("Forum for hjælpemidler", "Forum for hjælpemidlers"),
        ("Tværsektoriel Strategisk Styregruppe", "Tværsektoriel Strategisk Styregruppes"),
        ("Fax", "Fax'"),
        ("Kamp Hz", "Kamp Hz'"),
    ],
)
def test_the_danish_genitive_of_a_body_name(name, danish):
    assert formats.genitive(name) == danish
    assert formats.genitive(name, "en") == f"{name}'s"


def test_dates_long_and_short_never_iso():
    day = date(2021, 5, 27)
    assert formats.format_date(day) == "27. maj 2021"
    assert formats.format_date(day, "en") == "27 May 2021"
    assert formats.format_short_date(day) == "27.05.2021"
    # A moment is shown on its Danish calendar day and clock.
    late = datetime(2021, 5, 27, 22, 30, tzinfo=UTC)
    assert formats.format_date(late) == "28. maj 2021"
    assert formats.format_datetime(late) == "28. maj 2021 kl. 00:30"
    assert formats.format_datetime(late, "en") == "28 May 2021 at 00:30"
    assert formats.month_name(3) == "marts" and formats.month_name(3, "en") == "March"


def test_a_sentence_ending_in_an_amount_gets_one_full_stop():
    assert formats.end_sentence("Merudgift: 2.400.000 kr.") == "Merudgift: 2.400.000 kr."
    assert formats.end_sentence("Merudgift: DKK 2,400,000") == "Merudgift: DKK 2,400,000."
