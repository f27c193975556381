"""Cheap figure builders for the classroom page: SVG (and one PNG) from aggregate series only.

Every builder takes finished aggregates (a :class:`sim.records.RunResult`, a history of daily
metrics, the stage code column for the dot view) and returns a :class:`Figure`: the markup to show,
a one-line caption saying what it shows now, and the series it drew (what the tests read). Drawing
is string building plus, for the dot view, one small PNG from a numpy array, so a figure costs
milliseconds whatever the population; long series are thinned to at most ``MAX_POINTS`` points.

Builders: :func:`stage_populations`, :func:`stage_flows` (a Sankey-style flow diagram of the
moves between stages in the last days), :func:`cohort_retention`, :func:`money`,
:func:`cumulative_profit`, :func:`ltv_cac`, :func:`retention_compare`, :func:`customer_dots`
(one dot per customer up to :data:`lifecycle.app.limits.DOT_VIEW_LIMIT`, an aggregate square chart above),
plus HTML tables :func:`channel_table` and :func:`comparison_table`.

All text that comes from a scenario (stage, channel, tier names) is escaped: an uploaded file can
name its stages anything.
"""

from __future__ import annotations

import base64
import html
import io
import math
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from lifecycle.app.limits import DOT_VIEW_LIMIT

__all__ = [
    "Figure", "stage_colors", "stage_populations", "stage_flows", "cohort_retention", "money",
    "cumulative_profit", "ltv_cac", "retention_compare", "customer_dots", "stage_legend", "channel_table",
    "comparison_table", "MAX_POINTS", "FLOW_PERIODS",
]  # fmt: skip

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


# --- the lifecycle ---------------------------------------------------------------------------------


def _colors(result) -> list[str]:
    return stage_colors(result.stage_names, result.churned_stages)


def stage_populations(result, frame=None, *, title: str = "Customers in each stage") -> Figure:
    """Stage occupancy at the end of each day.

    ``frame``: the model's ``mesa.DataCollector`` table (one column per stage, one row per day);
    without it the run's daily table is used (the same numbers).
    """
    d = result.daily
    day = int(result.days)
    if not len(d):
        return _empty("stages", day, title, "Press Step or Play to start.")
    x = d["day"].to_numpy() + 1
    colors = _colors(result)
    if frame is not None and len(frame) == len(d):
        counts = {name: frame[name].to_numpy() for name in result.stage_names}
    else:
        counts = {name: d[f"stage:{name}"].to_numpy() for name in result.stage_names}
    series = [{"label": name, "x": x, "y": counts[name], "color": colors[k]}
              for k, name in enumerate(result.stage_names)]
    caption = f"Day {day}: " + " · ".join(f"{n} {int(counts[n][-1]):,}" for n in result.stage_names)
    return line_chart("stages", title, series, day=day, y_kind="int", caption=caption)


