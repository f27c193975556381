"""Loyalty points and tier benefits.

Core object: :class:`Loyalty`. Buyers earn points on what they spend; the expected cost of the
points that will be redeemed is booked when they are earned. Customers in a value tier get that
tier's benefits (tiers are recomputed from spend, purchases and referrals as the run goes): multipliers on purchase rate, basket and churn hazard, and a benefit cost as a
share of their spend (free shipping, member prices: the sources ask for at least 5% of annual
spend for the top tier).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.policies.base import Day, Policy, PolicyParams, members

__all__ = ["TierBenefit", "Loyalty"]


class TierBenefit(BaseModel):
    """What members of one value tier get, and what it costs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    purchase_multiplier: float = Field(1.0, ge=0)
    basket_multiplier: float = Field(1.0, ge=0)
    churn_multiplier: float = Field(1.0, ge=0)
    cost_share_of_spend: float = Field(0.0, ge=0, le=1)


class Loyalty(Policy):
    """Points on spend plus benefits per value tier."""

    kind = "loyalty"

    class Params(PolicyParams):
        points_per_unit: float = Field(1.0, ge=0, description="points per unit of money spent")
        point_value: float = Field(0.01, ge=0, description="cost of one redeemed point")
        redemption_rate: float = Field(0.6, ge=0, le=1, description="share of points ever redeemed")
        benefits: dict[str, TierBenefit] = Field(default_factory=dict, description="tier name -> benefit")

    def reset(self, model) -> None:
        for tier in self.params.benefits:
            if tier not in model.tier_index:
                raise ValueError(
                    f"benefits: unknown tier '{tier}'; known: {', '.join(map(repr, model.tier_names)) or 'none'}"
                )
        self.tier_codes_ = {model.tier_index[k]: v for k, v in self.params.benefits.items()}
        # tiers that can hold customers who never bought (benefits need at least one purchase)
        self.open_tiers_ = {t.name for t in model.config.tiers if t.min_purchases == 0}

    def apply(self, day: Day) -> None:
        t = self.params.target
        for tier, b in self.params.benefits.items():
            members = t.model_copy(update={"tiers": [x for x in (t.tiers or [tier]) if x == tier]})
            if not members.tiers:
                continue
            mults = dict(purchase=b.purchase_multiplier, basket=b.basket_multiplier, churn=b.churn_multiplier)
            if tier in self.open_tiers_:
                idx = day.customers(members)
                day.scale(idx[day.state.purchases[idx] > 0], **mults)
            else:
                day.scale_target(members, **mults)

    def on_purchases(self, day: Day, buyers: np.ndarray, amounts: np.ndarray) -> None:
        keep = members(buyers, day.matches_at_order(buyers, self.params.target))  # buyers are sorted
        buyers, amounts = buyers[keep], amounts[keep]
        p = self.params
        points_cost = amounts * p.points_per_unit * p.point_value * p.redemption_rate
        if np.any(points_cost > 0):
            day.charge(self, buyers, points_cost, "points")
        tiers = day.state.tier[buyers]
        share = np.zeros(buyers.size)
        for code, b in self.tier_codes_.items():
            share[tiers == code] = b.cost_share_of_spend
        # as in apply(), benefits need an earlier purchase: a first order placed in a tier open to
        # non-buyers carries no benefit, so it costs none (today's order is already counted)
        share[day.state.purchases[buyers] < 2] = 0.0
        if np.any(share > 0):
            sel = share > 0
            day.charge(self, buyers[sel], amounts[sel] * share[sel], "benefit")
