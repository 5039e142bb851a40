"""The boundary's value parsers: what they accept, what they refuse, and that every refusal
says so in Danish and English."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.engine import values

pytestmark = pytest.mark.database_independent("parses values at the boundary; no database")

CONTROL = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)]


@pytest.mark.parametrize("character", CONTROL)
def test_one_line_refuses_every_control_character(character: str) -> None:
    with pytest.raises(values.InvalidValue) as refused:
        values.single_line(f"Titel{character}")
    assert "linjeskift" in refused.value.message_da and "line breaks" in refused.value.message_en


@pytest.mark.parametrize("character", [c for c in CONTROL if c not in "\t\n\r"])
def test_long_text_refuses_control_characters_but_line_breaks_and_tabs(character: str) -> None:
    assert values.long_text("a\r\nb\rc\n\td") == "a\nb\nc\n\td"
    with pytest.raises(values.InvalidValue):
        values.long_text(f"a{character}b")


@given(st.text())
@settings(max_examples=200, deadline=None)
def test_accepted_text_never_holds_a_character_the_rules_refuse(text: str) -> None:
    try:
        line = values.single_line(text)
    except values.InvalidValue:
        assert any(c in CONTROL for c in text)
    else:
        assert not any(c in CONTROL for c in line)
    try:
        long = values.long_text(text)
    except values.InvalidValue:
        return
    assert "\r" not in long and not any(c in CONTROL and c not in "\n\t" for c in long)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", Decimal("0.00")), ("12500.5", Decimal("12500.50")),
     ("999999999999.99", Decimal("999999999999.99")), ("1.005", Decimal("1.00"))],
)  # fmt: skip
def test_amounts_within_the_column_are_kept(raw: str, expected: Decimal) -> None:
    assert values.amount(raw) == expected


@pytest.mark.parametrize(
    "raw", ["1000000000000", "99999999999999999999999999", "-0.01", "NaN", "Infinity", "1e400", "x"]
)
def test_amounts_outside_the_column_or_below_zero_are_refused(raw: str) -> None:
    with pytest.raises(values.InvalidValue) as refused:
        values.amount(raw)
    assert refused.value.message_da and refused.value.message_en


def test_a_negative_amount_is_kept_where_the_caller_allows_it() -> None:
    assert values.amount("-5", minimum=None) == Decimal("-5.00")


@pytest.mark.parametrize("raw", [1, "1", " 42 ", values.ID_MAX, str(values.ID_MAX)])
def test_ids_in_range(raw: object) -> None:
    assert values.record_id(raw) == int(str(raw))


@pytest.mark.parametrize("raw", [0, -1, True, 2**31, 2**63, "2147483648", "1e3", "１２", "", None])
def test_ids_out_of_range_or_not_whole_numbers_are_refused(raw: object) -> None:
    assert not values.is_record_id(raw)


def test_dates_must_exist() -> None:
    assert values.calendar_date("2024-02-29") == date(2024, 2, 29)
    for raw in (
        "2023-02-29",
        "2021-13-01",
        "0000-01-01",
        "21-1-1",
        "２０２１-01-01",
        "2021-01-01T00",
    ):
        with pytest.raises(values.InvalidValue):
            values.calendar_date(raw)


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "file:///etc/passwd",
     "vbscript:x", "https://", "//example.dk", "https://ex ample.dk", "https://x.dk\r\nX: y",
     "teams.microsoft.com/l/meetup"],
)  # fmt: skip
def test_links_that_are_not_web_addresses_are_refused(link: str) -> None:
    with pytest.raises(values.InvalidValue):
        values.web_url(link)
    assert values.safe_link(link) is None


def test_web_addresses_are_kept() -> None:
    for link in ("https://teams.microsoft.com/l/meetup-join/1", "http://intra.regionh.dk/møde"):
        assert values.web_url(f" {link} ") == link
        assert values.safe_link(link) == link


def test_file_names_lose_folders_and_control_characters() -> None:
    assert values.file_name("C:\\Users\\x\\Svar\x00.pdf") == "Svar.pdf"
    assert values.file_name("../../etc/pass\r\nwd.txt") == "passwd.txt"


def test_dates_lie_within_the_years_the_app_plans_with() -> None:
    assert values.calendar_date("2200-12-31") == date(2200, 12, 31)
    for raw in ("9999-12-31", "0001-01-01", "1899-12-31"):
        with pytest.raises(values.InvalidValue) as refused:
            values.calendar_date(raw)
        assert "mellem år 1900 og 2200" in refused.value.message_da
