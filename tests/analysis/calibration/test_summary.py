"""Tests for analysis/calibration/summary.py: BTYD summaries, RFM scores and validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.calibration import SEGMENT_RULES, rfm_summary, transactions_from_frame
from analysis.calibration.summary import FIRST_PURCHASE_AFTER_CALIBRATION, rfm_arrays
from scenarios.errors import ConfigError, DataError


@pytest.fixture()
def small_log():
    """Three customers with hand-checkable histories (one acquired after calibration)."""
    rows = [
        ("a", "1997-01-01", 10.0), ("a", "1997-01-15", 20.0), ("a", "1997-01-15", 5.0),
        ("a", "1997-02-05", 40.0), ("a", "1997-03-05", 7.0),
        ("b", "1997-01-08", 5.0),
        ("c", "1997-02-10", 9.0), ("c", "1997-02-20", 1.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer", "date", "amount"])
    return transactions_from_frame(frame)


def test_btyd_quantities_by_hand(small_log):
    """Frequency, recency, T and repeat spend follow the BTYD conventions."""
    s = rfm_summary(small_log, calibration_end="1997-02-05", holdout_end="1997-03-05")
    t = s.table
    assert list(t.index) == ["a", "b"]
    # a: days 0, 14 (two rows, one transaction day), 35 -> x = 2, t_x = 5 weeks, T = 5 weeks
    assert t.loc["a", "frequency"] == 2
    assert t.loc["a", "recency"] == pytest.approx(5.0)
    assert t.loc["a", "T"] == pytest.approx(5.0)
    assert t.loc["a", "monetary_value"] == pytest.approx((25.0 + 40.0) / 2)
    assert t.loc["a", "frequency_holdout"] == 1
    assert t.loc["a", "spend_holdout"] == pytest.approx(7.0)
    assert t.loc["b", "frequency"] == 0 and t.loc["b", "recency"] == 0.0
    assert t.loc["b", "T"] == pytest.approx(28 / 7)
    assert t.loc["b", "monetary_value"] == 0.0
    assert t["duration_holdout"].unique().tolist() == [4.0]
    assert s.exclusions == ((FIRST_PURCHASE_AFTER_CALIBRATION, 1),)


def test_same_day_rows_kept_apart_are_transactions(small_log):
    """A log loaded with merge_same_day=False keeps a's two rows of 1997-01-15 as two repeat purchases."""
    rows = [("a", "1997-01-01", 10.0), ("a", "1997-01-15", 20.0), ("a", "1997-01-15", 5.0), ("a", "1997-02-05", 40.0),
            ("b", "1997-01-08", 5.0)]
    kept = transactions_from_frame(pd.DataFrame(rows, columns=["customer", "date", "amount"]), merge_same_day=False)
    t = rfm_summary(kept, calibration_end="1997-02-05").table
    assert t.loc["a", "frequency"] == 3
    assert t.loc["a", "recency"] == pytest.approx(5.0)
    assert t.loc["a", "monetary_value"] == pytest.approx((20.0 + 5.0 + 40.0) / 3)


def test_day_unit_scales_times(small_log):
    """With time_unit='day' the times are in days."""
    s = rfm_summary(small_log, calibration_end="1997-02-05", time_unit="day")
    assert s.table.loc["a", "recency"] == 35.0 and s.table.loc["a", "T"] == 35.0
    assert "frequency_holdout" not in s.table.columns


def test_rfm_scores_and_segments(cdnow_summary):
    """Scores lie in 1..5, ties share a score, and every customer gets a named segment."""
    t = cdnow_summary.table
    for col in ("r_score", "f_score", "m_score"):
        assert t[col].between(1, 5).all()
    # one-time buyers (the majority) all share the lowest frequency score
    assert t.loc[t["frequency"] == 0, "f_score"].unique().tolist() == [1]
    assert t.groupby("frequency")["f_score"].nunique().max() == 1
    # a higher score never means a lower value
    order = t.sort_values("n_transactions")
    assert np.all(np.diff(order["f_score"].to_numpy()) >= 0)
    assert set(t["segment"]) <= {rule[0] for rule in SEGMENT_RULES}
    assert (t["rfm_score"].str.len() == 3).all()


def test_cdnow_summary_totals(cdnow_summary, cdnow_log):
    """All 23,570 CDNOW customers are in the cohort and repeat days add up."""
    t = cdnow_summary.table
    assert cdnow_summary.n_customers == 23_570
    assert cdnow_summary.exclusions == ()
    calib = (cdnow_log.data["date"] <= "1997-09-30").sum()
    assert t["frequency"].sum() == calib - 23_570
    assert t["frequency_holdout"].sum() == (cdnow_log.data["date"] > "1997-09-30").sum()
    assert t["T"].max() == pytest.approx(272 / 7)


def test_calibration_end_before_first_purchase(small_log):
    """A calibration end before the log starts is a ConfigError naming both dates."""
    with pytest.raises(ConfigError, match=r"calibration_end 1996-12-31 is before the first "
                                          r"purchase in <DataFrame> \(1997-01-01\)"):
        rfm_summary(small_log, calibration_end="1996-12-31")


def test_holdout_end_before_calibration_end(small_log):
    """A holdout end that is not after the calibration end is a ConfigError."""
    with pytest.raises(ConfigError, match=r"holdout_end 1997-01-31 must be after "
                                          r"calibration_end 1997-02-05"):
        rfm_summary(small_log, calibration_end="1997-02-05", holdout_end="1997-01-31")


def test_bad_time_unit_and_date(small_log):
    """Unknown time units and unparseable dates are ConfigErrors listing what is allowed."""
    with pytest.raises(ConfigError, match=r"time_unit must be one of \['day', 'week'\]"):
        rfm_summary(small_log, calibration_end="1997-02-05", time_unit="month")
    with pytest.raises(ConfigError, match=r"calibration_end must be a date"):
        rfm_summary(small_log, calibration_end="soon")


def test_rfm_arrays_rejects_inconsistent_rows():
    """Summaries violating 0 <= recency <= T or x=0 -> recency=0 name the row and customer."""
    bad = pd.DataFrame({"frequency": [1, 2], "recency": [3.0, 9.0], "T": [5.0, 8.0]},
                       index=pd.Index(["u", "v"], name="customer"))
    with pytest.raises(DataError, match=r"column 'recency', row 2 \(customer 'v'\): recency "
                                        r"must satisfy 0 <= recency <= T"):
        rfm_arrays(bad)
    bad = pd.DataFrame({"frequency": [0], "recency": [1.0], "T": [5.0]})
    with pytest.raises(DataError, match=r"recency must be 0 when frequency is 0"):
        rfm_arrays(bad)
    with pytest.raises(DataError, match=r"no 'T' column"):
        rfm_arrays(pd.DataFrame({"frequency": [0], "recency": [0.0]}))


def test_scores_are_one_plus_five_times_the_share_strictly_below():
    """RFM scores equal 1 + floor(5 x (customers with a strictly lower value) / n), ties included."""
    from analysis.calibration.summary import _scores

    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 5, 7, 10, 101, 1000):
        for values in (rng.integers(0, 4, n).astype(float), rng.random(n)):
            below = np.array([(values < v).sum() for v in values])
            np.testing.assert_array_equal(_scores(values), 1 + (5 * below) // n)
