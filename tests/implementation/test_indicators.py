"""Indicators: the registry, CSV import (all or nothing, bad rows named) and case links."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import AdminAuditEntry, CaseEvent, IndicatorValue
from workflow.engine.errors import NotAllowed
from workflow.implementation import indicators

GOOD = """indikator;år;område;værdi
GENIND;2019;Region Hovedstaden;8,4
GENIND;2020;REGION-H;7,9
GENIND;2020;Hillerød;6,25
GENIND;2020;Bornholms Regionskommune;9
FOREB;2020;KOM-KOEBENHAVN;1.234,5
"""


@pytest.fixture
def registry(session):
    indicators.define_indicator(
        session, code="genind", name="Akutte somatiske genindlæggelser", direction="down",
        definition="Andel genindlæggelser inden for 30 dage", data_source="eSundhed",
        unit="%", national_goal_number=2,
    )  # fmt: skip
    indicators.define_indicator(
        session, code="FOREB", name="Forebyggelige indlæggelser", direction="down"
    )
    return session


def count_values(session):
    return session.scalar(select(func.count()).select_from(IndicatorValue))


def test_a_good_file_imports_every_value(registry):
    session = registry
    result = indicators.import_csv(session, GOOD)
    assert (result.created, result.updated) == (5, 0)
    assert result.years == {2019, 2020}
    stored = {
        (v.indicator.code, v.year, v.party.code): v.value
        for v in session.scalars(select(IndicatorValue))
    }
    assert stored[("GENIND", 2020, "KOM-HILLEROED")] == Decimal("6.25")
    assert stored[("GENIND", 2020, "KOM-BORNHOLM")] == Decimal("9")
    assert stored[("FOREB", 2020, "KOM-KOEBENHAVN")] == Decimal("1234.5")
    assert stored[("GENIND", 2019, "REGION-H")] == Decimal("8.4")
    assert "5 værdier indlæst for 2 indikatorer (2019-2020)" in result.summary()
    audit = session.scalars(
        select(AdminAuditEntry).where(AdminAuditEntry.action == "import_indicator_values")
    ).all()
    assert len(audit) == 1


def test_a_comma_separated_file_with_decimal_points_imports(registry):
    text = "indicator,year,area,value\nGENIND,2021,REGION-H,7.5\n"
    result = indicators.import_csv(registry, text)
    assert result.created == 1


def test_importing_again_updates_changed_values_only(registry):
    session = registry
    indicators.import_csv(session, GOOD)
    changed = GOOD.replace("6,25", "6,5")
    result = indicators.import_csv(session, changed)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    assert count_values(session) == 5


def test_a_file_with_one_bad_row_imports_nothing_and_names_the_row(registry):
    session = registry
    bad = GOOD.replace("GENIND;2020;Hillerød;6,25", "GENIND;2020;Hillerød;seks")
    with pytest.raises(indicators.IndicatorImportError) as refused:
        indicators.import_csv(session, bad)
    assert count_values(session) == 0
    assert [(e.row, e.problem) for e in refused.value.errors] == [
        (4, "værdien 'seks' er ikke et tal (brug fx 12,5)")
    ]
    assert "Række 4: værdien 'seks' er ikke et tal" in refused.value.message
    assert "intet er gemt" in refused.value.message


def test_every_bad_row_is_named_with_its_problem(registry):
    text = (
        "indikator;år;område;værdi\n"
        "UKENDT;2020;REGION-H;1\n"
        "GENIND;20x0;REGION-H;1\n"
        "GENIND;2020;Malmø;1\n"
        "GENIND;2020;REGION-H;\n"
        "GENIND;2020;REGION-H;2\n"
        "GENIND;2020;Region Hovedstaden;3\n"
    )
    with pytest.raises(indicators.IndicatorImportError) as refused:
        indicators.import_csv(registry, text)
    messages = [str(e) for e in refused.value.errors]
    assert messages == [
        "Række 2: indikatoren 'UKENDT' findes ikke (opret den først, eller ret koden)",
        "Række 3: året '20x0' skal være et årstal mellem 1990 og 2100",
        "Række 4: området 'Malmø' er hverken regionen eller en af aftalens kommuner",
        "Række 5: værdien mangler",
        "Række 7: samme indikator, år og område som række 6 – en værdi må kun stå én gang",
    ]
    assert count_values(registry) == 0


def test_a_missing_column_is_named(registry):
    with pytest.raises(indicators.IndicatorImportError, match="mangler kolonnen værdi"):
        indicators.import_csv(registry, "indikator;år;område\nGENIND;2020;REGION-H\n")


def test_a_value_for_a_hospital_is_refused(registry):
    with pytest.raises(indicators.IndicatorImportError, match="Række 2: området 'HOSP-RH'"):
        indicators.import_csv(registry, "indikator;år;område;værdi\nGENIND;2020;HOSP-RH;1\n")


def test_series_give_each_area_its_values_in_year_order(registry):
    indicators.import_csv(registry, GOOD)
    genind = next(i for i in indicators_list(registry) if i.code == "GENIND")
    series = indicators.series_for(registry, genind)
    assert series[0].party.code == "REGION-H"
    assert series[0].points == [(2019, Decimal("8.4")), (2020, Decimal("7.9"))]


def indicators_list(session):
    from models import Indicator

    return session.scalars(select(Indicator)).all()


def test_linking_an_initiative_to_an_indicator_is_audited(registry, make_case, make_user):
    session = registry
    case = make_case()
    genind = next(i for i in indicators_list(session) if i.code == "GENIND")
    member = make_user("member@SU-NORD-SOM")
    assert indicators.set_link(session, case, genind, member, True)
    assert not indicators.set_link(session, case, genind, member, True)
    assert indicators.linked_indicators(session, case) == [genind]
    assert indicators.linked_cases(session, genind) == [case]
    events = session.scalars(
        select(CaseEvent.trigger).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    assert events[-1] == indicators.LINK_TRIGGER
    with pytest.raises(NotAllowed):
        indicators.set_link(session, case, genind, make_user("member@SU-SYD-SOM"), False)
    assert indicators.set_link(session, case, genind, member, False)
    assert indicators.linked_indicators(session, case) == []


@pytest.mark.sqlite_only
def test_the_command_line_imports_a_file_or_names_the_bad_row(tmp_path):
    from click.testing import CliRunner

    from workflow.cli import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(main, ["--database-url", url, *args])

    assert cli("init-db").exit_code == 0
    assert cli("seed").exit_code == 0
    added = cli("indicators", "add", "GENIND", "Genindlæggelser", "--direction", "down")
    assert added.exit_code == 0, added.output
    good = tmp_path / "good.csv"
    good.write_text("indikator;år;område;værdi\nGENIND;2020;Hillerød;6,25\n", encoding="utf-8")
    result = cli("indicators", "import", str(good))
    assert result.exit_code == 0, result.output
    assert "1 værdier indlæst" in result.output
    bad = tmp_path / "bad.csv"
    # Saved by Danish Excel: Windows-1252.
    bad.write_bytes("indikator;år;område;værdi\nGENIND;2021;Hørsholm;x\n".encode("cp1252"))
    refused = cli("indicators", "import", str(bad))
    assert refused.exit_code == 1
    assert "Række 2: værdien 'x' er ikke et tal" in refused.output


def test_a_refused_definition_leaves_the_registry_as_it_was(registry):
    """The change and its audit row are one unit: an unknown direction writes neither, and a
    later commit of the same session does not carry half an indicator with it."""
    from models import Indicator

    with pytest.raises(ValueError):
        indicators.define_indicator(registry, code="NY", name="Ny", direction="sidelæns")
    registry.commit()
    assert registry.scalar(select(Indicator).where(Indicator.code == "NY")) is None
    before = registry.scalar(select(Indicator).where(Indicator.code == "FOREB"))
    with pytest.raises(ValueError):
        indicators.define_indicator(registry, code="FOREB", name="Omdøbt", direction="sidelæns")
    registry.commit()
    registry.refresh(before)
    assert before.name == "Forebyggelige indlæggelser"
