"""Tests for analysis/power.py: statsmodels agreement, published values, round trips, errors."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
)

import analysis.power as power_mod
from analysis.power import mean_power, proportion_power, simulated_power_ci
from scenarios.errors import ConfigError, ConvergenceError

ALTERNATIVES = ["two-sided", "larger", "smaller"]
METHODS = ["cohen-h", "pooled", "unpooled"]
# the grid the analytic functions are compared on (baselines, mdes, alphas, ratios, alternatives)
GRID = list(
    itertools.product([0.05, 0.2, 0.5], [0.01, 0.03], [0.01, 0.05, 0.1], [0.5, 1.0, 2.5],
                      ALTERNATIVES)
)


def _treatment(baseline: float, mde: float, alternative: str) -> float:
    return baseline - mde if alternative == "smaller" else baseline + mde


@pytest.mark.parametrize(("baseline", "mde", "alpha", "ratio", "alternative"), GRID)
def test_cohen_h_matches_normal_ind_power(baseline, mde, alpha, ratio, alternative):
    """Cohen-h power, n and MDE equal statsmodels NormalIndPower on a grid of designs."""
    p_t = _treatment(baseline, mde, alternative)
    h = proportion_effectsize(p_t, baseline)
    ref = NormalIndPower()
    res = proportion_power(baseline=baseline, mde=mde, n_per_arm=800, alpha=alpha, ratio=ratio,
                           alternative=alternative, method="cohen-h")
    assert res.power == pytest.approx(ref.power(h, 800, alpha, ratio, alternative), abs=1e-6)
    assert res.effect_size == pytest.approx(h, abs=1e-12)

    target = 0.8
    n_ref = ref.solve_power(h, None, alpha, target, ratio, alternative)
    sized = proportion_power(baseline=baseline, mde=mde, power=target, alpha=alpha, ratio=ratio,
                             alternative=alternative, method="cohen-h")
    assert sized.n_per_arm == pytest.approx(n_ref, rel=1e-6)
    assert sized.n_treatment == pytest.approx(ratio * n_ref, rel=1e-6)

    mde_res = proportion_power(baseline=baseline, n_per_arm=800, power=target, alpha=alpha,
                               ratio=ratio, alternative=alternative, method="cohen-h")
    # our root satisfies statsmodels' own power equation to 1e-9 ...
    assert ref.power(mde_res.effect_size, 800, alpha, ratio, alternative) == pytest.approx(
        target, abs=1e-9)
    # ... and agrees with solve_power, whose effect-size search stops at xtol=1e-5 in h
    h_ref = ref.solve_power(None, 800, alpha, target, ratio, alternative)
    assert mde_res.effect_size == pytest.approx(h_ref, abs=1e-5)


@pytest.mark.parametrize("test", ["t", "z"])
@pytest.mark.parametrize(("alpha", "ratio", "alternative"),
                         list(itertools.product([0.01, 0.05], [0.5, 1.0, 3.0], ALTERNATIVES)))
def test_mean_power_matches_statsmodels(test, alpha, ratio, alternative):
    """Mean power, n and MDE equal TTestIndPower / NormalIndPower to 1e-6."""
    ref = TTestIndPower() if test == "t" else NormalIndPower()
    sd, mde = 12.0, 1.5
    d = -mde / sd if alternative == "smaller" else mde / sd
    for n in (10, 150, 2000):
        res = mean_power(baseline_mean=40.0, sd=sd, mde=mde, n_per_arm=n, alpha=alpha,
                         ratio=ratio, alternative=alternative, test=test)
        assert res.power == pytest.approx(ref.power(d, n, alpha, ratio, alternative=alternative),
                                          abs=1e-6)
    sized = mean_power(baseline_mean=40.0, sd=sd, mde=mde, power=0.9, alpha=alpha, ratio=ratio,
                       alternative=alternative, test=test)
    n_ref = ref.solve_power(effect_size=d, nobs1=None, alpha=alpha, power=0.9, ratio=ratio,
                            alternative=alternative)
    assert sized.n_per_arm == pytest.approx(n_ref, rel=1e-6)
    mde_res = mean_power(baseline_mean=40.0, sd=sd, n_per_arm=300, power=0.9, alpha=alpha,
                         ratio=ratio, alternative=alternative, test=test)
    assert ref.power(mde_res.effect_size, 300, alpha, ratio, alternative=alternative) == (
        pytest.approx(0.9, abs=1e-9))
    # statsmodels 0.15 solve_power(effect_size=None, alternative="smaller") can return a wrong
    # root silently (t, ratio=3: power 7.6e-52 at its answer), so "smaller" is compared with
    # the mirrored "larger" solution; power is symmetric under d -> -d with the tails swapped
    mirrored = alternative == "smaller"
    d_ref = ref.solve_power(effect_size=None, nobs1=300, alpha=alpha, power=0.9, ratio=ratio,
                            alternative="larger" if mirrored else alternative)
    d_ref = -d_ref if mirrored else d_ref
    assert mde_res.effect_size == pytest.approx(d_ref, abs=1e-5)  # statsmodels xtol=1e-5
    assert mde_res.mde_absolute == pytest.approx(abs(mde_res.effect_size) * sd, rel=1e-12)


def test_pooled_reproduces_r_power_prop_test_help_examples():
    """Pooled method reproduces the three examples on R's power.prop.test help page."""
    # R prints n = 76.7, power = 0.740 and p2 = 0.8026; tolerances are half a printed unit
    sized = proportion_power(baseline=0.5, mde=0.25, power=0.9)
    assert sized.n_per_arm == pytest.approx(76.7, abs=0.05)
    powered = proportion_power(baseline=0.5, mde=0.25, n_per_arm=50)
    assert powered.power == pytest.approx(0.740, abs=5e-4)
    mde = proportion_power(baseline=0.5, n_per_arm=50, power=0.9)
    assert mde.treatment == pytest.approx(0.8026, abs=5e-5)


