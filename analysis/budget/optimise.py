"""Searching the allocations of one budget: SLSQP on a simulated surrogate (default) or COBYLA.

Core objects: :func:`optimise` (the best allocation of one budget), :class:`Trial` (one allocation
evaluated by simulation on the optimisation seeds) and :class:`Trace` (every trial, the chosen one,
how the search ended).

The choice. The simulated objective is noisy, and through Poisson arrivals piecewise constant in
spend: a gradient method probing at 1e-8 sees flat steps, and even with common random numbers two
allocations differ by the realised values of the few *marginal* customers, whose spread (a
heavy-tailed customer value) swamps the differences a local search needs. Two methods:

- ``"surrogate"`` (default): a sequential trust-region method on a smoothed objective. Around the
  current allocation, :class:`analysis.budget.surrogate.LocalModel` predicts every allocation from the
  known response curves times simulated customer values per channel, plus a simulated slope per
  policy lever (one common-random-numbers probe each). The model is smooth and concave in channel
  spend, so scipy's **SLSQP** solves it exactly, with the equality ``sum(x) = budget`` and the bounds
  (intersected with a trust region) as constraints and LTV/CAC as an inequality. The proposal is
  then *simulated*; it is accepted only if it beats the current allocation on the same seeds;
  otherwise the trust region halves. About ``1 + policy levers`` evaluations a round.
- ``"cobyla"``: plain derivative-free search on the simulated objective. COBYLA (Powell; scipy's
  PRIMA implementation) builds linear models from points a trust radius apart and never probes below
  ``tol`` (2% of each lever's range), where the steps and noise live; it takes the box and the LTV/CAC
  floor as constraints. It moves in ``y``, coordinates of the budget hyperplane: each free lever
  scaled to its range (``x = lo + d * z``) and ``z = z0 + V y`` with ``V`` an orthonormal basis of the
  null space of ``d``, so the sum is fixed by construction. Kept for comparison: it needs about
  2.5 times the evaluations on the default preset and stalls where differences are small against
  the noise (docs/budget.md).

Either way, every proposed point is projected exactly onto ``{lo <= x <= hi, sum(x) = budget}``
(:func:`analysis.budget.levers.project_allocation`) before it is simulated, the recommendation is the
best *simulated* allocation (ties: the first), and ``min_ltv_cac`` is a constraint, not a penalty:
only allocations whose mean LTV/CAC meets it may be recommended; if none does, the one with the
highest LTV/CAC is returned and the trace says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analysis.budget.evaluate import Evaluator, setting_for
from analysis.budget.levers import RISK_OBJECTIVES, Lever, project_allocation, risk_value

__all__ = ["optimise", "Trial", "Trace", "objective_value", "METHODS", "RHOBEG", "TOL"]

METHODS = ("surrogate", "cobyla")
#: first and last trust radius, as a share of each lever's range
RHOBEG = 0.25
TOL = 0.02


def objective_value(reps: list[dict], objective: str) -> float:
    """Mean of a metric over replications (an undefined LTV/CAC counts as 0); for a risk objective
    the 10th percentile or the worst-10% mean of raw profit over them."""
    if objective in RISK_OBJECTIVES:
        return float(risk_value(np.array([r["profit_raw"] for r in reps]), objective))
    return float(np.mean([r[objective] if math.isfinite(r[objective]) else 0.0 for r in reps]))


@dataclass(frozen=True)
class Trial:
    """One allocation evaluated on the optimisation seeds (``predicted``: the surrogate's forecast)."""

    index: int
    allocation: tuple[float, ...]
    objective: float
    ltv_cac: float
    profit: float
    feasible: bool
    predicted: float | None = None


@dataclass
class Trace:
    """All trials of one optimisation, the chosen allocation and how the search ended."""

    budget: float
    method: str = "surrogate"
    trials: list[Trial] = field(default_factory=list)
    best: Trial | None = None
    constraint_met: bool = True
    message: str = ""
    evaluations: int = 0  # allocations and probes simulated (each on every optimisation seed)
    model: object = None  # the surrogate where the search stopped (it warm-starts a neighbouring budget)


class _Search:
    """Shared bookkeeping: simulate feasible allocations once each, record them as trials."""

    def __init__(self, evaluator, levers, budget, objective, min_ltv_cac, trace):
        self.ev, self.levers, self.budget, self.objective = evaluator, levers, budget, objective
        self.min_ltv_cac, self.trace = min_ltv_cac, trace
        self.lo = np.array([lv.lo for lv in levers])
        self.hi = np.array([lv.hi for lv in levers])
        self.seen: dict[tuple, tuple[Trial, list[dict]]] = {}

    def run(self, points, predicted=None) -> list[tuple[Trial, list[dict]]]:
        xs = [project_allocation(p, self.budget, self.lo, self.hi) for p in points]
        todo = [x for x in xs if tuple(np.round(x, 9)) not in self.seen]
        reps = self.ev.evaluate_many([setting_for(self.levers, x) for x in todo], "opt") if todo else []
        self.trace.evaluations += len(todo)
        for x, r in zip(todo, reps):
            key = tuple(np.round(x, 9))
            if key in self.seen:
                continue
            ratio = objective_value(r, "ltv_cac")
            ok = self.min_ltv_cac is None or ratio >= self.min_ltv_cac
            t = Trial(len(self.trace.trials), tuple(float(v) for v in x), objective_value(r, self.objective),
                      ratio, objective_value(r, "profit"), ok, predicted)
            self.trace.trials.append(t)
            self.seen[key] = (t, r)
        return [self.seen[tuple(np.round(x, 9))] for x in xs]

    def best(self) -> Trial:
        feasible = [t for t in self.trace.trials if t.feasible]
        if feasible:
            return max(feasible, key=lambda t: (t.objective, -t.index))
        return max(self.trace.trials, key=lambda t: (t.ltv_cac, -t.index))

    @staticmethod
    def merit(t: Trial) -> tuple:
        return (t.feasible, t.objective if t.feasible else t.ltv_cac)


def optimise(evaluator: Evaluator, levers: list[Lever], budget: float, objective: str, *,
             starts: list[np.ndarray], min_ltv_cac: float | None = None, max_evaluations: int = 40,
             method: str = "surrogate", tol: float = TOL, warm_start=None) -> Trace:
    """Best allocation of ``budget`` over ``levers`` for ``objective`` (see the module docstring).

    ``max_evaluations`` bounds the allocations and probes simulated (each on every optimisation seed).
    ``warm_start``: a :class:`~analysis.budget.surrogate.LocalModel` (``Trace.model`` of a
    neighbouring budget) whose policy slopes the surrogate starts from, measured again where it stops.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got '{method}'")
    trace = Trace(budget=float(budget), method=method)
    search = _Search(evaluator, levers, budget, objective, min_ltv_cac, trace)
    search.run(starts)
    free = np.flatnonzero(search.hi - search.lo > 1e-9 * max(1.0, budget))
    if free.size < 2:
        trace.message = "the bounds leave at most one lever free: the allocation is determined"
    elif method == "surrogate":
        _surrogate(search, free, max_evaluations, tol, model=warm_start)
    else:
        _cobyla(search, free, max_evaluations, tol)
    trace.best = search.best()
    trace.constraint_met = trace.best.feasible
    return trace


def _surrogate(search: _Search, free: np.ndarray, max_evaluations: int, tol: float,
               model=None) -> None:
    """The trust-region loop; ``model`` (e.g. the optimum of a neighbouring budget) lends its policy
    slopes to the first round instead of probing them anew."""
    from analysis.budget.surrogate import fit_local_model

    trace, lo, hi = search.trace, search.lo, search.hi
    width = hi - lo
    current = search.best()
    x = np.array(current.allocation)
    reps = search.seen[tuple(np.round(x, 9))][1]
    warm = model is not None
    model, n_probes = fit_local_model(search.ev, search.levers, x, reps, previous=model, probe_policies=not warm)
    trace.evaluations += n_probes
    fresh = not warm or not _has_policies(search)  # the policy slopes were measured at x
    radius, rounds, why = 0.5, 0, "evaluation budget reached"
    while trace.evaluations < max_evaluations:
        rounds += 1
        lo_tr = np.maximum(lo, x - radius * width)
        hi_tr = np.minimum(hi, x + radius * width)
        proposal = _solve(model, search, lo_tr, hi_tr)
        stop = None
        if np.max(np.abs(proposal - x)[free] / width[free]) <= tol:
            stop = "converged: the surrogate's optimum is the current allocation"
        if stop is None:
            predicted = model.predict(proposal)
            pred = predicted[search.objective]
            trial, new_reps = search.run([proposal], predicted=pred)[0]
            if search.merit(trial) > search.merit(current):
                current, x, reps = trial, np.array(trial.allocation), new_reps
                # channel values from the new allocation's own runs; policy slopes carried over
                model, _ = fit_local_model(search.ev, search.levers, x, reps, previous=model, probe_policies=False)
                fresh = not _has_policies(search)
                continue
            radius /= 2
            if radius < tol:
                stop = "converged: no improvement within a trust region of the final size"
        if stop is not None:
            if fresh or trace.evaluations >= max_evaluations:
                why = stop
                break
            # the slopes were measured elsewhere: measure them here, then look again
            model, n_probes = fit_local_model(search.ev, search.levers, x, reps, previous=model)
            trace.evaluations += n_probes
            fresh, radius = True, max(radius, 4 * tol)
    trace.message = f"SLSQP on the simulated surrogate, {rounds} round(s): {why}"
    trace.model = model


def _has_policies(search: _Search) -> bool:
    return any(lv.kind == "policy" and lv.hi > lv.lo for lv in search.levers)


def _solve(model, search: _Search, lo_tr: np.ndarray, hi_tr: np.ndarray) -> np.ndarray:
    """Maximise the surrogate with SLSQP: sum = budget, bounds, LTV/CAC floor (variables scaled by the budget)."""
    from scipy.optimize import minimize

    budget, objective, target = search.budget, search.objective, search.min_ltv_cac
    scale_x = max(budget, 1.0)
    base = model.predict(model.x)
    scale_f = {"customers": max(1.0, abs(base["customers"])),
               "ltv_cac": max(1e-9, abs(base["ltv_cac"]))}.get(objective, max(1.0, budget * model.days))

    def f(u):
        return -model.predict(u * scale_x)[objective] / scale_f

    cons = [{"type": "eq", "fun": lambda u: (u.sum() * scale_x - budget) / scale_x, "jac": lambda u: np.ones_like(u)}]
    if target is not None:
        spend_scale = max(1.0, base["spend"])
        cons.append({"type": "ineq", "fun": lambda u: (lambda p: (p["acquired_value"] - target * p["spend"]) / spend_scale)(
            model.predict(u * scale_x))})
    res = minimize(f, model.x / scale_x, method="SLSQP", bounds=list(zip(lo_tr / scale_x, hi_tr / scale_x)),
                   constraints=cons, options={"ftol": 1e-12, "maxiter": 300})
    x = np.clip(res.x * scale_x, lo_tr, hi_tr)
    snap = 1e-7 * scale_x  # SLSQP stops a hair inside a bound: put levers it drove there exactly on it
    x = np.where(x - lo_tr < snap, lo_tr, np.where(hi_tr - x < snap, hi_tr, x))
    return project_allocation(x, budget, lo_tr, hi_tr)


def _cobyla(search: _Search, free: np.ndarray, max_evaluations: int, tol: float) -> None:
    from scipy.linalg import null_space
    from scipy.optimize import LinearConstraint, NonlinearConstraint, minimize

    trace, budget, lo, hi = search.trace, search.budget, search.lo, search.hi
    d = (hi - lo)[free]
    V = null_space(d[None, :])  # orthonormal; keeps d . z (the spend on free levers) fixed
    ref = trace.trials[0].objective
    days = search.ev.days
    scale = {"customers": max(1.0, abs(ref)), "ltv_cac": max(1e-9, abs(ref))}
    start = np.array(search.best().allocation)
    # start halfway between the best start and the centre (every free lever at the same share of its
    # range): strictly inside the box, so COBYLA's first simplex is not cut by the bounds
    z0 = 0.5 * ((start[free] - lo[free]) / d + (budget - lo.sum()) / d.sum())
    x0 = start.copy()
    x0[free] = lo[free] + d * z0
    rho = min(RHOBEG, max(float(np.min(np.minimum(z0, 1.0 - z0))), 2 * tol))

    def point(y):
        x = x0.copy()
        x[free] = lo[free] + d * (z0 + V @ y)
        return x

    def f(y):
        return -(search.run([point(y)])[0][0].objective - ref) / scale.get(search.objective, max(1.0, budget * days))

    cons = [LinearConstraint(V, -z0, 1.0 - z0)]
    if search.min_ltv_cac is not None:
        cons.append(NonlinearConstraint(lambda y: search.run([point(y)])[0][0].ltv_cac / search.min_ltv_cac - 1.0,
                                        0.0, np.inf))
    left = max(max_evaluations - trace.evaluations, free.size + 1)
    res = minimize(f, np.zeros(free.size - 1), method="COBYLA", constraints=cons,
                   options={"rhobeg": rho, "tol": tol, "maxiter": left})
    trace.message = f"COBYLA: {res.message}"
