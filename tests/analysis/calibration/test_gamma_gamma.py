"""Tests for analysis/calibration/gamma_gamma.py: density, conditional spend, fitting."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from analysis.calibration import (
    GammaGammaModel,
    NotFittedError,
    gamma_gamma_expected_spend,
    gamma_gamma_log_likelihood,
)
from scenarios.errors import ConfigError

PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def _density_by_integration(par, x, m):
    """f(m | x) = integral over nu ~ Gamma(q, rate gamma) of Gamma(m; p x, rate nu x)."""
    p, q, g = par["p"], par["q"], par["gamma"]

    def integrand(nu):
        return stats.gamma.pdf(m, p * x, scale=1.0 / (nu * x)) * stats.gamma.pdf(nu, q,
                                                                                 scale=1.0 / g)

    val, _ = integrate.quad(integrand, 0.0, np.inf, epsabs=0, epsrel=1e-11, limit=400)
    return val


@pytest.mark.parametrize("par", [PUBLISHED, {"p": 1.5, "q": 0.8, "gamma": 3.0}])
@pytest.mark.parametrize("x,m", [(1, 11.77), (2, 22.35), (7, 73.74), (29, 26.26), (3, 0.5)])
def test_density_matches_numerical_integration(par, x, m):
    """The closed-form log-density equals the integral over the gamma mixing distribution."""
    direct = _density_by_integration(par, x, m)
    # quad at 1e-11 relative accuracy; 1e-8 on the log is a safe margin
    assert gamma_gamma_log_likelihood(par, x, m)[0] == pytest.approx(np.log(direct), rel=1e-8)


def test_density_integrates_to_one():
    """The density of the mean spend integrates to 1 over m for several x."""
    for x in (1, 3, 10):
        total, _ = integrate.quad(lambda m: np.exp(gamma_gamma_log_likelihood(PUBLISHED, x, m)[0]),
                                  0.0, np.inf, limit=400)
        assert total == pytest.approx(1.0, abs=1e-7)


def test_conditional_spend_is_posterior_mean():
    """E[M | x, m] equals the posterior mean of p / nu computed by integration."""
    p, q, g = PUBLISHED.values()
    x, m = 3, 40.0
    post = lambda nu: stats.gamma.pdf(m, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(  # noqa: E731
        nu, q, scale=1 / g)
    num, _ = integrate.quad(lambda nu: p / nu * post(nu), 0, np.inf, epsrel=1e-11)
    den, _ = integrate.quad(post, 0, np.inf, epsrel=1e-11)
    assert gamma_gamma_expected_spend(PUBLISHED, x, m) == pytest.approx(num / den, rel=1e-8)
    # no repeat purchase: the population mean p gamma / (q - 1)
    assert gamma_gamma_expected_spend(PUBLISHED, 0, 0.0) == pytest.approx(p * g / (q - 1))
    with pytest.raises(ConfigError, match="needs q > 1"):
        gamma_gamma_expected_spend({"p": 1.0, "q": 0.9, "gamma": 1.0}, 1, 10.0)


def test_fit_uses_repeat_customers_and_follows_contract(cdnow_summary):
    """Only x > 0 customers with positive spend are used; the model pickles and refits alike."""
    model = GammaGammaModel()
    with pytest.raises(NotFittedError, match="call fit"):
        model.population_mean_spend()
    assert model.fit(cdnow_summary) is model
    t = cdnow_summary.table
    repeaters = (t["frequency"] > 0) & (t["monetary_value"] > 0)
    assert model.n_customers_ == int(repeaters.sum())
    assert sum(model.n_excluded_.values()) + model.n_customers_ == len(t)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(clone.expected_average_spend([1, 5], [20.0, 20.0]),
                               model.expected_average_spend([1, 5], [20.0, 20.0]))
    refit = GammaGammaModel(init={"p": 20.0, "q": 1.5, "gamma": 2.0}).fit(cdnow_summary)
    for k in model.params_:
        assert refit.params_[k] == pytest.approx(model.params_[k], rel=1e-4)


def test_too_few_repeat_customers():
    """Fewer than three usable customers is a ConfigError."""
    data = pd.DataFrame({"frequency": [0, 1, 0], "monetary_value": [0.0, 10.0, 0.0]})
    with pytest.raises(ConfigError, match="needs at least 3 repeat customers"):
        GammaGammaModel().fit(data)
