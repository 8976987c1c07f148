"""The insight page: unanswered questions, escalations per category and week (a table and an inline SVG
chart drawn here, no script), and feedback counts."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.insight import Insight, gather
from connectors.review.common import render, require_db, state_of

COLOURS = {
    "general": "#5b6770",
    "research": "#4f0433",
    "education": "#ff876f",
    "ethics": "#870052",
    "security": "#002c34",
    "animals": "#4db5bc",
}
WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value)
    labels: list[tuple[float, str]]  # (x, week)
    legend: list[tuple[str, str]]  # (colour, category)
    baseline: float
    left: float
    right: float


def chart(insight: Insight) -> Chart:
    """Stacked bars: one per week, one segment per category."""
    weeks = insight.weeks
    peak = max([insight.week_total(w) for w in weeks] + [1])
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(weeks), 1)
    bars: list[Bar] = []
    for i, week in enumerate(weeks):
        bottom: float = HEIGHT - BOTTOM
        for category in insight.categories:
            count = insight.per_week[week][category]
            if not count:
                continue
            height = plot_height * count / peak
            bottom -= height
            label = f"{week}: {count} {category}"
            bars.append(
                Bar(LEFT + i * slot + slot * 0.15, bottom, slot * 0.7, height, COLOURS[category], label)
            )
    steps = sorted({0, peak // 2, peak})
    ticks = [(HEIGHT - BOTTOM - plot_height * v / peak, v) for v in steps]
    labels = [(LEFT + i * slot + slot / 2, week.split("-")[1]) for i, week in enumerate(weeks)]
    legend = [(COLOURS[c], c) for c in insight.categories]
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, legend, HEIGHT - BOTTOM, LEFT, WIDTH - RIGHT)


async def insight_page(request: web.Request) -> web.StreamResponse:
    services = state_of(request).services
    found = await services.run_sync(gather, require_db(services))
    context = {"title": "Insight", "insight": found, "chart": chart(found)}
    return await render(request, "insight.html", context)
