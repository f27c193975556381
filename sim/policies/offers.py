"""Coupons: first-order, repurchase and win-back offers with a validity window.

Core objects: :class:`OfferParams` (an offer as written in a scenario) and :class:`Coupon` (the
policy that sends one offer on one trigger day).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from scenarios.fields import MAX_DAYS, STRICT
from sim.policies.base import Day, Offer, Policy, PolicyParams, Target, control

__all__ = ["OfferParams", "Coupon"]


class OfferParams(BaseModel):
    """An offer: ``discount`` off an order of at least ``min_spend``, valid ``valid_days``."""

    model_config = STRICT
    discount: float = Field(20.0, ge=0, json_schema_extra=control(
        "Coupon value (money off)", low=0, high=100, step=1,
        help="Discount on one order of at least the minimum spend."))
    min_spend: float = Field(100.0, ge=0, json_schema_extra=control(
        "Minimum order for the coupon", low=0, high=500, step=10, help="'Spend X get Y off': X."))
    valid_days: int = Field(14, ge=1, le=MAX_DAYS)
    purchase_lift: float = Field(1.5, ge=0, description="purchase-rate multiplier while valid",
                                 json_schema_extra=control(
                                     "Purchase lift while valid (x)", low=0.5, high=3, step=0.05, stretch=1.5,
                                     help="Multiplies the purchase rate while valid."))
    reactivation: float = Field(0.0, ge=0, le=1, description="daily chance a churned holder returns")
    send_cost: float = Field(0.05, ge=0, description="cost of sending one offer")

    def offer(self) -> Offer:
        """The runtime :class:`~sim.policies.base.Offer`."""
        return Offer(self.discount, self.min_spend, self.valid_days, self.purchase_lift, self.reactivation)


def _check_reactivation(reactivate_to: str | None, *offers: OfferParams) -> None:
    """An offer that re-activates churned customers needs a stage to bring them back to."""
    if reactivate_to is None and any(o.reactivation > 0 for o in offers):
        raise ValueError(
            "an offer has reactivation > 0 but reactivate_to is not set; name the stage lost "
            "customers return to (declared with a rule = 'policy' transition) or set reactivation = 0"
        )


class Coupon(Policy):
    """Send a coupon on a trigger day.

    trigger = "first_order": ``send_after_days`` after acquisition, to customers who never bought.
    trigger = "repurchase": ``send_after_days`` after the first purchase, to one-time buyers
    (the "spend 100 get 20 off, 4-7 days after the first order" coupon).
    trigger = "winback": ``send_after_days`` after the last purchase, to lapsed buyers, whatever
    their latent state (the firm cannot see who has truly churned); with ``offer.reactivation`` > 0
    a churned holder may come back to ``reactivate_to``.
    """

    kind = "coupon"

    class Params(PolicyParams):
        target: Target = Field(Target(), json_schema_extra=control("Target"))  # target stages and tiers are levers
        trigger: Literal["first_order", "repurchase", "winback"] = Field("repurchase", json_schema_extra=control(
            "Trigger",
            help="first order after acquisition, repurchase after the first order, or win-back after silence."))
        send_after_days: int = Field(5, ge=0, le=365, json_schema_extra=control(
            "Send after (days)", low=0, high=60, step=1, help="Days after the trigger event."))
        offer: OfferParams = Field(OfferParams(), json_schema_extra=control("Offer"))
        reactivate_to: str | None = None

        @model_validator(mode="after")
        def _after_an_order(self):
            _check_reactivation(self.reactivate_to, self.offer)
            if self.trigger != "first_order" and self.send_after_days < 1:
                raise ValueError(f"send_after_days must be >= 1 for trigger '{self.trigger}' "
                                 "(the coupon follows an order of an earlier day)")
            return self

    def apply(self, day: Day) -> None:
        p = self.params
        s = day.state
        d = day.t - p.send_after_days
        if d < 0:
            return
        if p.trigger == "first_order":
            cand = day.arrivals_on(d)
            cand = day.alive(cand[s.purchases[cand] == 0])
        elif p.trigger == "repurchase":
            cand = day.buyers_on(d)
            cand = day.alive(cand[(s.first_purchase[cand] == d) & (s.purchases[cand] == 1)])
        else:  # lapsed buyers, whatever their latent state: the firm cannot see who has churned
            cand = day.buyers_on(d)
            cand = cand[s.last_purchase[cand] == d]
        day.give_offer(self, day.matches(cand, p.target), p.offer.offer(), send_cost=p.offer.send_cost)
