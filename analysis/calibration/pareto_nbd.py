"""Pareto/NBD buy-till-you-die model (Schmittlein, Morrison & Colombo, 1987).

Core objects: :class:`ParetoNBDModel` (estimator with the same contract as
:class:`~analysis.calibration.bgnbd.BetaGeoModel`) and the pure functions
:func:`pareto_nbd_log_likelihood`, :func:`pareto_nbd_expected_transactions`,
:func:`pareto_nbd_expected_conditional` and :func:`pareto_nbd_probability_alive`.

Model: while alive a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; the lifetime is
exponential with rate ``mu ~ Gamma(s, beta)`` (continuous-time dropout, unlike the BG/NBD's
dropout after purchases).

Numerics: the likelihood needs ``2F1(a, b; a + 1; z)`` with ``a = r + s + x``. Evaluated
directly it can overflow for large ``x``; we use the Pfaff transformation
``2F1(a, b; a+1; z) = (1 - z)^(-b) 2F1(1, b; a+1; z/(z-1))``, whose right-hand factor lies in
``(0, 1]`` for ``0 <= z < 1``, and work in log space throughout. The gradient of the
log-likelihood is taken by central differences (the hypergeometric terms have no cheap analytic
derivatives), which is accurate to ~1e-9 at the step used.

References
----------
Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987). Counting your customers: who are they
and what will they do next? *Management Science* 33(1), 1-24.
Fader, P. S. and Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and related
expressions. Note.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy import special

from analysis.calibration._mle import MLEModel, maximize_log_likelihood
from analysis.calibration.bgnbd import _compress, _params
from analysis.calibration.summary import RFMSummary, rfm_arrays
from analysis.calibration._types import ArrayLike, ParamsLike
from scenarios.errors import ConfigError

__all__ = [
    "PARETO_NBD_PARAMS",
    "ParetoNBDModel",
    "pareto_nbd_expected_conditional",
    "pareto_nbd_expected_transactions",
    "pareto_nbd_log_likelihood",
    "pareto_nbd_probability_alive",
]

#: Parameter order used by every Pareto/NBD function.
PARETO_NBD_PARAMS = ("r", "alpha", "s", "beta")

_GRAD_STEP = 1e-6


def _log_hyp_a_b_a1(a, b, z):
    """log 2F1(a, b; a + 1; z) for 0 <= z < 1 via the Pfaff transformation (no overflow)."""
    w = z / (z - 1.0)
    return -b * np.log1p(-z) + np.log(special.hyp2f1(1.0, b, a + 1.0, w))


def _parts(theta, x, tx, T):
    """Per-customer (log L, log of the 'alive at T' term); both include the common factor."""
    r, alpha, s, beta = theta
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    rsx = r + s + x
    if alpha >= beta:
        big, b2 = alpha, s + 1.0
    else:
        big, b2 = beta, r + x
    gap = abs(alpha - beta)
    f1 = _log_hyp_a_b_a1(rsx, b2, gap / (big + tx)) - rsx * np.log(big + tx)
    f2 = _log_hyp_a_b_a1(rsx, b2, gap / (big + T)) - rsx * np.log(big + T)
    # log(exp(f1) - exp(f2)); f1 >= f2 because t_x <= T, with equality when t_x = T
    with np.errstate(divide="ignore"):
        log_a0 = f1 + np.log(-np.expm1(np.minimum(f2 - f1, 0.0)))
    log_a0 = np.where(tx < T, log_a0, -np.inf)
    second = np.log(s) - np.log(rsx) + log_a0
    return common + np.logaddexp(alive, second), common + alive


def pareto_nbd_log_likelihood(params: ParamsLike, frequency: ArrayLike, recency: ArrayLike,
                              T: ArrayLike) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood.

    Parameters
    ----------
    params : mapping or sequence
        ``r, alpha, s, beta`` (all > 0).
    frequency, recency, T : array_like
        BTYD summary ``(x, t_x, T)``.

    References
    ----------
    Fader & Hardie (2005), "A note on deriving the Pareto/NBD model", equations (22)-(24).
    """
    theta = _params(params, PARETO_NBD_PARAMS)
    x, tx, t_age = _arrays(frequency, recency, T, "pareto_nbd_log_likelihood")
    return _parts(theta, x, tx, t_age)[0]


def _arrays(frequency, recency, T, owner):
    return rfm_arrays(pd.DataFrame({"frequency": np.atleast_1d(frequency),
                                    "recency": np.atleast_1d(recency),
                                    "T": np.atleast_1d(T)}), owner=owner)


def pareto_nbd_probability_alive(params: ParamsLike, frequency: ArrayLike, recency: ArrayLike,
                                 T: ArrayLike) -> np.ndarray:
    """``P(alive at T | x, t_x, T)``: the share of the likelihood from 'still alive at T'."""
    theta = _params(params, PARETO_NBD_PARAMS)
    x, tx, t_age = _arrays(frequency, recency, T, "pareto_nbd_probability_alive")
    ll, alive = _parts(theta, x, tx, t_age)
    return np.exp(np.minimum(alive - ll, 0.0))


