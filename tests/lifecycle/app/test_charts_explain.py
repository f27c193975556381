"""Tests for lifecycle/app/charts.py and lifecycle/app/explain.py: figures draw the aggregates they are given.

Each figure's ``data`` is checked against the run it was drawn from (stage counts, flows, money);
the dot view switches to the aggregate view above the documented limit; names from an uploaded
scenario are escaped; every preset stage and policy type has an explain text. A 120-day run of
400 customers is shared by the module.
"""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.app import charts as C
from lifecycle.app import explain as X
from lifecycle.app.controller import Controller
from lifecycle.app.limits import DOT_VIEW_LIMIT
from lifecycle.app.sources import preset_names
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def snap():
    c = Controller("retail_tiers", customers=400, days=120)
    c.step(120)
    return c.snapshot()


def test_stage_populations_draw_the_daily_stage_counts(snap):
    r = snap.result
    fig = C.stage_populations(r)
    assert fig.kind == "stages" and 'data-day="120"' in fig.markup
    for name in r.stage_names:
        x, y = fig.data["series"][name]
        assert np.array_equal(y, r.daily[f"stage:{name}"].to_numpy())
        assert x[0] == 1 and x[-1] == 120
    assert fig.caption.startswith("Day 120: ")
    from_mesa = C.stage_populations(r, snap.stages)  # the model's mesa.DataCollector: the same numbers
    for name in r.stage_names:
        assert np.array_equal(from_mesa.data["series"][name][1], fig.data["series"][name][1])
    total = sum(int(part.rsplit(" ", 1)[1].replace(",", "")) for part in fig.caption[len("Day 120: "):].split(" · "))
    assert total == r.n_customers, "the caption's stage counts add up to the population"


@pytest.mark.parametrize("period", C.FLOW_PERIODS)
def test_flows_sum_the_moves_of_the_period(snap, period):
    r = snap.result
    fig = C.stage_flows(r, period)
    expected = r.flows[-period:].sum(axis=0)
    np.fill_diagonal(expected, 0)
    assert np.array_equal(fig.data["matrix"], expected)
    assert sum(v for _, _, v in fig.data["edges"]) == expected.sum() or len(fig.data["edges"]) == 24
    assert fig.markup.count("<path") == len(fig.data["edges"])


def test_money_and_profit_follow_the_ledger(snap):
    r = snap.result
    d = r.daily
    acq = d[[c for c in d.columns if c.startswith("spend:")]].sum(axis=1).to_numpy()
    profit = C.cumulative_profit([("A", r, "#000")])
    _, y = profit.data["series"]["A"]
    assert y[-1] == pytest.approx((d["gross_margin"] - d["policy_cost"]).sum() - acq.sum())
    m = C.money(r)
    _, rev = m.data["series"]["revenue"]
    assert rev[0] == pytest.approx(d["revenue"].iloc[0]) and rev.size == len(d)


def test_ltv_cac_history_and_target_line(snap):
    fig = C.ltv_cac([("A", list(snap.history), "#000")])
    x, y = fig.data["series"]["A"]
    last = snap.history[-1]
    assert x[-1] == 120 and y[-1] == pytest.approx(last["ltv_cac"])
    assert "target 3" in fig.markup
    from analysis.metrics import ltv_cac

    assert last["ltv_cac"] == pytest.approx(ltv_cac(snap.result).value), "same definition as analysis.metrics"


def test_cohort_retention_and_comparison_curves(snap):
    fig = C.cohort_retention(snap.result)
    assert "all cohorts" in fig.data["series"]
    _, y = fig.data["series"]["all cohorts"]
    assert np.all((0 <= y) & (y <= 1))
    cmp = C.retention_compare([("A", snap.result, "#000"), ("B", snap.result, "#f00")])
    assert set(cmp.data["series"]) == {"A", "B"}


def test_dot_view_switches_to_aggregate_above_the_limit():
    names, churned = ["new", "active", "gone"], [False, False, True]
    small = C.customer_dots(np.array([0, 1, 1, 2] * 25), names, churned, day=3)
    assert small.data["mode"] == "dots" and small.markup.startswith("<img") and 'data-customers="100"' in small.markup
    assert small.data["counts"] == {"new": 25, "active": 50, "gone": 25}
    at_limit = C.customer_dots(np.zeros(DOT_VIEW_LIMIT, dtype=np.int16), names, churned)
    assert at_limit.data["mode"] == "dots"
    big = C.customer_dots(np.r_[np.zeros(DOT_VIEW_LIMIT, np.int16), np.ones(DOT_VIEW_LIMIT, np.int16)], names, churned)
    assert big.data["mode"] == "aggregate" and sum(big.data["squares"].values()) == 200
    assert big.data["squares"] == {"new": 100, "active": 100, "gone": 0}
    assert f"above {DOT_VIEW_LIMIT:,}" in big.caption


