"""Holdout validation of a fitted buy-till-you-die model.

Core objects: :func:`holdout_validation` and its frozen :class:`HoldoutResult`.

Two checks, as in Fader, Hardie & Lee (2005):

1. *Tracking*: the calibration cohort's repeat transactions per period (week or day) over
   calibration + holdout, against the model's expectation. The expectation groups customers by
   the day of their first purchase: a group of ``n_d`` customers born on day offset ``d`` adds
   ``n_d * E[X(t_k - birth_d)]`` at the end of period ``k``.
2. *Conditional expectations*: for each customer, actual holdout transactions against
   ``E[Y(t*) | x, t_x, T]`` with ``t*`` the holdout length.

Time convention (the one behind the published CDNOW figures): a purchase on a given day happens
at the *end* of that day, so a customer's age at the calibration end is (calibration end - first
purchase) in days, and period ``k`` ends at ``k`` units after the start of the cohort's first day.

Simulated curves
----------------
``simulated_cumulative`` takes cumulative repeat transactions per period produced by a simulator
(shape ``(n_periods,)`` or ``(n_runs, n_periods)``, same periods as ``period_end``). They are
stored on the result, and the MAPE of their mean over the holdout periods is reported as
``simulated_mape_holdout``. This is the hook for comparing simulated customers against the real
cohort.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.calibration.summary import RFMSummary, _as_day, rfm_arrays, transaction_days
from analysis.calibration.transactions import TransactionLog
from analysis.calibration._types import ArrayLike, DateLike
from scenarios.errors import ConfigError

__all__ = ["HoldoutResult", "holdout_validation", "HOLDOUT_DEFINITIONS"]

#: What each holdout figure is (in :meth:`HoldoutResult.to_dict`, ``holdout.json`` and ``lifecycle calibrate --json``).
HOLDOUT_DEFINITIONS = {
    "actual_repeat_transactions": "transactions of the calibration cohort in the holdout period",
    "conditional_expected_repeat_transactions": (
        "the headline forecast: the sum over customers of E[holdout transactions | the customer's own "
        "calibration history (frequency, recency, age)] (Fader, Hardie & Lee 2005, eq. 10); compare it "
        "with actual_repeat_transactions"),
    "tracking_forecast_repeat_transactions": (
        "the rise of the cohort's expected cumulative curve over the holdout, E[X(t)] summed over "
        "customers by first-purchase day: an unconditional forecast that ignores each customer's "
        "history (the dashed line of the tracking plot)"),
    "simulated_repeat_transactions": (
        "mean over replications of the simulated cohort (started fresh from the fitted distributions "
        "on the real first-purchase days), comparable with tracking_forecast_repeat_transactions"),
}

#: Calibration-frequency bins of the conditional-expectation table: 0, 1, ..., 6, "7+".
FREQUENCY_BINS = 7


@dataclass(frozen=True, eq=False)
class HoldoutResult:
    """Tracking curves and per-customer holdout errors.

    Attributes
    ----------
    time_unit : str
        ``"week"`` or ``"day"``.
    period_end : numpy.ndarray of datetime64[D]
        Last day (inclusive) of each period, from the cohort's first purchase day.
    n_calibration_periods : int
        Periods up to and including the one holding the calibration end.
    actual_incremental, actual_cumulative : numpy.ndarray
        Repeat transactions of the cohort per period / cumulated.
    expected_incremental, expected_cumulative : numpy.ndarray
        The model's unconditional expectation for the same cohort (the tracking forecast; its
        rise over the holdout is :attr:`tracking_forecast_total`).
    simulated_cumulative : numpy.ndarray or None
        ``(n_runs, n_periods)`` simulated cumulative curves given by the caller.
    customers : numpy.ndarray
        Customer ids (summary order).
    frequency : numpy.ndarray
        Calibration frequency per customer.
    actual_holdout, expected_holdout : numpy.ndarray
        Per-customer holdout transactions, actual and conditional expectation given the
        customer's calibration history; their sums are :attr:`actual_total` and
        :attr:`conditional_expected_total` (the headline comparison).
    mape_holdout, mape_calibration : float
        Mean absolute percentage error (%) of the expected *cumulative* curve over the holdout
        (resp. calibration) periods; periods with zero actual cumulative count are skipped.
    cumulative_error_end : float
        ``(expected - actual) / actual`` (%) of cumulative repeat transactions at the holdout end.
    simulated_mape_holdout : float or None
        MAPE (%) of the mean simulated cumulative curve over the holdout periods.
    correlation, mae, rmse : float
        Pearson correlation, mean absolute error and root mean squared error between per-customer
        actual and expected holdout transactions.
    by_frequency : dict
        ``{"frequency": labels, "n": counts, "actual": means, "expected": means}`` by
        calibration frequency 0..6 and "7+".
    """

    time_unit: str
    period_end: np.ndarray
    n_calibration_periods: int
    actual_incremental: np.ndarray
    actual_cumulative: np.ndarray
    expected_incremental: np.ndarray
    expected_cumulative: np.ndarray
    simulated_cumulative: np.ndarray | None
    customers: np.ndarray
    frequency: np.ndarray
    actual_holdout: np.ndarray
    expected_holdout: np.ndarray
    mape_holdout: float
    mape_calibration: float
    cumulative_error_end: float
    simulated_mape_holdout: float | None
    correlation: float
    mae: float
    rmse: float
    by_frequency: dict

    @property
    def n_periods(self) -> int:
        """Number of tracking periods."""
        return int(self.period_end.size)

    @property
    def actual_total(self) -> float:
        """The cohort's transactions in the holdout period."""
        return float(self.actual_holdout.sum())

    @property
    def conditional_expected_total(self) -> float:
        """The headline forecast: the sum of each customer's conditional expectation given their history."""
        return float(self.expected_holdout.sum())

    @property
    def tracking_forecast_total(self) -> float:
        """The rise of the cohort's expected (unconditional) cumulative curve over the holdout."""
        cal = self.n_calibration_periods
        return float(self.expected_cumulative[-1] - (self.expected_cumulative[cal - 1] if cal > 0 else 0.0))

    def verdict(self, model: str = "BG/NBD") -> str:
        """One plain paragraph: how far the model is off on the holdout, overall, over time and by customer."""
        actual, cond = self.actual_total, self.conditional_expected_total
        if actual <= 0:
            return (f"No repeat purchases happened in the holdout period; {model} expected {cond:,.0f} given "
                    "each customer's history, so its accuracy cannot be judged on this holdout.")
        off = (cond - actual) / actual * 100.0
        way = "under-predicts" if off < 0 else "over-predicts"
        unit = self.time_unit
        n_hold = self.n_periods - self.n_calibration_periods
        n = np.asarray(self.by_frequency["n"])
        gaps = np.abs(np.asarray(self.by_frequency["expected"], dtype=float)
                      - np.asarray(self.by_frequency["actual"], dtype=float))
        gaps[n < 30] = -1.0  # bins of fewer than 30 customers say little
        worst = int(np.argmax(gaps))
        label = self.by_frequency["frequency"][worst]
        worst_text = "" if gaps[worst] < 0 else (
            f"; it is furthest off for customers with {label} repeat purchases in the calibration period "
            f"({self.by_frequency['expected'][worst]:.2f} expected against {self.by_frequency['actual'][worst]:.2f} "
            f"actual, on average, over {int(n[worst]):,} customers)")
        return (
            f"The {model} model is off by {off:+.1f}% on the holdout ({n_hold} {unit}s to "
            f"{self.period_end[-1]}): given each customer's history it expects {cond:,.0f} repeat purchases "
            f"where {actual:,.0f} happened, so it {way}. Its cohort tracking curve (which ignores who bought "
            f"what) stays within {self.mape_holdout:.1f}% of the actual cumulative count on average over the "
            f"holdout {unit}s and ends {abs(self.cumulative_error_end):.1f}% "
            f"{'below' if self.cumulative_error_end < 0 else 'above'} it. Customer by customer its expectations correlate "
            f"{self.correlation:.2f} with what each one bought (mean absolute error {self.mae:.2f} purchases)"
            f"{worst_text}. Plans built on these customers are {'pessimistic' if off < 0 else 'optimistic'} "
            f"by about {abs(off):.0f}% on repeat purchases.")

    def to_dict(self, *, include_customers: bool = False) -> dict:
        """JSON-ready dictionary (lists and floats); per-customer arrays only on request."""
        out = {
            "time_unit": self.time_unit,
            "period_end": [str(d) for d in self.period_end.astype("datetime64[D]")],
            "n_calibration_periods": self.n_calibration_periods,
            "actual_incremental": self.actual_incremental.tolist(),
            "actual_cumulative": self.actual_cumulative.tolist(),
            "expected_incremental": self.expected_incremental.tolist(),
            "expected_cumulative": self.expected_cumulative.tolist(),
            "simulated_cumulative": (None if self.simulated_cumulative is None
                                     else self.simulated_cumulative.tolist()),
            "mape_holdout": self.mape_holdout,
            "mape_calibration": self.mape_calibration,
            "cumulative_error_end": self.cumulative_error_end,
            "simulated_mape_holdout": self.simulated_mape_holdout,
            "correlation": self.correlation,
            "mae": self.mae,
            "rmse": self.rmse,
            "actual_repeat_transactions": self.actual_total,
            "conditional_expected_repeat_transactions": self.conditional_expected_total,
            "tracking_forecast_repeat_transactions": self.tracking_forecast_total,
            "definitions": HOLDOUT_DEFINITIONS,
            "verdict": self.verdict(),
            "n_customers": int(self.customers.size),
            "by_frequency": {k: list(v) for k, v in self.by_frequency.items()},
        }
        if include_customers:
            out["customers"] = [c.item() if hasattr(c, "item") else c for c in self.customers]
            out["actual_holdout"] = self.actual_holdout.tolist()
            out["expected_holdout"] = self.expected_holdout.tolist()
        return out


