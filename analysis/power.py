"""Analytic power, sample size and minimum detectable effect for two-arm experiments.

Core objects: :class:`PowerResult` (one frozen record per design question) and the solvers
:func:`proportion_power` (conversion, retention and other binary metrics) and :func:`mean_power`
(continuous metrics such as revenue per user). Both follow the "solve for the one missing
quantity" shape: exactly one of ``mde``, ``n_per_arm`` and ``power`` is ``None``. Effects are
given and reported in natural units (absolute and relative), never only as Cohen's h or d.
:func:`simulated_power_ci` puts a Monte Carlo interval around a power estimated by simulation.

Conventions shared by every function here:

* arm 1 is the control with ``n_per_arm`` units; the treatment arm has
  ``n_treatment = ratio * n_per_arm`` units (``ratio`` as in ``statsmodels.stats.power``);
* ``mde`` is always a positive magnitude. For ``alternative="larger"`` and ``"two-sided"`` the
  treatment value is ``baseline + mde`` (an uplift); for ``"smaller"`` it is ``baseline - mde``;
* a solver that cannot produce an answer raises (:class:`~scenarios.errors.ConfigError` when the
  request is impossible, :class:`~scenarios.errors.ConvergenceError` when the root finder fails); it
  never returns ``nan`` or the edge of its search bracket.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize, special, stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from scenarios.errors import ConfigError, ConvergenceError

__all__ = ["PowerResult", "power", "proportion_power", "mean_power", "simulated_power_ci"]

Alternative = Literal["two-sided", "larger", "smaller"]
ProportionMethod = Literal["cohen-h", "pooled", "unpooled"]

_ALTERNATIVES = ("two-sided", "larger", "smaller")
_PROPORTION_METHODS = ("cohen-h", "pooled", "unpooled")
_MEAN_TESTS = ("t", "z")
_MIN_N = 2.0  # smallest control-arm size a design may have (statsmodels' lower search bound)
_MAX_N = 1e12  # beyond this the sample-size search gives up
_XTOL = 1e-10  # absolute x tolerance of every root search


@dataclass(frozen=True)
class PowerResult:
    """Answer to one power question; the solved quantity is named by ``solved_for``.

    Attributes
    ----------
    solved_for : {"n_per_arm", "power", "mde"}
        Which input was ``None`` and has been solved for.
    method : str
        ``"cohen-h"``, ``"pooled"`` or ``"unpooled"`` for proportions; ``"t"`` or ``"z"`` for means.
    alternative : str
        ``"two-sided"``, ``"larger"`` or ``"smaller"``.
    alpha : float
        Significance level.
    ratio : float
        ``n_treatment / n_per_arm``.
    baseline : float
        Control conversion rate or mean.
    treatment : float
        Treatment rate or mean under the alternative (``baseline +/- mde_absolute``).
    n_per_arm : float
        Control-arm size, unrounded.
    n_per_arm_ceil : int
        ``n_per_arm`` rounded up (the usable design).
    n_treatment : float
        Treatment-arm size, ``ratio * n_per_arm``, unrounded.
    n_treatment_ceil : int
        ``n_treatment`` rounded up.
    power : float
        Probability of rejecting H0 under the alternative.
    mde_absolute : float
        Effect magnitude in natural units (proportion points or metric units).
    mde_relative : float or None
        ``mde_absolute / baseline``; ``None`` when the baseline is not positive.
    effect_size : float or None
        Standardized effect passed to statsmodels (Cohen's h or d); ``None`` for the
        ``"pooled"`` and ``"unpooled"`` proportion methods, which work in natural units.
    sd : float or None
        Outcome standard deviation (means only).
    """

    solved_for: str
    method: str
    alternative: str
    alpha: float
    ratio: float
    baseline: float
    treatment: float
    n_per_arm: float
    n_per_arm_ceil: int
    n_treatment: float
    n_treatment_ceil: int
    power: float
    mde_absolute: float
    mde_relative: float | None
    effect_size: float | None
    sd: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain ``dict`` (JSON-serialisable scalars)."""
        return asdict(self)


# --------------------------------------------------------------------------------------------
# validation helpers


def _shown(value: Any) -> Any:
    """``value`` for an error message: numpy scalars as plain Python numbers."""
    return value.item() if isinstance(value, np.generic) else value


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a real number; got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ConfigError(f"{name} must be finite; got {_shown(value)!r}")
    return out


def _open_unit(name: str, value: Any) -> float:
    out = _real(name, value)
    if not 0.0 < out < 1.0:
        raise ConfigError(f"{name} must be in (0, 1); got {_shown(value)!r}")
    return out


def _positive(name: str, value: Any) -> float:
    out = _real(name, value)
    if out <= 0.0:
        raise ConfigError(f"{name} must be > 0; got {_shown(value)!r}")
    return out


def _choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ConfigError(f"{name} must be one of {list(options)}; got {value!r}")
    return value


def _common(alpha: Any, ratio: Any, alternative: Any, mde: Any, n_per_arm: Any, power: Any):
    """Validate the arguments shared by both solvers; return them normalised."""
    alpha = _open_unit("alpha", alpha)
    ratio = _positive("ratio", ratio)
    alternative = _choice("alternative", alternative, _ALTERNATIVES)
    given = (("mde", mde), ("n_per_arm", n_per_arm), ("power", power))
    missing = [name for name, value in given if value is None]
    if len(missing) != 1:
        raise ConfigError(
            "exactly one of mde, n_per_arm, power must be None (the quantity solved for); "
            f"got {len(missing)} None: {missing}"
        )
    if n_per_arm is not None:
        if _real("n_per_arm", n_per_arm) < _MIN_N:
            raise ConfigError(f"n_per_arm must be >= 2; got {_shown(n_per_arm)!r}")
        n_per_arm = float(n_per_arm)
    if power is not None:
        if not alpha < _real("power", power) < 1.0:
            raise ConfigError(
                f"power must be in (alpha, 1) = ({alpha}, 1); got {_shown(power)!r}"
            )
        power = float(power)
    if mde is not None:
        mde = _positive("mde", mde)
    return alpha, ratio, alternative, missing[0], mde, n_per_arm, power


def _ceil(x: float) -> int:
    # a solved n is exact only to the root-finder tolerance, so 76.00000000001 counts as 76
    return int(math.ceil(x - 1e-9))


# --------------------------------------------------------------------------------------------
# power functions in natural units


def _normal_power(delta: float, se0: float, se1: float, alpha: float, alternative: str) -> float:
    """Power of a z-test whose statistic has s.e. ``se0`` under H0 and ``se1`` under H1."""
    if alternative == "two-sided":
        crit = special.ndtri(1.0 - alpha / 2.0)
        upper = special.ndtr((delta - crit * se0) / se1)
        lower = special.ndtr((-delta - crit * se0) / se1)
        return float(upper + lower)
    crit = special.ndtri(1.0 - alpha)
    signed = delta if alternative == "larger" else -delta
    return float(special.ndtr((signed - crit * se0) / se1))


def _proportion_power_fn(
    method: str, p_c: float, p_t: float, n1: float, ratio: float, alpha: float, alternative: str
) -> float:
    if method == "cohen-h":
        h = float(proportion_effectsize(p_t, p_c))
        return float(NormalIndPower().power(h, n1, alpha, ratio=ratio, alternative=alternative))
    n2 = ratio * n1
    delta = p_t - p_c
    se1 = math.sqrt(p_c * (1.0 - p_c) / n1 + p_t * (1.0 - p_t) / n2)
    if method == "pooled":
        p_bar = (p_c + ratio * p_t) / (1.0 + ratio)
        se0 = math.sqrt(p_bar * (1.0 - p_bar) * (1.0 / n1 + 1.0 / n2))
    else:
        se0 = se1
    return _normal_power(delta, se0, se1, alpha, alternative)


def _mean_power_fn(
    test: str, d: float, n1: float, ratio: float, alpha: float, alternative: str
) -> float:
    if test == "z":
        return float(NormalIndPower().power(d, n1, alpha, ratio=ratio, alternative=alternative))
    value = float(TTestIndPower().power(d, n1, alpha, ratio=ratio, alternative=alternative))
    if math.isfinite(value):
        return value
    return _t_power_fallback(d, n1, ratio, alpha, alternative)


def _t_power_fallback(
    d: float, n1: float, ratio: float, alpha: float, alternative: str
) -> float:
    """Two-sample t power when scipy's noncentral-t CDF returns nan.

    ``scipy.special.nctdtr`` can return nan far out in a tail. With ``T = (Z + nc) / S``,
    ``S = sqrt(V / df)`` and ``x < 0``, for every ``s0 > 0``
    ``P(T < x) <= P(S < s0) + Phi(x * s0 - nc)``; a nan term is replaced by 0 when the smallest
    such bound over a grid of ``s0`` is below 1e-12 (so power moves by at most 1e-12), and is
    otherwise a genuine failure. The upper tail uses ``P(T > c; nc) = P(T < -c; -nc)``.
    """
    n2 = ratio * n1
    df = n1 + n2 - 2.0
    nc = d * math.sqrt(n1 * n2 / (n1 + n2))
    crit = float(stats.t.isf(alpha / 2.0 if alternative == "two-sided" else alpha, df))
    s0 = np.linspace(0.02, 1.0, 50)
    total = 0.0
    # each rejection tail in lower-tail form P(T < -crit; sign * nc): -1 upper, +1 lower
    tails = {"two-sided": (-1.0, 1.0), "larger": (-1.0,), "smaller": (1.0,)}
    for sign in tails[alternative]:
        term = float(special.nctdtr(df, sign * nc, -crit))
        if not math.isfinite(term):
            bound = float(np.min(stats.chi2.cdf(df * s0**2, df)
                                 + special.ndtr(-crit * s0 - sign * nc)))
            if not bound < 1e-12:
                raise ConvergenceError(
                    "noncentral t tail probability is nan and cannot be bounded",
                    {"df": df, "nc": nc, "crit": crit, "bound": bound},
                )
            term = 0.0
        total += term
    return total


# --------------------------------------------------------------------------------------------
# root finding


def _brentq(fn: Callable[[float], float], lo: float, hi: float, what: str, diag: dict) -> float:
    lo, hi = min(lo, hi), max(lo, hi)
    try:
        root, info = optimize.brentq(fn, lo, hi, xtol=_XTOL, maxiter=500, full_output=True)
    except (ValueError, RuntimeError) as exc:
        raise ConvergenceError(
            f"root search for {what} failed: {exc}", {**diag, "bracket": (lo, hi)}
        ) from exc
    if not info.converged:
        raise ConvergenceError(
            f"root search for {what} did not converge ({info.flag})",
            {**diag, "bracket": (lo, hi), "iterations": info.iterations, "last": root},
        )
    return float(root)


def _solve_n(power_at: Callable[[float], float], target: float, diag: dict) -> float:
    """Control-arm size in [2, 1e12] at which ``power_at`` equals ``target`` (Brent root)."""
    p_lo = power_at(_MIN_N)
    if p_lo >= target:
        raise ConfigError(
            f"power must exceed the power already reached at n_per_arm=2 ({p_lo:.6g}) when "
            f"solving for n_per_arm; got power={target!r} (the effect is too large to size)"
        )
    hi = 50.0
    while power_at(hi) < target:
        if hi >= _MAX_N:
            raise ConvergenceError(
                f"power={target!r} not reached for n_per_arm up to {_MAX_N:.0e}",
                {**diag, "n_per_arm": hi, "power": power_at(hi)},
            )
        hi *= 10.0
    return _brentq(lambda n: power_at(n) - target, _MIN_N, hi, "n_per_arm", diag)


def _result(**fields: Any) -> PowerResult:
    n1 = fields["n_per_arm"]
    n2 = fields["ratio"] * n1
    baseline = fields["baseline"]
    mde = fields["mde_absolute"]
    return PowerResult(
        n_per_arm_ceil=_ceil(n1),
        n_treatment=n2,
        n_treatment_ceil=_ceil(n2),
        mde_relative=mde / baseline if baseline > 0 else None,
        **fields,
    )


# --------------------------------------------------------------------------------------------
# public solvers


def proportion_power(
    *,
    baseline: float,
    mde: float | None = None,
    n_per_arm: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: Alternative = "two-sided",
    method: ProportionMethod = "pooled",
    relative: bool = False,
) -> PowerResult:
    r"""Power, control-arm size or MDE for comparing two proportions.

    Exactly one of ``mde``, ``n_per_arm`` and ``power`` must be ``None``; it is solved for.

    Parameters
    ----------
    baseline : float
        Control rate :math:`p_c`, in (0, 1).
    mde : float or None
        Effect magnitude, > 0. Absolute (proportion points) unless ``relative`` is true, in
        which case it is a fraction of ``baseline``. The treatment rate :math:`p_t` is
        ``baseline + mde`` (``"larger"``, ``"two-sided"``) or ``baseline - mde`` (``"smaller"``)
        and must lie in (0, 1).
    n_per_arm : float or None
        Control-arm size :math:`n_c \ge 2`; the treatment arm has :math:`n_t = r\,n_c`.
    power : float or None
        Target power, in (alpha, 1).
    alpha : float
        Significance level, in (0, 1).
    ratio : float
        :math:`r = n_t / n_c > 0`.
    alternative : {"two-sided", "larger", "smaller"}
        Alternative hypothesis for :math:`p_t - p_c`.
    method : {"pooled", "unpooled", "cohen-h"}
        Variance model of the test; see Notes.
    relative : bool
        Interpret ``mde`` as a fraction of ``baseline``.

    Returns
    -------
    PowerResult
        With ``method`` naming the variance model.

    Raises
    ------
    ConfigError
        Invalid or inconsistent inputs, or an unattainable request (e.g. the target power is
        not reached even with a treatment rate of 1, or n_per_arm=2 already exceeds it).
    ConvergenceError
        The root finder failed; ``diagnostics`` holds the bracket and last values.

    Notes
    -----
    With :math:`\Delta = p_t - p_c`, :math:`n_t = r n_c`, :math:`q = 1 - p` and
    :math:`\bar p = (p_c + r p_t) / (1 + r)` (the pooled rate expected under the design):

    .. math::

        \sigma_0 = \sqrt{\bar p \bar q (1/n_c + 1/n_t)}, \qquad
        \sigma_1 = \sqrt{p_c q_c / n_c + p_t q_t / n_t},

    * ``"larger"``: :math:`\Phi((\Delta - z_{1-\alpha}\sigma_0)/\sigma_1)`;
    * ``"smaller"``: :math:`\Phi((-\Delta - z_{1-\alpha}\sigma_0)/\sigma_1)`;
    * ``"two-sided"``: :math:`\Phi((\Delta - z_{1-\alpha/2}\sigma_0)/\sigma_1) +
      \Phi((-\Delta - z_{1-\alpha/2}\sigma_0)/\sigma_1)` (both rejection tails).

    ``"pooled"`` uses this :math:`\sigma_0` (the null variance of the usual pooled two-proportion
    z-test, i.e. the chi-square test without continuity correction) and is the Fleiss formula
    behind R's ``power.prop.test``; its two-sided form equals ``power.prop.test(strict=TRUE)``
    and differs from the default ``strict=FALSE`` only by the far-tail term, which is negligible
    unless power is close to alpha (the examples below reproduce the ``power.prop.test`` help
    page: n = 76.7, power = 0.740, p2 = 0.8026); unequal allocation follows [2]_.
    ``"unpooled"`` sets :math:`\sigma_0 = \sigma_1` (the Wald test).
    ``"cohen-h"`` is statsmodels' ``NormalIndPower`` with effect size
    :math:`h = 2\arcsin\sqrt{p_t} - 2\arcsin\sqrt{p_c}` (``proportion_effectsize``), the same
    model as R's ``pwr::pwr.2p.test`` (n = 76.65 for the first example below). The three
    differ by a few percent in n; the pooled method matches the analysis in
    :func:`analysis.stats.diff_in_proportions`, whose p-value uses the pooled test.

    References
    ----------
    .. [1] Fleiss, J. L., Levin, B. and Paik, M. C. (2003). *Statistical Methods for Rates and
       Proportions*, 3rd ed., Wiley, section 4.2.
    .. [2] Fleiss, J. L., Tytun, A. and Ury, H. K. (1980). A simple approximation for
       calculating sample sizes for comparing independent proportions. *Biometrics* 36, 343-346.
    .. [3] Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed.,
       chapter 6 (effect size h).
    .. [4] Chow, S.-C., Shao, J. and Wang, H. (2008). *Sample Size Calculations in Clinical
       Research*, 2nd ed., section 4.2 (unpooled Wald test).

    Examples
    --------
    >>> res = proportion_power(baseline=0.5, mde=0.25, power=0.9)
    >>> round(res.n_per_arm, 3), res.n_per_arm_ceil, res.method
    (76.707, 77, 'pooled')
    >>> round(proportion_power(baseline=0.5, mde=0.25, n_per_arm=50).power, 4)
    0.7402
    >>> round(proportion_power(baseline=0.5, n_per_arm=50, power=0.9).treatment, 4)
    0.8026
    """
    alpha, ratio, alternative, solve, mde, n_per_arm, power = _common(
        alpha, ratio, alternative, mde, n_per_arm, power
    )
    p_c = _open_unit("baseline", baseline)
    method = _choice("method", method, _PROPORTION_METHODS)
    sign = -1.0 if alternative == "smaller" else 1.0
    if mde is not None:
        mde_abs = mde * p_c if relative else mde
        p_t = p_c + sign * mde_abs
        if not 0.0 < p_t < 1.0:
            label = "baseline * mde" if relative else "mde"
            op = "-" if sign < 0 else "+"
            raise ConfigError(
                f"baseline {op} {label} must be in (0, 1) for alternative={alternative!r}; got "
                f"baseline={p_c!r}, mde={mde!r} -> treatment rate {p_t!r}"
            )
    diag = {"baseline": p_c, "alpha": alpha, "ratio": ratio, "alternative": alternative,
            "method": method}

    def power_at(p_t: float, n1: float) -> float:
        return _proportion_power_fn(method, p_c, p_t, n1, ratio, alpha, alternative)

    if solve == "power":
        power = power_at(p_t, n_per_arm)
    elif solve == "n_per_arm":
        n_per_arm = _solve_n(lambda n: power_at(p_t, n), power, {**diag, "treatment": p_t})
    else:
        edge = 0.0 if sign < 0 else 1.0  # the most extreme treatment rate
        best = power_at(edge, n_per_arm)
        if best < power:
            raise ConfigError(
                f"power={power!r} is unattainable with n_per_arm={n_per_arm!r}: even a treatment "
                f"rate of {edge:g} gives power {best:.6g}; increase n_per_arm or lower power"
            )
        p_t = _brentq(lambda p: power_at(p, n_per_arm) - power, p_c, edge, "mde",
                      {**diag, "n_per_arm": n_per_arm, "power": power})
    effect = float(proportion_effectsize(p_t, p_c)) if method == "cohen-h" else None
    return _result(solved_for=solve, method=method, alternative=alternative, alpha=alpha,
                   ratio=ratio, baseline=p_c, treatment=p_t, n_per_arm=n_per_arm, power=power,
                   mde_absolute=abs(p_t - p_c), effect_size=effect, sd=None)


def mean_power(
    *,
    baseline_mean: float,
    sd: float,
    mde: float | None = None,
    n_per_arm: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: Alternative = "two-sided",
    relative: bool = False,
    test: Literal["t", "z"] = "t",
) -> PowerResult:
    r"""Power, control-arm size or MDE for comparing two means.

    Exactly one of ``mde``, ``n_per_arm`` and ``power`` must be ``None``; it is solved for.

    Parameters
    ----------
    baseline_mean : float
        Control mean (finite). Must be > 0 when ``relative`` is true.
    sd : float
        Common outcome standard deviation, > 0.
    mde : float or None
        Effect magnitude, > 0; absolute, or a fraction of ``baseline_mean`` if ``relative``.
    n_per_arm : float or None
        Control-arm size, >= 2; the treatment arm has ``ratio * n_per_arm`` units.
    power : float or None
        Target power, in (alpha, 1).
    alpha : float
        Significance level, in (0, 1).
    ratio : float
        ``n_treatment / n_per_arm`` > 0.
    alternative : {"two-sided", "larger", "smaller"}
        Alternative hypothesis for the treatment-minus-control difference.
    relative : bool
        Interpret ``mde`` as a fraction of ``baseline_mean``.
    test : {"t", "z"}
        ``"t"``: two-sample pooled-variance t-test, ``statsmodels`` ``TTestIndPower`` with
        ``df = n_c + n_t - 2``. ``"z"``: normal approximation, ``NormalIndPower``.

    Returns
    -------
    PowerResult
        ``effect_size`` is Cohen's :math:`d = \pm\,\mathrm{mde}/\mathrm{sd}` (negative for
        ``"smaller"``).

    Raises
    ------
    ConfigError
        Invalid or inconsistent inputs, or n_per_arm=2 already exceeds the target power.
    ConvergenceError
        The root finder failed; ``diagnostics`` holds the bracket and last values.

    Notes
    -----
    Power is the statsmodels power function evaluated at :math:`d`, ``nobs1 = n_per_arm`` and
    ``ratio``; for the t-test it is the noncentral-t probability of the rejection region with
    noncentrality :math:`\delta = d\sqrt{n_c n_t/(n_c + n_t)}`. Solving for n or the MDE
    inverts that same function with Brent's method, so results agree with ``solve_power``.
    Where scipy's noncentral-t CDF returns nan far out in the tail opposite to the effect
    (statsmodels then returns nan power), that term is bounded above and set to 0 if the bound
    is below 1e-12 (see ``_t_power_fallback``); otherwise ConvergenceError is raised.

    References
    ----------
    .. [1] Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed.,
       chapter 2 (effect size d).

    Examples
    --------
    >>> res = mean_power(baseline_mean=10.0, sd=4.0, mde=1.0, power=0.8)
    >>> res.n_per_arm_ceil
    253
    """
    alpha, ratio, alternative, solve, mde, n_per_arm, power = _common(
        alpha, ratio, alternative, mde, n_per_arm, power
    )
    mu_c = _real("baseline_mean", baseline_mean)
    sd = _positive("sd", sd)
    test = _choice("test", test, _MEAN_TESTS)
    if relative and mu_c <= 0.0:
        raise ConfigError(f"baseline_mean must be > 0 when relative=True; got {baseline_mean!r}")
    sign = -1.0 if alternative == "smaller" else 1.0
    diag = {"baseline_mean": mu_c, "sd": sd, "alpha": alpha, "ratio": ratio,
            "alternative": alternative, "test": test}

    def power_at(d_abs: float, n1: float) -> float:
        return _mean_power_fn(test, sign * d_abs, n1, ratio, alpha, alternative)

    d_abs = None if mde is None else (mde * mu_c if relative else mde) / sd
    if solve == "power":
        power = power_at(d_abs, n_per_arm)
    elif solve == "n_per_arm":
        n_per_arm = _solve_n(lambda n: power_at(d_abs, n), power, {**diag, "effect_size": d_abs})
    else:
        hi = 1.0
        while power_at(hi, n_per_arm) < power:
            if hi > 1e6:
                raise ConvergenceError(
                    f"power={power!r} not reached for effect sizes up to 1e6 sd",
                    {**diag, "n_per_arm": n_per_arm, "effect_size": hi},
                )
            hi *= 2.0
        d_abs = _brentq(lambda d: power_at(d, n_per_arm) - power, 0.0, hi, "mde",
                        {**diag, "n_per_arm": n_per_arm, "power": power})
    mde_abs = d_abs * sd
    return _result(solved_for=solve, method=test, alternative=alternative, alpha=alpha,
                   ratio=ratio, baseline=mu_c, treatment=mu_c + sign * mde_abs,
                   n_per_arm=n_per_arm, power=power, mde_absolute=mde_abs,
                   effect_size=sign * d_abs, sd=sd)


def simulated_power_ci(
    successes: int, replications: int, level: float = 0.95
) -> tuple[float, float, float]:
    r"""Monte Carlo estimate of power with a Wilson score interval.

    Parameters
    ----------
    successes : int
        Number of simulated experiments that rejected H0, in ``[0, replications]``.
    replications : int
        Number of simulated experiments, >= 1.
    level : float
        Confidence level, in (0, 1).

    Returns
    -------
    tuple of float
        ``(estimate, lo, hi)`` with ``estimate = successes / replications``.

    Raises
    ------
    ConfigError
        If the counts or the level are out of range.

    Notes
    -----
    The Wilson interval is used rather than the Wald interval because simulated power is often
    0 or 1 at a few hundred replications, where Wald collapses to a point; unlike
    Clopper-Pearson it is not conservative, so its coverage is close to ``level``. With
    :math:`\hat p = k/m` and :math:`z = z_{(1+\mathrm{level})/2}`:

    .. math::

        \frac{\hat p + z^2/(2m) \pm z\sqrt{\hat p(1-\hat p)/m + z^2/(4m^2)}}{1 + z^2/m}.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
       inference. *JASA* 22, 209-212.
    .. [2] Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a binomial
       proportion. *Statistical Science* 16, 101-133.

    Examples
    --------
    >>> est, lo, hi = simulated_power_ci(160, 200)
    >>> est, round(lo, 4), round(hi, 4)
    (0.8, 0.7391, 0.8495)
    """
    for name, value in (("successes", successes), ("replications", replications)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ConfigError(f"{name} must be an integer; got {value!r}")
    if replications < 1:
        raise ConfigError(f"replications must be >= 1; got {replications!r}")
    if not 0 <= successes <= replications:
        raise ConfigError(
            f"successes must be in [0, replications] = [0, {replications}]; got {successes!r}"
        )
    level = _open_unit("level", level)
    m = float(replications)
    p_hat = successes / m
    z = float(special.ndtri(0.5 + level / 2.0))
    denom = 1.0 + z * z / m
    centre = (p_hat + z * z / (2.0 * m)) / denom
    half = z * math.sqrt(p_hat * (1.0 - p_hat) / m + z * z / (4.0 * m * m)) / denom
    # at k = 0 (k = m) the bound is exactly 0 (1); set it so rounding cannot leave 1e-18
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == replications else min(1.0, centre + half)
    return p_hat, lo, hi


def power(*, baseline: float | None = None, baseline_mean: float | None = None, sd: float | None = None,
          mde: float | None = None, n_per_arm: float | None = None, power: float | None = None,
          alpha: float = 0.05, ratio: float = 1.0, alternative: str = "two-sided", relative: bool = False,
          method: str = "pooled") -> PowerResult:
    """Solve a two-arm test for the one missing quantity: n per arm, power or the MDE.

    Give ``baseline`` (a proportion, :func:`proportion_power`, with ``method``) or
    ``baseline_mean`` and ``sd`` (a mean, :func:`mean_power`), and two of ``mde``, ``n_per_arm``
    and ``power``; with only ``mde`` the power defaults to 0.8 and n is solved for.

    Examples
    --------
    >>> power(baseline=0.10, mde=0.02).n_per_arm_ceil
    3841
    """
    if (baseline is None) == (baseline_mean is None):
        raise ConfigError("give either baseline (a proportion) or baseline_mean with sd (a mean)")
    if n_per_arm is None and power is None:
        power = 0.8
    if mde is None and (n_per_arm is None or power is None):
        raise ConfigError("to solve for the MDE give both n_per_arm and power")
    if mde is not None and n_per_arm is not None and power is not None:
        raise ConfigError("give at most two of mde, n_per_arm and power: the third is solved for")
    common = dict(mde=mde, n_per_arm=n_per_arm, power=power, alpha=alpha, ratio=ratio, alternative=alternative,
                  relative=relative)
    if baseline is not None:
        return proportion_power(baseline=baseline, method=method, **common)
    if sd is None:
        raise ConfigError("baseline_mean needs sd, the standard deviation of the metric")
    return mean_power(baseline_mean=baseline_mean, sd=sd, **common)
