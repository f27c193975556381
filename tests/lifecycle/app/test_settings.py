"""Tests for lifecycle/app/settings.py and ``CustomerModel.follow``: lever values as scenarios, live.

A setting is the scenario with the trainer's values, made only through ``Scenario.with_values``;
refused values name the path and change nothing. Models get their own copies of the policies. A
running model follows a new setting through ``CustomerModel.follow`` alone (the page writes no
model internals): new spend from the next day, re-tiered customers, changed policies swapped in
place, all or nothing; following an unchanged scenario changes no result.
"""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.app.limits import LeverError
from lifecycle.app.settings import Setting, apply_live, build_model, fresh
from sim.model import CustomerModel
from sim.scenario import load_scenario

RUN = dict(seed=7, customers=300, days=60, engine="agent")


@pytest.fixture(scope="module")
def base():
    return load_scenario("retail_tiers")


def test_a_setting_is_the_scenario_with_values(base):
    s = Setting.from_scenario(base)
    assert s.scenario is base and list(s.policies) == list(base.policies)
    assert s.channel_spend["search"] == 600.0 and s.tiers["high"] == {"min_annual_spend": 10000.0, "min_purchases": 6}
    t = s.with_value("channel", "search", ("daily_spend",), 100).with_value("tier", "high", ("min_purchases",), 4)
    t = t.with_value("policy", "loyalty", ("benefits", "basic", "churn_multiplier"), 0.7)
    assert t.channel_spend["search"] == 100.0 and t.tiers["high"]["min_purchases"] == 4
    assert t.policy("loyalty").params.benefits["basic"].churn_multiplier == 0.7
    assert t.scenario.config.channels[0].daily_spend == 100.0 and t.scenario.source == base.source
    assert s.channel_spend["search"] == 600.0 and "basic" not in s.policy("loyalty").params.benefits, "unchanged"
    assert t.scenario == base.with_values({"channels.search.daily_spend": 100, "tiers.high.min_purchases": 4,
                                           "policies.loyalty.benefits.basic": {"churn_multiplier": 0.7}},
                                          source=base.source)


def test_refused_values_name_the_path(base):
    s = Setting.from_scenario(base)
    with pytest.raises(LeverError, match=r"policies\.winback.*heavy_after_days"):
        s.with_value("policy", "winback", ("light_after_days",), 200)
    with pytest.raises(LeverError, match=r"policies\.referral.*bounty"):
        s.with_value("policy", "referral", ("bounty",), -1)
    with pytest.raises(LeverError, match="daily spend"):
        s.with_value("channel", "search", ("daily_spend",), "lots")
    with pytest.raises(LeverError, match="no policy named"):
        s.policy("nobody")


def test_build_model_gives_each_model_its_own_policies(base):
    s = Setting.from_scenario(base)
    a, b = build_model(s, **RUN), build_model(s, **RUN)
    for p, q, r in zip(a.policies, b.policies, sorted(base.policies, key=lambda x: x.priority)):
        assert p == q == r and p is not q and p is not r
    assert fresh(base.policies[0]) == base.policies[0] and fresh(base.policies[0]) is not base.policies[0]


def _digest(model) -> tuple:
    r = model.result()
    return (r.daily.to_csv(), r.customers["value"].tobytes(), r.customers["tier"].tobytes())


def test_following_an_unchanged_scenario_changes_nothing(base):
    plain, followed = build_model(Setting(base), **RUN), build_model(Setting(base), **RUN)
    for day in range(40):
        if day in (5, 20):
            followed.follow(base.with_policies(fresh(p) for p in base.policies))
        plain.step()
        followed.step()
    assert _digest(plain) == _digest(followed)


def test_follow_takes_spend_thresholds_and_policies_from_the_next_day(base):
    model = build_model(Setting(base), **RUN)
    for _ in range(5):
        model.step()
    before = list(model.policies)
    new = base.with_values({"channels.search.daily_spend": 0, "tiers.high.min_annual_spend": 0,
                            "tiers.high.min_purchases": 1, "tiers.high.min_referrals": 0,
                            "policies.repurchase_coupon.offer.discount": 35})
    model.follow(new.with_policies(fresh(p) for p in new.policies))
    k = model.channel_index["search"]
    assert model.channels[k].daily_spend == 0 and model.config.channels[k].daily_spend == 0
    assert model.segmenter.tier_min_spend[model.tier_index["high"]] == 0
    buyers = np.flatnonzero(model.state.purchases[: model.state.n] > 0)
    assert (model.state.tier[buyers] == model.tier_index["high"]).all(), "re-tiered at once"
    coupon = next(p for p in model.policies if p.name == "repurchase_coupon")
    assert coupon.params.offer.discount == 35 and model.policies.index(coupon) == before.index(
        next(p for p in before if p.name == "repurchase_coupon"))
    assert model.policy_id(coupon) == model.policies.index(coupon)
    arrived = model.ledger.channel_customers[k]
    for _ in range(5):
        model.step()
    assert model.ledger.channel_customers[k] == arrived, "no spend, no customers"


def test_follow_is_all_or_nothing(base):
    model = build_model(Setting(base), **RUN)
    model.step()
    state = (model.config, model.scenario, list(model.policies), list(model.channels), model.segmenter)
    other = base.with_values({"customers.gross_margin": 0.5, "channels.search.daily_spend": 0})
    with pytest.raises(ValueError, match="differs in more"):
        model.follow(other)
    fewer = base.with_policies(p for p in base.policies if p.name != "referral")
    with pytest.raises(ValueError, match="same policies"):
        model.follow(fewer)
    assert (model.config, model.scenario, list(model.policies), list(model.channels), model.segmenter) == state
    model.step()


def test_apply_live_goes_through_follow_only(base, monkeypatch):
    model = build_model(Setting(base), **RUN)
    seen = []
    monkeypatch.setattr(CustomerModel, "follow", lambda self, sc: seen.append(sc))
    new = Setting(base).with_value("channel", "search", ("daily_spend",), 10)
    apply_live(model, new)
    assert len(seen) == 1 and seen[0].config == new.scenario.config
    assert all(p == q and p is not q for p, q in zip(seen[0].policies, new.policies)), "fresh copies"
    monkeypatch.setattr(CustomerModel, "follow", lambda self, sc: (_ for _ in ()).throw(ValueError("no")))
    with pytest.raises(LeverError, match="no"):
        apply_live(model, new)
