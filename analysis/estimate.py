"""Estimates over replications with their uncertainty: means, shares, lower quantiles and tails.

Core objects: :class:`Estimate` (value, standard error, interval, n) and the pure functions
:func:`mean_ci` (of replication values), :func:`paired` (of per-seed differences under common
random numbers), :func:`share_ci` (a share of replications, Wilson interval), :func:`quantile_ci`
(a lower quantile, distribution-free interval from order statistics) and :func:`tail_mean_ci`
(the mean of the worst share, CVaR, with a seeded bootstrap interval). Budget allocation, sweeps
and replicated runs all report through these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "mean_ci", "paired", "share_ci", "quantile_ci", "tail_mean_ci", "tail_mean"]


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its standard error and t-interval (None with fewer than two)."""

    mean: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high, "se": self.se, "n": self.n}


def mean_ci(values, level: float = 0.95) -> Estimate:
    """Mean and t-interval of replication values; non-finite values (an undefined ratio) are dropped.

    Examples
    --------
    >>> e = mean_ci([1.0, 2.0, 3.0])
    >>> round(e.mean, 3), round(e.ci_low, 3), round(e.ci_high, 3)
    (2.0, -0.484, 4.484)
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Estimate(float("nan"), None, None, None, 0)
    m = float(x.mean())
    if n < 2:
        return Estimate(m, None, None, None, n)
    se = float(x.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    return Estimate(m, se, m - half, m + half, n)


def paired(a, b, level: float = 0.95) -> Estimate:
    """The paired (same seeds) difference ``a - b``: mean and t-interval of per-seed differences."""
    return mean_ci(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), level)


def share_ci(successes: int, n: int, level: float = 0.95) -> Estimate:
    """A share ``successes / n`` with its Wilson score interval (sound near 0 and 1, unlike the normal one).

    Examples
    --------
    >>> e = share_ci(9, 10)
    >>> round(e.mean, 2), round(e.ci_low, 3), round(e.ci_high, 3)
    (0.9, 0.596, 0.982)
    """
    from scipy import stats

    if n <= 0:
        return Estimate(float("nan"), None, None, None, 0)
    p = successes / n
    z = float(stats.norm.ppf(0.5 + level / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(float(p), math.sqrt(p * (1 - p) / n), float(max(0.0, centre - half)), float(min(1.0, centre + half)), n)


def quantile_ci(values, q: float, level: float = 0.95) -> Estimate:
    """The ``q``-quantile of replication values with a distribution-free interval.

    The interval is between two order statistics ``x_(l) <= x_(u)`` chosen so that the binomial
    count of values below the true quantile, ``Bin(n, q)``, falls in ``[l, u - 1]`` with
    probability at least ``level`` (None where ``n`` is too small for such an interval, e.g. a 10th
    percentile from fewer than 29 replications has no finite lower end at 95%).
    """
    from scipy import stats

    x = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    n = int(x.size)
    if n == 0:
        return Estimate(float("nan"), None, None, None, 0)
    value = float(np.quantile(x, q))
    alpha = 1 - level
    l = int(stats.binom.ppf(alpha / 2, n, q))  # P(B < l) <= alpha/2: x_(l) (1-based) is below the quantile
    u = int(stats.binom.ppf(1 - alpha / 2, n, q)) + 1
    low = float(x[l - 1]) if l >= 1 else None
    high = float(x[u - 1]) if u <= n else None
    return Estimate(value, None, low, high, n)


def tail_mean(values, share: float):
    """Mean of the worst ``share`` of values (at least one): the expected shortfall, CVaR; along the
    last axis of a 2-D array (one row per resample)."""
    x = np.sort(np.asarray(values, dtype=float), axis=-1)
    k = max(1, int(math.ceil(share * x.shape[-1] - 1e-9)))
    out = x[..., :k].mean(axis=-1)
    return float(out) if out.ndim == 0 else out


def tail_mean_ci(values, share: float, level: float = 0.95, *, resamples: int = 2000, seed: int = 0) -> Estimate:
    """:func:`tail_mean` with a percentile bootstrap interval (resamples drawn from ``seed``: reproducible)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Estimate(float("nan"), None, None, None, 0)
    value = tail_mean(x, share)
    if n < 2:
        return Estimate(value, None, None, None, n)
    rng = np.random.default_rng(seed)
    boot = tail_mean(x[rng.integers(0, n, size=(resamples, n))], share)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Estimate(value, float(boot.std(ddof=1)), float(lo), float(hi), n)
