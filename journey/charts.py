"""Server-drawn SVG charts: the geometry here, the drawing in templates/journey/_chart.html.

Colours come from the site's CSS custom properties, so a chart reads the same in the light and the
low-light theme. Each chart is paired on the page with a table that says the same thing in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 220
LEFT = 44  # room for the y-axis labels
RIGHT = 12
TOP = 12
BOTTOM = 34  # room for the x-axis labels


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # for the SVG <title>, read on hover and by some screen readers


@dataclass
class Point:
    x: float
    y: float
    label: str


@dataclass
class Chart:
    kind: str  # "bars" or "line"
    title: str
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[Point] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    outlines: list[Bar] = field(default_factory=list)  # a second series drawn as outlines behind the bars
    segments: list[str] = field(default_factory=list)  # polyline point lists; a gap splits the line
    points: list[Point] = field(default_factory=list)
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return not (self.bars or self.points)


def _x_positions(count: int) -> tuple[list[float], float]:
    span = (WIDTH - RIGHT) - LEFT
    step = span / max(count, 1)
    return [LEFT + step * (i + 0.5) for i in range(count)], step


def _y(value: float, low: float, high: float) -> float:
    bottom, top = HEIGHT - BOTTOM, TOP
    if high == low:
        return bottom
    return round(bottom - (value - low) / (high - low) * (bottom - top), 1)


def _x_labels(labels: list[str], xs: list[float]) -> list[Point]:
    """At most about eight labels along the bottom, evenly spread, always the last one."""
    if not labels:
        return []
    every = max(1, -(-len(labels) // 8))
    chosen = [i for i in range(len(labels)) if i % every == 0 or i == len(labels) - 1]
    if len(chosen) > 1 and chosen[-1] - chosen[-2] < every:
        chosen.pop(-2)
    return [Point(round(xs[i], 1), HEIGHT - BOTTOM + 18, labels[i]) for i in chosen]


def bars(title, description, labels, values, *, outline_values=None, value_label, outline_label=None) -> Chart:
    """One bar per label; `outline_values` (optional) drawn as outlines behind, e.g. RSVPs."""
    chart = Chart("bars", title, description)
    xs, step = _x_positions(len(labels))
    high = max([1, *values, *(outline_values or [])])
    high = _nice_ceiling(high)
    chart.ticks = [Tick(_y(v, 0, high), str(v)) for v in _tick_values(high)]
    width = max(2.0, min(28.0, step * 0.6))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        top = _y(value, 0, high)
        chart.bars.append(
            Bar(
                round(xs[i] - width / 2, 1),
                top,
                round(width, 1),
                round(HEIGHT - BOTTOM - top, 1),
                value_label(label, value),
            )
        )
        if outline_values is not None:
            o_top = _y(outline_values[i], 0, high)
            chart.outlines.append(
                Bar(
                    round(xs[i] - width / 2 - 2, 1),
                    o_top,
                    round(width + 4, 1),
                    round(HEIGHT - BOTTOM - o_top, 1),
                    outline_label(label, outline_values[i]),
                )
            )
    chart.x_labels = _x_labels(labels, xs)
    return chart


def line(title, description, labels, values, *, low, high, tick_values, tick_label, point_label) -> Chart:
    """A line through the values; None leaves a gap (e.g. too few answers to show)."""
    chart = Chart("line", title, description)
    xs, _step = _x_positions(len(labels))
    chart.ticks = [Tick(_y(v, low, high), tick_label(v)) for v in tick_values]
    run: list[str] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        if value is None:
            if run:
                chart.segments.append(" ".join(run))
            run = []
            continue
        point = Point(round(xs[i], 1), _y(value, low, high), point_label(label, value))
        chart.points.append(point)
        run.append(f"{point.x},{point.y}")
    if run:
        chart.segments.append(" ".join(run))
    chart.x_labels = _x_labels(labels, xs)
    return chart


def _nice_ceiling(value: int) -> int:
    for nice in (2, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100):
        if value <= nice:
            return nice
    return int(-(-value // 50) * 50)


def _tick_values(high: int) -> list[int]:
    step = max(1, high // 4)
    return list(range(0, high + 1, step))
