"""Lifecycle metrics, defined once, computed from a finished run.

Core objects: :class:`Metric` (a value with its standard error and the number of customers behind
it) and :func:`summarize` (all headline metrics of a :class:`sim.records.RunResult` as a
JSON-ready dict). Definitions (see also the README's "Metrics" section):

- activation: share of acquired customers whose first purchase falls within 30 days of
  acquisition, among customers acquired at least 30 days before the end of the run;
- repurchase rate (H days): share of first-time buyers with a second purchase within H days of
  the first, among those whose first purchase is at least H days before the end;
- retention at age k: share of customers still alive (true: not in a churned stage) or observed
  active (a purchase within the observed window) k days after acquisition, pooled over cohorts;
- churn rate: latent churn events per alive customer-day, expressed per 30-day month;
- LTV: per customer, margin minus policy costs, discounted to the acquisition day, realised by
  the end of the run (the run length is the horizon);
- CAC: acquisition spend / customers acquired, overall and per channel (the initial base has no
  CAC; referral bounties are charged to the referring customer, so referred customers arrive at
  zero acquisition cost);
- LTV/CAC: mean LTV of acquired customers over CAC;
- policy ROI: (incremental margin - policy cost) / policy cost against a run without the policy
  (:func:`policy_roi`).

Standard errors are those of the finite population simulated (binomial for shares, the sample
standard deviation over sqrt(n) for means); they do not include between-run variation, which the
experiment module measures by replication.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from sim.state import NONE

__all__ = [
    "Metric", "activation_rate", "repurchase_rate", "retention_at", "retention_curve",
    "churn_rate_monthly", "ltv", "cac", "ltv_cac", "channel_table", "policy_roi", "summarize",
]  # fmt: skip

ACTIVATION_WINDOW = 30


@dataclass(frozen=True)
class Metric:
    """A metric value, its standard error and the number of customers it rests on."""

    value: float | None
    se: float | None
    n: int

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return asdict(self)


def _share(hits: int, n: int) -> Metric:
    if n == 0:
        return Metric(None, None, 0)
    p = hits / n
    return Metric(p, math.sqrt(p * (1 - p) / n), n)


def _mean(x: np.ndarray) -> Metric:
    n = int(x.size)
    if n == 0:
        return Metric(None, None, 0)
    se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else None
    return Metric(float(x.mean()), se, n)


def _acquired(result) -> np.ndarray:
    return result.customers["channel"] != NONE


def activation_rate(result, window: int = ACTIVATION_WINDOW) -> Metric:
    """Share of acquired customers buying within ``window`` days of acquisition."""
    c = result.customers
    eligible = _acquired(result) & (c["acquired"] + window <= result.days)
    fp = c["first_purchase"][eligible]
    hits = int(np.count_nonzero((fp != NONE) & (fp - c["acquired"][eligible] < window)))
    return _share(hits, int(eligible.sum()))


def repurchase_rate(result, horizon: int) -> Metric:
    """Share of first-time buyers who buy again within ``horizon`` days of the first purchase."""
    c = result.customers
    fp, sp = c["first_purchase"], c["second_purchase"]
    eligible = (fp != NONE) & (fp + horizon <= result.days - 1)
    hits = int(np.count_nonzero(eligible & (sp != NONE) & (sp - fp <= horizon)))
    return _share(hits, int(eligible.sum()))


def retention_at(result, age: int, kind: str = "true") -> Metric:
    """Retention ``age`` days after acquisition, pooled over cohorts (``kind``: true|observed)."""
    ages = list(result.retention_ages)
    if age not in ages:
        return Metric(None, None, 0)
    j = ages.index(age)
    num = result.retention_alive if kind == "true" else result.retention_active
    return _share(int(num[:, j].sum()), int(result.retention_total[:, j].sum()))


def retention_curve(result, kind: str = "true"):
    """Retention by age (pooled over cohorts) as a DataFrame with a standard error column."""
    import pandas as pd

    rows = []
    for age in result.retention_ages:
        m = retention_at(result, int(age), kind)
        if m.n:
            rows.append({"age_days": int(age), "retention": m.value, "se": m.se, "customers": m.n})
    return pd.DataFrame(rows, columns=["age_days", "retention", "se", "customers"])


def churn_rate_monthly(result) -> Metric:
    """Latent churn per alive customer per 30-day month, from the daily hazard actually realised."""
    events = float(result.daily["churned"].sum()) if len(result.daily) else 0.0
    back = float(result.daily["reactivated"].sum()) if len(result.daily) else 0.0
    # customer-days at risk: alive_customer_days counts customers alive at the end of each day,
    # so add back those who churned that day and drop those who returned from a churned stage
    days = result.alive_customer_days + events - back
    if days <= 0:
        return Metric(None, None, 0)
    daily = events / days
    monthly = 1.0 - (1.0 - daily) ** 30
    se_daily = math.sqrt(max(events, 1.0)) / days  # Poisson count of events
    return Metric(monthly, 30 * (1.0 - daily) ** 29 * se_daily, int(days))


def ltv(result, mask: np.ndarray | None = None) -> Metric:
    """Mean realised discounted LTV per customer (all customers, or those in ``mask``)."""
    v = result.customers["value"]
    return _mean(v if mask is None else v[mask])


def cac(result, channel: int | None = None) -> Metric:
    """Acquisition spend per customer acquired, overall or for one channel."""
    if channel is None:
        spend, n = float(result.channel_spend.sum()), int(result.channel_customers.sum())
    else:
        spend, n = float(result.channel_spend[channel]), int(result.channel_customers[channel])
    return Metric(spend / n if n else None, None, n)


def ltv_cac(result, channel: int | None = None) -> Metric:
    """Mean LTV of acquired customers over CAC (None where CAC is zero or undefined)."""
    mask = _acquired(result) if channel is None else result.customers["channel"] == channel
    value = ltv(result, mask)
    cost = cac(result, channel)
    if value.value is None or not cost.value:
        return Metric(None, None, value.n)
    return Metric(value.value / cost.value, value.se / cost.value if value.se is not None else None, value.n)


def channel_table(result) -> dict[str, dict]:
    """Per channel: customers, spend, CAC, mean LTV and LTV/CAC."""
    out = {}
    for k, name in enumerate(result.channel_names):
        mask = result.customers["channel"] == k
        value = ltv(result, mask)
        ratio = ltv_cac(result, k)
        out[name] = {
            "customers": int(result.channel_customers[k]),
            "spend": float(result.channel_spend[k]),
            "cac": cac(result, k).value,
            "ltv_mean": value.value,
            "ltv_se": value.se,
            "ltv_cac": ratio.value,
        }
    return out


def policy_roi(with_policy, without_policy) -> dict:
    """Programme ROI against a counterfactual run without the policy (same seed and customers).

    ROI = (incremental gross margin - policy cost) / policy cost, where policy cost is what the
    run with the policy spent on it. None if the policy cost nothing.
    """
    margin_with = float(with_policy.customers["margin"].sum())
    margin_without = float(without_policy.customers["margin"].sum())
    cost = float(with_policy.customers["policy_cost"].sum()) - float(without_policy.customers["policy_cost"].sum())
    incremental = margin_with - margin_without
    return {
        "incremental_margin": incremental,
        "policy_cost": cost,
        "roi": (incremental - cost) / cost if cost > 0 else None,
    }


def summarize(result) -> dict:
    """All headline metrics of a run, JSON-ready, each with its standard error where it has one."""
    c = result.customers
    metrics = {
        "activation_rate": activation_rate(result),
        "repurchase_rate_7d": repurchase_rate(result, 7),
        "repurchase_rate_30d": repurchase_rate(result, 30),
        "repurchase_rate_90d": repurchase_rate(result, 90),
        "retention_30d": retention_at(result, 30),
        "retention_90d": retention_at(result, 90),
        "retention_180d": retention_at(result, 180),
        "observed_retention_30d": retention_at(result, 30, "observed"),
        "observed_retention_90d": retention_at(result, 90, "observed"),
        "observed_retention_180d": retention_at(result, 180, "observed"),
        "churn_rate_monthly": churn_rate_monthly(result),
        "ltv_mean": ltv(result),
        "ltv_mean_acquired": ltv(result, _acquired(result)),
        "cac": cac(result),
        "ltv_cac": ltv_cac(result),
    }
    revenue = float(c["revenue"].sum())
    margin = float(c["margin"].sum())
    policy_total = float(c["policy_cost"].sum())
    acquisition = float(result.channel_spend.sum())
    final = result.daily.iloc[-1] if len(result.daily) else None
    out = {name: m.value for name, m in metrics.items()}
    out.update(
        {
            "revenue": revenue,
            "gross_margin": margin,
            "policy_costs": {**result.policy_costs, "total": policy_total},
            "acquisition_spend": acquisition,
            "net_contribution": margin - policy_total - acquisition,
            "stage_counts_final": {
                name: int(final[f"stage:{name}"]) if final is not None else 0 for name in result.stage_names
            },
        }
    )
    return {
        "metrics": out,
        "uncertainty": {name: {"se": m.se, "n": m.n} for name, m in metrics.items()},
        "channels": channel_table(result),
    }
