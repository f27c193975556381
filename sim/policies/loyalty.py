"""Loyalty points and tier benefits.

Core object: :class:`Loyalty`. Buyers earn points on what they spend; the expected cost of the
points that will be redeemed is booked when they are earned. Customers in a value tier get that
tier's benefits (tiers are recomputed from spend, purchases and referrals as the run goes): multipliers on purchase rate, basket and churn hazard, and a benefit cost as a
share of their spend (free shipping, member prices: the playbook asks for at least 5% of annual
spend for the top tier).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from scenarios.fields import STRICT
from sim.policies.base import Day, Policy, PolicyParams, control, known_names, members

__all__ = ["TierBenefit", "Loyalty"]


class TierBenefit(BaseModel):
    """What members of one value tier get, and what it costs."""

    model_config = STRICT
    purchase_multiplier: float = Field(1.0, ge=0, json_schema_extra=control(
        "purchase multiplier", low=0.5, high=2, step=0.05, stretch=1, help="Above 1: members buy more often."))
    basket_multiplier: float = Field(1.0, ge=0)
    churn_multiplier: float = Field(1.0, ge=0, json_schema_extra=control(
        "churn multiplier", low=0, high=1.5, step=0.05, stretch=1, help="Below 1: members leave less often."))
    cost_share_of_spend: float = Field(0.0, ge=0, le=1, json_schema_extra=control(
        "benefit cost (share of spend)", low=0, high=0.2, step=0.005, stretch=1,
        help="What the tier's benefits cost, as a share of the member's spend."))


class Loyalty(Policy):
    """Points on spend plus benefits per value tier."""

    kind = "loyalty"

    class Params(PolicyParams):
        points_per_unit: float = Field(1.0, ge=0, description="points per unit of money spent",
                                       json_schema_extra=control("Points per unit spent", low=0, high=5, step=0.5,
                                                                 help="Points cost point value x redemption rate."))
        point_value: float = Field(0.01, ge=0, description="cost of one redeemed point",
                                   json_schema_extra=control(hidden=True))
        redemption_rate: float = Field(0.6, ge=0, le=1, description="share of points ever redeemed",
                                       json_schema_extra=control(hidden=True))
        # one group of benefit levers per value tier with a threshold (and per tier named already)
        benefits: dict[str, TierBenefit] = Field(default_factory=dict, description="tier name -> benefit",
                                                 json_schema_extra=control(names="buyer_tiers"))

    def check(self, config) -> None:
        super().check(config)
        known = [t.name for t in config.tiers]
        for tier in self.params.benefits:
            if tier not in known:
                raise ValueError(f"benefits: unknown tier '{tier}'; known: {known_names(known)}")

    def reset(self, model) -> None:
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
