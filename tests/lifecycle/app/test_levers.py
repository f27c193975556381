"""Tests for lifecycle/app/levers.py: the page's controls, built from the policies' own metadata.

The built-in policies, annotated with :func:`sim.policies.base.control`, give exactly the labels,
ranges, choices and help texts the page drew when its levers were hard-coded per policy kind (the
list below was recorded from that code). A policy of one's own gets labelled controls from the
same metadata (nested models, per-tier groups, selections from the scenario's names, a ``title``
as label); a field without metadata gets the generic fallback; ``hidden`` fields get none. Lever
moves become ``Scenario.with_values`` paths.
"""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from lifecycle.app.levers import lever_change, policy_levers, scenario_levers, scenario_names
from lifecycle.app.limits import LeverError
from lifecycle.app.sources import preset_names
from sim.policies import Policy, PolicyParams, Target
from sim.policies.base import control
from sim.scenario import load_scenario

#: (preset, lever id, label, type, min, max, step, choices, help) of every policy lever of the presets,
#: as the page drew them when the levers were hard-coded per policy kind
BUILT_IN_LEVERS = [
    ('five_stage_lifecycle', 'policy:触达频控:max_per_week', 'Contact cap (per customer per week)',
     'SliderInt', 0, 10, 1, (), 'Contacts beyond it are not sent.'),
    ('five_stage_lifecycle', 'policy:触达频控:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('five_stage_lifecycle', 'policy:新客引导:purchase_multiplier', 'Onboarding purchase boost (x)',
     'SliderFloat', 0.5, 2.0, 0.05, (), ''),
    ('five_stage_lifecycle', 'policy:新客引导:churn_multiplier', 'Onboarding churn multiplier',
     'SliderFloat', 0.0, 2.0, 0.05, (), ''),
    ('five_stage_lifecycle', 'policy:新客引导:window_days', 'Onboarding window (days)', 'SliderInt', 1, 100, 1, (), ''),
    ('five_stage_lifecycle', 'policy:新客引导:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('five_stage_lifecycle', 'policy:交叉销售:basket_multiplier', 'Basket multiplier (x)',
     'SliderFloat', 0.5, 2.0, 0.05, (), ''),
    ('five_stage_lifecycle', 'policy:交叉销售:cost_per_order', 'Cost per order', 'SliderFloat', 0.0, 10.0, 0.1, (), ''),
    ('five_stage_lifecycle', 'policy:交叉销售:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('five_stage_lifecycle', 'policy:流失挽回:light_after_days', 'Light warning offer after (days)',
     'SliderInt', 1, 200, 1, (), 'Days without a purchase.'),
    ('five_stage_lifecycle', 'policy:流失挽回:heavy_after_days', 'Heavy warning offer after (days)',
     'SliderInt', 2, 365, 1, (), 'Must be later than the light warning.'),
    ('five_stage_lifecycle', 'policy:流失挽回:light_offer.discount', 'Light offer value (money off)',
     'SliderFloat', 0.0, 100.0, 1.0, (), ''),
    ('five_stage_lifecycle', 'policy:流失挽回:heavy_offer.discount', 'Heavy offer value (money off)',
     'SliderFloat', 0.0, 200.0, 1.0, (), ''),
    ('five_stage_lifecycle', 'policy:流失挽回:rich_tiers', 'Tiers that get rich offers',
     'SelectMultiple', None, None, None, ('高价值', '中价值', '普通', '潜在'), 'Everyone else gets a cheap reminder.'),
    ('five_stage_lifecycle', 'policy:流失挽回:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('four_stage_funnel', 'policy:repurchase_coupon:offer.discount', 'Coupon value (money off)',
     'SliderFloat', 0.0, 100.0, 1.0, (), 'Discount on one order of at least the minimum spend.'),
    ('four_stage_funnel', 'policy:repurchase_coupon:offer.min_spend', 'Minimum order for the coupon',
     'SliderFloat', 0.0, 500.0, 10.0, (), "'Spend X get Y off': X."),
    ('four_stage_funnel', 'policy:repurchase_coupon:send_after_days', 'Send after (days)',
     'SliderInt', 0, 100, 1, (), 'Days after the trigger event.'),
    ('four_stage_funnel', 'policy:repurchase_coupon:offer.purchase_lift', 'Purchase lift while valid (x)',
     'SliderFloat', 0.5, 5.0, 0.05, (), 'Multiplies the purchase rate while valid.'),
    ('four_stage_funnel', 'policy:repurchase_coupon:trigger', 'Trigger',
     'Select', None, None, None, ('first_order', 'repurchase', 'winback'),
     'first order after acquisition, repurchase after the first order, or win-back after silence.'),
    ('four_stage_funnel', 'policy:repurchase_coupon:target.stages', 'Target stages (none = all)',
     'SelectMultiple', None, None, None, ('awareness', 'interest', 'purchase', 'loyalty', 'churned'), ''),
    ('four_stage_funnel', 'policy:repurchase_coupon:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('four_stage_funnel', 'policy:loyal_referrals:bounty', 'Referral bounty',
     'SliderFloat', 0.0, 100.0, 1.0, (), 'Paid per referred customer.'),
    ('four_stage_funnel', 'policy:loyal_referrals:daily_rate', 'Daily chance to refer',
     'SliderFloat', 0.0, 0.02, 0.0005, (), 'Per targeted buyer and day.'),
    ('four_stage_funnel', 'policy:loyal_referrals:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('retail_tiers', 'policy:cap:max_per_week', 'Contact cap (per customer per week)',
     'SliderInt', 0, 10, 1, (), 'Contacts beyond it are not sent.'),
    ('retail_tiers', 'policy:cap:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('retail_tiers', 'policy:repurchase_coupon:offer.discount', 'Coupon value (money off)',
     'SliderFloat', 0.0, 100.0, 1.0, (), 'Discount on one order of at least the minimum spend.'),
    ('retail_tiers', 'policy:repurchase_coupon:offer.min_spend', 'Minimum order for the coupon',
     'SliderFloat', 0.0, 500.0, 10.0, (), "'Spend X get Y off': X."),
    ('retail_tiers', 'policy:repurchase_coupon:send_after_days', 'Send after (days)',
     'SliderInt', 0, 100, 1, (), 'Days after the trigger event.'),
    ('retail_tiers', 'policy:repurchase_coupon:offer.purchase_lift', 'Purchase lift while valid (x)',
     'SliderFloat', 0.5, 5.0, 0.05, (), 'Multiplies the purchase rate while valid.'),
    ('retail_tiers', 'policy:repurchase_coupon:trigger', 'Trigger',
     'Select', None, None, None, ('first_order', 'repurchase', 'winback'),
     'first order after acquisition, repurchase after the first order, or win-back after silence.'),
    ('retail_tiers', 'policy:repurchase_coupon:target.stages', 'Target stages (none = all)',
     'SelectMultiple', None, None, None,
     ('potential', 'activation', 'retention', 'value_add', 'light_warning', 'churn_warning', 'churned'), ''),
    ('retail_tiers', 'policy:repurchase_coupon:target.tiers', 'Target tiers (none = all)',
     'SelectMultiple', None, None, None, ('high', 'mid', 'basic', 'prospect'), ''),
    ('retail_tiers', 'policy:repurchase_coupon:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('retail_tiers', 'policy:loyalty:benefits.high.churn_multiplier', 'high: churn multiplier',
     'SliderFloat', 0.0, 2.0, 0.05, (), 'Below 1: members leave less often.'),
    ('retail_tiers', 'policy:loyalty:benefits.high.purchase_multiplier', 'high: purchase multiplier',
     'SliderFloat', 0.5, 2.0, 0.05, (), 'Above 1: members buy more often.'),
    ('retail_tiers', 'policy:loyalty:benefits.high.cost_share_of_spend', 'high: benefit cost (share of spend)',
     'SliderFloat', 0.0, 0.2, 0.005, (), "What the tier's benefits cost, as a share of the member's spend."),
    ('retail_tiers', 'policy:loyalty:benefits.mid.churn_multiplier', 'mid: churn multiplier',
     'SliderFloat', 0.0, 2.0, 0.05, (), 'Below 1: members leave less often.'),
    ('retail_tiers', 'policy:loyalty:benefits.mid.purchase_multiplier', 'mid: purchase multiplier',
     'SliderFloat', 0.5, 2.0, 0.05, (), 'Above 1: members buy more often.'),
    ('retail_tiers', 'policy:loyalty:benefits.mid.cost_share_of_spend', 'mid: benefit cost (share of spend)',
     'SliderFloat', 0.0, 0.2, 0.005, (), "What the tier's benefits cost, as a share of the member's spend."),
    ('retail_tiers', 'policy:loyalty:benefits.basic.churn_multiplier', 'basic: churn multiplier',
     'SliderFloat', 0.0, 2.0, 0.05, (), 'Below 1: members leave less often.'),
    ('retail_tiers', 'policy:loyalty:benefits.basic.purchase_multiplier', 'basic: purchase multiplier',
     'SliderFloat', 0.5, 2.0, 0.05, (), 'Above 1: members buy more often.'),
    ('retail_tiers', 'policy:loyalty:benefits.basic.cost_share_of_spend', 'basic: benefit cost (share of spend)',
     'SliderFloat', 0.0, 0.2, 0.005, (), "What the tier's benefits cost, as a share of the member's spend."),
    ('retail_tiers', 'policy:loyalty:points_per_unit', 'Points per unit spent',
     'SliderFloat', 0.0, 5.0, 0.5, (), 'Points cost point value x redemption rate.'),
    ('retail_tiers', 'policy:loyalty:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('retail_tiers', 'policy:winback:light_after_days', 'Light warning offer after (days)',
     'SliderInt', 1, 200, 1, (), 'Days without a purchase.'),
    ('retail_tiers', 'policy:winback:heavy_after_days', 'Heavy warning offer after (days)',
     'SliderInt', 2, 365, 1, (), 'Must be later than the light warning.'),
    ('retail_tiers', 'policy:winback:light_offer.discount', 'Light offer value (money off)',
     'SliderFloat', 0.0, 100.0, 1.0, (), ''),
    ('retail_tiers', 'policy:winback:heavy_offer.discount', 'Heavy offer value (money off)',
     'SliderFloat', 0.0, 200.0, 1.0, (), ''),
    ('retail_tiers', 'policy:winback:rich_tiers', 'Tiers that get rich offers',
     'SelectMultiple', None, None, None, ('high', 'mid', 'basic', 'prospect'),
     'Everyone else gets a cheap reminder.'),
    ('retail_tiers', 'policy:winback:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('retail_tiers', 'policy:referral:bounty', 'Referral bounty',
     'SliderFloat', 0.0, 100.0, 1.0, (), 'Paid per referred customer.'),
    ('retail_tiers', 'policy:referral:daily_rate', 'Daily chance to refer',
     'SliderFloat', 0.0, 0.01, 0.0005, (), 'Per targeted buyer and day.'),
    ('retail_tiers', 'policy:referral:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('six_stage_rfm', 'policy:cap:max_per_week', 'Contact cap (per customer per week)',
     'SliderInt', 0, 10, 1, (), 'Contacts beyond it are not sent.'),
    ('six_stage_rfm', 'policy:cap:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('six_stage_rfm', 'policy:onboarding:purchase_multiplier', 'Onboarding purchase boost (x)',
     'SliderFloat', 0.5, 2.0, 0.05, (), ''),
    ('six_stage_rfm', 'policy:onboarding:churn_multiplier', 'Onboarding churn multiplier',
     'SliderFloat', 0.0, 2.0, 0.05, (), ''),
    ('six_stage_rfm', 'policy:onboarding:window_days', 'Onboarding window (days)', 'SliderInt', 1, 100, 1, (), ''),
    ('six_stage_rfm', 'policy:onboarding:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('six_stage_rfm', 'policy:cross_sell_high_value:basket_multiplier', 'Basket multiplier (x)',
     'SliderFloat', 0.5, 2.0, 0.05, (), ''),
    ('six_stage_rfm', 'policy:cross_sell_high_value:cost_per_order', 'Cost per order',
     'SliderFloat', 0.0, 5.0, 0.1, (), ''),
    ('six_stage_rfm', 'policy:cross_sell_high_value:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('six_stage_rfm', 'policy:winback_cant_lose:offer.discount', 'Coupon value (money off)',
     'SliderFloat', 0.0, 200.0, 1.0, (), 'Discount on one order of at least the minimum spend.'),
    ('six_stage_rfm', 'policy:winback_cant_lose:offer.min_spend', 'Minimum order for the coupon',
     'SliderFloat', 0.0, 1000.0, 10.0, (), "'Spend X get Y off': X."),
    ('six_stage_rfm', 'policy:winback_cant_lose:send_after_days', 'Send after (days)',
     'SliderInt', 0, 200, 1, (), 'Days after the trigger event.'),
    ('six_stage_rfm', 'policy:winback_cant_lose:offer.purchase_lift', 'Purchase lift while valid (x)',
     'SliderFloat', 0.5, 5.0, 0.05, (), 'Multiplies the purchase rate while valid.'),
    ('six_stage_rfm', 'policy:winback_cant_lose:trigger', 'Trigger',
     'Select', None, None, None, ('first_order', 'repurchase', 'winback'),
     'first order after acquisition, repurchase after the first order, or win-back after silence.'),
    ('six_stage_rfm', 'policy:winback_cant_lose:target.stages', 'Target stages (none = all)',
     'SelectMultiple', None, None, None, ('acquire', 'activate', 'grow', 'mature', 'churn', 'recall'), ''),
    ('six_stage_rfm', 'policy:winback_cant_lose:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
    ('six_stage_rfm', 'policy:winback_churn_risk:offer.discount', 'Coupon value (money off)',
     'SliderFloat', 0.0, 100.0, 1.0, (), 'Discount on one order of at least the minimum spend.'),
    ('six_stage_rfm', 'policy:winback_churn_risk:offer.min_spend', 'Minimum order for the coupon',
     'SliderFloat', 0.0, 500.0, 10.0, (), "'Spend X get Y off': X."),
    ('six_stage_rfm', 'policy:winback_churn_risk:send_after_days', 'Send after (days)',
     'SliderInt', 0, 200, 1, (), 'Days after the trigger event.'),
    ('six_stage_rfm', 'policy:winback_churn_risk:offer.purchase_lift', 'Purchase lift while valid (x)',
     'SliderFloat', 0.5, 5.0, 0.05, (), 'Multiplies the purchase rate while valid.'),
    ('six_stage_rfm', 'policy:winback_churn_risk:trigger', 'Trigger',
     'Select', None, None, None, ('first_order', 'repurchase', 'winback'),
     'first order after acquisition, repurchase after the first order, or win-back after silence.'),
    ('six_stage_rfm', 'policy:winback_churn_risk:target.stages', 'Target stages (none = all)',
     'SelectMultiple', None, None, None, ('acquire', 'activate', 'grow', 'mature', 'churn', 'recall'), ''),
    ('six_stage_rfm', 'policy:winback_churn_risk:coverage', 'Reach (share of customers)',
     'SliderFloat', 0.0, 1.0, 0.05, (), 'Share of customers the programme can reach.'),
]  # fmt: skip


def _row(lv) -> tuple:
    return (lv.id, lv.label, lv.type, lv.min, lv.max, lv.step, tuple(lv.values), lv.help)


@pytest.mark.parametrize("preset", preset_names())
def test_built_in_policies_give_the_levers_the_page_had(preset):
    sc = load_scenario(preset)
    names = scenario_names(sc.config)
    got = [_row(lv) for p in sc.policies for lv in policy_levers(p, names)]
    expected = [row[1:] for row in BUILT_IN_LEVERS if row[0] == preset]
    assert sorted(got) == sorted(expected)
    assert len({r[0] for r in got}) == len(got), "lever ids are unique"


def test_every_built_in_policy_kind_is_covered():
    kinds = {load_scenario(p).policy(row[1].split(":")[1]).kind for p in preset_names()
             for row in BUILT_IN_LEVERS if row[0] == p}  # fmt: skip
    assert kinds >= {"coupon", "loyalty", "winback", "onboarding", "referral", "cross_sell", "contact_cap"}


def test_levers_carry_the_current_values_and_stretch_for_large_ones():
    sc = load_scenario("retail_tiers").with_values({"policies.repurchase_coupon.offer.discount": 240,
                                                    "policies.repurchase_coupon.send_after_days": 300})
    levers = {lv.id: lv for lv in scenario_levers(sc)}
    discount = levers["policy:repurchase_coupon:offer.discount"]
    assert discount.value == 240 and discount.max == 1000  # 3 x 240, rounded up to a nice number
    days = levers["policy:repurchase_coupon:send_after_days"]
    assert days.value == 300 and days.max == 365, "never beyond the validated maximum (le=365)"
    assert levers["policy:loyalty:benefits.basic.churn_multiplier"].value == 1.0, "a missing entry shows its default"
    assert "policy:loyalty:benefits.prospect.churn_multiplier" not in levers, "no benefit for a tier without threshold"
    assert levers["channel:search:daily_spend"].value == 600.0
    assert levers["tier:high:min_purchases"].value == 6


# --- a policy of one's own -------------------------------------------------------------------------


class Gift(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float = Field(5.0, ge=0, json_schema_extra=control("Gift value", low=0, high=20, step=1))
    wrapping: float = Field(0.5, ge=0)  # not described: no control inside a nested model


class Perk(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    churn_multiplier: float = Field(1.0, ge=0, json_schema_extra=control("churn x", low=0, high=2, step=0.1))


class BirthdayCoupon(Policy):
    """A user policy annotated like the built-in ones (never registered: levers need no registry)."""

    kind = "test_birthday"

    class Params(PolicyParams):
        discount: float = Field(15.0, ge=0, json_schema_extra=control(
            "Birthday discount", low=0, high=50, step=1, help="Money off the birthday order."))
        days_before: int = Field(3, ge=0, le=14, json_schema_extra=control("Send days before", high=7, step=1))
        channel: Literal["email", "sms"] = Field("email", json_schema_extra=control("Sent by"))
        stages: list[str] = Field(default_factory=list, json_schema_extra=control("Only in stages", names="stages"))
        gift: Gift = Field(Gift(), json_schema_extra=control("Gift"))
        extra_gift: Gift = Field(Gift(), json_schema_extra=control(fields={
            "wrapping": control("Extra wrapping", low=0, high=2, step=0.5)}))
        perks: dict[str, Perk] = Field(default_factory=dict, json_schema_extra=control(names="tiers"))
        secret: float = Field(0.3, ge=0, json_schema_extra=control("never shown", hidden=True))
        fee: float = Field(0.2, ge=0, title="Fee per coupon", description="What one coupon costs to send.")
        cards: int = 2  # no metadata at all
        loud: bool = False
        tone: Literal["warm", "plain"] = "warm"
        note: str = "happy birthday"  # a free text: no control

    def apply(self, day) -> None:  # pragma: no cover - not run here
        return None


def test_a_user_policy_gets_labelled_controls_from_its_metadata():
    sc = load_scenario("retail_tiers")
    p = BirthdayCoupon(name="bday", perks={"mid": {"churn_multiplier": 0.5}})
    levers = {lv.id: lv for lv in policy_levers(p, scenario_names(sc.config))}
    got = {k: (lv.label, lv.type, lv.min, lv.max, lv.step, tuple(lv.values), lv.help) for k, lv in levers.items()}
    tiers = tuple(t.name for t in sc.config.tiers)
    assert got == {
        "policy:bday:discount": ("Birthday discount", "SliderFloat", 0.0, 50.0, 1.0, (),
                                 "Money off the birthday order."),
        "policy:bday:days_before": ("Send days before", "SliderInt", 0, 10, 1, (), ""),
        "policy:bday:channel": ("Sent by", "Select", None, None, None, ("email", "sms"), ""),
        "policy:bday:stages": ("Only in stages", "SelectMultiple", None, None, None,
                               tuple(s.name for s in sc.config.stages), ""),
        "policy:bday:gift.value": ("Gift value", "SliderFloat", 0.0, 20.0, 1.0, (), ""),
        "policy:bday:extra_gift.wrapping": ("Extra wrapping", "SliderFloat", 0.0, 2.0, 0.5, (), ""),
        # one group per tier of the scenario (mid has a perk already, so it comes first); the others show the
        # default 1.0, and the slider reaches 3 x the value
        "policy:bday:perks.mid.churn_multiplier": ("mid: churn x", "SliderFloat", 0.0, 2.0, 0.1, (), ""),
        "policy:bday:perks.high.churn_multiplier": ("high: churn x", "SliderFloat", 0.0, 5.0, 0.1, (), ""),
        "policy:bday:perks.basic.churn_multiplier": ("basic: churn x", "SliderFloat", 0.0, 5.0, 0.1, (), ""),
        "policy:bday:perks.prospect.churn_multiplier": ("prospect: churn x", "SliderFloat", 0.0, 5.0, 0.1, (), ""),
        # pydantic's own title and description serve as label and help
        "policy:bday:fee": ("Fee per coupon", "SliderFloat", 0.0, 1.0, 0.01, (), "What one coupon costs to send."),
        # no metadata: the generic fallback
        "policy:bday:cards": ("cards", "SliderInt", 0, 10, 1, (), ""),
        "policy:bday:loud": ("loud", "Checkbox", None, None, None, (), ""),
        "policy:bday:tone": ("tone", "Select", None, None, None, ("warm", "plain"), ""),
        "policy:bday:coverage": ("Reach (share of customers)", "SliderFloat", 0.0, 1.0, 0.05, (),
                                 "Share of customers the programme can reach."),
    }  # fmt: skip
    assert levers["policy:bday:perks.mid.churn_multiplier"].value == 0.5
    assert [lv.owner for lv in levers.values() if lv.path[0] == "perks"] == ["bday"] * len(tiers)
    assert levers["policy:bday:coverage"].group == "test birthday 'bday'"
    order = list(levers)
    assert order[0] == "policy:bday:discount" and order[-1] == "policy:bday:coverage", "own fields, then shared ones"


def test_target_is_a_lever_only_where_a_policy_offers_it():
    sc = load_scenario("retail_tiers")
    names = scenario_names(sc.config)
    assert not [lv for lv in policy_levers(BirthdayCoupon(), names) if lv.path[0] == "target"]

    class Aimed(BirthdayCoupon):
        class Params(BirthdayCoupon.Params):
            target: Target = Field(Target(), json_schema_extra=control("Target"))

    aimed = {lv.id: lv for lv in policy_levers(Aimed(name="a"), names)}
    assert aimed["policy:a:target.stages"].label == "Target stages (none = all)"
    assert aimed["policy:a:target.tiers"].values == tuple(names["tiers"])
    assert "policy:a:target.segments" not in aimed


def test_a_policy_without_any_metadata_gets_the_fallback():
    class Plain(Policy):
        kind = "test_plain"

        class Params(PolicyParams):
            rate: float = Field(0.5, ge=0)
            count: int = Field(4, ge=1)
            label: str = "x"

        def apply(self, day) -> None:  # pragma: no cover
            return None

    levers = policy_levers(Plain(), scenario_names(load_scenario("retail_tiers").config))
    got = [(lv.id, lv.label, lv.type, lv.min, lv.max, lv.step) for lv in levers]
    assert got == [
        ("policy:test_plain:rate", "rate", "SliderFloat", 0.0, 2.0, 0.01),  # 3 x 0.5, rounded up
        ("policy:test_plain:count", "count", "SliderInt", 1, 20, 1),  # from its validated minimum
        ("policy:test_plain:coverage", "Reach (share of customers)", "SliderFloat", 0.0, 1.0, 0.05),
    ]


def test_control_names_must_be_a_known_list():
    with pytest.raises(ValueError, match="stages"):
        control("x", names="stagez")
    assert control("x", hidden=True) == {"control": {"label": "x", "hidden": True}}


# --- lever moves as scenario paths -----------------------------------------------------------------


def test_lever_change_gives_with_values_paths():
    sc = load_scenario("retail_tiers")
    assert lever_change(sc, "policy", "repurchase_coupon", ("offer", "discount"), 30) == {
        "policies.repurchase_coupon.offer.discount": 30}
    # a benefit for a tier that has none yet is given as the whole new entry
    assert lever_change(sc, "policy", "loyalty", ("benefits", "basic", "churn_multiplier"), 0.5) == {
        "policies.loyalty.benefits.basic": {"churn_multiplier": 0.5}}
    assert lever_change(sc, "policy", "loyalty", ("benefits", "high", "churn_multiplier"), 0.5) == {
        "policies.loyalty.benefits.high.churn_multiplier": 0.5}
    assert lever_change(sc, "channel", "search", ("daily_spend",), "250") == {"channels.search.daily_spend": 250.0}
    assert lever_change(sc, "tier", "high", ("min_purchases",), 4.6) == {"tiers.high.min_purchases": 5}
    new = sc.with_values(lever_change(sc, "policy", "loyalty", ("benefits", "basic", "churn_multiplier"), 0.5))
    assert new.policy("loyalty").params.benefits["basic"].churn_multiplier == 0.5
    for bad in (("policy", "nobody", ("x",), 1), ("channel", "tv", ("daily_spend",), 1),
                ("channel", "search", ("daily_spend",), -1), ("tier", "high", ("min_referrals",), 1),
                ("rocket", "x", ("y",), 1)):
        with pytest.raises(LeverError):
            lever_change(sc, *bad)
