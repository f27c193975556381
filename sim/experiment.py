"""A/B experiments inside the simulation: arms, assignment, twin worlds, per-customer outcomes.

Core objects:

- :class:`~scenarios.designs.ExperimentDesign` (defined with the scenario schema): arms (each a
  set of scenario policies and a share; the first arm is the control), warm-up days before
  assignment, duration, optional stratification.
- :class:`Assignment`: the model hook that puts customers into arms: customers present at the end
  of the warm-up are assigned that morning (blocked within strata, so shares are exact up to
  rounding), customers arriving later are assigned on arrival (independently, by their shares).
  Assignment draws come from their own random stream, so they never shift customer draws.
- :func:`run_world`: one simulated world of the experiment; ``fixed_arm=k`` gives the twin world
  in which every customer gets arm ``k``: the same customers with the same random draws
  (common random numbers), which is the simulation's counterfactual truth.
- :class:`Outcomes`: one row per assigned customer (arm, strata, pre-period covariates, outcomes).

Policies of the scenario named by no arm run for everyone (the business as usual); a policy named
by an arm runs only for the customers of the arms that name it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.designs import ArmSpec, ExperimentDesign
from sim.draws import uniforms
from sim.replicas import replica_of, scaled
from sim.state import NONE, rows_on_day

__all__ = ["ArmSpec", "ExperimentDesign", "Assignment", "Outcomes", "run_world", "RETENTION_HORIZONS"]

RETENTION_HORIZONS = (30, 90, 180)


class Assignment:
    """Model hook: assigns arms, snapshots the pre-period, records outcomes at fixed horizons."""

    def __init__(self, design: ExperimentDesign, *, fixed_arm: int | None = None, replicas: int = 1,
                 looks: tuple[int, ...] = ()) -> None:
        looks = tuple(int(d) for d in looks)
        if any(not 1 <= d <= design.days for d in looks) or list(looks) != sorted(set(looks)):
            raise ValueError(f"looks must be increasing days within the experiment's {design.days}; got {list(looks)}")
        self.design = design
        #: days after assignment at which the outcomes so far are snapshot (sequential analysis)
        self.looks = looks
        self.at_look: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.fixed_arm = fixed_arm
        self.replicas = replicas
        self.start_day = design.warmup_days
        self.end_day_ = design.warmup_days + design.days - 1
        self.horizons = tuple(h for h in RETENTION_HORIZONS if h < design.days)
        self.alive_at: dict[int, np.ndarray] = {}
        self.active_at: dict[int, np.ndarray] = {}
        self.base_n = 0

    @property
    def n_arms(self) -> int:
        """Number of arms (the model sizes its per-arm tables by it)."""
        return len(self.design.arms)

    # --- hooks called by the model ---------------------------------------------------------

    def start(self, model, t: int) -> None:
        """On the first experiment morning, assign everyone present."""
        if t != self.start_day:
            return
        s = model.state
        self.base_n = s.n
        idx = np.arange(s.n)
        self._assign(model, idx, t, blocked=True)

    def arrivals(self, model, idx: np.ndarray, t: int) -> None:
        """Assign customers arriving during the experiment (not during warm-up or after)."""
        if self.start_day <= t <= self.end_day_ and idx.size:
            self._assign(model, idx, t, blocked=False)

    def end_day(self, model, t: int) -> None:
        """Record true and observed retention of customers reaching each horizon today."""
        s = model.state
        look = t - self.start_day + 1
        if look in self.looks:
            idx = np.flatnonzero(s.arm[: s.n] != NONE)
            self.at_look[look] = (idx, s.value[idx] - s.value_pre[idx], s.revenue[idx] - s.revenue_pre[idx])
        window = model.config.run.observed_window_days
        for h in self.horizons:
            day0 = t - h  # customers assigned on day0 reach horizon h today
            if day0 < self.start_day:
                continue
            alive, active = self._stores(h, s.capacity)
            lo, hi = rows_on_day(s.assigned[self.base_n : s.n], day0)
            idx = np.arange(lo + self.base_n, hi + self.base_n)
            if day0 == self.start_day:
                idx = np.concatenate([np.arange(self.base_n), idx])
            idx = idx[s.assigned[idx] == day0]
            alive[idx] = ~model.graph.churned[s.stage[idx]]
            active[idx] = s.last_purchase[idx] >= max(0, t - window + 1)

    def _stores(self, h: int, capacity: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-customer flags at horizon ``h`` (-1: not reached), grown to ``capacity``."""
        for store in (self.alive_at, self.active_at):
            old = store.get(h, np.zeros(0, dtype=np.int8))
            if old.size < capacity:
                new = np.full(capacity, -1, dtype=np.int8)
                new[: old.size] = old
                store[h] = new
        return self.alive_at[h], self.active_at[h]

    # --- assignment -------------------------------------------------------------------------

    def _assign(self, model, idx: np.ndarray, t: int, *, blocked: bool) -> None:
        s = model.state
        rng = model.streams.assignment
        if self.fixed_arm is not None:
            arms = np.full(idx.size, self.fixed_arm, dtype=np.int8)
        elif blocked:
            arms = np.empty(idx.size, dtype=np.int8)
            strata = self._strata(model, idx).astype(np.int64) * self.replicas + self.replica_of(model, idx)
            for value in np.unique(strata):
                members = np.flatnonzero(strata == value)
                arms[members] = _blocked_arms(members.size, self.design.shares, rng)
        else:
            # arrivals: each customer's own draw, so the same customer gets the same arm in
            # every world of this seed (whatever else arrived that day)
            u = uniforms(np.uint64(model.streams.assignment_key), s.uid[idx], t, 0)
            edges = np.cumsum(self.design.shares)[:-1]
            arms = np.searchsorted(edges, u, side="right").astype(np.int8)
        s.arm[idx] = arms
        s.assigned[idx] = t
        s.stage_at_assign[idx] = s.stage[idx]
        s.tier_at_assign[idx] = s.tier[idx]
        s.segment_at_assign[idx] = s.segment[idx]
        s.purchases_pre[idx] = s.purchases[idx]
        s.revenue_pre[idx] = s.revenue[idx]
        s.margin_pre[idx] = s.margin[idx]
        s.value_pre[idx] = s.value[idx]
        s.policy_cost_pre[idx] = s.policy_cost[idx]

    def replica_of(self, model, idx: np.ndarray) -> np.ndarray:
        """Which replica each customer belongs to: its own draw, uniform over the replicas."""
        return replica_of(model.streams, model.state.uid[idx], self.replicas)

    def _strata(self, model, idx: np.ndarray) -> np.ndarray:
        by = self.design.stratify_by
        if by is None:
            return np.zeros(idx.size, dtype=np.int16)
        return getattr(model.state, by)[idx]


