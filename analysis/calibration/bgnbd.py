"""BG/NBD buy-till-you-die model (Fader, Hardie & Lee, 2005).

Core objects: :class:`BetaGeoModel` (estimator: ``fit(summary)`` then predictions), the pure
functions :func:`bgnbd_log_likelihood`, :func:`bgnbd_expected_transactions`,
:func:`bgnbd_expected_conditional` and :func:`bgnbd_probability_alive`, and the multi-start check
:func:`multistart` with its :class:`MultistartResult`.

Model: while alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``
(shape ``r``, rate ``alpha``); after each *repeat* purchase the customer drops out for good with
probability ``p ~ Beta(a, b)``. Data per customer are the BTYD triple ``(x, t_x, T)``: repeat
purchases, time of the last purchase and age, all measured from the first purchase.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy way:
an alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit
from scipy import integrate, special

from analysis.calibration._mle import MLEModel, MLEResult, NotFittedError, maximize_log_likelihood
from analysis.calibration.summary import RFMSummary, rfm_arrays
from analysis.calibration._types import ArrayLike, ParamsLike
from scenarios.errors import ConfigError, ConvergenceError

__all__ = [
    "BGNBD_PARAMS",
    "BetaGeoModel",
    "MultistartResult",
    "NotFittedError",
    "bgnbd_expected_conditional",
    "bgnbd_expected_transactions",
    "bgnbd_log_likelihood",
    "bgnbd_probability_alive",
    "multistart",
]

#: Parameter order used by every BG/NBD function.
BGNBD_PARAMS = ("r", "alpha", "a", "b")


def _params(params: ParamsLike, names: Sequence[str] = BGNBD_PARAMS) -> np.ndarray:
    if isinstance(params, Mapping):
        missing = [k for k in names if k not in params]
        if missing:
            raise ConfigError(f"params must contain {list(names)}; missing {missing}")
        values = np.array([float(params[k]) for k in names])
    else:
        values = np.asarray(params, dtype=float).reshape(-1)
        if values.size != len(names):
            raise ConfigError(f"params must be {len(names)} values {list(names)}; got {values}")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ConfigError(f"params {dict(zip(names, values.tolist()))} must all be finite and > 0")
    return values


# --------------------------------------------------------------------------- likelihood


def _loglik_and_grad(theta: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray):
    """Per-customer log-likelihood and its gradient w.r.t. (r, alpha, a, b)."""
    r, alpha, a, b = theta
    rx = r + x
    has = x > 0
    a1 = special.gammaln(rx) - special.gammaln(r) + r * np.log(alpha)
    a2 = (special.gammaln(a + b) + special.gammaln(b + x)
          - special.gammaln(b) - special.gammaln(a + b + x))
    a3 = -rx * np.log(alpha + T)
    bx1 = np.where(has, b + x - 1.0, 1.0)  # b + x - 1 > 0 whenever x >= 1
    a4 = np.where(has, np.log(a) - np.log(bx1) - rx * np.log(alpha + tx), -np.inf)
    mix = np.logaddexp(a3, a4)
    ll = a1 + a2 + mix
    w = np.exp(a4 - mix)  # share of the "dropped out after the last purchase" term
    d_r = (special.digamma(rx) - special.digamma(r) + np.log(alpha)
           - (1 - w) * np.log(alpha + T) - w * np.log(alpha + tx))
    d_alpha = r / alpha - (1 - w) * rx / (alpha + T) - w * rx / (alpha + tx)
    psi_ab = special.digamma(a + b)
    psi_abx = special.digamma(a + b + x)
    d_a = psi_ab - psi_abx + w / a
    d_b = psi_ab + special.digamma(b + x) - special.digamma(b) - psi_abx - w / bx1
    return ll, np.stack([d_r, d_alpha, d_a, d_b])


@njit(cache=True)
def _row_sums(ix, itx, iT, w, a12, c4, rx_x, log_T, log_tx, inv_T, inv_tx, share_x):
    """One pass over the distinct rows: the weighted log-likelihood and the sums its gradient needs.

    Row ``k`` has frequency index ``ix[k]``, recency index ``itx[k]``, age index ``iT[k]`` and
    weight ``w[k]``; ``share_x`` receives, per frequency, the weighted share of the "dropped out
    after the last purchase" term. Returns (value, sum (w - ws) log(alpha + T), sum ws log(alpha + t_x),
    sum (w - ws) (r + x) / (alpha + T), sum ws (r + x) / (alpha + t_x)), ``ws`` being the weighted share.
    """
    value = 0.0
    s_lt = 0.0
    s_ltx = 0.0
    s_it = 0.0
    s_itx = 0.0
    for k in range(ix.shape[0]):
        i = ix[k]
        rx = rx_x[i]
        lt = log_T[iT[k]]
        ltx = log_tx[itx[k]]
        a3 = -rx * lt
        a4 = c4[i] - rx * ltx
        hi = max(a3, a4)
        if hi == -np.inf:
            mix = -np.inf
            share = 0.0
        else:
            mix = hi + np.log1p(np.exp(-abs(a3 - a4)))  # as numpy.logaddexp
            share = np.exp(a4 - mix)
        wk = w[k]
        ws = wk * share
        value += wk * (a12[i] + mix)
        s_lt += (wk - ws) * lt
        s_ltx += ws * ltx
        s_it += (wk - ws) * rx * inv_T[iT[k]]
        s_itx += ws * rx * inv_tx[itx[k]]
        share_x[i] += ws
    return value, s_lt, s_ltx, s_it, s_itx


class _FactoredLikelihood:
    """The weighted BG/NBD log-likelihood of many customers, evaluated on distinct values.

    Customers are the distinct ``(x, t_x, T)`` rows with weights ``w``; every special function
    depends on one of them only, so it is evaluated once per distinct ``x`` (tens of values),
    ``t_x`` or ``T`` (hundreds) and gathered, which leaves a few cheap operations per row. The
    formulas are those of :func:`_loglik_and_grad`, term by term.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray) -> None:
        self.xs, self.ix = np.unique(x, return_inverse=True)
        self.txs, self.itx = np.unique(tx, return_inverse=True)
        self.Ts, self.iT = np.unique(T, return_inverse=True)
        self.w = w
        self.total = float(w.sum())
        self.count_x = np.bincount(self.ix, weights=w, minlength=self.xs.size)  # weight per distinct x
        self.ix, self.itx, self.iT = (i.astype(np.int64) for i in (self.ix, self.itx, self.iT))
        self.w = np.ascontiguousarray(w, dtype=float)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """(sum of w log L, its gradient w.r.t. (r, alpha, a, b))."""
        r, alpha, a, b = theta
        xs = self.xs
        has_x = xs > 0
        a12 = (special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha)
               + special.gammaln(a + b) + special.gammaln(b + xs) - special.gammaln(b)
               - special.gammaln(a + b + xs))
        bx1 = np.where(has_x, b + xs - 1.0, 1.0)
        c4 = np.where(has_x, np.log(a) - np.log(bx1), -np.inf)
        share_x = np.zeros(xs.size)
        value, s_lt, s_ltx, s_it, s_itx = _row_sums(
            self.ix, self.itx, self.iT, self.w, a12, c4, r + xs, np.log(alpha + self.Ts), np.log(alpha + self.txs),
            1.0 / (alpha + self.Ts), 1.0 / (alpha + self.txs), share_x)
        count_x = self.count_x
        d_r = (float(np.dot(count_x, special.digamma(r + xs))) - self.total * (special.digamma(r) - np.log(alpha))
               - s_lt - s_ltx)
        d_alpha = self.total * r / alpha - s_it - s_itx
        psi_ab = special.digamma(a + b)
        psi_abx = special.digamma(a + b + xs)
        d_a = self.total * psi_ab - float(np.dot(count_x, psi_abx)) + float(share_x.sum()) / a
        d_b = (self.total * (psi_ab - special.digamma(b)) + float(np.dot(count_x, special.digamma(b + xs) - psi_abx))
               - float(np.dot(share_x, 1.0 / bx1)))
        return value, np.array([d_r, d_alpha, d_a, d_b])


