"""The structural surrogate: known response curves times simulated customer values, solved by SLSQP.

Core objects: :class:`LocalModel` (the surrogate around one allocation) and :func:`fit_local_model`.

What the simulation is and is not needed for. A channel's expected customers per day are known in
closed form (the response curve); what the simulation must supply is what those customers are
worth. So, from the runs at an allocation ``x`` (the optimisation seeds, pooled), the surrogate takes
each channel's mean net value (margin minus policy costs, over the horizon) and mean discounted value
per paid customer by acquisition day (in blocks holding about 20 customers), and predicts a
channel's contribution at another spend ``s'`` as ``sum_t (n(s'_t) - n(s_t)) * value(t)`` minus the
extra spend: smooth and concave in spend. Because every customer of this simulator draws its traits
independently of how many others arrived, a marginal customer is worth what an average one acquired
the same day is worth; the surrogate uses that average (thousands of customers) instead of the few
marginal customers' realised values, which is what makes it precise.

A policy lever's effect (on every customer, base and acquired) comes from a probe: the allocation
with that policy's spend moved by a quarter of its full-coverage cost, on the same seeds (common
random numbers), giving a slope per metric. Policies reach a fixed random share of customers, so
their effect is close to linear in coverage: slopes are measured once, carried along while the
search moves (the channel values are refreshed from every accepted allocation's own runs, at no
cost), and measured again where the search stops, which then goes on if they moved the optimum.

Predicted metrics: profit, customers, the discounted value of acquired customers ``A`` and the
acquisition spend ``S``; LTV/CAC is ``A / S`` (mean LTV over CAC = (A/N) / (S/N)).

Risk objectives (the 10th percentile of profit over simulated years, or the mean of the worst 10%)
need the spread of profit too. A channel's paid customers arrive as a Poisson number around the
response curve, each bringing a net value drawn independently, so their total is compound Poisson
with variance ``sum_t lambda(t) * E[v(t)^2]``; the rest of the spread (the base, policies, the luck
of the days) is what the runs at ``x`` show beyond that, held fixed. Profit is taken as normal in
the surrogate: ``p10 = mean - 1.2816 sd`` and ``CVaR10 = mean - 1.7550 sd``; every proposal is
then judged by simulation on the empirical quantile or tail of raw profit over the seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.acquisition import expected_customers
from analysis.budget.levers import Lever, daily_profile

__all__ = ["LocalModel", "fit_local_model", "channel_values", "policy_probe", "PROBE_SHARE"]

#: policy probe: the share of the policy's full-coverage cost its spend is moved by
PROBE_SHARE = 0.25
#: customers per block when averaging a channel's customer values by acquisition day
BLOCK_CUSTOMERS = 20
METRICS = ("profit", "customers", "acquired_value")


#: standard normal: the 10th percentile, and the mean below it (phi(z) / 0.1)
Z10, TAIL10 = 1.2815515655446004, 1.7549833193248680


def channel_values(reps: list[dict], channel: str, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Mean net value, discounted value and squared net value per paid customer of ``channel``, by
    acquisition day.

    Days are grouped into blocks holding about :data:`BLOCK_CUSTOMERS` customers (pooled over the
    seeds); a block without customers borrows from the nearest block with some. None if the channel
    brought no paid customer.
    """
    count = sum(r["paid_by_day"][channel][0] for r in reps)
    if count.sum() <= 0:
        return None
    net = sum(r["paid_by_day"][channel][1] for r in reps)
    disc = sum(r["paid_by_day"][channel][2] for r in reps)
    net2 = sum(r["paid_by_day"][channel][3] for r in reps)
    per_day = count.sum() / days
    width = int(min(days, max(1, math.ceil(BLOCK_CUSTOMERS / per_day))))
    block = np.arange(days) // width
    nb = int(block[-1]) + 1
    c_b = np.bincount(block, weights=count, minlength=nb)
    have = np.flatnonzero(c_b > 0)
    # nearest block with customers (ties: the earlier one)
    nearest = have[np.abs(have[None, :] - np.arange(nb)[:, None]).argmin(axis=1)]
    c_b = c_b[nearest]
    net_b = np.bincount(block, weights=net, minlength=nb)[nearest] / c_b
    disc_b = np.bincount(block, weights=disc, minlength=nb)[nearest] / c_b
    net2_b = np.bincount(block, weights=net2, minlength=nb)[nearest] / c_b
    return net_b[block], disc_b[block], net2_b[block]


def policy_probe(lever: Lever, x: float) -> float:
    """The spend a policy lever is probed at: a quarter of full coverage below ``x``, or above if no room."""
    step = PROBE_SHARE * lever.full_cost
    return x - step if x - step >= 0 else x + step


