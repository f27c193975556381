"""Kaplan-Meier and log-rank against hand computation and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.survival import kaplan_meier, logrank
from scenarios.errors import ConfigError, LabError, NotEstimableError


def test_kaplan_meier_matches_hand_computation():
    """Product-limit survival and Greenwood s.e. match a hand computation with ties/censoring."""
    t = [2, 3, 3, 3, 5, 6, 6, 8, 9, 9]
    e = [1, 1, 1, 0, 0, 1, 1, 0, 1, 0]
    km = kaplan_meier(t, e)
    # event times 2, 3, 6, 9 with (at risk, events) = (10,1), (9,2), (5,2), (2,1)
    risk = np.array([10, 9, 5, 2])
    events = np.array([1, 2, 2, 1])
    surv = np.cumprod(1 - events / risk)
    greenwood = surv * np.sqrt(np.cumsum(events / (risk * (risk - events))))
    np.testing.assert_allclose(km.times, [2, 3, 6, 9])
    np.testing.assert_allclose(km.survival, surv, rtol=1e-12)
    np.testing.assert_allclose(km.std_err, greenwood, rtol=1e-10)
    np.testing.assert_allclose(km.n_at_risk, risk)
    np.testing.assert_allclose(km.n_events, events)


def test_logrank_matches_scipy():
    """Log-rank p-value equals scipy.stats.logrank on censored exponential data."""
    rng = np.random.default_rng(21)
    t_c, t_t = rng.exponential(10.0, 150), rng.exponential(13.0, 150)
    cens_c, cens_t = rng.uniform(0, 25, 150), rng.uniform(0, 25, 150)
    d_c, e_c = np.minimum(t_c, cens_c), (t_c <= cens_c).astype(int)
    d_t, e_t = np.minimum(t_t, cens_t), (t_t <= cens_t).astype(int)
    res = logrank(d_c, e_c, d_t, e_t)
    ref = stats.logrank(stats.CensoredData.right_censored(d_c, e_c == 0),
                        stats.CensoredData.right_censored(d_t, e_t == 0))
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-8)
    assert res.statistic == pytest.approx(ref.statistic**2, rel=1e-8)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: kaplan_meier([1, -2], [1, 1]), r"durations must be >= 0"),
    (lambda: kaplan_meier([1, 2], [1, 2]), r"observed must contain only 0/1"),
    (lambda: kaplan_meier([1, 2], [1]), r"durations and observed must have the same length"),
    (lambda: logrank([1, 2], [0, 0], [3, 4], [0, 0]), r"contain no events"),
])
def test_bad_inputs_raise_config_error(call, match):
    """Invalid inputs raise ConfigError naming the argument; data that identify nothing, NotEstimableError."""
    with pytest.raises(LabError, match=match) as info:
        call()
    degenerate = ("constant", "sum to 0", "variance is 0", "no events")
    expected = NotEstimableError if any(w in match for w in degenerate) else ConfigError
    assert isinstance(info.value, expected), type(info.value)
