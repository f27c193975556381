"""Budget levers: what a day's money can buy in a scenario, the bounds on each, exact feasibility.

Core objects:

- :class:`BudgetConfig`: the optional ``[budget]`` table of a scenario (``total`` per day,
  ``[[budget.levers]]`` with ``name`` and optional ``min``, ``max``, ``pacing``; ``objective``,
  ``min_ltv_cac``).
- :class:`LeverRequest`: a lever named by the scenario (or the default set), checked against it.
- :class:`Lever`: a lever with its final bounds, its current spend and, for a policy, its
  full-coverage cost; :meth:`Lever.coverage` is the spend -> coverage mapping.
- :func:`project_allocation`: the Euclidean projection onto ``{lo <= x <= hi, sum(x) = budget}``,
  made exact to float precision; a deterministic pure function (style rule 25).

A lever is either an acquisition **channel** (its daily spend, turned into customers by the
channel's response curve ``saturation * (1 - exp(-s / (saturation * cac)))``) or a retention
**policy** (its daily spend buys coverage). The policy mapping: the policy's full-coverage daily
cost ``C`` is measured once by simulation (every lever policy at coverage 1, channels at their
current spend); a daily budget ``x`` buys coverage ``min(1, x / C)``. This assumes a policy's cost
is linear in its coverage, which holds to first order because coverage reaches a fixed random share
of the policy's targeted customers (``tests/sim/test_budget.py`` checks it), and that ``C`` does
not move with the acquisition spend (more customers make a policy cost more; the realised cost of
every evaluated allocation is reported beside its nominal spend, and profit uses realised costs).
A policy lever's upper bound is therefore at most ``C``: money beyond full coverage buys nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scenarios.designs import BudgetConfig, LeverConfig
from scenarios.errors import ConfigError
from sim.acquisition import expected_customers

__all__ = [
    "BudgetConfig", "LeverConfig", "LeverRequest", "Lever", "OBJECTIVES", "RISK_OBJECTIVES", "risk_value", "read_budget_config",
    "request_levers", "resolve_lever", "build_levers", "project_allocation", "equal_split", "pacing_weights",
]  # fmt: skip

OBJECTIVES = ("profit", "ltv_cac", "customers", "profit_p10", "profit_cvar10")
#: objectives about the spread of simulated profit, not its mean: the 10th percentile of profit over
#: simulated years, and the mean of the worst 10% of them (CVaR); both judged on raw (unsmoothed) profit
RISK_OBJECTIVES = {"profit_p10": 0.1, "profit_cvar10": 0.1}


def risk_value(raw_profit, objective: str):
    """A risk objective of raw profit over simulated years (the last axis): its 10th percentile, or
    the mean of its worst 10%."""
    from analysis.estimate import tail_mean

    share = RISK_OBJECTIVES[objective]
    return np.quantile(raw_profit, share, axis=-1) if objective == "profit_p10" else tail_mean(raw_profit, share)


def read_budget_config(scenario) -> BudgetConfig:
    """The scenario's ``[budget]`` table (validated with the file; an empty config if there is none)."""
    return scenario.config.budget or BudgetConfig()


@dataclass(frozen=True)
class LeverRequest:
    """A lever as requested, checked against the scenario (bounds not yet final)."""

    name: str  # display name, unique in the scenario
    kind: str  # "channel" | "policy"
    target: str  # the channel's or policy's own name
    min: float
    max: float | None
    pacing: tuple[float, ...] | None
    explicit: bool  # named in [budget].levers (not the default set)


@dataclass(frozen=True)
class Lever:
    """A budget lever with its final daily bounds ``lo <= x <= hi``."""

    name: str
    kind: str
    target: str
    lo: float
    hi: float
    current: float  # the scenario's own daily spend on it
    full_cost: float | None = None  # policies: daily cost at coverage 1
    cac: float | None = None  # channels: response curve
    saturation: float | None = None
    pacing: tuple[float, ...] | None = None

    def coverage(self, spend: float) -> float:
        """Policy coverage bought by a daily ``spend``: ``min(1, spend / full_cost)``."""
        if self.kind != "policy":
            raise ValueError(f"lever '{self.name}' is a channel; it has no coverage")
        return float(min(1.0, max(0.0, spend) / self.full_cost))

    def expected_customers(self, spend: float) -> float:
        """Channels: expected customers a day at a daily ``spend`` (the response curve)."""
        return float(expected_customers(spend, self.saturation, self.cac))