def test_cohen_h_reproduces_pwr_2p_test_value():
    """Cohen-h gives n = 76.65294 for p 0.5 -> 0.75, power 0.9 (the arcsine/pwr.2p.test value)."""
    res = proportion_power(baseline=0.5, mde=0.25, power=0.9, method="cohen-h")
    # 7 significant digits are published, so agree to half a unit in the last digit
    assert res.n_per_arm == pytest.approx(76.65294, abs=5e-6)


@pytest.mark.parametrize(("p_c", "p_t", "alpha", "power", "ratio"), [
    (0.5, 0.75, 0.05, 0.9, 1.0),
    (0.1, 0.12, 0.05, 0.8, 1.0),
    (0.03, 0.025, 0.01, 0.8, 2.0),
    (0.6, 0.65, 0.1, 0.95, 0.4),
])
def test_pooled_and_unpooled_match_fleiss_closed_forms(p_c, p_t, alpha, power, ratio):
    """One-sided n equals the Fleiss (pooled) and Wald (unpooled) closed forms exactly."""
    z_a, z_b = stats.norm.isf(alpha), stats.norm.isf(1.0 - power)
    delta = abs(p_t - p_c)
    p_bar = (p_c + ratio * p_t) / (1.0 + ratio)
    var1 = p_c * (1 - p_c) + p_t * (1 - p_t) / ratio  # per control unit, treatment is ratio*n
    n_pooled = (z_a * math.sqrt(p_bar * (1 - p_bar) * (1 + 1 / ratio))
                + z_b * math.sqrt(var1)) ** 2 / delta**2
    n_wald = (z_a + z_b) ** 2 * var1 / delta**2
    alt = "larger" if p_t > p_c else "smaller"
    for method, expected in (("pooled", n_pooled), ("unpooled", n_wald)):
        res = proportion_power(baseline=p_c, mde=delta, power=power, alpha=alpha, ratio=ratio,
                               alternative=alt, method=method)
        assert res.n_per_arm == pytest.approx(expected, rel=1e-9)  # root tolerance 1e-10 in n


