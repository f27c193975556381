"""What every scenario table shares: strict, finite, bounded values, checked once at the boundary.

Core objects: :class:`StrictModel` (the base of every table: unknown fields, infinities and NaN
are refused, ``true`` is not a number and ``1`` is not a boolean), :func:`check_magnitudes` (the
general bound on every number of a table whose fields set none, e.g. a user's policy) and the
bounds every layer uses:
:data:`MAX_DAYS`, :data:`MAX_CUSTOMERS`, :data:`MAX_MONEY`, :data:`MAX_MULTIPLIER`,
:data:`INT32_MAX` (day counters and counts are stored as 32-bit integers).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictModel", "STRICT", "check_magnitudes", "INT32_MAX", "MAX_DAYS", "MAX_CUSTOMERS", "MAX_MONEY", "MAX_MULTIPLIER", "MAX_RATE"]

#: the configuration of every table (policies' parameters too)
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

#: day counters, counts and thresholds are stored in int32 columns
INT32_MAX = 2**31 - 1
#: the longest run, warm-up, offer validity or rule delay: 100 years of days
MAX_DAYS = 36_500
#: the most customers one model may hold (initial base plus arrivals are also bounded by memory)
MAX_CUSTOMERS = 100_000_000
#: the largest amount of money in one field (a daily spend, an order, a cost, a threshold)
MAX_MONEY = 1e12
#: the largest multiplier or lift (purchase, basket, churn): beyond it the day's probabilities saturate
MAX_MULTIPLIER = 1_000.0
#: the largest daily purchase rate per customer (the model makes at most one purchase a day)
MAX_RATE = 100.0


class StrictModel(BaseModel):
    """Base of every scenario table (see the module docstring)."""

    model_config = STRICT


def check_magnitudes(values, where: str = "") -> None:
    """Raise ValueError naming the field if a number in ``values`` (nested dicts and lists) is out of range.

    Integers must fit their 32-bit columns (:data:`INT32_MAX`), other numbers :data:`MAX_MONEY` in
    size: past these the day's sums overflow or lose every digit that matters.
    """
    if isinstance(values, dict):
        for k, v in values.items():
            check_magnitudes(v, f"{where}.{k}" if where else str(k))
    elif isinstance(values, (list, tuple)):
        for i, v in enumerate(values):
            check_magnitudes(v, f"{where}[{i}]")
    elif isinstance(values, bool):
        return
    elif isinstance(values, int):
        if abs(values) > INT32_MAX:
            raise ValueError(f"{where}: {values:,} is too large; whole numbers here must be at most {INT32_MAX:,}")
    elif isinstance(values, float):
        if abs(values) > MAX_MONEY:
            raise ValueError(f"{where}: {values:g} is too large; numbers here must be at most {MAX_MONEY:g} in size")
