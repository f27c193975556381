"""Per-customer RFM summaries in buy-till-you-die conventions.

Core objects: :class:`RFMSummary` (one row per customer of the calibration cohort) built by
:func:`rfm_summary`, the validators :func:`rfm_arrays` / :func:`spend_arrays` that every model uses
to read a summary, and :data:`SEGMENT_RULES`, the named RFM segments.

Conventions (Fader, Hardie & Lee 2005)
-------------------------------------
All purchases of one customer on one calendar day count as one transaction (unless the log was
loaded with ``merge_same_day=False``: then each row is one, and ``frequency`` counts them all, as
``lifecycle calibrate --keep-same-day`` asks). A customer's clock
starts at the first purchase (day 0). With the calibration end ``E`` (inclusive) and time unit
``u`` (7 days for ``"week"``, 1 for ``"day"``):

* ``frequency`` x = distinct transaction days in ``[first, E]`` minus 1 (repeat transactions);
* ``recency`` t_x = (last transaction day in ``[first, E]`` - first) / u, 0 when x = 0;
* ``T`` = (E - first) / u;
* ``monetary_value`` = mean amount of the repeat transactions in the calibration period (first
  purchase excluded), 0 when x = 0;
* with a holdout end ``H``: ``frequency_holdout`` = transaction days in ``(E, H]`` and
  ``duration_holdout`` = (H - E) / u.

Customers whose first purchase falls after ``E`` are not in the cohort; they are counted in
``exclusions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.calibration.transactions import TransactionLog
from analysis.calibration._types import DateLike
from scenarios.errors import ConfigError, DataError

__all__ = ["RFMSummary", "rfm_summary", "rfm_arrays", "spend_arrays", "TIME_UNITS",
           "SEGMENT_RULES", "FIRST_PURCHASE_AFTER_CALIBRATION"]

#: Length of each supported time unit, in days.
TIME_UNITS: dict[str, int] = {"day": 1, "week": 7}

#: Exclusion reason for customers acquired after the calibration end.
FIRST_PURCHASE_AFTER_CALIBRATION = "first purchase after calibration end (not in the cohort)"

#: Named segments, first match wins: (name, min R, max R, min F, max F, min M, description).
#: Scores are 1-5 (5 = most recent / most frequent / highest spend).
SEGMENT_RULES: tuple[tuple[str, int, int, int, int, int, str], ...] = (
    ("high value", 4, 5, 4, 5, 4, "recent, frequent and big spenders"),
    ("loyal", 3, 5, 3, 5, 1, "buy often and not long ago"),
    ("recent", 4, 5, 1, 2, 1, "bought recently but rarely (new or re-activated)"),
    ("at risk", 1, 2, 3, 5, 1, "used to buy often, silent for a long time"),
    ("churn risk", 1, 2, 1, 2, 1, "long recency and low frequency"),
    ("needs attention", 1, 5, 1, 5, 1, "everyone else (middle recency, low frequency)"),
)


@dataclass(frozen=True, eq=False)
class RFMSummary:
    """Per-customer summary of a calibration cohort.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by customer. Columns ``first_purchase``, ``frequency``, ``recency``, ``T``,
        ``monetary_value``, ``n_transactions`` (x + 1), ``total_spend`` (calibration),
        ``days_since_last``, ``r_score``, ``f_score``, ``m_score``, ``rfm_score`` (e.g. "545",
        categorical),
        ``segment``; plus ``frequency_holdout``, ``spend_holdout`` and ``duration_holdout``
        when a holdout end was given.
    calibration_end, holdout_end : pandas.Timestamp
        Period ends (inclusive); ``holdout_end`` may be ``None``.
    time_unit : str
        ``"week"`` or ``"day"``.
    exclusions : tuple of (str, int)
        Customers of the log left out of the cohort, with the reason.
    source : str
        Where the transactions came from.
    """

    table: pd.DataFrame
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp | None
    time_unit: str
    exclusions: tuple[tuple[str, int], ...] = field(default=())
    source: str = ""

    @property
    def n_customers(self) -> int:
        """Customers in the calibration cohort."""
        return len(self.table)

    @property
    def unit_days(self) -> int:
        """Days per time unit."""
        return TIME_UNITS[self.time_unit]

    @property
    def cohort_start(self) -> pd.Timestamp:
        """Earliest first purchase of the cohort."""
        return pd.Timestamp(self.table["first_purchase"].min())

    def __repr__(self) -> str:
        return (f"RFMSummary(customers={self.n_customers}, calibration_end="
                f"{self.calibration_end.date()}, holdout_end="
                f"{None if self.holdout_end is None else self.holdout_end.date()}, "
                f"time_unit={self.time_unit!r}, exclusions={list(self.exclusions)})")


# --------------------------------------------------------------------------- helpers


def _as_day(value: DateLike, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name} must be a date (e.g. '1997-09-30'); got {value!r}") from exc
    if stamp is pd.NaT:
        raise ConfigError(f"{name} must be a date (e.g. '1997-09-30'); got {value!r}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)
    return stamp.floor("D")


def transaction_days(log: TransactionLog) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Transactions sorted by customer then day; merged per customer and day unless the log was
    loaded with ``merge_same_day=False`` (then several rows of one day stay several transactions).

    Returns
    -------
    codes : numpy.ndarray of int32
        Customer code per transaction day (index into ``customers``).
    customers : numpy.ndarray
        Customer id per code.
    day : numpy.ndarray of int32
        Day number (days since 1970-01-01).
    amount : numpy.ndarray of float
        Amount spent that day.
    """
    data = log.data
    ids = data["customer"]
    if isinstance(ids.dtype, pd.CategoricalDtype) and ids.size and np.bincount(
            ids.cat.codes.to_numpy(), minlength=len(ids.cat.categories)).min() > 0 and not ids.hasnans:
        # as the loader makes it: every category used; its codes are the customer codes, no copy
        codes, customers = ids.cat.codes.to_numpy(), ids.cat.categories.to_numpy()
    else:
        codes, customers = pd.factorize(ids, sort=False)
    codes = codes.astype(np.int32, copy=False)  # (32 bits, and only masks of the log's length: memory)
    day = (data["date"].to_numpy().view(np.int64) // 86_400).astype(np.int32) if data["date"].dtype == "datetime64[s]" \
        else data["date"].to_numpy().astype("datetime64[D]").view(np.int64).astype(np.int32)
    amount = data["amount"].to_numpy(dtype=float)
    # load_transactions already sorts by customer then day; only re-sort when needed.
    if not (np.all(codes[1:] >= codes[:-1]) and np.all((codes[1:] > codes[:-1]) | (day[1:] >= day[:-1]))):
        order = np.lexsort((day, codes))
        codes, day, amount = codes[order], day[order], amount[order]
    if codes.size and log.merged_same_day:
        new = np.ones(codes.size, dtype=bool)
        new[1:] = (codes[1:] != codes[:-1]) | (day[1:] != day[:-1])
        if not new.all():
            starts = np.flatnonzero(new)
            amount = np.add.reduceat(amount, starts)
            codes, day = codes[starts], day[starts]
    return codes, np.asarray(customers), day, amount


def _scores(values: np.ndarray) -> np.ndarray:
    """1-5 scores: 1 + floor(5 x share of customers with a strictly lower value)."""
    n = values.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # 1 + floor(5 b / n) >= 1 + k exactly when b >= ceil(k n / 5), that is when the value exceeds
    # the ceil(k n / 5)-th smallest: four order statistics instead of a rank per customer
    cut = [-((-k * n) // 5) - 1 for k in range(1, 5)]
    thresholds = np.partition(values, cut)[cut]
    return 1 + (values[:, None] > thresholds[None, :]).sum(axis=1).astype(np.int64)


def _segments(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Index into :data:`SEGMENT_RULES` of each customer's segment (first match wins)."""
    out = np.full(r.size, len(SEGMENT_RULES) - 1, dtype=np.int8)
    done = np.zeros(r.size, dtype=bool)
    for k, (_, rlo, rhi, flo, fhi, mlo, _) in enumerate(SEGMENT_RULES):
        hit = ~done & (r >= rlo) & (r <= rhi) & (f >= flo) & (f <= fhi) & (m >= mlo)
        out[hit] = k
        done |= hit
    return out


# --------------------------------------------------------------------------- summary


def rfm_summary(log: TransactionLog, *, calibration_end: DateLike,
                holdout_end: DateLike | None = None,
                time_unit: str = "week") -> RFMSummary:
    """Summarise a transaction log per customer for a calibration period.

    Parameters
    ----------
    log : TransactionLog
        From :func:`load_transactions`.
    calibration_end : date-like
        Last day (inclusive) of the calibration period.
    holdout_end : date-like, optional
        Last day (inclusive) of the holdout period; adds the holdout columns.
    time_unit : {"week", "day"}
        Unit of ``recency``, ``T`` and ``duration_holdout``.

    Returns
    -------
    RFMSummary

    Raises
    ------
    ConfigError
        Unknown time unit; calibration end before the log's first purchase; holdout end not
        after the calibration end.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.calibration.transactions import transactions_from_frame
    >>> log = transactions_from_frame(pd.DataFrame({
    ...     "customer": ["a", "a", "a", "b"],
    ...     "date": pd.to_datetime(["1997-01-01", "1997-01-15", "1997-02-05", "1997-01-08"]),
    ...     "amount": [10.0, 20.0, 40.0, 5.0]}))
    >>> s = rfm_summary(log, calibration_end="1997-01-29")
    >>> s.table[["frequency", "recency", "T", "monetary_value"]].round(2).to_dict("list")
    {'frequency': [1, 0], 'recency': [2.0, 0.0], 'T': [4.0, 3.0], 'monetary_value': [20.0, 0.0]}
    """
    if time_unit not in TIME_UNITS:
        raise ConfigError(f"time_unit must be one of {sorted(TIME_UNITS)}; got {time_unit!r}")
    unit = TIME_UNITS[time_unit]
    cal_end = _as_day(calibration_end, "calibration_end")
    hold_end = None if holdout_end is None else _as_day(holdout_end, "holdout_end")
    if len(log.data) == 0:
        raise DataError(f"{log.source}: the transaction log has no transactions")
    first_date = log.first_date.floor("D")
    if cal_end < first_date:
        raise ConfigError(
            f"calibration_end {cal_end.date()} is before the first purchase in {log.source} "
            f"({first_date.date()}); choose a calibration end on or after "
            f"{first_date.date()}")
    if hold_end is not None and hold_end <= cal_end:
        raise ConfigError(
            f"holdout_end {hold_end.date()} must be after calibration_end {cal_end.date()}")

    codes, customers, day, amount = transaction_days(log)
    n_all = customers.size
    counts = np.bincount(codes, minlength=n_all)
    block_start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    first_day = day[block_start]
    cal_day = int(np.datetime64(cal_end.date(), "D").astype(np.int64))
    in_cal = day <= cal_day
    n_cal = np.bincount(codes[in_cal], minlength=n_all)
    cohort = first_day <= cal_day
    # Days are sorted within a customer, so calibration days are a prefix of each block.
    last_cal_day = day[np.maximum(block_start + n_cal - 1, block_start)]
    spend_cal = np.bincount(codes[in_cal], weights=amount[in_cal], minlength=n_all)
    first_amount = amount[block_start]

    x = (n_cal - 1)[cohort]
    first_c = first_day[cohort]
    repeat_spend = (spend_cal - first_amount)[cohort]
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, repeat_spend / np.maximum(x, 1), 0.0)
    days_since_last = (cal_day - last_cal_day[cohort]).astype(np.int64)
    table = pd.DataFrame(
        {
            "first_purchase": first_c.astype("datetime64[D]").astype("datetime64[s]"),
            "frequency": x.astype(np.int64),
            "recency": (last_cal_day[cohort] - first_c) / unit,
            "T": (cal_day - first_c) / unit,
            "monetary_value": monetary,
            "n_transactions": (x + 1).astype(np.int64),
            "total_spend": spend_cal[cohort],
            "days_since_last": days_since_last,
        },
        index=pd.Index(customers[cohort], name="customer"),
    )
    if hold_end is not None:
        hold_day = int(np.datetime64(hold_end.date(), "D").astype(np.int64))
        in_hold = (day > cal_day) & (day <= hold_day)
        table["frequency_holdout"] = np.bincount(codes[in_hold], minlength=n_all)[cohort]
        table["spend_holdout"] = np.bincount(codes[in_hold], weights=amount[in_hold],
                                             minlength=n_all)[cohort]
        table["duration_holdout"] = (hold_day - cal_day) / unit
    r = _scores(-days_since_last.astype(float))
    f = _scores(table["n_transactions"].to_numpy(float))
    m = _scores(table["total_spend"].to_numpy(float))
    table["r_score"] = r
    table["f_score"] = f
    table["m_score"] = m
    labels = [f"{i}{j}{k}" for i in range(1, 6) for j in range(1, 6) for k in range(1, 6)]
    table["rfm_score"] = pd.Categorical.from_codes((r - 1) * 25 + (f - 1) * 5 + (m - 1), categories=labels)
    table["segment"] = pd.Categorical.from_codes(_segments(r, f, m), categories=[rule[0] for rule in SEGMENT_RULES])
    exclusions = []
    late = int((~cohort).sum())
    if late:
        exclusions.append((FIRST_PURCHASE_AFTER_CALIBRATION, late))
    return RFMSummary(table=table, calibration_end=cal_end, holdout_end=hold_end,
                      time_unit=time_unit, exclusions=tuple(exclusions), source=log.source)


# --------------------------------------------------------------------------- validators


def _frame(summary, owner: str) -> pd.DataFrame:
    if isinstance(summary, RFMSummary):
        return summary.table
    if isinstance(summary, pd.DataFrame):
        return summary
    raise DataError(f"{owner}: expected an RFMSummary or a DataFrame, got "
                    f"{type(summary).__name__}")


def _column(frame: pd.DataFrame, name: str, owner: str) -> np.ndarray:
    if name not in frame.columns:
        raise DataError(f"{owner}: the summary has no {name!r} column; available columns: "
                        f"{list(frame.columns)}")
    try:
        values = frame[name].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{owner}: column {name!r} must be numeric") from exc
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(f"{owner}: column {name!r}, row {bad[0] + 1} (customer "
                        f"{frame.index[bad[0]]!r}): value {values[bad[0]]} is not finite")
    return values


def _fail(frame: pd.DataFrame, owner: str, column: str, mask: np.ndarray, rule: str) -> None:
    bad = np.flatnonzero(mask)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{owner}: column {column!r}, row {i + 1} (customer "
                        f"{frame.index[i]!r}): {rule} ({bad.size} row(s) violate it)")


def rfm_arrays(summary: RFMSummary | pd.DataFrame, *,
               owner: str = "summary") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``(frequency, recency, T)`` arrays from an RFMSummary or DataFrame.

    Raises
    ------
    DataError
        Missing column, non-finite values, negative or non-integer frequency, recency outside
        ``[0, T]``, or a non-zero recency with zero frequency.
    """
    frame = _frame(summary, owner)
    x = _column(frame, "frequency", owner)
    tx = _column(frame, "recency", owner)
    t_age = _column(frame, "T", owner)
    _fail(frame, owner, "frequency", (x < 0) | (x != np.round(x)),
          "frequency must be a whole number >= 0")
    _fail(frame, owner, "T", t_age < 0, "T must be >= 0")
    _fail(frame, owner, "recency", (tx < 0) | (tx > t_age * (1 + 1e-12) + 1e-12),
          "recency must satisfy 0 <= recency <= T")
    _fail(frame, owner, "recency", (x == 0) & (tx != 0),
          "recency must be 0 when frequency is 0 (BTYD convention)")
    return x, tx, t_age


def spend_arrays(summary: RFMSummary | pd.DataFrame, *,
                 owner: str = "summary") -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(frequency, monetary_value)`` arrays.

    Raises
    ------
    DataError
        Missing column, non-finite values, negative frequency or negative monetary value.
    """
    frame = _frame(summary, owner)
    x = _column(frame, "frequency", owner)
    m = _column(frame, "monetary_value", owner)
    _fail(frame, owner, "frequency", (x < 0) | (x != np.round(x)),
          "frequency must be a whole number >= 0")
    _fail(frame, owner, "monetary_value", m < 0, "monetary_value must be >= 0")
    return x, m
