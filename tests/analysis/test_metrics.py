"""Metric definitions in analysis/metrics.py against hand-computed values and closed forms.

Tiny constructed results pin each definition's boundaries exactly (activation window, repurchase
horizon eligibility, retention pooling, CAC and LTV/CAC, ROI). Small runs of constant-trait
scenarios check the simulated metrics against closed forms within 4 standard errors.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.metrics import (
    activation_rate,
    cac,
    churn_rate_monthly,
    ltv,
    ltv_cac,
    policy_roi,
    repurchase_rate,
    retention_at,
    retention_curve,
    summarize,
)
from sim.model import CustomerModel
from sim.state import NONE
from tests.sim.conftest import ENGINES, make_scenario

N = NONE


def _result(days: int, **columns) -> SimpleNamespace:
    """A hand-built result: the given per-customer columns, everything else empty."""
    size = len(next(iter(columns.values())))
    customers = {k: np.asarray(v) for k, v in columns.items()}
    customers.setdefault("channel", np.zeros(size, dtype=np.int16))
    return SimpleNamespace(days=days, customers=customers)


# --- activation and repurchase ------------------------------------------------------------------


def test_activation_counts_purchases_within_the_window_among_customers_old_enough():
    """Activation: first purchase on acquisition day .. day+29, among acquired customers with 30 days observed."""
    r = _result(
        40,
        channel=[N, 0, 0, 0, 0, 1, 1],
        acquired=[0, 0, 0, 10, 10, 11, 5],
        first_purchase=[5, 29, 30, 39, N, 11, 5],
    )
    # the initial base (channel -1) is not acquired; acquired on day 11 has only 29 days (11..39)
    # eligible: rows 1, 2, 3, 4, 6; hits: row 1 (day 29), row 3 (29 days after 10), row 6 (same day)
    m = activation_rate(r)
    assert (m.value, m.n) == (pytest.approx(3 / 5), 5)
    assert m.se == pytest.approx(math.sqrt(0.6 * 0.4 / 5))
    m7 = activation_rate(r, window=7)  # all six acquired rows are observed 7 days; hits: rows 5 and 6
    assert (m7.value, m7.n) == (pytest.approx(2 / 6), 6)


def test_repurchase_rate_uses_only_buyers_observed_for_the_whole_horizon():
    """Repurchase within H: a second purchase at most H days after the first, among buyers observed H days."""
    r = _result(
        40,
        first_purchase=[0, 0, 32, 33, 10, N],
        second_purchase=[7, 8, 39, 34, N, N],
    )
    # last day is 39: eligible first purchases are on days <= 32 (rows 0, 1, 2, 4)
    m = repurchase_rate(r, 7)
    assert (m.value, m.n) == (pytest.approx(2 / 4), 4)
    empty = repurchase_rate(r, 40)
    assert (empty.value, empty.se, empty.n) == (None, None, 0)


# --- retention ----------------------------------------------------------------------------------


def test_retention_pools_cohorts_at_each_tracked_age():
    """Retention at an age pools the cohorts' counts; an untracked age has no value."""
    r = SimpleNamespace(
        retention_ages=np.array([0, 7, 30]),
        retention_total=np.array([[10, 10, 10], [5, 5, 0]]),
        retention_alive=np.array([[10, 8, 6], [5, 4, 0]]),
        retention_active=np.array([[9, 3, 2], [5, 1, 0]]),
    )
    assert retention_at(r, 7).value == pytest.approx(12 / 15)
    assert retention_at(r, 7, "observed").value == pytest.approx(4 / 15)
    assert retention_at(r, 30).n == 10 and retention_at(r, 30).value == pytest.approx(0.6)
    assert retention_at(r, 14).value is None
    curve = retention_curve(r)
    assert list(curve["age_days"]) == [0, 7, 30]
    np.testing.assert_allclose(curve["retention"], [15 / 15, 12 / 15, 6 / 10])


@pytest.mark.parametrize("engine", ENGINES)
def test_true_retention_follows_the_constant_hazard(engine):
    """With daily hazard h, the share alive at the end of day k after acquisition is (1-h)^(k+1), within 4 se."""
    h = 0.01
    sc = make_scenario(
        run={"days": 61, "seed": 31},
        customers={"purchase_rate": 0.05, "churn_hazard": h},
        channels=[{"name": "ads", "daily_spend": 200.0, "cac": 10.0, "saturation": 30.0}],
    )
    n0 = 3000 if engine == "vector" else 500
    r = CustomerModel(sc, engine=engine, customers=n0).run()
    for age in (0, 7, 30, 60):
        m = retention_at(r, age)
        p = (1 - h) ** (age + 1)  # churn can strike on the acquisition day itself
        assert abs(m.value - p) < 4 * math.sqrt(p * (1 - p) / m.n), (age, m)
        assert m.n > n0  # the initial base and the channel's customers are pooled


# --- churn --------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_monthly_churn_recovers_the_daily_hazard(engine):
    """Monthly churn of a constant daily hazard h is 1-(1-h)^30, within 4 of its standard errors."""
    # h is large so that an exposure counted at the wrong time of day (a bias of h / (1 - h), 5%)
    # would lie about 12 se away at the vector engine's size (about 48,000 churn events)
    h = 0.05
    sc = make_scenario(customers={"purchase_rate": 0.05, "churn_hazard": h})
    n0 = 50000 if engine == "vector" else 2000
    r = CustomerModel(sc, engine=engine, customers=n0, days=60).run()
    m = churn_rate_monthly(r)
    expected = 1 - (1 - h) ** 30
    assert abs(m.value - expected) < 4 * m.se, (m, expected)


