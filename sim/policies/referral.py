"""Referral: customers bring new customers for a bounty.

Core object: :class:`Referral`. Each day every targeted buyer refers a new customer with
probability ``daily_rate``; the referrer's bounty is booked to this policy and the referred
customer arrives the next day through ``channel`` (whose quality profile it gets).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.policies.base import Day, Policy, PolicyParams

__all__ = ["Referral"]


class Referral(Policy):
    """A bounty per referred customer; referred customers arrive through the referral channel."""

    kind = "referral"

    class Params(PolicyParams):
        daily_rate: float = Field(0.002, ge=0, le=1, description="daily chance a targeted buyer refers someone")
        bounty: float = Field(15.0, ge=0)
        channel: str = "referral"

    def reset(self, model) -> None:
        if self.params.channel not in model.channel_index:
            raise ValueError(
                f"channel: unknown channel '{self.params.channel}'; referred customers need a channel "
                f"declared in [[channels]] (known: {', '.join(map(repr, model.channel_names)) or 'none'})"
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
