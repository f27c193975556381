"""The budget question end to end: levers, costs, optimisation, the report's numbers, the frontier.

Core objects: :func:`allocate_budget` (scenario in, :class:`BudgetResult` out), :class:`Outcome`
(an allocation's metrics on the report seeds, with 95% CIs), :class:`Marginal` (the return of the
last unit spent on a lever) and :class:`FrontierPoint`.

Order of work: (1) the levers are checked against the scenario; (2) one simulation per optimisation
seed at full coverage measures each policy lever's full-coverage daily cost; (3) bounds and the
budget are checked for feasibility (a clear :class:`~scenarios.errors.ConfigError` names the levers;
nothing is clamped silently); (4) :func:`analysis.budget.optimise.optimise` searches from the equal split
and from the current allocation (scaled to the budget); (5) on the *report* seeds (independent of the optimiser's) the
recommended, equal-split, current and zero allocations are simulated, and the recommendation with
each lever moved by a step (finite differences, same seeds); (6) each ``frontier`` budget is
optimised the same way.

ROI (to check the rule of thumb that "a value-based split beats the equal split by about 30% ROI"):
``(profit(x) - profit(nothing on the levers)) / money spent on the levers``, per report seed; the
money spent is the realised acquisition spend of lever channels plus the realised cost of lever
policies over the horizon. The uplift of the recommendation over the equal split is the ratio of
mean ROIs minus one, with a delta-method 95% interval from the paired per-seed values.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from analysis.budget.evaluate import Evaluator, Setting, setting_for
from analysis.estimate import Estimate, mean_ci, paired, quantile_ci, share_ci, tail_mean_ci
from analysis.budget.levers import (
    OBJECTIVES, RISK_OBJECTIVES, Lever, LeverConfig, build_levers, display_names, equal_split, project_allocation,
    read_budget_config, request_levers, resolve_lever, risk_value,
)  # fmt: skip
from analysis.budget.optimise import METHODS, Trace, optimise
from scenarios.errors import ConfigError

__all__ = ["allocate_budget", "BudgetResult", "Outcome", "Marginal", "FrontierPoint", "DEFAULT_REPLICATIONS"]

DEFAULT_REPLICATIONS = 8
#: risk objectives judge a tail of the simulated years: 40 replications put 4 of them in the worst 10%
#: and are the fewest for which the 10th percentile's 95% interval has a lower end (0.9^40 < 0.025)
RISK_REPLICATIONS = 40
METRICS = ("profit", "ltv_cac", "customers", "ltv", "cac", "profit_raw")


@dataclass(frozen=True)
class Outcome:
    """One allocation simulated on the report seeds: each metric as a mean with its 95% CI."""

    allocation: tuple[float, ...]
    metrics: dict[str, Estimate]
    realised_spend: dict[str, float]  # lever -> mean realised money per day
    per_seed: dict[str, list[float]]
    channel_spend: dict[str, float] = field(default_factory=dict)  # every channel, lever or not: money per day


@dataclass(frozen=True)
class Marginal:
    """Return of the last unit spent on one lever (finite difference on the report seeds)."""

    lever: str
    step: float  # daily spend moved
    direction: str  # "last" (x - step .. x) or "next" (x .. x + step)
    objective: Estimate  # change of the objective per unit of daily spend
    profit: Estimate  # change of profit per unit of money spent over the horizon (net of it)


@dataclass(frozen=True)
class FrontierPoint:
    """The best allocation found at one budget level."""

    budget: float
    allocation: tuple[float, ...]
    outcome: Outcome
    constraint_met: bool


@dataclass
class BudgetResult:
    """Everything the budget command reports (see :mod:`analysis.budget.report` for its JSON form)."""

    scenario: str
    source: str
    objective: str
    budget: float
    days: int
    customers: int
    replications: int
    seed: int
    smoothing: bool
    min_ltv_cac: float | None
    levers: list[Lever]
    excluded: list[str]
    recommended: Outcome
    equal: Outcome
    current: Outcome
    zero: Outcome
    trace: Trace
    marginals: list[Marginal]
    frontier: list[FrontierPoint] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0
    #: levers held at a set spend (``fix``) and scenario levers left out of the question (``levers``)
    fixed: dict[str, float] = field(default_factory=dict)
    held: dict[str, dict] = field(default_factory=dict)  # name -> kind and its own spend or coverage, unchanged
    #: min_ltv_cac: whether the recommendation meets it (None without a target); when no allocation
    #: tried does, the recommendation is the one closest to it on the report seeds
    target_met: bool | None = None

    @property
    def allocation(self) -> dict[str, float]:
        """Lever -> recommended daily spend."""
        return {lv.name: x for lv, x in zip(self.levers, self.recommended.allocation)}

    def difference(self, other: Outcome, metric: str | None = None) -> Estimate:
        """Recommended minus ``other`` on ``metric`` (default: the objective), paired over seeds (a
        risk objective: the difference of the two tails, with a paired bootstrap interval)."""
        m = metric or self.objective
        if m in RISK_OBJECTIVES:
            return risk_difference(self.recommended.per_seed["profit_raw"], other.per_seed["profit_raw"], m)
        return paired(self.recommended.per_seed[m], other.per_seed[m])

    def target_message(self) -> str:
        """What to say when no allocation reaches ``min_ltv_cac`` (the best value reachable, and the baselines')."""
        def fig(o: Outcome) -> str:
            e = o.metrics["ltv_cac"]
            return f"{e.mean:.2f}" + ("" if e.ci_low is None else f" [{e.ci_low:.2f}, {e.ci_high:.2f}]")

        alloc = ", ".join(f"{lv.name} {x:,.0f}" for lv, x in zip(self.levers, self.recommended.allocation))
        return (f"{self.source}: no allocation of {self.budget:,.2f}/day reaches LTV/CAC >= {self.min_ltv_cac:g} "
                f"({len(self.trace.trials)} tried; mean over {self.replications} independent seeds, 95% CI): the "
                f"closest, {alloc}, reaches {fig(self.recommended)}; the current allocation {fig(self.current)}, "
                f"the equal split {fig(self.equal)}. Lower --min-ltv-cac to at most "
                f"{self.recommended.metrics['ltv_cac'].mean:.2f}, or change the budget or the levers")

    def beats(self, other: Outcome) -> Estimate:
        """Share of simulated years (report seeds: the same customers and luck) in which the
        recommendation's raw profit exceeds ``other``'s, with its Wilson interval."""
        a, b = np.asarray(self.recommended.per_seed["profit_raw"]), np.asarray(other.per_seed["profit_raw"])
        return share_ci(int(np.sum(a > b)), int(a.size))

    def roi(self, outcome: Outcome) -> np.ndarray:
        """Per report seed: (profit - profit with nothing on the levers) / money spent on the levers."""
        gain = np.asarray(outcome.per_seed["profit"]) - np.asarray(self.zero.per_seed["profit"])
        spent = np.asarray(outcome.per_seed["lever_spend"])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(spent > 0, gain / spent, np.nan)

    def roi_uplift(self) -> dict:
        """ROI of the recommendation and of the equal split, and the relative uplift with its CI."""
        a, b = self.roi(self.recommended), self.roi(self.equal)
        ok = np.isfinite(a) & np.isfinite(b)
        a, b = a[ok], b[ok]
        out = {"roi_recommended": mean_ci(a).to_dict(), "roi_equal": mean_ci(b).to_dict(),
               "difference": paired(a, b).to_dict(), "uplift": None, "uplift_ci_low": None, "uplift_ci_high": None}
        if a.size >= 2 and b.mean() != 0:
            from scipy import stats

            r = a.mean() / b.mean()
            # delta method for a ratio of paired means
            var = (np.var(a, ddof=1) + r * r * np.var(b, ddof=1) - 2 * r * np.cov(a, b)[0, 1]) / (a.size * b.mean() ** 2)
            half = float(stats.t.ppf(0.975, a.size - 1) * math.sqrt(max(var, 0.0)))
            out.update(uplift=float(r - 1), uplift_ci_low=float(r - 1 - half), uplift_ci_high=float(r - 1 + half))
        return out


def _outcome(levers: list[Lever], x, reps: list[dict], days: int) -> Outcome:
    per_seed = {m: [r[m] for r in reps] for m in METRICS}
    risk = {"profit_p10": quantile_ci(per_seed["profit_raw"], RISK_OBJECTIVES["profit_p10"]),
            "profit_cvar10": tail_mean_ci(per_seed["profit_raw"], RISK_OBJECTIVES["profit_cvar10"])}
    spend = []
    for r in reps:
        total = 0.0
        for lv in levers:
            total += r["channel_spend"][lv.target] if lv.kind == "channel" else r["policy_costs"].get(lv.target, 0.0)
        spend.append(total)
    per_seed["lever_spend"] = spend
    realised = {}
    for lv in levers:
        key = "channel_spend" if lv.kind == "channel" else "policy_costs"
        realised[lv.name] = float(np.mean([r[key].get(lv.target, 0.0) for r in reps])) / days
    channels = {name: float(np.mean([r["channel_spend"][name] for r in reps])) / days for name in reps[0]["channel_spend"]}
    return Outcome(tuple(float(v) for v in x), {**{m: mean_ci(per_seed[m]) for m in METRICS}, **risk}, realised,
                   per_seed, channels)


def risk_difference(a, b, objective: str, *, resamples: int = 2000, seed: int = 0) -> Estimate:
    """The tail measure of ``a`` minus that of ``b`` (paired seeds resampled together; seeded bootstrap)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    value = float(risk_value(a, objective) - risk_value(b, objective))
    if a.size < 2:
        return Estimate(value, None, None, None, int(a.size))
    idx = np.random.default_rng(seed).integers(0, a.size, size=(resamples, a.size))
    boot = risk_value(a[idx], objective) - risk_value(b[idx], objective)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return Estimate(value, float(boot.std(ddof=1)), float(lo), float(hi), int(a.size))


def lever_question(scenario, *, levers=None, fix=None, bounds=None, pacing=None):
    """The scenario's ``[budget]`` table with the caller's choice of levers applied (returns a new
    :class:`~scenarios.designs.BudgetConfig` and the names held at the scenario's own spend).

    ``levers``: optimise only these (the others keep the scenario's spend and are not part of the
    budget); ``fix``: name -> daily spend held exactly (added to the levers if not among them);
    ``bounds``: name -> (min or None, max or None); ``pacing``: channel name -> relative spend per
    equal block of the horizon. Levers the file lists keep their own min, max and pacing unless
    overridden here.
    """
    cfg = read_budget_config(scenario)
    if not (levers or fix or bounds or pacing):
        return cfg, []
    names = display_names(scenario)
    listed = {resolve_lever(scenario, lc.name, "budget.levers"): lc for lc in (cfg.levers or [])}
    if levers:
        chosen = [resolve_lever(scenario, n, "levers") for n in levers]
    elif cfg.levers is not None:
        chosen = list(listed)
    else:  # the default set: channels with a spend, every policy
        chosen = [(r.kind, r.target) for r in request_levers(scenario, cfg.model_copy(update={"levers": None}), 1)]
    updates: dict[tuple[str, str], dict] = {}
    for what, table in (("fix", fix or {}), ("bounds", bounds or {}), ("pacing", pacing or {})):
        for name, value in table.items():
            key = resolve_lever(scenario, name, what)
            if what == "fix":
                v = float(value)
                if not (math.isfinite(v) and v >= 0):
                    raise ConfigError(f"fix: {name} = {value}: a held spend must be a finite number >= 0 (per day)")
                updates.setdefault(key, {}).update(min=v, max=v)
            elif what == "bounds":
                lo, hi = value
                updates.setdefault(key, {}).update({k: float(v) for k, v in (("min", lo), ("max", hi)) if v is not None})
            else:
                updates.setdefault(key, {})["pacing"] = [float(w) for w in value]
            if key not in chosen:
                if what != "fix":
                    raise ConfigError(f"{what}: '{name}' is not one of the levers being optimised "
                                      f"({', '.join(names[k] for k in chosen)})")
                chosen.append(key)
    out = []
    for key in chosen:
        base = listed.get(key)
        fields = {"name": names[key], "min": None, "max": None, "pacing": "even"}
        if base is not None:
            fields.update(min=base.min, max=base.max, pacing=base.pacing)
        fields.update(updates.get(key, {}))
        try:
            out.append(LeverConfig(**fields))
        except ValueError as exc:  # pydantic: a bound out of range
            raise ConfigError(f"lever '{names[key]}': {_first_error(exc)}") from None
    held = [names[(k, t)] for k, t in _all_levers(scenario) if (k, t) not in chosen]
    return cfg.model_copy(update={"levers": out, "total": None if levers else cfg.total}), held


def _first_error(exc) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        e = errors()[0]
        return f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
    return str(exc)


def _all_levers(scenario):
    return [("channel", c.name) for c in scenario.config.channels if c.daily_spend > 0] + \
        [("policy", p.name) for p in scenario.policies]


def _check_money(value, what: str) -> None:
    if value is None:
        return
    if not math.isfinite(value):
        raise ConfigError(f"{what} must be a finite number; got {value}")
    if value < 0:
        raise ConfigError(f"{what} must be >= 0 (money per day); got {value:g}")


def allocate_budget(scenario, *, budget: float | None = None, objective: str | None = None,
                    horizon: int | None = None, customers: int | None = None, min_ltv_cac: float | None = None,
                    replications: int | None = None, seed: int | None = None, frontier=(),
                    workers: int = 1, max_evaluations: int | None = None, smoothing: bool = True,
                    method: str = "surrogate", marginal_returns: bool = True, levers=None, fix=None, bounds=None,
                    pacing=None, progress=None) -> BudgetResult:
    """Recommend how to split a daily budget over the scenario's levers (see the module docstring).

    ``budget`` (per day) overrides ``[budget].total``; without either, the levers' current total is
    used. ``levers``/``fix``/``bounds``/``pacing`` narrow the question (:func:`lever_question`); with
    ``levers`` the budget is that of the chosen levers (default: their current spend). ``objective``:
    profit, ltv_cac, customers (means), or profit_p10 / profit_cvar10 (risk: the 10th percentile of
    profit over simulated years, or the mean of the worst 10%). ``replications``: 8 by default, 40
    for a risk objective. ``method``: "surrogate" (default) or "cobyla" (:mod:`analysis.budget.optimise`).
    ``marginal_returns=False`` skips the finite differences of the report (one evaluation per lever).
    ``progress(phase, done, total)`` is called as simulated worlds finish, if given.
    """
    t0 = time.perf_counter()
    tell = progress or (lambda phase, done, total: None)
    cfg, held = lever_question(scenario, levers=levers, fix=fix, bounds=bounds, pacing=pacing)
    objective = objective or cfg.objective or "profit"
    if replications is None:
        replications = RISK_REPLICATIONS if objective in RISK_OBJECTIVES else DEFAULT_REPLICATIONS
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}; got '{method}'")
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}; got '{objective}'")
    min_ltv_cac = min_ltv_cac if min_ltv_cac is not None else cfg.min_ltv_cac
    if min_ltv_cac is not None and not (math.isfinite(min_ltv_cac) and min_ltv_cac > 0):
        raise ConfigError(f"min_ltv_cac must be a number > 0; got {min_ltv_cac}")
    total = budget if budget is not None else cfg.total
    _check_money(total, "the budget (--budget or [budget].total, per day)")
    levels = [float(b) for b in frontier]
    for b in levels:
        _check_money(b, f"frontier level {b:g}")
    days = int(horizon or scenario.config.run.days)
    if days < 1:
        raise ConfigError(f"horizon must be >= 1 day; got {days}")
    seed = scenario.config.run.seed if seed is None else int(seed)
    n0 = scenario.config.population.initial_customers if customers is None else int(customers)
    requests = request_levers(scenario, cfg, days)
    lo_sum = math.fsum(r.min for r in requests)
    for b in ([total] if total is not None else []) + levels:  # infeasible minimums: fail before simulating
        if lo_sum > b * (1 + 1e-12):
            parts = ", ".join(f"{r.name} (min {r.min:,.2f})" for r in requests if r.min > 0)
            raise ConfigError(f"{scenario.source}: infeasible budget: the lever minimums {parts} add up to "
                              f"{lo_sum:,.2f}/day, more than the budget {b:,.2f}/day")

    with Evaluator(scenario, customers=n0, days=days, replications=replications, seed=seed,
                   workers=workers, smoothing=smoothing) as ev:
        phase = _Phases(tell, ev)
        phase.start("measuring policy costs", 1)
        channels = {c.name: float(c.daily_spend) for c in scenario.config.channels}
        full = Setting(tuple((r.target, channels[r.target]) for r in requests if r.kind == "channel"),
                       tuple((r.target, 1.0) for r in requests if r.kind == "policy"),
                       tuple((r.target, r.pacing) for r in requests if r.kind == "channel" and r.pacing))
        # the scenario as it is (the current allocation at its own budget) runs beside it
        as_is = Setting(tuple((r.target, channels[r.target]) for r in requests if r.kind == "channel"),
                        tuple((r.target, _coverage(scenario, r.target)) for r in requests if r.kind == "policy"))
        ev.prefetch([as_is], "opt")
        reps = ev.evaluate(full, "opt") if full.coverage else []  # (channels only: nothing to measure)
        costs = {r.target: float(np.mean([x["policy_costs"].get(r.target, 0.0) for x in reps])) / days
                 for r in requests if r.kind == "policy"}
        if total is None:  # the levers' current spend
            total = math.fsum(channels[r.target] if r.kind == "channel" else
                              _coverage(scenario, r.target) * costs[r.target] for r in requests)
        levers = build_levers(scenario, requests, costs, total)
        excluded = [r.name for r in requests if r.kind == "policy" and not costs.get(r.target, 0.0) > 0]
        for b in levels:
            build_levers(scenario, requests, costs, b)  # every frontier level must be feasible too
        n_free = sum(lv.hi - lv.lo > 1e-9 * max(1.0, total) for lv in levers)
        n_policies = sum(lv.kind == "policy" and lv.hi > lv.lo for lv in levers)
        max_ev = max_evaluations or (8 * (n_policies + 1) + 2 if method == "surrogate" else max(20, 8 * n_free + 8))

        phase.start(f"searching {len(levers)} levers", max_ev)
        x_eq = equal_split(levers, total)
        x_cur = np.array([lv.current for lv in levers])
        zero = np.zeros(len(levers))
        # the report's baselines do not depend on the search: they fill workers it leaves idle
        ev.prefetch([setting_for(levers, x) for x in (x_eq, x_cur, zero)], "report")
        trace = _optimise(ev, levers, total, objective, x_eq, x_cur, min_ltv_cac, max_ev, method)
        x_rec = np.array(trace.best.allocation)

        phase.start("report on independent seeds", 4 + (len(levers) if marginal_returns else 0))
        steps = [_step(lv, x, total) for lv, x in zip(levers, x_rec)]
        allx = [x_rec, x_eq, x_cur, zero]
        out = ev.evaluate_many([setting_for(levers, x) for x in allx], "report")
        rec, eq, cur, nil = (_outcome(levers, x, r, days) for x, r in zip(allx, out))
        target_met = None
        if min_ltv_cac is not None:
            target_met = trace.constraint_met
            if not target_met:  # closest to the target, judged on the seeds the report shows
                rec = max((rec, cur, eq), key=lambda o: o.metrics["ltv_cac"].mean)
                x_rec = np.array(rec.allocation)
                steps = [_step(lv, x, total) for lv, x in zip(levers, x_rec)]
                target_met = bool(rec.metrics["ltv_cac"].mean >= min_ltv_cac)
        marginals = []
        for lv, (delta, direction), r in zip(levers, steps, _probes(ev, levers, x_rec, steps, marginal_returns,
                                                                      ev.evaluate(setting_for(levers, x_rec), "report"))):
            probe_o = _outcome(levers, x_rec, r, days)
            sign = 1.0 if direction == "next" else -1.0
            if objective in RISK_OBJECTIVES:
                e = risk_difference(probe_o.per_seed["profit_raw"], rec.per_seed["profit_raw"], objective)
                k = sign / delta
                lo, hi = (None, None) if e.ci_low is None else sorted((k * e.ci_low, k * e.ci_high))
                d_obj = Estimate(k * e.mean, None if e.se is None else abs(k) * e.se, lo, hi, e.n)
            else:
                d_obj = mean_ci(sign * (np.array(probe_o.per_seed[objective]) - np.array(rec.per_seed[objective])) / delta)
            d_pro = sign * (np.array(probe_o.per_seed["profit"]) - np.array(rec.per_seed["profit"])) / (delta * days)
            marginals.append(Marginal(lv.name, delta, direction, d_obj, mean_ci(d_pro)))

        points, warm = [], trace.model
        for b in sorted(levels, key=lambda b: abs(b - total)):  # nearest budget first: each warm-starts the next
            phase.start(f"frontier {b:,.0f}/day", max_ev + 1)
            lv_b = build_levers(scenario, requests, costs, b)
            scaled = project_allocation(x_rec * (b / total) if total > 0 else equal_split(lv_b, b), b,
                                        [v.lo for v in lv_b], [v.hi for v in lv_b])
            tr = _optimise(ev, lv_b, b, objective, equal_split(lv_b, b), scaled, min_ltv_cac, max_ev, method,
                           warm_start=warm)
            warm = tr.model or warm
            xb = np.array(tr.best.allocation)
            ob = _outcome(lv_b, xb, ev.evaluate(setting_for(lv_b, xb), "report"), days)
            points.append(FrontierPoint(b, tuple(float(v) for v in xb), ob, tr.constraint_met))
        points.sort(key=lambda p: p.budget)
        phase.end()
        sims = ev.simulations
    fixed = {lv.name: lv.lo for lv in levers if lv.hi == lv.lo and fix and lv.name in _fixed_names(scenario, fix)}
    held_spend = {}
    for name in held:  # outside the question: the scenario's own spend (channels) or coverage (policies)
        kind, target = resolve_lever(scenario, name, "levers")
        held_spend[name] = ({"kind": kind, "daily_spend": channels[target]} if kind == "channel"
                            else {"kind": kind, "coverage": _coverage(scenario, target)})

    return BudgetResult(
        scenario=scenario.name, source=scenario.source, objective=objective, budget=float(total), days=days,
        customers=n0, replications=replications, seed=seed, smoothing=smoothing, min_ltv_cac=min_ltv_cac,
        levers=levers, excluded=excluded, recommended=rec, equal=eq, current=cur, zero=nil, trace=trace,
        marginals=marginals, frontier=points, evaluations=sims, seconds=time.perf_counter() - t0,
        fixed=fixed, held=held_spend, target_met=target_met,
    )  # fmt: skip


def _fixed_names(scenario, fix) -> set[str]:
    names = display_names(scenario)
    return {names[resolve_lever(scenario, n, "fix")] for n in fix}


def _probes(ev, levers, x, steps, marginal_returns, runs) -> list:
    """Per lever, the report runs of ``x`` with that lever moved by its step: simulated for a
    programme; for a channel, modelled from ``runs`` (the runs at ``x``) as the surrogate does, the
    response curve's change in customers times the values of the customers that seed acquired
    through the channel on the same days (:func:`_channel_step`): no simulation, and none of the
    arrival noise of the few marginal customers."""
    if not marginal_returns:
        return []
    ys, simulated = [], []
    for i, (delta, direction) in enumerate(steps):
        y = x.copy()
        y[i] += delta if direction == "next" else -delta
        ys.append(y)
        if levers[i].kind != "channel":
            simulated.append(y)
    sims = iter(ev.evaluate_many([setting_for(levers, y) for y in simulated], "report") if simulated else [])
    return [_channel_step(lv, x[i], y[i], runs, ev.days) if lv.kind == "channel" else next(sims)
            for i, (lv, y) in enumerate(zip(levers, ys))]


def _channel_step(lever: Lever, x: float, y: float, runs: list[dict], days: int) -> list[dict]:
    """The runs at daily spend ``x`` on a channel lever, moved to ``y`` by the surrogate's rule."""
    from analysis.budget.levers import daily_profile
    from analysis.budget.surrogate import channel_values
    from sim.acquisition import expected_customers

    prof = daily_profile(lever.pacing, days)
    dn = (expected_customers(max(y, 0.0) * prof, lever.saturation, lever.cac)
          - expected_customers(max(x, 0.0) * prof, lever.saturation, lever.cac))
    pooled = channel_values(runs, lever.target, days) or (np.zeros(days),) * 3
    dspend = (y - x) * days
    out = []
    for r in runs:
        net, disc, _ = channel_values([r], lever.target, days) or pooled
        m = dict(r)
        gain = float(dn @ net) - dspend
        m["profit"] += gain
        m["profit_raw"] += gain
        m["customers"] += float(dn.sum())
        m["acquired_value"] += float(dn @ disc)
        m["acquisition_spend"] += dspend
        m["channel_spend"] = {**r["channel_spend"], lever.target: r["channel_spend"][lever.target] + dspend}
        n, spend = m["customers"], m["acquisition_spend"]
        m["ltv"] = m["acquired_value"] / n if n > 0 else float("nan")
        m["cac"] = spend / n if n > 0 else float("nan")
        m["ltv_cac"] = m["acquired_value"] / spend if spend > 0 else float("nan")
        out.append(m)
    return out


class _Phases:
    """Reports progress as ``tell(phase, done, total)``, counting simulated worlds (a phase's total
    is in allocations, each one world per :data:`~analysis.budget.evaluate.REPLICAS_PER_WORLD`
    replications; a search may stop before its bound, and then jumps to the end)."""

    def __init__(self, tell, evaluator) -> None:
        self.tell, self.ev = tell, evaluator
        self.label, self.done, self.total = None, 0, 0
        self.per = len(evaluator.worlds["opt"])
        evaluator.on_world = self._world

    def start(self, label: str, allocations: int) -> None:
        self.end()
        self.label, self.done, self.total = label, 0, max(1, allocations) * self.per
        self.tell(label, 0, self.total)

    def _world(self) -> None:
        if self.label is not None:
            self.done = min(self.total, self.done + 1)
            self.tell(self.label, self.done, self.total)

    def end(self) -> None:
        if self.label is not None and self.done < self.total:
            self.tell(self.label, self.total, self.total)
        self.label = None


def _optimise(ev, levers, budget, objective, x_eq, x_cur, min_ltv_cac, max_ev, method, warm_start=None) -> Trace:
    lo = [lv.lo for lv in levers]
    hi = [lv.hi for lv in levers]
    starts = [x_eq]
    if math.fsum(x_cur) > 0:  # the current mix, scaled to this budget
        starts.append(project_allocation(np.asarray(x_cur) * (budget / math.fsum(x_cur)), budget, lo, hi))
    return optimise(ev, levers, budget, objective, starts=starts, min_ltv_cac=min_ltv_cac, max_evaluations=max_ev,
                    method=method, warm_start=warm_start)


def _coverage(scenario, policy: str) -> float:
    return float(next(p for p in scenario.policies if p.name == policy).params.coverage)


def _step(lever: Lever, x: float, budget: float) -> tuple[float, str]:
    """Finite-difference step: 2% of the budget (at most 10% of a policy's full cost), taken off the
    lever's spend ("last" units) or, if it spends less than that, added to it ("next" units)."""
    delta = 0.02 * budget if budget > 0 else 1.0
    if lever.kind == "policy":
        delta = min(delta, 0.1 * lever.full_cost)  # so x + delta stays within full coverage
    return (delta, "last") if x >= delta else (delta, "next")
