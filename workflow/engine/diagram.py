"""Render a process definition as a standalone, accessible SVG state diagram.

The layout is plain Python and deterministic. States are layered top to bottom by their
breadth-first distance from the initial state, so every forward edge spans exactly one layer.
Each layer is ordered by barycentre sweeps (small layers by the cheapest of all orders) and
placed by a weighted isotonic fit, which keeps the main path straight and pushes final states
aside. Edges back up the diagram run in lanes beside all states, and edges between states of
one layer run straight across or through the channel below it, so neither overlaps a forward
edge. Labels are placed greedily where they cover the least.
"""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, pairwise, permutations
from xml.sax.saxutils import escape, quoteattr

from workflow.engine.definitions import ProcessDefinition, StateSpec, TransitionSpec

Point = tuple[float, float]
Curve = tuple[Point, Point, Point, Point]

WRAP = 22
NODE_FONT = 14
NODE_CHAR = 8.2  # generous average glyph width, so labels fit whatever sans-serif is used
NODE_LINE = 18
NODE_PAD_X = 14
NODE_PAD_Y = 12
NODE_MIN_WIDTH = 180
EDGE_FONT = 12
EDGE_CHAR = 6.6
EDGE_LINE = 15
LABEL_PAD = 4
H_GAP = 56
LANE_GAP = 24
TRACK_OFFSET = 20
TRACK_STEP = 8
MIN_CHANNEL = 72
LOOP = 14
LOOP_STEP = 8
MARGIN = 16
MAX_PERMUTED = 6  # rows up to this size try every order (720)
FINAL_WEIGHT = 1e-6  # final states give way almost entirely

FONT_FAMILY = "Arial, Helvetica, Liberation Sans, DejaVu Sans, sans-serif"
TEXT = "#1a1a1a"
BACKGROUND = "#ffffff"
NODE_FILL = "#e7eff7"
NODE_STROKE = "#2f4f6f"
FINAL_FILL = "#f1f1f1"
FINAL_STROKE = "#333333"
CURRENT_FILL = "#0b4f8a"
CURRENT_STROKE = "#05243f"
CURRENT_TEXT = "#ffffff"
EDGE_STROKE = "#4d4d4d"

_WORDS = {
    "da": {
        "marker": "▶ Nuværende",
        "current": "nuværende tilstand",
        "initial": "starttilstand",
        "final": "sluttilstand",
        "heading": "Tilstandsdiagram for processen",
        "states": "Tilstande",
        "transitions": "Overgange",
        "from": "fra",
        "to": "til",
        "or": "eller",
        "in": "i",
        "stays": "bliver i tilstanden",
        "now": "Sagen er nu i tilstanden",
        "quote": "»{}«",
    },
    "en": {
        "marker": "▶ Current",
        "current": "current state",
        "initial": "initial state",
        "final": "final state",
        "heading": "State diagram of the process",
        "states": "States",
        "transitions": "Transitions",
        "from": "from",
        "to": "to",
        "or": "or",
        "in": "in",
        "stays": "stays in the state",
        "now": "The case is now in the state",
        "quote": "“{}”",
    },
}


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlap(self, other: _Box) -> float:
        """Return the area this box shares with `other`."""
        dx = min(self.right, other.right) - max(self.x, other.x)
        dy = min(self.bottom, other.bottom) - max(self.y, other.y)
        return dx * dy if dx > 0 and dy > 0 else 0.0

    def grow(self, margin: float) -> _Box:
        """Return the box widened by `margin` on every side."""
        return _Box(self.x - margin, self.y - margin, self.w + 2 * margin, self.h + 2 * margin)


