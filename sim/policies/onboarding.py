"""Onboarding: guide new buyers through their first weeks.

Core object: :class:`Onboarding`. During ``window_days`` after the first purchase, customers get
guide contacts on ``contact_days`` and a boost to purchase rate and retention; optionally a small
repurchase coupon on ``coupon_day`` (the sources' target: 7-day repurchase rate >= 20%).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.policies.base import Day, Policy, PolicyParams
from sim.policies.offers import OfferParams

__all__ = ["Onboarding"]


class Onboarding(Policy):
    """Guides, a boost and an optional small coupon in the first days after the first purchase."""

    kind = "onboarding"

    class Params(PolicyParams):
        window_days: int = Field(30, ge=1)
        contact_days: list[int] = Field(default_factory=lambda: [1, 3, 7])
        contact_cost: float = Field(0.05, ge=0)
        purchase_multiplier: float = Field(1.2, ge=0)
        churn_multiplier: float = Field(0.8, ge=0)
        coupon_day: int | None = Field(None, ge=0)
        coupon: OfferParams = OfferParams(discount=5, min_spend=50, valid_days=7, purchase_lift=1.3, send_cost=0.0)

    def apply(self, day: Day) -> None:
        s = day.state
        p = self.params
        age = day.days_since("first_purchase")
        cand = np.flatnonzero((s.first_purchase[: s.n] >= 0) & (age < p.window_days))
        cand = day.matches(cand[~day.model.graph.churned[s.stage[cand]]], p.target)
        day.scale(cand, purchase=p.purchase_multiplier, churn=p.churn_multiplier)
        due = cand[np.isin(age[cand], p.contact_days)]
        day.contact(self, due, p.contact_cost)
        if p.coupon_day is not None:
            new = cand[(age[cand] == p.coupon_day) & (s.purchases[cand] == 1)]
            day.give_offer(self, new, p.coupon.offer(), send_cost=p.coupon.send_cost)