# --- LTV ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_ltv_equals_the_discounted_expected_margin(engine):
    """Mean LTV of a constant-rate cohort equals the discounted expected margin, within 4 se."""
    # closed form: sum over days t of (1-h)^(t+1) * (1 - e^-rate) * basket * margin * e^(-delta t)
    rate, basket, margin, h, annual, days = 0.05, 100.0, 0.3, 0.01, 1.0, 120
    sc = make_scenario(
        run={"days": days, "seed": 17, "annual_discount_rate": annual},
        customers={"purchase_rate": rate, "basket_value": basket, "churn_hazard": h, "gross_margin": margin},
    )
    n0 = 20000 if engine == "vector" else 1500
    r = CustomerModel(sc, engine=engine, customers=n0).run()
    delta = math.log1p(annual) / 365
    t = np.arange(days)
    per_day = (1 - h) ** (t + 1) * -math.expm1(-rate) * basket * margin
    expected = float((per_day * np.exp(-delta * t)).sum())
    undiscounted = float(per_day.sum())
    m = ltv(r)
    assert m.n == n0
    assert abs(m.value - expected) < 4 * m.se, (m, expected)
    if engine == "vector":  # at this size the check discriminates: no discounting is ~14 se off
        assert abs(m.value - undiscounted) > 4 * m.se


def test_ltv_nets_policy_costs_and_restricts_to_a_mask():
    """LTV is the mean of per-customer value over the masked customers, with its sample se."""
    r = _result(10, value=np.array([10.0, 20.0, 30.0, -5.0]), channel=[N, 0, 0, 1])
    m = ltv(r)
    assert m.value == pytest.approx(13.75) and m.n == 4
    assert m.se == pytest.approx(np.std([10, 20, 30, -5], ddof=1) / 2)
    sub = ltv(r, np.array([False, True, True, False]))
    assert sub.value == pytest.approx(25.0) and sub.n == 2


# --- CAC, LTV/CAC and ROI -----------------------------------------------------------------------


def test_cac_is_spend_over_customers_overall_and_per_channel():
    """CAC = spend / customers acquired, overall and per channel; None without customers."""
    r = SimpleNamespace(
        channel_spend=np.array([600.0, 0.0, 50.0]),
        channel_customers=np.array([12, 3, 0]),
        customers={"channel": np.array([N, 0, 0, 1]), "value": np.array([100.0, 200.0, 100.0, 40.0])},
    )
    assert cac(r).value == pytest.approx(650.0 / 15) and cac(r).n == 15
    assert cac(r, 0).value == pytest.approx(50.0)
    assert cac(r, 1).value == pytest.approx(0.0)  # referred customers: no acquisition spend
    assert cac(r, 2).value is None
    # LTV/CAC: mean value of acquired customers (not the initial base) over CAC
    assert ltv_cac(r).value == pytest.approx((200.0 + 100.0 + 40.0) / 3 / (650.0 / 15))
    assert ltv_cac(r, 0).value == pytest.approx(150.0 / 50.0)
    assert ltv_cac(r, 1).value is None  # zero CAC: the ratio is undefined


def test_cac_of_a_run_matches_its_daily_table():
    """A run's CAC equals its total daily spend over its total daily acquisitions."""
    sc = make_scenario(channels=[
        {"name": "a", "daily_spend": 300.0, "cac": 20.0, "saturation": 20.0},
        {"name": "b", "daily_spend": 100.0, "cac": 50.0, "saturation": 5.0},
    ])  # fmt: skip
    r = CustomerModel(sc, engine="vector", customers=100).run()
    d = r.daily
    spend = d["spend:a"].sum() + d["spend:b"].sum()
    customers = d["acquired:a"].sum() + d["acquired:b"].sum()
    assert cac(r).value == pytest.approx(spend / customers, rel=1e-12)
    assert cac(r, 1).value == pytest.approx(d["spend:b"].sum() / d["acquired:b"].sum(), rel=1e-12)
    assert cac(r).value == pytest.approx(400.0 * r.days / int((r.customers["channel"] >= 0).sum()), rel=1e-12)


def test_policy_roi_is_incremental_margin_net_of_cost_over_cost():
    """ROI = (incremental margin - policy cost) / policy cost, None when the policy cost nothing."""
    with_ = _result(10, margin=np.array([600.0, 400.0]), policy_cost=np.array([30.0, 20.0]))
    without = _result(10, margin=np.array([500.0, 300.0]), policy_cost=np.array([0.0, 0.0]))
    out = policy_roi(with_, without)
    assert out["incremental_margin"] == pytest.approx(200.0)
    assert out["policy_cost"] == pytest.approx(50.0)
    assert out["roi"] == pytest.approx((200.0 - 50.0) / 50.0)
    assert policy_roi(without, without)["roi"] is None


def test_summary_of_a_run_is_consistent_with_its_tables():
    """summarize() reports totals equal to the run's tables and net contribution as their balance."""
    sc = make_scenario(channels=[{"name": "a", "daily_spend": 300.0, "cac": 20.0, "saturation": 20.0}])
    r = CustomerModel(sc, engine="vector", customers=500).run()
    s = summarize(r)["metrics"]
    c = r.customers
    assert s["revenue"] == pytest.approx(c["revenue"].sum())
    assert s["acquisition_spend"] == pytest.approx(r.channel_spend.sum())
    net = c["margin"].sum() - c["policy_cost"].sum() - r.channel_spend.sum()
    assert s["net_contribution"] == pytest.approx(net)
    final = r.daily.iloc[-1]
    assert s["stage_counts_final"] == {k: int(final[f"stage:{k}"]) for k in r.stage_names}
    assert s["activation_rate"] == activation_rate(r).value
    assert isinstance(r.daily, pd.DataFrame)
