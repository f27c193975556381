"""Acceptance tests of the built-in policies in sim/policies/, on both engines.

Each policy is checked three ways against a run of the same scenario and seed without it:

- exactly, by stepping the model: whom the policy touched today (offers, contacts, today's
  multipliers in ``state.mod_*``), read against the state at the start of the day;
- its money: the costs recorded per customer, per policy and per kind add up to what it did, and
  customers outside its target cost nothing;
- statistically, the direction of its effect: the two runs differ in the claimed direction by more
  than 4 standard errors of the difference (independent binomial shares or Poisson counts; the
  runs share seeds, which only makes the true standard error smaller), while quantities outside
  the target stay within 4 standard errors.

With constant traits and no order-value noise, every order of a customer whose basket nobody
scales is exactly its basket value, which turns several money checks into exact identities.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.model import CustomerModel
from sim.policies import ContactCap, Coupon, CrossSell, Loyalty, Onboarding, Referral, WinBack
from sim.state import NONE
from tests.sim.conftest import effective_mod, make_scenario, start_of_day

TWO_CHANNELS = [
    {"name": "ads", "daily_spend": 300.0, "cac": 10.0, "saturation": 15.0},
    {"name": "organic", "daily_spend": 300.0, "cac": 10.0, "saturation": 15.0},
]
BASE_STEPS = [  # the base scenario's transitions (see conftest), with lapsing after 20 days
    {"from": "new", "to": "active", "rule": "event", "min_purchases": 1},
    {"from": "active", "to": "lapsed", "rule": "time", "after_days": 20, "since": "last_purchase"},
    {"from": "lapsed", "to": "active", "rule": "event", "min_purchases": 1},
    {"from": "new", "to": "churned", "rule": "churn"},
    {"from": "active", "to": "churned", "rule": "churn"},
    {"from": "lapsed", "to": "churned", "rule": "churn"},
    {"from": "churned", "to": "active", "rule": "policy"},
]
# initial customers of the direction tests: the agent engine is ~50x slower, so its runs are
# smaller; every effect below was sized to stay beyond ~8 standard errors at the smaller size
SIZE = {
    "winback": {"vector": 3000, "agent": 600},
    "loyalty": {"vector": 4000, "agent": 500},
    "onboarding": {"vector": 4000, "agent": 800},
    "fatigue": {"vector": 3000, "agent": 600},
}


def _diff_se_shares(p1: float, n1: int, p2: float, n2: int) -> float:
    """Standard error of the difference of two independent binomial shares."""
    return math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)


def _assert_share_higher(hits1, n1, hits0, n0):
    """Share 1 exceeds share 0 by more than 4 standard errors of the difference."""
    p1, p0 = hits1 / n1, hits0 / n0
    assert p1 - p0 > 4 * _diff_se_shares(p1, n1, p0, n0), (p1, n1, p0, n0)


def _assert_share_same(hits1, n1, hits0, n0):
    """Shares 1 and 0 agree within 4 standard errors of the difference."""
    p1, p0 = hits1 / n1, hits0 / n0
    assert abs(p1 - p0) < 4 * _diff_se_shares(p1, n1, p0, n0) + 1e-12, (p1, n1, p0, n0)


def _contacted_today(model, t: int, n: int) -> np.ndarray:
    """Customers among the first ``n`` contacted on day ``t`` (the ring slot was cleared this morning)."""
    return model.state.contacts[t % 7, :n] > 0


# --- coupons ------------------------------------------------------------------------------------


def _coupon_scenario():
    # about 13 customers a day per channel; a low purchase rate leaves room for the coupons' lift
    return make_scenario(
        run={"days": 75, "seed": 21},
        population={"initial_customers": 0, "initial_stage": "new"},
        customers={"purchase_rate": 0.02, "basket_value": 120.0, "churn_hazard": 0.005},
        channels=TWO_CHANNELS,
    )


def _coupon(trigger: str) -> Coupon:
    after = {"first_order": 3, "repurchase": 5, "winback": 20}[trigger]
    offer = {"discount": 20.0, "min_spend": 100.0, "valid_days": 14, "purchase_lift": 5.0, "send_cost": 0.05}
    extra = {}
    if trigger == "winback":
        offer.update(purchase_lift=2.0, reactivation=0.1)
        extra["reactivate_to"] = "active"
    return Coupon(name="coupon", trigger=trigger, send_after_days=after, offer=offer,
                  target={"channels": ["ads"]}, **extra)  # fmt: skip


def _coupon_due(model, policy: Coupon, t: int) -> np.ndarray:
    """Who the coupon should reach today, from the state at the start of the day."""
    s, n, p = model.state, model.state.n, policy.params
    purchases = s.purchases[:n]
    alive = ~model.graph.churned[s.stage[:n]]
    if p.trigger == "first_order":
        due = (purchases == 0) & (t - s.acquired[:n] == p.send_after_days) & alive
    elif p.trigger == "repurchase":
        due = (purchases == 1) & (t - s.first_purchase[:n] == p.send_after_days) & alive
    else:  # the firm cannot see latent churn: win-back coupons go to churned holders too
        due = (purchases >= 1) & (t - s.last_purchase[:n] == p.send_after_days)
    return due & (s.channel[:n] == model.channel_index["ads"]) & (s.offer_until[:n] < t)


@pytest.mark.parametrize("trigger", ["first_order", "repurchase", "winback"])
def test_coupon_reaches_only_its_target_on_the_trigger_day(engine, trigger):
    """A channel-targeted coupon goes out on its trigger day to targeted customers only, at its recorded cost."""
    policy = _coupon(trigger)
    model = CustomerModel(_coupon_scenario(), engine=engine, policies=[policy])
    s = model.state
    sent = 0
    for t in range(model.days):
        n = s.n
        due = _coupon_due(model, policy, t)
        model.step()
        np.testing.assert_array_equal(_contacted_today(model, t, n), due)
        assert not np.any(_contacted_today(model, t, s.n)[n:])  # nobody arriving today
        assert np.all(s.offer_policy[:n][due] == 0)
        sent += int(due.sum())
    r = model.result()
    ads = r.customers["channel"] == model.channel_index["ads"]
    assert sent > 100
    assert np.all(r.customers["policy_cost"][~ads] == 0)
    assert np.all(s.offer_policy[: s.n][~ads] == NONE)
    redeemed = int(r.daily["redemptions"].sum())
    assert redeemed > 20
    # each send costs send_cost; each redemption costs the discount (orders of 120 >= min spend 100)
    expected = 0.05 * sent + 20.0 * redeemed
    assert r.policy_costs["coupon"] == pytest.approx(expected, rel=1e-9)
    assert r.customers["policy_cost"].sum() == pytest.approx(expected, rel=1e-9)
    assert r.policy_costs_by_kind[("coupon", "discount")] == pytest.approx(20.0 * redeemed, rel=1e-9)


def _activated(c, mask, days, window=30):
    """Among ``mask`` customers acquired at least ``window`` days before the end: (first buys within window, n)."""
    eligible = mask & (c["acquired"] + window <= days)
    fp = c["first_purchase"][eligible]
    hits = np.count_nonzero((fp != NONE) & (fp - c["acquired"][eligible] < window))
    return int(hits), int(eligible.sum())


def _repurchased(c, mask, days, horizon=30):
    """Among ``mask`` first-time buyers observable for ``horizon`` days: (second purchase within horizon, n)."""
    fp, sp = c["first_purchase"], c["second_purchase"]
    eligible = mask & (fp != NONE) & (fp + horizon <= days - 1)
    hits = np.count_nonzero(eligible & (sp != NONE) & (sp - fp <= horizon))
    return int(hits), int(eligible.sum())


@pytest.mark.parametrize("trigger", ["first_order", "repurchase", "winback"])
def test_coupon_moves_its_target_in_the_claimed_direction(engine, trigger):
    """Each coupon raises its target's activation, repurchase or re-activation; other customers do not change."""
    sc = _coupon_scenario()
    with_ = CustomerModel(sc, engine=engine, policies=[_coupon(trigger)]).run()
    without = CustomerModel(sc, engine=engine, policies=[]).run()
    assert without.policy_costs == {} and without.customers["policy_cost"].sum() == 0
    ch = {name: k for k, name in enumerate(with_.channel_names)}
    c1, c0 = with_.customers, without.customers
    ads1, ads0 = c1["channel"] == ch["ads"], c0["channel"] == ch["ads"]
    org1, org0 = c1["channel"] == ch["organic"], c0["channel"] == ch["organic"]
    if trigger == "first_order":  # activation within 30 days: 0.45 without, about 0.8 with
        _assert_share_higher(*_activated(c1, ads1, with_.days), *_activated(c0, ads0, without.days))
        _assert_share_same(*_activated(c1, org1, with_.days), *_activated(c0, org0, without.days))
    elif trigger == "repurchase":  # a second order within 18 days (the coupon's days 5-18): 0.30 vs 0.77
        h = 18
        _assert_share_higher(*_repurchased(c1, ads1, with_.days, h), *_repurchased(c0, ads0, without.days, h))
        _assert_share_same(*_repurchased(c1, org1, with_.days, h), *_repurchased(c0, org0, without.days, h))
    else:
        back = int(c1["reactivations"][ads1].sum())
        assert int(c0["reactivations"].sum()) == 0  # only a policy can bring a churned customer back
        assert back > 16  # a count of 0 is more than 4 Poisson standard errors (sqrt(16)) below it
        assert int(c1["reactivations"][org1].sum()) == 0
        assert with_.flows[:, 3, 1].sum() == back  # back to reactivate_to = 'active'