def stage_flows(result, period: int = 7, *, top: int = 24, title: str | None = None) -> Figure:
    """Moves between stages summed over the last ``period`` days, as a Sankey-style diagram."""
    day = int(result.days)
    period = max(1, int(period))
    title = title or f"Moves between stages, last {period} day{'s' if period > 1 else ''}"
    if result.flows.shape[0] == 0:
        return _empty("flows", day, title, "Press Step or Play to start.")
    F = result.flows[-period:].sum(axis=0).astype(np.int64)
    np.fill_diagonal(F, 0)
    names = result.stage_names
    colors = _colors(result)
    src, dst = np.nonzero(F)
    edges = sorted(zip(src.tolist(), dst.tolist(), F[src, dst].tolist()), key=lambda e: -e[2])[:top]
    if not edges:
        return _empty("flows", day, title, f"No customer changed stage in the last {period} days.")
    total = sum(v for _, _, v in edges)
    sources = sorted({i for i, _, _ in edges})
    targets = sorted({j for _, j, _ in edges})
    out_sum = {i: sum(v for a, _, v in edges if a == i) for i in sources}
    in_sum = {j: sum(v for _, b, v in edges if b == j) for j in targets}
    h = max(H, 40 + 22 * max(len(sources), len(targets)))
    parts = _svg_open("flows", day, title, W, h)
    top_y, bottom, gap, bw = 30, 18, 8, 12
    x0, x1 = 150, W - 150 - bw
    avail = h - top_y - bottom - gap * (max(len(sources), len(targets)) - 1)
    scale = avail / total

    def place(keys, sums):
        pos, y = {}, float(top_y)
        for k in keys:
            hgt = max(2.0, sums[k] * scale)
            pos[k] = [y, y, hgt]  # top, cursor, height
            y += hgt + gap
        return pos

    ps, pt = place(sources, out_sum), place(targets, in_sum)
    for i, j, v in sorted(edges, key=lambda e: (e[0], e[1])):
        hgt = max(1.0, v * scale)
        ys0 = ps[i][1]
        ps[i][1] += hgt
        yt0 = pt[j][1]
        pt[j][1] += hgt
        xm = (x0 + bw + x1) / 2
        d = (f"M{x0 + bw},{ys0:.1f} C{xm:.1f},{ys0:.1f} {xm:.1f},{yt0:.1f} {x1},{yt0:.1f} "
             f"L{x1},{yt0 + hgt:.1f} C{xm:.1f},{yt0 + hgt:.1f} {xm:.1f},{ys0 + hgt:.1f} {x0 + bw},{ys0 + hgt:.1f} Z")
        parts.append(f'<path d="{d}" fill="{colors[i]}" fill-opacity="0.45" stroke="none">'
                     f"<title>{_e(names[i])} → {_e(names[j])}: {v:,}</title></path>")
    for i in sources:
        y, _, hgt = ps[i]
        parts.append(f'<rect x="{x0}" y="{y:.1f}" width="{bw}" height="{hgt:.1f}" fill="{colors[i]}"/>')
        parts.append(f'<text x="{x0 - 6}" y="{y + hgt / 2 + 4:.1f}" font-size="11" text-anchor="end" fill="#222">'
                     f"{_e(_short(names[i]))} {out_sum[i]:,}</text>")
    for j in targets:
        y, _, hgt = pt[j]
        parts.append(f'<rect x="{x1}" y="{y:.1f}" width="{bw}" height="{hgt:.1f}" fill="{colors[j]}"/>')
        parts.append(f'<text x="{x1 + bw + 6}" y="{y + hgt / 2 + 4:.1f}" font-size="11" fill="#222">'
                     f"{_e(_short(names[j]))} {in_sum[j]:,}</text>")
    parts.append(f'<text x="{x0}" y="{h - 1}" font-size="10" fill="#777">from</text>')
    parts.append(f'<text x="{x1}" y="{h - 1}" font-size="10" fill="#777">to</text></svg>')
    caption = f"Last {period} days: " + " · ".join(f"{names[i]} → {names[j]} {v:,}" for i, j, v in edges[:4])
    data = {"matrix": F, "edges": [(names[i], names[j], v) for i, j, v in edges], "period": period}
    return Figure("flows", "".join(parts), caption, data)


def _short(name: str, n: int = 18) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def cohort_retention(result, *, cohorts: int = 6, title: str = "Cohort retention (true)") -> Figure:
    """Share of each 30-day acquisition cohort still alive, by age; the pooled curve in black."""
    from analysis.metrics import retention_curve

    day = int(result.days)
    frame = result.retention_frame()
    series = []
    if len(frame):
        starts = sorted(frame["cohort_start_day"].unique())
        usable = [c for c in starts if (frame["cohort_start_day"] == c).sum() >= 2][-cohorts:]
        for k, c in enumerate(usable):
            f = frame[frame["cohort_start_day"] == c].sort_values("age_days")
            shade = 0.35 + 0.5 * (k + 1) / max(1, len(usable))
            color = f"rgba(31,119,180,{shade:.2f})"
            series.append({"label": f"from day {c}", "x": f["age_days"].to_numpy(),
                           "y": f["true_retention"].to_numpy(), "color": color, "width": 1.5})
    pooled = retention_curve(result)
    if len(pooled) >= 2:
        series.append({"label": "all cohorts", "x": pooled["age_days"].to_numpy(), "y": pooled["retention"].to_numpy(),
                       "color": "#111", "width": 3})
    parts = []
    for age in (30, 90, 180):
        row = pooled[pooled["age_days"] == age]
        if len(row):
            parts.append(f"{age} days {fmt(float(row['retention'].iloc[0]), 'share')}")
    caption = "Pooled true retention: " + (" · ".join(parts) if parts else "not yet measurable (needs 7+ days)")
    return line_chart("retention", title, series, day=day, x_label="age (days since acquisition)", y_kind="share",
                      y_min=0.0, y_max=1.0, caption=caption, empty="Retention appears once cohorts reach an age of 7 days.")


