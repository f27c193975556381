"""HTML tables: one row per acquisition channel, and the A/B comparison."""

from __future__ import annotations

from lifecycle.app.charts.base import _e, fmt

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
