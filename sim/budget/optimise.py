"""Searching the allocations: COBYLA on the budget hyperplane, evaluated by simulation.

Core objects: :func:`optimise` (the best allocation of one budget), :class:`Trial` (one allocation
evaluated on the optimisation seeds) and :class:`Trace` (all trials, the chosen one, the solver's
exit message).

Why COBYLA, and in which space. The simulated objective is noisy and, through Poisson arrivals,
piecewise constant in spend, so gradients do not exist at the scale a gradient method probes them
(SLSQP's finite differences of 1e-8 see only flat steps). COBYLA (Powell's derivative-free trust
region method, scipy's PRIMA implementation) builds linear models from points a trust radius apart
and shrinks the radius from ``rhobeg`` to ``tol`` only: it never probes below ``tol`` (2% of each
lever's range by default), where the steps and noise live. It also takes linear and nonlinear
inequality constraints natively, which the bounds and the LTV/CAC floor are. Nelder-Mead and
Powell need box transforms and several times more evaluations in 6-8 dimensions; each evaluation
here is R full simulations, so evaluations are the currency.

The space: the equality ``sum(x) = budget`` is removed by construction. Each free lever is scaled to
its range, ``x = lo + d * z`` (``d = hi - lo``), and ``z = z0 + V y`` with ``V`` an orthonormal basis
of the directions that keep the sum fixed (the null space of ``d``). COBYLA moves ``y``; the
bounds ``0 <= z <= 1`` are linear constraints on ``y``; every point it proposes is projected
exactly onto the feasible set before it is simulated (:func:`sim.budget.levers.project_allocation`),
so every allocation simulated, and the one returned, spends the budget exactly within the bounds.

The recommendation is the best *evaluated* allocation (ties: the first evaluated), not COBYLA's
last iterate. ``min_ltv_cac`` is a constraint, not a penalty: COBYLA receives
``ltv_cac(x) / target - 1 >= 0`` (the mean over the optimisation seeds) and only allocations meeting
it may be recommended; if none does, the one with the highest LTV/CAC is returned, flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.budget.evaluate import Evaluator, setting_for
from sim.budget.levers import Lever, project_allocation

__all__ = ["optimise", "Trial", "Trace", "objective_value", "RHOBEG", "TOL"]

#: COBYLA's first and last trust radius, as a share of each lever's range
RHOBEG = 0.25
TOL = 0.02


def objective_value(reps: list[dict], objective: str) -> float:
    """Mean of the objective over replications (an undefined LTV/CAC counts as 0)."""
    vals = [r[objective] for r in reps]
    return float(np.mean([v if math.isfinite(v) else 0.0 for v in vals]))


def _mean(reps: list[dict], key: str) -> float:
    vals = [r[key] for r in reps]
    return float(np.mean([v if math.isfinite(v) else 0.0 for v in vals]))


@dataclass(frozen=True)
class Trial:
    """One allocation evaluated on the optimisation seeds."""

    index: int
    allocation: tuple[float, ...]
    objective: float
    ltv_cac: float
    profit: float
    feasible: bool


@dataclass
class Trace:
    """All trials of one optimisation, the chosen allocation and how the solver ended."""

    budget: float
    trials: list[Trial] = field(default_factory=list)
    best: Trial | None = None
    constraint_met: bool = True
    message: str = ""


def optimise(evaluator: Evaluator, levers: list[Lever], budget: float, objective: str, *,
             starts: list[np.ndarray], min_ltv_cac: float | None = None, max_evaluations: int = 60,
             rhobeg: float = RHOBEG, tol: float = TOL) -> Trace:
    """Best allocation of ``budget`` over ``levers`` for ``objective`` (see the module docstring)."""
    from scipy.linalg import null_space
    from scipy.optimize import LinearConstraint, NonlinearConstraint, minimize

    lo = np.array([lv.lo for lv in levers])
    hi = np.array([lv.hi for lv in levers])
    days = evaluator.days
    trace = Trace(budget=float(budget))
    seen: dict[tuple, Trial] = {}

    def run(points: list[np.ndarray]) -> list[Trial]:
        xs = [project_allocation(p, budget, lo, hi) for p in points]
        reps = evaluator.evaluate_many([setting_for(levers, x) for x in xs], "opt")
        out = []
        for x, r in zip(xs, reps):
            key = tuple(np.round(x, 9))
            if key not in seen:
                ratio = _mean(r, "ltv_cac")
                ok = min_ltv_cac is None or ratio >= min_ltv_cac
                seen[key] = Trial(len(trace.trials), tuple(float(v) for v in x), objective_value(r, objective),
                                  ratio, _mean(r, "profit"), ok)
                trace.trials.append(seen[key])
            out.append(seen[key])
        return out

    first = run(starts)
    x0 = np.array(max(first, key=lambda t: (t.objective, -t.index)).allocation)
    width = hi - lo
    free = np.flatnonzero(width > 1e-9 * max(1.0, budget))
    if free.size >= 2 and max_evaluations > len(trace.trials):
        d = width[free]
        z0 = (x0[free] - lo[free]) / d
        V = null_space(d[None, :])  # orthonormal, keeps d . z (the spend on free levers) fixed
        ref = trace.trials[0]
        scale = {"profit": max(1.0, budget * days), "customers": max(1.0, abs(ref.objective)),
                 "ltv_cac": max(1e-9, abs(ref.objective))}[objective]

        def point(y):
            x = x0.copy()
            x[free] = lo[free] + d * (z0 + V @ y)
            return x

        def f(y):
            return -(run([point(y)])[0].objective - ref.objective) / scale

        cons = [LinearConstraint(V, -z0, 1.0 - z0)]
        if min_ltv_cac is not None:
            cons.append(NonlinearConstraint(lambda y: run([point(y)])[0].ltv_cac / min_ltv_cac - 1.0, 0.0, np.inf))
        budget_left = max_evaluations - len(trace.trials)
        res = minimize(f, np.zeros(free.size - 1), method="COBYLA", constraints=cons,
                       options={"rhobeg": rhobeg, "tol": tol, "maxiter": max(budget_left, free.size + 1)})
        trace.message = str(res.message)
    else:
        trace.message = "the bounds leave at most one lever free: the allocation is determined"
    ok = [t for t in trace.trials if t.feasible]
    if ok:
        trace.best = max(ok, key=lambda t: (t.objective, -t.index))
    else:
        trace.constraint_met = False
        trace.best = max(trace.trials, key=lambda t: (t.ltv_cac, -t.index))
    return trace