def bgnbd_log_likelihood(params: ParamsLike, frequency: ArrayLike, recency: ArrayLike,
                         T: ArrayLike) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood, computed in log space.

    Parameters
    ----------
    params : mapping or sequence
        ``r, alpha, a, b`` (all > 0).
    frequency, recency, T : array_like
        Repeat purchases ``x``, time of last purchase ``t_x`` and age ``T`` (same time unit).

    Returns
    -------
    numpy.ndarray
        ``log L_i`` for every customer.

    Notes
    -----
    ``L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))``,
    evaluated as ``A1 + A2 + logaddexp(A3, A4)`` with ``gammaln`` so that large ``x`` or ``T``
    never overflow.

    References
    ----------
    Fader, Hardie & Lee (2005), equation (6).

    Examples
    --------
    >>> params = (0.243, 4.414, 0.793, 2.426)
    >>> bgnbd_log_likelihood(params, [0, 2], [0.0, 30.43], [38.86, 38.86]).round(4).tolist()
    [-0.5547, -9.4586]
    """
    theta = _params(params)
    x, tx, t_age = rfm_arrays(pd.DataFrame({"frequency": np.atleast_1d(frequency),
                                            "recency": np.atleast_1d(recency),
                                            "T": np.atleast_1d(T)}), owner="bgnbd_log_likelihood")
    return _loglik_and_grad(theta, x, tx, t_age)[0]


# --------------------------------------------------------------------------- predictions


def _expected_quad(r: float, alpha: float, a: float, b: float, t: float) -> float:
    """E[X(t)] by integrating E[X(t) | p] = (1 - (alpha/(alpha + p t))^r) / p over Beta(a, b)."""
    if t <= 0:
        return 0.0

    def f(p: float) -> float:
        # -expm1(r * log1p(-p t/(alpha + p t))) / p, stable for small p
        return -np.expm1(-r * np.log1p(p * t / alpha)) / p if p > 0 else r * t / alpha

    val, _ = integrate.quad(f, 0.0, 1.0, weight="alg", wvar=(a - 1.0, b - 1.0),
                            epsabs=1e-13, epsrel=1e-11, limit=200)
    return float(val / special.beta(a, b))


def _expected_closed(r, alpha, a, b, t):
    """Closed form (FHL 2005 eq. 7) with per-element parameters; NaN where it cannot be used."""
    out = np.full(t.shape, np.nan)
    c = a + b - 1.0
    # 2F1(r, b; a+b-1; z) needs c > 0 (c not a pole) and the prefactor needs a != 1.
    ok = (c > 0) & (np.abs(a - 1.0) > 1e-7) & (t >= 0)
    if np.any(ok):
        z = t[ok] / (alpha[ok] + t[ok])
        with np.errstate(all="ignore"):
            hyp = special.hyp2f1(r[ok], b[ok], c[ok], z)
            lead = np.exp(r[ok] * (np.log(alpha[ok]) - np.log(alpha[ok] + t[ok])))
            out[ok] = c[ok] / (a[ok] - 1.0) * (1.0 - lead * hyp)
    return out


def _expected_vectorised(r, alpha, a, b, t) -> np.ndarray:
    """E[X(t)] element-wise: closed form where valid and finite, numerical integral elsewhere."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r, alpha, a, b, t)))
    shape = arrays[0].shape
    r, alpha, a, b, t = (v.ravel() for v in arrays)
    out = _expected_closed(r, alpha, a, b, t)
    # Guard the closed form: it must be finite, non-negative and below the Poisson bound
    # E[lambda] t = r t / alpha (dropout can only reduce purchases).
    bound = r * t / alpha
    bad = ~np.isfinite(out) | (out < -1e-12) | (out > bound * (1 + 1e-8) + 1e-12)
    for i in np.flatnonzero(bad):
        out[i] = _expected_quad(r[i], alpha[i], a[i], b[i], t[i])
    out[t <= 0] = 0.0
    return out.reshape(shape)


