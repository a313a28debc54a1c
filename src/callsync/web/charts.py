"""Server-rendered inline SVG charts (no script, no library): a line chart and a bar chart. The markup is
built from numbers and escaped labels only."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

W, H, PAD_L, PAD_B, PAD_T, PAD_R = 640, 200, 48, 24, 12, 12


def _fmt(v: float) -> str:
    return f"{v:.0f}" if v >= 10 else f"{v:.2g}"


def line_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str, unit: str = ""
) -> Markup:
    """One or two lines over the labels (a None is a gap). `series`: (name, values) pairs."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = max(values) if values else 1.0
    top = top if top > 0 else 1.0
    n = max(1, len(labels) - 1)

    def x(i: int) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * i / n

    def y(v: float) -> float:
        return PAD_T + (H - PAD_T - PAD_B) * (1 - v / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}"/>',
        f'<text x="4" y="{PAD_T + 8}">{_fmt(top)}{escape(unit)}</text>',
        f'<text x="4" y="{H - PAD_B}">0</text>',
    ]
    for k, (name, vs) in enumerate(series):
        runs: list[list[str]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
        cls = "line" if k == 0 else "line2"
        for run in runs:
            if len(run) == 1:
                cx, cy = run[0].split(",")
                parts.append(f'<circle class="{cls}" cx="{cx}" cy="{cy}" r="2.5"/>')
            elif run:
                parts.append(f'<polyline class="{cls}" points="{" ".join(run)}"/>')
        parts.append(f'<text x="{W - PAD_R - 120}" y="{PAD_T + 12 + 14 * k}" class="{cls}-label">{escape(name)}</text>')
    step = max(1, len(labels) // 7)
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{x(i) - 16:.1f}" y="{H - 6}">{escape(label[5:] if len(label) == 10 else label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(items: Sequence[tuple[str, float]], title: str, unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value)."""
    top = max((v for _, v in items), default=1.0) or 1.0
    row = 22
    height = PAD_T + row * max(1, len(items)) + 8
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, v) in enumerate(items):
        yy = PAD_T + row * i
        width = (W - 220) * v / top
        parts.append(f'<text x="4" y="{yy + 14}">{escape(label[:24])}</text>')
        parts.append(f'<rect class="bar" x="170" y="{yy + 3}" width="{width:.1f}" height="{row - 8}"/>')
        parts.append(f'<text x="{174 + width:.1f}" y="{yy + 14}">{_fmt(v)}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