# --- win-back -----------------------------------------------------------------------------------


def _winback() -> WinBack:
    return WinBack(
        light_after_days=20,
        heavy_after_days=35,
        rich_tiers=["rich"],
        reactivate_to="active",
        light_offer={"discount": 20.0, "min_spend": 150.0, "valid_days": 14, "purchase_lift": 4.0,
                     "send_cost": 0.1},
        heavy_offer={"discount": 50.0, "min_spend": 200.0, "valid_days": 21, "purchase_lift": 6.0,
                     "reactivation": 0.05, "send_cost": 0.1},
        reminder={"discount": 0.0, "min_spend": 0.0, "valid_days": 14, "purchase_lift": 4.0,
                  "reactivation": 0.01, "send_cost": 0.01},
    )  # fmt: skip


def _winback_scenario():
    # the light warning offer goes out on the day a customer lapses (20 days without a purchase)
    return make_scenario(
        run={"days": 90, "seed": 8},
        customers={"purchase_rate": 0.05, "basket_value": 250.0, "churn_hazard": 0.01},
        tiers=[{"name": "rich", "min_purchases": 3}, {"name": "basic", "min_purchases": 1}],
        transitions=BASE_STEPS,
    )


def test_winback_grades_offers_by_warning_level_and_tier(engine):
    """Light offers at 20 days, heavy at 35, rich offers only for the rich tier, reminders for the rest."""
    policy = _winback()
    model = CustomerModel(_winback_scenario(), engine=engine, customers=600, policies=[policy])
    s = model.state
    rich_code = model.tier_index["rich"]
    counts = {"light": 0, "heavy": 0, "reminder": 0}
    for t in range(model.days):
        n = s.n
        since = t - s.last_purchase[:n]
        bought = s.purchases[:n] > 0
        free = s.offer_until[:n] < t
        rich = s.tier[:n] == rich_code
        light = bought & (since == 20) & free
        heavy = bought & (since == 35) & free
        model.step()
        np.testing.assert_array_equal(_contacted_today(model, t, n), light | heavy)
        disc = s.offer_discount[:n]
        assert np.all(disc[light & rich] == 20.0) and np.all(disc[heavy & rich] == 50.0)
        assert np.all(disc[(light | heavy) & ~rich] == 0.0)
        counts["light"] += int((light & rich).sum())
        counts["heavy"] += int((heavy & rich).sum())
        counts["reminder"] += int(((light | heavy) & ~rich).sum())
    assert min(counts.values()) > 10, counts