def bgnbd_expected_transactions(params: ParamsLike, t: ArrayLike) -> np.ndarray:
    """Expected repeat purchases ``E[X(t)]`` of a new customer in ``(0, t]`` after the first one.

    Uses the Gaussian hypergeometric closed form
    ``(a+b-1)/(a-1) * [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]``. Where that
    form is unusable (``a`` = 1, ``a + b <= 1``, or a non-finite ``hyp2f1`` value) it falls back
    to a one-dimensional integral over the dropout probability, which is valid for all
    parameters.

    Parameters
    ----------
    params : mapping or sequence
        ``r, alpha, a, b``.
    t : array_like
        Time since the first purchase (>= 0), in the model's time unit.

    References
    ----------
    Fader, Hardie & Lee (2005), equation (7).

    Examples
    --------
    >>> round(float(bgnbd_expected_transactions((0.243, 4.414, 0.793, 2.426), 39.0)), 4)
    1.1967
    """
    r, alpha, a, b = _params(params)
    t = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ConfigError("t must be finite and >= 0")
    return _expected_vectorised(r, alpha, a, b, t)


def bgnbd_probability_alive(params: ParamsLike, frequency: ArrayLike, recency: ArrayLike,
                            T: ArrayLike) -> np.ndarray:
    """Probability that each customer is still alive at ``T`` given ``(x, t_x, T)``.

    ``P(alive) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``, computed with
    ``expit`` on the log-odds so that it never overflows.

    References
    ----------
    Fader, Hardie & Lee (2005), "A note on deriving the Pareto/NBD model and related
    expressions"; the BG/NBD form follows from equation (6) of the 2005 Marketing Science paper.
    """
    r, alpha, a, b = _params(params)
    x, tx, t_age = rfm_arrays(pd.DataFrame({"frequency": np.atleast_1d(frequency),
                                            "recency": np.atleast_1d(recency),
                                            "T": np.atleast_1d(T)}),
                              owner="bgnbd_probability_alive")
    has = x > 0
    log_odds_dead = np.where(
        has,
        np.log(a) - np.log(np.where(has, b + x - 1.0, 1.0))
        + (r + x) * (np.log(alpha + t_age) - np.log(alpha + tx)),
        -np.inf,
    )
    return special.expit(-log_odds_dead)


