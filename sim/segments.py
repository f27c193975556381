"""Value tiers and RFM segments, recomputed as the simulation runs.

Core object: :class:`Segmenter`. Tiers follow the scenario's rules on rolling annual spend
(12 blocks of 30 days), purchase count and referrals; the first tier in file order whose minimums
are all met wins. RFM scores are quintiles (1 worst .. 5 best) among customers with at least one
purchase, recomputed every ``rfm.every_days`` days; the first segment whose score box holds a
customer's scores is its segment.
"""

from __future__ import annotations

import numpy as np

from sim.engines.bookkeeping import assign_tiers
from sim.state import NONE, CustomerState

__all__ = ["Segmenter", "quintile_scores", "average_ranks", "BLOCK_DAYS"]

BLOCK_DAYS = 30


def quintile_scores(values: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1..5 by quintile of ``values`` (ties share the average rank)."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int8)
    ranks = average_ranks(values if higher_is_better else -values)
    return (1 + np.minimum(4, np.floor(5 * (ranks - 0.5) / values.size))).astype(np.int8)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average: ``scipy.stats.rankdata(values, "average")``.

    Integers are ranked by counting (O(n + range), no sort) when their range is not much wider
    than their count; anything else by one unstable sort, which is enough because tied values
    share a rank whatever their order (rankdata pays for a stable sort, about 3x slower here).
    The ranks are whole or half numbers, exact in float64 either way.
    """
    n = values.size
    if values.dtype.kind in "iu" and n:
        lo = int(values.min())
        span = int(values.max()) - lo + 1
        if span <= 4 * n + 4096:
            shifted = values.astype(np.int64) - lo
            counts = np.bincount(shifted, minlength=span)
            ends = np.cumsum(counts)
            return ((ends - counts + 1 + ends) / 2.0)[shifted]
    order = np.argsort(values)
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])  # tie groups + end
    group_rank = (starts[:-1] + starts[1:] + 1) / 2.0  # average of 1-based ranks start+1 .. end
    ranks = np.empty(n)
    ranks[order] = np.repeat(group_rank, np.diff(starts))
    return ranks


class Segmenter:
    """Keeps ``state.tier`` and ``state.segment`` current."""

    def __init__(self, config) -> None:
        self.tiers = list(config.tiers)
        self.rfm = config.rfm
        self.tier_min_spend = np.array([t.min_annual_spend for t in self.tiers], dtype=np.float64)
        self.tier_min_purchases = np.array([t.min_purchases for t in self.tiers], dtype=np.int64)
        self.tier_min_referrals = np.array([t.min_referrals for t in self.tiers], dtype=np.int64)
        # the segment of each of the 125 score triples: the first segment whose box holds it
        self.segment_of_scores = np.full((5, 5, 5), NONE, dtype=np.int16)
        for k, seg in reversed(list(enumerate(self.rfm.segments))):
            box = tuple(slice(lo - 1, hi) for lo, hi in (seg.recency, seg.frequency, seg.monetary))
            self.segment_of_scores[box] = k

    def start_day(self, state: CustomerState, t: int) -> bool:
        """Roll the spend ring at block boundaries; return True if a block rolled over.

        At a roll-over, ``state.annual_spend`` is recomputed from the 12 blocks (so rounding
        cannot build up over the years); between roll-overs the model adds each order to it.
        """
        if t > 0 and t % BLOCK_DAYS == 0:
            n = state.n
            blocks = state.spend_months
            blocks[(t // BLOCK_DAYS) % 12, :n] = 0.0
            total = state.annual_spend[:n]
            total[:] = blocks[0, :n]
            for k in range(1, blocks.shape[0]):
                total += blocks[k, :n]
            return True
        return False

    def update_tiers(self, state: CustomerState, idx: np.ndarray | slice) -> None:
        """Recompute the tier of customers ``idx`` (indices, or a row slice)."""
        if not self.tiers:
            return
        if isinstance(idx, slice):
            idx = np.arange(*idx.indices(state.n))
        assign_tiers(np.asarray(idx, dtype=np.int64), state.annual_spend, state.purchases, state.referrals,
                     self.tier_min_spend, self.tier_min_purchases, self.tier_min_referrals, state.tier)  # fmt: skip

    def rfm_scores(self, state: CustomerState, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of buyers and their (n, 3) recency/frequency/monetary scores at day ``t``."""
        n = state.n
        idx = np.flatnonzero(state.purchases[:n] > 0)
        if idx.size == 0:
            return idx, np.zeros((0, 3), dtype=np.int8)
        recency = t - state.last_purchase[idx]  # integers: ranked by counting, no sort
        frequency = state.purchases[idx]
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
        r, f, m = (scores[:, j].astype(np.intp) - 1 for j in range(3))
        state.segment[idx] = self.segment_of_scores[r, f, m]

    def is_rfm_day(self, t: int) -> bool:
        """True on the days RFM segments are recomputed (day 0 and every ``every_days``)."""
        return t % self.rfm.every_days == 0
