"""The SVG state diagram: well-formed, complete, accessible, legible and deterministic."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import combinations

import pytest

from workflow.engine.definitions import ProcessDefinition, load_definitions, parse_definition
from workflow.engine.diagram import render_svg

pytestmark = pytest.mark.database_independent("draws SVG from the process definitions; no database")

SVG = "{http://www.w3.org/2000/svg}"
DEFINITIONS = load_definitions()

STRESS = """
name = "stress_test"
title = 'Test <&> "proces"'
title_en = "Stress <&> test"
initial = "start"

[states.start]
label = "Start <&> med en meget lang betegnelse, der skal ombrydes på flere linjer"
label_en = "Start <&> with a very long label that has to wrap onto several lines"

[states.done]
label = "Færdig"
label_en = "Done"
final = true

[states.dropped]
label = "Droppet 'helt' & aldeles"
label_en = "Dropped"
final = true

{states}

[[transitions]]
trigger = "drop"
source = ["start", {all_steps}]
dest = "dropped"
label = "Drop <sagen> & luk"
label_en = "Drop <the case> & close"
allowed = ["chair@originating"]

[[transitions]]
trigger = "back_to_start"
source = ["s2", "s5"]
dest = "start"
label = "Tilbage til start"
label_en = "Back to start"
allowed = ["chair@originating"]

[[transitions]]
trigger = "wait"
source = "s1"
dest = "s1"
label = "Vent til næste møde i udvalget"
label_en = "Wait for the next meeting"
allowed = ["chair@originating"]

[[transitions]]
trigger = "pause"
source = "s1"
dest = "s1"
label = "Sæt på pause"
label_en = "Pause"
allowed = ["chair@originating"]

[[transitions]]
trigger = "remind"
source = ["s1", "s7"]
dest = "s7"
label = "Påmind"
label_en = "Remind"
allowed = ["chair@originating"]

[[transitions]]
trigger = "hand_over"
source = "s1"
dest = "s6"
label = "Overdrag"
label_en = "Hand over"
allowed = ["chair@originating"]

[[transitions]]
trigger = "swap"
source = ["s6", "s3"]
dest = "s4"
label = "Byt"
label_en = "Swap"
allowed = ["chair@originating"]

