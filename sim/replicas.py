"""Several independent replications of one scenario held in one simulated world.

Core functions: :func:`scaled` (the scenario with room for ``R`` replicas) and :func:`replica_of`
(which replica a customer belongs to).

Why: most of a day's cost is fixed Python work (policies, booking, recording) that does not grow
with the number of customers, so ``R`` replications of a 10,000-customer scenario cost far less as
one world of ``R x 10,000`` customers than as ``R`` runs. The world holds ``R`` times the base and
``R`` times every channel's spend and saturation (a response curve ``sat * (1 - exp(-s / (sat *
cac)))`` scaled in both is ``R`` times the curve), and each customer falls into one replica by its
own draw, uniform over the replicas. Customers do not interact, so each replica is distributed as
a single run: Poisson arrivals split at random are independent Poisson arrivals. Two things cross
replicas, both population-level and both stated where used: a referred customer joins a replica by
its own draw, not its referrer's, and quantile-based segments (value tiers, RFM) are ranked over
the whole world, i.e. on a larger sample of the same distribution.
"""

from __future__ import annotations

import numpy as np

from sim.draws import uniforms

__all__ = ["scaled", "replica_of"]


def scaled(scenario, replicas: int):
    """The scenario with every channel's spend and saturation, and the base, times ``replicas``."""
    if replicas == 1:
        return scenario
    pop = scenario.config.population
    values = {}
    for ch in scenario.config.channels:
        values[f"channels.{ch.name}.daily_spend"] = ch.daily_spend * replicas
        values[f"channels.{ch.name}.saturation"] = ch.saturation * replicas
    values["population.initial_customers"] = pop.initial_customers * replicas
    if pop.arrival_schedule:
        values["population.arrival_schedule"] = [c * replicas for c in pop.arrival_schedule]
    return scenario.with_values(values, source=f"{scenario.source} x {replicas} replicas")


def replica_of(streams, uids: np.ndarray, replicas: int) -> np.ndarray:
    """Which replica each customer (by identity ``uids``) belongs to: its own draw, uniform over them."""
    if replicas == 1:
        return np.zeros(np.shape(uids), dtype=np.int64)
    u = uniforms(np.uint64(streams.assignment_key), uids, 0, 1)
    return np.minimum((u * replicas).astype(np.int64), replicas - 1)
