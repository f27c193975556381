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
from sim.replicas import replica_of, scaled
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


def simulate(scenario, setting: Setting, seed, *, customers: int | None, days: int, smoothing: bool,
             replicas: int = 1) -> list[dict]:
    """Run the scenario at ``setting`` in one world of ``replicas`` replications (:mod:`sim.replicas`)
    from ``seed``; return one :func:`run_metrics` dict per replica.

    Channels draw arrivals by inverse CDF (``arrivals="inverse_cdf"``, one uniform per channel and
    day, count monotone in spend); a paced channel's spend follows its profile day by day
    (``spend_schedules``). ``customers`` is the base of one replica.
    """
    from sim.model import CustomerModel

    sc = scaled(scenario_with(scenario, setting), replicas)
    paced = dict(setting.pacing)
    schedules = {c.name: c.daily_spend * daily_profile(paced[c.name], days) for c in sc.config.channels if c.name in paced}
    model = CustomerModel(sc, seed=seed, customers=None if customers is None else customers * replicas, days=days,
                          engine="vector", arrivals="inverse_cdf", spend_schedules=schedules, replicas=replicas)
    model.run()
    profiles = {model.channel_index[name]: spend for name, spend in schedules.items()}
    return run_metrics(model.result(), model, days, profiles, smoothing=smoothing)


def run_metrics(result, model, days: int, profiles: dict | None = None, *, smoothing: bool = True) -> list[dict]:
    """Budget metrics of one run, one dict per replica the world holds (``model.replicas``): profit,
    customers, LTV, CAC, LTV/CAC, money by channel and policy.

    ``profiles`` maps a channel index to its per-day spend (paced channels); other channels spent
    their ``daily_spend`` every day. With ``smoothing`` paid arrivals are post-stratified to their
    expectation (module docstring), each replica to its share ``1/R`` of it; ``*_raw`` keys are
    always the realised values. A replica's acquisition spend is ``1/R`` of the world's (spend is
    set, not drawn); its policy costs are those charged to its own customers.
    """
    R = model.replicas
    c = result.customers
    ch, acq = c["channel"], c["acquired"]
    rep = replica_of(model.streams, model.state.uid[: ch.size], R)
    net = c["margin"] - c["policy_cost"]
    acquired = ch != NONE
    paid = acquired & (c["acquisition_cost"] > 0)
    w = np.ones(ch.size)
    if smoothing:
        for k, channel in enumerate(model.channels):
            spend = profiles[k] if profiles and k in profiles else np.full(days, channel.daily_spend)
            lam = expected_customers(spend, channel.saturation, channel.cac) / R
            for r in range(R):
                mask = paid & (ch == k) & (rep == r)
                realised = np.bincount(acq[mask], minlength=days)[:days].astype(float)
                w[mask] = _day_weights(lam, realised)[acq[mask]]

    def by_replica(mask, weights=None) -> np.ndarray:
        return np.bincount(rep[mask], weights=None if weights is None else weights[mask], minlength=R)[:R].astype(float)

    spend_world = result.channel_spend.astype(float)
    spend_total = float(spend_world.sum()) / R
    customers = by_replica(acquired, w)
    value = by_replica(acquired, w * c["value"])
    n_raw = by_replica(acquired)
    value_raw = by_replica(acquired, c["value"].astype(float))
    profit = by_replica(np.ones(ch.size, bool), w * net) - spend_total
    profit_raw = by_replica(np.ones(ch.size, bool), net.astype(float)) - spend_total
    margin = by_replica(np.ones(ch.size, bool), c["margin"].astype(float))
    policy_names = model.ledger.policy_names
    out = []
    for r in range(R):
        ltv = value[r] / customers[r] if customers[r] > 0 else float("nan")
        cac = spend_total / customers[r] if customers[r] > 0 else float("nan")
        ltv_raw = value_raw[r] / n_raw[r] if n_raw[r] else float("nan")
        cac_raw = spend_total / n_raw[r] if n_raw[r] else float("nan")
        paid_days = {}
        for k, name in enumerate(result.channel_names):  # per channel and day: paid customers and their values
            mask = paid & (ch == k) & (rep == r)
            day = acq[mask]
            paid_days[name] = (np.bincount(day, minlength=days)[:days].astype(float),
                               np.bincount(day, weights=net[mask], minlength=days)[:days],
                               np.bincount(day, weights=c["value"][mask], minlength=days)[:days],
                               np.bincount(day, weights=net[mask] ** 2, minlength=days)[:days])
        out.append({
            "profit": float(profit[r]),
            "acquired_value": float(value[r]),
            "customers": float(customers[r]),
            "ltv": float(ltv),
            "cac": float(cac),
            "ltv_cac": float(ltv / cac) if cac and cac > 0 else float("nan"),
            "profit_raw": float(profit_raw[r]),
            "customers_raw": float(n_raw[r]),
            "ltv_cac_raw": float(ltv_raw / cac_raw) if cac_raw and cac_raw > 0 else float("nan"),
            "margin": float(margin[r]),
            "acquisition_spend": spend_total,
            "policy_costs": {name: float(model.policy_cost_by_replica[i, r]) for i, name in enumerate(policy_names)},
            "channel_spend": {name: float(v) / R for name, v in zip(result.channel_names, spend_world)},
            # channel -> (customers, net value, discounted value, squared net value) per acquisition day
            "paid_by_day": paid_days,
        })  # fmt: skip
    return out


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