def _mape(expected: np.ndarray, actual: np.ndarray) -> float:
    keep = actual > 0
    if not keep.any():
        return float("nan")
    return float(np.mean(np.abs(expected[keep] - actual[keep]) / actual[keep]) * 100.0)


def _simulated(values, n_periods: int) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_periods:
        raise ConfigError(f"simulated_cumulative must have shape (n_periods,) or (n_runs, "
                          f"n_periods) with n_periods={n_periods}; got {np.shape(values)}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ConfigError("simulated_cumulative must be finite and >= 0")
    return arr


def holdout_validation(log: TransactionLog, summary: RFMSummary, model: Any, *,
                       holdout_end: DateLike | None = None,
                       simulated_cumulative: ArrayLike | None = None) -> HoldoutResult:
    """Compare a fitted model with the calibration cohort's holdout behaviour.

    Parameters
    ----------
    log : TransactionLog
        The log the summary was built from (it supplies the per-period transactions).
    summary : RFMSummary
        Calibration summary; its ``holdout_end`` is used unless ``holdout_end`` is given.
    model : BetaGeoModel
        Fitted model. Any object with ``expected_transactions(t)`` and
        ``expected_conditional(t, frequency, recency, T)`` works.
    holdout_end : date-like, optional
        Overrides ``summary.holdout_end``.
    simulated_cumulative : array_like, optional
        Simulated cumulative repeat transactions per period (see the module docstring): shape
        ``(n_periods,)`` or ``(n_runs, n_periods)``.

    Returns
    -------
    HoldoutResult

    Raises
    ------
    ConfigError
        No holdout end, holdout end not after the calibration end, the summary does not match
        the log, or a badly shaped ``simulated_cumulative``.
    """
    if not isinstance(summary, RFMSummary):
        raise ConfigError("holdout_validation needs the RFMSummary built by rfm_summary")
    hold = summary.holdout_end if holdout_end is None else _as_day(holdout_end, "holdout_end")
    if hold is None:
        raise ConfigError("holdout_validation needs a holdout end: build the summary with "
                          "holdout_end=... or pass holdout_end=...")
    cal = summary.calibration_end
    if hold <= cal:
        raise ConfigError(f"holdout_end {hold.date()} must be after calibration_end {cal.date()}")
    unit = summary.unit_days
    cal_day = int(np.datetime64(cal.date(), "D").astype(np.int64))
    hold_day = int(np.datetime64(hold.date(), "D").astype(np.int64))

    codes, customers, day, _ = transaction_days(log)
    counts = np.bincount(codes, minlength=customers.size)
    block_start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    first_day = day[block_start]
    cohort = first_day <= cal_day
    if int(cohort.sum()) != summary.n_customers:
        raise ConfigError(f"the summary has {summary.n_customers} customers but the log's "
                          f"calibration cohort has {int(cohort.sum())}; build both from the same "
                          "log and calibration end")
    start_day = int(first_day[cohort].min())

    # -- actual repeat transactions per period
    is_first = np.zeros(day.size, dtype=bool)
    is_first[block_start] = True
    keep = cohort[codes] & ~is_first & (day <= hold_day)
    n_periods = int(np.ceil((hold_day - start_day + 1) / unit))
    n_cal_periods = int(np.ceil((cal_day - start_day + 1) / unit))
    period = (day[keep] - start_day) // unit
    actual_inc = np.bincount(period, minlength=n_periods).astype(float)[:n_periods]
    actual_cum = np.cumsum(actual_inc)

    # -- expected, by cohort of first-purchase day (purchases at the end of their day)
    births, n_born = np.unique(first_day[cohort] - start_day + 1, return_counts=True)
    ends = np.minimum(np.arange(1, n_periods + 1) * unit, hold_day - start_day + 1)
    ages = np.clip(ends[None, :] - births[:, None], 0, None) / unit
    uniq_ages, inverse = np.unique(ages, return_inverse=True)
    expected_at = np.asarray(model.expected_transactions(uniq_ages), dtype=float)
    expected_cum = (n_born[:, None] * expected_at[inverse].reshape(ages.shape)).sum(axis=0)
    expected_inc = np.diff(expected_cum, prepend=0.0)

    # -- per-customer conditional expectations
    x, tx, t_age = rfm_arrays(summary, owner="holdout_validation")
    if "frequency_holdout" in summary.table.columns and holdout_end is None:
        actual_hold = summary.table["frequency_holdout"].to_numpy(dtype=float)
    else:
        in_hold = (day > cal_day) & (day <= hold_day)
        per_customer = np.bincount(codes[in_hold], minlength=customers.size)
        order = pd.Index(customers).get_indexer(summary.table.index)
        if np.any(order < 0):
            raise ConfigError("the summary's customers are not all in the log")
        actual_hold = per_customer[order].astype(float)
    t_star = (hold_day - cal_day) / unit
    expected_hold = np.asarray(model.expected_conditional(t_star, x, tx, t_age), dtype=float)

    diff = expected_hold - actual_hold
    corr = (float(np.corrcoef(actual_hold, expected_hold)[0, 1])
            if np.std(actual_hold) > 0 and np.std(expected_hold) > 0 else float("nan"))
    labels, n_bin, mean_act, mean_exp = [], [], [], []
    capped = np.minimum(x, FREQUENCY_BINS)
    for k in range(FREQUENCY_BINS + 1):
        sel = capped == k
        labels.append(f"{k}+" if k == FREQUENCY_BINS else str(k))
        n_bin.append(int(sel.sum()))
        mean_act.append(float(actual_hold[sel].mean()) if sel.any() else float("nan"))
        mean_exp.append(float(expected_hold[sel].mean()) if sel.any() else float("nan"))

    sim = _simulated(simulated_cumulative, n_periods)
    hold_slice = slice(n_cal_periods, n_periods)
    sim_mape = None if sim is None else _mape(sim.mean(axis=0)[hold_slice],
                                              actual_cum[hold_slice])
    period_end = (np.datetime64(start_day, "D")
                  + (np.minimum(np.arange(1, n_periods + 1) * unit,
                                hold_day - start_day + 1) - 1).astype("timedelta64[D]"))
    end_err = (float((expected_cum[-1] - actual_cum[-1]) / actual_cum[-1] * 100.0)
               if actual_cum[-1] > 0 else float("nan"))
    return HoldoutResult(
        time_unit=summary.time_unit,
        period_end=period_end,
        n_calibration_periods=n_cal_periods,
        actual_incremental=actual_inc,
        actual_cumulative=actual_cum,
        expected_incremental=expected_inc,
        expected_cumulative=expected_cum,
        simulated_cumulative=sim,
        customers=np.asarray(summary.table.index),
        frequency=x,
        actual_holdout=actual_hold,
        expected_holdout=expected_hold,
        mape_holdout=_mape(expected_cum[hold_slice], actual_cum[hold_slice]),
        mape_calibration=_mape(expected_cum[:n_cal_periods], actual_cum[:n_cal_periods]),
        cumulative_error_end=end_err,
        simulated_mape_holdout=sim_mape,
        correlation=corr,
        mae=float(np.mean(np.abs(diff))),
        rmse=float(np.sqrt(np.mean(diff ** 2))),
        by_frequency={"frequency": labels, "n": n_bin, "actual": mean_act,
                      "expected": mean_exp},
    )
