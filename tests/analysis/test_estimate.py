"""Tests for analysis/estimate.py: shares, lower quantiles and tail means with their intervals.

Known truths: Wilson intervals from the closed form (Newcombe 1998, table I: 81/263 -> [0.2553,
0.3662]), the coverage of the order-statistic quantile interval (exact binomial, so at least 95%
by construction; checked by simulation with 4 standard errors of the coverage), and the tail mean
of a sample worked by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.estimate import mean_ci, quantile_ci, share_ci, tail_mean, tail_mean_ci


def test_wilson_interval_matches_the_published_example():
    e = share_ci(81, 263)
    assert e.mean == pytest.approx(81 / 263)
    assert (e.ci_low, e.ci_high) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert share_ci(10, 10).ci_high == pytest.approx(1.0) and share_ci(0, 10).ci_low == pytest.approx(0.0, abs=1e-12)
    from statsmodels.stats.proportion import proportion_confint

    for k, n in ((0, 8), (3, 8), (94, 100)):
        assert (share_ci(k, n).ci_low, share_ci(k, n).ci_high) == pytest.approx(
            proportion_confint(k, n, method="wilson"), abs=1e-12)


def test_quantile_interval_covers_the_true_quantile():
    """2,000 samples of 60 normals: the 10th-percentile interval covers z_0.1 in >= 95% - 4 SE of them."""
    rng = np.random.default_rng(4)
    true = -1.2815515655446004
    hits, trials = 0, 2000
    for _ in range(trials):
        e = quantile_ci(rng.standard_normal(60), 0.1)
        hits += e.ci_low <= true <= e.ci_high
    assert hits / trials >= 0.95 - 4 * math.sqrt(0.95 * 0.05 / trials)


def test_quantile_interval_is_open_when_too_few_replications():
    e = quantile_ci(np.arange(8.0), 0.1)
    assert e.ci_low is None and e.ci_high is not None  # no order statistic sits safely below a 10th percentile
    assert e.mean == pytest.approx(np.quantile(np.arange(8.0), 0.1))


def test_tail_mean_by_hand_and_its_interval():
    x = [5.0, -3.0, 1.0, 9.0, -1.0, 2.0, 4.0, 0.0, 7.0, 3.0]
    assert tail_mean(x, 0.1) == -3.0  # worst 1 of 10
    assert tail_mean(x, 0.25) == pytest.approx((-3.0 - 1.0 + 0.0) / 3)  # ceil(2.5) = 3 worst
    e = tail_mean_ci(x, 0.25)
    assert e.ci_low <= e.mean <= e.ci_high
    assert tail_mean_ci(x, 0.25) == e  # seeded: the same interval every time
    assert mean_ci(x).mean > e.mean