def _blocked_arms(m: int, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``floor(m * share)`` per arm, the remainder drawn by shares, in random order."""
    base = np.floor(m * shares).astype(int)
    rest = m - base.sum()  # fewer than the number of arms
    if rest:
        base[rng.choice(shares.size, size=rest, replace=False, p=shares)] += 1
    arms = np.repeat(np.arange(shares.size, dtype=np.int8), base)
    return rng.permutation(arms)


@dataclass(frozen=True)
class Outcomes:
    """Per-customer outcomes of one world of an experiment."""

    frame: pd.DataFrame
    arm_names: tuple[str, ...]
    shares: tuple[float, ...]
    horizons: tuple[int, ...]
    days: int
    stage_names: tuple[str, ...]
    tier_names: tuple[str, ...]
    segment_names: tuple[str, ...]
    channel_names: tuple[str, ...]


def run_world(scenario, design: ExperimentDesign, *, seed, engine: str = "vector", fixed_arm: int | None = None,
              customers: int | None = None, replicas: int = 1, looks: tuple[int, ...] = ()) -> Outcomes:
    """Simulate one world of the experiment and return per-customer outcomes.

    With ``replicas = R > 1`` the world holds R independent copies of the experiment: R times the
    customers and R times every channel's spend and saturation, each customer falling into one
    replica by its own draw. Customers do not interact (a referred customer aside), so the
    replicas are independent experiments, each distributed as a single run: Poisson arrivals
    split at random are independent Poisson arrivals. The frame's ``replica`` column says which.

    ``looks`` (days after the experiment starts) add the columns ``ltv_look{d}`` and
    ``revenue_look{d}``: each customer's outcome so far at the end of look day ``d`` (NaN for a
    customer not yet assigned then), for reading the experiment sequentially.
    """
    from sim.model import CustomerModel

    per_replica = customers if customers is not None else design.customers
    total = per_replica
    if replicas > 1:
        scenario = scaled(scenario, replicas)  # its own base is already times `replicas`
        total = None if per_replica is None else per_replica * replicas
    assignment = Assignment(design, fixed_arm=fixed_arm, replicas=replicas, looks=looks)
    model = CustomerModel(
        scenario,
        seed=seed,
        customers=total,
        days=design.warmup_days + design.days,
        engine=engine,
        policy_arms=design.policy_arms(scenario),
        assignment=assignment,
    )
    model.run()
    return _outcomes(model, design, assignment)


def _outcomes(model, design: ExperimentDesign, assignment: Assignment) -> Outcomes:
    s = model.state
    n = s.n
    idx = np.flatnonzero(s.arm[:n] != NONE)
    g = model.graph
    end = assignment.end_day_
    repeats_end = np.maximum(s.purchases[idx] - 1, 0)
    repeats_pre = np.maximum(s.purchases_pre[idx] - 1, 0)
    alive_at_assign = ~g.churned[s.stage_at_assign[idx]]
    cols = {
        "customer": idx,
        "replica": assignment.replica_of(model, idx),
        "arm": s.arm[idx].astype(np.int16),
        "assigned": s.assigned[idx],
        "stage_at_assign": s.stage_at_assign[idx],
        "tier_at_assign": s.tier_at_assign[idx],
        "segment_at_assign": s.segment_at_assign[idx],
        "channel": s.channel[idx],
        "new_customer": s.acquired[idx] >= design.warmup_days,
        "alive_at_assign": alive_at_assign,
        "acquisition_cost": s.acquisition_cost[idx],
        "pre_revenue": s.revenue_pre[idx],
        "pre_purchases": s.purchases_pre[idx],
        "revenue": s.revenue[idx] - s.revenue_pre[idx],
        "margin": s.margin[idx] - s.margin_pre[idx],
        "policy_cost": s.policy_cost[idx] - s.policy_cost_pre[idx],
        "ltv": s.value[idx] - s.value_pre[idx],
        "purchased": s.purchases[idx] > s.purchases_pre[idx],
        "repurchased": repeats_end > repeats_pre,
        "churned": alive_at_assign & g.churned[s.stage[idx]],
        # survival since assignment (Kaplan-Meier): days until churn, or censored at the end
        "days_to_churn_or_end": np.where(
            alive_at_assign & g.churned[s.stage[idx]], s.stage_since[idx] - s.assigned[idx], end - s.assigned[idx] + 1
        ),
    }
    for h in assignment.horizons:
        alive, active = assignment._stores(h, s.capacity)
        cols[f"alive_{h}d"] = alive[idx]
        cols[f"active_{h}d"] = active[idx]
    for d in assignment.looks:
        where, ltv, revenue = assignment.at_look[d]
        pos = np.searchsorted(idx, where)  # customers assigned by day d are a subset of idx
        for name, values in (("ltv", ltv), ("revenue", revenue)):
            col = np.full(idx.size, np.nan)
            col[pos] = values
            cols[f"{name}_look{d}"] = col
    frame = pd.DataFrame(cols)
    return Outcomes(
        frame=frame,
        arm_names=tuple(a.name for a in design.arms),
        shares=tuple(a.share for a in design.arms),
        horizons=assignment.horizons,
        days=design.days,
        stage_names=tuple(g.names),
        tier_names=tuple(model.tier_names),
        segment_names=tuple(model.segment_names),
        channel_names=tuple(model.channel_names),
    )