@pytest.mark.parametrize(("baseline", "mde", "alpha", "ratio", "alternative"), GRID[::5])
def test_pooled_matches_statsmodels_power_proportions_2indep(baseline, mde, alpha, ratio,
                                                             alternative):
    """Pooled power equals statsmodels power_proportions_2indep (pooled null, unpooled alt)."""
    p_t = _treatment(baseline, mde, alternative)
    # statsmodels' sample 1 is our control (nobs1) and its prop2 our treatment (ratio * nobs1);
    # its statistic is p1 - p2 = control - treatment, so the one-sided labels swap
    sm_alt = {"two-sided": "two-sided", "larger": "smaller", "smaller": "larger"}[alternative]
    ref = power_proportions_2indep(baseline - p_t, p_t, 700, ratio=ratio, alpha=alpha,
                                   alternative=sm_alt, return_results=False)
    res = proportion_power(baseline=baseline, mde=mde, n_per_arm=700, alpha=alpha, ratio=ratio,
                           alternative=alternative)
    assert res.power == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_solvers_round_trip(method, alternative):
    """n -> power -> n and n -> mde -> n return the starting sample size."""
    base = dict(baseline=0.12, alpha=0.05, ratio=1.7, alternative=alternative, method=method)
    n0 = 1234.5
    pw = proportion_power(mde=0.02, n_per_arm=n0, **base).power
    assert proportion_power(mde=0.02, power=pw, **base).n_per_arm == pytest.approx(n0, rel=1e-8)
    found = proportion_power(n_per_arm=n0, power=0.85, **base)
    back = proportion_power(mde=found.mde_absolute, power=0.85, **base)
    assert back.n_per_arm == pytest.approx(n0, rel=1e-8)
    assert found.solved_for == "mde" and found.method == method


@pytest.mark.parametrize("test", ["t", "z"])
def test_mean_solvers_round_trip(test):
    """Means: n -> power -> n and relative MDE round trips."""
    base = dict(baseline_mean=25.0, sd=30.0, alpha=0.05, ratio=0.5, test=test)
    pw = mean_power(mde=0.1, relative=True, n_per_arm=4000, **base).power
    res = mean_power(mde=0.1, relative=True, power=pw, **base)
    assert res.n_per_arm == pytest.approx(4000, rel=1e-8)
    assert res.mde_absolute == pytest.approx(2.5) and res.mde_relative == pytest.approx(0.1)


@settings(max_examples=60, deadline=None)
@given(baseline=st.floats(0.02, 0.8), mde_frac=st.floats(0.05, 0.9),
       n=st.floats(50, 1e5), method=st.sampled_from(METHODS),
       alternative=st.sampled_from(ALTERNATIVES))
def test_power_in_range_and_round_trips_property(baseline, mde_frac, n, method, alternative):
    """For any valid design power lies in (alpha, 1] and solving n back recovers the input."""
    room = baseline if alternative == "smaller" else 1.0 - baseline
    mde = mde_frac * room
    res = proportion_power(baseline=baseline, mde=mde, n_per_arm=n, method=method,
                           alternative=alternative)
    assert 0.05 - 1e-12 <= res.power <= 1.0
    if res.power < 1.0 - 1e-6 and res.power > 0.06:  # solvable without flat regions
        again = proportion_power(baseline=baseline, mde=mde, power=res.power, method=method,
                                 alternative=alternative)
        assert again.n_per_arm == pytest.approx(n, rel=1e-6)


def _simulated_rejection_rate(method, p_c, p_t, n1, n2, alpha, reps, rng):
    x_c = rng.binomial(n1, p_c, size=reps)
    x_t = rng.binomial(n2, p_t, size=reps)
    pc, pt = x_c / n1, x_t / n2
    if method == "cohen-h":
        z = (2 * np.arcsin(np.sqrt(pt)) - 2 * np.arcsin(np.sqrt(pc))) / np.sqrt(1 / n1 + 1 / n2)
    elif method == "pooled":
        pbar = (x_c + x_t) / (n1 + n2)
        z = (pt - pc) / np.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2))
    else:
        z = (pt - pc) / np.sqrt(pc * (1 - pc) / n1 + pt * (1 - pt) / n2)
    return float(np.mean(np.abs(z) > stats.norm.isf(alpha / 2)))