def bgnbd_expected_conditional(params: ParamsLike, t: ArrayLike, frequency: ArrayLike,
                               recency: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Expected repeat purchases in ``(T, T + t]`` for customers with history ``(x, t_x, T)``.

    Equal to ``P(alive | x, t_x, T) * E[X(t)]`` evaluated at the posterior parameters
    ``(r + x, alpha + T, a, b + x)``, which is FHL (2005) equation (10).

    Parameters
    ----------
    params : mapping or sequence
        ``r, alpha, a, b``.
    t : float or array_like
        Length of the prediction window (broadcast against the customers).
    frequency, recency, T : array_like
        The customers' BTYD summary.

    References
    ----------
    Fader, Hardie & Lee (2005), equation (10).
    """
    r, alpha, a, b = _params(params)
    x, tx, t_age = rfm_arrays(pd.DataFrame({"frequency": np.atleast_1d(frequency),
                                            "recency": np.atleast_1d(recency),
                                            "T": np.atleast_1d(T)}),
                              owner="bgnbd_expected_conditional")
    t = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ConfigError("t must be finite and >= 0")
    alive = bgnbd_probability_alive((r, alpha, a, b), x, tx, t_age)
    return alive * _expected_vectorised(r + x, alpha + t_age, a, b + x, t)


# --------------------------------------------------------------------------- estimator


def _compress(x: np.ndarray, tx: np.ndarray, T: np.ndarray):
    """Unique (x, t_x, T) rows and their counts: the likelihood only depends on these."""
    frame = pd.DataFrame({"x": x, "tx": tx, "T": T})
    counts = frame.groupby(["x", "tx", "T"], sort=False).size()
    idx = counts.index
    return (idx.get_level_values(0).to_numpy(float), idx.get_level_values(1).to_numpy(float),
            idx.get_level_values(2).to_numpy(float), counts.to_numpy(float))


class BetaGeoModel(MLEModel):
    """BG/NBD model fitted by maximum likelihood.

    Parameters
    ----------
    init : mapping, optional
        Starting values ``{"r", "alpha", "a", "b"}``. By default ``r = a = b = 1`` and
        ``alpha`` = mean age / mean frequency, which puts the starting purchase rate at the
        naive rate of the data.
    method : {"L-BFGS-B", "Nelder-Mead"}
        Optimiser on the log-parameters (Nelder-Mead is polished by L-BFGS-B).
    max_iter : int
        Iteration cap of the optimiser.
    compute_se : bool
        Compute standard errors from the numerical Hessian (delta method).

    Attributes
    ----------
    params_ : dict
        Estimates of ``r, alpha, a, b``.
    se_ : dict
        Standard errors.
    cov_ : numpy.ndarray
        Covariance matrix of the estimates (order ``r, alpha, a, b``).
    log_likelihood_ : float
        Log-likelihood at the optimum.
    n_customers_ : int
        Customers used in the fit.
    diagnostics_ : dict
        Optimiser diagnostics.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"frequency": [0, 2, 5, 0, 1, 3], "recency": [0, 20.0, 30, 0, 4, 12],
    ...                      "T": [38.0, 38, 36, 30, 35, 33]})
    >>> model = BetaGeoModel(compute_se=False).fit(data)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    """

    param_names = BGNBD_PARAMS

    # -- fitting
    def _default_init(self, x: np.ndarray, T: np.ndarray) -> dict[str, float]:
        mean_x = max(float(np.mean(x)), 1e-3)
        return {"r": 1.0, "alpha": max(float(np.mean(T)) / mean_x, 1e-3), "a": 1.0, "b": 1.0}

    def fit(self, summary: RFMSummary | pd.DataFrame) -> BetaGeoModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        summary : RFMSummary or pandas.DataFrame
            Needs ``frequency``, ``recency`` and ``T`` (see :func:`rfm_summary`).

        Returns
        -------
        BetaGeoModel
            ``self``, with ``params_``, ``se_``, ``cov_``, ``log_likelihood_`` set.

        Raises
        ------
        DataError
            Invalid summary values.
        ConvergenceError
            The optimiser failed; ``diagnostics`` carries its output.
        """
        x, tx, t_age = rfm_arrays(summary, owner=type(self).__name__)
        if x.size == 0:
            raise ConfigError(f"{type(self).__name__}.fit: the summary has no customers")
        ux, utx, uT, w = _compress(x, tx, t_age)
        total = float(w.sum())
        likelihood = _FactoredLikelihood(ux, utx, uT, w)

        def objective(z: np.ndarray):
            theta = np.exp(z)
            ll, g = likelihood(theta)
            value = -ll / total
            grad = -g / total * theta  # chain rule to log-parameters
            if not np.isfinite(value):
                return np.inf, np.zeros_like(z)
            return value, grad

        init = self.init if self.init is not None else self._default_init(x, t_age)
        result: MLEResult = maximize_log_likelihood(
            objective, names=BGNBD_PARAMS, init=init, n=total, method=self.method,
            max_iter=self.max_iter, compute_se=self.compute_se, owner=type(self).__name__,
        )
        self._store(result, total)
        return self

    # -- predictions
    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike,
                       T: ArrayLike) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters."""
        return bgnbd_log_likelihood(self._fitted(), frequency, recency, T)

    def expected_transactions(self, t: ArrayLike) -> np.ndarray:
        """Unconditional ``E[X(t)]`` of a new customer (:func:`bgnbd_expected_transactions`)."""
        return bgnbd_expected_transactions(self._fitted(), t)

    def expected_conditional(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike,
                             T: ArrayLike) -> np.ndarray:
        """Expected purchases in the next ``t`` (see :func:`bgnbd_expected_conditional`)."""
        return bgnbd_expected_conditional(self._fitted(), t, frequency, recency, T)

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike,
                          T: ArrayLike) -> np.ndarray:
        """``P(alive)`` at ``T`` (see :func:`bgnbd_probability_alive`)."""
        return bgnbd_probability_alive(self._fitted(), frequency, recency, T)


# --------------------------------------------------------------------------- multi-start


@dataclass(frozen=True)
class MultistartResult:
    """Fits of one model from several starting points.

    Attributes
    ----------
    starts : tuple of dict
        The starting values.
    params : tuple of (dict or None)
        Estimates per start (``None`` where the fit raised ``ConvergenceError``).
    log_likelihoods : tuple of (float or None)
        Log-likelihood per start.
    errors : tuple of (str or None)
        The error message per failed start.
    best : int
        Index of the start with the highest log-likelihood.
    max_relative_spread : dict
        Per parameter, ``(max - min) / |best|`` over converged starts.
    consistent : bool
        All starts converged, log-likelihoods agree within ``ll_atol`` and parameters within
        ``rtol`` of the best.
    """

    starts: tuple[dict, ...]
    params: tuple[dict | None, ...]
    log_likelihoods: tuple[float | None, ...]
    errors: tuple[str | None, ...]
    best: int
    max_relative_spread: dict[str, float]
    consistent: bool


def multistart(summary: RFMSummary | pd.DataFrame,
               starts: Sequence[Mapping[str, float]] | int = 5, *,
               model: BetaGeoModel | None = None,
               rng: np.random.Generator | int | None = None, rtol: float = 1e-3,
               ll_atol: float = 1e-4) -> MultistartResult:
    """Refit from several starting points and report whether they reach the same optimum.

    Parameters
    ----------
    summary : RFMSummary or pandas.DataFrame
        Data to fit.
    starts : sequence of mapping or int
        Explicit starting values, or a number of random starts drawn log-uniformly in
        ``[0.05, 20]`` for every parameter (``alpha`` scaled by the mean age) from ``rng``.
    model : BetaGeoModel, optional
        Template whose hyperparameters (method, ...) are reused; ``init`` is replaced.
        Any estimator with ``param_names``, ``get_params`` and ``fit`` works (e.g. Gamma-Gamma).
    rng : numpy.random.Generator or seed, optional
        Only used for random starts.
    rtol, ll_atol : float
        Agreement tolerances for ``consistent``.
    """
    template = model if model is not None else BetaGeoModel()
    names = template.param_names
    if isinstance(starts, int):
        if starts < 1:
            raise ConfigError(f"starts must be >= 1; got {starts}")
        gen = np.random.default_rng(rng)
        # log-uniform in [0.05, 20]; alpha (a time scale) is further scaled by mean age / 10
        alpha_scale = (float(np.mean(rfm_arrays(summary, owner="multistart")[2])) / 10.0
                       if "alpha" in names else 1.0)
        draws = np.exp(gen.uniform(np.log(0.05), np.log(20.0), size=(starts, len(names))))
        start_list = [
            {k: float(v) * (alpha_scale if k == "alpha" else 1.0) for k, v in zip(names, row)}
            for row in draws
        ]
    else:
        start_list = [dict(s) for s in starts]
        if not start_list:
            raise ConfigError("starts must not be empty")
    hyper = {k: v for k, v in template.get_params().items() if k != "init"}
    fitted_params: list[dict | None] = []
    lls: list[float | None] = []
    errors: list[str | None] = []
    for start in start_list:
        try:
            fitted = type(template)(init=start, **hyper).fit(summary)
        except ConvergenceError as exc:
            fitted_params.append(None)
            lls.append(None)
            errors.append(str(exc))
            continue
        fitted_params.append(dict(fitted.params_))
        lls.append(float(fitted.log_likelihood_))
        errors.append(None)
    ok = [i for i, v in enumerate(lls) if v is not None]
    if not ok:
        raise ConvergenceError("multistart: no start converged", {"errors": errors,
                                                                   "starts": start_list})
    best = max(ok, key=lambda i: lls[i])
    spread = {}
    for k in names:
        vals = np.array([fitted_params[i][k] for i in ok])
        spread[k] = float((vals.max() - vals.min()) / abs(fitted_params[best][k]))
    consistent = (len(ok) == len(start_list)
                  and all(abs(lls[i] - lls[best]) <= ll_atol for i in ok)
                  and all(v <= rtol for v in spread.values()))
    return MultistartResult(
        starts=tuple(start_list), params=tuple(fitted_params), log_likelihoods=tuple(lls),
        errors=tuple(errors), best=best, max_relative_spread=spread, consistent=consistent,
    )
