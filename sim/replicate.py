"""Replicating experiments: many independent worlds, seeded up front, run in worker processes.

Core objects: :func:`replication_seeds` (the whole seed plan, fixed before any work starts),
:func:`run_tasks` (ordered results from local worker processes, whatever the worker count or the
order in which tasks finish) and :func:`simulated_power` (power of an experiment design for one
metric, at several sizes or durations, by replaying the whole experiment).

Tasks are coarse (a batch of replications each) because every worker process re-imports the
scientific stack once; results never depend on how tasks are spread over workers, since each
replication's seed is its own ``SeedSequence`` child, spawned by (point, replication) index.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from sim.engines.vector import one_kernel_thread

__all__ = ["replication_seeds", "run_tasks", "simulated_power", "PowerPoint"]


def replication_seeds(seed: int, points: int, replications: int) -> list[list[np.random.SeedSequence]]:
    """``[point][replication]`` seeds: one child per point, one grandchild per replication."""
    root = np.random.SeedSequence(seed)
    return [child.spawn(replications) for child in root.spawn(points)]


def run_tasks(fn, tasks: list, *, workers: int = 1, progress=None) -> list:
    """``[fn(t) for t in tasks]``, in worker processes when ``workers > 1``; order is preserved."""
    if workers <= 1 or len(tasks) <= 1:
        out = []
        for t in tasks:
            out.append(fn(t))
            if progress is not None:
                progress(1)
        return out
    results: list = [None] * len(tasks)
    # the processes are the parallelism: each decides its days on one thread
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), initializer=one_kernel_thread) as pool:
        futures = {pool.submit(fn, t): i for i, t in enumerate(tasks)}
        from concurrent.futures import as_completed

        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            if progress is not None:
                progress(1)
    return results


def default_workers() -> int:
    """Worker processes to use by default: the machine's cores."""
    return max(1, os.cpu_count() or 1)


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
    from scenarios.loader import parse_scenario
    from sim.experiment import ExperimentDesign, run_world

    scenario_text, source, design_json, metric, alpha, seed, customers, replicas = task
    scenario = parse_scenario(scenario_text, source=source)
    design = ExperimentDesign.model_validate_json(design_json)
    spec = next(m for m in _metrics((30, 90, 180)) if m.name == metric)
    frame = run_world(scenario, design, seed=seed, customers=customers, replicas=replicas).frame
    out = []
    for r in range(replicas):
        f = frame[frame["replica"] == r]
        est = _estimate(spec, f[f["arm"] == 0], f[f["arm"] == 1], alpha, 0.99)
        out.append((np.nan, np.nan, 0) if est is None else (est.p_value, est.estimate, min(est.n_control, est.n_treatment)))
    return out


def simulated_power(scenario_text: str, source: str, design, *, metric: str, points: list[tuple[int, int]],
                    replications: int, seed: int, alpha: float = 0.05, workers: int = 1,
                    batch: int = 50, progress=None) -> list[PowerPoint]:
    """Power of ``design`` (control vs its second arm) on ``metric`` at each (customers, days) point.

    Each point is replayed ``replications`` times, in worlds of ``batch`` independent replicas
    (:func:`sim.experiment.run_world` with ``replicas``); power is the share of replications
    with p < ``alpha``, with a Wilson interval for the Monte Carlo error. Every world's seed is
    fixed by (point, batch) before dispatch, so results do not depend on ``workers``.
    """
    from analysis.power import simulated_power_ci

    sizes = [min(batch, replications - start) for start in range(0, replications, batch)]
    seeds = replication_seeds(seed, len(points), len(sizes))
    tasks, where = [], []
    for p, (customers, days) in enumerate(points):
        d = design.model_copy(update={"days": days})
        for b, size in enumerate(sizes):
            tasks.append((scenario_text, source, d.model_dump_json(), metric, alpha, seeds[p][b], customers, size))
            where.append(p)
    results = run_tasks(_power_batch, tasks, workers=workers, progress=progress)
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
            raise ValueError(f"metric '{metric}' could not be estimated at {customers} customers, {days} days")
        est, lo, hi = simulated_power_ci(hits, m)
        out.append(PowerPoint(customers, days, m, hits, est, lo, hi, float(arr[ok, 2].mean()),
                              float(arr[ok, 1].mean()), None))
    return out
