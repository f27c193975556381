"""What a sweep measures and how it is summarised.

Core functions: :func:`sweep` (the whole workflow: plan, run on local processes or Dask into a
verified crash-safe store, summary table and plots, returned as a :class:`SweepOutcome` that also
says what the store found wrong and repaired), :func:`sweep_metrics` (one run -> the metrics recorded per replication, the
``measure`` handed to :func:`sim.sweep.run_sweep`) and :func:`summarize_sweep` (per point, each
metric's mean over replications with its 95% t-interval, by :func:`analysis.estimate.mean_ci`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.estimate import mean_ci
from analysis.metrics import summarize
from scenarios.errors import ConfigError
from sim.scenario import Scenario, load_scenario
from sim.sweep import Axis, SweepSpec, parse_axis, plan, run_sweep
from sim.sweep_store import ResultsStore, StoreNotice

__all__ = ["sweep", "SweepOutcome", "TASK_METRICS", "SUMMARY_METRICS", "sweep_metrics", "summarize_sweep"]

#: metrics recorded per run (keys of ``analysis.metrics.summarize(...)["metrics"]``)
TASK_METRICS = (
    "activation_rate", "repurchase_rate_30d", "repurchase_rate_90d", "retention_90d", "retention_180d",
    "observed_retention_90d", "churn_rate_monthly", "ltv_mean", "cac", "ltv_cac", "revenue", "gross_margin",
    "policy_cost_total", "acquisition_spend", "net_contribution",
)  # fmt: skip
#: metrics summarised per point by default
SUMMARY_METRICS = ("ltv_mean", "ltv_cac", "net_contribution", "retention_180d")


def sweep_metrics(result) -> dict[str, float | None]:
    """The :data:`TASK_METRICS` of one run (None where a metric is undefined)."""
    m = summarize(result)["metrics"]
    m["policy_cost_total"] = m["policy_costs"]["total"]
    return {k: m[k] for k in TASK_METRICS}


def summarize_sweep(results: pd.DataFrame, metrics=SUMMARY_METRICS) -> pd.DataFrame:
    """Per point: the mean of each metric over replications and its 95% t-interval."""
    params = [c for c in results.columns if c.startswith("param:")]
    rows = []
    for p, group in results.groupby("point", sort=True):
        row = {"point": int(p), **{c[6:]: group[c].iloc[0] for c in params}, "replications": len(group)}
        for m in metrics:
            e = mean_ci(group[m].to_numpy(dtype=float))
            row[m] = e.mean
            row[f"{m}_ci_low"] = np.nan if e.ci_low is None else e.ci_low
            row[f"{m}_ci_high"] = np.nan if e.ci_high is None else e.ci_high
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SweepOutcome:
    """A finished sweep: its spec, the per-run results, the per-point summary and its folder.

    ``notices`` lists what the results store found wrong and did about it (a damaged or foreign
    file moved to ``quarantine/`` and its point recomputed, a rebuilt manifest, a file left alone).
    """

    spec: SweepSpec
    results: pd.DataFrame
    summary: pd.DataFrame
    folder: Path
    points: int
    notices: tuple[StoreNotice, ...] = ()


def sweep(scenario: Scenario | str | None, params, *, results: str | Path, method: str = "grid",
          sample: int | None = None, replications: int = 1, seed: int = 0, customers: int | None = None,
          days: int | None = None, workers: int | None = None, scheduler: str | None = None, resume: bool = False,
          on_plan=None, progress=None, on_notice=None) -> SweepOutcome:
    """Sweep scenario parameters with replications into the folder ``results``.

    ``params`` is a mapping of dotted scenario paths to a list of values (a grid), or a list of
    :class:`~sim.sweep.Axis` / ``"NAME=VALUES"`` strings (``V1,V2``, ``LOW:HIGH`` or
    ``LOW:HIGH:STEP``). Runs go to local worker processes or the Dask ``scheduler``; every
    finished point is stored at once, so ``resume=True`` finishes a killed sweep. Writes
    ``summary.csv``, ``summary.json`` and plots beside the per-run Parquet parts.

    Every stored part is verified (checksum and content) on resume and before it is summarised;
    a bad one is quarantined and recomputed, reported in ``SweepOutcome.notices`` and, as found,
    to ``on_notice(notice)``. A parameter given twice, a malformed or unreachable scheduler and
    a folder holding another sweep are refused (ConfigError) before anything is written.
    """
    from sim.output import write_csv_atomic, write_json_atomic

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if isinstance(params, dict):
        axes = tuple(Axis(str(k), tuple(v)) for k, v in params.items())
    else:
        axes = tuple(a if isinstance(a, Axis) else parse_axis(a) for a in params)
    names = [a.name for a in axes]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"sweep parameters name {', '.join(repr(n) for n in twice)} more than once; give each parameter once")
    spec = SweepSpec(scenario=sc, axes=axes, method=method, sample=sample, replications=replications, seed=seed,
                     customers=customers, days=days)
    points, _ = plan(spec)
    if on_plan is not None:
        on_plan(len(points))
    store = ResultsStore(results)
    frame = run_sweep(spec, store, measure=sweep_metrics, workers=workers, scheduler=scheduler,
                      resume=resume, progress=progress, on_notice=on_notice)
    summary = summarize_sweep(frame)
    folder = Path(results)
    write_csv_atomic(folder / "summary.csv", summary)
    write_json_atomic(folder / "summary.json", summary.to_dict(orient="records"))
    _sweep_plots(summary, [a.name for a in spec.axes], folder)
    return SweepOutcome(spec=spec, results=frame, summary=summary, folder=folder, points=len(points),
                        notices=tuple(store.notices))


def _sweep_plots(summary, names: list[str], folder) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["ltv_mean", "ltv_cac", "net_contribution"]
    if len(names) == 1:
        x = summary[names[0]]
        if not all(isinstance(v, (int, float)) for v in x):
            return
        order = x.argsort()
        for m in metrics:
            fig, ax = plt.subplots(figsize=(6.5, 4))
            ax.plot(x.iloc[order], summary[m].iloc[order], "o-")
            ax.fill_between(x.iloc[order], summary[f"{m}_ci_low"].iloc[order], summary[f"{m}_ci_high"].iloc[order], alpha=0.25)
            ax.set_xlabel(names[0])
            ax.set_ylabel(f"{m} (mean, 95% CI)")
            fig.tight_layout()
            fig.savefig(folder / f"{m}.png", dpi=100)
            plt.close(fig)
    elif len(names) == 2:
        for m in metrics:
            table = summary.pivot_table(index=names[0], columns=names[1], values=m)
            fig, ax = plt.subplots(figsize=(6.5, 5))
            im = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(table.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.columns], rotation=45)
            ax.set_yticks(range(table.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.index])
            ax.set_xlabel(names[1])
            ax.set_ylabel(names[0])
            fig.colorbar(im, ax=ax, label=m)
            fig.tight_layout()
            fig.savefig(folder / f"{m}_heatmap.png", dpi=100)
            plt.close(fig)
