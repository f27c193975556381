"""Holm adjustment and the sample-ratio-mismatch test against statsmodels and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.checks import holm, srm_test
from scenarios.errors import ConfigError


# few examples: statsmodels 0.15 multipletests runs gc.collect() on every call (~50-80 ms)
@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.01, 0.05, 1.0])),
                min_size=1, max_size=30))
def test_holm_matches_statsmodels(p_values):
    """Holm adjusted p-values equal statsmodels multipletests(method='holm'), ties included."""
    expected = multipletests(p_values, method="holm")[1]
    np.testing.assert_allclose(holm(p_values), expected, rtol=0, atol=1e-12)


def test_holm_known_values():
    """A hand-computed Holm example."""
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def test_srm_test_matches_scipy_and_flags_at_threshold():
    """SRM statistic equals scipy chisquare; 50.5/49.5 at n=100k is p=0.0016, not flagged."""
    res = srm_test([50_500, 49_500], [0.5, 0.5])
    ref = stats.chisquare([50_500, 49_500], [50_000, 50_000])
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.p_value == pytest.approx(ref.pvalue)
    assert res.p_value == pytest.approx(0.0016, abs=5e-5) and not res.mismatch
    assert srm_test([50_500, 49_500], [0.5, 0.5], threshold=0.01).mismatch


def test_srm_test_respects_unequal_design():
    """A 95/5 design with 95/5 traffic is fine; judged against 50/50 it is a mismatch."""
    counts = [95_120, 4_880]
    assert not srm_test(counts, [0.95, 0.05]).mismatch
    assert srm_test(counts, [0.5, 0.5]).mismatch
    three = srm_test([3300, 3350, 3350], [1 / 3, 1 / 3, 1 / 3])
    assert three.df == 2 and not three.mismatch


@pytest.mark.parametrize(("call", "match"), [
    (lambda: holm([0.2, 1.3]), r"p_values must be in \[0, 1\]"),
    (lambda: holm([]), r"p_values must have at least 1 values; got 0"),
    (lambda: srm_test([10, 20], [0.5, 0.6]), r"expected_shares must be positive and sum to 1"),
    (lambda: srm_test([10, 20, 5], [0.5, 0.5]), r"observed_counts and expected_shares must have"),
    (lambda: srm_test([10.5, 20], [0.5, 0.5]), r"observed_counts must be non-negative integers"),
    (lambda: srm_test([10, 20], [0.5, 0.5], threshold=0), r"threshold must be in \(0, 1\); got 0"),
])
def test_bad_inputs_raise_config_error(call, match):
    """Invalid inputs raise ConfigError naming the argument."""
    with pytest.raises(ConfigError, match=match):
        call()


def test_benjamini_hochberg_equals_statsmodels():
    """BH-adjusted p-values equal statsmodels' fdr_bh on 200 random families, ties and ones included."""
    from statsmodels.stats.multitest import multipletests

    from analysis.checks import benjamini_hochberg

    rng = np.random.default_rng(3)
    for _ in range(200):
        p = np.round(rng.random(rng.integers(1, 40)) ** 2, 3)
        np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=0, atol=1e-12)
