"""Shared maximum-likelihood machinery for the calibration models.

Core objects: :class:`MLEResult` (what one fit produced) and :func:`maximize_log_likelihood`,
which maximises a log-likelihood over strictly positive parameters by optimising their logarithms,
then derives standard errors from a numerical Hessian of the log-parameters (delta method).

Both :mod:`analysis.calibration.bgnbd` and :mod:`analysis.calibration.gamma_gamma` use it, so
the convergence rules, the diagnostics carried by :class:`~scenarios.errors.ConvergenceError` and the
standard-error recipe are the same for every model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from scenarios.errors import ConfigError, ConvergenceError, LabError

__all__ = ["MLEResult", "maximize_log_likelihood", "FIT_METHODS", "MLEModel", "NotFittedError"]

#: Optimisers accepted by the ``method`` hyperparameter of the calibration models.
FIT_METHODS = ("L-BFGS-B", "Nelder-Mead")

# Log-parameters are boxed to exp(+-25): wide enough for any sensible BTYD fit, narrow enough
# that exp() and gammaln() never overflow while the optimiser explores.
_LOG_BOUND = 25.0
# Gradient norm (of the *mean* log-likelihood w.r.t. log-parameters) accepted as stationary.
_GRAD_TOL = 1e-5
# Extra L-BFGS-B runs from the last iterate when the first stops short of stationarity.
_RESTARTS = 3

# objective(log_params) -> (mean negative log-likelihood, gradient w.r.t. log_params)
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class MLEResult:
    """Outcome of one maximum-likelihood fit.

    Attributes
    ----------
    params : dict
        Estimates on the natural (positive) scale, keyed by parameter name.
    se : dict
        Standard errors on the natural scale (delta method from the log scale); empty when
        standard errors were not requested.
    cov : numpy.ndarray or None
        Covariance matrix of the natural-scale estimates, in ``names`` order.
    log_likelihood : float
        Total log-likelihood at the optimum.
    n : float
        Total weight (number of customers) in the likelihood.
    diagnostics : dict
        Optimiser name, iterations, function evaluations, gradient norm, message.
    """

    names: tuple[str, ...]
    params: dict[str, float]
    se: dict[str, float]
    cov: np.ndarray | None
    log_likelihood: float
    n: float
    diagnostics: dict = field(default_factory=dict)


def _check_init(names: Sequence[str], init: Mapping[str, float], owner: str) -> np.ndarray:
    unknown = set(init) - set(names)
    missing = [k for k in names if k not in init]
    if unknown or missing:
        raise ConfigError(
            f"{owner}: init must give exactly the parameters {list(names)}; "
            f"missing {missing}, unknown {sorted(unknown)}"
        )
    values = np.array([float(init[k]) for k in names])
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        bad = {k: init[k] for k in names if not (np.isfinite(init[k]) and init[k] > 0)}
        raise ConfigError(f"{owner}: every init value must be finite and > 0; got {bad}")
    return np.log(values)


def numerical_hessian(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                      step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian from an analytic gradient, symmetrised."""
    k = x.size
    hess = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        hess[:, j] = (grad(x + e) - grad(x - e)) / (2.0 * step)
    return 0.5 * (hess + hess.T)


