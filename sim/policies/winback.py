"""Win-back: offers triggered by the churn-warning rule, graded by warning level and value.

Core object: :class:`WinBack`. A buyer with no purchase for ``light_after_days`` gets the light
offer, after ``heavy_after_days`` the heavy one. Customers in ``rich_tiers`` (high value) get those
offers; everyone else gets the cheap ``reminder`` ("avoid wasting resources on blind recall").
Offers with ``reactivation`` > 0 can bring truly churned customers back to ``reactivate_to``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from sim.policies.base import Day, Policy, PolicyParams, control, in_codes, known_names
from sim.policies.offers import OfferParams, _check_reactivation

__all__ = ["WinBack"]


class WinBack(Policy):
    """Light and heavy churn-warning offers, rich for high-value customers, cheap otherwise."""

    kind = "winback"

    class Params(PolicyParams):
        light_after_days: int = Field(45, ge=1, le=365, json_schema_extra=control(
            "Light warning offer after (days)", low=1, high=180, step=1, stretch=1, help="Days without a purchase."))
        heavy_after_days: int = Field(90, ge=1, le=365, json_schema_extra=control(
            "Heavy warning offer after (days)", low=2, high=365, step=1, stretch=1,
            help="Must be later than the light warning."))
        rich_tiers: list[str] = Field(default_factory=list, json_schema_extra=control(
            "Tiers that get rich offers", names="tiers", help="Everyone else gets a cheap reminder."))
        light_offer: OfferParams = Field(
            OfferParams(discount=10, min_spend=100, valid_days=14, purchase_lift=1.3),
            json_schema_extra=control(fields={"discount": control("Light offer value (money off)", low=0, high=100,
                                                                  step=1)}),
        )
        heavy_offer: OfferParams = Field(
            OfferParams(discount=50, min_spend=200, valid_days=21, purchase_lift=1.8, send_cost=0.1),
            json_schema_extra=control(fields={"discount": control("Heavy offer value (money off)", low=0, high=150,
                                                                  step=1)}),
        )
        reminder: OfferParams = OfferParams(
            discount=0, min_spend=0, valid_days=7, purchase_lift=1.1, send_cost=0.01
        )
        reactivate_to: str | None = None

        @model_validator(mode="after")
        def _order(self):
            _check_reactivation(self.reactivate_to, self.light_offer, self.heavy_offer, self.reminder)
            if self.heavy_after_days <= self.light_after_days:
                raise ValueError(
                    f"heavy_after_days ({self.heavy_after_days}) must be greater than "
                    f"light_after_days ({self.light_after_days})"
                )
            return self

    def check(self, config) -> None:
        super().check(config)
        known = [t.name for t in config.tiers]
        for tier in self.params.rich_tiers:
            if tier not in known:
                raise ValueError(f"rich_tiers: unknown tier '{tier}'; known: {known_names(known)}")

    def reset(self, model) -> None:
        self.rich_codes_ = np.array([model.tier_index[k] for k in self.params.rich_tiers], dtype=np.int16)

    def apply(self, day: Day) -> None:
        s = day.state
        p = self.params
        for after, rich_offer in ((p.light_after_days, p.light_offer),
                                  (p.heavy_after_days, p.heavy_offer)):
            d = day.t - after
            if d < 0:
                continue
            cand = day.buyers_on(d)
            cand = day.matches(cand[s.last_purchase[cand] == d], p.target)  # no purchase since day d
            rich = in_codes(s.tier[cand], self.rich_codes_)
            day.give_offer(self, cand[rich], rich_offer.offer(), send_cost=rich_offer.send_cost)
            day.give_offer(self, cand[~rich], p.reminder.offer(), send_cost=p.reminder.send_cost)
