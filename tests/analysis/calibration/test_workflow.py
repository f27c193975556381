"""Tests for analysis/calibration/workflow.py: calibrate() end to end on the CDNOW log and small logs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.calibration import BetaGeoModel, load_transactions, rfm_summary, simulate_bgnbd_log
from analysis.calibration.workflow import calibrate

CAL, HOLD = "1997-09-30", "1998-06-30"


def test_keep_same_day_reaches_the_summary_and_the_fit(cdnow_path, cdnow_summary, cdnow_bgnbd):
    """Kept apart, CDNOW's same-day rows are extra repeat transactions, and the BG/NBD fit moves.

    The log has 2,068 rows sharing a customer and a day with another; those in the calibration
    period must all be added to the calibration frequencies, the rest to the holdout counts.
    """
    kept = load_transactions(cdnow_path, merge_same_day=False)
    assert kept.n_rows_used == 69_659 and not kept.merged_same_day
    summary = rfm_summary(kept, calibration_end=CAL, holdout_end=HOLD)
    merged = cdnow_summary.table
    days = kept.data["date"].to_numpy()
    dup = kept.data.duplicated(["customer", "date"]).to_numpy()
    in_cal = days <= np.datetime64(CAL)
    assert summary.table["frequency"].sum() - merged["frequency"].sum() == int((dup & in_cal).sum())
    assert summary.table["frequency_holdout"].sum() - merged["frequency_holdout"].sum() == int((dup & ~in_cal).sum())
    fit = BetaGeoModel().fit(summary)
    # more repeat transactions at the same ages: a higher purchase rate r / alpha, by far more than
    # the fit's standard error (same-day rows are 3% of the log)
    gap = fit.params_["r"] / fit.params_["alpha"] - cdnow_bgnbd.params_["r"] / cdnow_bgnbd.params_["alpha"]
    assert gap > 0
    assert abs(fit.params_["r"] - cdnow_bgnbd.params_["r"]) > 2 * cdnow_bgnbd.se_["r"]


def test_calibrate_honours_keep_same_day(tmp_path):
    """calibrate(keep_same_day=True) counts same-day purchases apart in its summary, fit and holdout."""
    frame = simulate_bgnbd_log(3_000, {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}, {"p": 6.0, "q": 4.0, "gamma": 15.0},
                               start="2020-01-01", calibration_end="2020-06-30", holdout_end="2020-12-31", rng=5)
    twice = frame.sample(frac=0.2, random_state=5)  # a fifth of the purchases come as two rows
    frame = pd.concat([frame, twice.assign(amount=1.0)], ignore_index=True)
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    merged = calibrate(path, calibration_end="2020-06-30", holdout_end="2020-12-31", replications=1)
    kept = calibrate(path, calibration_end="2020-06-30", holdout_end="2020-12-31", replications=1, keep_same_day=True)
    assert kept.payload["transactions"] == len(frame) > merged.payload["transactions"]
    assert kept.summary.table["frequency"].sum() > merged.summary.table["frequency"].sum()
    assert kept.payload["holdout"]["actual_repeat_transactions"] > merged.payload["holdout"]["actual_repeat_transactions"]
    assert kept.purchases.params_ != merged.purchases.params_
    assert kept.payload["keep_same_day"] is True and merged.payload["keep_same_day"] is False
