"""Value tiers and RFM segments, recomputed as the simulation runs.

Core object: :class:`Segmenter`. Tiers follow the scenario's rules on rolling annual spend
(12 blocks of 30 days), purchase count and referrals; the first tier in file order whose minimums
are all met wins. RFM scores are quintiles (1 worst .. 5 best) among customers with at least one
purchase, recomputed every ``rfm.every_days`` days; the first segment whose score box holds a
customer's scores is its segment.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from sim.state import NONE, CustomerState

__all__ = ["Segmenter", "quintile_scores", "BLOCK_DAYS"]

BLOCK_DAYS = 30


def quintile_scores(values: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1..5 by quintile of ``values`` (ties share the average rank)."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int8)
    ranks = rankdata(values if higher_is_better else -values, method="average")
    return (1 + np.minimum(4, np.floor(5 * (ranks - 0.5) / values.size))).astype(np.int8)


class Segmenter:
    """Keeps ``state.tier`` and ``state.segment`` current."""

    def __init__(self, config) -> None:
        self.tiers = list(config.tiers)
        self.rfm = config.rfm
        self.tier_min_spend = np.array([t.min_annual_spend for t in self.tiers])
        self.tier_min_purchases = np.array([t.min_purchases for t in self.tiers])
        self.tier_min_referrals = np.array([t.min_referrals for t in self.tiers])
        seg = self.rfm.segments
        self.seg_lo = np.array([[s.recency[0], s.frequency[0], s.monetary[0]] for s in seg]).reshape(-1, 3)
        self.seg_hi = np.array([[s.recency[1], s.frequency[1], s.monetary[1]] for s in seg]).reshape(-1, 3)

    @staticmethod
    def annual_spend(state: CustomerState, idx) -> np.ndarray:
        """Spend over the last 12 blocks of 30 days for customers ``idx``."""
        return state.spend_months[:, idx].sum(axis=0, dtype=np.float64)

    def start_day(self, state: CustomerState, t: int) -> bool:
        """Roll the spend ring at block boundaries; return True if a block rolled over."""
        if t > 0 and t % BLOCK_DAYS == 0:
            state.spend_months[(t // BLOCK_DAYS) % 12, : state.n] = 0.0
            return True
        return False

    def update_tiers(self, state: CustomerState, idx: np.ndarray) -> None:
        """Recompute the tier of customers ``idx``."""
        if not self.tiers or idx.size == 0:
            return
        spend = self.annual_spend(state, idx)
        purchases = state.purchases[idx]
        referrals = state.referrals[idx]
        tier = np.full(idx.size, NONE, dtype=np.int16)
        undecided = np.ones(idx.size, dtype=bool)
        for k in range(len(self.tiers)):
            ok = (
                undecided
                & (spend >= self.tier_min_spend[k])
                & (purchases >= self.tier_min_purchases[k])
                & (referrals >= self.tier_min_referrals[k])
            )
            tier[ok] = k
            undecided &= ~ok
        state.tier[idx] = tier

    def rfm_scores(self, state: CustomerState, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of buyers and their (n, 3) recency/frequency/monetary scores at day ``t``."""
        n = state.n
        idx = np.flatnonzero(state.purchases[:n] > 0)
        if idx.size == 0:
            return idx, np.zeros((0, 3), dtype=np.int8)
        recency = (t - state.last_purchase[idx]).astype(np.float64)
        frequency = state.purchases[idx].astype(np.float64)
        monetary = state.revenue[idx] / frequency
        scores = np.column_stack(
            [
                quintile_scores(recency, higher_is_better=False),
                quintile_scores(frequency),
                quintile_scores(monetary),
            ]
        )
        return idx, scores

    def update_segments(self, state: CustomerState, t: int) -> None:
        """Recompute every customer's RFM segment."""
        if not self.rfm.segments:
            return
        state.segment[: state.n] = NONE
        idx, scores = self.rfm_scores(state, t)
        seg = np.full(idx.size, NONE, dtype=np.int16)
        undecided = np.ones(idx.size, dtype=bool)
        for k in range(len(self.rfm.segments)):
            ok = undecided & np.all((scores >= self.seg_lo[k]) & (scores <= self.seg_hi[k]), axis=1)
            seg[ok] = k
            undecided &= ~ok
        state.segment[idx] = seg

    def is_rfm_day(self, t: int) -> bool:
        """True on the days RFM segments are recomputed (day 0 and every ``every_days``)."""
        return t % self.rfm.every_days == 0