def _lifetime_factor(s, base, t):
    """``base/(s-1) [1 - (base/(base+t))^(s-1)]``; its limit ``base log(1+t/base)`` at s=1."""
    log_ratio = np.log1p(t / base)
    near_one = np.abs(s - 1.0) < 1e-8
    safe = np.where(near_one, 2.0, s)
    general = base * -np.expm1(-(safe - 1.0) * log_ratio) / (safe - 1.0)
    return np.where(near_one, base * log_ratio, general)


def pareto_nbd_expected_transactions(params: ParamsLike, t: ArrayLike) -> np.ndarray:
    """Unconditional ``E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``."""
    r, alpha, s, beta = _params(params, PARETO_NBD_PARAMS)
    t = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ConfigError("t must be finite and >= 0")
    return r / alpha * _lifetime_factor(s, beta, t)


def pareto_nbd_expected_conditional(params: ParamsLike, t: ArrayLike, frequency: ArrayLike,
                                    recency: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Expected purchases in ``(T, T + t]``: ``P(alive) (r+x)/(alpha+T) * lifetime factor``.

    References
    ----------
    Fader & Hardie (2005), "A note on deriving the Pareto/NBD model", equation (41).
    """
    r, alpha, s, beta = _params(params, PARETO_NBD_PARAMS)
    x, tx, t_age = _arrays(frequency, recency, T, "pareto_nbd_expected_conditional")
    t = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ConfigError("t must be finite and >= 0")
    alive = pareto_nbd_probability_alive((r, alpha, s, beta), x, tx, t_age)
    return alive * (r + x) / (alpha + t_age) * _lifetime_factor(s, beta + t_age, t)


class ParetoNBDModel(MLEModel):
    """Pareto/NBD model fitted by maximum likelihood (same contract as ``BetaGeoModel``).

    Parameters
    ----------
    init : mapping, optional
        Starting values ``{"r", "alpha", "s", "beta"}``; by default ``r = s = 1`` with ``alpha``
        = mean age / mean frequency and ``beta`` = mean age.
    method : {"L-BFGS-B", "Nelder-Mead"}
        Optimiser on the log-parameters.
    max_iter : int
        Iteration cap.
    compute_se : bool
        Compute standard errors (numerical Hessian, delta method).

    Attributes
    ----------
    params_, se_, cov_, log_likelihood_, n_customers_, diagnostics_
        As for :class:`~analysis.calibration.bgnbd.BetaGeoModel`.
    """

    param_names = PARETO_NBD_PARAMS

    def fit(self, summary: RFMSummary | pd.DataFrame) -> ParetoNBDModel:
        """Fit by maximum likelihood on an RFMSummary or a frequency/recency/T DataFrame.

        Raises
        ------
        DataError
            Invalid summary values.
        ConvergenceError
            The optimiser failed; ``diagnostics`` carries its output.
        """
        owner = type(self).__name__
        x, tx, t_age = rfm_arrays(summary, owner=owner)
        if x.size == 0:
            raise ConfigError(f"{owner}.fit: the summary has no customers")
        ux, utx, uT, w = _compress(x, tx, t_age)
        total = float(w.sum())

        def mean_nll(z: np.ndarray) -> float:
            with np.errstate(over="ignore", invalid="ignore"):
                ll = _parts(np.exp(z), ux, utx, uT)[0]
            value = -float(np.dot(w, ll)) / total
            return value if np.isfinite(value) else np.inf

        def objective(z: np.ndarray):
            value = mean_nll(z)
            grad = np.empty_like(z)
            for i in range(z.size):
                e = np.zeros_like(z)
                e[i] = _GRAD_STEP
                grad[i] = (mean_nll(z + e) - mean_nll(z - e)) / (2 * _GRAD_STEP)
            if not np.all(np.isfinite(grad)):
                return np.inf, np.zeros_like(z)
            return value, grad

        init = self.init
        if init is None:
            mean_t = float(np.mean(t_age))
            init = {"r": 1.0, "alpha": max(mean_t / max(float(np.mean(x)), 1e-3), 1e-3),
                    "s": 1.0, "beta": max(mean_t, 1e-3)}
        result = maximize_log_likelihood(
            objective, names=PARETO_NBD_PARAMS, init=init, n=total, method=self.method,
            max_iter=self.max_iter, compute_se=self.compute_se, owner=owner,
        )
        self._store(result, total)
        return self

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike,
                       T: ArrayLike) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters."""
        return pareto_nbd_log_likelihood(self._fitted(), frequency, recency, T)

    def expected_transactions(self, t: ArrayLike) -> np.ndarray:
        """Unconditional ``E[X(t)]`` for a new customer."""
        return pareto_nbd_expected_transactions(self._fitted(), t)

    def expected_conditional(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike,
                             T: ArrayLike) -> np.ndarray:
        """Expected purchases in the next ``t`` given the history."""
        return pareto_nbd_expected_conditional(self._fitted(), t, frequency, recency, T)

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike,
                          T: ArrayLike) -> np.ndarray:
        """``P(alive)`` at ``T``."""
        return pareto_nbd_probability_alive(self._fitted(), frequency, recency, T)