def test_winback_reactivates_and_wakes_more_customers_than_no_policy(engine):
    """Win-back re-activates churned customers and brings lapsed ones back, at a cost recorded in policy_costs."""
    sc = _winback_scenario()
    n0 = SIZE["winback"][engine]
    with_ = CustomerModel(sc, engine=engine, customers=n0, policies=[_winback()]).run()
    without = CustomerModel(sc, engine=engine, customers=n0, policies=[]).run()
    active, lapsed, churned = 1, 2, 3
    back1, back0 = with_.flows[:, churned, active].sum(), without.flows[:, churned, active].sum()
    assert back0 == 0 and back1 > 16  # 0 lies more than 4 Poisson se (sqrt(16)) below any count > 16
    assert int(with_.customers["reactivations"].sum()) == back1
    # dormant customers wake (lapsed -> active) at a higher daily rate: events per customer-day
    # spent lapsed, compared as two Poisson rates (se of a rate: sqrt(events) / exposure)
    rates = []
    for r in (with_, without):
        events = int(r.flows[:, lapsed, active].sum())
        exposure = int(r.daily["stage:lapsed"].to_numpy()[:-1].sum())  # lapsed at the start of a day
        rates.append((events / exposure, math.sqrt(events) / exposure))
    (r1, se1), (r0, se0) = rates
    assert r1 - r0 > 4 * math.hypot(se1, se0), rates
    cost = with_.policy_costs["winback"]
    assert cost > 0
    assert cost == pytest.approx(with_.customers["policy_cost"].sum(), rel=1e-9)
    kinds = {k: v for (p, k), v in with_.policy_costs_by_kind.items() if p == "winback"}
    assert kinds["contact"] > 0 and kinds["discount"] > 0
    assert sum(kinds.values()) == pytest.approx(cost, rel=1e-12)
    never_bought = with_.customers["purchases"] == 0
    assert np.all(with_.customers["policy_cost"][never_bought] == 0)  # win-back only addresses buyers


