"""Simulated power: replay a whole experiment many times at each size or duration and count rejections.

Core objects: :func:`simulated_power` (power of an experiment design for one metric, at several
(customers, days) points) and :class:`PowerPoint` (one point's power with its Monte Carlo Wilson
interval). The honest answer where no formula is: LTV/CAC, heavy-tailed revenue, churn.

Each task is one world holding a batch of independent replicas of the design
(:func:`sim.experiment.run_world` with ``replicas``); every world's seed comes from
:func:`sim.seeding.seed_plan` by (point, batch) before dispatch, and tasks run on a
:class:`sim.parallel.Runner` (local processes or Dask), so results do not depend on workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.errors import ConfigError, NotEstimableError
from sim.parallel import Runner
from sim.seeding import seed_plan

__all__ = ["simulated_power", "PowerPoint", "write_power"]


@dataclass(frozen=True)
class PowerPoint:
    """Simulated power at one design point, with its Monte Carlo interval."""

    customers: int
    days: int
    replications: int
    rejections: int
    power: float
    ci_low: float
    ci_high: float
    mean_n_per_arm: float
    mean_estimate: float
    mean_true_effect: float | None

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        from dataclasses import asdict

        return asdict(self)


def _power_batch(task) -> list[tuple]:
    """Worker: one world holding a batch of replicas of a design point; a tuple per replica."""
    from analysis.experiments import _estimate, _metrics
    from sim.experiment import run_world

    scenario, design, metric, alpha, seed, customers, replicas = task
    spec = next(m for m in _metrics((30, 90, 180)) if m.name == metric)
    frame = run_world(scenario, design, seed=seed, customers=customers, replicas=replicas).frame
    out = []
    for r in range(replicas):
        f = frame[frame["replica"] == r]
        try:
            est = _estimate(spec, f[f["arm"] == 0], f[f["arm"] == 1], alpha, 0.99)
        except NotEstimableError:  # e.g. no churn at all in a small replica: not a rejection, not counted
            est = None
        out.append((np.nan, np.nan, 0) if est is None else (est.p_value, est.estimate, min(est.n_control, est.n_treatment)))
    return out


def simulated_power(scenario, design, *, metric: str, points: list[tuple[int, int]], replications: int,
                    seed: int, alpha: float = 0.05, workers: int | None = 1, scheduler: str | None = None,
                    batch: int = 50, progress=None) -> list[PowerPoint]:
    """Power of ``design`` (control vs its second arm) on ``metric`` at each (customers, days) point.

    Each point is replayed ``replications`` times, in worlds of ``batch`` independent replicas
    (:func:`sim.experiment.run_world` with ``replicas``); power is the share of replications
    with p < ``alpha``, with a Wilson interval for the Monte Carlo error. Every world's seed is
    fixed by (point, batch) before dispatch, so results do not depend on ``workers``.
    """
    from analysis.experiments import METRICS
    from analysis.power import simulated_power_ci

    if metric not in METRICS:
        raise ConfigError(f"metric '{metric}': unknown; the experiment metrics are {', '.join(METRICS)}")
    if len(design.arms) != 2:
        raise ConfigError(f"simulated power compares two arms; the design has {len(design.arms)}")
    if not 1 <= replications <= 100_000:
        raise ConfigError(f"replications must be 1 to 100,000; got {replications:,}")
    sizes = [min(batch, replications - start) for start in range(0, replications, batch)]
    seeds = seed_plan(seed, len(points), len(sizes))
    tasks, where = [], []
    for p, (customers, days) in enumerate(points):
        d = design.model_copy(update={"days": days})
        for b, size in enumerate(sizes):
            tasks.append((scenario, d, metric, alpha, seeds[p][b], customers, size))
            where.append(p)
    with Runner(workers=workers, scheduler=scheduler) as runner:
        results = runner.map(_power_batch, tasks, progress=progress)
    per_point: list[list[tuple]] = [[] for _ in points]
    for p, res in zip(where, results):
        per_point[p].extend(res)
    out = []
    for (customers, days), reps in zip(points, per_point):
        arr = np.array(reps, dtype=float)
        ok = ~np.isnan(arr[:, 0])
        hits = int(np.sum(arr[ok, 0] < alpha))
        m = int(ok.sum())
        if m == 0:
            raise ConfigError(f"metric '{metric}' could not be estimated at {customers} customers, {days} days")
        est, lo, hi = simulated_power_ci(hits, m)
        out.append(PowerPoint(customers, days, m, hits, est, lo, hi, float(arr[ok, 2].mean()),
                              float(arr[ok, 1].mean()), None))
    return out


def write_power(payload: dict, folder, *, x: str, target: float, force: bool = False) -> list[str]:
    """Write the power curve plot and the table (JSON) into ``folder`` (all or nothing)."""
    from analysis.report import power_curve_plot
    from sim.output import atomic_output_dir, write_json_atomic

    with atomic_output_dir(folder, overwrite=force) as tmp:
        fig = power_curve_plot(payload["points"], x=x, target=target)
        fig.savefig(tmp / "power_curve.png", dpi=100)
        write_json_atomic(tmp / "power.json", payload)
    return ["power_curve.png", "power.json"]
