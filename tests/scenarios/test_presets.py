"""Tests for the shipped presets (scenarios/presets/*.toml): each loads, runs and keeps the books.

Every preset is run small (1,500 customers, 120 days, vector engine, fixed seed) and checked for
invariants rather than exact numbers: customers are conserved day by day and across stage flows,
money reconciles between customers and the ledger, nobody buys while churned, and stage names
(including the Chinese ones of ``five_stage_lifecycle``) come back unchanged in every output.
Presets that make quantitative claims in their comments are checked against them on larger runs:
the funnel's 3 days / 30% / 15%, and the Markov preset's closed form.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.markov import discounted_value, expected_occupancy
from analysis.metrics import summarize
from scenarios.loader import DEFAULT_PRESET, presets
from sim.scenario import load_scenario
from sim.model import CustomerModel
from sim.state import NONE

PRESETS = sorted(presets())
SMALL_CUSTOMERS = 1500
SMALL_DAYS = 120
SEED = 20240601
# four binomial (or Monte Carlo) standard errors: a correct model fails such a check with
# probability about 6e-5, so a failure points at the model, not at bad luck; the seeds are fixed
Z = 4.0

CHINESE_STAGES = ("导入期", "成长期", "成熟期", "休眠期", "流失期", "召回")


def _run(name: str, customers: int = SMALL_CUSTOMERS, days: int = SMALL_DAYS, seed: int = SEED):
    model = CustomerModel(load_scenario(name), seed=seed, customers=customers, days=days, engine="vector")
    return model, model.run()


@pytest.fixture(scope="module")
def small_runs():
    """Each preset run once, small; shared by the invariant tests of this module."""
    return {name: _run(name) for name in PRESETS}


def test_the_framework_presets_are_shipped():
    """The default preset and one preset per stage framework are listed."""
    expected = {DEFAULT_PRESET, "four_stage_funnel", "five_stage_lifecycle", "six_stage_rfm", "markov_value"}
    assert expected <= set(PRESETS)
    assert all(presets()[name] for name in PRESETS), "every preset has a one-line description"


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_as_a_complete_scenario(name):
    """A preset loads by name, is named after its file and runs a year with a channel (a cohort: longer)."""
    sc = load_scenario(name)
    cfg = sc.config
    assert sc.name == name
    assert sc.source == f"preset '{name}'"
    if cfg.population.arrive_as_buyers:  # a calibrated cohort: it runs calibration + holdout
        assert cfg.population.arrival_schedule and cfg.run.days > 365
    else:
        assert cfg.run.days == 365
        assert cfg.channels, "every hand-written preset has at least one acquisition channel"
    assert any(s.churned for s in cfg.stages), "every preset has a churned stage"
    assert len(sc.policies) == len(cfg.policies)


@pytest.mark.parametrize("name", PRESETS)
def test_customers_are_conserved_every_day(name, small_runs):
    """Stage counts add up to the customers of each day, and change only by flows and arrivals."""
    model, result = small_runs[name]
    d = result.daily
    stage_cols = [f"stage:{s}" for s in result.stage_names]
    counts = d[stage_cols].to_numpy(dtype=np.int64)
    customers = d["customers"].to_numpy(dtype=np.int64)
    assert len(d) == SMALL_DAYS
    np.testing.assert_array_equal(counts.sum(axis=1), customers)
    assert np.all(np.diff(customers) >= 0)
    assert customers[-1] == result.n_customers == model.state.n
    assert counts.min() >= 0
    # day by day: change in a stage = inflow - outflow + arrivals (who all enter the entry stage)
    flows = result.flows.astype(np.int64)
    net = flows.sum(axis=1) - flows.sum(axis=2)  # (days, S): in minus out
    arrivals = np.diff(customers)
    entry = model.entry_stage
    for t in range(1, SMALL_DAYS):
        expected = counts[t - 1] + net[t]
        expected[entry] += arrivals[t - 1]
        np.testing.assert_array_equal(counts[t], expected, err_msg=f"day {t}")
    # the day's churn and reactivation counters agree with the flows into and out of churned stages
    churned = np.array(result.churned_stages)
    into = flows[:, ~churned][:, :, churned].sum(axis=(1, 2))
    back = flows[:, churned][:, :, ~churned].sum(axis=(1, 2))
    np.testing.assert_array_equal(d["churned"].to_numpy(), into)
    np.testing.assert_array_equal(d["reactivated"].to_numpy(), back)


@pytest.mark.parametrize("name", PRESETS)
def test_money_reconciles(name, small_runs):
    """Per-customer money adds up to the ledger's totals, and the daily table to both."""
    model, result = small_runs[name]
    diffs = model.ledger.reconcile(model.state)
    assert set(diffs) >= {"revenue", "margin", "policy_cost", "acquisition"}
    for account, diff in diffs.items():
        assert diff < 1e-9, f"{account} differs by {diff}"
    c = result.customers
    assert result.daily["revenue"].sum() == pytest.approx(c["revenue"].sum(), rel=1e-9, abs=1e-6)
    assert result.daily["policy_cost"].sum() == pytest.approx(c["policy_cost"].sum(), rel=1e-9, abs=1e-6)
    assert c["margin"].sum() == pytest.approx(model.config.customers.gross_margin * c["revenue"].sum(), rel=1e-9)
    assert np.all(c["revenue"] >= 0) and np.all(c["policy_cost"] >= 0)
    assert result.daily["revenue"].sum() > 0, "customers of every preset buy something in 120 days"


