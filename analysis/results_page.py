"""The experiment's results page: one self-contained HTML file an analyst can read and forward.

Core function: :func:`results_page` (payload and report in, HTML out). In order: the decision per
arm with the one reason that decided it; a health box (sample ratio, pre-period balance of the
arms, arms' sizes); the guardrails as a table; every metric's estimate in the unit that fits it
(percentage points for rates, percent of the control for money and ratios) with its 95% interval
drawn as a bar coloured by direction and significance (better / worse / not significant; for
churn lower is better), the twin-world truth beside it where the simulation knows it; and a next
step: the smallest effect this test could detect on the primary metric, and how many customers
per arm would detect the effect it saw. Plots and tables follow (:mod:`analysis.report`).
"""

from __future__ import annotations

import html
import json
import math

import numpy as np
from scipy import special

__all__ = ["results_page", "metric_cell", "next_step", "balance"]

_Z80 = float(special.ndtri(0.8))


def _is_rate(row: dict) -> bool:
    return str(row.get("method", "")).startswith("Wald") or row["metric"].startswith(("retention", "observed_retention",
                                                                                       "repurchase", "churn"))


def _verdict(row: dict, alpha: float) -> str:
    """better / worse / ns, with 'better' meaning in the metric's good direction."""
    significant = row["p_value"] < alpha and (row["ci_low"] > 0 or row["ci_high"] < 0)
    if not significant:
        return "ns"
    up = row["estimate"] > 0
    return "better" if up == bool(row.get("higher_is_better", True)) else "worse"


def metric_cell(row: dict) -> tuple[str, float, float, float]:
    """Text of the effect in its unit, and (estimate, low, high) in that unit, for the bar."""
    if _is_rate(row):
        est, lo, hi = (100 * row[k] for k in ("estimate", "ci_low", "ci_high"))
        return f"{est:+.2f} pts [{lo:+.2f}, {hi:+.2f}]", est, lo, hi
    if row.get("relative") is not None and row.get("rel_ci_low") is not None and math.isfinite(row["relative"]):
        est, lo, hi = (100 * row[k] for k in ("relative", "rel_ci_low", "rel_ci_high"))
        return f"{est:+.1f}% [{lo:+.1f}, {hi:+.1f}] ({row['estimate']:+.4g})", est, lo, hi
    est, lo, hi = row["estimate"], row["ci_low"], row["ci_high"]
    return f"{est:+.4g} [{lo:+.4g}, {hi:+.4g}]", est, lo, hi


def _truth_cell(row: dict) -> str:
    t = row.get("true_effect")
    if t is None:
        return ""
    if _is_rate(row):
        return f"{100 * t:+.2f} pts"
    if row.get("control"):
        return f"{100 * t / row['control']:+.1f}%"
    return f"{t:+.4g}"


def next_step(row: dict | None, alpha: float, power: float = 0.8) -> str:
    """The MDE this test had on ``row``'s metric and the customers per arm the effect seen would need."""
    if row is None or not row.get("std_error"):
        return "The primary metric was not estimated; no sizing advice."
    z = float(special.ndtri(1 - alpha / 2) + special.ndtri(power))
    mde = z * row["std_error"]
    n = 0.5 * (row["n_control"] + row["n_treatment"])
    unit = (lambda x: f"{100 * x:.2f} points") if _is_rate(row) else (lambda x: f"{x:.4g}")
    text = (f"This test could detect an effect of {unit(mde)} on {row['metric']} (power {power:g}, alpha {alpha:g}, "
            f"{n:,.0f} customers per arm).")
    effect = abs(row["estimate"])
    if effect > 0 and effect < mde:
        needed = n * (mde / effect) ** 2
        text += (f" To detect the effect it saw ({unit(effect)}) with the same power it would need about "
                 f"{needed:,.0f} customers per arm (effects shrink with more data, so treat this as a lower bound); "
                 "lifecycle power --simulate checks it on the scenario.")
    elif effect >= mde:
        text += " The effect seen is larger than that: the test was big enough."
    return text


