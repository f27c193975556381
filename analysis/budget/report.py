"""Presenting a budget result: JSON, a text table, plots and the files under ``--out``.

Core functions: :func:`result_dict` (the one JSON object of ``lifecycle budget --json``),
:func:`result_text` (the readable table), :func:`frontier_plot` (frontier line over stacked bars of
the allocation at each level), :func:`allocation_plot` (recommended vs equal vs current) and
:func:`write_outputs` (``budget.json``, ``allocation.csv``, ``trials.csv``, plots, ``frontier.csv``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.fonts import unicode_labels

__all__ = ["result_dict", "result_text", "frontier_plot", "allocation_plot", "write_outputs"]


def _est(e) -> dict:
    return e.to_dict()


def _outcome_dict(result, outcome, levers=None) -> dict:
    levers = levers or result.levers
    m = outcome.metrics
    obj = m[result.objective]
    return {
        "allocation": {lv.name: x for lv, x in zip(levers, outcome.allocation)},
        "total": float(sum(outcome.allocation)),
        "mean": obj.mean, "ci_low": obj.ci_low, "ci_high": obj.ci_high,
        "objective": _est(obj), "profit": _est(m["profit"]), "ltv_cac": _est(m["ltv_cac"]),
        "ltv": _est(m["ltv"]), "cac": _est(m["cac"]), "customers": _est(m["customers"]),
        "profit_p10": _est(m["profit_p10"]), "profit_cvar10": _est(m["profit_cvar10"]),
        "realised_spend_per_day": outcome.realised_spend, "channel_spend_per_day": outcome.channel_spend,
    }  # fmt: skip


def _baseline(result, outcome) -> dict:
    d = _outcome_dict(result, outcome)
    d["difference"] = _est(result.difference(outcome))  # recommended minus this, paired over seeds
    d["difference_profit"] = _est(result.difference(outcome, "profit"))
    return d


def result_dict(result) -> dict:
    """The JSON object: allocation, objective, profit, ltv_cac, baselines (each with CIs) and more."""
    rec = result.recommended
    m = rec.metrics
    obj = m[result.objective]
    return {
        "scenario": result.scenario,
        "source": result.source,
        "budget": result.budget,
        "objective_name": result.objective,
        "horizon_days": result.days,
        "customers_initial": result.customers,
        "replications": result.replications,
        "seed": result.seed,
        "smoothing": result.smoothing,
        "allocation": result.allocation,
        "objective": {"name": result.objective, **_est(obj)},
        "profit": _est(m["profit"]),
        "ltv_cac": _est(m["ltv_cac"]),
        "ltv": _est(m["ltv"]),
        "cac": _est(m["cac"]),
        "customers": _est(m["customers"]),
        "realised_spend_per_day": rec.realised_spend,
        "profit_p10": _est(m["profit_p10"]),
        "profit_cvar10": _est(m["profit_cvar10"]),
        "min_ltv_cac": {"target": result.min_ltv_cac, "met": result.target_met,
                        "met_on_search_seeds": result.trace.constraint_met,
                        "ltv_cac": m["ltv_cac"].mean} if result.min_ltv_cac is not None else None,
        # share of report seeds (simulated years) in which the recommendation's raw profit is higher
        "beats_current": _est(result.beats(result.current)),
        "beats_equal": _est(result.beats(result.equal)),
        "fixed_levers": result.fixed,
        "held_outside": result.held,
        "baseline_equal": _baseline(result, result.equal),
        "baseline_current": _baseline(result, result.current),
        "roi_vs_equal": result.roi_uplift(),
        "marginal_returns": {
            mg.lever: {"step_per_day": mg.step, "direction": mg.direction,
                       "objective_per_unit_per_day": _est(mg.objective),
                       "profit_per_unit_spent": _est(mg.profit)}
            for mg in result.marginals
        },
        "levers": [
            {"name": lv.name, "kind": lv.kind, "target": lv.target, "min": lv.lo, "max": lv.hi,
             "current": lv.current, "full_coverage_cost_per_day": lv.full_cost,
             "coverage": lv.coverage(x) if lv.kind == "policy" else None,
             "pacing": list(lv.pacing) if lv.pacing else None}
            for lv, x in zip(result.levers, rec.allocation)
        ],
        "excluded_levers": result.excluded,
        "frontier": [
            {"budget": p.budget, "constraint_met": p.constraint_met, **_outcome_dict(result, p.outcome)}
            for p in result.frontier
        ],
        "optimiser": {"method": result.trace.method, "trials": len(result.trace.trials),
                      "search_evaluations": result.trace.evaluations, "message": result.trace.message},
        "evaluations": result.evaluations,
        "seconds": result.seconds,
    }  # fmt: skip


def _ci(e, fmt="{:,.0f}") -> str:
    if e.ci_low is None and e.ci_high is None:
        return fmt.format(e.mean)
    lo = "?" if e.ci_low is None else fmt.format(e.ci_low)  # too few simulated years for that end
    hi = "?" if e.ci_high is None else fmt.format(e.ci_high)
    return f"{fmt.format(e.mean)} [{lo}, {hi}]"


def table(headers: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """Rows of text cells as aligned columns (the first ``left`` columns left-aligned, the others
    right-aligned), two spaces apart, widths from the widest cell: no column runs into the next."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]

    def line(cells):
        out = [str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(out).rstrip()

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _years(share, n: int) -> str:
    k = int(round(share.mean * n))
    return f"{k} of {n}"


def result_text(result) -> str:
    """A readable summary: the allocation table, the outcomes, how sure the recommendation is, the frontier."""
    r = result
    risk = r.objective in ("profit_p10", "profit_cvar10")
    lines = [
        f"Budget allocation for {r.scenario} ({r.source}): {r.budget:,.2f} per day over {len(r.levers)} levers, "
        f"objective {OBJECTIVE_WORDS.get(r.objective, r.objective)}, {r.days} days, {r.customers:,} initial customers, "
        f"{r.replications} simulated years per allocation (the same for every allocation), as many again for this report",
        "",
    ]
    marg = {mg.lever: mg for mg in r.marginals}
    rows = []
    for lv, xe, xc, xr in zip(r.levers, r.equal.allocation, r.current.allocation, r.recommended.allocation):
        mg = _ci(marg[lv.name].profit, "{:+.2f}") if lv.name in marg else "n/a"
        kind = lv.kind + (" (held)" if lv.name in r.fixed else "")
        rows.append([lv.name, kind, f"{lv.lo:,.0f}", f"{lv.hi:,.0f}", f"{xc:,.1f}", f"{xe:,.1f}", f"{xr:,.1f}", mg])
    lines += table(["lever", "kind", "min", "max", "current", "equal", "recommended",
                    "marginal profit per unit spent (95% CI)"], rows, left=2)
    if r.held:
        parts = [f"{n} ({'spend ' + format(v['daily_spend'], ',.2f') + '/day' if v['kind'] == 'channel' else 'coverage ' + format(v['coverage'], '.2f')})"
                 for n, v in r.held.items()]
        lines.append(f"outside the question, unchanged: {', '.join(parts)}")
    lines.append("")
    cols = ["", "profit (95% CI)", "LTV/CAC (95% CI)", "customers (95% CI)"]
    if risk:
        cols.insert(2, f"{OBJECTIVE_WORDS[r.objective]} (95% CI)")
    rows = []
    for label, o in (("recommended", r.recommended), ("equal split", r.equal), ("current", r.current)):
        m = o.metrics
        row = [label, _ci(m["profit"]), _ci(m["ltv_cac"], "{:.2f}"), _ci(m["customers"])]
        if risk:
            row.insert(2, _ci(m[r.objective]))
        rows.append(row)
    lines += table(cols, rows)
    if any("?" in c for row in rows for c in row):
        lines.append("?: too few simulated years for that end of the interval (--replications adds years)")
    lines.append("")
    for label, o in (("equal split", r.equal), ("current", r.current)):
        lines.append(f"recommended - {label}: {r.objective} {_ci(r.difference(o), '{:+,.2f}')}"
                     + (f"; profit {_ci(r.difference(o, 'profit'), '{:+,.0f}')}" if r.objective != "profit" else "")
                     + " (paired over the same seeds)")
    n = r.replications
    for label, o in (("the current allocation", r.current), ("the equal split", r.equal)):
        if np.allclose(o.allocation, r.recommended.allocation, rtol=0, atol=1e-9 * max(1.0, r.budget)):
            lines.append(f"The recommended split is {label}: no split tried did better.")
            continue
        b = r.beats(o)
        lines.append(f"In {_years(b, n)} simulated years (same customers, same luck) the recommended split earns more "
                     f"profit than {label} (share {b.mean:.2f}, 95% CI [{b.ci_low:.2f}, {b.ci_high:.2f}]).")
    roi = r.roi_uplift()
    if roi["uplift"] is not None:
        lines.append(f"ROI on the lever money, recommended vs equal split: {roi['roi_recommended']['mean']:.3f} vs "
                     f"{roi['roi_equal']['mean']:.3f}, {100 * roi['uplift']:+.1f}% "
                     f"(95% CI [{100 * roi['uplift_ci_low']:+.1f}%, {100 * roi['uplift_ci_high']:+.1f}%])")
    if r.min_ltv_cac is not None:
        e = r.recommended.metrics["ltv_cac"]
        if r.trace.constraint_met and e.mean < r.min_ltv_cac:
            state = (f"met on the search's seeds; on the report's independent seeds the recommendation reaches "
                     f"{_ci(e, '{:.2f}')}, below the target: treat the target as borderline")
        elif r.trace.constraint_met:
            state = f"met: the recommendation reaches {_ci(e, '{:.2f}')}"
        else:
            state = (f"not met by any allocation the search tried; the closest on the report's seeds is recommended, "
                     f"at {_ci(e, '{:.2f}')}")
        lines.append(f"LTV/CAC >= {r.min_ltv_cac:g}: {state}")
    if r.frontier:
        lines.append("")
        lines.append(f"Efficient frontier: the best allocation found at each daily budget, "
                     f"{OBJECTIVE_WORDS.get(r.objective, r.objective)} with its 95% CI")
        rows = []
        for p in r.frontier:
            e = p.outcome.metrics[r.objective]
            rows.append([f"{p.budget:,.2f}", f"{e.mean:,.0f}", "" if e.ci_low is None else f"{e.ci_low:,.0f}",
                         "" if e.ci_high is None else f"{e.ci_high:,.0f}", f"{p.outcome.metrics['ltv_cac'].mean:.2f}",
                         "yes" if p.constraint_met else "no"] + [f"{x:,.0f}" for x in p.allocation])
        target = "LTV/CAC target met" if r.min_ltv_cac is not None else "constraint met"
        lines += table(["budget/day", r.objective, "ci_low", "ci_high", "LTV/CAC", target] +
                       [lv.name for lv in r.levers], rows, left=0)
    lines.append("")
    lines.append(f"{r.evaluations} simulated years in {r.seconds:.1f} s; {len(r.trace.trials)} allocations tried "
                 f"({r.trace.message})")
    return "\n".join(lines)


#: objectives in words
OBJECTIVE_WORDS = {"profit": "mean profit", "ltv_cac": "mean LTV/CAC", "customers": "mean customers acquired",
                   "profit_p10": "10th percentile of profit", "profit_cvar10": "mean profit of the worst 10% of years"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@unicode_labels
def frontier_plot(result):
    """Best objective vs daily budget (line, 95% CI band) over stacked bars of each level's allocation."""
    plt = _pyplot()
    pts = sorted(result.frontier, key=lambda p: p.budget)
    b = np.array([p.budget for p in pts])
    est = [p.outcome.metrics[result.objective] for p in pts]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7.5, 7), sharex=True, height_ratios=[1, 1.2])
    ax1.plot(b, [e.mean for e in est], "o-", color="C0", label=f"best {result.objective} found")
    if all(e.ci_low is not None and e.ci_high is not None for e in est):
        ax1.fill_between(b, [e.ci_low for e in est], [e.ci_high for e in est], alpha=0.25, color="C0",
                         label="95% CI over the simulated years")
    ax1.set_ylabel(f"best {result.objective}")
    ax1.legend(fontsize=8)
    ax1.set_title(f"Efficient frontier: {result.scenario}, {result.days} days")
    width = 0.6 * (np.min(np.diff(b)) if b.size > 1 else max(b[0], 1.0))
    bottom = np.zeros(b.size)
    for i, lv in enumerate(result.levers):
        h = np.array([p.allocation[i] for p in pts])
        ax2.bar(b, h, width=width, bottom=bottom, label=lv.name, color=f"C{i % 10}")
        bottom += h
    ax2.set_xlabel("budget per day")
    ax2.set_ylabel("daily spend by lever")
    ax2.legend(fontsize=8, ncol=2, loc="upper left")
    fig.tight_layout()
    return fig


