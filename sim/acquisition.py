"""Acquisition: channels turn daily spend into new customers, with diminishing returns.

Core objects: :class:`Channel` and :class:`InverseCdfChannel` (the same Poisson law from exactly
one uniform per day, for comparing allocations under common random numbers). Expected customers a day from spend ``s`` follow the saturating
curve ``saturation * (1 - exp(-s / (saturation * cac)))``: the first customers cost about ``cac``
each, and the marginal cost rises as spend approaches saturation. The day's count is Poisson with
that mean, drawn from the run's arrivals stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np

__all__ = ["Channel", "InverseCdfChannel", "ARRIVAL_SAMPLERS", "expected_customers", "marginal_cac", "poisson_quantile"]


def expected_customers(spend, saturation: float, cac: float):
    """Expected customers a day from daily ``spend`` on a channel."""
    return saturation * -np.expm1(-np.asarray(spend, dtype=float) / (saturation * cac))


def marginal_cac(spend, saturation: float, cac: float):
    """Cost of one more customer at daily ``spend``: ``cac * exp(s / (saturation * cac))``."""
    return cac * np.exp(np.asarray(spend, dtype=float) / (saturation * cac))


@dataclass(frozen=True)
class Channel:
    """A channel's economics and the quality of the customers it brings."""

    name: str
    daily_spend: float
    cac: float
    saturation: float
    purchase_multiplier: float = 1.0
    basket_multiplier: float = 1.0
    churn_multiplier: float = 1.0

    @classmethod
    def from_config(cls, c) -> Channel:
        """Build from a validated :class:`scenarios.schema.ChannelConfig`."""
        return cls(**c.model_dump())

    def draw_count(self, rng: np.random.Generator, spend: float | None = None) -> int:
        """Customers acquired today (Poisson around the curve)."""
        s = self.daily_spend if spend is None else spend
        if s <= 0:
            return 0
        return int(rng.poisson(expected_customers(s, self.saturation, self.cac)))


@dataclass(frozen=True)
class InverseCdfChannel(Channel):
    """A channel whose daily Poisson count is drawn by inverse CDF from exactly one uniform.

    Same distribution as :meth:`Channel.draw_count`, but the arrivals stream advances by one draw per
    channel and day whatever the spend, and the count is monotone in spend for a given uniform. So
    under one seed, two allocations see the same arrival uniforms, a channel's arrivals change
    only where its own spend changes, and later draws are never shifted (common random numbers).
    """

    def draw_count(self, rng: np.random.Generator, spend: float | None = None) -> int:
        """Customers acquired today: the Poisson quantile of one uniform from ``rng``."""
        u = float(rng.random())
        s = self.daily_spend if spend is None else spend
        if s <= 0:
            return 0
        return poisson_quantile(u, float(expected_customers(s, self.saturation, self.cac)))


def poisson_quantile(u: float, lam: float) -> int:
    """Smallest ``k`` with ``P(Poisson(lam) <= k) >= u`` (exact CDF search from a normal guess)."""
    from scipy.special import ndtri, pdtr

    if lam <= 0 or u <= 0:
        return 0
    k = max(0, int(lam + math.sqrt(lam) * float(ndtri(min(u, 1 - 1e-16)))))
    while pdtr(k, lam) < u:
        k += 1
    while k > 0 and pdtr(k - 1, lam) >= u:
        k -= 1
    return k


#: how a channel draws its day's count: the model's own Poisson draw, or one uniform by inverse CDF
ARRIVAL_SAMPLERS = {"poisson": Channel, "inverse_cdf": InverseCdfChannel}