# --- loyalty ------------------------------------------------------------------------------------


def _loyalty_scenario():
    return make_scenario(
        run={"days": 90, "seed": 3},
        customers={"purchase_rate": 0.1, "basket_value": 100.0, "churn_hazard": 0.02},
        tiers=[{"name": "gold", "min_purchases": 3}, {"name": "silver", "min_purchases": 1}, {"name": "prospect"}],
    )


def _loyalty() -> Loyalty:
    # 'prospect' holds only customers who never bought: loyalty is for buyers, so its benefit is void
    return Loyalty(points_per_unit=1.0, point_value=0.01, redemption_rate=0.5,
                   benefits={"gold": {"churn_multiplier": 0.3, "cost_share_of_spend": 0.05},
                             "prospect": {"purchase_multiplier": 2.0}})  # fmt: skip


def test_loyalty_benefits_only_its_tier_at_the_recorded_cost(engine):
    """Only gold buyers get their benefit, never non-buyers; points cost on every order, the share on gold orders."""
    model = CustomerModel(_loyalty_scenario(), engine=engine, customers=800, policies=[_loyalty()])
    s = model.state
    gold = model.tier_index["gold"]
    for t in range(model.days):
        n = s.n
        member = (~model.graph.churned[s.stage[:n]]) & (s.purchases[:n] > 0) & (s.tier[:n] == gold)
        before = start_of_day(model)
        model.step()
        alive = ~model.graph.churned[before["stage"]]  # multipliers of lost customers are moot
        churn = effective_mod(model, "churn", before)
        np.testing.assert_allclose(churn[alive], np.where(member, 0.3, 1.0)[alive], rtol=1e-6)
        assert np.all(effective_mod(model, "purchase", before)[alive] == 1.0)
        assert np.all(effective_mod(model, "basket", before)[alive] == 1.0)
    c = model.result().customers
    # points: 100 per order * 1 point * 0.01 * 0.5 redeemed = 0.5; benefit: 5% of 100 on each order
    # placed while gold, i.e. from the 4th purchase on (tiers are refreshed after the day's orders)
    expected = 0.5 * c["purchases"] + 5.0 * np.maximum(c["purchases"] - 3, 0)
    np.testing.assert_allclose(c["policy_cost"], expected, rtol=1e-12, atol=1e-9)
    assert c["policy_cost"].sum() == pytest.approx(model.result().policy_costs["loyalty"], rel=1e-9)


