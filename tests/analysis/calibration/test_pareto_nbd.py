"""Tests for analysis/calibration/pareto_nbd.py: likelihood, predictions and the CDNOW fit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy import integrate, special

from analysis.calibration import (
    NotFittedError,
    ParetoNBDModel,
    holdout_validation,
    multistart,
    pareto_nbd_expected_conditional,
    pareto_nbd_expected_transactions,
    pareto_nbd_log_likelihood,
    pareto_nbd_probability_alive,
)

# Fader, Hardie & Lee (2005), Pareto/NBD on the 2,357-customer CDNOW sample.
PUBLISHED = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
PUBLISHED_LL_PER_CUSTOMER = -9595.0 / 2357
PARAM_SETS = [PUBLISHED,                                            # alpha < beta branch
              {"r": 2.0, "alpha": 5.0, "s": 1.5, "beta": 3.0},       # alpha >= beta branch
              {"r": 0.8, "alpha": 4.0, "s": 1.0, "beta": 4.0}]       # s = 1 and alpha = beta
CASES = [(0, 0.0, 38.86), (2, 30.43, 38.86), (7, 29.43, 30.0), (5, 30.0, 30.0)]


def _mixture_integral(par, f):
    """E[f(lambda, mu)] over the two gamma mixtures, after lambda = u^(1/r), mu = v^(1/s).

    The substitution removes the x^(shape-1) singularities at 0, so plain dblquad converges.
    """
    r, alpha, s, beta = (par[k] for k in ("r", "alpha", "s", "beta"))
    const = np.exp(r * np.log(alpha) + s * np.log(beta) - special.gammaln(r + 1)
                   - special.gammaln(s + 1))

    def integrand(v, u):
        lam, mu = u ** (1 / r), v ** (1 / s)
        return f(lam, mu) * np.exp(-alpha * lam - beta * mu)

    val, _ = integrate.dblquad(integrand, 0, np.inf, 0, np.inf, epsabs=0, epsrel=1e-10)
    return const * val


@pytest.mark.parametrize("par", PARAM_SETS)
@pytest.mark.parametrize("x,tx,T", CASES)
def test_log_likelihood_matches_numerical_integration(par, x, tx, T):
    """The hypergeometric log-likelihood equals the double integral over lambda and mu."""

    def individual(lam, mu):
        return (lam ** x * mu / (lam + mu) * np.exp(-(lam + mu) * tx)
                + lam ** (x + 1) / (lam + mu) * np.exp(-(lam + mu) * T))

    direct = _mixture_integral(par, individual)
    # dblquad is asked for 1e-10; 1e-7 on the log-likelihood leaves a wide margin
    assert pareto_nbd_log_likelihood(par, [x], [tx], [T])[0] == pytest.approx(
        np.log(direct), rel=1e-7)


@pytest.mark.parametrize("par", PARAM_SETS)
def test_predictions_match_integrals(par):
    """E[X(t)] and P(alive) match their defining integrals."""
    r, alpha, s, beta = (par[k] for k in ("r", "alpha", "s", "beta"))
    t = 39.0
    # E[X(t)] = E[lambda] E[(1 - exp(-mu t)) / mu]
    inner, _ = integrate.quad(
        lambda v: -np.expm1(-v ** (1 / s) * t) / v ** (1 / s) * np.exp(-beta * v ** (1 / s)),
        0, np.inf, epsrel=1e-11)
    direct = r / alpha * inner * np.exp(s * np.log(beta) - special.gammaln(s + 1))
    assert pareto_nbd_expected_transactions(par, t) == pytest.approx(direct, rel=1e-8)
    x, tx, T = 3, 20.0, 38.0
    alive = _mixture_integral(par, lambda lam, mu: lam ** x * np.exp(-(lam + mu) * T))
    total = np.exp(pareto_nbd_log_likelihood(par, [x], [tx], [T])[0])
    assert pareto_nbd_probability_alive(par, [x], [tx], [T])[0] == pytest.approx(
        alive / total, rel=1e-7)


def test_heavy_buyers_neither_overflow_nor_jump_between_branches():
    """Large frequencies stay finite; the alpha < beta and alpha >= beta forms meet smoothly."""
    x = np.array([0, 1, 10, 100, 1000])
    recent = np.where(x > 0, 38.5, 0.0)  # bought on the last day: alive, so E rises with x
    got = pareto_nbd_expected_conditional(PUBLISHED, 39.0, x, recent, np.full(5, 38.5))
    assert np.all(np.isfinite(got)) and np.all(np.diff(got) > 0)
    for k in (3, 300, 3000):
        below = pareto_nbd_log_likelihood({**PUBLISHED, "alpha": 11.67 * (1 - 1e-9)}, [k],
                                          [20.0], [38.5])
        above = pareto_nbd_log_likelihood({**PUBLISHED, "alpha": 11.67 * (1 + 1e-9)}, [k],
                                          [20.0], [38.5])
        assert np.isfinite(below[0]) and below[0] == pytest.approx(above[0], rel=1e-7, abs=1e-7)


def test_cdnow_fit_close_to_published(cdnow_log, cdnow_summary):
    """Full-log Pareto/NBD estimates lie within 12 full-data SEs of the published sample fit.

    The 12-SE band is the 1/10-sample argument of test_cdnow.py: Var(sample - full) is about
    9 times the full-data variance, so 4 standard deviations are 4 * 3 = 12 SEs.
    """
    model = ParetoNBDModel().fit(cdnow_summary)
    for k, published in PUBLISHED.items():
        assert abs(model.params_[k] - published) < 12 * model.se_[k], (k, model.params_)
    t = cdnow_summary.table
    per_customer = model.log_likelihood(t["frequency"], t["recency"], t["T"])
    sd = per_customer.std() / np.sqrt(2357) * np.sqrt(0.9)
    assert abs(per_customer.mean() - PUBLISHED_LL_PER_CUSTOMER) < 4 * sd
    result = holdout_validation(cdnow_log, cdnow_summary, model)  # duck-typed like BG/NBD
    assert result.mape_holdout < 10.0 and result.correlation > 0.6
    clone = pickle.loads(pickle.dumps(model))
    assert clone.params_ == model.params_


def test_fit_from_distant_starts_agrees(cdnow_summary):
    """Pareto/NBD fits from two distant starting points reach the same optimum (1e-4)."""
    starts = [{"r": 5.0, "alpha": 1.0, "s": 0.1, "beta": 100.0},
              {"r": 0.1, "alpha": 50.0, "s": 3.0, "beta": 1.0}]
    result = multistart(cdnow_summary, starts, model=ParetoNBDModel(compute_se=False),
                        rtol=1e-4, ll_atol=1e-5)
    assert result.consistent, result


def test_use_before_fit_is_an_error():
    """Predictions before fit raise NotFittedError."""
    with pytest.raises(NotFittedError, match="call fit"):
        ParetoNBDModel().probability_alive([1], [2.0], [3.0])
