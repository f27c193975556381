"""The money ledger: every unit of money the simulation moves, recorded once.

Core object: :class:`Ledger`. Per-customer money lives in :class:`sim.state.CustomerState`
(revenue, margin, policy_cost, acquisition_cost); the ledger keeps the same flows summed by
policy and cost kind, and by channel, so that totals can be reconciled per customer, per policy,
per channel and overall (see :meth:`Ledger.reconcile`).

Conventions: revenue is list-price sales; gross margin is ``gross_margin * revenue``; a coupon's
discount is a policy cost (never netted out of revenue), so nothing is counted twice. Acquisition
spend on a day is shared equally among the customers that channel brought that day; spend on a
day that brought nobody is kept as ``unattributed`` for that channel.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

__all__ = ["Ledger", "COST_KINDS"]

COST_KINDS = ("discount", "contact", "points", "benefit", "bounty", "other")


class Ledger:
    """Running totals of revenue, margin, policy costs and acquisition spend."""

    def __init__(self, policy_names: list[str], channel_names: list[str]) -> None:
        self.policy_names = list(policy_names)
        self.channel_names = list(channel_names)
        self.revenue = 0.0
        self.margin = 0.0
        self.policy_costs: dict[tuple[str, str], float] = defaultdict(float)
        self.channel_spend = np.zeros(len(channel_names))
        self.channel_unattributed = np.zeros(len(channel_names))
        self.channel_customers = np.zeros(len(channel_names), dtype=np.int64)

    def add_sales(self, revenue: float, margin: float) -> None:
        """Record the day's list-price revenue and gross margin."""
        self.revenue += float(revenue)
        self.margin += float(margin)

    def add_policy_cost(self, policy: int, kind: str, amount: float) -> None:
        """Record ``amount`` spent by policy number ``policy`` on cost ``kind``."""
        if kind not in COST_KINDS:
            raise ValueError(f"cost kind must be one of {COST_KINDS}; got '{kind}'")
        if amount < 0:
            raise ValueError(f"a cost must be >= 0; got {amount}")
        self.policy_costs[(self.policy_names[policy], kind)] += float(amount)

    def add_acquisition(self, channel: int, spend: float, customers: int) -> None:
        """Record one day's spend on a channel and how many customers it brought."""
        self.channel_spend[channel] += spend
        self.channel_customers[channel] += customers
        if customers == 0:
            self.channel_unattributed[channel] += spend

    @property
    def policy_cost_total(self) -> float:
        """All policy costs together."""
        return float(sum(self.policy_costs.values()))

    def policy_cost_by_policy(self) -> dict[str, float]:
        """Policy costs summed per policy (every policy listed, zero if it spent nothing)."""
        out = {name: 0.0 for name in self.policy_names}
        for (name, _kind), amount in self.policy_costs.items():
            out[name] += amount
        return out

    def rows(self) -> list[dict]:
        """The ledger as tidy rows: one per (account, item)."""
        rows = [
            {"account": "sales", "item": "revenue", "amount": self.revenue},
            {"account": "sales", "item": "gross_margin", "amount": self.margin},
        ]
        for (name, kind), amount in sorted(self.policy_costs.items()):
            rows.append({"account": f"policy:{name}", "item": kind, "amount": amount})
        for i, name in enumerate(self.channel_names):
            rows.append({"account": f"channel:{name}", "item": "spend", "amount": float(self.channel_spend[i])})
            rows.append(
                {"account": f"channel:{name}", "item": "unattributed", "amount": float(self.channel_unattributed[i])}
            )
            rows.append(
                {"account": f"channel:{name}", "item": "customers", "amount": float(self.channel_customers[i])}
            )
        return rows

    def reconcile(self, state, *, rtol: float = 1e-9) -> dict[str, float]:
        """Relative differences between per-customer money and the ledger's totals (0 = balanced).

        Nothing is raised: the caller (a test, an audit) decides what difference is acceptable.
        """
        def rel(a: float, b: float) -> float:
            return abs(a - b) / max(1.0, abs(a), abs(b))

        acq_customers = float(state.column("acquisition_cost").sum())
        return {
            "revenue": rel(float(state.column("revenue").sum()), self.revenue),
            "margin": rel(float(state.column("margin").sum()), self.margin),
            "policy_cost": rel(float(state.column("policy_cost").sum()), self.policy_cost_total),
            "acquisition": rel(
                acq_customers + float(self.channel_unattributed.sum()), float(self.channel_spend.sum())
            ),
        }
