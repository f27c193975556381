"""Evaluating an allocation by simulation, with common random numbers across allocations.

Core objects: :class:`Evaluator` (runs the scenario at an allocation on a fixed set of replication
seeds, in worker processes, with a cache), :func:`run_metrics` (the budget metrics of one run) and
:class:`Estimate` (a mean over replications with its 95% t-interval; paired differences too).

Common random numbers: every allocation is run on the same seeds, ``SeedSequence(seed).spawn(2R)``;
the first ``R`` drive the optimisation and the other ``R`` the report (recommended allocation,
baselines, marginal returns), so the reported gains are not the winner's curse of the optimiser's
own seeds. Within one seed, a customer is the same person with the same draws in every allocation
(counter-based draws keyed by channel, arrival day and arrival order; see :mod:`sim.draws`), so
differences between allocations come from the allocation, not from reshuffled customers. The
model's own Poisson sampler consumes a spend-dependent number of draws from the arrivals stream, so
a change on one channel would reshuffle every later day's arrivals on every channel; budget runs
therefore give the model :class:`InverseCdfChannel` channels (same Poisson law, one uniform per
channel and day, count monotone in spend): a channel's arrivals change only where its own spend
changes, and customers come and go at the end of each day's queue.

Smoothing (on by default): the number of customers a paid channel brings on a day is Poisson around
the response curve, which makes the simulated objective a step function of spend. The budget
metrics therefore post-stratify paid arrivals to their known expectation: a channel's customers
acquired on day ``t`` are weighted by ``lambda(t) / N(t)`` (expected over realised arrivals that day;
a day without arrivals hands its expectation to the next day with some). Profit, customers, LTV
and CAC are then ratio estimators whose expectation equals the raw one to first order, with the
arrival-count noise removed; what each customer does is still simulated. ``smoothing=False`` uses
the raw realised values (what ``lifecycle run`` reports).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.acquisition import expected_customers
from analysis.budget.levers import Lever, daily_profile
from analysis.estimate import Estimate, mean_ci, paired
from scenarios.errors import ConfigError
from sim.parallel import Runner, default_workers
from sim.seeding import seed_plan
from sim.state import NONE

__all__ = [
    "Evaluator", "Estimate", "Setting", "setting_for", "simulate", "run_metrics", "mean_ci", "paired",
]


@dataclass(frozen=True)
class Setting:
    """What one simulation changes in the scenario: channel spends, policy coverages, pacing."""

    spend: tuple[tuple[str, float], ...]  # channel -> mean daily spend
    coverage: tuple[tuple[str, float], ...]  # policy -> coverage
    pacing: tuple[tuple[str, tuple[float, ...]], ...] = ()


def setting_for(levers: list[Lever], x) -> Setting:
    """The scenario change that spends ``x[i]`` a day on lever ``i``."""
    spend, cov, pacing = [], [], []
    for lv, v in zip(levers, x):
        v = float(v)
        if lv.kind == "channel":
            spend.append((lv.target, max(0.0, v)))
            if lv.pacing is not None:
                pacing.append((lv.target, lv.pacing))
        else:
            cov.append((lv.target, lv.coverage(v)))
    return Setting(tuple(spend), tuple(cov), tuple(pacing))


# --- one simulation ------------------------------------------------------------------------------


def scenario_with(scenario, setting: Setting):
    """The validated scenario with the setting's channel spends and policy coverages."""
    values = {f"channels.{name}.daily_spend": float(v) for name, v in setting.spend}
    values.update({f"policies.{name}.coverage": float(c) for name, c in setting.coverage})
    return scenario.with_values(values, source=scenario.source)


def simulate(scenario, setting: Setting, seed, *, customers: int | None, days: int, smoothing: bool) -> dict:
    """Run the scenario at ``setting`` for one replication seed; return :func:`run_metrics`.

    Channels draw arrivals by inverse CDF (``arrivals="inverse_cdf"``, one uniform per channel and
    day); a paced channel's spend follows its profile day by day (``spend_schedules``).
    """
    from sim.model import CustomerModel

    sc = scenario_with(scenario, setting)
    paced = dict(setting.pacing)
    schedules = {c.name: c.daily_spend * daily_profile(paced[c.name], days) for c in sc.config.channels if c.name in paced}
    model = CustomerModel(sc, seed=seed, customers=customers, days=days, engine="vector", arrivals="inverse_cdf",
                          spend_schedules=schedules)
    model.run()
    profiles = {model.channel_index[name]: spend for name, spend in schedules.items()}
    return run_metrics(model.result(), model, days, profiles, smoothing=smoothing)


