"""Columnar customer state: one numpy array per attribute, owned by the model.

Core object: :class:`CustomerState`. Customer ``i`` is row ``i`` of every array; rows are appended
in acquisition order, so ``acquired`` is non-decreasing. Both engines (per-agent and vectorised)
read and write these arrays, which is what lets a policy be written once for both.

Arrays have a capacity larger than the number of customers ``n``; growth doubles the capacity so
that appending stays linear overall. Small integer types hold stages and day counters, float32
holds per-customer traits and modifiers, float64 holds money (so totals reconcile exactly enough
to audit).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CustomerState", "FIELDS", "NONE", "rows_on_day"]

#: Sentinel for "no such day / no such category" in integer columns.
NONE = -1

# name: (dtype, fill value, leading shape). Leading shape () for one value per customer.
FIELDS: dict[str, tuple[type, float, tuple[int, ...]]] = {
    # identity (keys the customer's random draws) and traits drawn at acquisition
    "uid": (np.uint64, 0, ()),
    "draw_key": (np.uint64, 0, ()),  # uid mixed with the run's behaviour key (sim.draws.customer_key)
    "rate": (np.float32, 0.0, ()),  # purchases per day
    "basket": (np.float32, 0.0, ()),  # mean order value
    "hazard": (np.float32, 0.0, ()),  # daily latent churn probability
    "dropout": (np.float32, 0.0, ()),  # churn probability after a repeat purchase
    "channel": (np.int16, NONE, ()),  # acquisition channel; NONE for the initial base
    "coverage_u": (np.float32, 0.0, ()),  # uniform draw deciding which programmes reach the customer
    # lifecycle
    "stage": (np.int16, 0, ()),
    "stage_since": (np.int32, 0, ()),
    "time_due": (np.int32, np.iinfo(np.int32).max, ()),  # first day a time rule of the stage can fire
    "acquired": (np.int32, 0, ()),
    "first_purchase": (np.int32, NONE, ()),
    "second_purchase": (np.int32, NONE, ()),
    "last_purchase": (np.int32, NONE, ()),
    "purchases": (np.int32, 0, ()),
    "referrals": (np.int32, 0, ()),
    "first_churn": (np.int32, NONE, ()),
    "reactivations": (np.int16, 0, ()),
    "tier": (np.int16, NONE, ()),
    "segment": (np.int16, NONE, ()),
    # the one active offer (coupon) a customer may hold
    "offer_policy": (np.int16, NONE, ()),
    "offer_until": (np.int32, NONE, ()),
    "offer_discount": (np.float32, 0.0, ()),
    "offer_min_spend": (np.float32, 0.0, ()),
    "offer_lift": (np.float32, 1.0, ()),
    "offer_reactivation": (np.float32, 0.0, ()),
    # rolling histories
    "contacts": (np.uint8, 0, (7,)),  # contacts per day, ring over the last 7 days
    "contacts_week": (np.uint8, 0, ()),  # sum of the ring: contacts over the last 7 days
    "spend_months": (np.float32, 0.0, (12,)),  # spend per 30-day block, ring over ~a year
    "annual_spend": (np.float64, 0.0, ()),  # the blocks' sum at the last roll-over, plus orders since
    # money, per customer, cumulative
    "revenue": (np.float64, 0.0, ()),  # list-price sales
    "margin": (np.float64, 0.0, ()),  # gross margin before policy costs
    "policy_cost": (np.float64, 0.0, ()),
    "acquisition_cost": (np.float64, 0.0, ()),
    "value": (np.float64, 0.0, ()),  # discounted margin minus policy costs, since acquisition
    # experiments: arm (NONE until assigned), assignment day, and a snapshot taken at assignment
    "arm": (np.int8, NONE, ()),
    "assigned": (np.int32, NONE, ()),
    "stage_at_assign": (np.int16, NONE, ()),
    "tier_at_assign": (np.int16, NONE, ()),
    "segment_at_assign": (np.int16, NONE, ()),
    "purchases_pre": (np.int32, 0, ()),
    "revenue_pre": (np.float64, 0.0, ()),
    "margin_pre": (np.float64, 0.0, ()),
    "value_pre": (np.float64, 0.0, ()),
    "policy_cost_pre": (np.float64, 0.0, ()),
    # today's multipliers set by policies, reset every day
    "mod_purchase": (np.float32, 1.0, ()),
    "mod_basket": (np.float32, 1.0, ()),
    "mod_churn": (np.float32, 1.0, ()),
}


class CustomerState:
    """All customers' attributes as columns; see :data:`FIELDS` for the columns and types."""

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.capacity = max(int(capacity), 16)
        for name, (dtype, fill, lead) in FIELDS.items():
            setattr(self, name, np.full(lead + (self.capacity,), fill, dtype=dtype))

    def append(self, count: int) -> slice:
        """Make room for ``count`` new customers and return their row slice (filled with defaults)."""
        if count < 0:
            raise ValueError(f"count must be >= 0; got {count}")
        need = self.n + count
        if need > self.capacity:
            self._grow(max(need, 2 * self.capacity))
        rows = slice(self.n, need)
        self.n = need
        return rows

    def _grow(self, capacity: int) -> None:
        for name, (dtype, fill, lead) in FIELDS.items():
            old = getattr(self, name)
            new = np.full(lead + (capacity,), fill, dtype=dtype)
            new[..., : self.n] = old[..., : self.n]
            setattr(self, name, new)
        self.capacity = capacity

    def column(self, name: str) -> np.ndarray:
        """The live part (first ``n`` rows) of one column, as a view."""
        return getattr(self, name)[..., : self.n]

    def nbytes(self) -> int:
        """Bytes held by all columns, capacity included."""
        return sum(getattr(self, name).nbytes for name in FIELDS)


def rows_on_day(days: np.ndarray, d: int) -> tuple[int, int]:
    """Rows ``lo .. hi - 1`` of the ascending day column ``days`` that hold day ``d``.

    The bounds are searched in the column's own dtype: searching an int32 column with Python
    ints would make numpy copy the whole column to int64 on every call.
    """
    lo, hi = np.searchsorted(days, np.array([d, d + 1], dtype=days.dtype))
    return int(lo), int(hi)
