"""Referral: customers bring new customers for a bounty.

Core object: :class:`Referral`. Each day every targeted buyer refers a new customer with
probability ``daily_rate``; the referrer's bounty is booked to this policy and the referred
customer arrives the next day through ``channel`` (whose quality profile it gets).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.policies.base import Day, Policy, PolicyParams, control, known_names

__all__ = ["Referral"]


class Referral(Policy):
    """A bounty per referred customer; referred customers arrive through the referral channel."""

    kind = "referral"

    class Params(PolicyParams):
        daily_rate: float = Field(0.002, ge=0, le=1, description="daily chance a targeted buyer refers someone",
                                  json_schema_extra=control("Daily chance to refer", low=0, high=0.01, step=0.0005,
                                                            help="Per targeted buyer and day."))
        bounty: float = Field(15.0, ge=0, json_schema_extra=control(
            "Referral bounty", low=0, high=100, step=1, help="Paid per referred customer."))
        channel: str = "referral"

    def check(self, config) -> None:
        super().check(config)
        known = [c.name for c in config.channels]
        if self.params.channel not in known:
            raise ValueError(
                f"channel: unknown channel '{self.params.channel}'; referred customers need a channel "
                f"declared in [[channels]] (known: {known_names(known)})"
            )

    def apply(self, day: Day) -> None:
        s = day.state
        # each customer is a referrer today with probability daily_rate, if it is eligible
        cand = day.alive(day.bernoulli(s.n, self.params.daily_rate))
        referrers = day.matches(cand[s.purchases[cand] > 0], self.params.target)
        if referrers.size:
            s.referrals[referrers] += 1
            if self.params.bounty > 0:
                day.charge(self, referrers, np.full(referrers.size, self.params.bounty), "bounty")
            day.model.refer(self.params.channel, referrers.size)
            day.model.segmenter.update_tiers(s, referrers)