@pytest.mark.parametrize("name", PRESETS)
def test_no_purchases_while_churned(name, small_runs):
    """Customers who churned and never came back made no purchase after the day they churned."""
    model, result = small_runs[name]
    c = result.customers
    churned_stage = np.array(result.churned_stages)[c["stage"]]
    gone = (c["first_churn"] != NONE) & (c["reactivations"] == 0)
    bought_after = gone & (c["last_purchase"] != NONE) & (c["last_purchase"] > c["first_churn"])
    assert int(bought_after.sum()) == 0
    # the latent state is consistent: in a churned stage <=> churned at some point
    assert np.all(c["first_churn"][churned_stage] != NONE)
    assert np.all(churned_stage[gone]), "a customer who never came back is still in a churned stage"
    assert np.all((c["first_churn"] == NONE) | (c["first_churn"] >= c["acquired"]))
    # customers who never bought have no money on their books
    never = c["purchases"] == 0
    assert np.all(c["revenue"][never] == 0) and np.all(c["last_purchase"][never] == NONE)


@pytest.mark.parametrize("name", PRESETS)
def test_stage_names_round_trip_in_outputs(name, small_runs, tmp_path):
    """Stage names come back unchanged in the customer table, daily columns, summary and Parquet."""
    model, result = small_runs[name]
    names = [s.name for s in model.config.stages]
    assert result.stage_names == names
    frame = result.customers_frame()
    assert set(frame["stage"]) <= set(names)
    assert [c for c in result.daily.columns if c.startswith("stage:")] == [f"stage:{s}" for s in names]
    summary = summarize(result)
    text = json.dumps(summary, ensure_ascii=False, default=float)
    assert list(json.loads(text)["metrics"]["stage_counts_final"]) == names
    frame.to_parquet(tmp_path / "customers.parquet", index=False)
    result.daily.to_parquet(tmp_path / "daily.parquet", index=False)
    back = pd.read_parquet(tmp_path / "customers.parquet")
    assert back["stage"].tolist() == frame["stage"].tolist()
    assert list(pd.read_parquet(tmp_path / "daily.parquet").columns) == list(result.daily.columns)


