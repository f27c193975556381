"""Exact answers for Markov scenarios: the closed form the simulation must converge to.

Core objects: :func:`markov_chain` (a scenario's daily transition matrix ``P``, per-stage expected
daily margin ``R``, start distribution and daily discount factor) and :func:`analytic_summary`
(expected stage occupancy over time and expected discounted value per starting stage, finite and
infinite horizon; Pfeifer & Carraway, 2000), using :mod:`analysis.markov`; :func:`analytic`
adds a simulation of the same scenario beside the closed form.

A scenario is Markov when customers move only by latent churn and constant daily probabilities,
every customer has the same constant traits, and nothing else (policies, acquisition, dropout
after purchases, order noise that matters for the mean aside) changes them. The day's order in
the simulation is: churn with probability ``h``; otherwise a purchase with probability
``1 - exp(-rate)`` and, with a fresh draw, one probability rule. Hence, for stage ``s``:
``P[s, churn] = h_s``, ``P[s, t] = (1 - h_s) p_st``, ``P[s, s] = (1 - h_s)(1 - sum_t p_st)``, and
``R[s] = (1 - h_s)(1 - exp(-rate_s)) * basket_s * margin``.

References
----------
Pfeifer, P. E. and Carraway, R. L. (2000). Modeling customer relationships as Markov chains.
Journal of Interactive Marketing 14(2), 43-55.
"""

from __future__ import annotations

import math

import numpy as np

from analysis.markov import discounted_value, expected_occupancy
from scenarios.schema import ConstantDist
from scenarios.errors import ConfigError
from scenarios.fields import MAX_DAYS
from sim.stages import StageGraph

__all__ = ["MarkovChain", "markov_chain", "analytic_summary", "analytic"]


class MarkovChain:
    """Daily transition matrix, expected daily margin per stage, start and discount factor."""

    def __init__(self, P: np.ndarray, R: np.ndarray, start: np.ndarray, discount: float, stages: list[str]) -> None:
        self.P, self.R, self.start, self.discount, self.stages = P, R, start, discount, stages


def _not_markov(scenario) -> list[str]:
    cfg = scenario.config
    graph = StageGraph(cfg)
    why = []
    if graph.event_rules:
        why.append("it has event rules (moves triggered by purchases)")
    if graph.time_rules:
        why.append("it has time rules (moves after a number of days)")
    if graph.policy_edges:
        why.append("it has policy-driven transitions")
    if scenario.policies:
        why.append("it has policies")
    if any(c.daily_spend > 0 for c in cfg.channels):
        why.append("it acquires customers during the run")
    c = cfg.customers
    for name in ("purchase_rate", "basket_value", "churn_hazard"):
        if not isinstance(getattr(c, name), ConstantDist):
            why.append(f"customers.{name} varies across customers (use distribution = 'constant')")
    if not (isinstance(c.dropout_after_purchase, ConstantDist) and c.dropout_after_purchase.value == 0):
        why.append("customers.dropout_after_purchase is not zero (churn would depend on purchases)")
    return why


def markov_chain(scenario) -> MarkovChain:
    """The scenario as a Markov chain; ConfigError naming every reason if it is not one."""
    why = _not_markov(scenario)
    if why:
        raise ConfigError(f"{scenario.source}: no closed form, because " + "; ".join(why))
    cfg = scenario.config
    g = StageGraph(cfg)
    S = len(g)
    c = cfg.customers
    rate, basket, hazard = c.purchase_rate.value, c.basket_value.value, c.churn_hazard.value
    P = np.zeros((S, S))
    R = np.zeros(S)
    for s in range(S):
        if g.churned[s]:
            h = 0.0
        else:
            h = min(1.0, hazard * float(g.churn_mult[s])) if g.can_churn[s] else 0.0
            R[s] = (1 - h) * -math.expm1(-rate * float(g.purchase_mult[s])) * basket * float(g.basket_mult[s]) * c.gross_margin
        if h > 0:
            P[s, g.churn_target[s]] += h
        stay = 1.0 - h
        for a, b, p in g.prob_rules:
            if a == s:
                P[s, b] += (1 - h) * p
                stay -= (1 - h) * p
        P[s, s] += stay
    start = np.zeros(S)
    start[g.index[cfg.population.initial_stage]] = 1.0
    discount = (1.0 + cfg.run.annual_discount_rate) ** (-1.0 / 365.0)
    return MarkovChain(P, R, start, discount, list(g.names))


def analytic_summary(scenario, horizon: int | None = None) -> dict:
    """Expected occupancy by day and discounted value per customer, exactly.

    ``occupancy[t]`` is the expected share of customers in each stage at the end of day ``t``
    (after that day's moves), comparable with the simulation's daily stage counts.
    """
    chain = markov_chain(scenario)
    H = scenario.config.run.days if horizon is None else int(horizon)
    if not 1 <= H <= MAX_DAYS:
        raise ConfigError(f"horizon must be 1 to {MAX_DAYS:,} days; got {H:,}")
    occ = expected_occupancy(chain.P, chain.start, H)  # rows: start of day 0 .. start of day H
    finite = discounted_value(chain.P, chain.R, chain.discount, horizon=H)
    infinite = discounted_value(chain.P, chain.R, chain.discount) if chain.discount < 1 else None
    return {
        "scenario": scenario.name,
        "stages": chain.stages,
        "horizon_days": H,
        "daily_discount_factor": chain.discount,
        "transition_matrix": chain.P.tolist(),
        "daily_margin_by_stage": chain.R.tolist(),
        "occupancy_end_of_day": {name: occ[1:, k].tolist() for k, name in enumerate(chain.stages)},
        "value_by_start_stage": {
            name: {"horizon": float(finite[k]), "infinite": None if infinite is None else float(infinite[k])}
            for k, name in enumerate(chain.stages)
        },
        "value_per_customer": float(chain.start @ finite),
    }


def analytic(scenario=None, horizon: int | None = None, *, simulate: bool = False, customers: int | None = None) -> dict:
    """:func:`analytic_summary` of ``scenario`` (default ``markov_value``), with a simulation beside it.

    With ``simulate`` the same scenario is simulated for the horizon with ``customers`` customers
    and its discounted value per customer (with standard error) and final occupancy are added
    under ``"simulation"``: the simulation must converge to the closed form.
    """
    from sim.model import CustomerModel
    from sim.scenario import Scenario, load_scenario

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or "markov_value")
    out = analytic_summary(sc, horizon)
    if simulate:
        res = CustomerModel(sc, customers=customers, days=out["horizon_days"], engine="vector").run()
        n = res.n_customers
        value = res.customers["value"]
        out["simulation"] = {
            "customers": n,
            "value_per_customer": float(value.mean()),
            "value_se": float(value.std(ddof=1) / n**0.5),
            "occupancy_final": {k: int(res.daily[f"stage:{k}"].iloc[-1]) / n for k in out["stages"]},
        }
    return out