@dataclass(frozen=True)
class LocalModel:
    """The surrogate around allocation ``x``: base metrics, channel values, policy slopes."""

    levers: tuple[Lever, ...]
    x: np.ndarray
    days: int
    base: dict  # metric -> mean over the optimisation seeds at x (profit, customers, acquired_value, spend)
    values: dict  # channel lever index -> (net value, discounted value, squared net value) per customer by day
    slopes: dict  # policy lever index -> metric -> change per unit of daily spend
    spread: float = 0.0  # variance of raw profit at x beyond the paid channels' compound Poisson part

    def predict(self, x) -> dict[str, float]:
        """Predicted profit, customers, acquired value A, acquisition spend S and LTV/CAC at ``x``."""
        x = np.asarray(x, dtype=float)
        out = dict(self.base)
        var = self.spread
        for i, lv in enumerate(self.levers):
            dx = float(x[i] - self.x[i])
            if lv.kind == "channel":
                prof = daily_profile(lv.pacing, self.days)
                lam_new = expected_customers(max(x[i], 0.0) * prof, lv.saturation, lv.cac)
                lam_old = expected_customers(max(self.x[i], 0.0) * prof, lv.saturation, lv.cac)
                dn = lam_new - lam_old
                net, disc, net2 = self.values.get(i, (np.zeros(self.days),) * 3)
                var += float(lam_new @ net2)
                out["profit"] += float(dn @ net) - dx * self.days
                out["customers"] += float(dn.sum())
                out["acquired_value"] += float(dn @ disc)
                out["spend"] += dx * self.days
            elif i in self.slopes:
                for m in METRICS:
                    out[m] += self.slopes[i][m] * dx
        out["ltv_cac"] = out["acquired_value"] / out["spend"] if out["spend"] > 0 else 0.0
        sd = math.sqrt(max(var, 0.0))
        out["profit_sd"] = sd
        out["profit_p10"] = out["profit"] - Z10 * sd
        out["profit_cvar10"] = out["profit"] - TAIL10 * sd
        return out

    def compound_variance(self, x) -> float:
        """The paid channels' compound Poisson variance of profit at ``x``."""
        var = 0.0
        for i, lv in enumerate(self.levers):
            if lv.kind == "channel" and i in self.values:
                lam = expected_customers(max(float(x[i]), 0.0) * daily_profile(lv.pacing, self.days), lv.saturation, lv.cac)
                var += float(lam @ self.values[i][2])
        return var


def _means(reps: list[dict]) -> dict[str, float]:
    out = {m: float(np.mean([r[m] for r in reps])) for m in METRICS}
    out["spend"] = float(np.mean([r["acquisition_spend"] for r in reps]))
    return out


def fit_local_model(evaluator, levers: list[Lever], x: np.ndarray, reps: list[dict], *,
                    previous: LocalModel | None = None, probe_policies: bool = True) -> tuple[LocalModel, int]:
    """The surrogate at ``x`` from its runs ``reps`` plus one probe per policy lever (and per channel
    lever without customers at ``x``); returns the model and the number of probe evaluations.

    ``probe_policies=False`` (with a ``previous`` model) carries the previous policy slopes over
    instead of probing them again."""
    from analysis.budget.evaluate import setting_for

    days = evaluator.days
    base = _means(reps)
    values, probes, kinds = {}, [], []
    for i, lv in enumerate(levers):
        if lv.kind == "channel":
            v = channel_values(reps, lv.target, days)
            if v is not None:
                values[i] = v
            elif previous is not None and i in previous.values:
                values[i] = previous.values[i]
            else:  # no customer to learn from: probe with a little spend on this channel
                y = x.copy()
                y[i] = x[i] + max(0.05 * max(lv.hi, 1.0), 1.0)
                probes.append(y)
                kinds.append(("channel", i))
        elif lv.hi > lv.lo:
            if not probe_policies and previous is not None and i in previous.slopes:
                continue
            y = x.copy()
            y[i] = policy_probe(lv, x[i])
            probes.append(y)
            kinds.append(("policy", i))
    out = evaluator.evaluate_many([setting_for(levers, y) for y in probes], "opt") if probes else []
    slopes = {} if probe_policies or previous is None else dict(previous.slopes)
    for (kind, i), y, r in zip(kinds, probes, out):
        if kind == "channel":
            v = channel_values(r, levers[i].target, days)
            values[i] = v if v is not None else (np.zeros(days),) * 3
        else:
            m = _means(r)
            slopes[i] = {k: (m[k] - base[k]) / (y[i] - x[i]) for k in METRICS}
    model = LocalModel(tuple(levers), x.copy(), days, base, values, slopes)
    raw = np.array([r["profit_raw"] for r in reps])
    total = float(np.var(raw, ddof=1)) if raw.size >= 2 else 0.0
    spread = max(0.0, total - model.compound_variance(x))
    return LocalModel(tuple(levers), x.copy(), days, base, values, slopes, spread), len(probes)