def balance(outcomes, arm_names) -> list[dict]:
    """Pre-period balance per treatment arm: standardised difference of pre-period revenue and its p-value."""
    if outcomes is None or "pre_revenue" not in outcomes.frame:
        return []
    f = outcomes.frame
    out = []
    x0 = f.loc[f["arm"] == 0, "pre_revenue"].to_numpy(dtype=float)
    for k in range(1, len(arm_names)):
        x1 = f.loc[f["arm"] == k, "pre_revenue"].to_numpy(dtype=float)
        if min(x0.size, x1.size) < 2:
            continue
        pooled = math.sqrt((np.var(x0, ddof=1) + np.var(x1, ddof=1)) / 2)
        se = math.sqrt(np.var(x0, ddof=1) / x0.size + np.var(x1, ddof=1) / x1.size)
        diff = float(x1.mean() - x0.mean())
        smd = diff / pooled if pooled > 0 else 0.0
        p = float(2 * special.ndtr(-abs(diff) / se)) if se > 0 else 1.0
        out.append({"arm": arm_names[k], "smd": smd, "p_value": p})
    return out


def _bar(est: float, lo: float, hi: float, span: float, verdict: str) -> str:
    """An inline SVG bar: the interval, the estimate and zero, on a common scale of +-span."""
    def x(v):
        return 100 + 95 * max(-1.0, min(1.0, v / span))

    color = {"better": "#1a7f37", "worse": "#cf222e", "ns": "#8c959f"}[verdict]
    return (f'<svg width="200" height="14" role="img" aria-label="{verdict}"><line x1="100" y1="0" x2="100" y2="14" '
            f'stroke="#000" stroke-width="1"/><line x1="{x(lo):.1f}" y1="7" x2="{x(hi):.1f}" y2="7" stroke="{color}" '
            f'stroke-width="4"/><circle cx="{x(est):.1f}" cy="7" r="4" fill="{color}"/></svg>')


def results_page(payload: dict, report, outcomes, images: dict[str, str], *, alpha: float = 0.05,
                 segments_html: str = "") -> str:
    """The whole page as HTML text (see the module docstring)."""
    esc = html.escape
    srm = payload["srm"]
    arms = payload["arms"]
    shares = srm.get("expected_shares", {})
    decisions = []
    for d in payload["decisions"]:
        cls = {"ship": "better", "don't ship": "worse"}.get(d["decision"], "ns")
        others = "".join(f"<li>{esc(x)}</li>" for x in d["reasons"] if x != d["reason"])
        targets = "".join(f"<li><i>{esc(t['text'])}</i></li>" for t in d.get("targets", ()))
        decisions.append(f'<li><b class="{cls}">{esc(d["arm"])}: {esc(d["decision"].upper())}</b>, because '
                         f"{esc(d['reason'])}<ul>{others}{targets}</ul></li>")
    health = [f"<li>Sample ratio: p = {srm['p_value']:.3g} "
              f"{'<b class=worse>MISMATCH: the assignment is suspect</b>' if srm['mismatch'] else '(ok)'}</li>"
              if srm.get("p_value") is not None else "<li>Sample ratio: not checked</li>"]
    health.append("<li>Arms: " + ", ".join(
        f"{esc(k)} {v:,} (planned share {shares.get(k, float('nan')):.0%})" for k, v in arms.items()) + "</li>")
    for b in balance(outcomes, tuple(arms)):
        flag = "<b class=worse>imbalanced</b>" if abs(b["smd"]) > 0.1 else "balanced"
        health.append(f"<li>Pre-period revenue, {esc(b['arm'])} vs control: standardised difference "
                      f"{b['smd']:+.3f}, p = {b['p_value']:.3g} ({flag})</li>")
    guard_rows = "".join(
        f"<tr><td>{esc(d['arm'])}</td><td>{esc(g['metric'])}</td><td>{esc(g['margin'])}</td>"
        f"<td>{esc(g['ci'] or '')}</td><td class=\"{ {'held': 'better', 'breached': 'worse'}.get(g['status'], 'ns') }\">"
        f"{esc(g['status'])}</td></tr>"
        for d in payload["decisions"] for g in d.get("guardrails", ()))
    guardrails = (f"<table><thead><tr><th>arm</th><th>guardrail</th><th>largest drop allowed</th><th>95% CI of the "
                  f"change</th><th>status</th></tr></thead><tbody>{guard_rows}</tbody></table>") if guard_rows else \
        "<p>No guardrails in this analysis.</p>"
    rows = payload["results"]
    scale = {}
    for r in rows:
        _, est, lo, hi = metric_cell(r)
        unit = "pts" if _is_rate(r) else "%"
        scale[unit] = max(scale.get(unit, 0.0), abs(lo), abs(hi), 1e-9)
    has_truth = any(r.get("true_effect") is not None for r in rows)
    body = []
    for r in rows:
        text, est, lo, hi = metric_cell(r)
        verdict = _verdict(r, alpha)
        span = scale["pts" if _is_rate(r) else "%"]
        truth = f"<td>{esc(_truth_cell(r))}</td>" if has_truth else ""
        body.append(f"<tr><td>{esc(r['arm'])}</td><td>{esc(r.get('label') or r['metric'])}</td>"
                    f"<td>{r['control']:.4g}</td><td class=\"{verdict}\">{esc(text)}</td>"
                    f"<td>{_bar(est, lo, hi, span, verdict)}</td><td>{r.get('p_value_holm', r['p_value']):.3g}</td>"
                    f"{truth}</tr>")
    truth_head = "<th>true effect (twin worlds)</th>" if has_truth else ""
    metrics = (f"<table class=metrics><thead><tr><th>arm</th><th>metric</th><th>control</th><th>effect, 95% CI</th>"
               f"<th></th><th>p (Holm)</th>{truth_head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    primary = payload["decisions"][0].get("primary", "ltv") if payload["decisions"] else "ltv"
    steps = "".join(
        f"<li>{esc(d['arm'])}: {esc(next_step(next((r for r in rows if r['arm'] == d['arm'] and r['metric'] == primary), None), alpha))}</li>"
        for d in payload["decisions"])
    seed = f"Seed {payload['seed']}. " if "seed" in payload else ""
    truth_text = (" True effect: the same statistic in the simulation's twin worlds (every customer treated vs none, "
                  "same customers, same random draws).") if has_truth else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiment report: {esc(str(payload['scenario']))}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.4}}
