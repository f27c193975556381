"""Money balances (sim/ledger.py, sim/records.py): every unit recorded once, totals reconcile.

Revenue (list price), gross margin, policy costs (coupon discounts included, never netted out of
revenue) and acquisition spend must agree between the ledger, the per-customer table, the daily
table and the ledger rows: per customer, per channel, per policy and overall. Sums of up to a few
hundred thousand float64 terms agree to far better than the relative 1e-9 used throughout.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.scenario import load_scenario
from sim.model import CustomerModel
from sim.policies import Coupon
from sim.state import NONE
from tests.sim.conftest import make_scenario

REL = 1e-9  # float64 summation-order error of the sums compared here is below 1e-12 relative


@pytest.fixture(scope="module", params=["agent", "vector"])
def preset_run(request):
    """The default preset (all its policies, channels and tiers) on a short run of each engine."""
    engine = request.param
    n0, days = (3000, 120) if engine == "vector" else (600, 60)
    model = CustomerModel(load_scenario("retail_tiers"), engine=engine, customers=n0, days=days)
    return model, model.run()


def _ledger_amount(result, account: str, item: str) -> float:
    rows = [r["amount"] for r in result.ledger_rows if r["account"] == account and r["item"] == item]
    assert len(rows) <= 1
    return rows[0] if rows else 0.0


def test_ledger_reconciles_with_the_customers(preset_run):
    """Ledger.reconcile finds per-customer money equal to the ledger totals."""
    model, result = preset_run
    diffs = model.ledger.reconcile(model.state)
    assert set(diffs) >= {"revenue", "margin", "policy_cost", "acquisition"}
    for item, diff in diffs.items():
        assert diff < REL, item
    assert result.customers["revenue"].sum() > 0 and result.customers["policy_cost"].sum() > 0


def test_revenue_and_margin_agree_across_tables(preset_run):
    """Daily revenue sums to the ledger revenue and to the per-customer revenue; margin is its fixed share."""
    model, r = preset_run
    c, d = r.customers, r.daily
    revenue = _ledger_amount(r, "sales", "revenue")
    margin = _ledger_amount(r, "sales", "gross_margin")
    assert d["revenue"].sum() == pytest.approx(revenue, rel=REL)
    assert c["revenue"].sum() == pytest.approx(revenue, rel=REL)
    assert d["gross_margin"].sum() == pytest.approx(margin, rel=REL)
    assert c["margin"].sum() == pytest.approx(margin, rel=REL)
    np.testing.assert_allclose(c["margin"], model.margin_rate * c["revenue"], rtol=1e-12, atol=1e-9)
    assert int(d["orders"].sum()) == int(c["purchases"].sum())
    assert np.all(c["revenue"][c["purchases"] == 0] == 0)
    assert np.all(c["revenue"][c["purchases"] > 0] > 0)


def test_policy_costs_agree_per_policy_kind_customer_and_day(preset_run):
    """Policy costs by policy, by kind, in the ledger rows, per customer and per day are one set of numbers."""
    _, r = preset_run
    by_policy = r.policy_costs
    assert set(by_policy) == set(r.policy_names)
    for name in r.policy_names:
        kinds = {k: v for (p, k), v in r.policy_costs_by_kind.items() if p == name}
        assert sum(kinds.values()) == pytest.approx(by_policy[name], rel=REL, abs=1e-12)
        for kind, amount in kinds.items():
            assert _ledger_amount(r, f"policy:{name}", kind) == pytest.approx(amount, rel=REL)
            assert amount >= 0
    total = sum(by_policy.values())
    assert r.customers["policy_cost"].sum() == pytest.approx(total, rel=REL)
    assert r.daily["policy_cost"].sum() == pytest.approx(total, rel=REL)
    # the preset's referral bounty (30) is booked once per referral, to the referrer
    bounties = r.policy_costs_by_kind[("referral", "bounty")]
    assert bounties == pytest.approx(30.0 * r.customers["referrals"].sum(), rel=REL)


@pytest.mark.parametrize("name", ["repurchase_coupon", "loyalty", "winback", "referral", "cap"])
def test_each_policy_alone_books_its_costs_to_its_customers(name):
    """Run alone, each preset policy's total equals the per-customer policy_cost sum."""
    sc = load_scenario("retail_tiers")
    (policy,) = [p for p in sc.policies if p.name == name]
    model = CustomerModel(sc, engine="vector", customers=2000, days=120, policies=[policy])
    r = model.run()
    assert list(r.policy_costs) == [name]
    assert r.customers["policy_cost"].sum() == pytest.approx(r.policy_costs[name], rel=REL, abs=1e-12)
    assert model.ledger.reconcile(model.state)["policy_cost"] < REL
    if name != "cap":
        assert r.policy_costs[name] > 0


def test_channel_spend_is_attributed_to_customers_or_kept_unattributed(preset_run):
    """Per channel: spend = daily spend = customers' acquisition costs + unattributed; counts agree too."""
    model, r = preset_run
    c, d = r.customers, r.daily
    for k, ch in enumerate(model.channels):
        spend = float(r.channel_spend[k])
        assert spend == pytest.approx(ch.daily_spend * r.days, rel=REL)
        assert d[f"spend:{ch.name}"].sum() == pytest.approx(spend, rel=REL)
        assert _ledger_amount(r, f"channel:{ch.name}", "spend") == pytest.approx(spend, rel=REL)
        mine = c["channel"] == k
        unattributed = _ledger_amount(r, f"channel:{ch.name}", "unattributed")
        assert c["acquisition_cost"][mine].sum() + unattributed == pytest.approx(spend, rel=REL, abs=1e-9)
        assert int(mine.sum()) == int(r.channel_customers[k]) == int(d[f"acquired:{ch.name}"].sum())
        # a day's spend is shared equally by that day's customers of the channel
        for day in np.unique(c["acquired"][mine]):
            same = mine & (c["acquired"] == day)
            share = c["acquisition_cost"][same]
            assert np.all(share == share[0])
            assert share.sum() == pytest.approx(d[f"spend:{ch.name}"].iloc[day], rel=REL)
    assert np.all(c["acquisition_cost"][c["channel"] == NONE] == 0)  # the initial base cost nothing
    referral = model.channel_index["referral"]
    assert np.all(c["acquisition_cost"][c["channel"] == referral] == 0)


