"""What every chart shares: the :class:`Figure`, colours, number formats, axes, legends and :func:`line_chart`."""

from __future__ import annotations

import html
import math
import unicodedata
from dataclasses import dataclass, field

import numpy as np

MAX_POINTS = 400
W, H = 560, 250
FONT = "font-family:Roboto,Arial,'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif"
PALETTE = ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#bcbd22", "#e377c2", "#8c564b",
           "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354")  # fmt: skip
GREYS = ("#8a8a8a", "#5f5f5f", "#b0b0b0", "#404040")
#: "flows between stages this period": the periods the page offers (days)
FLOW_PERIODS = (1, 7, 30)


@dataclass(frozen=True)
class Figure:
    """A drawn figure: ``markup`` (SVG or HTML), a one-line ``caption`` and the ``data`` drawn."""

    kind: str
    markup: str
    caption: str
    data: dict = field(default_factory=dict)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def stage_colors(names, churned) -> list[str]:
    """One colour per stage: a palette for living stages, greys for churned ones."""
    out, k, g = [], 0, 0
    for flag in churned:
        if flag:
            out.append(GREYS[g % len(GREYS)])
            g += 1
        else:
            out.append(PALETTE[k % len(PALETTE)])
            k += 1
    return out


def fmt(v, kind: str = "number") -> str:
    """Readable number: ``share`` as a percentage, ``money`` and ``number`` compact, ``ratio`` 2 digits."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if kind == "share":
        return f"{100 * v:.1f}%"
    if kind == "ratio":
        return f"{v:.2f}"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.2f}M"
    if a >= 1e4:
        return f"{v / 1e3:.1f}k"
    if a >= 100 or kind == "int":
        return f"{v:,.0f}"
    return f"{v:.2f}" if a < 10 else f"{v:.1f}"


def _tick_label(t: float, step: float, kind: str) -> str:
    if kind == "share":
        return f"{100 * t:.0f}%" if step >= 0.01 else f"{100 * t:.1f}%"
    if abs(t) >= 1e6:
        return f"{t / 1e6:g}M"
    if abs(t) >= 1e4:
        return f"{t / 1e3:g}k"
    if step >= 1:
        return f"{t:,.0f}"
    decimals = min(4, max(1, -math.floor(math.log10(step)))) if step > 0 else 2
    return f"{t:.{decimals}f}"


def _nice_step(span: float, n: int) -> float:
    raw = span / max(1, n)
    base = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if m * base >= raw:
            return m * base
    return 10 * base  # pragma: no cover


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1
    step = _nice_step(hi - lo, n)
    start = math.floor(lo / step) * step
    out, v = [], start
    while v <= hi + step * 1e-9:
        if v >= lo - step * 1e-9:
            out.append(round(v, 10))
        v += step
    return out


def _thin(x: np.ndarray, *ys: np.ndarray) -> tuple:
    if x.size <= MAX_POINTS:
        return (x, *ys)
    idx = np.unique(np.linspace(0, x.size - 1, MAX_POINTS).round().astype(int))
    return (x[idx], *(y[idx] for y in ys))


def _svg_open(kind: str, day: int, title: str, w: int = W, h: int = H, extra: str = "") -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" style="max-width:{w}px;{FONT}" '
        f'data-chart="{_e(kind)}" data-day="{day}" role="img" aria-label="{_e(title)}"{extra}>',
        f"<title>{_e(title)}</title>",
        f'<text x="8" y="16" font-size="13" font-weight="600" fill="#222">{_e(title)}</text>',
    ]


def _text_width(text: str, size: float = 11) -> float:
    """Rough width in pixels: wide (CJK) characters take about twice a Latin one."""
    return sum(size if unicodedata.east_asian_width(ch) in ("W", "F") else 0.6 * size for ch in text)


def _legend(items: list[tuple[str, str, bool]], w: int, y0: int) -> tuple[list[str], int]:
    """Legend items (label, colour, dashed) in rows from y0; returns the markup and the next free y."""
    parts, x, y = [], 8.0, float(y0)
    for label, color, dashed in items:
        text = label if len(label) <= 24 else label[:23] + "…"
        width = 22 + _text_width(text) + 10
        if x + width > w - 4 and x > 8:
            x, y = 8.0, y + 14
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        parts.append(f'<line x1="{x:.0f}" y1="{y - 4:.0f}" x2="{x + 16:.0f}" y2="{y - 4:.0f}" stroke="{color}" '
                     f'stroke-width="3"{dash}/>')
        parts.append(f'<text x="{x + 20:.0f}" y="{y:.0f}" font-size="11" fill="#333">{_e(text)}</text>')
        x += width
    return parts, int(y + 10)


def _empty(kind: str, day: int, title: str, message: str, w: int = W, h: int = 120) -> Figure:
    parts = _svg_open(kind, day, title, w, h)
    parts.append(f'<text x="{w / 2:.0f}" y="{h / 2 + 8:.0f}" text-anchor="middle" font-size="12" fill="#777">'
                 f"{_e(message)}</text></svg>")
    return Figure(kind, "".join(parts), message, {"series": {}})


def line_chart(kind: str, title: str, series: list[dict], *, day: int, x_label: str = "day", y_kind: str = "number",
               y_min: float | None = None, y_max: float | None = None, hlines: tuple = (), caption: str = "",
               w: int = W, h: int = H, empty: str = "Press Step or Play to start.") -> Figure:
    """A line chart. ``series``: dicts with ``label``, ``x``, ``y``, ``color`` and optional ``dashed``, ``width``."""
    drawn = [s for s in series if np.asarray(s["x"]).size]
    if not drawn:
        return _empty(kind, day, title, empty, w)
    parts = _svg_open(kind, day, title, w, h)
    legend, top = _legend([(s["label"], s["color"], s.get("dashed", False)) for s in drawn], w, 32)
    parts += legend
    left, right, bottom = 56, 14, 30
    top = max(top, 34)
    pw, ph = w - left - right, h - top - bottom
    xs = np.concatenate([np.asarray(s["x"], dtype=float) for s in drawn])
    ys = np.concatenate([np.asarray(s["y"], dtype=float) for s in drawn])
    ys = ys[np.isfinite(ys)]
    x0, x1 = float(xs.min()), float(xs.max())
    if x1 <= x0:
        x1 = x0 + 1
    lo = float(ys.min()) if ys.size else 0.0
    hi = float(ys.max()) if ys.size else 1.0
    for v, _, _ in hlines:
        lo, hi = min(lo, v), max(hi, v)
    lo = min(lo, 0.0) if y_min is None else y_min
    hi = hi if y_max is None else y_max
    if hi <= lo:
        hi = lo + 1
    ticks = _ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])

    def X(v):
        return left + (v - x0) / (x1 - x0) * pw

    def Y(v):
        return top + ph - (v - lo) / (hi - lo) * ph

    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    for t in ticks:
        y = Y(t)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e6e6e6"/>')
        parts.append(f'<text x="{left - 5}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#555">'
                     f"{_e(_tick_label(t, step, y_kind))}</text>")
    for t in (_ticks(x0, x1, 6) if x1 - x0 >= 6 else range(math.ceil(x0), math.floor(x1) + 1)):
        x = X(t)
        parts.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 4}" stroke="#999"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + ph + 15}" font-size="10" text-anchor="middle" fill="#555">'
                     f"{t:g}</text>")
    parts.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#999"/>')
    parts.append(f'<text x="{left + pw}" y="{h - 3}" font-size="10" text-anchor="end" fill="#555">{_e(x_label)}</text>')
    for v, label, color in hlines:
        y = Y(v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="{color}" '
                     f'stroke-dasharray="6 4" stroke-width="1.5"/>')
        parts.append(f'<text x="{left + 4}" y="{y - 4:.1f}" font-size="10" fill="{color}">{_e(label)}</text>')
    data = {}
    for s in drawn:
        x, y = _thin(np.asarray(s["x"], dtype=float), np.asarray(s["y"], dtype=float))
        ok = np.isfinite(y)
        pts = " ".join(f"{X(a):.1f},{Y(b):.1f}" for a, b in zip(x[ok], y[ok]))
        dash = ' stroke-dasharray="5 4"' if s.get("dashed") else ""
        parts.append(f'<polyline fill="none" stroke="{s["color"]}" stroke-width="{s.get("width", 2)}"{dash} '
                     f'points="{pts}"><title>{_e(s["label"])}</title></polyline>')
        data[s["label"]] = (np.asarray(s["x"]), np.asarray(s["y"]))
    parts.append("</svg>")
    return Figure(kind, "".join(parts), caption, {"series": data})
