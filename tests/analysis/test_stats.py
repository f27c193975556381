"""Tests for analysis/stats.py: reference agreement, CI coverage, A/A calibration, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from analysis.stats import (
    Estimate,
    bootstrap_ratio_ci,
    cuped,
    diff_in_means,
    diff_in_means_cuped,
    diff_in_proportions,
    ratio_metric,
    winsorize_pooled,
)
from scenarios.errors import ConfigError, LabError, NotEstimableError

N_DATASETS = 2000
# Coverage over N_DATASETS independent datasets is Binomial(N, 0.95)/N: s.e. 0.0049, so a
# correct 95% interval lands in 0.95 +/- 4 s.e. = [0.9305, 0.9695] except with prob. ~6e-5.
COVERAGE_TOL = 4 * math.sqrt(0.95 * 0.05 / N_DATASETS)


# --------------------------------------------------------------------------------------------
# agreement with reference implementations


@pytest.mark.parametrize(("x_c", "n_c", "x_t", "n_t"), [
    (100, 1000, 130, 1000), (7, 50, 3, 80), (450, 5000, 520, 4800), (0, 30, 4, 30),
])
def test_diff_in_proportions_matches_statsmodels(x_c, n_c, x_t, n_t):
    """Wald CI matches confint_proportions_2indep and the p-value matches proportions_ztest."""
    est = diff_in_proportions(x_c, n_c, x_t, n_t, alpha=0.1)
    lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff",
                                        alpha=0.1)
    _, p_value = proportions_ztest([x_t, x_c], [n_t, n_c])  # pooled variance by default
    assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi), abs=1e-12)
    assert est.p_value == pytest.approx(p_value, rel=1e-10)
    assert est.estimate == pytest.approx(x_t / n_t - x_c / n_c)
    assert est.n_control == n_c and est.n_treatment == n_t


def test_diff_in_proportions_degenerate_arms():
    """All-zero arms give a zero-width interval and p = 1; a zero control rate has no relative."""
    est = diff_in_proportions(0, 100, 0, 120)
    assert est.estimate == 0.0 and est.ci_low == est.ci_high == 0.0 and est.p_value == 1.0
    assert est.relative is None and est.rel_ci_low is None


def test_diff_in_means_matches_scipy_welch():
    """Welch interval and p-value equal scipy.stats.ttest_ind(equal_var=False)."""
    rng = np.random.default_rng(11)
    y_c = rng.gamma(2.0, 5.0, size=300)
    y_t = rng.gamma(2.2, 5.0, size=170)
    est = diff_in_means(y_c, y_t, alpha=0.1)
    ref = stats.ttest_ind(y_t, y_c, equal_var=False)
    lo, hi = ref.confidence_interval(confidence_level=0.9)
    assert est.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi), rel=1e-10)
    assert est.method == "Welch t"


def _delta_var_by_hand(num, den):
    """Textbook delta-method variance of sum(num)/sum(den), term by term."""
    n, mn, md = num.size, num.mean(), den.mean()
    cov = np.cov(num, den, ddof=1)
    return (cov[0, 0] / md**2 - 2 * mn * cov[0, 1] / md**3 + mn**2 * cov[1, 1] / md**4) / n


def test_ratio_metric_matches_textbook_delta_variance():
    """Ratio-of-sums s.e. equals the expanded delta-method formula for both arms."""
    rng = np.random.default_rng(5)
    num_c, den_c, num_t, den_t = _draw_ratio(rng)
    est = ratio_metric(num_c, den_c, num_t, den_t)
    expected_var = _delta_var_by_hand(num_c, den_c) + _delta_var_by_hand(num_t, den_t)
    assert est.std_error == pytest.approx(math.sqrt(expected_var), rel=1e-10)
    assert est.control_value == pytest.approx(num_c.sum() / den_c.sum(), rel=1e-14)
    assert est.estimate == pytest.approx(num_t.sum() / den_t.sum() - num_c.sum() / den_c.sum())
    assert est.p_value == pytest.approx(2 * stats.norm.sf(abs(est.estimate) / est.std_error))


# --------------------------------------------------------------------------------------------
# coverage against a known truth


def _coverage(draw, estimator, truth, rel_truth, seed):
    rng = np.random.default_rng(seed)
    hits = rel_hits = 0
    for _ in range(N_DATASETS):
        est = estimator(*draw(rng))
        hits += est.ci_low <= truth <= est.ci_high
        rel_hits += est.rel_ci_low <= rel_truth <= est.rel_ci_high
    return hits / N_DATASETS, rel_hits / N_DATASETS


def _draw_props(rng):
    return rng.binomial(2000, 0.20), 2000, rng.binomial(1800, 0.23), 1800


def _draw_means(rng):
    return rng.gamma(2.0, 5.0, size=400), rng.gamma(2.0, 5.5, size=300)


def _draw_ratio(rng):
    # orders per unit ~ 1 + Poisson(2); value per order with mean 20 (control) / 21 (treatment)
    d_c = 1.0 + rng.poisson(2.0, size=500)
    d_t = 1.0 + rng.poisson(2.0, size=500)
    return d_c * rng.gamma(4.0, 5.0, size=500), d_c, d_t * rng.gamma(4.0, 5.25, size=500), d_t


def _draw_cuped(rng):
    x_c, x_t = rng.normal(10.0, 2.0, size=400), rng.normal(10.0, 2.0, size=400)
    y_c = 5.0 + 1.5 * x_c + rng.normal(0.0, 2.0, size=400)
    y_t = 6.0 + 1.5 * x_t + rng.normal(0.0, 2.0, size=400)
    return y_c, x_c, y_t, x_t


@pytest.mark.parametrize(("draw", "estimator", "truth", "rel_truth"), [
    (_draw_props, diff_in_proportions, 0.03, 0.15),
    (_draw_means, diff_in_means, 1.0, 0.1),
    (_draw_ratio, ratio_metric, 1.0, 0.05),
    (_draw_cuped, diff_in_means_cuped, 1.0, 1.0 / 20.0),
], ids=["proportions", "means", "ratio", "cuped"])
def test_confidence_intervals_cover_truth(draw, estimator, truth, rel_truth):
    """Absolute and relative 95% intervals cover the known effect in ~95% of datasets."""
    cover, rel_cover = _coverage(draw, estimator, truth, rel_truth, seed=2024)
    assert abs(cover - 0.95) < COVERAGE_TOL
    assert abs(rel_cover - 0.95) < COVERAGE_TOL


@pytest.mark.parametrize("kind", ["proportions", "means", "ratio"])
def test_aa_p_values_are_uniform(kind):
    """Under A/A the p-values are Uniform(0, 1): KS test at alpha = 0.001 does not reject."""
    rng = np.random.default_rng(77)
    p_values = np.empty(1000)
    for i in range(p_values.size):
        if kind == "proportions":
            est = diff_in_proportions(rng.binomial(5000, 0.3), 5000, rng.binomial(5000, 0.3), 5000)
        elif kind == "means":
            est = diff_in_means(rng.gamma(2.0, 5.0, 300), rng.gamma(2.0, 5.0, 300))
        else:
            den_c, den_t = 1.0 + rng.poisson(2.0, 400), 1.0 + rng.poisson(2.0, 400)
            est = ratio_metric(den_c * rng.gamma(4.0, 5.0, 400), den_c,
                               den_t * rng.gamma(4.0, 5.0, 400), den_t)
        p_values[i] = est.p_value
    # alpha = 0.001 keeps a false alarm rare while detecting miscalibration of a few percent
    assert stats.kstest(p_values, "uniform").pvalue > 0.001
    assert np.all((p_values >= 0) & (p_values <= 1))


# --------------------------------------------------------------------------------------------
# bootstrap, CUPED, winsorizing


def test_delta_method_ratio_ci_agrees_with_bootstrap():
    """Delta-method and percentile-bootstrap intervals for a ratio metric agree."""
    rng = np.random.default_rng(99)
    num_c, den_c, num_t, den_t = _draw_ratio(rng)
    num_c, den_c = np.tile(num_c, 6), np.tile(den_c, 6)  # n = 3000 per arm: near-normal
    num_t, den_t = np.tile(num_t, 6), np.tile(den_t, 6)
    delta = ratio_metric(num_c, den_c, num_t, den_t)
    boot = bootstrap_ratio_ci(num_c, den_c, num_t, den_t, rng=np.random.default_rng(1),
                              n_boot=2000)
    assert boot.estimate == pytest.approx(delta.estimate)
    # Monte Carlo s.e. of a 2.5% bootstrap quantile with B = 2000 is
    # sqrt(.025 * .975 / 2000) / phi(1.96) = 0.06 s.e.; allow 4 of those
    tol = 0.24 * delta.std_error
    assert boot.ci_low == pytest.approx(delta.ci_low, abs=tol)
    assert boot.ci_high == pytest.approx(delta.ci_high, abs=tol)
    rel_se = (delta.rel_ci_high - delta.rel_ci_low) / (2 * 1.959964)
    assert boot.rel_ci_low == pytest.approx(delta.rel_ci_low, abs=0.24 * rel_se)
    assert boot.rel_ci_high == pytest.approx(delta.rel_ci_high, abs=0.24 * rel_se)


def test_bootstrap_is_reproducible_with_seed():
    """The same seed gives the same bootstrap interval; another seed a different one."""
    rng = np.random.default_rng(3)
    args = _draw_ratio(rng)
    a = bootstrap_ratio_ci(*args, rng=np.random.default_rng(8), n_boot=300)
    b = bootstrap_ratio_ci(*args, rng=np.random.default_rng(8), n_boot=300)
    c = bootstrap_ratio_ci(*args, rng=np.random.default_rng(9), n_boot=300)
    assert a == b and a.ci_low != c.ci_low


def test_cuped_reduces_variance_by_rho_squared():
    """On correlated data CUPED removes rho^2 of the variance; the s.e. shrinks to match."""
    rng = np.random.default_rng(42)
    rho, n = 0.6, 20_000
    cov = [[1.0, rho], [rho, 1.0]]
    xy_c = rng.multivariate_normal([0, 0], cov, size=n)
    xy_t = rng.multivariate_normal([0, 0], cov, size=n)
    res = cuped(xy_c[:, 1], xy_c[:, 0])
    # s.e. of a sample rho^2 is about 2 rho (1 - rho^2) / sqrt(n) = 0.0054; allow 4 s.e.
    se_r2 = 2 * rho * (1 - rho**2) / math.sqrt(n)
    assert res.variance_reduction == pytest.approx(rho**2, abs=4 * se_r2)
    assert res.variance_reduction == pytest.approx(
        np.corrcoef(xy_c[:, 1], xy_c[:, 0])[0, 1] ** 2, rel=1e-10)
    est = diff_in_means_cuped(xy_c[:, 1], xy_c[:, 0], xy_t[:, 1] + 0.1, xy_t[:, 0])
    plain = diff_in_means(xy_c[:, 1], xy_t[:, 1] + 0.1)
    assert "CUPED" in est.method
    assert est.variance_reduction == pytest.approx(rho**2, abs=4 * se_r2 * 1.5)  # 2n, 2 arms
    assert est.std_error == pytest.approx(plain.std_error * math.sqrt(1 - est.variance_reduction),
                                          rel=1e-10)


def test_cuped_theta_uses_pooled_data():
    """diff_in_means_cuped uses one theta from both arms (not per-arm thetas)."""
    rng = np.random.default_rng(4)
    x_c, x_t = rng.normal(size=200), rng.normal(size=200)
    y_c, y_t = 2 * x_c + rng.normal(size=200), 3 * x_t + rng.normal(size=200)
    theta = cuped(np.concatenate([y_c, y_t]), np.concatenate([x_c, x_t])).theta
    x_bar = np.mean(np.concatenate([x_c, x_t]))
    est = diff_in_means_cuped(y_c, x_c, y_t, x_t)
    assert est.control_value == pytest.approx(np.mean(y_c - theta * (x_c - x_bar)))
    assert est.treatment_value == pytest.approx(np.mean(y_t - theta * (x_t - x_bar)))


def test_winsorize_uses_pooled_threshold_for_both_arms():
    """One pooled quantile caps both arms; inputs are not modified."""
    rng = np.random.default_rng(6)
    y_c = rng.lognormal(1.0, 1.0, size=1000)
    y_t = np.concatenate([rng.lognormal(1.0, 1.0, size=990), np.full(10, 1e4)])
    y_t_before = y_t.copy()
    res = winsorize_pooled(y_c, y_t, upper_quantile=0.99, lower_quantile=0.01)
    pooled = np.concatenate([y_c, y_t])
    assert res.upper == pytest.approx(np.quantile(pooled, 0.99))
    assert res.lower == pytest.approx(np.quantile(pooled, 0.01))
    assert res.y_c.max() <= res.upper and res.y_t.max() == res.upper
    assert res.y_c.min() >= res.lower and res.y_t.min() >= res.lower
    np.testing.assert_array_equal(res.y_c, np.clip(y_c, res.lower, res.upper))
    np.testing.assert_array_equal(y_t, y_t_before)
    only_upper = winsorize_pooled(y_c, y_t)
    assert only_upper.lower is None and only_upper.y_c.min() == y_c.min()


# --------------------------------------------------------------------------------------------
# multiplicity, SRM, survival


# --------------------------------------------------------------------------------------------
# properties and bad inputs


@settings(max_examples=150, deadline=None)
@given(n_c=st.integers(1, 500), n_t=st.integers(1, 500), fc=st.floats(0, 1), ft=st.floats(0, 1))
def test_diff_in_proportions_invariants(n_c, n_t, fc, ft):
    """p-values lie in [0, 1] and the interval contains the estimate for any counts."""
    est = diff_in_proportions(round(fc * n_c), n_c, round(ft * n_t), n_t)
    assert 0.0 <= est.p_value <= 1.0
    assert est.ci_low <= est.estimate <= est.ci_high
    assert isinstance(est, Estimate) and est.to_dict()["method"] == est.method


def test_estimate_is_frozen_and_serialisable():
    """Estimate is immutable and to_dict round-trips its fields."""
    est = diff_in_means([1.0, 2.0, 3.0], [2.0, 4.0, 7.0], metric="arpu")
    assert est.to_dict()["metric"] == "arpu"
    with pytest.raises(AttributeError):
        est.estimate = 0.0


@pytest.mark.parametrize(("call", "match"), [
    (lambda: diff_in_means([], [1.0, 2.0]), r"y_c must have at least 2 values; got 0"),
    (lambda: diff_in_means([1.0, np.nan, 2.0], [1.0, 2.0]), r"y_c must be finite; got nan"),
    (lambda: diff_in_means([1.0, 2.0], [[1.0, 2.0]]), r"y_t must be 1-D"),
    (lambda: diff_in_means([1.0, 2.0], [1.0, 2.0], alpha=1.5),
     r"alpha must be in \(0, 1\); got 1.5"),
    (lambda: diff_in_means([1.0, 1.0], [2.0, 2.0]), r"y_c and y_t are both constant"),
    (lambda: diff_in_proportions(11, 10, 5, 10), r"x_c must be in \[0, n_c\]"),
    (lambda: diff_in_proportions(1, 10, 5.5, 10), r"x_t must be an integer >= 0; got 5.5"),
    (lambda: diff_in_proportions(1, 0, 5, 10), r"n_c must be an integer >= 1; got 0"),
    (lambda: ratio_metric([1, 2, 3], [1, 2], [1, 2], [1, 2]),
     r"num_c and den_c must have the same length; got 3 and 2"),
    (lambda: ratio_metric([1, 2], [0, 0], [1, 2], [1, 2]), r"den_c must not sum to 0"),
    (lambda: ratio_metric([1, 2], [1, 2], [2, 4], [1, 2]), r"delta-method variance is 0"),
    (lambda: bootstrap_ratio_ci([1, 2], [1, 2], [1, 2], [1, 2], rng=0),
     r"rng must be a numpy.random.Generator; got int"),
    (lambda: cuped([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]), r"x \(the covariate\) must not be constant"),
    (lambda: cuped([1.0, 2.0, 3.0], [1.0, 2.0]), r"y and x must have the same length"),
    (lambda: diff_in_means_cuped([1, 2], [1, 2], [1, 2], [1, np.inf]),
     r"x_t must be finite; got inf"),
    (lambda: winsorize_pooled([1.0], [2.0], upper_quantile=1.2),
     r"upper_quantile must be in \(0, 1\) or None; got 1.2"),
    (lambda: winsorize_pooled([1.0], [2.0], upper_quantile=0.1, lower_quantile=0.5),
     r"lower_quantile must be below upper_quantile"),
])
def test_bad_inputs_raise_config_error(call, match):
    """Invalid inputs raise ConfigError naming the argument; data that identify nothing, NotEstimableError."""
    with pytest.raises(LabError, match=match) as info:
        call()
    degenerate = ("constant", "sum to 0", "variance is 0", "no events")
    expected = NotEstimableError if any(w in match for w in degenerate) else ConfigError
    assert isinstance(info.value, expected), type(info.value)
