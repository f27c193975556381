"""Two-arm A/B estimators and variance reduction.

Core object: :class:`Estimate`, the frozen result of every two-arm estimator
(:func:`diff_in_proportions`, :func:`diff_in_means`, :func:`ratio_metric`,
:func:`diff_in_means_cuped`). ``estimate`` is always treatment minus control in the metric's
units and ``relative`` is that difference divided by the control value. Companion helpers:
:func:`bootstrap_ratio_ci` (a resampling check of the delta method), :func:`cuped`,
:func:`winsorize_pooled`. Multiplicity and sample-ratio checks live in :mod:`analysis.checks`,
Kaplan-Meier and the log-rank test in :mod:`analysis.survival`.

Relative effects use one convention throughout: the delta method on the ratio
:math:`R = m_t / m_c` of the two arm statistics (not on :math:`\\log R`), with the arms
independent, :math:`\\operatorname{Var}(R) \\approx V_t/m_c^2 + m_t^2 V_c/m_c^4`, where
:math:`V` is the variance of each arm statistic, and a symmetric normal interval for
:math:`R - 1`. It stays defined when the treatment value is 0 or the metric is negative; the
relative fields are ``None`` when the control value is 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy import special, stats

from analysis._inputs import _alpha, _count, _same_length, _vector
from scenarios.errors import ConfigError, ConvergenceError, NotEstimableError

__all__ = [
    "Estimate",
    "BootstrapResult",
    "CupedResult",
    "Winsorized",
    "diff_in_proportions",
    "diff_in_means",
    "ratio_metric",
    "bootstrap_ratio_ci",
    "cuped",
    "diff_in_means_cuped",
    "winsorize_pooled",
]


@dataclass(frozen=True)
class Estimate:
    """Treatment-minus-control effect with its interval and test.

    Attributes
    ----------
    metric : str
        Name of the metric, as passed by the caller.
    method : str
        Estimator and test, e.g. ``"Welch t"`` or ``"CUPED + Welch t"``.
    estimate, ci_low, ci_high : float
        Absolute difference (treatment - control) and its ``1 - alpha`` interval.
    relative, rel_ci_low, rel_ci_high : float or None
        ``estimate / control_value`` and its delta-method interval; ``None`` if the control
        value is 0.
    p_value : float
        Two-sided p-value for "no difference".
    n_control, n_treatment : int
        Units per arm.
    control_value, treatment_value : float
        Per-arm statistic (rate, mean, ratio of sums, or CUPED-adjusted mean).
    std_error : float
        Standard error of ``estimate`` used for the interval.
    alpha : float
        ``1 -`` confidence level.
    variance_reduction : float or None
        CUPED only: ``1 - Var(adjusted estimate) / Var(unadjusted estimate)``.
    """

    metric: str
    method: str
    estimate: float
    ci_low: float
    ci_high: float
    relative: float | None
    rel_ci_low: float | None
    rel_ci_high: float | None
    p_value: float
    n_control: int
    n_treatment: int
    control_value: float
    treatment_value: float
    std_error: float
    alpha: float
    variance_reduction: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain ``dict``."""
        return asdict(self)


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile-bootstrap interval for a difference (and relative difference) of ratios."""

    estimate: float
    ci_low: float
    ci_high: float
    relative: float
    rel_ci_low: float
    rel_ci_high: float
    n_boot: int
    method: str = "percentile bootstrap, units resampled within arm"


class CupedResult(NamedTuple):
    """Output of :func:`cuped`: adjusted outcomes, the coefficient and the variance reduction."""

    y_adjusted: np.ndarray
    theta: float
    variance_reduction: float


class Winsorized(NamedTuple):
    """Output of :func:`winsorize_pooled`: capped arms and the pooled thresholds used."""

    y_c: np.ndarray
    y_t: np.ndarray
    lower: float | None
    upper: float | None


# --------------------------------------------------------------------------------------------
# shared interval arithmetic


def _z(alpha: float) -> float:
    return float(special.ndtri(1.0 - alpha / 2.0))


def _relative(m_c: float, var_c: float, m_t: float, var_t: float, alpha: float):
    """Delta-method interval for ``m_t / m_c - 1`` with independent arm statistics."""
    if m_c == 0.0:
        return None, None, None
    ratio = m_t / m_c
    se = math.sqrt(var_t / m_c**2 + m_t**2 * var_c / m_c**4)
    half = _z(alpha) * se
    return ratio - 1.0, ratio - 1.0 - half, ratio - 1.0 + half


def _normal_estimate(metric, method, m_c, var_c, n_c, m_t, var_t, n_t, alpha) -> Estimate:
    """Estimate with a z interval and z-test from per-arm statistics and their variances."""
    se = math.sqrt(var_c + var_t)
    if se == 0.0:
        raise NotEstimableError(
            f"{metric}: the delta-method variance is 0 in both arms (num_c/den_c and num_t/den_t "
            "are exact multiples of their denominators); the interval is undefined"
        )
    diff = m_t - m_c
    half = _z(alpha) * se
    rel, rel_lo, rel_hi = _relative(m_c, var_c, m_t, var_t, alpha)
    return Estimate(metric=metric, method=method, estimate=diff, ci_low=diff - half,
                    ci_high=diff + half, relative=rel, rel_ci_low=rel_lo, rel_ci_high=rel_hi,
                    p_value=float(2.0 * special.ndtr(-abs(diff) / se)), n_control=n_c,
                    n_treatment=n_t, control_value=m_c, treatment_value=m_t, std_error=se,
                    alpha=alpha)


def _welch(metric, method, y_c, y_t, alpha, variance_reduction=None) -> Estimate:
    n_c, n_t = y_c.size, y_t.size
    var_c = float(np.var(y_c, ddof=1)) / n_c
    var_t = float(np.var(y_t, ddof=1)) / n_t
    se = math.sqrt(var_c + var_t)
    if se == 0.0:
        raise NotEstimableError("y_c and y_t are both constant; the Welch test is undefined")
    df = (var_c + var_t) ** 2 / (var_c**2 / (n_c - 1) + var_t**2 / (n_t - 1))
    m_c, m_t = float(np.mean(y_c)), float(np.mean(y_t))
    diff = m_t - m_c
    half = float(stats.t.ppf(1.0 - alpha / 2.0, df)) * se
    rel, rel_lo, rel_hi = _relative(m_c, var_c, m_t, var_t, alpha)
    return Estimate(metric=metric, method=method, estimate=diff, ci_low=diff - half,
                    ci_high=diff + half, relative=rel, rel_ci_low=rel_lo, rel_ci_high=rel_hi,
                    p_value=float(2.0 * stats.t.sf(abs(diff) / se, df)), n_control=n_c,
                    n_treatment=n_t, control_value=m_c, treatment_value=m_t, std_error=se,
                    alpha=alpha, variance_reduction=variance_reduction)


# --------------------------------------------------------------------------------------------
# estimators


def diff_in_proportions(
    x_c: int, n_c: int, x_t: int, n_t: int, alpha: float = 0.05, *, metric: str = "proportion"
) -> Estimate:
    r"""Difference of two proportions: Wald interval, pooled z-test.

    Parameters
    ----------
    x_c, n_c : int
        Successes and units in the control arm (``0 <= x_c <= n_c``, ``n_c >= 1``).
    x_t, n_t : int
        Successes and units in the treatment arm.
    alpha : float
        ``1 -`` confidence level, in (0, 1).
    metric : str
        Label stored in the result.

    Returns
    -------
    Estimate
        ``method == "Wald CI, pooled z-test"``.

    Raises
    ------
    ConfigError
        Counts that are not integers, negative, or exceed their arm size.

    Notes
    -----
    With :math:`\hat p_i = x_i/n_i`, the interval is
    :math:`\hat p_t - \hat p_c \pm z_{1-\alpha/2}\sqrt{\hat p_c\hat q_c/n_c + \hat p_t\hat q_t/n_t}`
    (unpooled). The p-value is from the pooled z statistic
    :math:`(\hat p_t - \hat p_c)/\sqrt{\bar p\bar q(1/n_c + 1/n_t)}`,
    :math:`\bar p = (x_c + x_t)/(n_c + n_t)`, the test assumed by the default ``"pooled"`` power
    method; if both arms are all 0 or all 1 it is 1. Near the boundary the interval and the test
    can disagree slightly. The relative interval uses the delta method on
    :math:`\hat p_t/\hat p_c` (module docstring).

    References
    ----------
    .. [1] Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., Wiley, section 3.1.
    .. [2] Fleiss, J. L., Levin, B. and Paik, M. C. (2003). *Statistical Methods for Rates and
       Proportions*, 3rd ed., Wiley, section 5.2.

    Examples
    --------
    >>> est = diff_in_proportions(100, 1000, 130, 1000)
    >>> round(est.estimate, 3), round(est.ci_low, 4), round(est.relative, 2)
    (0.03, 0.0021, 0.3)
    """
    alpha = _alpha(alpha)
    n_c = _count("n_c", n_c, minimum=1)
    n_t = _count("n_t", n_t, minimum=1)
    x_c = _count("x_c", x_c, minimum=0)
    x_t = _count("x_t", x_t, minimum=0)
    if x_c > n_c:
        raise ConfigError(f"x_c must be in [0, n_c] = [0, {n_c}]; got {x_c}")
    if x_t > n_t:
        raise ConfigError(f"x_t must be in [0, n_t] = [0, {n_t}]; got {x_t}")
    p_c, p_t = x_c / n_c, x_t / n_t
    var_c, var_t = p_c * (1.0 - p_c) / n_c, p_t * (1.0 - p_t) / n_t
    diff = p_t - p_c
    half = _z(alpha) * math.sqrt(var_c + var_t)
    p_bar = (x_c + x_t) / (n_c + n_t)
    se0 = math.sqrt(p_bar * (1.0 - p_bar) * (1.0 / n_c + 1.0 / n_t))
    p_value = 1.0 if se0 == 0.0 else float(2.0 * special.ndtr(-abs(diff) / se0))
    rel, rel_lo, rel_hi = _relative(p_c, var_c, p_t, var_t, alpha)
    return Estimate(metric=metric, method="Wald CI, pooled z-test", estimate=diff,
                    ci_low=diff - half, ci_high=diff + half, relative=rel, rel_ci_low=rel_lo,
                    rel_ci_high=rel_hi, p_value=p_value, n_control=n_c, n_treatment=n_t,
                    control_value=p_c, treatment_value=p_t,
                    std_error=math.sqrt(var_c + var_t), alpha=alpha)


def diff_in_means(
    y_c: Any, y_t: Any, alpha: float = 0.05, *, metric: str = "mean"
) -> Estimate:
    r"""Difference of two means with Welch's unequal-variance t interval and test.

    Parameters
    ----------
    y_c, y_t : array_like
        Per-unit outcomes of the control and treatment arms (1-D, finite, >= 2 values each).
    alpha : float
        ``1 -`` confidence level, in (0, 1).
    metric : str
        Label stored in the result.

    Returns
    -------
    Estimate
        ``method == "Welch t"``; the relative interval uses the delta method with a normal
        critical value.

    Raises
    ------
    ConfigError
        Empty, non-finite or too-short inputs, or both arms constant.

    Notes
    -----
    :math:`SE = \sqrt{s_c^2/n_c + s_t^2/n_t}` with Welch-Satterthwaite degrees of freedom
    :math:`\nu = SE^4 / [(s_c^2/n_c)^2/(n_c-1) + (s_t^2/n_t)^2/(n_t-1)]`; the p-value equals
    ``scipy.stats.ttest_ind(y_t, y_c, equal_var=False)``.

    References
    ----------
    .. [1] Welch, B. L. (1947). The generalization of "Student's" problem when several different
       population variances are involved. *Biometrika* 34, 28-35.

    Examples
    --------
    >>> est = diff_in_means([1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0])
    >>> est.estimate, round(est.p_value, 3)
    (1.0, 0.315)
    """
    alpha = _alpha(alpha)
    y_c = _vector("y_c", y_c, min_size=2)
    y_t = _vector("y_t", y_t, min_size=2)
    return _welch(metric, "Welch t", y_c, y_t, alpha)


def _ratio_arm(num: np.ndarray, den: np.ndarray, arm: str) -> tuple[float, float]:
    """Ratio of sums and its delta-method variance for one arm."""
    mean_den = float(np.mean(den))
    if mean_den == 0.0:
        raise NotEstimableError(f"den_{arm} must not sum to 0; the ratio is undefined")
    ratio = float(np.sum(num) / np.sum(den))
    # Var(sum num / sum den) ~ Var(num - R den) / (n mean(den)^2), the linearised ratio
    resid = num - ratio * den
    return ratio, float(np.var(resid, ddof=1)) / (num.size * mean_den**2)


def _ratio_inputs(num_c, den_c, num_t, den_t):
    arrays = {}
    for name, values in (("num_c", num_c), ("den_c", den_c), ("num_t", num_t), ("den_t", den_t)):
        arrays[name] = _vector(name, values, min_size=2)
    _same_length("num_c", arrays["num_c"], "den_c", arrays["den_c"])
    _same_length("num_t", arrays["num_t"], "den_t", arrays["den_t"])
    return arrays["num_c"], arrays["den_c"], arrays["num_t"], arrays["den_t"]


def ratio_metric(
    num_c: Any, den_c: Any, num_t: Any, den_t: Any, alpha: float = 0.05, *,
    metric: str = "ratio",
) -> Estimate:
    r"""Difference of ratio-of-sums metrics (e.g. LTV/CAC) with delta-method variance.

    Each arm's metric is :math:`R = \sum_i a_i / \sum_i b_i` over its randomization units
    (numerator :math:`a`, denominator :math:`b`, one pair per unit).

    Parameters
    ----------
    num_c, den_c : array_like
        Per-unit numerator and denominator in the control arm (same length, >= 2).
    num_t, den_t : array_like
        The same for the treatment arm.
    alpha : float
        ``1 -`` confidence level, in (0, 1).
    metric : str
        Label stored in the result.

    Returns
    -------
    Estimate
        ``method == "delta method, z-test"``; ``control_value`` and ``treatment_value`` are the
        two ratios.

    Raises
    ------
    ConfigError
        Invalid arrays, mismatched lengths, a denominator summing to 0, or zero variance.

    Notes
    -----
    With :math:`\bar a, \bar b` the arm means, the first-order (delta-method) variance is

    .. math::

        \operatorname{Var}(\hat R) \approx \frac{1}{n\bar b^2}\left(s_a^2 - 2\hat R s_{ab}
        + \hat R^2 s_b^2\right) = \frac{\operatorname{Var}(a - \hat R b)}{n\bar b^2},

    with sample (``ddof=1``) moments. The arms are independent, so the variances add; the
    interval and p-value are normal.

    References
    ----------
    .. [1] Deng, A., Knoblich, U. and Lu, J. (2018). Applying the delta method in metric
       analytics: a practical guide with novel ideas. *KDD '18*, 233-242.

    Examples
    --------
    >>> est = ratio_metric([3.0, 1.0, 4.0], [1.0, 1.0, 2.0], [5.0, 2.0, 6.0], [2.0, 1.0, 2.0])
    >>> est.control_value, est.treatment_value
    (2.0, 2.6)
    """
    alpha = _alpha(alpha)
    num_c, den_c, num_t, den_t = _ratio_inputs(num_c, den_c, num_t, den_t)
    r_c, var_c = _ratio_arm(num_c, den_c, "c")
    r_t, var_t = _ratio_arm(num_t, den_t, "t")
    return _normal_estimate(metric, "delta method, z-test", r_c, var_c, num_c.size, r_t, var_t,
                            num_t.size, alpha)


def _boot_ratios(num, den, rng, n_boot) -> np.ndarray:
    n = num.size
    out = np.empty(n_boot)
    chunk = max(1, 2_000_000 // n)  # bound memory at ~2e6 indices per draw
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = num[idx].sum(axis=1) / den[idx].sum(axis=1)
    return out


def bootstrap_ratio_ci(
    num_c: Any, den_c: Any, num_t: Any, den_t: Any, *, rng: np.random.Generator,
    n_boot: int = 2000, alpha: float = 0.05,
) -> BootstrapResult:
    """Percentile-bootstrap interval for the difference of ratio-of-sums metrics.

    Units (numerator-denominator pairs) are resampled with replacement within each arm, so the
    result is a check on :func:`ratio_metric`'s delta-method interval.

    Parameters
    ----------
    num_c, den_c, num_t, den_t : array_like
        As in :func:`ratio_metric`.
    rng : numpy.random.Generator
        Source of all randomness.
    n_boot : int
        Bootstrap replicates, >= 100.
    alpha : float
        ``1 -`` confidence level, in (0, 1).

    Returns
    -------
    BootstrapResult
        Point estimates from the data; interval endpoints are the ``alpha/2`` and
        ``1 - alpha/2`` quantiles of the replicates.

    Raises
    ------
    ConfigError
        Invalid inputs or ``rng`` not a Generator.
    ConvergenceError
        A replicate had a zero denominator sum (diagnostics hold the count).

    References
    ----------
    .. [1] Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*,
       Chapman & Hall, chapter 13.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> den = rng.uniform(1, 2, 200)
    >>> res = bootstrap_ratio_ci(2 * den, den, 3 * den, den, rng=rng, n_boot=200)
    >>> round(res.estimate, 6), round(res.ci_low, 6)
    (1.0, 1.0)
    """
    alpha = _alpha(alpha)
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    n_boot = _count("n_boot", n_boot, minimum=100)
    num_c, den_c, num_t, den_t = _ratio_inputs(num_c, den_c, num_t, den_t)
    r_c, _ = _ratio_arm(num_c, den_c, "c")
    r_t, _ = _ratio_arm(num_t, den_t, "t")
    with np.errstate(divide="ignore", invalid="ignore"):
        boot_c = _boot_ratios(num_c, den_c, rng, n_boot)
        boot_t = _boot_ratios(num_t, den_t, rng, n_boot)
        rel = boot_t / boot_c - 1.0
    bad = int(np.sum(~np.isfinite(boot_c) | ~np.isfinite(boot_t) | ~np.isfinite(rel)))
    if bad:
        raise ConvergenceError(
            f"{bad} of {n_boot} bootstrap replicates had a zero denominator sum",
            {"n_boot": n_boot, "non_finite_replicates": bad},
        )
    q = [alpha / 2.0, 1.0 - alpha / 2.0]
    lo, hi = np.quantile(boot_t - boot_c, q)
    rel_lo, rel_hi = np.quantile(rel, q)
    return BootstrapResult(estimate=r_t - r_c, ci_low=float(lo), ci_high=float(hi),
                           relative=r_t / r_c - 1.0, rel_ci_low=float(rel_lo),
                           rel_ci_high=float(rel_hi), n_boot=n_boot)


# --------------------------------------------------------------------------------------------
# variance reduction and heavy tails


def _theta(y: np.ndarray, x: np.ndarray) -> float:
    var_x = float(np.var(x, ddof=1))
    if var_x == 0.0:
        raise NotEstimableError("x (the covariate) must not be constant; its variance is 0")
    return float(np.cov(y, x, ddof=1)[0, 1]) / var_x


def cuped(y: Any, x: Any) -> CupedResult:
    r"""CUPED adjustment of outcomes ``y`` by a pre-period covariate ``x``.

    Parameters
    ----------
    y, x : array_like
        Outcome and covariate per unit (same length, >= 2, finite; ``x`` not constant).

    Returns
    -------
    CupedResult
        ``(y_adjusted, theta, variance_reduction)`` with
        :math:`y^* = y - \theta(x - \bar x)`, :math:`\theta = \widehat{\mathrm{Cov}}(y, x) /
        \widehat{\mathrm{Var}}(x)` and ``variance_reduction`` :math:`= 1 - s^2_{y^*}/s^2_y`,
        which equals the squared sample correlation of ``y`` and ``x``.

    Raises
    ------
    ConfigError
        Invalid inputs, constant ``x`` or constant ``y``.

    References
    ----------
    .. [1] Deng, A., Xu, Y., Kohavi, R. and Walker, T. (2013). Improving the sensitivity of
       online controlled experiments by utilizing pre-experiment data. *WSDM '13*, 123-132.

    Examples
    --------
    >>> res = cuped([2.0, 4.0, 6.0, 9.0], [1.0, 2.0, 3.0, 4.0])
    >>> round(res.theta, 2), round(res.variance_reduction, 4)
    (2.3, 0.9888)
    """
    y = _vector("y", y, min_size=2)
    x = _vector("x", x, min_size=2)
    _same_length("y", y, "x", x)
    var_y = float(np.var(y, ddof=1))
    if var_y == 0.0:
        raise NotEstimableError("y must not be constant; its variance is 0")
    theta = _theta(y, x)
    adjusted = y - theta * (x - np.mean(x))
    return CupedResult(adjusted, theta, 1.0 - float(np.var(adjusted, ddof=1)) / var_y)


def diff_in_means_cuped(
    y_c: Any, x_c: Any, y_t: Any, x_t: Any, alpha: float = 0.05, *, metric: str = "mean"
) -> Estimate:
    r"""Welch comparison of CUPED-adjusted means, with :math:`\theta` from both arms pooled.

    Parameters
    ----------
    y_c, x_c : array_like
        Control outcomes and pre-period covariates (same length, >= 2).
    y_t, x_t : array_like
        Treatment outcomes and covariates.
    alpha : float
        ``1 -`` confidence level, in (0, 1).
    metric : str
        Label stored in the result.

    Returns
    -------
    Estimate
        ``method == "CUPED + Welch t"``; ``control_value``/``treatment_value`` are adjusted
        means and ``variance_reduction`` is
        :math:`1 - (s^{*2}_c/n_c + s^{*2}_t/n_t)/(s^2_c/n_c + s^2_t/n_t)`.

    Raises
    ------
    ConfigError
        Invalid inputs or a constant covariate.

    Notes
    -----
    :math:`\theta` and :math:`\bar x` come from the pooled sample so both arms are shifted by
    the same rule; since randomization makes :math:`E[\bar x_t - \bar x_c] = 0` the adjusted
    difference is unbiased for the effect. The standard error ignores the estimation of
    :math:`\theta`, which is negligible at experiment sizes.

    References
    ----------
    .. [1] Deng, A., Xu, Y., Kohavi, R. and Walker, T. (2013). Improving the sensitivity of
       online controlled experiments by utilizing pre-experiment data. *WSDM '13*, 123-132.

    Examples
    --------
    >>> est = diff_in_means_cuped([2, 4, 6, 9], [1, 2, 3, 4], [4, 5, 8, 10], [1, 2, 3, 4])
    >>> est.method, round(est.estimate, 2)
    ('CUPED + Welch t', 1.5)
    """
    alpha = _alpha(alpha)
    y_c, x_c = _vector("y_c", y_c, min_size=2), _vector("x_c", x_c, min_size=2)
    y_t, x_t = _vector("y_t", y_t, min_size=2), _vector("x_t", x_t, min_size=2)
    _same_length("y_c", y_c, "x_c", x_c)
    _same_length("y_t", y_t, "x_t", x_t)
    x_all = np.concatenate([x_c, x_t])
    theta = _theta(np.concatenate([y_c, y_t]), x_all)
    x_bar = float(np.mean(x_all))
    adj_c = y_c - theta * (x_c - x_bar)
    adj_t = y_t - theta * (x_t - x_bar)
    raw = np.var(y_c, ddof=1) / y_c.size + np.var(y_t, ddof=1) / y_t.size
    adj = np.var(adj_c, ddof=1) / y_c.size + np.var(adj_t, ddof=1) / y_t.size
    reduction = float(1.0 - adj / raw) if raw > 0 else 0.0
    return _welch(metric, "CUPED + Welch t", adj_c, adj_t, alpha, variance_reduction=reduction)


def winsorize_pooled(
    y_c: Any, y_t: Any, upper_quantile: float | None = 0.99, lower_quantile: float | None = None
) -> Winsorized:
    """Cap both arms at thresholds computed from their pooled values.

    Per-arm thresholds would differ when the treatment shifts the tail and so manufacture (or
    hide) an effect; one pooled threshold applied to both arms keeps the comparison fair and
    keeps every unit (capping, unlike trimming, does not change n).

    Parameters
    ----------
    y_c, y_t : array_like
        Per-unit values of the two arms (1-D, finite, non-empty).
    upper_quantile : float or None
        Quantile of the pooled values used as the upper cap, in (0, 1); ``None`` for no cap.
    lower_quantile : float or None
        Quantile used as the lower floor, in (0, 1) and below ``upper_quantile``; ``None``
        (default) for none, e.g. 0.01 to also cap refunds.

    Returns
    -------
    Winsorized
        ``(y_c, y_t, lower, upper)``: new capped arrays and the thresholds (``None`` if unused).
        Quantiles use numpy's default linear interpolation.

    Raises
    ------
    ConfigError
        Invalid arrays or quantiles, or both quantiles ``None``.

    Examples
    --------
    >>> res = winsorize_pooled([1.0, 2.0, 3.0], [4.0, 5.0, 100.0], upper_quantile=0.8)
    >>> res.y_t.tolist(), res.upper
    ([4.0, 5.0, 5.0], 5.0)
    """
    y_c = _vector("y_c", y_c)
    y_t = _vector("y_t", y_t)
    if upper_quantile is None and lower_quantile is None:
        raise ConfigError("upper_quantile and lower_quantile must not both be None")
    for name, q in (("upper_quantile", upper_quantile), ("lower_quantile", lower_quantile)):
        if q is not None and not (isinstance(q, (int, float, np.floating)) and 0.0 < q < 1.0):
            raise ConfigError(f"{name} must be in (0, 1) or None; got {q!r}")
    if upper_quantile is not None and lower_quantile is not None:
        if lower_quantile >= upper_quantile:
            raise ConfigError(
                "lower_quantile must be below upper_quantile; got "
                f"lower_quantile={lower_quantile!r}, upper_quantile={upper_quantile!r}"
            )
    pooled = np.concatenate([y_c, y_t])
    upper = None if upper_quantile is None else float(np.quantile(pooled, upper_quantile))
    lower = None if lower_quantile is None else float(np.quantile(pooled, lower_quantile))
    return Winsorized(np.clip(y_c, lower, upper), np.clip(y_t, lower, upper), lower, upper)
