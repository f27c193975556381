"""The money charts: revenue and costs per day, cumulative profit, LTV/CAC over time, retention of A vs B."""

from __future__ import annotations

import numpy as np

from lifecycle.app.charts.base import Figure, _empty, fmt, line_chart


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