@pytest.mark.parametrize("method", METHODS)
def test_analytic_power_matches_simulated_tests(method):
    """Each method's power equals the rejection rate of its own z-test in simulation."""
    rng = np.random.default_rng(20240601)
    n1, ratio, p_c, p_t, reps = 20_000, 1.5, 0.10, 0.106, 20_000
    res = proportion_power(baseline=p_c, mde=p_t - p_c, n_per_arm=n1, ratio=ratio, method=method)
    rate = _simulated_rejection_rate(method, p_c, p_t, n1, int(ratio * n1), 0.05, reps, rng)
    # 4 Monte Carlo standard errors; at n = 20k per arm the normal approximation error is far
    # below that (skewness of the binomial counts is ~0.02)
    mc_se = math.sqrt(res.power * (1 - res.power) / reps)
    assert abs(rate - res.power) < 4 * mc_se


def test_pooled_differs_from_unpooled_and_cohen_h():
    """The three variance models give different n, so the choice is visible in results."""
    ns = {m: proportion_power(baseline=0.05, mde=0.01, power=0.8, method=m).n_per_arm
          for m in METHODS}
    assert len({round(v, 3) for v in ns.values()}) == 3
    assert ns["unpooled"] < ns["pooled"]


def test_relative_mde_equals_absolute():
    """relative=True treats mde as a fraction of the baseline."""
    rel = proportion_power(baseline=0.2, mde=0.1, relative=True, n_per_arm=5000)
    abs_ = proportion_power(baseline=0.2, mde=0.02, n_per_arm=5000)
    assert rel.power == pytest.approx(abs_.power, rel=1e-12)
    assert rel.mde_relative == pytest.approx(0.1) and rel.mde_absolute == pytest.approx(0.02)


def test_result_fields_ceil_and_to_dict():
    """Results carry ceilings, the treatment arm, and serialise to JSON."""
    res = proportion_power(baseline=0.1, mde=0.02, power=0.8, ratio=2.0)
    assert res.n_per_arm_ceil == math.ceil(res.n_per_arm)
    assert res.n_treatment_ceil == math.ceil(2.0 * res.n_per_arm)
    d = res.to_dict()
    assert d["method"] == "pooled" and d["solved_for"] == "n_per_arm"
    json.dumps(d)
    with pytest.raises(AttributeError):
        res.power = 0.5  # frozen


def test_mde_unattainable_raises_config_error():
    """An MDE request whose power is out of reach even at p = 1 raises, never returns nan."""
    with pytest.raises(ConfigError, match="power=0.99 is unattainable with n_per_arm=3"):
        proportion_power(baseline=0.5, n_per_arm=3, power=0.99)


def test_effect_too_large_to_size_raises():
    """Solving n when n=2 already exceeds the target power raises ConfigError."""
    with pytest.raises(ConfigError, match="n_per_arm=2"):
        mean_power(baseline_mean=0.0, sd=1.0, mde=50.0, power=0.8, test="z")