table{{border-collapse:collapse;font-size:13px;margin:0.5em 0}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}
th{{background:#f3f3f3}}img{{max-width:100%}}.better{{color:#1a7f37}}.worse{{color:#cf222e}}.ns{{color:#57606a}}
.box{{border:1px solid #d0d7de;border-radius:6px;padding:0.2em 1em;margin:1em 0;background:#f6f8fa}}</style></head><body>
<h1>Experiment report: {esc(str(payload['scenario']))}</h1>
<p>{seed}Rates are shown in percentage points, money and ratios in percent of the control's value.
Multiple comparisons: Holm across treatment arms; Benjamini-Hochberg across segments within each arm.</p>
<h2>Decision</h2><ul id="decision">{''.join(decisions)}</ul>
<div class="box" id="health"><h3>Health</h3><ul>{''.join(health)}</ul></div>
<h2>Guardrails</h2><div id="guardrails">{guardrails}</div>
<h2>Metrics</h2>{metrics}
<p>Green: better with 95% confidence; red: worse; grey: not significant.{truth_text}</p>
<h2>Next step</h2><ul id="next-step">{steps}</ul>
<h2>Uplift by metric</h2><img alt="uplift forest plot" src="data:image/png;base64,{images['uplift.png']}">
{f'<h2>Retention by arm</h2><img alt="Kaplan-Meier curves" src="data:image/png;base64,{images["retention_by_arm.png"]}">' if 'retention_by_arm.png' in images else ''}
<h2>Heterogeneous effects</h2>
{f'<img alt="segment effects" src="data:image/png;base64,{images["segments.png"]}">' if 'segments.png' in images else '<p>No segment large enough.</p>'}
{segments_html}
{f"<h2>Design</h2><pre>{esc(json.dumps(payload['design'], indent=2, ensure_ascii=False))}</pre>" if 'design' in payload else ''}
</body></html>"""