@unicode_labels
def allocation_plot(result):
    """Daily spend by lever (current, equal split, recommended side by side) over what each earns:
    mean profit with its 95% CI and the 10th percentile of profit over the simulated years."""
    plt = _pyplot()
    names = [lv.name for lv in result.levers]
    k = np.arange(len(names))
    outcomes = (("current", result.current), ("equal split", result.equal), ("recommended", result.recommended))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(max(9.0, 1.1 * len(names) + 4), 4.2), width_ratios=[max(2, len(names)), 2])
    for j, (label, o) in enumerate(outcomes):
        ax.bar(k + (j - 1) * 0.27, o.allocation, width=0.27, label=label, color=f"C{j}")
    ax.set_xticks(k, names, rotation=30, ha="right")
    ax.set_ylabel("spend per day")
    ax.set_title(f"{result.scenario}: {result.budget:,.0f}/day")
    ax.legend()
    for j, (label, o) in enumerate(outcomes):
        e, q = o.metrics["profit"], o.metrics["profit_p10"]
        err = None if e.ci_low is None else [[e.mean - e.ci_low], [e.ci_high - e.mean]]
        ax2.errorbar([j], [e.mean], yerr=err, fmt="o", color=f"C{j}", capsize=6, label="mean, 95% CI" if j == 0 else None)
        ax2.plot([j], [q.mean], "v", color=f"C{j}", markersize=8, label="10th percentile" if j == 0 else None)
    ax2.set_xticks(range(3), [label for label, _ in outcomes], rotation=30, ha="right")
    ax2.set_ylabel(f"profit over {result.days} days")
    ax2.set_title(f"profit, {result.replications} simulated years each")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_outputs(result, folder: Path) -> list[str]:
    """Write the report files into ``folder`` (an empty temporary folder); return their names."""
    import pandas as pd

    from sim.output import write_csv_atomic, write_json_atomic

    folder = Path(folder)
    files = ["budget.json", "allocation.csv", "trials.csv", "allocation.png"]
    write_json_atomic(folder / "budget.json", result_dict(result))
    rows = []
    marg = {mg.lever: mg.profit for mg in result.marginals}
    for lv, xr, xe, xc in zip(result.levers, result.recommended.allocation, result.equal.allocation,
                              result.current.allocation):
        mg = marg.get(lv.name)
        rows.append({"lever": lv.name, "kind": lv.kind, "min": lv.lo, "max": lv.hi, "full_coverage_cost": lv.full_cost,
                     "current": xc, "equal": xe, "recommended": xr,
                     "realised_spend_recommended": result.recommended.realised_spend[lv.name],
                     "marginal_profit_per_unit": mg.mean if mg else None,
                     "marginal_ci_low": mg.ci_low if mg else None, "marginal_ci_high": mg.ci_high if mg else None})
    write_csv_atomic(folder / "allocation.csv", pd.DataFrame(rows))
    trials = [{"trial": t.index, **{lv.name: x for lv, x in zip(result.levers, t.allocation)},
               "objective": t.objective, "predicted": t.predicted, "profit": t.profit, "ltv_cac": t.ltv_cac,
               "feasible": t.feasible}
              for t in result.trace.trials]
    write_csv_atomic(folder / "trials.csv", pd.DataFrame(trials))
    plt = _pyplot()
    fig = allocation_plot(result)
    fig.savefig(folder / "allocation.png", dpi=100)
    plt.close(fig)
    if result.frontier:
        frows = []
        for p in result.frontier:
            m = p.outcome.metrics
            row = {"budget": p.budget, "constraint_met": p.constraint_met}
            for key in ("profit", "ltv_cac", "customers"):
                row.update({key: m[key].mean, f"{key}_ci_low": m[key].ci_low, f"{key}_ci_high": m[key].ci_high})
            row.update({lv.name: x for lv, x in zip(result.levers, p.allocation)})
            frows.append(row)
        write_csv_atomic(folder / "frontier.csv", pd.DataFrame(frows))
        fig = frontier_plot(result)
        fig.savefig(folder / "frontier.png", dpi=100)
        plt.close(fig)
        files += ["frontier.csv", "frontier.png"]
    return files