{steps}
"""


def _stress_definition() -> ProcessDefinition:
    """Build a definition with a wide row and multi-source, lateral, back and self-loop edges."""
    names = [f"s{k}" for k in range(1, 8)]
    states = "\n".join(
        f'[states.{name}]\nlabel = "Trin {name} <{k}>"\nlabel_en = "Step {name}"\n'
        for k, name in enumerate(names)
    )
    steps = "\n".join(
        f'[[transitions]]\ntrigger = "go_{name}"\nsource = "start"\ndest = "{name}"\n'
        f'label = "Gå til {name}"\nlabel_en = "Go to {name}"\nallowed = ["chair@originating"]\n'
        f'[[transitions]]\ntrigger = "finish_{name}"\nsource = "{name}"\ndest = "done"\n'
        f'label = "Afslut {name}"\nlabel_en = "Finish {name}"\nallowed = ["chair@originating"]\n'
        for name in names
    )
    text = STRESS.replace("{states}", states).replace("{steps}", steps)
    text = text.replace("{all_steps}", ", ".join(f'"{name}"' for name in names))
    return parse_definition(text, "test.toml")


ALL = [*DEFINITIONS.values(), _stress_definition()]
IDS = [definition.name for definition in ALL]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in _classes(g)]


def _text(element: ET.Element) -> str:
    text = element.find(f"{SVG}text")
    assert text is not None
    return " ".join(span.text or "" for span in text.iter(f"{SVG}tspan"))


def _rect(element: ET.Element) -> tuple[float, float, float, float]:
    rect = element.find(f"{SVG}rect")
    assert rect is not None
    x, y, width, height = (float(rect.get(key, "nan")) for key in ("x", "y", "width", "height"))
    return x, y, width, height


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _wrapped(label: str) -> str:
    """Return the label as its wrapped lines read, joined by single spaces."""
    return " ".join(label.split())


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_document_is_an_accessible_svg(definition: ProcessDefinition) -> None:
    root = _parse(render_svg(definition))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == title_id
    assert desc is not None and desc.get("id") == desc_id
    assert title.text == definition.title
    for spec in definition.states.values():
        assert spec.label in (desc.text or "")
    for transition in definition.transitions:
        assert transition.label in (desc.text or "")
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    assert root.get("viewBox", "").split()[2:] == [root.get("width"), root.get("height")]
    assert width > 0 and height > 0


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_every_state_has_a_titled_node(definition: ProcessDefinition) -> None:
    root = _parse(render_svg(definition))
    nodes = {g.get("id"): g for g in _groups(root, "state")}
    assert set(nodes) == {f"state-{name}" for name in definition.states}
    for name, spec in definition.states.items():
        node = nodes[f"state-{name}"]
        assert _text(node) == _wrapped(spec.label)
        title = node.find(f"{SVG}title")
        assert title is not None and spec.label in (title.text or "")
        assert ("final" in _classes(node)) == spec.final
        # Final states get a second, inner border.
        assert len(node.findall(f"{SVG}rect")) == (2 if spec.final else 1)


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_every_transition_source_has_an_edge_and_a_label(definition: ProcessDefinition) -> None:
    root = _parse(render_svg(definition))
    expected = {
        (t.trigger, source, t.dest): t.label for t in definition.transitions for source in t.sources
    }

    def keyed(cls: str) -> dict[tuple[str, str, str], ET.Element]:
        found: dict[tuple[str, str, str], ET.Element] = {}
        for g in _groups(root, cls):
            key = (g.get("data-trigger", ""), g.get("data-source", ""), g.get("data-dest", ""))
            assert key not in found
            found[key] = g
        return found

    labels, edges = keyed("edge-label"), keyed("transition")
    assert set(labels) == set(expected) == set(edges)
    for key, label in expected.items():
        assert _text(labels[key]) == _wrapped(label)
        path = edges[key].find(f"{SVG}path")
        assert path is not None and path.get("marker-end", "").startswith("url(#")


@pytest.mark.parametrize(
    ("definition", "current"),
    [(d, state) for d in ALL for state in d.states],
    ids=[f"{d.name}-{state}" for d in ALL for state in d.states],
)
def test_only_the_current_state_is_marked(definition: ProcessDefinition, current: str) -> None:
    root = _parse(render_svg(definition, current=current))
    marked = [g.get("id") for g in _groups(root, "state") if "current" in _classes(g)]
    assert marked == [f"state-{current}"]
    aria = [g.get("id") for g in root.iter(f"{SVG}g") if g.get("aria-current") == "step"]
    assert aria == [f"state-{current}"]
    node = root.find(f".//{SVG}g[@id='state-{current}']")
    assert node is not None
    # Not by colour alone: a marker line and bold text.
    assert _text(node).startswith("▶ Nuværende")
    text = node.find(f"{SVG}text")
    assert text is not None and text.get("font-weight") == "bold"
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert f"nu i tilstanden: {definition.states[current].label}." in (desc.text or "")


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_without_current_no_state_is_marked(definition: ProcessDefinition) -> None:
    root = _parse(render_svg(definition))
    assert not [g for g in _groups(root, "state") if "current" in _classes(g)]
    assert not [g for g in root.iter(f"{SVG}g") if g.get("aria-current")]


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_english_labels(definition: ProcessDefinition) -> None:
    current = definition.initial
    root = _parse(render_svg(definition, current=current, lang="en"))
    assert root.get("lang") == "en"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == (definition.title_en or definition.title)
    for name, spec in definition.states.items():
        node = root.find(f".//{SVG}g[@id='state-{name}']")
        assert node is not None
        marker = "▶ Current " if name == current else ""
        assert _text(node) == marker + _wrapped(spec.label_en)
    for transition in definition.transitions:
        for source in transition.sources:
            label = root.find(
                f".//{SVG}g[@data-trigger='{transition.trigger}'][@data-source='{source}']"
                "[@class='edge-label']"
            )
            assert label is not None and _text(label) == _wrapped(transition.label_en)
    desc = root.find(f"{SVG}desc")
    assert desc is not None and (desc.text or "").startswith("State diagram of the process")


def test_self_loops_are_drawn_apart() -> None:
    root = _parse(render_svg(_stress_definition()))
    loops = {
        (g.get("data-trigger"), g.get("data-source")): g.find(f"{SVG}path")
        for g in _groups(root, "self")
    }
    assert set(loops) == {("wait", "s1"), ("pause", "s1"), ("remind", "s7")}
    paths = {path.get("d") for path in loops.values() if path is not None}
    assert len(paths) == 3


def test_long_labels_are_wrapped() -> None:
    root = _parse(render_svg(_stress_definition()))
    start = root.find(f".//{SVG}g[@id='state-start']")
    assert start is not None
    lines = [span.text or "" for span in start.iter(f"{SVG}tspan")]
    assert len(lines) > 2
    assert all(len(line) <= 22 for line in lines)


def test_text_is_escaped() -> None:
    definition = _stress_definition()
    for lang in ("da", "en"):
        svg = render_svg(definition, current="start", lang=lang)
        root = _parse(svg)
        title = root.find(f"{SVG}title")
        assert title is not None
        assert title.text == ('Test <&> "proces"' if lang == "da" else "Stress <&> test")
        assert "<&>" in _text(_groups(root, "state")[0])
    root = _parse(render_svg(definition))
    dropped = root.find(f".//{SVG}g[@id='state-dropped']")
    assert dropped is not None and _text(dropped) == "Droppet 'helt' & aldeles"


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_boxes_and_labels_do_not_overlap(definition: ProcessDefinition) -> None:
    for current in (None, definition.initial):
        root = _parse(render_svg(definition, current=current))
        boxes = [_rect(g) for g in _groups(root, "state")]
        labels = [_rect(g) for g in _groups(root, "edge-label")]
        for a, b in combinations(boxes, 2):
            assert not _overlap(a, b), (a, b)
        for box in boxes:
            for label in labels:
                assert not _overlap(box, label), (box, label)


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_everything_lies_inside_the_view_box(definition: ProcessDefinition) -> None:
    root = _parse(render_svg(definition, current=definition.initial))
    x, y, width, height = (float(v) for v in root.get("viewBox", "").split())
    for group in [*_groups(root, "state"), *_groups(root, "edge-label")]:
        bx, by, bw, bh = _rect(group)
        assert x <= bx and bx + bw <= x + width
        assert y <= by and by + bh <= y + height


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_back_edges_run_beside_the_states(definition: ProcessDefinition) -> None:
    root = _parse(render_svg(definition))
    boxes = [_rect(g) for g in _groups(root, "state")]
    left = min(b[0] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    for edge in _groups(root, "back"):
        path = edge.find(f"{SVG}path")
        assert path is not None
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
        xs = numbers[0::2]
        assert min(xs) < left or max(xs) > right
        assert path.get("stroke-dasharray")


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_text_contrast_meets_wcag_aa(definition: ProcessDefinition) -> None:
    root = _parse(render_svg(definition, current=definition.initial))
    for group in [*_groups(root, "state"), *_groups(root, "edge-label")]:
        rect, text = group.find(f"{SVG}rect"), group.find(f"{SVG}text")
        assert rect is not None and text is not None
        assert _contrast(rect.get("fill", ""), text.get("fill", "")) >= 4.5


@pytest.mark.parametrize("definition", ALL, ids=IDS)
def test_output_is_deterministic(definition: ProcessDefinition) -> None:
    again = parse_definition(definition.source, definition.source_name)
    for current in (None, definition.initial):
        first = render_svg(definition, current=current)
        assert render_svg(again, current=current) == first
        assert render_svg(definition, current=current) == first


def test_unknown_current_state_or_language_is_refused() -> None:
    definition = DEFINITIONS["signature_initiative"]
    with pytest.raises(ValueError, match="ukendt tilstand"):
        render_svg(definition, current="nowhere")
    with pytest.raises(ValueError, match="ukendt sprog"):
        render_svg(definition, lang="de")


def test_signature_initiative_layout() -> None:
    root = _parse(render_svg(DEFINITIONS["signature_initiative"], current="at_tss"))
    boxes = {g.get("id"): _rect(g) for g in _groups(root, "state")}
    # The main path runs straight down; the rejections and the withdrawal sit beside it.
    spine = ["draft", "at_tss", "at_sku", "implementation", "follow_up", "completed"]
    centres = {round(boxes[f"state-{s}"][0] + boxes[f"state-{s}"][2] / 2) for s in spine}
    assert len(centres) == 1
    tops = [boxes[f"state-{s}"][1] for s in spine]
    assert tops == sorted(tops)
    assert boxes["state-withdrawn"][0] > boxes["state-draft"][0]
    assert _groups(root, "self")[0].get("data-trigger") == "sku_postpone"
