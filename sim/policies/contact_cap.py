"""Contact frequency cap: at most so many touches a week per customer.

Core object: :class:`ContactCap`. It runs before every other policy (priority 0) and makes
:meth:`sim.policies.base.Day.contact` skip customers who already had ``max_per_week`` contacts in
the last 7 days. Without a cap, customers contacted more than the scenario's
``customers.fatigue_contacts_per_week`` churn faster (``fatigue_churn_multiplier``).
"""

from __future__ import annotations

from pydantic import Field

from sim.policies.base import Day, Policy, PolicyParams, control

__all__ = ["ContactCap"]


class ContactCap(Policy):
    """Suppress contacts beyond ``max_per_week`` in any 7 days."""

    kind = "contact_cap"
    priority = 0

    class Params(PolicyParams):
        max_per_week: int = Field(2, ge=0, json_schema_extra=control(
            "Contact cap (per customer per week)", low=0, high=7, step=1, stretch=1,
            help="Contacts beyond it are not sent."))

    def apply(self, day: Day) -> None:
        day.contact_cap = self.params.max_per_week