def _rolling(x: np.ndarray, k: int = 7) -> np.ndarray:
    if x.size == 0:
        return x
    c = np.cumsum(np.insert(x.astype(float), 0, 0.0))
    n = np.minimum(np.arange(1, x.size + 1), k)
    return (c[1:] - c[np.maximum(0, np.arange(1, x.size + 1) - k)]) / n


def _money_columns(result):
    d = result.daily
    spend_cols = [c for c in d.columns if str(c).startswith("spend:")]
    acq = d[spend_cols].sum(axis=1).to_numpy() if spend_cols else np.zeros(len(d))
    return d["day"].to_numpy() + 1, d["revenue"].to_numpy(), d["gross_margin"].to_numpy(), d["policy_cost"].to_numpy(), acq


def money(result, *, title: str = "Revenue vs costs per day (7-day average)") -> Figure:
    """Revenue, gross margin, policy costs and acquisition spend per day, smoothed over 7 days."""
    day = int(result.days)
    if not len(result.daily):
        return _empty("money", day, title, "Press Step or Play to start.")
    x, rev, margin, policy, acq = _money_columns(result)
    series = [
        {"label": "revenue", "x": x, "y": _rolling(rev), "color": "#1f77b4"},
        {"label": "gross margin", "x": x, "y": _rolling(margin), "color": "#2ca02c"},
        {"label": "policy costs", "x": x, "y": _rolling(policy), "color": "#ff7f0e"},
        {"label": "acquisition spend", "x": x, "y": _rolling(acq), "color": "#d62728"},
    ]
    caption = (f"Day {day}, so far: revenue {fmt(rev.sum(), 'money')}, margin {fmt(margin.sum(), 'money')}, "
               f"policy costs {fmt(policy.sum(), 'money')}, acquisition {fmt(acq.sum(), 'money')}")
    return line_chart("money", title, series, day=day, y_kind="money", caption=caption)


def cumulative_profit(results: list[tuple[str, object, str]], *, title: str = "Cumulative profit") -> Figure:
    """Gross margin minus policy costs minus acquisition spend, summed from day 1, per run."""
    series, parts, day = [], [], 0
    for label, result, color in results:
        day = max(day, int(result.days))
        if not len(result.daily):
            continue
        x, _, margin, policy, acq = _money_columns(result)
        y = np.cumsum(margin - policy - acq)
        series.append({"label": label, "x": x, "y": y, "color": color, "width": 2.5})
        parts.append(f"{label} {fmt(float(y[-1]), 'money')}")
    caption = "Profit so far: " + " · ".join(parts) if parts else ""
    return line_chart("profit", title, series, day=day, y_kind="money", hlines=((0.0, "break-even", "#999"),),
                      caption=caption)


def ltv_cac(histories: list[tuple[str, list, str]], *, title: str = "LTV/CAC of acquired customers") -> Figure:
    """LTV/CAC over time (realised LTV so far / CAC) per run, with the health target of 3."""
    series, parts, day = [], [], 0
    for label, history, color in histories:
        rows = [h for h in history if h.get("ltv_cac") is not None]
        if history:
            day = max(day, int(history[-1]["day"]))
        if not rows:
            continue
        x = np.array([h["day"] for h in rows], dtype=float)
        y = np.array([h["ltv_cac"] for h in rows], dtype=float)
        series.append({"label": label, "x": x, "y": y, "color": color, "width": 2.5})
        parts.append(f"{label} {fmt(float(y[-1]), 'ratio')}")
    caption = ("LTV/CAC now: " + " · ".join(parts) + " (target 3; LTV counts margin realised so far)") if parts else ""
    return line_chart("ltv_cac", title, series, day=day, y_kind="ratio", hlines=((3.0, "target 3", "#2ca02c"),),
                      caption=caption, empty="LTV/CAC appears once channels have acquired customers.")