def test_scenario_names_are_escaped():
    evil = '<script>alert(1)</script>"'
    fig = C.customer_dots(np.array([0, 0, 1]), [evil, "b"], [False, False])
    legend = C.stage_legend([evil, "b"], [False, False], {evil: 2}, {evil: evil})
    line = C.line_chart("x", evil, [{"label": evil, "x": np.arange(3), "y": np.arange(3), "color": "#000"}], day=1)
    for markup in (fig.markup, legend, line.markup):
        assert "<script>" not in markup


def test_empty_runs_say_what_to_do():
    c = Controller("four_stage_funnel", customers=50, days=10)
    r = c.snapshot().result
    for fig in (C.stage_populations(r), C.stage_flows(r), C.money(r), C.cohort_retention(r)):
        assert fig.markup.startswith("<svg") and fig.caption


def test_every_preset_stage_and_policy_has_an_explanation():
    for name in preset_names():
        sc = load_scenario(name)
        title, text = X.framework_text(sc)
        assert title and len(text.split()) <= 90, "slide-sized"
        for stage in sc.config.stages:
            t = X.stage_text(sc, stage.name)
            assert t and len(t.split()) <= 90, (name, stage.name, t)
        for p in sc.policies:
            assert p.kind in X.POLICIES, p.kind
            assert p.name in X.policy_text(p)


def test_stage_text_reads_the_rules_of_an_uploaded_scenario():
    sc = load_scenario("retail_tiers")
    text = X.stage_text(sc, "activation")
    assert "'retention' 30 days after first purchase" in text and "hidden churn" in text
    assert X.stage_text(sc, "no such stage") == ""


def test_policy_now_describes_current_parameters():
    sc = load_scenario("retail_tiers")
    coupon = next(p for p in sc.policies if p.kind == "coupon")
    assert "spend 100 get 20 off" in X.policy_now(coupon)
    rebuilt = type(coupon)(name=coupon.name, **{**coupon.get_params(), "offer": {"discount": 35, "min_spend": 150}})
    assert "spend 150 get 35 off" in X.policy_now(rebuilt)


def test_policy_now_of_a_policy_of_ones_own_reads_its_lever_labels():
    from pydantic import Field

    from sim.policies import Policy, PolicyParams
    from sim.policies.base import control

    class Gift(Policy):
        """A small gift."""

        kind = "test_gift"

        class Params(PolicyParams):
            value: float = Field(5.0, ge=0, json_schema_extra=control("Gift value", high=20, step=1))
            secret: float = Field(1.0, json_schema_extra=control(hidden=True))

        def apply(self, day) -> None:  # pragma: no cover - not run here
            return None

    assert X.policy_now(Gift(value=7)) == "Now: Gift value 7."
    assert X.policy_text(Gift()).startswith("test_gift 'test_gift': A small gift.")


def test_projector_restyling_enlarges_text_darkens_it_and_uses_okabe_ito_for_stages():
    """Every font at least MIN_FONT, grey text black, stage colours swapped for Okabe-Ito in one pass."""
    from lifecycle.app.charts.projector import MIN_FONT, OKABE_ITO, PROJECTOR_GREYS, for_projector, projector_palette

    names, churned = ["a", "b", "gone1", "gone2", "gone3", "gone4"], [False, False, True, True, True, True]
    assert projector_palette(names, churned) == [OKABE_ITO[0], OKABE_ITO[1], *PROJECTOR_GREYS]
    normal = C.stage_colors(names, churned)
    markup = "".join(f'<rect fill="{c}"/>' for c in normal) + '<text font-size="10" fill="#555">t</text>'
    out = for_projector(markup, names, churned)
    assert [f'fill="{c}"' in out for c in projector_palette(names, churned)] == [True] * 6
    assert out.count('fill="#222222"') == 1, "a colour already swapped is not swapped again"
    assert f'font-size="{MIN_FONT}"' in out and 'fill="#000"' in out and "#555" not in out
    assert 'font-size="30"' in for_projector('<text font-size="30">big</text>'), "large text stays large"
