"""What the page shows: consistent copies of a model's aggregates, and the metrics it compares.

Core objects: :class:`Snapshot` (one model at one moment; the charts read only this),
:func:`quick_metrics` (LTV, CAC and LTV/CAC so far, cheap enough for every day),
:data:`COMPARISON_METRICS` and :func:`metric_rows` (the A/B table) and :func:`same_initial`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.state import NONE

__all__ = ["Snapshot", "quick_metrics", "metric_rows", "same_initial", "COMPARISON_METRICS"]


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of one model's aggregates at one moment (charts read only this)."""

    side: str
    label: str
    day: int
    days: int
    engine: str
    result: Any  # sim.records.RunResult
    history: tuple[dict, ...]
    #: stage occupancy per day as collected by the model's ``mesa.DataCollector`` (one column per stage)
    stages: Any = None

    @property
    def customers(self) -> int:
        """Customers simulated so far (initial plus acquired)."""
        return self.result.n_customers


def quick_metrics(model) -> dict:
    """LTV, CAC and LTV/CAC of acquired customers so far (as in :mod:`analysis.metrics`), cheaply."""
    s = model.state
    n = s.n
    acquired = s.channel[:n] != NONE
    spend = float(model.ledger.channel_spend.sum())
    count = int(model.ledger.channel_customers.sum())
    cac = spend / count if count else None
    ltv = float(s.value[:n][acquired].mean()) if acquired.any() else None
    ratio = ltv / cac if (ltv is not None and cac) else None
    return {"day": model.day, "ltv": ltv, "cac": cac, "ltv_cac": ratio, "customers": n}


def metric_rows(result) -> dict[str, float | None]:
    """The values of :data:`COMPARISON_METRICS` for one run so far."""
    from analysis import metrics as M

    c = result.customers
    acquired = c["channel"] != NONE
    margin = float(c["margin"].sum())
    policy = float(c["policy_cost"].sum())
    acq = float(result.channel_spend.sum())
    return {
        "ltv_cac": M.ltv_cac(result).value,
        "ltv_mean_acquired": M.ltv(result, acquired).value,
        "cac": M.cac(result).value,
        "retention_30d": M.retention_at(result, 30).value,
        "retention_90d": M.retention_at(result, 90).value,
        "observed_retention_30d": M.retention_at(result, 30, "observed").value,
        "repurchase_rate_30d": M.repurchase_rate(result, 30).value,
        "revenue": float(c["revenue"].sum()),
        "policy_costs": policy,
        "net_contribution": margin - policy - acq,
    }


#: (metric, label, format) of the comparison table, in order
COMPARISON_METRICS: tuple[tuple[str, str, str], ...] = (
    ("ltv_cac", "LTV/CAC", "ratio"),
    ("ltv_mean_acquired", "LTV per acquired customer", "money"),
    ("cac", "CAC", "money"),
    ("retention_30d", "Retention at 30 days (true)", "share"),
    ("retention_90d", "Retention at 90 days (true)", "share"),
    ("observed_retention_30d", "Retention at 30 days (observed)", "share"),
    ("repurchase_rate_30d", "Repurchase within 30 days", "share"),
    ("revenue", "Revenue", "money"),
    ("policy_costs", "Policy costs", "money"),
    ("net_contribution", "Cumulative profit", "money"),
)


def same_initial(a, b, n0: int) -> bool:
    """True if both runs started from identical initial customers (same traits)."""
    ca, cb = a.customers, b.customers
    k = min(n0, ca["rate"].size, cb["rate"].size)
    return bool(np.array_equal(ca["rate"][:k], cb["rate"][:k]) and np.array_equal(ca["hazard"][:k], cb["hazard"][:k]))