def retention_compare(results: list[tuple[str, object, str]], kind: str = "true",
                      title: str = "Retention by age, A vs B") -> Figure:
    """Pooled retention curves of several runs on one chart."""
    from analysis.metrics import retention_curve

    series, parts, day = [], [], 0
    for label, result, color in results:
        day = max(day, int(result.days))
        c = retention_curve(result, kind)
        if len(c) >= 1:
            series.append({"label": label, "x": c["age_days"].to_numpy(), "y": c["retention"].to_numpy(),
                           "color": color, "width": 2.5})
            parts.append(f"{label} {fmt(float(c['retention'].iloc[-1]), 'share')} at {int(c['age_days'].iloc[-1])} days")
    caption = "Latest age: " + " · ".join(parts) if parts else ""
    return line_chart("retention_compare", title, series, day=day, x_label="age (days since acquisition)",
                      y_kind="share", y_min=0.0, y_max=1.0, caption=caption,
                      empty="Retention appears once cohorts reach an age of 7 days.")


# --- customers -------------------------------------------------------------------------------------


def _circle_mask(cell: int) -> np.ndarray:
    r = cell * 0.42
    c = (cell - 1) / 2
    yy, xx = np.mgrid[0:cell, 0:cell]
    return (yy - c) ** 2 + (xx - c) ** 2 <= r * r


