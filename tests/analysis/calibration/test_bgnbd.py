"""Tests for analysis/calibration/bgnbd.py: likelihood, predictions, fitting and the contract."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from analysis.calibration import (
    BetaGeoModel,
    NotFittedError,
    bgnbd_expected_conditional,
    bgnbd_expected_transactions,
    bgnbd_log_likelihood,
    bgnbd_probability_alive,
    multistart,
)
from scenarios.errors import ConfigError, ConvergenceError

CDNOW_SAMPLE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CASES = [(0, 0.0, 38.86), (1, 5.0, 38.86), (2, 30.43, 38.86), (7, 29.43, 30.0), (12, 34.4, 38.6)]
PARAM_SETS = [CDNOW_SAMPLE, {"r": 2.0, "alpha": 10.0, "a": 1.5, "b": 0.7}]


# Direct numerical evaluation of the mixture integrals, independent of the closed forms.
# lambda ~ Gamma(r, rate alpha) is integrated after substituting lambda = s**(1/r), which removes
# the lambda**(r-1) singularity at 0:
# g(lambda) d lambda = alpha**r / G(r+1) exp(-alpha s**(1/r)) ds.
def _over_lambda(f, r, alpha):
    const = np.exp(r * np.log(alpha) - special.gammaln(r + 1.0))
    val, _ = integrate.quad(lambda s: f(s ** (1.0 / r)) * np.exp(-alpha * s ** (1.0 / r)),
                            0.0, np.inf, epsabs=0, epsrel=1e-11, limit=400)
    return const * val


def _over_p(f, a, b):
    val, _ = integrate.quad(f, 0.0, 1.0, weight="alg", wvar=(a - 1.0, b - 1.0),
                            epsabs=0, epsrel=1e-11, limit=400)
    return val / special.beta(a, b)


def _likelihood_by_integration(par, x, tx, T):
    r, alpha, a, b = (par[k] for k in ("r", "alpha", "a", "b"))
    alive = _over_lambda(lambda lam: lam ** x * np.exp(-lam * T), r, alpha) \
        * _over_p(lambda p: (1 - p) ** x, a, b)
    dead = 0.0
    if x > 0:
        dead = _over_lambda(lambda lam: lam ** x * np.exp(-lam * tx), r, alpha) \
            * _over_p(lambda p: p * (1 - p) ** (x - 1), a, b)
    return alive, dead


@pytest.mark.parametrize("par", PARAM_SETS)
@pytest.mark.parametrize("x,tx,T", CASES)
def test_log_likelihood_matches_numerical_integration(par, x, tx, T):
    """The closed-form log-likelihood equals the integral over the gamma and beta mixtures."""
    alive, dead = _likelihood_by_integration(par, x, tx, T)
    ll = bgnbd_log_likelihood(par, [x], [tx], [T])[0]
    # quad is asked for 1e-11 relative accuracy; 1e-8 leaves room for the s**(1/r) substitution
    assert ll == pytest.approx(np.log(alive + dead), rel=1e-8, abs=1e-8)
    assert bgnbd_probability_alive(par, [x], [tx], [T])[0] == pytest.approx(
        alive / (alive + dead), rel=1e-8)


@pytest.mark.parametrize("par", PARAM_SETS)
def test_expected_transactions_matches_double_integral(par):
    """E[X(t)] from hyp2f1 equals the double integral of (1 - exp(-lambda p t)) / p."""
    r, alpha, a, b = (par[k] for k in ("r", "alpha", "a", "b"))
    for t in (0.5, 39.0, 78.0):
        direct = _over_p(lambda p: _over_lambda(
            lambda lam: -np.expm1(-lam * p * t) / p if p > 0 else lam * t, r, alpha), a, b)
        assert bgnbd_expected_transactions(par, t) == pytest.approx(direct, rel=1e-7)


@pytest.mark.parametrize("x,tx,T", CASES[:4])
def test_conditional_expectation_matches_double_integral(x, tx, T):
    """E[Y(t) | x, t_x, T] equals the posterior integral of the alive-customer expectation."""
    par, t = CDNOW_SAMPLE, 39.0
    r, alpha, a, b = (par[k] for k in ("r", "alpha", "a", "b"))
    alive, dead = _likelihood_by_integration(par, x, tx, T)
    numerator = _over_p(lambda p: (1 - p) ** x * _over_lambda(
        lambda lam: lam ** x * np.exp(-lam * T) * (-np.expm1(-lam * p * t) / p if p > 0
                                                   else lam * t), r, alpha), a, b)
    got = bgnbd_expected_conditional(par, t, [x], [tx], [T])[0]
    assert got == pytest.approx(numerator / (alive + dead), rel=1e-6)


def test_hypergeometric_fallback_outside_its_domain():
    """With a = 1 or a + b <= 1 the closed form is unusable and the integral takes over."""
    at_one = bgnbd_expected_transactions((0.5, 3.0, 1.0, 2.0), [1.0, 10.0, 50.0])
    near_one = bgnbd_expected_transactions((0.5, 3.0, 1.0 + 1e-5, 2.0), [1.0, 10.0, 50.0])
    np.testing.assert_allclose(at_one, near_one, rtol=1e-4)  # continuity in a at a = 1
    small = {"r": 0.5, "alpha": 3.0, "a": 0.3, "b": 0.5}  # a + b - 1 < 0
    got = bgnbd_expected_transactions(small, 10.0)
    direct = _over_p(lambda p: _over_lambda(
        lambda lam: -np.expm1(-lam * p * 10.0) / p if p > 0 else lam * 10.0, 0.5, 3.0), 0.3, 0.5)
    assert got == pytest.approx(direct, rel=1e-7)


def test_predictions_are_vectorised_and_sane():
    """Predictions broadcast, grow with t, and P(alive) is 1 for one-time buyers."""
    t = np.array([[0.0, 1.0], [10.0, 100.0]])
    e = bgnbd_expected_transactions(CDNOW_SAMPLE, t)
    assert e.shape == (2, 2) and e[0, 0] == 0.0 and np.all(np.diff(e.ravel()) > 0)
    x = np.arange(0, 60)
    pa = bgnbd_probability_alive(CDNOW_SAMPLE, x, np.where(x > 0, 30.0, 0.0), np.full(60, 38.0))
    assert pa[0] == 1.0 and np.all((pa >= 0) & (pa <= 1))
    ec = bgnbd_expected_conditional(CDNOW_SAMPLE, 39.0, x, np.where(x > 0, 38.0, 0.0),
                                    np.full(60, 38.0))
    assert np.all(np.isfinite(ec)) and np.all(np.diff(ec[1:]) > 0)


def test_fit_converges_to_same_optimum_from_several_starts(cdnow_summary, cdnow_bgnbd):
    """CDNOW fits from 4 fixed and 2 random starts, and Nelder-Mead, agree to 1e-4 relative."""
    starts = [{"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0},
              {"r": 0.05, "alpha": 50.0, "a": 5.0, "b": 0.2},
              {"r": 3.0, "alpha": 0.5, "a": 0.1, "b": 10.0},
              {"r": 0.3, "alpha": 5.0, "a": 0.8, "b": 2.5}]
    result = multistart(cdnow_summary, starts, rtol=1e-4, ll_atol=1e-5)
    assert result.consistent, result
    rng_result = multistart(cdnow_summary, 2, rng=20240601, rtol=1e-4, ll_atol=1e-5)
    assert rng_result.consistent, rng_result
    nm = BetaGeoModel(method="Nelder-Mead").fit(cdnow_summary)
    for k, v in cdnow_bgnbd.params_.items():
        assert nm.params_[k] == pytest.approx(v, rel=1e-4)
    assert result.log_likelihoods[result.best] == pytest.approx(cdnow_bgnbd.log_likelihood_,
                                                                abs=1e-5)


def test_standard_errors_match_direct_hessian(cdnow_summary, cdnow_bgnbd):
    """Delta-method SEs equal those from a numerical Hessian on the natural scale."""
    x, tx, T = (cdnow_summary.table[c].to_numpy() for c in ("frequency", "recency", "T"))
    theta = np.array([cdnow_bgnbd.params_[k] for k in ("r", "alpha", "a", "b")])

    def total(th):
        return bgnbd_log_likelihood(th, x, tx, T).sum()

    h = 1e-4 * theta
    hess = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            hess[i, j] = (total(theta + ei + ej) - total(theta + ei - ej)
                          - total(theta - ei + ej) + total(theta - ei - ej)) / (4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    # two finite-difference schemes at step 1e-4: agreement to 1% is what they can promise
    np.testing.assert_allclose([cdnow_bgnbd.se_[k] for k in ("r", "alpha", "a", "b")], se,
                               rtol=1e-2)


def test_estimator_contract(cdnow_summary, cdnow_bgnbd):
    """Hyperparameters only in __init__, fit returns self, pickles, clear error before fit."""
    model = BetaGeoModel(compute_se=False)
    assert model.get_params() == {"init": None, "method": "L-BFGS-B", "max_iter": 2000,
                                  "compute_se": False}
    assert not any(name.endswith("_") for name in vars(model))
    with pytest.raises(NotFittedError, match="call fit\\(summary\\) first"):
        model.expected_transactions(1.0)
    assert model.fit(cdnow_summary) is model
    clone = pickle.loads(pickle.dumps(cdnow_bgnbd))
    assert clone.params_ == cdnow_bgnbd.params_
    np.testing.assert_array_equal(clone.expected_transactions([5.0, 39.0]),
                                  cdnow_bgnbd.expected_transactions([5.0, 39.0]))
    assert "fitted: r=" in repr(cdnow_bgnbd)


def test_bad_hyperparameters_and_unidentified_data():
    """Bad options are ConfigErrors; unidentifiable data raise ConvergenceError + diagnostics."""
    data = pd.DataFrame({"frequency": [0] * 50, "recency": [0.0] * 50,
                         "T": np.linspace(10, 40, 50)})
    with pytest.raises(ConfigError, match=r"method must be one of \['L-BFGS-B', 'Nelder-Mead'\]"):
        BetaGeoModel(method="BFGS").fit(data)
    with pytest.raises(ConfigError, match=r"init must give exactly the parameters"):
        BetaGeoModel(init={"r": 1.0}).fit(data)
    with pytest.raises(ConvergenceError, match="not positive definite") as info:
        BetaGeoModel().fit(data)  # nobody ever repeats: a, b and r/alpha are not identified
    assert "hessian_eigenvalues" in info.value.diagnostics
    assert "iterations" in info.value.diagnostics


def test_compressed_likelihood_equals_per_customer_sum(cdnow_summary, cdnow_bgnbd):
    """The fit's log-likelihood (on unique rows with weights) equals the per-customer sum."""
    t = cdnow_summary.table
    per_customer = cdnow_bgnbd.log_likelihood(t["frequency"], t["recency"], t["T"])
    assert per_customer.sum() == pytest.approx(cdnow_bgnbd.log_likelihood_, rel=1e-12)
    assert stats.describe(per_customer).minmax[1] <= 0.0