def test_chinese_stage_names_appear_in_outputs(small_runs):
    """The five-stage preset's Chinese stage names are used in the customer table and daily columns."""
    model, result = small_runs["five_stage_lifecycle"]
    assert tuple(result.stage_names) == CHINESE_STAGES
    stages_seen = set(result.customers_frame()["stage"])
    assert {"导入期", "成长期", "成熟期", "流失期"} <= stages_seen
    for name in CHINESE_STAGES:
        assert f"stage:{name}" in result.daily.columns
    final = summarize(result)["metrics"]["stage_counts_final"]
    assert sum(final.values()) == result.n_customers and final["流失期"] > 0
    assert all(not n.isascii() for n in result.tier_names + result.channel_names + result.policy_names)


def test_five_stage_winback_recalls_lost_customers():
    """Win-back offers bring some churned customers (流失期) back to recall (召回), who then buy again."""
    model, result = _run("five_stage_lifecycle", customers=8000, days=365)
    names = result.stage_names
    flows = result.flows.sum(axis=0)
    lost, recall = names.index("流失期"), names.index("召回")
    assert flows[lost, recall] > 0
    assert flows[lost].sum() == flows[lost, recall], "only the win-back policy moves customers out of 流失期"
    c = result.customers
    assert c["reactivations"].sum() == flows[lost, recall]
    back = c["reactivations"] > 0
    assert np.any(c["last_purchase"][back] > c["first_churn"][back]), "some recalled customers buy again"
    assert result.policy_costs["流失挽回"] > 0


def test_six_stage_policies_reach_their_rfm_segments():
    """RFM segments are assigned and every segment-targeted policy spends money on its segment."""
    model, result = _run("six_stage_rfm", customers=4000, days=365)
    frame = result.customers_frame()
    segments = set(frame.loc[frame["purchases"] > 0, "segment"])
    assert {"high_value", "churn_risk", "cant_lose"} <= segments
    assert set(frame.loc[frame["purchases"] == 0, "segment"]) <= {""}, "non-buyers have no RFM segment"
    for policy in ("cross_sell_high_value", "winback_cant_lose", "winback_churn_risk", "onboarding"):
        assert result.policy_costs[policy] > 0, policy
    flows = result.flows.sum(axis=0)
    churn, recall = result.stage_names.index("churn"), result.stage_names.index("recall")
    assert flows[churn, recall] > 0, "win-back coupons recall some churned customers"


def test_four_stage_funnel_reproduces_the_source_figures():
    """About 3 days in awareness, 30% of interested users buy, 15% of buyers become loyal (20,000 users)."""
    # every one of these moves is a constant daily probability, so each figure is a binomial share
    # of decisions whose expected value is exact; the tolerance is four binomial standard errors
    model, result = _run("four_stage_funnel", customers=20_000, days=365, seed=1)
    names = result.stage_names
    aw, it, pu, lo, ch = (names.index(s) for s in ("awareness", "interest", "purchase", "loyalty", "churned"))
    flows = result.flows.astype(np.int64)
    d = result.daily

    # awareness: daily chance of moving on = moves / customer-days exposed (yesterday's stock plus
    # today's arrivals, who may move on the day they arrive)
    stock = d[f"stage:{names[aw]}"].to_numpy(dtype=np.int64)
    customers = d["customers"].to_numpy(dtype=np.int64)
    exposed = np.concatenate([[0], stock[:-1]]) + np.diff(np.concatenate([[0], customers]))
    moves = flows[:, aw, it]
    assert flows[:, aw].sum() == moves.sum(), "awareness is left only for interest"
    p = moves.sum() / exposed.sum()
    se = math.sqrt((1 / 3) * (2 / 3) / exposed.sum())
    assert abs(p - 1 / 3) < Z * se
    assert 1 / p == pytest.approx(3.0, abs=0.05)  # "about 3 days in awareness"

    # interest: of the users who leave it, 30% buy
    to_buy, to_drop = flows[:, it, pu].sum(), flows[:, it, ch].sum()
    n = to_buy + to_drop
    assert n == flows[:, it].sum() and n > 20_000
    assert abs(to_buy / n - 0.30) < Z * math.sqrt(0.30 * 0.70 / n)

    # purchase: of the buyers who leave it, 15% become loyal
    to_loyal, to_lapse = flows[:, pu, lo].sum(), flows[:, pu, ch].sum()
    n = to_loyal + to_lapse
    assert n == flows[:, pu].sum() and n > 3_000
    assert abs(to_loyal / n - 0.15) < Z * math.sqrt(0.15 * 0.85 / n)

    # nobody buys before converting
    c = result.customers
    fp = c["first_purchase"]
    assert np.all(fp[c["purchases"] > 0] != NONE)
    assert c["purchases"][np.isin(c["stage"], [aw, it])].sum() == 0


