"""Survival by arm: Kaplan-Meier curves and the log-rank test (thin wrappers over statsmodels).

Core functions: :func:`kaplan_meier` (:class:`KaplanMeierResult`) and :func:`logrank`
(:class:`LogRankResult`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from analysis._inputs import _durations, _events
from scenarios.errors import NotEstimableError

__all__ = ["kaplan_meier", "logrank", "KaplanMeierResult", "LogRankResult"]


@dataclass(frozen=True, eq=False)
class KaplanMeierResult:
    """Kaplan-Meier curve evaluated at the distinct event times."""

    times: np.ndarray
    survival: np.ndarray
    std_err: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray


@dataclass(frozen=True)
class LogRankResult:
    """Two-group log-rank test."""

    statistic: float
    p_value: float
    df: int = 1


def kaplan_meier(durations: Any, observed: Any) -> KaplanMeierResult:
    """Kaplan-Meier survival curve (thin wrapper over statsmodels ``SurvfuncRight``).

    Parameters
    ----------
    durations : array_like
        Time to event or censoring per unit (finite, >= 0).
    observed : array_like
        1 if the event (e.g. churn) was observed, 0 if censored; same length.

    Returns
    -------
    KaplanMeierResult
        Arrays at the distinct event times: survival, Greenwood standard error, number at
        risk and number of events. The arrays are empty when no event is observed, and the
        Greenwood standard error is nan where survival reaches 0 (it is undefined there).

    Raises
    ------
    ConfigError
        Invalid or mismatched arrays.

    References
    ----------
    .. [1] Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation from incomplete
       observations. *JASA* 53, 457-481.

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    >>> km.times.tolist(), km.survival.round(4).tolist()
    ([1.0, 2.0, 3.0], [0.8, 0.6, 0.3])
    """
    t = _durations("durations", durations)
    e = _events("observed", observed, t, "durations")
    sf = SurvfuncRight(t, e)
    return KaplanMeierResult(times=np.asarray(sf.surv_times, dtype=float),
                             survival=np.asarray(sf.surv_prob, dtype=float),
                             std_err=np.asarray(sf.surv_prob_se, dtype=float),
                             n_at_risk=np.asarray(sf.n_risk, dtype=float),
                             n_events=np.asarray(sf.n_events, dtype=float))


def logrank(durations_c: Any, events_c: Any, durations_t: Any, events_t: Any) -> LogRankResult:
    """Log-rank test of equal survival in two arms (wrapper over statsmodels ``survdiff``).

    Parameters
    ----------
    durations_c, events_c : array_like
        Control durations (>= 0) and 0/1 event indicators.
    durations_t, events_t : array_like
        The same for the treatment arm.

    Returns
    -------
    LogRankResult
        Chi-square statistic on 1 degree of freedom and its p-value.

    Raises
    ------
    ConfigError
        Invalid or mismatched arrays, or no events at all.

    References
    ----------
    .. [1] Mantel, N. (1966). Evaluation of survival data and two new rank order statistics
       arising in its consideration. *Cancer Chemotherapy Reports* 50, 163-170.

    Examples
    --------
    >>> res = logrank([1, 2, 3, 4], [1, 1, 1, 1], [5, 6, 7, 8], [1, 1, 1, 0])
    >>> res.p_value < 0.05
    True
    """
    t_c = _durations("durations_c", durations_c)
    e_c = _events("events_c", events_c, t_c, "durations_c")
    t_t = _durations("durations_t", durations_t)
    e_t = _events("events_t", events_t, t_t, "durations_t")
    if e_c.sum() + e_t.sum() == 0:
        raise NotEstimableError("events_c and events_t contain no events; the log-rank test is undefined")
    time = np.concatenate([t_c, t_t])
    status = np.concatenate([e_c, e_t])
    group = np.concatenate([np.zeros(t_c.size, dtype=int), np.ones(t_t.size, dtype=int)])
    statistic, p_value = survdiff(time, status, group)
    return LogRankResult(statistic=float(statistic), p_value=float(p_value))
