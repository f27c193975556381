"""Cross-sell and upsell: recommendations that lift basket value.

Core object: :class:`CrossSell`. Targeted customers' orders are worth ``basket_multiplier`` times
more; each order they place costs ``cost_per_order`` (recommendation engine, bundling).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.policies.base import Day, Policy, PolicyParams, control

__all__ = ["CrossSell"]


class CrossSell(Policy):
    """Lift the basket of targeted customers at a cost per order."""

    kind = "cross_sell"

    class Params(PolicyParams):
        basket_multiplier: float = Field(1.15, ge=0, json_schema_extra=control(
            "Basket multiplier (x)", low=0.5, high=2, step=0.05, stretch=1))
        cost_per_order: float = Field(0.5, ge=0, json_schema_extra=control("Cost per order", low=0, high=5, step=0.1))

    def apply(self, day: Day) -> None:
        day.scale_target(self.params.target, basket=self.params.basket_multiplier)

    def on_purchases(self, day: Day, buyers: np.ndarray, amounts: np.ndarray) -> None:
        # the lift applied to orders placed by targeted customers; a purchase may move a buyer to
        # another stage before this hook, so the stage at the time of the order decides
        hit = day.matches_at_order(buyers, self.params.target)
        if hit.size and self.params.cost_per_order > 0:
            day.charge(self, hit, np.full(hit.size, self.params.cost_per_order), "other")