def run_metrics(result, model, days: int, profiles: dict | None = None, *, smoothing: bool = True) -> dict:
    """Budget metrics of one run: profit, customers, LTV, CAC, LTV/CAC, money by channel and policy.

    ``profiles`` maps a channel index to its per-day spend (paced channels); other channels spent
    their ``daily_spend`` every day. With ``smoothing`` paid arrivals are post-stratified to their
    expectation (module docstring); ``*_raw`` keys are always the realised values.
    """
    c = result.customers
    ch, acq = c["channel"], c["acquired"]
    net = c["margin"] - c["policy_cost"]
    acquired = ch != NONE
    w = np.ones(ch.size)
    if smoothing:
        paid = acquired & (c["acquisition_cost"] > 0)
        for k, channel in enumerate(model.channels):
            mask = paid & (ch == k)
            spend = profiles[k] if profiles and k in profiles else np.full(days, channel.daily_spend)
            lam = expected_customers(spend, channel.saturation, channel.cac)
            realised = np.bincount(acq[mask], minlength=days)[:days].astype(float)
            w[mask] = _day_weights(lam, realised)[acq[mask]]
    spend_total = float(result.channel_spend.sum())
    customers = float(w[acquired].sum())
    ltv = float(np.dot(w[acquired], c["value"][acquired]) / customers) if customers > 0 else float("nan")
    cac = spend_total / customers if customers > 0 else float("nan")
    n_raw = int(acquired.sum())
    ltv_raw = float(c["value"][acquired].mean()) if n_raw else float("nan")
    cac_raw = spend_total / n_raw if n_raw else float("nan")
    paid_days = {}
    for k, name in enumerate(result.channel_names):  # per channel and day: paid customers and their values
        mask = acquired & (c["acquisition_cost"] > 0) & (ch == k)
        day = acq[mask]
        paid_days[name] = (np.bincount(day, minlength=days)[:days].astype(float),
                           np.bincount(day, weights=net[mask], minlength=days)[:days],
                           np.bincount(day, weights=c["value"][mask], minlength=days)[:days])
    return {
        "profit": float(np.dot(w, net)) - spend_total,
        "acquired_value": float(np.dot(w[acquired], c["value"][acquired])),
        "customers": customers,
        "ltv": ltv,
        "cac": cac,
        "ltv_cac": ltv / cac if cac and cac > 0 else float("nan"),
        "profit_raw": float(net.sum()) - spend_total,
        "customers_raw": float(n_raw),
        "ltv_cac_raw": ltv_raw / cac_raw if cac_raw and cac_raw > 0 else float("nan"),
        "margin": float(c["margin"].sum()),
        "acquisition_spend": spend_total,
        "policy_costs": {k: float(v) for k, v in result.policy_costs.items()},
        "channel_spend": {name: float(v) for name, v in zip(result.channel_names, result.channel_spend)},
        "paid_by_day": paid_days,  # channel -> (customers, net value, discounted value) per acquisition day
    }


def _day_weights(lam: np.ndarray, realised: np.ndarray) -> np.ndarray:
    """Per day, expected / realised arrivals; a day without arrivals passes its expectation on."""
    days = lam.size
    w = np.zeros(days)
    have = np.flatnonzero(realised > 0)
    if have.size == 0:
        return w  # no customer to carry the expectation (tiny spend): the raw value, zero
    # each day's expectation goes to the next day with arrivals (the last such day for the tail)
    target = have[np.minimum(np.searchsorted(have, np.arange(days)), have.size - 1)]
    lam_to = np.bincount(target, weights=lam, minlength=days)
    w[have] = lam_to[have] / realised[have]
    return w


# --- worker processes ------------------------------------------------------------------------------

def _work(task) -> dict:
    scenario, setting, seed, customers, days, smoothing = task
    return simulate(scenario, setting, seed, customers=customers, days=days, smoothing=smoothing)


class Evaluator:
    """Runs allocations of one scenario on fixed replication seeds; counts and caches simulations.

    Use as a context manager (worker processes are started on first use and stopped on exit).
    ``evaluate(setting, seeds="opt"|"report")`` returns one metrics dict per replication.
    """

    def __init__(self, scenario, *, customers: int | None, days: int, replications: int, seed: int,
                 workers: int = 1, smoothing: bool = True) -> None:
        if replications < 1:
            raise ConfigError(f"replications must be >= 1; got {replications}")
        if days < 1:
            raise ConfigError(f"horizon must be >= 1 day; got {days}")
        self.scenario = scenario
        self.customers = customers
        self.days = int(days)
        self.replications = int(replications)
        self.seed = int(seed)
        self.smoothing = bool(smoothing)
        children = seed_plan(self.seed, 2 * self.replications)
        self.seeds = {"opt": children[: self.replications], "report": children[self.replications:]}
        self.workers = max(1, min(int(workers), default_workers()))
        self.simulations = 0
        self._cache: dict = {}
        self._runner = Runner(workers=self.workers)
        self._base_spend = {c.name: float(c.daily_spend) for c in scenario.config.channels}
        self._base_coverage = {p.name: float(p.params.coverage) for p in scenario.policies}

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes."""
        self._runner.close()

    def _key(self, setting: Setting, which: str):
        """Cache key: what the setting changes in the scenario (to 1e-9), so equal runs share a key."""
        def changed(items, base):
            return tuple(sorted((n, round(v, 9)) for n, v in items if round(v, 9) != round(base.get(n, math.nan), 9)))

        return (which, changed(setting.spend, self._base_spend), changed(setting.coverage, self._base_coverage),
                tuple(sorted(setting.pacing)))

    def evaluate(self, setting: Setting, seeds: str = "opt") -> list[dict]:
        """One metrics dict per replication (cached: the same setting is never simulated twice)."""
        return self.evaluate_many([setting], seeds)[0]

    def evaluate_many(self, settings: list[Setting], seeds: str = "opt") -> list[list[dict]]:
        """:meth:`evaluate` for several settings, all their simulations dispatched at once."""
        todo, pending = [], []
        for s in settings:
            key = self._key(s, seeds)
            if key not in self._cache and key not in pending:
                pending.append(key)
                todo.extend((self.scenario, s, ss, self.customers, self.days, self.smoothing) for ss in self.seeds[seeds])
        if todo:
            results = self._run(todo)
            r = self.replications
            for n, key in enumerate(pending):
                self._cache[key] = results[n * r:(n + 1) * r]
        return [self._cache[self._key(s, seeds)] for s in settings]

    def _run(self, tasks: list) -> list[dict]:
        self.simulations += len(tasks)
        return self._runner.map(_work, tasks)