def _hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def customer_dots(stage_codes: np.ndarray, stage_names, churned, *, day: int = 0, limit: int = DOT_VIEW_LIMIT,
                  width: int = W) -> Figure:
    """One dot per customer coloured by stage (a PNG), or above ``limit`` customers an aggregate view.

    Customers are laid out in acquisition order, row by row, so a customer keeps its place while
    it changes colour, and newcomers appear at the end. Above ``limit`` the view switches to 200
    squares, each 0.5% of the customers, coloured by stage share.
    """
    codes = np.asarray(stage_codes)
    n = int(codes.size)
    colors = stage_colors(stage_names, churned)
    counts = np.bincount(codes.astype(np.int64), minlength=len(stage_names))[: len(stage_names)] if n else \
        np.zeros(len(stage_names), dtype=np.int64)
    data = {"customers": n, "counts": dict(zip(stage_names, counts.tolist())), "limit": limit}
    if n == 0:
        return Figure("dots", '<div style="color:#777">No customers yet.</div>', "No customers yet.", data)
    if n > limit:
        return _aggregate_squares(counts, stage_names, colors, n, day, limit, data)
    from PIL import Image

    cols = max(1, math.ceil(math.sqrt(n * 2.2)))
    cell = int(min(18, max(3, width // cols)))
    rows = math.ceil(n / cols)
    palette = np.array([_hex_rgb(c) for c in colors] + [(255, 255, 255)], dtype=np.uint8)
    grid = np.full(rows * cols, len(colors), dtype=np.int64)
    grid[:n] = codes
    img = palette[grid.reshape(rows, cols)]  # (rows, cols, 3)
    img = np.repeat(np.repeat(img, cell, axis=0), cell, axis=1)
    mask = np.tile(_circle_mask(cell), (rows, cols))
    img[~mask] = 255
    buf = io.BytesIO()
    Image.fromarray(img, "RGB").save(buf, format="PNG", optimize=False, compress_level=1)
    src = base64.b64encode(buf.getvalue()).decode("ascii")
    alt = f"{n:,} customers, one dot each, coloured by stage"
    markup = (f'<img src="data:image/png;base64,{src}" alt="{_e(alt)}" data-chart="dots" data-day="{day}" '
              f'data-customers="{n}" width="{cols * cell}" height="{rows * cell}" '
              f'style="max-width:100%;image-rendering:pixelated"/>')
    caption = f"{n:,} customers, one dot each (dot view up to {limit:,} customers)."
    data.update(mode="dots", cell=cell, cols=cols, rows=rows)
    return Figure("dots", markup, caption, data)


def _aggregate_squares(counts, names, colors, n, day, limit, data) -> Figure:
    cells = 200
    exact = counts / n * cells
    share = np.floor(exact).astype(int)
    for k in np.argsort(-(exact - share))[: cells - share.sum()]:
        share[k] += 1
    cols, size, gap = 20, 22, 3
    rows = cells // cols
    w, h = cols * (size + gap) + 10, rows * (size + gap) + 28
    title = f"{n:,} customers: each square is 0.5%"
    parts = _svg_open("dots", day, title, w, h, extra=f' data-customers="{n}" data-mode="aggregate"')
    k = 0
    for s, m in enumerate(share):
        for _ in range(int(m)):
            r, c = divmod(k, cols)
            parts.append(f'<rect x="{5 + c * (size + gap)}" y="{24 + r * (size + gap)}" width="{size}" height="{size}" '
                         f'rx="3" fill="{colors[s]}"><title>{_e(names[s])}: {int(counts[s]):,}</title></rect>')
            k += 1
    parts.append("</svg>")
    caption = (f"{n:,} customers: above {limit:,} the dot view switches to this aggregate view "
               f"(each square is 0.5% of customers).")
    data.update(mode="aggregate", squares=dict(zip(names, share.tolist())))
    return Figure("dots", "".join(parts), caption, data)


def stage_legend(stage_names, churned, counts: dict | None = None, texts: dict | None = None) -> str:
    """HTML legend: a swatch, the stage name and count; hovering shows the stage's explain text."""
    colors = stage_colors(stage_names, churned)
    items = []
    for name, color in zip(stage_names, colors):
        count = f" {counts.get(name, 0):,}" if counts else ""
        tip = f' title="{_e(texts.get(name, ""))}"' if texts else ""
        items.append(f'<span{tip} style="display:inline-flex;align-items:center;margin:2px 10px 2px 0;font-size:12px">'
                     f'<span style="width:12px;height:12px;border-radius:6px;background:{color};display:inline-block;'
                     f'margin-right:4px"></span>{_e(name)}<b style="margin-left:3px">{_e(count)}</b></span>')
    return f'<div data-legend="stages" style="line-height:1.6">{"".join(items)}</div>'


# --- tables ----------------------------------------------------------------------------------------

_TABLE = 'style="border-collapse:collapse;font-size:12px;width:100%"'
_TD = 'style="padding:3px 6px;border-bottom:1px solid #eee;text-align:right"'
_TDL = 'style="padding:3px 6px;border-bottom:1px solid #eee;text-align:left"'


def channel_table(result) -> str:
    """HTML table per acquisition channel: customers, spend, CAC, LTV so far, LTV/CAC."""
    from analysis.metrics import channel_table as table

    rows = table(result)
    head = "".join(f"<th {_TD if k else _TDL}>{h}</th>" for k, h in
                   enumerate(("channel", "customers", "spend", "CAC", "LTV so far", "LTV/CAC")))
    body = []
    for name, r in rows.items():
        body.append(f"<tr><td {_TDL}>{_e(name)}</td><td {_TD}>{r['customers']:,}</td><td {_TD}>{fmt(r['spend'], 'money')}"
                    f"</td><td {_TD}>{fmt(r['cac'], 'money')}</td><td {_TD}>{fmt(r['ltv_mean'], 'money')}</td>"
                    f"<td {_TD}>{fmt(r['ltv_cac'], 'ratio')}</td></tr>")
    return f'<table data-table="channels" {_TABLE}><tr>{head}</tr>{"".join(body)}</table>'


def comparison_table(comparison: dict) -> str:
    """HTML table: each metric for A and B and the difference B - A."""
    head = "".join(f"<th {_TD if k else _TDL}>{h}</th>" for k, h in enumerate(("metric", "A", "B", "B − A")))
    body = []
    for r in comparison["rows"]:
        kind = r["format"]
        diff = r["diff"]
        if diff is None:
            d = "n/a"
        elif kind == "share":
            d = f"{100 * diff:+.1f} pts"
        elif kind == "ratio":
            d = f"{diff:+.2f}"
        else:
            d = ("+" if diff >= 0 else "−") + fmt(abs(diff), kind)
        color = "#2e7d32" if (diff or 0) > 0 else ("#c62828" if (diff or 0) < 0 else "#555")
        if r["metric"] in ("cac", "policy_costs"):
            color = "#c62828" if (diff or 0) > 0 else ("#2e7d32" if (diff or 0) < 0 else "#555")
        body.append(f'<tr data-metric="{_e(r["metric"])}"><td {_TDL}>{_e(r["label"])}</td>'
                    f"<td {_TD}>{fmt(r['A'], kind)}</td><td {_TD}>{fmt(r['B'], kind)}</td>"
                    f'<td {_TD}><b style="color:{color}">{_e(d)}</b></td></tr>')
    return f'<table data-table="comparison" {_TABLE}><tr>{head}</tr>{"".join(body)}</table>'