def test_solver_failure_raises_convergence_error_with_diagnostics(monkeypatch):
    """If power never reaches the target the solver raises ConvergenceError with diagnostics."""
    monkeypatch.setattr(power_mod, "_proportion_power_fn", lambda *args: 0.06)
    with pytest.raises(ConvergenceError) as info:
        proportion_power(baseline=0.3, mde=0.01, power=0.8)
    assert info.value.diagnostics["power"] == 0.06
    assert info.value.diagnostics["method"] == "pooled"


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(baseline=0.1, mde=0.01), r"exactly one of mde, n_per_arm, power must be None"),
    (dict(baseline=0.1, mde=0.01, n_per_arm=100, power=0.8), r"exactly one of"),
    (dict(baseline=1.5, mde=0.01, n_per_arm=100), r"baseline must be in \(0, 1\); got 1.5"),
    (dict(baseline=0.1, mde=0.01, n_per_arm=100, alpha=1.5),
     r"alpha must be in \(0, 1\); got 1.5"),
    (dict(baseline=0.1, mde=0.01, power=0.04), r"power must be in \(alpha, 1\)"),
    (dict(baseline=0.1, mde=0.01, n_per_arm=1), r"n_per_arm must be >= 2; got 1"),
    (dict(baseline=0.1, mde=0.01, n_per_arm=100, ratio=0), r"ratio must be > 0; got 0"),
    (dict(baseline=0.1, mde=-0.01, n_per_arm=100), r"mde must be > 0; got -0.01"),
    (dict(baseline=0.95, mde=0.1, n_per_arm=100), r"baseline \+ mde must be in \(0, 1\)"),
    (dict(baseline=0.05, mde=0.1, n_per_arm=100, alternative="smaller"),
     r"baseline - mde must be in \(0, 1\)"),
    (dict(baseline=0.1, mde=0.01, n_per_arm=100, method="arcsine"), r"method must be one of"),
    (dict(baseline=0.1, mde=0.01, n_per_arm=100, alternative="less"),
     r"alternative must be one of"),
    (dict(baseline=0.1, mde=float("nan"), n_per_arm=100), r"mde must be finite"),
])
def test_proportion_power_rejects_bad_inputs(kwargs, match):
    """Invalid proportion designs raise ConfigError naming the parameter and value."""
    with pytest.raises(ConfigError, match=match):
        proportion_power(**kwargs)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(baseline_mean=1.0, sd=0.0, mde=0.1, n_per_arm=10), r"sd must be > 0; got 0.0"),
    (dict(baseline_mean=-1.0, sd=1.0, mde=0.1, n_per_arm=10, relative=True),
     r"baseline_mean must be > 0 when relative=True; got -1.0"),
    (dict(baseline_mean=1.0, sd=1.0, mde=0.1, n_per_arm=10, test="welch"),
     r"test must be one of \['t', 'z'\]"),
    (dict(baseline_mean=1.0, sd=1.0, n_per_arm=10), r"exactly one of"),
])
def test_mean_power_rejects_bad_inputs(kwargs, match):
    """Invalid mean designs raise ConfigError naming the parameter and value."""
    with pytest.raises(ConfigError, match=match):
        mean_power(**kwargs)


@pytest.mark.parametrize(("k", "m"), [(0, 50), (3, 50), (160, 200), (200, 200), (517, 1000)])
def test_simulated_power_ci_is_wilson(k, m):
    """The Monte Carlo interval equals statsmodels' Wilson interval and contains the estimate."""
    est, lo, hi = simulated_power_ci(k, m)
    ref_lo, ref_hi = proportion_confint(k, m, alpha=0.05, method="wilson")
    assert est == k / m
    assert (lo, hi) == pytest.approx((ref_lo, ref_hi), abs=1e-12)
    assert 0.0 <= lo <= est <= hi <= 1.0


@pytest.mark.parametrize(("args", "match"), [
    ((11, 10), r"successes must be in \[0, replications\]"),
    ((1, 0), r"replications must be >= 1; got 0"),
    ((1.5, 10), r"successes must be an integer; got 1.5"),
    ((5, 10, 1.0), r"level must be in \(0, 1\); got 1.0"),
])
def test_simulated_power_ci_rejects_bad_inputs(args, match):
    """Bad counts or levels raise ConfigError."""
    with pytest.raises(ConfigError, match=match):
        simulated_power_ci(*args)


def test_t_power_finite_where_statsmodels_returns_nan():
    """Two-sided t power stays finite where scipy's noncentral t makes statsmodels return nan."""
    d, n, ratio, alpha = 0.8989898989899673, 300, 0.5, 0.01
    assert math.isnan(TTestIndPower().power(d, n, alpha, ratio, alternative="two-sided"))
    res = mean_power(baseline_mean=0.0, sd=1.0, mde=d, n_per_arm=n, ratio=ratio, alpha=alpha)
    one_tail = TTestIndPower().power(d, n, alpha / 2, ratio, alternative="larger")
    # the far tail is below 1e-12 by the bound in _t_power_fallback
    assert res.power == pytest.approx(one_tail, abs=1e-12)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("d", "n", "ratio"), [(0.2, 300, 1.5), (0.05, 40, 1.0), (-0.3, 100, 0.7)])
def test_t_power_fallback_equals_statsmodels_where_finite(alternative, d, n, ratio):
    """The nan fallback's tail formula equals statsmodels wherever statsmodels is finite."""
    expected = TTestIndPower().power(d, n, 0.05, ratio, alternative=alternative)
    got = power_mod._t_power_fallback(d, n, ratio, 0.05, alternative)
    assert got == pytest.approx(expected, abs=1e-12)
