"""The one mean-with-uncertainty helper: a mean over replications with its 95% t-interval.

Core objects: :class:`Estimate` (mean, standard error, interval, n) and the pure functions
:func:`mean_ci` (of replication values) and :func:`paired` (of per-seed differences under common
random numbers). Budget allocation, sweeps and replicated runs all report through these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "mean_ci", "paired"]


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
