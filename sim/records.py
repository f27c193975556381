"""What a run records, one table per grain.

Core objects: :class:`DailyRecorder` (aggregates the day on the fly: stage occupancy, flows between
stages, orders and money, acquisition per channel, cohort retention by age) and
:class:`RunResult` (the finished run: the per-day table, the per-customer table, the flow cube,
retention counts by cohort and age, and the money ledger).

Retention is counted as customers reach each age on :data:`RETENTION_AGES`: *true* retention counts
customers not in a churned stage (the latent state, known only to the simulation); *observed*
retention counts customers with a purchase in the last ``observed_window_days`` days (what an
analyst sees). Cohorts are 30-day blocks of acquisition day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.state import NONE, rows_on_day

__all__ = ["DailyRecorder", "RunResult", "RETENTION_AGES", "CUSTOMER_COLUMNS", "COHORT_DAYS"]

RETENTION_AGES = (0, 7, 14, 30, 60, 90, 120, 180, 270, 365, 540, 730, 1095)
COHORT_DAYS = 30
CUSTOMER_COLUMNS = (
    "channel", "acquired", "stage", "first_purchase", "second_purchase", "last_purchase",
    "purchases", "referrals", "first_churn", "reactivations", "tier", "segment",
    "revenue", "margin", "policy_cost", "acquisition_cost", "value",
    "rate", "basket", "hazard", "dropout",
)  # fmt: skip


@dataclass
class RunResult:
    """A finished (or paused) run, ready for :mod:`analysis.metrics` and for writing to disk."""

    scenario: str
    seed: int | None
    entropy: int
    spawn_key: tuple[int, ...]
    engine: str
    days: int
    stage_names: list[str]
    churned_stages: list[bool]
    channel_names: list[str]
    tier_names: list[str]
    segment_names: list[str]
    policy_names: list[str]
    daily: pd.DataFrame
    customers: dict[str, np.ndarray]
    flows: np.ndarray  # (days, S, S): customers moving from row stage to column stage
    retention_ages: np.ndarray
    retention_total: np.ndarray  # (cohorts, ages)
    retention_alive: np.ndarray
    retention_active: np.ndarray
    ledger_rows: list[dict]
    policy_costs: dict[str, float]
    policy_costs_by_kind: dict[tuple[str, str], float]
    channel_spend: np.ndarray
    channel_customers: np.ndarray
    alive_customer_days: float
    annual_discount_rate: float
    observed_window_days: int
    extra: dict = field(default_factory=dict)
    orders: pd.DataFrame | None = None  # every order, when the model was built with log_orders=True

    def orders_frame(self) -> pd.DataFrame:
        """Every customer's order of a day as (day, customer, amount, purchases: how many it holds,
        more than one only with ``purchases_per_day = "poisson"``); needs ``CustomerModel(..., log_orders=True)``."""
        if self.orders is None:
            raise ValueError("this run kept no order log; build the model with log_orders=True")
        return self.orders

    @property
    def n_customers(self) -> int:
        """Customers simulated (initial base plus acquired)."""
        return int(self.customers["acquired"].size)

    def customers_frame(self) -> pd.DataFrame:
        """The per-customer table, with stage, channel, tier and segment as labels."""
        c = self.customers
        df = pd.DataFrame({k: c[k] for k in CUSTOMER_COLUMNS})
        df.insert(0, "customer", np.arange(df.shape[0]))
        df["stage"] = _labels(c["stage"], self.stage_names)
        df["channel"] = _labels(c["channel"], self.channel_names, none="initial")
        df["tier"] = _labels(c["tier"], self.tier_names, none="")
        df["segment"] = _labels(c["segment"], self.segment_names, none="")
        return df

    def retention_frame(self) -> pd.DataFrame:
        """Retention by cohort and age, true and observed, as a tidy table."""
        rows = []
        for c in range(self.retention_total.shape[0]):
            for j, age in enumerate(self.retention_ages):
                n = int(self.retention_total[c, j])
                if n:
                    rows.append(
                        {
                            "cohort_start_day": c * COHORT_DAYS,
                            "age_days": int(age),
                            "customers": n,
                            "true_retention": self.retention_alive[c, j] / n,
                            "observed_retention": self.retention_active[c, j] / n,
                        }
                    )
        return pd.DataFrame(rows, columns=["cohort_start_day", "age_days", "customers", "true_retention", "observed_retention"])


def _labels(codes: np.ndarray, names: list[str], none: str = "") -> np.ndarray:
    lookup = np.array(list(names) + [none], dtype=object)
    return lookup[np.where(codes == NONE, len(names), codes)]


class DailyRecorder:
    """Per-day aggregates, collected without a pass per reporter."""

    def __init__(self, model, *, log_orders: bool = False) -> None:
        self.model = model
        self.log_orders = log_orders
        self._orders: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        S = len(model.graph)
        self.S = S
        self.stage_counts = np.zeros(S, dtype=np.int64)  # kept current by added() and flows()
        self.last_hist = np.zeros(model.days + 1, dtype=np.int64)  # customers by last purchase day
        self.rows: list[dict] = []
        self.flow_days: list[np.ndarray] = []
        ages = np.array([a for a in RETENTION_AGES if a < model.days], dtype=np.int64)
        self.ages = ages
        cohorts = model.days // COHORT_DAYS + 1
        self.ret_total = np.zeros((cohorts, ages.size), dtype=np.int64)
        self.ret_alive = np.zeros((cohorts, ages.size), dtype=np.int64)
        self.ret_active = np.zeros((cohorts, ages.size), dtype=np.int64)
        self.alive_customer_days = 0.0
        self._today: dict = {}
        self._flow = np.zeros((S, S), dtype=np.int64)

    # --- events during the day ----------------------------------------------------------------

    def start_day(self, t: int) -> None:
        """Open a new day's row."""
        ch = len(self.model.channels)
        self._today = {
            "day": t, "orders": 0, "revenue": 0.0, "gross_margin": 0.0, "policy_cost": 0.0,
            "redemptions": 0, "churned": 0, "reactivated": 0,
            "acquired": np.zeros(ch, dtype=np.int64), "acquisition_spend": np.zeros(ch),
        }  # fmt: skip
        self._flow = np.zeros((self.S, self.S), dtype=np.int64)

    def acquired(self, channel: int, count: int, spend: float) -> None:
        """Customers and spend of one channel today."""
        self._today["acquired"][channel] += count
        self._today["acquisition_spend"][channel] += spend

    def orders(self, count: int, revenue: float, margin: float) -> None:
        """Orders booked today."""
        self._today["orders"] += count
        self._today["revenue"] += revenue
        self._today["gross_margin"] += margin

    def order_log(self, idx: np.ndarray, amounts: np.ndarray, t: int, n_orders: np.ndarray) -> None:
        """Keep the orders themselves, if asked to."""
        if self.log_orders:
            self._orders.append((t, np.array(idx), np.array(amounts), np.array(n_orders)))

    def policy_cost(self, amount: float) -> None:
        """Policy money spent today."""
        self._today["policy_cost"] += amount

    def redemptions(self, count: int) -> None:
        """Coupons redeemed today."""
        self._today["redemptions"] += count

    def churned(self, count: int) -> None:
        """Customers entering a churned stage today."""
        self._today["churned"] += count

    def reactivated(self, count: int) -> None:
        """Customers leaving a churned stage today."""
        self._today["reactivated"] += count

    def flows(self, sources: np.ndarray, targets: np.ndarray) -> None:
        """Stage moves made today."""
        S = self.S
        moves = np.bincount(sources.astype(np.int64) * S + targets.astype(np.int64), minlength=S * S).reshape(S, S)
        self._flow += moves
        self.stage_counts += moves.sum(axis=0) - moves.sum(axis=1)

    def added(self, stage: int, count: int) -> None:
        """New customers entering ``stage``."""
        self.stage_counts[stage] += count

    def last_purchases(self, previous: np.ndarray, t: int) -> None:
        """Buyers of day ``t`` whose previous last purchase was on ``previous`` (-1: none)."""
        prev = previous[previous >= 0]
        if prev.size:
            self.last_hist[: t + 1] -= np.bincount(prev, minlength=t + 1)[: t + 1]
        self.last_hist[t] += previous.size

    # --- closing the day ----------------------------------------------------------------------

    def end_day(self, t: int) -> None:
        """Count stages, alive and active customers, and retention at each age reached today."""
        m = self.model
        s = m.state
        n = s.n
        g = m.graph
        stage = s.stage[:n]
        alive = int(n - self.stage_counts[g.churned].sum())
        window = m.config.run.observed_window_days
        last = s.last_purchase[:n]
        cutoff = max(0, t - window + 1)  # active: a purchase on one of the last `window` days
        active = int(self.last_hist[cutoff : t + 1].sum())
        self.alive_customer_days += alive
        row = self._today
        row["customers"] = n
        row["alive"] = alive
        row["observed_active"] = active
        for k, name in enumerate(g.names):
            row[f"stage:{name}"] = int(self.stage_counts[k])
        acq, spend = row.pop("acquired"), row.pop("acquisition_spend")
        for k, name in enumerate(m.channel_names):
            row[f"acquired:{name}"] = int(acq[k])
            row[f"spend:{name}"] = float(spend[k])
        self.rows.append(row)
        self.flow_days.append(self._flow)
        # retention at each tracked age: customers acquired exactly `age` days ago
        acquired = s.acquired[:n]
        for j, age in enumerate(self.ages):
            if age > t:
                break
            lo, hi = rows_on_day(acquired, t - age)
            if hi == lo:
                continue
            cohort = (t - age) // COHORT_DAYS
            st = stage[lo:hi]
            lp = last[lo:hi]
            self.ret_total[cohort, j] += hi - lo
            self.ret_alive[cohort, j] += int(np.count_nonzero(~g.churned[st]))
            self.ret_active[cohort, j] += int(np.count_nonzero(lp >= cutoff))

    def result(self) -> RunResult:
        """Freeze what has been recorded."""
        m = self.model
        s = m.state
        customers = {k: np.array(s.column(k)) for k in CUSTOMER_COLUMNS}
        flows = np.stack(self.flow_days) if self.flow_days else np.zeros((0, self.S, self.S), dtype=np.int64)
        return RunResult(
            scenario=m.config.name,
            seed=m.seed,
            entropy=m.streams.entropy,
            spawn_key=m.streams.spawn_key,
            engine=m.engine,
            days=len(self.rows),
            stage_names=list(m.graph.names),
            churned_stages=[bool(x) for x in m.graph.churned],
            channel_names=list(m.channel_names),
            tier_names=list(m.tier_names),
            segment_names=list(m.segment_names),
            policy_names=[p.name for p in m.policies],
            daily=pd.DataFrame(self.rows),
            customers=customers,
            flows=flows,
            retention_ages=self.ages.copy(),
            retention_total=self.ret_total.copy(),
            retention_alive=self.ret_alive.copy(),
            retention_active=self.ret_active.copy(),
            ledger_rows=m.ledger.rows(),
            policy_costs=m.ledger.policy_cost_by_policy(),
            policy_costs_by_kind=dict(m.ledger.policy_costs),
            channel_spend=m.ledger.channel_spend.copy(),
            channel_customers=m.ledger.channel_customers.copy(),
            alive_customer_days=self.alive_customer_days,
            annual_discount_rate=m.config.run.annual_discount_rate,
            observed_window_days=m.config.run.observed_window_days,
            orders=self._orders_table() if self.log_orders else None,
        )

    def _orders_table(self) -> pd.DataFrame:
        if not self._orders:
            return pd.DataFrame({"day": np.zeros(0, np.int32), "customer": np.zeros(0, np.int64), "amount": np.zeros(0),
                                 "purchases": np.zeros(0, np.int64)})
        return pd.DataFrame({
            "day": np.concatenate([np.full(i.size, t, dtype=np.int32) for t, i, _, _ in self._orders]),
            "customer": np.concatenate([i for _, i, _, _ in self._orders]),
            "amount": np.concatenate([a for _, _, a, _ in self._orders]),
            "purchases": np.concatenate([k for _, _, _, k in self._orders]),
        })  # fmt: skip
