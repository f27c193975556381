"""The lifecycle charts: customers in each stage over time, the moves between stages, cohort retention."""

from __future__ import annotations

import numpy as np

from lifecycle.app.charts.base import H, W, Figure, _e, _empty, _svg_open, fmt, line_chart, stage_colors


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
