"""The what-if chart: an accessible SVG whose bars carry their numbers in the user's language."""

from __future__ import annotations

from workflow.whatif.chart import paired_bars


def test_the_chart_is_named_described_and_labels_each_bar() -> None:
    svg = str(
        paired_bars(
            "c", "Dage <pr. organ>", "Søjlepar", [("TSS", 30.5, 16.0), ("SKU", None, 2.0)],
            ("I dag", "Kladde"),
        )
    )  # fmt: skip
    assert 'role="img"' in svg and 'aria-labelledby="c-titel c-beskrivelse"' in svg
    assert '<title id="c-titel">Dage &lt;pr. organ&gt;</title>' in svg
    assert '<desc id="c-beskrivelse">Søjlepar</desc>' in svg
    # Today is filled, the draft hatched: told apart without colour; each bar says its value.
    assert svg.count('fill="url(#c-skraa)"') == 1 + 2  # the legend and two draft bars
    assert ">30,5</text>" in svg and ">16</text>" in svg and ">2</text>" in svg
    english = str(paired_bars("c", "t", "d", [("TSS", 1234.5, None)], ("Today", "Draft"), "en"))
    assert ">1,234.5</text>" in english


def test_a_chart_without_values_says_so() -> None:
    svg = str(paired_bars("c", "t", "d", [], ("I dag", "Kladde")))
    assert "<title" in svg and "<rect x=" not in svg.split("</defs>")[1]