def _number(value, what: str, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if value is None or not math.isfinite(value):
        raise ConfigError(f"{what} must be a finite number; got {value}")
    if value < 0:
        raise ConfigError(f"{what} must be >= 0 (money per day); got {value:g}")


def _names(scenario) -> tuple[list[str], list[str]]:
    return [c.name for c in scenario.config.channels], [p.name for p in scenario.policies]


def display_names(scenario) -> dict[tuple[str, str], str]:
    """(kind, name) -> lever name; names used by both a channel and a policy are qualified."""
    channels, policies = _names(scenario)
    both = set(channels) & set(policies)
    out = {("channel", c): (f"channel:{c}" if c in both else c) for c in channels}
    out.update({("policy", p): (f"policy:{p}" if p in both else p) for p in policies})
    return out


def _resolve(scenario, name: str, where: str) -> tuple[str, str]:
    channels, policies = _names(scenario)
    if name.startswith("channel:") and name[8:] in channels:
        return "channel", name[8:]
    if name.startswith("policy:") and name[7:] in policies:
        return "policy", name[7:]
    if name in channels and name in policies:
        raise ConfigError(f"{where}: '{name}' is both a channel and a policy; write 'channel:{name}' or 'policy:{name}'")
    if name in channels:
        return "channel", name
    if name in policies:
        return "policy", name
    known = ", ".join(sorted(display_names(scenario).values()))
    raise ConfigError(f"{where}: unknown lever '{name}'; the levers are the channels and policies: {known}")


def resolve_lever(scenario, name: str, where: str) -> tuple[str, str]:
    """``(kind, target)`` of a lever named ``name`` (``channel:x`` / ``policy:x`` where both exist);
    a :class:`ConfigError` naming ``where`` and the levers there are otherwise."""
    return _resolve(scenario, name, where)


def _check_curve(scenario, channel: str, where: str) -> None:
    """A channel lever needs an increasing response curve (finite cac > 0, finite saturation > 0)."""
    c = next(ch for ch in scenario.config.channels if ch.name == channel)
    for field in ("cac", "saturation"):
        v = getattr(c, field)
        if not (math.isfinite(v) and v > 0):
            raise ConfigError(
                f"{where}: channel '{channel}' has {field} = {v}; its response curve "
                f"saturation * (1 - exp(-spend / (saturation * cac))) is not increasing in spend, so spend "
                f"on it cannot be optimised (cac and saturation must be finite and > 0)"
            )
    slope0 = 1.0 / c.cac  # d customers / d spend at zero spend
    if not slope0 > 0 or expected_customers(c.cac, c.saturation, c.cac) <= 0:
        raise ConfigError(f"{where}: channel '{channel}': the response curve is flat (cac = {c.cac}, "
                          f"saturation = {c.saturation}); spend on it buys no customers")


def request_levers(scenario, config: BudgetConfig, days: int) -> list[LeverRequest]:
    """The levers of the budget question, checked against the scenario (names, bounds, pacing).

    With no ``levers`` in ``[budget]`` the default set is every channel with a positive daily spend
    and every policy (policies that turn out to cost nothing are dropped once costs are measured).
    """
    src = scenario.source
    names = display_names(scenario)
    out: list[LeverRequest] = []
    if config.levers is None:
        for c in scenario.config.channels:
            if c.daily_spend > 0:
                _check_curve(scenario, c.name, f"{src}: channel '{c.name}'")
                out.append(LeverRequest(names[("channel", c.name)], "channel", c.name, 0.0, None, None, False))
        for p in scenario.policies:
            out.append(LeverRequest(names[("policy", p.name)], "policy", p.name, 0.0, None, None, False))
        return out
    seen: dict[tuple[str, str], int] = {}
    for i, lc in enumerate(config.levers):
        where = f"{src}: budget.levers[{i}]"
        kind, target = _resolve(scenario, lc.name, f"{where}.name")
        if (kind, target) in seen:
            raise ConfigError(f"{where}.name: lever '{lc.name}' is listed twice (also budget.levers[{seen[kind, target]}])")
        seen[kind, target] = i
        _number(lc.min, f"{where}.min ('{lc.name}')")
        _number(lc.max, f"{where}.max ('{lc.name}')")
        lo = 0.0 if lc.min is None else float(lc.min)
        if lc.max is not None and lo > lc.max:
            raise ConfigError(f"{where}: lever '{lc.name}' has min {lo:g} > max {lc.max:g}")
        pacing = None
        if lc.pacing != "even":
            if kind != "channel":
                raise ConfigError(f"{where}.pacing: pacing applies to channel levers only; policy '{target}' "
                                  f"reaches a fixed share of customers for the whole run")
            pacing = pacing_weights(lc.pacing, days, f"{where}.pacing")
        if kind == "channel":
            _check_curve(scenario, target, where)
        out.append(LeverRequest(names[(kind, target)], kind, target, lo,
                                None if lc.max is None else float(lc.max), pacing, True))
    if not out:
        raise ConfigError(f"{src}: budget.levers is empty; name at least one channel or policy")
    return out


def pacing_weights(weights, days: int, where: str = "pacing") -> tuple[float, ...]:
    """Relative spend per equal block of the horizon, normalised to mean 1."""
    w = [float(x) for x in weights]
    if not w:
        raise ConfigError(f"{where}: give at least one weight, e.g. [2, 1, 1] (front-loaded) or 'even'")
    if any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
        raise ConfigError(f"{where}: weights must be finite, >= 0 and not all 0; got {w}")
    if len(w) > days:
        raise ConfigError(f"{where}: {len(w)} blocks for a {days}-day horizon; at most one block a day")
    mean = sum(w) / len(w)
    return tuple(x / mean for x in w)


def daily_profile(pacing: tuple[float, ...] | None, days: int) -> np.ndarray:
    """Multiplier of the mean daily spend on each day (blocks of equal length; mean ~1)."""
    if pacing is None:
        return np.ones(days)
    block = np.minimum((np.arange(days) * len(pacing)) // days, len(pacing) - 1)
    prof = np.asarray(pacing)[block]
    return prof * (days / prof.sum())  # exact mean 1 over the horizon despite unequal blocks


def build_levers(scenario, requests: list[LeverRequest], full_costs: dict[str, float], budget: float) -> list[Lever]:
    """Final levers: bounds (policies capped at full coverage), current spend; feasibility checked.

    Raises :class:`ConfigError` when the budget is negative, a policy lever costs nothing, a minimum
    exceeds what full coverage costs, or the bounds cannot meet the budget exactly.
    """
    _number(budget, "the budget (--budget or [budget].total, per day)", allow_none=False)
    src = scenario.source
    channels = {c.name: c for c in scenario.config.channels}
    policies = {p.name: p for p in scenario.policies}
    levers = []
    for r in requests:
        if r.kind == "channel":
            c = channels[r.target]
            hi = max(budget, r.min) if r.max is None else r.max  # no lever can take more than the budget
            levers.append(Lever(r.name, "channel", r.target, r.min, hi, float(c.daily_spend), None,
                                float(c.cac), float(c.saturation), r.pacing))
            continue
        cost = float(full_costs.get(r.target, 0.0))
        if not cost > 0:
            if r.explicit:
                raise ConfigError(
                    f"{src}: budget lever '{r.name}': the policy cost nothing at full coverage over the horizon "
                    f"(measured by simulation), so spend cannot buy anything there; remove it from budget.levers"
                )
            continue
        if r.min > cost * (1 + 1e-9):
            raise ConfigError(
                f"{src}: budget lever '{r.name}': min {r.min:,.2f}/day exceeds its full-coverage cost "
                f"{cost:,.2f}/day (measured by simulation); spend beyond full coverage buys nothing"
            )
        hi = cost if r.max is None else min(r.max, cost)
        cov = float(policies[r.target].params.coverage)
        levers.append(Lever(r.name, "policy", r.target, r.min, max(hi, r.min), cov * cost, cost))
    if not levers:
        raise ConfigError(f"{src}: no budget levers: no channel has a daily spend and no policy has a cost")
    lo_sum = math.fsum(lv.lo for lv in levers)
    hi_sum = math.fsum(lv.hi for lv in levers)
    if lo_sum > budget * (1 + 1e-12):
        parts = ", ".join(f"{lv.name} (min {lv.lo:,.2f})" for lv in levers if lv.lo > 0)
        raise ConfigError(f"{src}: infeasible budget: the lever minimums {parts} add up to {lo_sum:,.2f}/day, "
                          f"more than the budget {budget:,.2f}/day; lower a minimum or raise the budget")
    if hi_sum < budget * (1 - 1e-12):
        parts = ", ".join(
            f"{lv.name} (max {lv.hi:,.2f}" + (", its full-coverage cost)" if lv.kind == "policy" and lv.hi == lv.full_cost else ")")
            for lv in levers
        )
        raise ConfigError(f"{src}: infeasible budget: the lever maximums {parts} add up to {hi_sum:,.2f}/day, "
                          f"less than the budget {budget:,.2f}/day; raise a maximum, add a lever or lower the budget")
    return levers


def project_allocation(x, budget: float, lo, hi) -> np.ndarray:
    """The allocation nearest to ``x`` (Euclidean) with ``lo <= a <= hi`` and ``sum(a) == budget``.

    The projection is ``clip(x - tau, lo, hi)`` for the one shift ``tau`` that meets the budget,
    found exactly on the piecewise-linear sum; the last float rounding is then moved onto the lever
    with the most room (ties: the first), so ``math.fsum(a)`` equals ``budget`` to float precision.
    A deterministic pure function.

    Raises
    ------
    ConfigError
        If the bounds cannot meet the budget (``sum(lo) > budget`` or ``sum(hi) < budget``), a bound
        is inverted, or an input is not finite.
    """
    x = np.asarray(x, dtype=float)
    lo = np.broadcast_to(np.asarray(lo, dtype=float), x.shape).copy()
    hi = np.broadcast_to(np.asarray(hi, dtype=float), x.shape).copy()
    b = float(budget)
    if x.ndim != 1 or x.size == 0:
        raise ConfigError("an allocation needs at least one lever")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and math.isfinite(b)):
        raise ConfigError("allocation, bounds and budget must be finite numbers")
    if np.any(lo > hi):
        k = int(np.flatnonzero(lo > hi)[0])
        raise ConfigError(f"lever {k}: min {lo[k]:g} > max {hi[k]:g}")
    lo_sum, hi_sum = math.fsum(lo), math.fsum(hi)
    tol = 1e-12 * max(1.0, abs(b))
    if lo_sum > b + tol or hi_sum < b - tol:
        raise ConfigError(f"infeasible: bounds allow {lo_sum:g} to {hi_sum:g} per day, budget is {b:g}")
    if b <= lo_sum:
        return lo
    if b >= hi_sum:
        return hi
    # sum(clip(x - tau)) falls from sum(hi) to sum(lo) as tau rises; find where it equals b
    knots = np.unique(np.concatenate([x - hi, x - lo]))
    sums = np.array([math.fsum(np.clip(x - t, lo, hi)) for t in knots])
    j = int(np.searchsorted(-sums, -b, side="left"))  # first knot with sum <= b
    if j >= knots.size:  # rounding in x - tau left every sum a hair above b: b is sum(lo) to float precision
        a = lo.copy()
    elif j == 0 or sums[j] == b:
        a = np.clip(x - knots[j], lo, hi)
    else:  # the sum is linear between two knots: interpolate exactly
        t0, t1, s0, s1 = knots[j - 1], knots[j], sums[j - 1], sums[j]
        a = np.clip(x - (t0 + (s0 - b) * (t1 - t0) / (s0 - s1)), lo, hi)
    return _exact_sum(a, b, lo, hi)


def _exact_sum(a: np.ndarray, b: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Move the float residual ``b - fsum(a)`` onto the lever with the most room (stable ties)."""
    for _ in range(4):
        r = b - math.fsum(a)
        if r == 0.0:
            break
        room = hi - a if r > 0 else a - lo
        k = int(np.argmax(room))  # argmax returns the first of equal maxima
        if room[k] <= 0:
            break
        a[k] = min(hi[k], max(lo[k], a[k] + r))
    return a


def equal_split(levers: list[Lever], budget: float) -> np.ndarray:
    """The budget split equally over the levers, as equal as their bounds allow (the projection)."""
    n = len(levers)
    lo = np.array([lv.lo for lv in levers])
    hi = np.array([lv.hi for lv in levers])
    return project_allocation(np.full(n, budget / n), budget, lo, hi)
