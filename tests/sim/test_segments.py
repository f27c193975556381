"""Tests of sim/segments.py: quintile scores, integer ranks by counting, tiers by slice or index."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from sim.scenario import load_scenario
from sim.model import CustomerModel
from sim.segments import average_ranks, quintile_scores


@pytest.mark.parametrize("high", [5, 400, 10**9])
def test_integer_ranks_equal_scipy_average_ranks(high):
    """Counting ranks (and the wide-range fallback) equal rankdata's average ranks exactly."""
    x = np.random.default_rng(1).integers(-3, high, size=5_000)
    assert np.array_equal(average_ranks(x), rankdata(x, method="average"))


@pytest.mark.parametrize("decimals", [0, 2, None])
def test_float_ranks_equal_scipy_average_ranks(decimals):
    """Sorted-group ranks equal rankdata's, with many ties (rounded values) and with none."""
    x = np.random.default_rng(2).gamma(2.0, 50.0, size=20_000)
    x = x if decimals is None else np.round(x, decimals)
    assert np.array_equal(average_ranks(x), rankdata(x, method="average"))
    assert np.array_equal(average_ranks(x[:1]), [1.0])


def test_quintile_scores_by_hand():
    # ten distinct values: two per quintile; ties share their average rank
    assert quintile_scores(np.arange(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores(np.arange(10), higher_is_better=False).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert quintile_scores(np.array([7, 7, 7, 7])).tolist() == [3, 3, 3, 3]
    assert quintile_scores(np.array([], dtype=np.int64)).size == 0


def test_quintile_scores_same_for_integers_and_their_float_copies():
    x = np.random.default_rng(2).integers(0, 60, size=3_001)
    for high in (True, False):
        assert np.array_equal(
            quintile_scores(x, higher_is_better=high), quintile_scores(x.astype(np.float64), higher_is_better=high)
        )


def test_update_tiers_by_slice_equals_by_index():
    m = CustomerModel(load_scenario(), customers=5_000, days=120, engine="vector", seed=4)
    m.run()
    s = m.state
    by_slice = s.tier[: s.n].copy()
    s.tier[: s.n] = -1
    m.segmenter.update_tiers(s, np.arange(s.n))
    assert np.array_equal(s.tier[: s.n], by_slice)
    m.segmenter.update_tiers(s, slice(0, s.n))
    assert np.array_equal(s.tier[: s.n], by_slice)
    assert len(set(by_slice.tolist())) > 1  # the check is not vacuous: several tiers are held


def test_segment_table_is_the_first_matching_box():
    """The 125-entry score table gives, for every score triple, the first segment whose box holds it."""
    m = CustomerModel(load_scenario("six_stage_rfm"), customers=100, days=1, engine="vector")
    segments = m.config.rfm.segments
    assert len(segments) > 2
    for r, f, mon in np.ndindex(5, 5, 5):
        first = next(
            (k for k, s in enumerate(segments)
             if s.recency[0] <= r + 1 <= s.recency[1] and s.frequency[0] <= f + 1 <= s.frequency[1]
             and s.monetary[0] <= mon + 1 <= s.monetary[1]),
            -1,
        )  # fmt: skip
        assert m.segmenter.segment_of_scores[r, f, mon] == first
