"""Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Colombo & Jiang 1999).

Core objects: :class:`GammaGammaModel` (estimator) and the pure functions
:func:`gamma_gamma_log_likelihood` and :func:`gamma_gamma_expected_spend`.

Model: a customer's transaction values are i.i.d. ``Gamma(p, nu)`` (shape ``p``, rate ``nu``);
across customers ``nu ~ Gamma(q, gamma)`` (shape ``q``, rate ``gamma``). The data are each
repeat customer's number of repeat transactions ``x`` and their mean value ``m``. Since the sum of
``x`` values is ``Gamma(p x, nu)``, the mean is ``Gamma(p x, nu x)``, and integrating over ``nu``
gives

``f(m | x) = G(p x + q) / (G(p x) G(q)) * gamma^q m^(p x - 1) x^(p x) / (gamma + m x)^(p x + q)``.

The model assumes spend is independent of purchase frequency; ``frequency_spend_correlation_``
reports the sample correlation so the assumption can be checked.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research* 42(4), 415-430.
Fader, P. S. and Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value. Note.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy import special

from analysis.calibration._mle import MLEModel, maximize_log_likelihood
from analysis.calibration.bgnbd import _params
from analysis.calibration.summary import RFMSummary, spend_arrays
from analysis.calibration._types import ArrayLike, ParamsLike
from scenarios.errors import ConfigError

__all__ = ["GAMMA_GAMMA_PARAMS", "GammaGammaModel", "gamma_gamma_log_likelihood",
           "gamma_gamma_expected_spend"]

#: Parameter order used by every Gamma-Gamma function.
GAMMA_GAMMA_PARAMS = ("p", "q", "gamma")


def _loglik_and_grad(theta: np.ndarray, x: np.ndarray, m: np.ndarray):
    p, q, g = theta
    px = p * x
    log_m = np.log(m)
    log_x = np.log(x)
    log_gxm = np.log(g + x * m)
    ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(g)
          + (px - 1.0) * log_m + px * log_x - (px + q) * log_gxm)
    psi_pxq = special.digamma(px + q)
    d_p = x * (psi_pxq - special.digamma(px) + log_m + log_x - log_gxm)
    d_q = psi_pxq - special.digamma(q) + np.log(g) - log_gxm
    d_g = q / g - (px + q) / (g + x * m)
    return ll, np.stack([d_p, d_q, d_g])


class _SummedLikelihood:
    """The summed Gamma-Gamma log-likelihood of many customers and its gradient.

    The terms of :func:`_loglik_and_grad` are split into sums fixed by the data (of ``log m``,
    ``x log m``, ``x log x``), special functions of the distinct frequencies, and the two sums
    over customers that move with ``gamma`` (of ``log(gamma + x m)`` and ``1 / (gamma + x m)``).
    """

    def __init__(self, x: np.ndarray, m: np.ndarray) -> None:
        self.x, self.m = x, m
        self.xs, ix = np.unique(x, return_inverse=True)
        self.count = np.bincount(ix, minlength=self.xs.size).astype(float)
        log_m, log_x = np.log(m), np.log(x)
        self.n = float(x.size)
        self.sum_log_m = float(log_m.sum())
        self.sum_x_log_m = float(np.dot(x, log_m))
        self.sum_x_log_x = float(np.dot(x, log_x))

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """(sum of log L, its gradient w.r.t. (p, q, gamma))."""
        p, q, g = theta
        xs, count = self.xs, self.count
        gxm = g + self.x * self.m
        log_gxm = np.log(gxm)
        s_log = float(log_gxm.sum())
        s_x_log = float(np.dot(self.x, log_gxm))
        inv = 1.0 / gxm
        s_inv = float(inv.sum())
        s_x_inv = float(np.dot(self.x, inv))
        pxs = p * xs
        value = (float(np.dot(count, special.gammaln(pxs + q) - special.gammaln(pxs)))
                 + self.n * (q * np.log(g) - special.gammaln(q))
                 + p * self.sum_x_log_m - self.sum_log_m + p * self.sum_x_log_x - p * s_x_log - q * s_log)
        psi_pxq = special.digamma(pxs + q)
        d_p = (float(np.dot(count * xs, psi_pxq - special.digamma(pxs)))
               + self.sum_x_log_m + self.sum_x_log_x - s_x_log)
        d_q = float(np.dot(count, psi_pxq)) - self.n * (special.digamma(q) - np.log(g)) - s_log
        d_g = self.n * q / g - p * s_x_inv - q * s_inv
        return value, np.array([d_p, d_q, d_g])


def _check_pairs(x, m, owner: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.atleast_1d(np.asarray(x, dtype=float))
    m = np.atleast_1d(np.asarray(m, dtype=float))
    x, m = np.broadcast_arrays(x, m)
    if np.any(~np.isfinite(x)) or np.any(x < 1) or np.any(x != np.round(x)):
        raise ConfigError(f"{owner}: frequency must be whole numbers >= 1 (repeat customers)")
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ConfigError(f"{owner}: monetary values must be finite and > 0")
    return x, m


def gamma_gamma_log_likelihood(params: ParamsLike, frequency: ArrayLike,
                               monetary_value: ArrayLike) -> np.ndarray:
    """Per-customer Gamma-Gamma log-density of the mean repeat spend.

    Parameters
    ----------
    params : mapping or sequence
        ``p, q, gamma`` (all > 0).
    frequency : array_like
        Repeat transactions ``x`` (>= 1).
    monetary_value : array_like
        Mean value of those transactions (> 0).

    References
    ----------
    Fader & Hardie (2013), equation (3).

    Examples
    --------
    >>> float(gamma_gamma_log_likelihood((6.25, 3.74, 15.44), 2, 22.35)[0]).__round__(4)
    -3.5513
    """
    theta = _params(params, GAMMA_GAMMA_PARAMS)
    x, m = _check_pairs(frequency, monetary_value, "gamma_gamma_log_likelihood")
    return _loglik_and_grad(theta, x, m)[0]


def gamma_gamma_expected_spend(params: ParamsLike, frequency: ArrayLike,
                               monetary_value: ArrayLike) -> np.ndarray:
    """Conditional expected spend per transaction ``E[M | x, m]``.

    ``p (gamma + x m) / (p x + q - 1)``: a weighted average of the population mean
    ``p gamma / (q - 1)`` and the customer's own mean ``m`` (weight ``p x / (p x + q - 1)``).
    Customers with ``x = 0`` get the population mean. Requires ``q > 1``.

    References
    ----------
    Fader, Hardie & Lee (2005, JMR), equation (5).
    """
    p, q, g = _params(params, GAMMA_GAMMA_PARAMS)
    if q <= 1:
        raise ConfigError(f"the expected spend needs q > 1 (finite population mean); got q={q}")
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary_value, dtype=float)
    x, m = np.broadcast_arrays(x, m)
    if np.any(x < 0) or np.any(m < 0) or np.any(~np.isfinite(x)) or np.any(~np.isfinite(m)):
        raise ConfigError("frequency and monetary_value must be finite and >= 0")
    m_used = np.where(x > 0, m, 0.0)
    return p * (g + x * m_used) / (p * x + q - 1.0)


class GammaGammaModel(MLEModel):
    """Gamma-Gamma spend model fitted by maximum likelihood on repeat customers.

    Parameters
    ----------
    init : mapping, optional
        Starting values ``{"p", "q", "gamma"}``; by default ``p = 1``, ``q = 2`` and ``gamma``
        equal to the mean spend, so the implied population mean starts at the sample mean.
    method : {"L-BFGS-B", "Nelder-Mead"}
        Optimiser on the log-parameters.
    max_iter : int
        Iteration cap.
    compute_se : bool
        Compute standard errors (numerical Hessian, delta method).

    Attributes
    ----------
    params_, se_, cov_, log_likelihood_, diagnostics_
        As for :class:`~analysis.calibration.bgnbd.BetaGeoModel`.
    n_customers_ : int
        Repeat customers used (``frequency > 0`` and ``monetary_value > 0``).
    n_excluded_ : dict
        Customers left out, by reason.
    frequency_spend_correlation_ : float
        Pearson correlation of ``frequency`` and ``monetary_value`` among the customers used
        (the model assumes it is near 0).
    """

    param_names = GAMMA_GAMMA_PARAMS

    def fit(self, summary: RFMSummary | pd.DataFrame) -> GammaGammaModel:
        """Fit on the customers with at least one repeat transaction and positive spend.

        Parameters
        ----------
        summary : RFMSummary or pandas.DataFrame
            Needs ``frequency`` and ``monetary_value``.

        Returns
        -------
        GammaGammaModel
            ``self``.

        Raises
        ------
        ConfigError
            Fewer than 3 usable customers.
        ConvergenceError
            The optimiser failed; ``diagnostics`` carries its output.
        """
        owner = type(self).__name__
        x_all, m_all = spend_arrays(summary, owner=owner)
        repeat = x_all > 0
        use = repeat & (m_all > 0)
        x, m = x_all[use], m_all[use]
        if x.size < 3:
            raise ConfigError(f"{owner}.fit: needs at least 3 repeat customers with positive "
                              f"spend; got {x.size}")
        n = float(x.size)
        likelihood = _SummedLikelihood(x, m)

        def objective(z: np.ndarray):
            theta = np.exp(z)
            ll, g = likelihood(theta)
            value = -ll / n
            if not np.isfinite(value):
                return np.inf, np.zeros_like(z)
            return value, -g / n * theta

        init = self.init
        if init is None:
            init = {"p": 1.0, "q": 2.0, "gamma": float(np.mean(m))}
        result = maximize_log_likelihood(
            objective, names=GAMMA_GAMMA_PARAMS, init=init, n=n, method=self.method,
            max_iter=self.max_iter, compute_se=self.compute_se, owner=owner,
        )
        self._store(result, x.size)
        self.n_excluded_ = {
            "no repeat transaction (frequency = 0)": int((~repeat).sum()),
            "non-positive mean repeat spend": int((repeat & ~use).sum()),
        }
        self.frequency_spend_correlation_ = (float(np.corrcoef(x, m)[0, 1])
                                             if np.std(x) > 0 and np.std(m) > 0 else 0.0)
        return self

    def log_likelihood(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """Per-customer log-density at the fitted parameters."""
        return gamma_gamma_log_likelihood(self._fitted(), frequency, monetary_value)

    def expected_average_spend(self, frequency: ArrayLike,
                               monetary_value: ArrayLike) -> np.ndarray:
        """Conditional expected spend per transaction (see :func:`gamma_gamma_expected_spend`)."""
        return gamma_gamma_expected_spend(self._fitted(), frequency, monetary_value)

    def population_mean_spend(self) -> float:
        """Mean spend per transaction across customers, ``p gamma / (q - 1)``."""
        par = self._fitted()
        if par["q"] <= 1:
            raise ConfigError(f"population mean spend is infinite for q={par['q']} <= 1")
        return par["p"] * par["gamma"] / (par["q"] - 1.0)
