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
        "realised_spend_per_day": outcome.realised_spend,
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
        "min_ltv_cac": {"target": result.min_ltv_cac, "met": result.trace.constraint_met,
                        "ltv_cac": m["ltv_cac"].mean} if result.min_ltv_cac is not None else None,
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
    if e.ci_low is None:
        return fmt.format(e.mean)
    return f"{fmt.format(e.mean)} [{fmt.format(e.ci_low)}, {fmt.format(e.ci_high)}]"


def result_text(result) -> str:
    """A readable summary of the recommendation, the baselines and the marginal returns."""
    r = result
    lines = [
        f"Budget allocation for {r.scenario} ({r.source}): {r.budget:,.2f} per day over {len(r.levers)} levers, "
        f"objective {r.objective}, {r.days} days, {r.customers:,} initial customers, {r.replications} seeds",
        "",
        f"{'lever':<22}{'kind':<9}{'min':>9}{'max':>10}{'current':>10}{'equal':>10}{'recommended':>13}"
        f"{'marginal profit/unit (95% CI)':>34}",
    ]
    marg = {mg.lever: mg for mg in r.marginals}
    for lv, xe, xc, xr in zip(r.levers, r.equal.allocation, r.current.allocation, r.recommended.allocation):
        mg = _ci(marg[lv.name].profit, "{:+.2f}") if lv.name in marg else "n/a"
        lines.append(f"{lv.name:<22}{lv.kind:<9}{lv.lo:>9,.0f}{lv.hi:>10,.0f}{xc:>10,.1f}{xe:>10,.1f}{xr:>13,.1f}"
                     f"{mg:>34}")
    lines.append("")
    lines.append(f"{'':<22}{'profit (95% CI)':>34}{'LTV/CAC':>22}{'customers':>22}")
    for label, o in (("recommended", r.recommended), ("equal split", r.equal), ("current", r.current)):
        m = o.metrics
        lines.append(f"{label:<22}{_ci(m['profit']):>34}{_ci(m['ltv_cac'], '{:.2f}'):>22}{_ci(m['customers']):>22}")
    lines.append("")
    for label, o in (("equal split", r.equal), ("current", r.current)):
        lines.append(f"recommended - {label}: {r.objective} {_ci(r.difference(o), '{:+,.2f}')}"
                     + (f"; profit {_ci(r.difference(o, 'profit'), '{:+,.0f}')}" if r.objective != "profit" else "")
                     + " (paired over the same seeds)")
    roi = r.roi_uplift()
    if roi["uplift"] is not None:
        lines.append(f"ROI on the lever money: recommended {roi['roi_recommended']['mean']:.3f}, equal split "
                     f"{roi['roi_equal']['mean']:.3f}; uplift {100 * roi['uplift']:+.1f}% "
                     f"[{100 * roi['uplift_ci_low']:+.1f}%, {100 * roi['uplift_ci_high']:+.1f}%] "
                     "(the playbook's claim for a value-based split: about +30%)")
    if r.min_ltv_cac is not None:
        state = "met" if r.trace.constraint_met else "NOT met by any allocation tried"
        lines.append(f"LTV/CAC >= {r.min_ltv_cac:g}: {state}")
    if r.frontier:
        lines.append("")
        lines.append(f"{'frontier budget/day':>20}{r.objective + ' (95% CI)':>36}  allocation")
        for p in r.frontier:
            alloc = ", ".join(f"{lv.name} {x:,.0f}" for lv, x in zip(r.levers, p.allocation))
            lines.append(f"{p.budget:>20,.2f}{_ci(p.outcome.metrics[r.objective], '{:,.2f}'):>36}  {alloc}")
    lines.append("")
    lines.append(f"{r.evaluations} simulations in {r.seconds:.1f} s; {len(r.trace.trials)} allocations tried "
                 f"({r.trace.message})")
    return "\n".join(lines)


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
    ax1.plot(b, [e.mean for e in est], "o-", color="C0")
    if all(e.ci_low is not None for e in est):
        ax1.fill_between(b, [e.ci_low for e in est], [e.ci_high for e in est], alpha=0.25, color="C0")
    ax1.set_ylabel(f"best {result.objective} (95% CI)")
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
    """Daily spend by lever: current, equal split and recommended side by side."""
    plt = _pyplot()
    names = [lv.name for lv in result.levers]
    k = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(names)), 4))
    for j, (label, o) in enumerate((("current", result.current), ("equal split", result.equal),
                                    ("recommended", result.recommended))):
        ax.bar(k + (j - 1) * 0.27, o.allocation, width=0.27, label=label)
    ax.set_xticks(k, names, rotation=30, ha="right")
    ax.set_ylabel("spend per day")
    ax.set_title(f"{result.scenario}: {result.budget:,.0f}/day, objective {result.objective}")
    ax.legend()
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
