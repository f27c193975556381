"""Onboarding: guide new buyers through their first weeks.

Core object: :class:`Onboarding`. During ``window_days`` after the first purchase, customers get
guide contacts on ``contact_days`` and a boost to purchase rate and retention; optionally a small
repurchase coupon on ``coupon_day`` (the playbook's target: 7-day repurchase rate >= 20%).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from scenarios.fields import MAX_DAYS
from sim.policies.base import Day, Policy, PolicyParams, control
from sim.policies.offers import OfferParams

__all__ = ["Onboarding"]


class Onboarding(Policy):
    """Guides, a boost and an optional small coupon in the first days after the first purchase."""

    kind = "onboarding"

    class Params(PolicyParams):
        window_days: int = Field(30, ge=1, le=365, json_schema_extra=control(
            "Onboarding window (days)", low=1, high=90, step=1, stretch=1))
        contact_days: list[Annotated[int, Field(ge=0, le=MAX_DAYS)]] = Field(default_factory=lambda: [1, 3, 7],
                                                                          max_length=366)
        contact_cost: float = Field(0.05, ge=0, json_schema_extra=control(hidden=True))
        purchase_multiplier: float = Field(1.2, ge=0, json_schema_extra=control(
            "Onboarding purchase boost (x)", low=0.5, high=2, step=0.05, stretch=1))
        churn_multiplier: float = Field(0.8, ge=0, json_schema_extra=control(
            "Onboarding churn multiplier", low=0, high=1.5, step=0.05, stretch=1))
        coupon_day: int | None = Field(None, ge=0, le=MAX_DAYS, json_schema_extra=control(hidden=True))
        coupon: OfferParams = OfferParams(discount=5, min_spend=50, valid_days=7, purchase_lift=1.3, send_cost=0.0)

    def apply(self, day: Day) -> None:
        s = day.state
        p = self.params
        # customers whose first purchase was on one of the last window_days - 1 days
        days = range(max(0, day.t - p.window_days + 1), day.t)
        parts = [b[s.first_purchase[b] == d] for d in days for b in (day.buyers_on(d),)]
        cand = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        cand = day.matches(day.alive(cand), p.target)
        day.scale(cand, purchase=p.purchase_multiplier, churn=p.churn_multiplier)
        age = day.t - s.first_purchase[cand]
        day.contact(self, cand[np.isin(age, p.contact_days)], p.contact_cost)
        if p.coupon_day is not None:
            new = cand[(age == p.coupon_day) & (s.purchases[cand] == 1)]
            day.give_offer(self, new, p.coupon.offer(), send_cost=p.coupon.send_cost)