def test_spend_on_days_without_customers_is_unattributed(engine):
    """A channel that brings nobody on some days keeps exactly that spend as unattributed."""
    sc = make_scenario(channels=[{"name": "rare", "daily_spend": 10.0, "cac": 20.0, "saturation": 5.0}])
    model = CustomerModel(sc, engine=engine, customers=100, days=60)
    r = model.run()
    empty_days = int((r.daily["acquired:rare"] == 0).sum())
    assert 10 < empty_days < 60  # expected about 0.5 customers a day: many empty days, many not
    assert _ledger_amount(r, "channel:rare", "unattributed") == pytest.approx(10.0 * empty_days, rel=REL)
    assert model.ledger.reconcile(model.state)["acquisition"] < REL


@pytest.mark.parametrize("order_noise", [False, True])
def test_discount_never_exceeds_the_order_value(engine, order_noise):
    """A coupon worth more than the order costs exactly the order value, once, and revenue stays at list price."""
    customers = {"purchase_rate": 0.1, "basket_value": 100.0, "churn_hazard": 0.0}
    if order_noise:
        customers["order_value_shape"] = 2.0  # orders vary around 100: some below, some above 150
    sc = make_scenario(customers=customers)
    coupon = Coupon(trigger="repurchase", send_after_days=1,
                    offer={"discount": 150.0, "min_spend": 0.0, "valid_days": 20, "send_cost": 0.0})  # fmt: skip
    model = CustomerModel(sc, engine=engine, customers=500, days=50, policies=[coupon])
    s = model.state
    redemptions = 0
    for t in range(model.days):
        n = s.n
        revenue0, cost0, until0 = s.revenue[:n].copy(), s.policy_cost[:n].copy(), s.offer_until[:n].copy()
        purchases0 = s.purchases[:n].copy()
        model.step()
        bought = s.purchases[:n] > purchases0
        held = (until0 >= t) | (s.contacts[t % 7, :n] > 0)  # a valid offer, or one sent this morning
        redeemed = bought & held & (s.offer_until[:n] == NONE)
        d_revenue, d_cost = s.revenue[:n] - revenue0, s.policy_cost[:n] - cost0
        np.testing.assert_allclose(d_cost[redeemed], np.minimum(150.0, d_revenue[redeemed]), rtol=1e-6)
        assert np.all(d_cost[~redeemed] == 0)
        assert int(model.result().daily["redemptions"].iloc[-1]) == int(redeemed.sum())
        redemptions += int(redeemed.sum())
    r = model.result()
    assert redemptions > 100
    assert np.all(r.customers["policy_cost"] <= r.customers["revenue"] + 1e-9)
    discounts = r.policy_costs_by_kind[("coupon", "discount")]
    assert discounts == pytest.approx(r.customers["policy_cost"].sum(), rel=REL)
    if not order_noise:  # the discount is a cost, never netted out of list-price revenue
        np.testing.assert_array_equal(r.customers["revenue"], 100.0 * r.customers["purchases"])
        assert r.policy_costs["coupon"] == pytest.approx(100.0 * redemptions, rel=REL)


def test_undiscounted_value_is_margin_minus_policy_costs(engine):
    """With a zero discount rate each customer's value is exactly margin minus policy costs."""
    sc = load_scenario("retail_tiers")
    data = sc.config.model_copy(update={"run": sc.config.run.model_copy(update={"annual_discount_rate": 0.0})})
    sc0 = sc.__class__(config=data, policies=sc.policies, source="preset, no discounting")
    r = CustomerModel(sc0, engine=engine, customers=500, days=60).run()
    c = r.customers
    np.testing.assert_allclose(c["value"], c["margin"] - c["policy_cost"], rtol=1e-9, atol=1e-9)
    assert c["policy_cost"].sum() > 0


@pytest.mark.parametrize("engine", ["agent", "vector"])
def test_policy_costs_by_replica_add_up_to_the_ledger(engine):
    """A world of 3 replicas (sim.replicas): each policy's costs by replica add up to its ledger total,
    and each replica's share is what its own customers were charged."""
    from sim.replicas import replica_of, scaled

    sc = scaled(load_scenario("retail_tiers"), 3)
    model = CustomerModel(sc, engine=engine, customers=900, days=90, replicas=3)
    result = model.run()
    by_policy = result.policy_costs
    assert model.policy_cost_by_replica.shape == (len(model.policies), 3)
    for i, name in enumerate(model.ledger.policy_names):
        assert model.policy_cost_by_replica[i].sum() == pytest.approx(by_policy.get(name, 0.0), rel=REL, abs=1e-9)
    n = model.state.n
    rep = replica_of(model.streams, model.state.uid[:n], 3)
    per_customer = np.bincount(rep, weights=result.customers["policy_cost"], minlength=3)
    assert np.allclose(model.policy_cost_by_replica.sum(axis=0), per_customer, rtol=REL)
    assert np.all(np.bincount(rep, minlength=3) > 0.25 * n)  # customers spread over the replicas