@dataclass
class _Node:
    state: StateSpec
    layer: int
    lines: list[str]
    x: float = 0.0  # centre
    y: float = 0.0  # top
    w: float = 0.0
    h: float = 0.0
    loops: int = 0

    @property
    def left(self) -> float:
        return self.x - self.w / 2

    @property
    def right(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def box(self) -> _Box:
        return _Box(self.left, self.y, self.w, self.h)


@dataclass
class _Edge:
    index: int
    transition: TransitionSpec
    source: str
    dest: str
    kind: str  # forward, back, self, beside (neighbours in a layer) or lateral
    lines: list[str]
    loop: int = 0  # which of its state's self loops, innermost first
    side: int = -1  # lane side of a back edge: -1 left, 1 right
    lane: int = -1
    src_on_side: bool = False
    dst_on_side: bool = False
    exit_track: int = -1
    entry_track: int = -1
    d: str = ""
    obstacles: list[_Box] = field(default_factory=list)
    candidates: list[_Box] = field(default_factory=list)
    label: _Box | None = None


@dataclass
class _Layout:
    nodes: dict[str, _Node]
    edges: list[_Edge]
    rows: list[list[str]]
    row_top: list[float] = field(default_factory=list)
    row_height: list[float] = field(default_factory=list)
    bands: list[tuple[float, float]] = field(default_factory=list)  # label room in channels
    lanes: dict[tuple[int, int], float] = field(default_factory=dict)


def render_svg(definition: ProcessDefinition, current: str | None = None, lang: str = "da") -> str:
    """Return the process as a standalone SVG state diagram, `current` highlighted."""
    if lang not in _WORDS:
        raise ValueError(f"ukendt sprog '{lang}'; brug 'da' eller 'en'")
    if current is not None and current not in definition.states:
        raise ValueError(f"ukendt tilstand '{current}' i processen '{definition.name}'")
    # The layout costs most of a case page's CPU and depends only on the definition (its
    # source and version), the state highlighted and the language: compute it once for each.
    key = (definition.source, definition.name, definition.version, current, lang)
    svg = _RENDERED.get(key)
    if svg is None:
        svg = _document(definition, _layout(definition, current, lang), current, lang)
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        _RENDERED[key] = svg
    return svg


_RENDERED: dict[tuple[str, str, int, str | None, str], str] = {}
_RENDERED_MAX = 1024


# Layout -------------------------------------------------------------------------------------


def _layout(definition: ProcessDefinition, current: str | None, lang: str) -> _Layout:
    """Layer, order, size, place and route every state and transition."""
    layers = _layers(definition)
    edges = _edges(definition, layers, lang)
    graph = _graph(definition, edges)
    rows = _order_rows(layers, graph)
    layout = _Layout(_nodes(definition, layers, current, lang), edges, rows)
    _count_loops(layout)
    _mark_beside(layout)
    _place_x(layout, graph.preds, graph.succs)
    _choose_lane_sides(layout)
    _assign_tracks(layout)
    _place_y(layout)
    _place_lanes(layout)
    _route(layout, _ports(layout))
    _place_labels(layout)
    return layout


def _layers(definition: ProcessDefinition) -> dict[str, int]:
    """Return each state's breadth-first distance from the initial state, in discovery order."""
    layers: dict[str, int] = {}
    # Unreachable states (only possible for hand-built definitions) get layers of their own
    # below the rest, so every edge still goes one layer down, sideways or back up.
    for root in [definition.initial, *definition.states]:
        if root in layers:
            continue
        layers[root] = max(layers.values(), default=-1) + 1
        queue = deque([root])
        while queue:
            state = queue.popleft()
            for transition in definition.transitions:
                if state in transition.sources and transition.dest not in layers:
                    layers[transition.dest] = layers[state] + 1
                    queue.append(transition.dest)
    return layers


def _edges(definition: ProcessDefinition, layers: dict[str, int], lang: str) -> list[_Edge]:
    """Return one edge per transition and source, classified by the layers it joins."""
    edges: list[_Edge] = []
    for transition in definition.transitions:
        for source in transition.sources:
            step = layers[transition.dest] - layers[source]
            if source == transition.dest:
                kind = "self"
            elif step == 1:
                kind = "forward"
            else:
                kind = "back" if step < 0 else "lateral"
            label = transition.label_en if lang == "en" else transition.label
            edges.append(_Edge(len(edges), transition, source, transition.dest, kind, _wrap(label)))
    return edges


def _links(edges: list[_Edge]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Return each state's forward predecessors and successors."""
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        if edge.kind == "forward":
            preds[edge.dest].append(edge.source)
            succs[edge.source].append(edge.dest)
    return preds, succs


@dataclass(frozen=True)
class _Graph:
    preds: dict[str, list[str]]
    succs: dict[str, list[str]]
    lateral: list[tuple[str, str]]
    backs: frozenset[str]
    ranks: dict[str, int]


def _graph(definition: ProcessDefinition, edges: list[_Edge]) -> _Graph:
    """Collect what ordering the rows needs to know about the edges."""
    preds, succs = _links(edges)
    backs = frozenset(state for e in edges if e.kind == "back" for state in (e.source, e.dest))
    ranks = {
        name: 2 if spec.final else 0 if name in backs else 1
        for name, spec in definition.states.items()
    }
    lateral = [(e.source, e.dest) for e in edges if e.kind == "lateral"]
    return _Graph(preds, succs, lateral, backs, ranks)


def _order_rows(layers: dict[str, int], graph: _Graph) -> list[list[str]]:
    """Order each layer by barycentre sweeps, then by the cheapest arrangement if small."""
    rows: list[list[str]] = [[] for _ in range(max(layers.values()) + 1)]
    for state, layer in layers.items():
        rows[layer].append(state)
    for downward in (True, False, True):
        for i in _sweep(len(rows), downward):
            reference = rows[i - 1] if downward else rows[i + 1]
            row = _sorted_row(rows[i], reference, graph.preds if downward else graph.succs, graph)
            if len(row) <= MAX_PERMUTED:
                above = rows[i - 1] if i else []
                below = rows[i + 1] if i + 1 < len(rows) else []
                # min() keeps the first of equals, and the barycentre order comes first.
                best = min(permutations(row), key=lambda o: _cost(o, above, below, graph))
                row = list(best)
            rows[i] = row
    return rows


def _sweep(count: int, downward: bool) -> range:
    """Return the row indices a sweep visits, skipping the row it starts from."""
    return range(1, count) if downward else range(count - 2, -1, -1)


def _sorted_row(
    row: list[str], reference: list[str], links: dict[str, list[str]], graph: _Graph
) -> list[str]:
    """Sort a row by the mean position of its links, breaking ties by rank."""
    position = {state: index for index, state in enumerate(reference)}

    def key(item: tuple[int, str]) -> tuple[float, int, int]:
        index, state = item
        linked = [position[other] for other in links[state] if other in position]
        centre = sum(linked) / len(linked) if linked else float(index)
        return (centre, graph.ranks[state], index)

    return [state for _, state in sorted(enumerate(row), key=key)]


def _cost(order: Sequence[str], above: list[str], below: list[str], graph: _Graph) -> int:
    """Score a row order: crossings, edges skipping over states, back edges from the middle."""
    position = {state: index for index, state in enumerate(order)}
    skipped = sum(
        abs(position[a] - position[b]) - 1
        for a, b in graph.lateral
        if a in position and b in position
    )
    inner = sum(1 for state in order[1:-1] if state in graph.backs)
    return (
        _crossings(order, above, graph.preds)
        + _crossings(order, below, graph.succs)
        + 3 * skipped
        + 2 * inner
    )


def _crossings(order: Sequence[str], reference: list[str], links: dict[str, list[str]]) -> int:
    """Count the crossings between the edges joining a row order to a neighbouring row."""
    position = {state: index for index, state in enumerate(reference)}
    pairs = [
        (k, position[o]) for k, state in enumerate(order) for o in links[state] if o in position
    ]
    return sum(1 for (a, b), (c, d) in combinations(pairs, 2) if (a - c) * (b - d) < 0)


def _wrap(text: str) -> list[str]:
    """Wrap a label onto lines of about WRAP characters."""
    return textwrap.wrap(text, WRAP, break_long_words=False, break_on_hyphens=False) or [""]


def _label_size(lines: list[str]) -> tuple[float, float]:
    """Estimate the width and height of an edge label with its padding."""
    width = max(len(line) for line in lines) * EDGE_CHAR + 2 * LABEL_PAD
    return width, len(lines) * EDGE_LINE + 2 * LABEL_PAD


def _nodes(
    definition: ProcessDefinition, layers: dict[str, int], current: str | None, lang: str
) -> dict[str, _Node]:
    """Return a sized node per state; all share one width and base height."""
    nodes = {
        name: _Node(spec, layers[name], _wrap(_state_label(spec, lang)))
        for name, spec in definition.states.items()
    }
    longest = max(len(line) for node in nodes.values() for line in node.lines)
    width = 2 * math.ceil(max(NODE_MIN_WIDTH, longest * NODE_CHAR + 2 * NODE_PAD_X) / 2)
    height = max(len(node.lines) for node in nodes.values()) * NODE_LINE + 2 * NODE_PAD_Y
    for name, node in nodes.items():
        node.w = width
        node.h = height + (NODE_LINE if name == current else 0)
    return nodes


def _state_label(spec: StateSpec, lang: str) -> str:
    """Return the state's label in the chosen language."""
    return (spec.label_en or spec.label) if lang == "en" else spec.label


def _count_loops(layout: _Layout) -> None:
    """Number each state's self loops, so several loops nest instead of coinciding."""
    for edge in layout.edges:
        if edge.kind == "self":
            node = layout.nodes[edge.source]
            edge.loop = node.loops
            node.loops += 1


def _loop_room(node: _Node) -> float:
    """Return how far a state's self loops reach along its top and right sides."""
    return 2 * LOOP + LOOP_STEP * (node.loops - 1) if node.loops else 0.0


def _position(layout: _Layout, state: str) -> tuple[int, int]:
    """Return the state's row and its index within the row."""
    row = layout.nodes[state].layer
    return row, layout.rows[row].index(state)


def _mark_beside(layout: _Layout) -> None:
    """Mark lateral edges between neighbours in a row; they are drawn straight across."""
    for edge in layout.edges:
        if edge.kind == "lateral":
            (_, a), (_, b) = _position(layout, edge.source), _position(layout, edge.dest)
            if abs(a - b) == 1:
                edge.kind = "beside"


def _gaps(layout: _Layout, row: list[str]) -> list[float]:
    """Return the minimum centre distances between neighbours in a row."""
    gaps: list[float] = []
    for left, right in pairwise(row):
        a, b = layout.nodes[left], layout.nodes[right]
        gap = float(H_GAP)
        for edge in layout.edges:
            if edge.kind == "beside" and {edge.source, edge.dest} == {left, right}:
                gap = max(gap, _label_size(edge.lines)[0] + 2 * LANE_GAP)
        gaps.append(a.w / 2 + b.w / 2 + gap + _loop_room(a))
    return gaps


def _place_x(layout: _Layout, preds: dict[str, list[str]], succs: dict[str, list[str]]) -> None:
    """Centre each state under its links, keeping rows apart by their gaps."""
    gaps = [_gaps(layout, row) for row in layout.rows]
    for row, row_gaps in zip(layout.rows, gaps, strict=True):
        x = 0.0
        for index, state in enumerate(row):
            x += row_gaps[index - 1] if index else 0.0
            layout.nodes[state].x = x
    for downward in (True, False, True, False, True):
        for i in _sweep(len(layout.rows), downward):
            row = layout.rows[i]
            links = preds if downward else succs
            targets = [_target(layout.nodes, state, links[state]) for state in row]
            weights = [_weight(layout.nodes[state]) for state in row]
            for state, x in zip(row, _fit(targets, weights, gaps[i]), strict=True):
                layout.nodes[state].x = x
    # Whole-pixel centres keep the main path exactly straight and the borders crisp.
    for node in layout.nodes.values():
        node.x = float(round(node.x))


def _weight(node: _Node) -> float:
    """Return how strongly a node pulls on the layout; final states barely do."""
    return FINAL_WEIGHT if node.state.final else 1.0


def _target(nodes: dict[str, _Node], state: str, links: list[str]) -> float:
    """Return the weighted mean centre of a state's links, or its own centre."""
    total = sum(_weight(nodes[other]) for other in links)
    if not total:
        return nodes[state].x
    return sum(_weight(nodes[other]) * nodes[other].x for other in links) / total


def _fit(targets: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """Return positions nearest the targets (weighted least squares) that keep the gaps."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    # Pool adjacent violators on the targets shifted by the cumulative gaps.
    blocks: list[tuple[float, float, int]] = []
    for target, weight, offset in zip(targets, weights, offsets, strict=True):
        block = (weight, weight * (target - offset), 1)
        while blocks and blocks[-1][1] / blocks[-1][0] > block[1] / block[0]:
            previous = blocks.pop()
            block = (previous[0] + block[0], previous[1] + block[1], previous[2] + block[2])
        blocks.append(block)
    fitted = [total / weight for weight, total, count in blocks for _ in range(count)]
    return [value + offset for value, offset in zip(fitted, offsets, strict=True)]


def _choose_lane_sides(layout: _Layout) -> None:
    """Send each back edge round the side where its ends can leave the row directly."""
    for edge in layout.edges:
        if edge.kind != "back":
            continue
        src_left, src_right = _extremes(layout, edge.source)
        dst_left, dst_right = _extremes(layout, edge.dest)
        options = (
            (-1, src_left and dst_left),
            (1, src_right and dst_right),
            (-1, dst_left),
            (1, dst_right),
            (1, src_right),
        )
        edge.side = next((side for side, fits in options if fits), -1)
        edge.src_on_side = src_left if edge.side < 0 else src_right
        edge.dst_on_side = dst_left if edge.side < 0 else dst_right


def _extremes(layout: _Layout, state: str) -> tuple[bool, bool]:
    """Return whether the state is the first and whether it is the last in its row."""
    row = layout.rows[layout.nodes[state].layer]
    return row[0] == state, row[-1] == state


def _assign_tracks(layout: _Layout) -> None:
    """Give each horizontal run through a channel its own track, and back edges lanes."""
    upper: dict[int, int] = defaultdict(int)  # tracks just below a row
    lower: dict[int, int] = defaultdict(int)  # tracks just above the next row
    for edge in layout.edges:
        source, dest = layout.nodes[edge.source], layout.nodes[edge.dest]
        if edge.kind == "lateral" or (edge.kind == "back" and not edge.dst_on_side):
            edge.entry_track = upper[dest.layer]
            upper[dest.layer] += 1
        if edge.kind == "back" and not edge.src_on_side:
            edge.exit_track = lower[source.layer - 1]
            lower[source.layer - 1] += 1
    backs = [edge for edge in layout.edges if edge.kind == "back"]
    spans = {
        edge.index: (layout.nodes[edge.dest].layer, layout.nodes[edge.source].layer)
        for edge in backs
    }
    taken: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for edge in sorted(backs, key=lambda e: (spans[e.index][1] - spans[e.index][0], e.index)):
        top, bottom = spans[edge.index]
        lane = 0
        # Lanes may share a row only where one edge ends and the other starts.
        while any(max(top, t) < min(bottom, b) for t, b in taken[(edge.side, lane)]):
            lane += 1
        edge.lane = lane
        taken[(edge.side, lane)].append((top, bottom))


def _place_y(layout: _Layout) -> None:
    """Stack the rows; each channel holds tracks below a row, a label band, tracks above."""
    count = len(layout.rows)
    layout.row_height = [max(layout.nodes[s].h for s in row) for row in layout.rows]
    labels = [0.0] * count
    upper, lower = [0] * count, [0] * count
    for edge in layout.edges:
        source = layout.nodes[edge.source]
        height = _label_size(edge.lines)[1]
        if edge.kind == "forward":
            labels[source.layer] = max(labels[source.layer], height)
        elif edge.kind == "self" and source.layer > 0:
            labels[source.layer - 1] = max(labels[source.layer - 1], height + 2 * LOOP)
        if edge.exit_track >= 0:
            lower[source.layer - 1] += 1
        if edge.entry_track >= 0:
            upper[layout.nodes[edge.dest].layer] += 1
    y = 0.0
    for i, row in enumerate(layout.rows):
        layout.row_top.append(y)
        for state in row:
            node = layout.nodes[state]
            node.y = y + (layout.row_height[i] - node.h) / 2
        y += layout.row_height[i]
        above, below = _track_zone(upper[i]), _track_zone(lower[i])
        channel = max(MIN_CHANNEL, above + labels[i] + 24 + below)
        layout.bands.append((y + above, y + channel - below))
        y += channel


def _track_zone(tracks: int) -> float:
    """Return the depth of channel that `tracks` horizontal runs take up."""
    return TRACK_OFFSET + TRACK_STEP * tracks + 4 if tracks else 12


def _place_lanes(layout: _Layout) -> None:
    """Put the lanes outside the states, each as wide as its widest label."""
    nodes = layout.nodes.values()
    widths: dict[tuple[int, int], float] = defaultdict(float)
    for edge in layout.edges:
        if edge.kind == "back":
            key = (edge.side, edge.lane)
            widths[key] = max(widths[key], _label_size(edge.lines)[0])
    for side in (-1, 1):
        edge_x = (
            min(n.left for n in nodes) if side < 0 else max(n.right + _loop_room(n) for n in nodes)
        )
        lane = 0
        while (side, lane) in widths:
            half = widths[(side, lane)] / 2
            layout.lanes[(side, lane)] = edge_x + side * (LANE_GAP + half)
            edge_x = layout.lanes[(side, lane)] + side * half
            lane += 1


def _upper_track(layout: _Layout, row: int, track: int) -> float:
    """Return the y of a track just below a row."""
    return layout.row_top[row] + layout.row_height[row] + TRACK_OFFSET + TRACK_STEP * track


def _lower_track(layout: _Layout, row: int, track: int) -> float:
    """Return the y of a track just above the row after `row`."""
    return layout.row_top[row + 1] - TRACK_OFFSET - TRACK_STEP * track


# Ports and routes ---------------------------------------------------------------------------

PortKey = tuple[int, str]


def _ports(layout: _Layout) -> dict[PortKey, Point]:
    """Spread the edge ends evenly along each side of each state, ordered to avoid crossings."""
    far = 1e9
    sides: dict[tuple[str, str], list[tuple[float, float, int, str]]] = defaultdict(list)

    def add(state: str, side: str, key: tuple[float, float], edge: _Edge, end: str) -> None:
        sides[(state, side)].append((key[0], key[1], edge.index, end))

    for edge in layout.edges:
        source, dest = layout.nodes[edge.source], layout.nodes[edge.dest]
        if edge.kind == "forward":
            add(edge.source, "bottom", (dest.x, 0.0), edge, "src")
            add(edge.dest, "top", (source.x, 0.0), edge, "dst")
        elif edge.kind == "lateral":
            add(edge.source, "bottom", (dest.x, 0.0), edge, "src")
            add(edge.dest, "bottom", (source.x, 0.0), edge, "dst")
        elif edge.kind == "beside":
            rightward = dest.x > source.x
            add(edge.source, "right" if rightward else "left", (0.0, 0.0), edge, "src")
            add(edge.dest, "left" if rightward else "right", (0.0, 0.0), edge, "dst")
        elif edge.kind == "back":
            side = "left" if edge.side < 0 else "right"
            # Outgoing lanes stack inner-first from the top, incoming ones outer-first below.
            if edge.src_on_side:
                add(edge.source, side, (0.0, edge.lane), edge, "src")
            else:
                add(edge.source, "top", (edge.side * far, 0.0), edge, "src")
            if edge.dst_on_side:
                add(edge.dest, side, (1.0, -edge.lane), edge, "dst")
            else:
                add(edge.dest, "bottom", (edge.side * far, 0.0), edge, "dst")
    ports: dict[PortKey, Point] = {}
    for (state, side), entries in sorted(sides.items()):
        entries.sort()
        node = layout.nodes[state]
        low, high = _side_span(node, side)
        for k, (_, _, index, end) in enumerate(entries):
            t = low + (high - low) * (k + 1) / (len(entries) + 1)
            ports[(index, end)] = _side_point(node, side, t)
    return ports


def _side_span(node: _Node, side: str) -> tuple[float, float]:
    """Return the stretch of a side that edges may attach to, clear of corners and loops."""
    if side in ("top", "bottom"):
        loop = _loop_room(node) if side == "top" else 0.0
        return node.left + NODE_PAD_X, node.right - NODE_PAD_X - loop
    low = min(node.y + _loop_room(node), node.y + node.h / 2) if side == "right" else node.y
    return max(low, node.y + 8), node.bottom - 8


def _side_point(node: _Node, side: str, t: float) -> Point:
    """Return the point at `t` along the given side."""
    if side == "top":
        return t, node.y
    if side == "bottom":
        return t, node.bottom
    return (node.left if side == "left" else node.right), t


def _route(layout: _Layout, ports: dict[PortKey, Point]) -> None:
    """Give every edge its path, the boxes its line covers and its label positions."""
    routers: dict[str, Callable[[_Layout, _Edge, dict[PortKey, Point]], None]] = {
        "forward": _route_forward,
        "back": _route_back,
        "lateral": _route_lateral,
        "beside": _route_beside,
        "self": _route_self,
    }
    for edge in layout.edges:
        routers[edge.kind](layout, edge, ports)


def _route_forward(layout: _Layout, edge: _Edge, ports: dict[PortKey, Point]) -> None:
    """Draw a forward edge as an S-curve from the bottom of one row to the top of the next."""
    a, b = ports[(edge.index, "src")], ports[(edge.index, "dst")]
    bend = (b[1] - a[1]) / 2
    curve = (a, (a[0], a[1] + bend), (b[0], b[1] - bend), b)
    edge.d = f"M{_pt(a)} C{_pt(curve[1])} {_pt(curve[2])} {_pt(b)}"
    edge.obstacles = [_Box(x - 2, y - 2, 4, 4) for x, y in _samples(curve)]
    size = _label_size(edge.lines)
    # Prefer the channel's label band, clear of the tracks above and below it.
    top, bottom = layout.bands[layout.nodes[edge.source].layer]
    middle, spare = (top + bottom) / 2, max(0.0, (bottom - top - size[1]) / 2)
    heights = [middle + spare * f for f in (0.0, -0.5, 0.5, -1.0, 1.0)]
    ts = [_t_at_height(curve, y) for y in heights] + [k / 20 for k in (6, 14, 4, 16, 3, 17)]
    edge.candidates = [_centred(_bezier(curve, t), size) for t in ts]


def _t_at_height(curve: Curve, y: float) -> float:
    """Return where a downward curve reaches height `y`."""
    low, high = 0.0, 1.0
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (middle, high) if _bezier(curve, middle)[1] < y else (low, middle)
    return (low + high) / 2


def _route_back(layout: _Layout, edge: _Edge, ports: dict[PortKey, Point]) -> None:
    """Draw a back edge out to its lane, along it and in again."""
    lane = layout.lanes[(edge.side, edge.lane)]
    a, b = ports[(edge.index, "src")], ports[(edge.index, "dst")]
    source, dest = layout.nodes[edge.source], layout.nodes[edge.dest]
    start = [a] if edge.src_on_side else [a, (a[0], _exit_y(layout, source, edge))]
    end = [b] if edge.dst_on_side else [(b[0], _entry_y(layout, dest, edge)), b]
    points = [*start, (lane, start[-1][1]), (lane, end[0][1]), *end]
    _set_polyline(edge, points)
    size = _label_size(edge.lines)
    low, high = end[0][1], start[-1][1]
    edge.candidates = [
        _centred((lane, low + (high - low) * t), size) for t in (0.5, 0.35, 0.65, 0.2, 0.8)
    ]


def _exit_y(layout: _Layout, source: _Node, edge: _Edge) -> float:
    """Return the track a back edge takes above its source's row."""
    return _lower_track(layout, source.layer - 1, edge.exit_track)


def _entry_y(layout: _Layout, dest: _Node, edge: _Edge) -> float:
    """Return the track an edge takes below its destination's row."""
    return _upper_track(layout, dest.layer, edge.entry_track)


def _route_lateral(layout: _Layout, edge: _Edge, ports: dict[PortKey, Point]) -> None:
    """Draw an edge between non-neighbours in a row through the channel below it."""
    a, b = ports[(edge.index, "src")], ports[(edge.index, "dst")]
    y = _entry_y(layout, layout.nodes[edge.dest], edge)
    _set_polyline(edge, [a, (a[0], y), (b[0], y), b])
    size = _label_size(edge.lines)
    along = [a[0] + (b[0] - a[0]) * f for f in (0.5, 0.3, 0.7)]
    edge.candidates = [_centred((x, y + 3 + size[1] / 2), size) for x in along]
    edge.candidates += [_centred((x, y), size) for x in along]


def _route_beside(layout: _Layout, edge: _Edge, ports: dict[PortKey, Point]) -> None:
    """Draw an edge between neighbours in a row straight across the gap."""
    a, b = ports[(edge.index, "src")], ports[(edge.index, "dst")]
    # Both sides carry their own port lists; meet halfway so the arrow stays level.
    level = (a[1] + b[1]) / 2
    a, b = (a[0], level), (b[0], level)
    _set_polyline(edge, [a, b])
    width, height = _label_size(edge.lines)
    middle = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    edge.candidates = [
        _centred((middle[0], middle[1] + 4 + height / 2), (width, height)),
        _centred((middle[0], middle[1] - 4 - height / 2), (width, height)),
    ]


def _route_self(layout: _Layout, edge: _Edge, ports: dict[PortKey, Point]) -> None:
    """Draw a self loop over the state's top right corner, its label beside the loop."""
    node = layout.nodes[edge.source]
    size = LOOP + LOOP_STEP * edge.loop
    a, b = (node.right - size, node.y), (node.right, node.y + size)
    reach = 3 * size
    curve = (a, (a[0], a[1] - reach), (b[0] + reach, b[1]), b)
    edge.d = f"M{_pt(a)} C{_pt(curve[1])} {_pt(curve[2])} {_pt(b)}"
    points = list(_samples(curve))
    left, top = min(p[0] for p in points), min(p[1] for p in points)
    loop = _Box(left, top, max(p[0] for p in points) - left, max(p[1] for p in points) - top)
    edge.obstacles = [loop]
    width, height = _label_size(edge.lines)
    edge.candidates = [
        _Box(loop.right + 4, loop.y + loop.h / 2 - height / 2, width, height),
        _centred((loop.x + loop.w / 2, loop.y - 2 - height / 2), (width, height)),
        _Box(loop.right + 4, loop.bottom + 2, width, height),
        _centred((node.x, loop.y - 2 - height / 2), (width, height)),
    ]


def _set_polyline(edge: _Edge, points: list[Point]) -> None:
    """Give an edge an orthogonal path with rounded corners through `points`."""
    points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    edge.d = _rounded(points)
    edge.obstacles = [
        _Box(min(a[0], b[0]), min(a[1], b[1]), abs(a[0] - b[0]), abs(a[1] - b[1])).grow(1.5)
        for a, b in pairwise(points)
    ]


def _rounded(points: list[Point], radius: float = 8.0) -> str:
    """Return an SVG path through `points`, rounding each corner."""
    parts = [f"M{_pt(points[0])}"]
    for before, corner, after in zip(points, points[1:], points[2:], strict=False):
        r = min(radius, _distance(before, corner) / 2, _distance(corner, after) / 2)
        parts.append(f"L{_pt(_towards(corner, before, r))}")
        parts.append(f"Q{_pt(corner)} {_pt(_towards(corner, after, r))}")
    parts.append(f"L{_pt(points[-1])}")
    return " ".join(parts)


def _distance(a: Point, b: Point) -> float:
    """Return the distance between two points."""
    return float(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)


def _towards(origin: Point, target: Point, length: float) -> Point:
    """Return the point `length` from `origin` on the way to `target`."""
    total = _distance(origin, target)
    if not total:
        return origin
    return (
        origin[0] + (target[0] - origin[0]) * length / total,
        origin[1] + (target[1] - origin[1]) * length / total,
    )


def _bezier(curve: Curve, t: float) -> Point:
    """Return the point at `t` on a cubic Bézier curve."""
    u = 1 - t
    weights = (u**3, 3 * u * u * t, 3 * u * t * t, t**3)
    return (
        sum(w * p[0] for w, p in zip(weights, curve, strict=True)),
        sum(w * p[1] for w, p in zip(weights, curve, strict=True)),
    )


def _samples(curve: Curve) -> Iterable[Point]:
    """Return points spread along a curve, for keeping labels off it."""
    return (_bezier(curve, k / 16) for k in range(1, 16))


def _centred(centre: Point, size: tuple[float, float]) -> _Box:
    """Return a box of `size` centred on `centre`."""
    return _Box(centre[0] - size[0] / 2, centre[1] - size[1] / 2, size[0], size[1])


def _place_labels(layout: _Layout) -> None:
    """Put each label at its first free candidate, else where it covers least."""
    nodes = [node.box.grow(2) for node in layout.nodes.values()]
    lines = [(box, edge.index) for edge in layout.edges for box in edge.obstacles]
    placed: list[_Box] = []
    order = ("back", "self", "beside", "lateral", "forward")
    for edge in sorted(layout.edges, key=lambda e: (order.index(e.kind), e.index)):
        best, best_cost = edge.candidates[0], float("inf")
        for candidate in edge.candidates:
            # Covering a state is far worse than covering a line or another label.
            cost = (
                100 * sum(candidate.overlap(node) for node in nodes)
                + sum(candidate.overlap(box) for box, owner in lines if owner != edge.index)
                + 10 * sum(candidate.grow(2).overlap(label) for label in placed)
            )
            if cost < best_cost:
                best, best_cost = candidate, cost
            if not cost:
                break
        edge.label = best
        placed.append(best)


# Output -------------------------------------------------------------------------------------


def _document(
    definition: ProcessDefinition, layout: _Layout, current: str | None, lang: str
) -> str:
    """Return the SVG document for a finished layout."""
    words = _WORDS[lang]
    prefix = f"diagram-{definition.name}"
    arrow = f"url(#{prefix}-arrow)"
    start = _start_marker(layout.nodes[definition.initial], arrow)
    view = _bounds(layout, start).grow(MARGIN)
    x, y = int(view.x // 1), int(view.y // 1)
    width, height = int(-(-view.right // 1)) - x, int(-(-view.bottom // 1)) - y
    title = (definition.title_en or definition.title) if lang == "en" else definition.title
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" lang="{lang}" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" width="{width}" height="{height}" '
        f'viewBox="{x} {y} {width} {height}" font-family="{FONT_FAMILY}">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(_description(definition, current, lang))}</desc>',
        _defs(prefix),
        f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="{BACKGROUND}"/>',
        f'<g class="start" aria-hidden="true">{start[1]}</g>',
        '<g class="transitions">',
        *(_edge_svg(layout, edge, arrow) for edge in layout.edges),
        "</g>",
        '<g class="states">',
        *(_node_svg(node, node.state.name == current, words) for node in layout.nodes.values()),
        "</g>",
        '<g class="edge-labels">',
        *(_label_svg(edge) for edge in layout.edges),
        "</g>",
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _defs(prefix: str) -> str:
    """Return the arrowhead marker."""
    return (
        f'<defs><marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="10" markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{EDGE_STROKE}"/></marker></defs>'
    )


def _start_marker(node: _Node, arrow: str) -> tuple[_Box, str]:
    """Return the bounds and markup of the dot and arrow that point at the initial state."""
    x, top = node.x, node.y
    box = _Box(x - 7, top - 3 * LOOP - 7, 14, 3 * LOOP + 7)
    markup = (
        f'<circle cx="{_n(x)}" cy="{_n(top - 3 * LOOP)}" r="6" fill="{TEXT}"/>'
        f'<path d="M{_pt((x, top - 3 * LOOP + 6))} L{_pt((x, top))}" stroke="{EDGE_STROKE}" '
        f'stroke-width="1.5" fill="none" marker-end="{arrow}"/>'
    )
    return box, markup


def _bounds(layout: _Layout, start: tuple[_Box, str]) -> _Box:
    """Return the box that holds every state, line and label."""
    boxes = [start[0], *(node.box for node in layout.nodes.values())]
    for edge in layout.edges:
        boxes.extend(edge.obstacles)
        if edge.label is not None:
            boxes.append(edge.label)
    left, top = min(b.x for b in boxes), min(b.y for b in boxes)
    return _Box(left, top, max(b.right for b in boxes) - left, max(b.bottom for b in boxes) - top)


def _edge_svg(layout: _Layout, edge: _Edge, arrow: str) -> str:
    """Return the group for one edge: its title and its path."""
    source = layout.nodes[edge.source].lines
    dest = layout.nodes[edge.dest].lines
    title = f"{' '.join(edge.lines)}: {' '.join(source)} → {' '.join(dest)}"
    dash = ' stroke-dasharray="6 4"' if edge.kind == "back" else ""
    return (
        f'<g class="transition {edge.kind}" {_data(edge)}><title>{escape(title)}</title>'
        f'<path d="{edge.d}" fill="none" stroke="{EDGE_STROKE}" stroke-width="1.5"{dash} '
        f'marker-end="{arrow}"/></g>'
    )


def _data(edge: _Edge) -> str:
    """Return the data attributes naming an edge's transition and ends."""
    return (
        f"data-trigger={quoteattr(edge.transition.trigger)} "
        f"data-source={quoteattr(edge.source)} data-dest={quoteattr(edge.dest)}"
    )


def _label_svg(edge: _Edge) -> str:
    """Return an edge label on a white plate, so lines beneath do not cut the text."""
    box = edge.label or edge.candidates[0]
    first = box.y + LABEL_PAD + EDGE_LINE / 2 + EDGE_FONT * 0.35
    spans = "".join(
        f'<tspan x="{_n(box.x + box.w / 2)}" y="{_n(first + k * EDGE_LINE)}">{escape(line)}</tspan>'
        for k, line in enumerate(edge.lines)
    )
    return (
        f'<g class="edge-label" {_data(edge)} aria-hidden="true">'
        f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" '
        f'rx="3" fill="{BACKGROUND}" fill-opacity="0.92"/>'
        f'<text font-size="{EDGE_FONT}" fill="{TEXT}" text-anchor="middle">{spans}</text></g>'
    )


def _node_svg(node: _Node, current: bool, words: dict[str, str]) -> str:
    """Return the group for one state: title, box (double for final states) and label."""
    final = node.state.final
    classes = " ".join(
        name for name, on in (("state", True), ("final", final), ("current", current)) if on
    )
    fill = CURRENT_FILL if current else FINAL_FILL if final else NODE_FILL
    stroke = CURRENT_STROKE if current else FINAL_STROKE if final else NODE_STROKE
    ink = CURRENT_TEXT if current else TEXT
    notes = [words["final"]] if final else []
    notes += [words["current"]] if current else []
    title = " ".join(node.lines) + (f" ({', '.join(notes)})" if notes else "")
    box = node.box
    parts = [
        f'<g class="{classes}" id="state-{node.state.name}"'
        + (' aria-current="step">' if current else ">"),
        f"<title>{escape(title)}</title>",
        f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" '
        f'rx="10" fill="{fill}" stroke="{stroke}" stroke-width="{3 if current else 1.5}"/>',
    ]
    if final:
        inner = box.grow(-5)
        parts.append(
            f'<rect x="{_n(inner.x)}" y="{_n(inner.y)}" width="{_n(inner.w)}" '
            f'height="{_n(inner.h)}" rx="6" fill="none" '
            f'stroke="{CURRENT_TEXT if current else stroke}" stroke-width="1.5"/>'
        )
    parts.append(_node_text(node, current, ink, words))
    parts.append("</g>")
    return "".join(parts)


def _node_text(node: _Node, current: bool, ink: str, words: dict[str, str]) -> str:
    """Return the state's label, under a 'current' marker when it is the current state."""
    lines = ([words["marker"]] if current else []) + node.lines
    first = node.y + (node.h - len(lines) * NODE_LINE) / 2 + NODE_LINE / 2 + NODE_FONT * 0.35
    spans = []
    for k, line in enumerate(lines):
        size = f' font-size="{EDGE_FONT}"' if current and k == 0 else ""
        spans.append(
            f'<tspan x="{_n(node.x)}" y="{_n(first + k * NODE_LINE)}"{size}>{escape(line)}</tspan>'
        )
    weight = ' font-weight="bold"' if current else ""
    return (
        f'<text font-size="{NODE_FONT}" fill="{ink}" text-anchor="middle"{weight}>'
        f"{''.join(spans)}</text>"
    )


def _description(definition: ProcessDefinition, current: str | None, lang: str) -> str:
    """Describe the diagram in words: its states, its transitions and the current state."""
    words = _WORDS[lang]
    title = (definition.title_en or definition.title) if lang == "en" else definition.title

    def name(state: str) -> str:
        return _state_label(definition.states[state], lang)

    states = []
    for spec in definition.states.values():
        notes = [words["initial"]] if spec.name == definition.initial else []
        notes += [words["final"]] if spec.final else []
        states.append(name(spec.name) + (f" ({', '.join(notes)})" if notes else ""))
    moves = [_describe_transition(t, name, lang) for t in definition.transitions]
    text = (
        f"{words['heading']} {title}. {words['states']}: {'; '.join(states)}. "
        f"{words['transitions']}: {'; '.join(moves)}."
    )
    if current is not None:
        text += f" {words['now']}: {name(current)}."
    return text


def _describe_transition(transition: TransitionSpec, name: Callable[[str], str], lang: str) -> str:
    """Describe one transition as 'label from A or B to C'."""
    words = _WORDS[lang]
    label = words["quote"].format(transition.label_en if lang == "en" else transition.label)
    if transition.is_self_loop:
        return f"{label} {words['in']} {name(transition.dest)} ({words['stays']})"
    sources = [name(source) for source in transition.sources]
    joined = ", ".join(sources[:-1]) + f" {words['or']} " + sources[-1]
    return (
        f"{label} {words['from']} {joined if len(sources) > 1 else sources[0]} "
        f"{words['to']} {name(transition.dest)}"
    )


def _pt(point: Point) -> str:
    """Format a point for a path."""
    return f"{_n(point[0])},{_n(point[1])}"


def _n(value: float) -> str:
    """Format a coordinate with at most one decimal."""
    text = f"{value:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text
