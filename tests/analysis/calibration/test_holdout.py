"""Tests for analysis/calibration/holdout.py: tracking curves, errors and the simulation hook."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.calibration import (
    bgnbd_expected_conditional,
    bgnbd_expected_transactions,
    holdout_validation,
    rfm_summary,
    simulate_bgnbd_log,
    transactions_from_frame,
)
from scenarios.errors import ConfigError

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


class TrueModel:
    """A 'fitted' model that knows the generating parameters (duck-typed like BetaGeoModel)."""

    def expected_transactions(self, t):
        """Unconditional expectation at the true parameters."""
        return bgnbd_expected_transactions(BG, t)

    def expected_conditional(self, t, frequency, recency, T):
        """Conditional expectation at the true parameters."""
        return bgnbd_expected_conditional(BG, t, frequency, recency, T)


@pytest.fixture(scope="module")
def synthetic():
    """A 30,000-customer log on the CDNOW calendar, its log object and summary."""
    frame = simulate_bgnbd_log(30_000, BG, GG, start="1997-01-01", calibration_end="1997-09-30",
                               holdout_end="1998-06-30", rng=4242)
    log = transactions_from_frame(frame)
    return log, rfm_summary(log, calibration_end="1997-09-30", holdout_end="1998-06-30")


def test_true_model_tracks_synthetic_cohort(synthetic):
    """With the generating parameters the expected cumulative curve tracks the actual one.

    Residual error comes from sampling (about 1% on 30,000 customers) and from the ~1.4% of
    repeat purchases lost to same-day merging, so a 5% MAPE bound is comfortable.
    """
    log, summary = synthetic
    result = holdout_validation(log, summary, TrueModel())
    assert result.n_periods == 78 and result.n_calibration_periods == 39
    assert result.mape_holdout < 5.0 and result.mape_calibration < 5.0
    assert result.expected_holdout.sum() == pytest.approx(result.actual_holdout.sum(), rel=0.05)
    assert result.correlation > 0.5


def test_curves_are_consistent_with_summary(cdnow_log, cdnow_summary, cdnow_bgnbd):
    """Cumulative actual counts at the period ends equal the summary's calibration/holdout sums."""
    result = holdout_validation(cdnow_log, cdnow_summary, cdnow_bgnbd)
    t = cdnow_summary.table
    assert str(result.period_end[0]) == "1997-01-07"
    assert str(result.period_end[38]) == "1997-09-30"
    assert str(result.period_end[-1]) == "1998-06-30"
    assert result.actual_cumulative[38] == t["frequency"].sum()
    assert result.actual_cumulative[-1] == t["frequency"].sum() + t["frequency_holdout"].sum()
    np.testing.assert_allclose(np.cumsum(result.expected_incremental), result.expected_cumulative)
    assert np.all(np.diff(result.expected_cumulative) > 0)
    assert result.actual_holdout.sum() == t["frequency_holdout"].sum()


def test_simulated_curve_hook(cdnow_log, cdnow_summary, cdnow_bgnbd):
    """Simulated cumulative curves are stored and scored; a wrong shape is a ConfigError."""
    base = holdout_validation(cdnow_log, cdnow_summary, cdnow_bgnbd)
    runs = np.vstack([base.actual_cumulative * 0.9, base.actual_cumulative * 1.1])
    result = holdout_validation(cdnow_log, cdnow_summary, cdnow_bgnbd, simulated_cumulative=runs)
    assert result.simulated_cumulative.shape == (2, 78)
    assert result.simulated_mape_holdout == pytest.approx(0.0, abs=1e-9)  # the runs average out
    with pytest.raises(ConfigError, match=r"shape \(n_periods,\) or \(n_runs, n_periods\) with "
                                          r"n_periods=78"):
        holdout_validation(cdnow_log, cdnow_summary, cdnow_bgnbd,
                           simulated_cumulative=np.ones(39))


def test_result_is_frozen_and_serialisable(cdnow_log, cdnow_summary, cdnow_bgnbd):
    """The result cannot be modified and to_dict() is plain JSON."""
    result = holdout_validation(cdnow_log, cdnow_summary, cdnow_bgnbd)
    with pytest.raises(AttributeError):
        result.mape_holdout = 0.0
    payload = json.loads(json.dumps(result.to_dict(include_customers=True)))
    assert payload["n_customers"] == 23_570 and len(payload["period_end"]) == 78
    assert len(payload["expected_holdout"]) == 23_570


def test_needs_a_holdout_period(cdnow_log, cdnow_bgnbd):
    """Without a holdout end, or with one before the calibration end, it is a ConfigError."""
    summary = rfm_summary(cdnow_log, calibration_end="1997-09-30")
    with pytest.raises(ConfigError, match="needs a holdout end"):
        holdout_validation(cdnow_log, summary, cdnow_bgnbd)
    with pytest.raises(ConfigError, match=r"holdout_end 1997-06-30 must be after "
                                          r"calibration_end 1997-09-30"):
        holdout_validation(cdnow_log, summary, cdnow_bgnbd, holdout_end="1997-06-30")


def test_headline_is_the_conditional_sum_and_the_tracking_forecast_has_its_own_name(
        cdnow_log, cdnow_summary, cdnow_bgnbd):
    """The conditional total is the sum of per-customer expectations (16,873.7 on the full CDNOW
    log, by eq. 10 of Fader, Hardie & Lee 2005); the tracking forecast is the rise of the cohort's
    unconditional curve (16,849.2); they are different numbers, named apart in to_dict()."""
    result = holdout_validation(cdnow_log, cdnow_summary, cdnow_bgnbd)
    t = cdnow_summary.table
    direct = bgnbd_expected_conditional(cdnow_bgnbd.params_, 39.0, t["frequency"], t["recency"], t["T"]).sum()
    assert result.conditional_expected_total == pytest.approx(direct, rel=1e-12)
    assert result.conditional_expected_total == pytest.approx(16873.73, abs=0.05)
    assert result.tracking_forecast_total == pytest.approx(
        result.expected_cumulative[-1] - result.expected_cumulative[38], rel=1e-12)
    assert result.tracking_forecast_total == pytest.approx(16849.24, abs=0.05)
    assert result.actual_total == 19684.0
    d = result.to_dict()
    assert d["conditional_expected_repeat_transactions"] == result.conditional_expected_total
    assert d["tracking_forecast_repeat_transactions"] == result.tracking_forecast_total
    assert "conditional" in d["definitions"]["conditional_expected_repeat_transactions"].lower() or \
        "history" in d["definitions"]["conditional_expected_repeat_transactions"]
