"""A trainer's own policy for the classroom page: ``lifecycle app --plugin birthday_coupon.py``.

Each customer has a "birthday" day of the month (from its id); on that day it gets a coupon that
lifts its purchase rate while valid. The ``Params`` fields say how the page shows them: the
``control(...)`` metadata gives labels, slider ranges and help; ``valid_days`` has only a pydantic
``title`` (its label) and the validated range; ``send_cost`` has no metadata at all and still gets
a plain slider. Used by tests/lifecycle/app/test_browser.py and test_launch.py with
``birthday.toml`` next to this file.
"""

from __future__ import annotations

from pydantic import Field

from sim.policies import Offer, Policy, PolicyParams, Target, register
from sim.policies.base import control


@register
class BirthdayCoupon(Policy):
    """A coupon on each customer's birthday of the month."""

    kind = "birthday_coupon"

    class Params(PolicyParams):
        target: Target = Field(Target(), json_schema_extra=control("Target"))  # offer the target stages too
        discount: float = Field(15.0, ge=0, json_schema_extra=control(
            "Birthday discount (money off)", low=0, high=50, step=1, help="Money off the birthday order."))
        purchase_lift: float = Field(2.0, ge=0, json_schema_extra=control(
            "Birthday purchase lift (x)", low=1, high=5, step=0.5, stretch=1,
            help="Multiplies the purchase rate while the coupon is valid."))
        valid_days: int = Field(7, ge=1, le=28, title="Valid for (days)")
        send_cost: float = Field(0.02, ge=0)

    def apply(self, day) -> None:
        p = self.params
        s = day.state
        idx = day.customers(p.target)
        born = idx[(s.uid[idx] % 28) == day.t % 28]
        day.give_offer(self, born, Offer(p.discount, 0.0, p.valid_days, p.purchase_lift), send_cost=p.send_cost)