def _work(task) -> list[dict]:
    scenario, setting, seed, customers, days, smoothing, replicas = task
    return simulate(scenario, setting, seed, customers=customers, days=days, smoothing=smoothing, replicas=replicas)


#: replications held in one simulated world (:mod:`sim.replicas`). Fixed, not derived from the
#: number of workers, so that results are the same whatever the workers. At 8 a world of the
#: default scenario (about 150,000 customers by the year's end) costs 2.3x one run, not 8x.
REPLICAS_PER_WORLD = 8


def world_sizes(replications: int, per_world: int = REPLICAS_PER_WORLD) -> list[int]:
    """How ``replications`` are packed into worlds: as many full worlds as fit, then the rest."""
    full, rest = divmod(int(replications), per_world)
    return [per_world] * full + ([rest] if rest else [])


class Evaluator:
    """Runs allocations of one scenario on fixed replication seeds; counts and caches simulations.

    Use as a context manager (worker processes are started on first use and stopped on exit).
    ``evaluate(setting, seeds="opt"|"report")`` returns one metrics dict per replication. The
    replications of each seed set are packed into worlds of :data:`REPLICAS_PER_WORLD`
    (:func:`world_sizes`), each world with its own seed; every allocation is run in the same worlds.
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
        sizes = world_sizes(self.replications)
        children = seed_plan(self.seed, 2 * len(sizes))
        #: seed set -> the worlds it is run in: (world seed, replicas)
        self.worlds = {"opt": list(zip(children[: len(sizes)], sizes)),
                       "report": list(zip(children[len(sizes):], sizes))}
        self.workers = max(1, min(int(workers), default_workers()))
        self.simulations = 0  # replications simulated (a world of R replications counts R)
        self.worlds_run = 0
        self._cache: dict = {}
        self._spare: list[tuple] = []
        #: called with no argument as each world finishes (progress)
        self.on_world = None  # (key, setting, seed set): run when a batch leaves a worker idle
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

    def prefetch(self, settings: list[Setting], seeds: str = "report") -> None:
        """Settings that will be needed later: their worlds fill workers a batch would leave idle.

        Nothing is run now; results are the same as if each were evaluated when needed (same seeds).
        """
        queued = {k for k, _, _ in self._spare}
        for s in settings:
            key = self._key(s, seeds)
            if key not in self._cache and key not in queued:
                self._spare.append((key, s, seeds))
                queued.add(key)

    def evaluate_many(self, settings: list[Setting], seeds: str = "opt") -> list[list[dict]]:
        """:meth:`evaluate` for several settings, all their worlds dispatched at once (with spare
        prefetched worlds, if the batch would leave a worker idle)."""
        batch: list[tuple] = []  # (key, setting, seed set)
        for s in settings:
            key = self._key(s, seeds)
            if key not in self._cache and all(key != k for k, _, _ in batch):
                batch.append((key, s, seeds))
        if batch:
            tasks = sum(len(self.worlds[w]) for _, _, w in batch)
            while self._spare and tasks % self.workers:
                key, s, w = self._spare.pop(0)
                if key not in self._cache and all(key != k for k, _, _ in batch):
                    batch.append((key, s, w))
                    tasks += len(self.worlds[w])
            todo, spans = [], []
            for key, s, w in batch:
                spans.append((key, len(todo), len(todo) + len(self.worlds[w])))
                todo.extend((self.scenario, s, ws, self.customers, self.days, self.smoothing, r)
                            for ws, r in self.worlds[w])
            results = self._run(todo)
            for key, a, b in spans:
                self._cache[key] = [rep for world in results[a:b] for rep in world]
            self._spare = [item for item in self._spare if item[0] not in self._cache]
        return [self._cache[self._key(s, seeds)] for s in settings]

    def _run(self, tasks: list) -> list[list[dict]]:
        self.simulations += sum(t[-1] for t in tasks)
        self.worlds_run += len(tasks)
        hook = self.on_world
        return self._runner.map(_work, tasks, progress=None if hook is None else (lambda n: hook()))