def _markov_chain(model):
    """The preset's one-day transition matrix P and margin vector R, from its config (see its comments)."""
    cfg, g = model.config, model.graph
    hazard = cfg.customers.churn_hazard.value
    rate = cfg.customers.purchase_rate.value
    basket = cfg.customers.basket_value.value
    S = len(g.names)
    P, R = np.zeros((S, S)), np.zeros(S)
    mult = {s.name: s for s in cfg.stages}
    for i, name in enumerate(g.names):
        st = mult[name]
        if st.churned:
            P[i, i] = 1.0
            continue
        h = hazard * st.churn_multiplier if g.can_churn[i] else 0.0
        P[i, g.churn_target[i]] += h
        for tr in cfg.transitions:
            if tr.rule == "probability" and tr.from_ == name:
                P[i, g.index[tr.to]] += (1 - h) * tr.daily_probability
        P[i, i] += (1 - h) * (1 - sum(
            tr.daily_probability for tr in cfg.transitions if tr.rule == "probability" and tr.from_ == name
        ))
        R[i] = (1 - h) * -math.expm1(-rate * st.purchase_multiplier) * basket * st.basket_multiplier
    return P, R * cfg.customers.gross_margin


def test_markov_value_preset_is_a_markov_chain():
    """The Markov preset has only constant rules, constant traits, no policies, tiers, RFM or spend."""
    sc = load_scenario("markov_value")
    cfg = sc.config
    model = CustomerModel(sc, customers=0, days=1, engine="vector")
    assert model.graph.is_markov()
    assert {tr.rule for tr in cfg.transitions} == {"probability", "churn"}
    for trait in ("purchase_rate", "basket_value", "churn_hazard", "dropout_after_purchase"):
        assert getattr(cfg.customers, trait).distribution == "constant", trait
    assert cfg.customers.order_value_shape is None
    assert not sc.policies and not cfg.tiers and not cfg.rfm.segments
    assert all(ch.daily_spend == 0 for ch in cfg.channels)


def test_markov_value_matches_the_closed_form():
    """Stage occupancy and discounted value of 20,000 customers agree with the exact Markov answer."""
    N, H = 20_000, 365
    model, result = _run("markov_value", customers=N, days=H, seed=2)
    assert result.n_customers == N, "nobody is acquired"
    P, R = _markov_chain(model)
    d = (1 + model.config.run.annual_discount_rate) ** (-1 / 365)
    occupancy = expected_occupancy(P, model.graph.index[model.config.population.initial_stage], H)
    for t in (29, 179, H - 1):  # end of day t = after t + 1 one-day steps
        row = result.daily.iloc[t]
        for k, name in enumerate(result.stage_names):
            p = occupancy[t + 1, k]
            se = math.sqrt(max(N * p * (1 - p), 1.0))
            assert abs(row[f"stage:{name}"] - N * p) < Z * se, (t, name, row[f"stage:{name}"], N * p)
    exact = discounted_value(P, R, d, horizon=H)[model.graph.index["new"]]
    value = result.customers["value"]
    se = value.std(ddof=1) / math.sqrt(N)
    assert abs(value.mean() - exact) < Z * se, (value.mean(), exact, se)
