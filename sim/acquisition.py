"""Acquisition: channels turn daily spend into new customers, with diminishing returns.

Core object: :class:`Channel`. Expected customers a day from spend ``s`` follow the saturating
curve ``saturation * (1 - exp(-s / (saturation * cac)))``: the first customers cost about ``cac``
each, and the marginal cost rises as spend approaches saturation. The day's count is Poisson with
that mean, drawn from the run's arrivals stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Channel", "expected_customers", "marginal_cac"]


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