def test_loyalty_charges_no_benefit_on_a_first_order_in_a_tier_open_to_non_buyers(engine):
    """'prospect' (no minimums) holds exactly the customers who never bought; a benefit cost share
    there would be charged on first orders, for a benefit nobody received. It is not."""
    costly = Loyalty(points_per_unit=0.0,
                     benefits={"prospect": {"purchase_multiplier": 2.0, "cost_share_of_spend": 0.2},
                               "silver": {"cost_share_of_spend": 0.1}})  # fmt: skip
    c = CustomerModel(_loyalty_scenario(), engine=engine, customers=800, policies=[costly]).run().customers
    assert (c["purchases"] > 0).sum() > 100  # many first orders were placed in 'prospect'
    # silver (1 or 2 earlier purchases) pays 10 % of 100 on the 2nd and 3rd orders; nothing else
    expected = 10.0 * np.clip(c["purchases"] - 1, 0, 2)
    np.testing.assert_allclose(c["policy_cost"], expected, rtol=1e-12, atol=1e-9)


def test_loyalty_lowers_churn_of_the_benefited_tier_only(engine):
    """Gold customers churn less with the loyalty benefit; silver customers churn as before."""
    sc = _loyalty_scenario()
    n0 = SIZE["loyalty"][engine]
    c1 = CustomerModel(sc, engine=engine, customers=n0, policies=[_loyalty()]).run().customers
    c0 = CustomerModel(sc, engine=engine, customers=n0, policies=[]).run().customers

    def churned_share(c, mask):
        return int(np.count_nonzero(c["stage"][mask] == 3)), int(mask.sum())

    gold1, gold0 = c1["purchases"] >= 3, c0["purchases"] >= 3
    silver1 = (c1["purchases"] >= 1) & (c1["purchases"] < 3)
    silver0 = (c0["purchases"] >= 1) & (c0["purchases"] < 3)
    hits1, n1 = churned_share(c1, gold1)
    hits0, n0_ = churned_share(c0, gold0)
    _assert_share_higher(hits0, n0_, hits1, n1)
    _assert_share_same(*churned_share(c1, silver1), *churned_share(c0, silver0))


# --- onboarding ---------------------------------------------------------------------------------


def _onboarding() -> Onboarding:
    return Onboarding(window_days=14, contact_days=[1, 3, 7], contact_cost=0.1, purchase_multiplier=2.5,
                      churn_multiplier=0.2)  # fmt: skip


def _onboarding_scenario():
    # early churn 1-0.98^13 = 0.23 without vs 0.05 with; early repurchase 0.48 vs 0.80
    return make_scenario(run={"days": 60, "seed": 4}, customers={"purchase_rate": 0.05, "churn_hazard": 0.02})