def maximize_log_likelihood(
    objective: Objective,
    *,
    names: Sequence[str],
    init: Mapping[str, float],
    n: float,
    method: str = "L-BFGS-B",
    max_iter: int = 2000,
    compute_se: bool = True,
    owner: str = "model",
) -> MLEResult:
    """Maximise a log-likelihood over positive parameters (optimising their logs).

    Parameters
    ----------
    objective : callable
        ``objective(log_params)`` returns the *mean* negative log-likelihood per unit weight and
        its gradient with respect to the log-parameters. Working with the mean keeps the scale of
        the problem independent of the number of customers.
    names : sequence of str
        Parameter names, in the order used by ``objective``.
    init : mapping
        Starting values on the natural scale.
    n : float
        Total weight, used to turn the mean back into a total log-likelihood and Hessian.
    method : {"L-BFGS-B", "Nelder-Mead"}
        ``"Nelder-Mead"`` runs the simplex and then polishes with L-BFGS-B.
    compute_se : bool
        Whether to compute the Hessian, covariance and standard errors.

    Returns
    -------
    MLEResult

    Raises
    ------
    ConfigError
        Unknown ``method`` or invalid ``init``.
    ConvergenceError
        The optimiser did not reach a stationary point, or the Hessian at the optimum is not
        positive definite (the optimum is on a ridge or at a boundary). ``diagnostics`` holds the
        optimiser output.
    """
    if method not in FIT_METHODS:
        raise ConfigError(f"{owner}: method must be one of {list(FIT_METHODS)}; got {method!r}")
    x0 = _check_init(names, init, owner)
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(names)

    def fun(z: np.ndarray) -> float:
        return objective(z)[0]

    def grad(z: np.ndarray) -> np.ndarray:
        return objective(z)[1]

    nfev = 0
    nit = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if method == "Nelder-Mead":
            res_nm = optimize.minimize(
                fun, x0, method="Nelder-Mead", bounds=bounds,
                options={"maxiter": max_iter * 5, "xatol": 1e-4, "fatol": 1e-9},
            )
            nfev += int(res_nm.nfev)
            nit += int(res_nm.nit)
            x0 = res_nm.x
        # L-BFGS-B can stop early on a flat or badly scaled stretch (its line search fails or
        # the relative reduction test fires); restarting from the last iterate with a fresh
        # curvature memory usually finishes the job.
        for _attempt in range(_RESTARTS + 1):
            res = optimize.minimize(
                objective, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20},
            )
            nfev += int(res.nfev)
            nit += int(res.nit)
            z = np.asarray(res.x, dtype=float)
            value, g = objective(z)
            gnorm = float(np.max(np.abs(g))) if np.all(np.isfinite(g)) else float("inf")
            if gnorm <= _GRAD_TOL or not np.isfinite(value):
                break
            x0 = z
    diagnostics = {
        "method": method,
        "success": bool(res.success),
        "message": str(res.message),
        "iterations": nit,
        "restarts": _attempt,
        "function_evaluations": nfev,
        "gradient_max_abs": gnorm,
        "log_params": dict(zip(names, z.tolist())),
        "mean_negative_log_likelihood": float(value),
    }
    at_bound = np.abs(z) >= _LOG_BOUND - 1e-6
    if not np.isfinite(value) or gnorm > _GRAD_TOL or np.any(at_bound):
        why = ("a parameter ran to the edge of the search box exp(+-25)" if np.any(at_bound)
               else f"gradient max |g| = {gnorm:.3g} > {_GRAD_TOL:g} at the last iterate")
        raise ConvergenceError(
            f"{owner}: maximum-likelihood fit did not converge ({why}); optimiser said: "
            f"{res.message}. Try other starting values (init=...) or method='Nelder-Mead'.",
            diagnostics,
        )
    params = dict(zip(names, np.exp(z).tolist()))
    loglik = -float(value) * n
    se: dict[str, float] = {}
    cov = None
    if compute_se:
        hess_mean = numerical_hessian(grad, z)
        hess = hess_mean * n
        eig = np.linalg.eigvalsh(hess)
        diagnostics["hessian_eigenvalues"] = eig.tolist()
        if not np.all(np.isfinite(eig)) or eig.min() <= 0:
            raise ConvergenceError(
                f"{owner}: the Hessian of the negative log-likelihood at the optimum is not "
                f"positive definite (eigenvalues {np.array2string(eig, precision=3)}); the "
                "parameters are not identified by these data, so no standard errors exist. "
                "Use compute_se=False to keep the point estimates.",
                diagnostics,
            )
        cov_log = np.linalg.inv(hess)
        theta = np.exp(z)
        # Delta method: d theta / d log theta = theta. At a stationary point this equals the
        # inverse Hessian taken directly on the natural scale.
        cov = cov_log * np.outer(theta, theta)
        se = dict(zip(names, np.sqrt(np.diag(cov)).tolist()))
    return MLEResult(
        names=tuple(names), params=params, se=se, cov=cov, log_likelihood=loglik, n=float(n),
        diagnostics=diagnostics,
    )


class NotFittedError(LabError, AttributeError):
    """A model method that needs fitted parameters was called before ``fit``."""


class MLEModel:
    """Base of the maximum-likelihood models: the estimator contract, written once.

    ``__init__`` stores the optimiser settings only; ``fit`` (in each model) ends with
    :meth:`_store`, which sets ``params_``, ``se_``, ``cov_``, ``log_likelihood_``,
    ``n_customers_`` and ``diagnostics_``; predictions call :meth:`_fitted`.
    """

    def __init__(self, *, init: Mapping[str, float] | None = None, method: str = "L-BFGS-B",
                 max_iter: int = 2000, compute_se: bool = True) -> None:
        self.init = init
        self.method = method
        self.max_iter = max_iter
        self.compute_se = compute_se

    def get_params(self) -> dict:
        """Hyperparameters as given to ``__init__`` (for rebuilding an unfitted copy)."""
        return {"init": self.init, "method": self.method, "max_iter": self.max_iter,
                "compute_se": self.compute_se}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        fitted = ""
        if hasattr(self, "params_"):
            fitted = " fitted: " + ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({args}){fitted}"

    def _store(self, result: MLEResult, n_customers: int) -> None:
        self.params_ = result.params
        self.se_ = result.se
        self.cov_ = result.cov
        self.log_likelihood_ = result.log_likelihood
        self.n_customers_ = int(n_customers)
        self.diagnostics_ = result.diagnostics

    def _fitted(self) -> dict[str, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(summary) first")
        return self.params_
