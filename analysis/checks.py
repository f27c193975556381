"""Experiment checks: multiplicity (Holm) and sample ratio mismatch.

Core functions: :func:`holm` (step-down adjusted p-values) and :func:`srm_test` (chi-square
goodness of fit of arm counts to the designed allocation, with :class:`SRMResult`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from analysis._inputs import _same_length, _vector
from scenarios.errors import ConfigError

__all__ = ["holm", "benjamini_hochberg", "srm_test", "SRMResult"]


@dataclass(frozen=True, eq=False)
class SRMResult:
    """Sample-ratio-mismatch chi-square test; ``mismatch`` is ``p_value < threshold``."""

    statistic: float
    p_value: float
    df: int
    expected_counts: np.ndarray
    threshold: float
    mismatch: bool


def _sorted_p_values(p_values: Any) -> tuple[np.ndarray, int, np.ndarray]:
    """Checked p-values, their count and the stable order that sorts them."""
    p = _vector("p_values", p_values)
    if np.any((p < 0.0) | (p > 1.0)):
        raise ConfigError(
            f"p_values must be in [0, 1]; got min {float(p.min())!r}, max {float(p.max())!r}"
        )
    return p, p.size, np.argsort(p, kind="stable")


def holm(p_values: Any) -> np.ndarray:
    r"""Holm step-down adjusted p-values (family-wise error control).

    Parameters
    ----------
    p_values : array_like
        Raw p-values in [0, 1] (1-D, non-empty).

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order; reject :math:`H_i` at level :math:`\alpha` iff the
        adjusted value is :math:`\le\alpha`. Equal to statsmodels ``multipletests(method="holm")``.

    Raises
    ------
    ConfigError
        Empty, non-finite or out-of-range p-values.

    Notes
    -----
    With sorted p-values :math:`p_{(1)} \le \dots \le p_{(m)}`,
    :math:`\tilde p_{(i)} = \max_{j \le i} \min\{1, (m - j + 1)\,p_{(j)}\}`.

    References
    ----------
    .. [1] Holm, S. (1979). A simple sequentially rejective multiple test procedure.
       *Scandinavian Journal of Statistics* 6, 65-70.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p, m, order = _sorted_p_values(p_values)
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted


def benjamini_hochberg(p_values: Any) -> np.ndarray:
    r"""Benjamini-Hochberg adjusted p-values (q-values; false-discovery-rate control).

    Parameters
    ----------
    p_values : array_like
        Raw p-values in [0, 1] (1-D, non-empty).

    Returns
    -------
    numpy.ndarray
        Adjusted values in the input order; rejecting those :math:`\le q` keeps the expected
        share of false discoveries at most :math:`q` (independent or positively dependent tests).
        Equal to statsmodels ``multipletests(method="fdr_bh")``.

    Notes
    -----
    With sorted p-values, :math:`\tilde p_{(i)} = \min_{j \ge i} \min\{1, m\,p_{(j)} / j\}`.

    References
    ----------
    .. [1] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate: a practical
       and powerful approach to multiple testing. *Journal of the Royal Statistical Society B* 57,
       289-300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(4).tolist()
    [0.03, 0.04, 0.04]
    """
    p, m, order = _sorted_p_values(p_values)
    scaled = np.minimum(1.0, m * p[order] / np.arange(1, m + 1))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum.accumulate(scaled[::-1])[::-1]
    return adjusted


def srm_test(
    observed_counts: Any, expected_shares: Any, *, threshold: float = 0.001
) -> SRMResult:
    r"""Sample-ratio-mismatch check: chi-square goodness of fit of arm counts to the design.

    Parameters
    ----------
    observed_counts : array_like
        Units per arm (non-negative integers, >= 2 arms, positive total).
    expected_shares : array_like
        Designed allocation per arm (positive, summing to 1 within 1e-6).
    threshold : float
        Flag a mismatch when ``p_value < threshold``, in (0, 1). The strict default 0.001
        (GrowthBook's, after Fabijan et al. 2019) keeps false alarms rare when checked often.

    Returns
    -------
    SRMResult
        Pearson statistic, p-value on ``k - 1`` degrees of freedom, expected counts, flag.

    Raises
    ------
    ConfigError
        Invalid counts, shares, lengths or threshold.

    References
    ----------
    .. [1] Fabijan, A. et al. (2019). Diagnosing sample ratio mismatch in online controlled
       experiments. *KDD '19*, 2156-2164.

    Examples
    --------
    >>> res = srm_test([50_500, 49_500], [0.5, 0.5])
    >>> round(res.statistic, 3), round(res.p_value, 4), res.mismatch
    (10.0, 0.0016, False)
    """
    counts = _vector("observed_counts", observed_counts, min_size=2)
    shares = _vector("expected_shares", expected_shares, min_size=2)
    _same_length("observed_counts", counts, "expected_shares", shares)
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ConfigError(f"observed_counts must be non-negative integers; got {counts.tolist()}")
    if counts.sum() <= 0:
        raise ConfigError("observed_counts must have a positive total; got 0")
    if np.any(shares <= 0) or abs(shares.sum() - 1.0) > 1e-6:
        raise ConfigError(
            f"expected_shares must be positive and sum to 1; got {shares.tolist()} "
            f"(sum {float(shares.sum())!r})"
        )
    if isinstance(threshold, bool) or not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold must be in (0, 1); got {threshold!r}")
    expected = counts.sum() * shares
    statistic = float(np.sum((counts - expected) ** 2 / expected))
    df = counts.size - 1
    p_value = float(stats.chi2.sf(statistic, df))
    return SRMResult(statistic=statistic, p_value=p_value, df=df, expected_counts=expected,
                     threshold=float(threshold), mismatch=p_value < threshold)