def test_onboarding_acts_only_inside_its_window(engine):
    """Onboarding boosts new buyers only inside its window and contacts them on the contact days, at their cost."""
    model = CustomerModel(_onboarding_scenario(), engine=engine, customers=800, policies=[_onboarding()])
    s = model.state
    contacts = 0
    for t in range(model.days):
        n = s.n
        fp = s.first_purchase[:n]
        age = t - fp
        window = (fp != NONE) & (age < 14) & ~model.graph.churned[s.stage[:n]]
        due = window & np.isin(age, [1, 3, 7])
        before = start_of_day(model)
        model.step()
        alive = ~model.graph.churned[before["stage"]]  # multipliers of lost customers are moot
        purchase = effective_mod(model, "purchase", before)
        churn = effective_mod(model, "churn", before)
        np.testing.assert_allclose(purchase[alive], np.where(window, 2.5, 1.0)[alive], rtol=1e-6)
        np.testing.assert_allclose(churn[alive], np.where(window, 0.2, 1.0)[alive], rtol=1e-6)
        np.testing.assert_array_equal(_contacted_today(model, t, n), due)
        contacts += int(due.sum())
    r = model.result()
    assert contacts > 500
    assert r.policy_costs["onboarding"] == pytest.approx(0.1 * contacts, rel=1e-9)
    assert np.all(r.customers["policy_cost"][r.customers["purchases"] == 0] == 0)


def test_onboarding_raises_early_repurchase_and_lowers_early_churn(engine):
    """With onboarding, more first-time buyers buy again and fewer churn within the window."""
    sc = _onboarding_scenario()
    n0 = SIZE["onboarding"][engine]
    c1 = CustomerModel(sc, engine=engine, customers=n0, policies=[_onboarding()]).run().customers
    c0 = CustomerModel(sc, engine=engine, customers=n0, policies=[]).run().customers
    days = sc.config.run.days
    # second purchase within 13 days of the first (all inside the 14-day window)
    _assert_share_higher(*_repurchased(c1, np.ones(c1["stage"].size, bool), days, 13),
                         *_repurchased(c0, np.ones(c0["stage"].size, bool), days, 13))  # fmt: skip

    def early_churn(c):
        fp, fc = c["first_purchase"], c["first_churn"]
        eligible = (fp != NONE) & (fp + 14 <= days)
        hits = eligible & (fc != NONE) & (fc > fp) & (fc < fp + 14)
        return int(hits.sum()), int(eligible.sum())

    _assert_share_higher(*early_churn(c0), *early_churn(c1))


# --- referral -----------------------------------------------------------------------------------


def _referral_scenario():
    return make_scenario(
        run={"days": 40, "seed": 6},
        customers={"purchase_rate": 0.1, "churn_hazard": 0.005},
        channels=[{"name": "referral", "daily_spend": 0.0, "cac": 30.0, "saturation": 1.0,
                   "purchase_multiplier": 2.0}],
    )  # fmt: skip


