"""Simulated power: replay a whole experiment many times at each size or duration and count rejections.

Core objects: :func:`simulated_power` (power of an experiment design for one metric, at several
(customers, days) points) and :class:`PowerPoint` (one point's power with its Monte Carlo Wilson
interval): the honest answer where no formula is (LTV/CAC, heavy-tailed revenue, churn); and
:func:`simulated_sequential` with :class:`SequentialPoint`: the same experiment read at several
looks, naive peeking beside group-sequential boundaries and the mSPRT (:mod:`analysis.sequential`).

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

__all__ = ["simulated_power", "PowerPoint", "write_power", "simulated_sequential", "SequentialPoint", "SEQUENTIAL_METHODS"]


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
    mean_n_per_arm: float | None
    mean_estimate: float | None
    mean_true_effect: float | None
    #: the estimate's standard error, averaged over replications, and the smallest effect this
    #: design detects with the target power: (z_{1-alpha/2} + z_power) x that standard error
    mean_std_error: float | None = None
    mde: float | None = None
    #: why the metric is not estimated at this point (e.g. 90-day retention in a 60-day test)
    note: str | None = None

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
        out.append((np.nan, np.nan, 0, np.nan) if est is None else
                   (est.p_value, est.estimate, min(est.n_control, est.n_treatment), est.std_error))
    return out


def _horizon(metric: str) -> int | None:
    """The days after assignment a metric needs (retention_90d: 90), or None."""
    import re

    m = re.fullmatch(r"(?:observed_)?retention_(\d+)d", metric)
    return int(m.group(1)) if m else None


def simulated_power(scenario, design, *, metric: str, points: list[tuple[int, int]], replications: int,
                    seed: int, alpha: float = 0.05, workers: int | None = 1, scheduler: str | None = None,
                    batch: int = 50, progress=None, target_power: float = 0.8) -> list[PowerPoint]:
    """Power of ``design`` (control vs its second arm) on ``metric`` at each (customers, days) point.

    Each point is replayed ``replications`` times, in worlds of ``batch`` independent replicas
    (:func:`sim.experiment.run_world` with ``replicas``); power is the share of replications
    with p < ``alpha``, with a Wilson interval for the Monte Carlo error. Every world's seed is
    fixed by (point, batch) before dispatch, so results do not depend on ``workers``.
    """
    from scipy.special import ndtri

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
    horizon = _horizon(metric)
    tasks, where = [], []
    for p, (customers, days) in enumerate(points):
        if horizon is not None and horizon >= days:
            continue  # the metric matures after the test ends: reported below, nothing to simulate
        d = design.model_copy(update={"days": days})
        for b, size in enumerate(sizes):
            tasks.append((scenario, d, metric, alpha, seeds[p][b], customers, size))
            where.append(p)
    with Runner(workers=workers, scheduler=scheduler) as runner:
        results = runner.map(_power_batch, tasks, progress=progress)
    per_point: list[list[tuple]] = [[] for _ in points]
    for p, res in zip(where, results):
        per_point[p].extend(res)
    z = float(ndtri(1 - alpha / 2) + ndtri(target_power))
    out = []
    for (customers, days), reps in zip(points, per_point):
        if not reps:
            out.append(PowerPoint(customers, days, 0, 0, float("nan"), float("nan"), float("nan"), None, None, None,
                                  note=f"{metric} needs a test of more than {horizon} days"))
            continue
        arr = np.array(reps, dtype=float)
        ok = ~np.isnan(arr[:, 0])
        hits = int(np.sum(arr[ok, 0] < alpha))
        m = int(ok.sum())
        if m == 0:
            raise ConfigError(f"metric '{metric}' could not be estimated at {customers} customers, {days} days")
        est, lo, hi = simulated_power_ci(hits, m)
        se = float(arr[ok, 3].mean())
        out.append(PowerPoint(customers, days, m, hits, est, lo, hi, float(arr[ok, 2].mean()),
                              float(arr[ok, 1].mean()), None, mean_std_error=se, mde=z * se))
    return out


def write_power(payload: dict, folder, *, x: str, target: float, force: bool = False) -> list[str]:
    """Write the power and MDE curves and the table (JSON) into ``folder`` (all or nothing)."""
    import matplotlib.pyplot as plt

    from analysis.report import mde_curve_plot, power_curve_plot
    from sim.output import atomic_output_dir, write_json_atomic

    with atomic_output_dir(folder, overwrite=force) as tmp:
        for name, fig in (("power_curve.png", power_curve_plot(payload["points"], x=x, target=target)),
                          ("mde_curve.png", mde_curve_plot(payload["points"], metric=payload["metric"], target=target,
                                                           alpha=payload["alpha"]))):
            fig.savefig(tmp / name, dpi=100)
            plt.close(fig)
        write_json_atomic(tmp / "power.json", payload)
    return ["power_curve.png", "mde_curve.png", "power.json"]


#: ways of reading an experiment at several looks, compared by :func:`simulated_sequential`
SEQUENTIAL_METHODS = ("naive", "pocock", "obrien_fleming", "lan_demets_obrien_fleming", "lan_demets_pocock", "msprt")
LOOK_METRICS = ("ltv", "revenue")


@dataclass(frozen=True)
class SequentialPoint:
    """One way of reading the looks: how often it rejects, with its Monte Carlo interval, and when it stops."""

    method: str
    replications: int
    rejections: int
    rate: float
    ci_low: float
    ci_high: float
    mean_stopping_day: float
    boundaries: tuple[float, ...] | None

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        from dataclasses import asdict

        return asdict(self)


def _sequential_batch(task) -> list[tuple[np.ndarray, np.ndarray]]:
    """Worker: one world of replicas; per replica Welch's difference in means and its variance at each look.

    Per (replica, arm) counts, sums and sums of squares by ``bincount``: one pass per look instead
    of a filtered frame per replica (the same statistic as :func:`analysis.stats.diff_in_means`).
    """
    from sim.experiment import run_world

    scenario, design, metric, looks, seed, customers, replicas = task
    frame = run_world(scenario, design, seed=seed, customers=customers, replicas=replicas, looks=looks).frame
    key = frame["replica"].to_numpy(dtype=np.int64) * 2 + (frame["arm"].to_numpy() == 1)
    diff = np.full((replicas, len(looks)), np.nan)
    var = np.full((replicas, len(looks)), np.nan)
    for k, d in enumerate(looks):
        x = frame[f"{metric}_look{d}"].to_numpy(dtype=float)
        seen = ~np.isnan(x)
        n = np.bincount(key[seen], minlength=2 * replicas).reshape(replicas, 2).astype(float)
        s1 = np.bincount(key[seen], weights=x[seen], minlength=2 * replicas).reshape(replicas, 2)
        mean = s1 / np.maximum(n, 1)
        dev = x[seen] - mean.reshape(-1)[key[seen]]
        ss = np.bincount(key[seen], weights=dev * dev, minlength=2 * replicas).reshape(replicas, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(n >= 2, ss / (n - 1) / n, np.nan)
        diff[:, k] = mean[:, 1] - mean[:, 0]
        var[:, k] = v[:, 0] + v[:, 1]
    return list(zip(diff, var))


def simulated_sequential(scenario, design, *, metric: str = "ltv", looks, customers: int | None = None,
                         replications: int = 1000, seed: int = 0, alpha: float = 0.05, workers: int | None = 1,
                         scheduler: str | None = None, batch: int = 50, progress=None) -> list[SequentialPoint]:
    """Replay ``design`` (control vs its second arm) and read it at each of ``looks`` (days after assignment).

    For every way of reading in :data:`SEQUENTIAL_METHODS` it reports the share of replications
    that reject at some look (under an A/A design the false-positive rate; under an effect the
    power), with a Wilson interval, and the mean day of stopping (the first rejecting look, else
    the last look). ``naive`` rejects at ``|z| >= z_{1-alpha/2}`` at any look; ``pocock`` and
    ``obrien_fleming`` use the classical boundaries for equally spaced looks and
    ``lan_demets_obrien_fleming`` / ``lan_demets_pocock`` the spending boundaries at the looks'
    calendar fractions (all
    treat calendar time as information time); ``msprt`` is the mixture SPRT with its mixing
    variance set from the first batch of replications (a pilot), always valid under any looks.
    The look statistic is Welch's difference in each customer's ``metric`` so far.
    """
    from scipy.special import ndtri

    from analysis.power import simulated_power_ci
    from analysis.sequential import msprt, obrien_fleming_boundaries, pocock_boundaries, spending_boundaries

    if metric not in LOOK_METRICS:
        raise ConfigError(f"metric '{metric}': sequential looks read one of {', '.join(LOOK_METRICS)}")
    if len(design.arms) != 2:
        raise ConfigError(f"sequential power compares two arms; the design has {len(design.arms)}")
    looks = tuple(int(d) for d in looks)
    if not looks or list(looks) != sorted(set(looks)) or looks[0] < 1 or looks[-1] > 36_500:
        raise ConfigError(f"looks must be increasing days after assignment; got {list(looks)}")
    if not 2 <= replications <= 100_000:
        raise ConfigError(f"replications must be 2 to 100,000; got {replications:,}")
    d = design.model_copy(update={"days": looks[-1]})
    sizes = [min(batch, replications - start) for start in range(0, replications, batch)]
    seeds = seed_plan(seed, len(sizes))
    tasks = [(scenario, d, metric, looks, seeds[b], customers, size) for b, size in enumerate(sizes)]
    with Runner(workers=workers, scheduler=scheduler) as runner:
        batches = runner.map(_sequential_batch, tasks, progress=progress)
    paths = [p for b in batches for p in b]
    diff = np.array([p[0] for p in paths])
    var = np.array([p[1] for p in paths])
    ok = np.all(np.isfinite(diff) & np.isfinite(var) & (var > 0), axis=1)
    if ok.sum() < 2:
        raise ConfigError(f"'{metric}' could not be estimated at every look in enough replications; "
                          "use more customers or later looks")
    diff, var = diff[ok], var[ok]
    z = np.abs(diff) / np.sqrt(var)
    K = len(looks)
    fractions = np.array(looks, dtype=float) / looks[-1]
    rules = {
        "naive": (np.full(K, float(ndtri(1 - alpha / 2))), None),
        "pocock": (np.array(pocock_boundaries(K, alpha).z), None),
        "obrien_fleming": (np.array(obrien_fleming_boundaries(K, alpha).z), None),
        "lan_demets_obrien_fleming": (np.array(spending_boundaries(fractions, alpha).z), None),
        "lan_demets_pocock": (np.array(spending_boundaries(fractions, alpha, spending="pocock").z), None),
    }
    rejected = {name: z >= c for name, (c, _) in rules.items()}
    pilot = var[: min(sizes[0], len(var)), -1]
    tau2 = float(np.mean(pilot))
    rejected["msprt"] = np.array([msprt(dd, vv, tau2=tau2, alpha=alpha) for dd, vv in zip(diff, var)])
    out = []
    days = np.array(looks, dtype=float)
    for name in SEQUENTIAL_METHODS:
        hit = rejected[name].any(axis=1)
        first = np.where(hit, days[np.argmax(rejected[name], axis=1)], days[-1])
        rate, lo, hi = simulated_power_ci(int(hit.sum()), int(hit.size))
        bounds = tuple(float(x) for x in rules[name][0]) if name in rules else None
        out.append(SequentialPoint(name, int(hit.size), int(hit.sum()), rate, lo, hi, float(first.mean()), bounds))
    return out