def test_referral_brings_customers_through_its_channel_and_pays_bounties(engine):
    """Targeted buyers refer at the daily rate; referrals arrive next day through the channel, one bounty each."""
    rate, bounty = 0.02, 15.0
    policy = Referral(daily_rate=rate, bounty=bounty, channel="referral", target={"stages": ["active"]})
    model = CustomerModel(_referral_scenario(), engine=engine, customers=1000, policies=[policy])
    s = model.state
    active, k = model.graph.index["active"], model.channel_index["referral"]
    trials = 0
    referred_yesterday = 0
    total = 0
    for t in range(model.days):
        n = s.n
        eligible = (s.stage[:n] == active) & (s.purchases[:n] > 0)
        before = s.referrals[:n].copy()
        model.step()
        referrers = s.referrals[:n] > before
        assert np.all(eligible[referrers]), "a customer outside the target referred someone"
        assert np.all(s.referrals[:n] - before <= 1)
        assert int(model.result().daily[f"acquired:{model.channel_names[k]}"].iloc[-1]) == referred_yesterday
        referred_yesterday = int(referrers.sum())
        total += referred_yesterday
        trials += int(eligible.sum())
    r = model.result()
    c = r.customers
    # referrals are a sum of Bernoulli(rate) trials over eligible customer-days
    assert abs(total - rate * trials) < 4 * math.sqrt(trials * rate * (1 - rate))
    assert int(c["referrals"].sum()) == total
    arrived = c["channel"] == k
    assert int(arrived.sum()) == total - referred_yesterday  # the last day's referrals arrive after the run
    assert np.all(c["acquisition_cost"][arrived] == 0) and np.all(c["rate"][arrived] == np.float32(0.2))
    np.testing.assert_allclose(c["policy_cost"], bounty * c["referrals"], rtol=0, atol=1e-9)
    assert r.policy_costs_by_kind[("referral", "bounty")] == pytest.approx(bounty * total, rel=1e-12)
    without = CustomerModel(_referral_scenario(), engine=engine, customers=1000, policies=[]).run()
    assert int(np.count_nonzero(without.customers["channel"] == k)) == 0
    assert total > 100


# --- cross-sell ---------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["channel", "stage"])
def test_cross_sell_lifts_targeted_baskets_only_and_charges_each_lifted_order(engine, by):
    """Targeted orders are lifted by basket_multiplier and charged cost_per_order; other orders are untouched."""
    basket, mult, fee = 100.0, 1.5, 0.5
    if by == "channel":
        sc = make_scenario(run={"days": 60, "seed": 9}, customers={"purchase_rate": 0.08}, channels=TWO_CHANNELS,
                           population={"initial_customers": 0, "initial_stage": "new"})  # fmt: skip
        target = {"channels": ["ads"]}
    else:  # 'active' is entered and left by rules that fire on purchases and on lapsing
        # regression: the fee used to follow the stage after the day's move, not the lifted order
        sc = make_scenario(
            run={"days": 60, "seed": 9},
            customers={"purchase_rate": 0.08},
            transitions=[
                {"from": "new", "to": "active", "rule": "event", "min_purchases": 1},
                {"from": "active", "to": "lapsed", "rule": "time", "after_days": 10, "since": "last_purchase"},
                {"from": "lapsed", "to": "active", "rule": "event", "min_purchases": 1},
                {"from": "new", "to": "churned", "rule": "churn"},
                {"from": "active", "to": "churned", "rule": "churn"},
                {"from": "lapsed", "to": "churned", "rule": "churn"},
            ],
        )
        target = {"stages": ["active"]}
    policy = CrossSell(basket_multiplier=mult, cost_per_order=fee, target=target)
    model = CustomerModel(sc, engine=engine, customers=500, policies=[policy])
    s = model.state
    ads = model.channel_index.get("ads")
    for _ in range(model.days):
        before = start_of_day(model)
        n = before["n"]
        targeted = before["stage"] == 1 if by == "stage" else s.channel[:n] == ads
        targeted &= ~model.graph.churned[before["stage"]]
        model.step()
        basket_mod = effective_mod(model, "basket", before)
        alive = ~model.graph.churned[before["stage"]]  # multipliers of lost customers are moot
        np.testing.assert_allclose(basket_mod[alive], np.where(targeted, mult, 1.0)[alive], rtol=1e-6)
    c = model.result().customers
    lifted_orders = (c["revenue"] - basket * c["purchases"]) / (basket * (mult - 1))
    np.testing.assert_allclose(lifted_orders, np.round(lifted_orders), atol=1e-6)
    assert lifted_orders.sum() > 100 and (c["purchases"] - lifted_orders).sum() > 100
    np.testing.assert_allclose(c["policy_cost"], fee * lifted_orders, rtol=0, atol=1e-6)
    if by == "channel":
        ads = c["channel"] == 0
        np.testing.assert_allclose(lifted_orders[ads], c["purchases"][ads])
        assert np.all(lifted_orders[~ads] == 0)
    without = CustomerModel(sc, engine=engine, customers=500, policies=[]).run().customers
    np.testing.assert_allclose(without["revenue"], basket * without["purchases"])


# --- contact cap --------------------------------------------------------------------------------


def _noisy_onboarding() -> Onboarding:
    """Onboarding that only contacts: every day of the first week, no boost."""
    return Onboarding(window_days=10, contact_days=[1, 2, 3, 4, 5, 6, 7], contact_cost=0.1,
                      purchase_multiplier=1.0, churn_multiplier=1.0)  # fmt: skip


def _fatigue_scenario():
    return make_scenario(
        run={"days": 40, "seed": 10},
        customers={"purchase_rate": 0.1, "churn_hazard": 0.01, "fatigue_contacts_per_week": 2,
                   "fatigue_churn_multiplier": 10.0},
    )  # fmt: skip


def test_contact_cap_keeps_weekly_contacts_at_most_the_cap(engine):
    """A cap of 2 holds every 7-day window to 2 contacts, only contacts made are paid, and nobody tires."""
    # with the cap at the fatigue threshold, customers behave exactly as without the policy
    sc = _fatigue_scenario()
    # listed after the policy it constrains: its priority 0 must still make it act first
    policies = [_noisy_onboarding(), ContactCap(max_per_week=2)]
    model = CustomerModel(sc, engine=engine, customers=600, policies=policies)
    s = model.state
    made = 0
    for t in range(model.days):
        model.step()
        weekly = s.contacts[:, : s.n].sum(axis=0)
        assert weekly.max() <= 2
        made += int(s.contacts[t % 7, : s.n].sum())
    r = model.result()
    assert made > 500
    assert r.policy_costs["onboarding"] == pytest.approx(0.1 * made, rel=1e-9)
    assert r.policy_costs["contact_cap"] == 0.0
    plain = CustomerModel(sc, engine=engine, customers=600, policies=[]).run()
    cols = [c for c in r.daily.columns if c != "policy_cost"]
    assert r.daily[cols].equals(plain.daily[cols])
    for key in ("stage", "purchases", "first_churn", "revenue"):
        np.testing.assert_array_equal(r.customers[key], plain.customers[key])


def test_over_contact_without_a_cap_raises_churn(engine):
    """Without a cap, contacts beyond the fatigue threshold raise churn above the no-policy run."""
    sc = _fatigue_scenario()
    n0 = SIZE["fatigue"][engine]
    model = CustomerModel(sc, engine=engine, customers=n0, policies=[_noisy_onboarding()])
    worst = 0
    for _ in range(model.days):
        model.step()
        worst = max(worst, int(model.state.contacts[:, : model.state.n].sum(axis=0).max()))
    assert worst == 7
    churn1 = int(model.result().daily["churned"].sum())
    churn0 = int(CustomerModel(sc, engine=engine, customers=n0, policies=[]).run().daily["churned"].sum())
    assert churn1 - churn0 > 4 * math.sqrt(churn1 + churn0)  # difference of two Poisson counts


# --- regression: re-activation needs a target stage -----------------------------------------------


def test_offer_without_reactivate_to_is_refused():
    """An offer that can re-activate churned customers needs reactivate_to: refused at construction."""
    # regression: such offers used to move churned holders to stage -1 (found by the contract
    # suite with WinBack's former default offers)
    certain = {"discount": 0.0, "min_spend": 0.0, "valid_days": 10, "purchase_lift": 1.0, "reactivation": 1.0}
    with pytest.raises(ValueError, match="reactivate_to is not set"):
        WinBack(light_after_days=3, heavy_after_days=6, heavy_offer=certain, reminder=certain)
    with pytest.raises(ValueError, match="reactivate_to is not set"):
        Coupon(trigger="winback", send_after_days=5, offer=certain)