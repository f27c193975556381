"""Acceptance tests of the stage-transition semantics in sim/stages.py, on both engines.

The semantics under test (``sim.stages`` docstring): at most one transition per customer per day;
priority latent churn > event > time > probability; a time rule fires on the first day with
``day - reference >= after_days`` and never while its reference is undefined; a stage's
probability rules split one uniform draw. Every test uses a small hand-written scenario from
``conftest.make_scenario`` and a fixed seed; statistical checks allow 4 standard errors, which a
correct engine exceeds with probability about 6e-5 per check.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario import load_scenario
from sim.model import CustomerModel
from sim.policies import Coupon, Onboarding
from sim.state import NONE
from tests.sim.conftest import ENGINES, live, make_scenario, stage_code

NO_CHURN = {"churn_hazard": 0.0}


def _stages(*names, **extra):
    """Stage tables for ``names``; ``extra`` maps a name to more fields of its table."""
    return [{"name": n, **extra.get(n, {})} for n in names]


def _time(a, b, after, since):
    return {"from": a, "to": b, "rule": "time", "after_days": after, "since": since}


def _event(a, b, k):
    return {"from": a, "to": b, "rule": "event", "min_purchases": k}


def _prob(a, b, p):
    return {"from": a, "to": b, "rule": "probability", "daily_probability": p}


def _churn(a, b="gone"):
    return {"from": a, "to": b, "rule": "churn"}


# --- time rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("since", ["acquisition", "first_purchase", "last_purchase", "stage_entry"])
def test_time_rule_fires_on_the_exact_day(engine, since):
    """A time rule moves a customer on max(reference + after_days, entry day + 1), never earlier or later."""
    after = 7
    sc = make_scenario(
        run={"days": 45, "seed": 11},
        population={"initial_customers": 300, "initial_stage": "x"},
        customers={"purchase_rate": 0.15, **NO_CHURN},
        stages=_stages("x", "y", "z", z={"purchase_multiplier": 0.0}),
        transitions=[_event("x", "y", 2), _time("y", "z", after, since)],
        channels=[{"name": "ads", "daily_spend": 100.0, "cac": 20.0, "saturation": 10.0}],
    )
    model = CustomerModel(sc, engine=engine)
    s = model.state
    y, z = stage_code(model, "y"), stage_code(model, "z")
    field = {"acquisition": "acquired", "first_purchase": "first_purchase",
             "last_purchase": "last_purchase", "stage_entry": "stage_since"}[since]  # fmt: skip
    entered_y = np.full(1 << 14, NONE, dtype=np.int64)  # room for every customer of the run
    moves = 0
    for t in range(model.days):
        model.step()
        n = s.n
        stage, since_day = s.stage[:n], s.stage_since[:n]
        new_y = (stage == y) & (since_day == t)
        entered_y[:n][new_y] = t
        moved = np.flatnonzero((stage == z) & (since_day == t))
        moves += moved.size
        ref = entered_y[moved] if since == "stage_entry" else getattr(s, field)[moved].astype(np.int64)
        assert np.all(ref != NONE)
        np.testing.assert_array_equal(t, np.maximum(ref + after, entered_y[moved] + 1))
        waiting = np.flatnonzero((stage == y) & (entered_y[:n] < t))
        ref = entered_y[waiting] if since == "stage_entry" else getattr(s, field)[waiting].astype(np.int64)
        assert np.all((ref == NONE) | (t - ref < after)), "a customer overdue for the time rule was not moved"
    assert moves > 50  # the check above ran on many moves, not on a handful


def test_time_rule_with_undefined_reference_never_fires(engine):
    """A time rule since last_purchase never moves a customer who never bought."""
    sc = make_scenario(
        population={"initial_customers": 300, "initial_stage": "a"},
        customers={"purchase_rate": 0.0, **NO_CHURN},
        stages=_stages("a", "b"),
        transitions=[_time("a", "b", 3, "last_purchase")],
    )
    result = CustomerModel(sc, engine=engine).run()
    assert result.flows.sum() == 0
    assert np.all(result.customers["stage"] == 0)


# --- event rules --------------------------------------------------------------------------------


def test_event_rule_fires_on_the_purchase_that_reaches_the_count(engine):
    """The 3rd purchase moves regular -> loyal that day; a later rule needs a new purchase, not an old count."""
    sc = make_scenario(
        run={"days": 40, "seed": 5},
        population={"initial_customers": 500, "initial_stage": "regular"},
        customers={"purchase_rate": 0.2, **NO_CHURN},
        stages=_stages("regular", "loyal", "vip"),
        transitions=[_event("regular", "loyal", 3), _event("loyal", "vip", 1)],
    )
    model = CustomerModel(sc, engine=engine)
    s = model.state
    regular, loyal, vip = (stage_code(model, k) for k in ("regular", "loyal", "vip"))
    to_loyal = to_vip = 0
    for t in range(model.days):
        before = live(s, "purchases")
        model.step()
        stage, since, purchases = live(s, "stage"), live(s, "stage_since"), live(s, "purchases")
        bought = purchases > before
        new_loyal = (stage == loyal) & (since == t)
        new_vip = (stage == vip) & (since == t)
        # the move happens on the purchase that brings the count to 3, on its day
        assert np.all(bought[new_loyal]) and np.all(purchases[new_loyal] == 3)
        assert np.all(purchases[stage == regular] < 3)
        # in 'loyal' the count (3) already meets min_purchases = 1, yet only a purchase moves
        assert np.all(bought[new_vip]) and np.all(purchases[new_vip] >= 4)
        assert np.all(~bought[(stage == loyal) & (since < t)])
        to_loyal += int(new_loyal.sum())
        to_vip += int(new_vip.sum())
    assert to_loyal > 100 and to_vip > 50


# --- priorities and one move a day -------------------------------------------------------------


def test_churn_beats_event(engine):
    """A repeat purchase that triggers dropout churns the customer instead of firing the event rule."""
    sc = make_scenario(
        population={"initial_customers": 500, "initial_stage": "regular"},
        customers={"purchase_rate": 0.2, "churn_hazard": 0.0, "dropout_after_purchase": 1.0},
        stages=_stages("regular", "loyal", "gone", gone={"churned": True}),
        transitions=[_event("regular", "loyal", 2), _churn("regular"), _churn("loyal")],
    )
    c = CustomerModel(sc, engine=engine).run().customers
    repeat = c["purchases"] >= 2
    assert repeat.sum() > 200
    assert not np.any(c["stage"] == 1), "the event rule fired on a purchase that churned the customer"
    np.testing.assert_array_equal(c["stage"][repeat], 2)
    np.testing.assert_array_equal(c["first_churn"][repeat], c["second_purchase"][repeat])


def test_event_beats_time(engine):
    """On the day a time rule is due, a purchase that fires an event rule wins."""
    sc = make_scenario(
        population={"initial_customers": 1000, "initial_stage": "new"},
        customers={"purchase_rate": 0.1, **NO_CHURN},
        stages=_stages("new", "active", "expired"),
        transitions=[_time("new", "expired", 5, "acquisition"), _event("new", "active", 1)],
    )
    c = CustomerModel(sc, engine=engine, days=20).run().customers
    fp = c["first_purchase"]
    early = (fp != NONE) & (fp <= 5)
    assert np.count_nonzero(fp == 5) > 20  # enough purchases on the very day the time rule is due
    np.testing.assert_array_equal(c["stage"][early], 1)
    np.testing.assert_array_equal(c["stage"][~early], 2)


def test_time_beats_probability(engine):
    """On the day a time rule is due nobody takes the stage's probability rule."""
    sc = make_scenario(
        population={"initial_customers": 1000, "initial_stage": "a"},
        customers=NO_CHURN,
        stages=_stages("a", "b", "c"),
        transitions=[_prob("a", "c", 0.3), _time("a", "b", 3, "stage_entry")],
    )
    r = CustomerModel(sc, engine=engine, days=6).run()
    a, b, c = 0, 1, 2
    left = r.daily["stage:a"].to_numpy()
    assert left[2] > 200  # plenty are still in 'a' when the time rule becomes due
    assert r.flows[3, a, c] == 0
    assert r.flows[3, a, b] == left[2]
    assert left[3] == 0
    assert r.flows[:3, a, b].sum() == 0


@pytest.mark.parametrize("other", ["time", "probability"])
def test_churn_beats_time_and_probability(engine, other):
    """When a time or probability rule is certain to fire, latent churn still takes its share first."""
    hazard = 0.3
    rule = _time("a", "b", 1, "acquisition") if other == "time" else _prob("a", "b", 1.0)
    sc = make_scenario(
        population={"initial_customers": 2000, "initial_stage": "a"},
        customers={"churn_hazard": hazard},
        stages=_stages("a", "b", "gone", gone={"churned": True}),
        transitions=[rule, _churn("a"), _churn("b")],
    )
    r = CustomerModel(sc, engine=engine, days=3).run()
    day = 1 if other == "time" else 0  # the day the rule is certain to fire
    at_risk = 2000 if day == 0 else int(r.daily["stage:a"].iloc[0])
    churned, moved = r.flows[day, 0, 2], r.flows[day, 0, 1]
    assert churned + moved == at_risk  # everyone leaves 'a' that day, by exactly one rule
    se = math.sqrt(at_risk * hazard * (1 - hazard))  # binomial count of hazard churners
    assert abs(churned - hazard * at_risk) < 4 * se


def test_one_transition_per_day(engine):
    """Rules that are all due at once move a customer one stage a day, never two."""
    sc = make_scenario(
        population={"initial_customers": 400, "initial_stage": "new"},
        customers={"purchase_rate": 0.2, **NO_CHURN},
        stages=_stages("new", "active", "done"),
        transitions=[_event("new", "active", 1), _time("active", "done", 1, "acquisition")],
    )
    r = CustomerModel(sc, engine=engine, days=20).run()
    c = r.customers
    done = c["stage"] == 2
    assert done.sum() > 300
    # entering 'active' on the purchase day takes that day's one transition; 'done' follows a day later
    assert np.all(r.flows[:, 0, 2] == 0)
    sc2 = make_scenario(
        population={"initial_customers": 400, "initial_stage": "a"},
        customers=NO_CHURN,
        stages=_stages("a", "b", "c"),
        transitions=[_time("a", "b", 1, "acquisition"), _time("b", "c", 1, "acquisition")],
    )
    model = CustomerModel(sc2, engine=engine, days=3)
    expected = {0: "a", 1: "b", 2: "c"}
    for t in range(3):
        model.step()
        assert np.all(live(model.state, "stage") == stage_code(model, expected[t]))


# --- probability rules --------------------------------------------------------------------------


def test_probability_rules_have_the_declared_daily_rate(engine):
    """Two probability rules out of a stage fire at their daily rates (geometric waiting, MLE within 4 se)."""
    pb, pc, n0 = 0.04, 0.06, 2000
    sc = make_scenario(
        population={"initial_customers": n0, "initial_stage": "a"},
        customers=NO_CHURN,
        stages=_stages("a", "b", "c"),
        transitions=[_prob("a", "b", pb), _prob("a", "c", pc)],
    )
    r = CustomerModel(sc, engine=engine, days=40).run()
    in_a = r.daily["stage:a"].to_numpy()
    exposure = n0 + int(in_a[:-1].sum())  # customer-days spent in 'a' at the start of a day
    p = pb + pc
    moves = int(r.flows[:, 0, 1:].sum())
    # MLE of a geometric rate under censoring: events / trials; se sqrt(p(1-p)/trials)
    assert abs(moves / exposure - p) < 4 * math.sqrt(p * (1 - p) / exposure)
    to_b = int(r.flows[:, 0, 1].sum())
    share = pb / p  # the single uniform draw splits movers in proportion to the rules
    assert abs(to_b / moves - share) < 4 * math.sqrt(share * (1 - share) / moves)
    # mean waiting time (trials = move day + 1) of the movers, against the geometric distribution
    # truncated at the run length (the movers are those who waited at most `days` trials)
    per_day = r.flows[:, 0, 1:].sum(axis=1)
    mean_wait = float((np.arange(1, r.days + 1) * per_day).sum() / moves)
    q, k = 1 - p, np.arange(1, r.days + 1)
    pmf = q ** (k - 1) * p / (1 - q**r.days)
    mean_trunc = float((k * pmf).sum())
    var_trunc = float((k * k * pmf).sum()) - mean_trunc**2
    assert abs(mean_wait - mean_trunc) < 4 * math.sqrt(var_trunc / moves)


def test_churned_stages_follow_their_time_and_probability_rules(engine):
    """Rules leaving a churned stage (allowed: time, probability) fire there at their rates."""
    p, n0 = 0.1, 1500
    sc = make_scenario(
        population={"initial_customers": n0, "initial_stage": "gone"},
        customers=NO_CHURN,
        stages=_stages("alive", "gone", "archived", gone={"churned": True}, archived={"churned": True}),
        transitions=[_prob("gone", "alive", p), _time("gone", "archived", 5, "stage_entry")],
    )
    r = CustomerModel(sc, engine=engine, days=8).run()
    back = r.flows[:, 1, 0]
    exposure = n0 + int(r.daily["stage:gone"].to_numpy()[:4].sum())  # days 0..4 in 'gone'
    assert abs(back[:5].sum() / exposure - p) < 4 * math.sqrt(p * (1 - p) / exposure)
    assert back[5:].sum() == 0
    assert r.flows[5, 1, 2] == r.daily["stage:gone"].iloc[4]  # the rest archived on day 5 exactly
    assert r.flows[:5, 1, 2].sum() == 0
    assert int(r.customers["reactivations"].sum()) == int(back.sum())


# --- zero rates ---------------------------------------------------------------------------------


def test_zero_hazard_means_no_churn_ever(engine):
    """With zero hazard and no dropout nobody churns, even when over-contacted."""
    sc = make_scenario(
        customers={"purchase_rate": 0.2, "churn_hazard": 0.0, "fatigue_contacts_per_week": 1,
                   "fatigue_churn_multiplier": 10.0},
    )  # fmt: skip
    noisy = Onboarding(contact_days=[1, 2, 3, 4, 5, 6], churn_multiplier=5.0)
    r = CustomerModel(sc, engine=engine, customers=500, policies=[noisy]).run()
    assert r.daily["churned"].sum() == 0
    assert r.daily["stage:churned"].max() == 0
    assert np.all(r.customers["first_churn"] == NONE)


def test_zero_purchase_rate_means_no_purchases(engine):
    """With zero purchase rate nobody buys, even holding a coupon with a large purchase lift."""
    sc = make_scenario(customers={"purchase_rate": 0.0})
    coupon = Coupon(trigger="first_order", send_after_days=0, offer={"purchase_lift": 50.0})
    r = CustomerModel(sc, engine=engine, customers=500, policies=[coupon]).run()
    assert r.daily["orders"].sum() == 0 and r.daily["revenue"].sum() == 0
    assert np.all(r.customers["purchases"] == 0)
    assert np.all(r.customers["first_purchase"] == NONE)


def test_churned_stages_make_no_purchases(engine):
    """Customers in a churned stage never buy, whatever the stage's purchase multiplier says."""
    sc = make_scenario(
        customers={"purchase_rate": 0.3, "churn_hazard": 0.05},
        stages=_stages("new", "active", "lapsed", "churned",
                       churned={"churned": True, "purchase_multiplier": 5.0}),
    )  # fmt: skip
    model = CustomerModel(sc, engine=engine, customers=600, days=40)
    s = model.state
    gone = stage_code(model, "churned")
    lost_days = 0
    for t in range(model.days):
        lost = np.flatnonzero(live(s, "stage") == gone)
        model.step()
        assert not np.any(s.last_purchase[lost] == t)
        lost_days += lost.size
    assert lost_days > 5000  # many customer-days were spent in the churned stage


# --- conservation --------------------------------------------------------------------------------


def _check_conservation(result, allowed: np.ndarray, entry: int, n0: int, initial: int) -> None:
    """Every day: stage counts add up, change only by flows and arrivals, flows use declared edges."""
    d = result.daily
    names = result.stage_names
    counts = d[[f"stage:{k}" for k in names]].to_numpy()
    acquired = np.zeros(len(d), dtype=np.int64)
    for k in result.channel_names:
        acquired += d[f"acquired:{k}"].to_numpy()
    np.testing.assert_array_equal(counts.sum(axis=1), d["customers"].to_numpy())
    prev = np.zeros(len(names), dtype=np.int64)
    prev[initial] = n0
    for t in range(len(d)):
        f = result.flows[t]
        expect = prev + f.sum(axis=0) - f.sum(axis=1)
        expect[entry] += acquired[t]
        np.testing.assert_array_equal(counts[t], expect)
        prev = counts[t]
    off = result.flows.sum(axis=0).copy()
    np.fill_diagonal(off, 0)
    assert np.all(off[~allowed] == 0), "a flow used a transition the scenario does not declare"
    np.testing.assert_array_equal(d["customers"].to_numpy(), n0 + np.cumsum(acquired))
    assert result.n_customers == int(d["customers"].iloc[-1])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rate=st.floats(0.0, 0.5),
    hazard=st.floats(0.0, 0.2),
    dropout=st.floats(0.0, 1.0),
    p=st.floats(0.0, 1.0),
    spend=st.floats(0.0, 300.0),
    seed=st.integers(0, 2**32 - 1),
    engine=st.sampled_from(ENGINES),
)
def test_customers_are_conserved_every_day(rate, hazard, dropout, p, spend, seed, engine):
    """Stage counts sum to the population, change only by recorded flows and arrivals, along declared edges."""
    transitions = [
        _event("new", "active", 1),
        _time("active", "lapsed", 5, "last_purchase"),
        _event("lapsed", "active", 1),
        _prob("lapsed", "new", p),
        _churn("new", "churned"), _churn("active", "churned"), _churn("lapsed", "churned"),
        _prob("churned", "new", p / 4),
    ]  # fmt: skip
    sc = make_scenario(
        run={"days": 25, "seed": seed},
        population={"initial_customers": 150, "initial_stage": "new"},
        customers={"purchase_rate": rate, "churn_hazard": hazard, "dropout_after_purchase": dropout},
        transitions=transitions,
        channels=[{"name": "ads", "daily_spend": spend, "cac": 20.0, "saturation": 10.0}],
    )
    model = CustomerModel(sc, engine=engine)
    _check_conservation(model.run(), model.graph.allowed, 0, 150, 0)


def test_preset_conserves_customers_and_uses_declared_edges(engine):
    """The default preset (all policies on) conserves customers every day on a short run."""
    sc = load_scenario("retail_tiers")
    n0 = 3000 if engine == "vector" else 800
    model = CustomerModel(sc, engine=engine, customers=n0, days=100 if engine == "vector" else 60)
    r = model.run()
    g = model.graph
    _check_conservation(r, g.allowed, g.index["potential"], n0, g.index["potential"])
    assert r.daily["churned"].sum() > 0 and r.daily["orders"].sum() > 0


# --- the due-day cache behind the time rules ---------------------------------------------------


def _due_by_hand(model) -> np.ndarray:
    """Earliest reference + after_days over the time rules of each customer's stage (NEVER if none)."""
    from sim.stages import NEVER

    s, g = model.state, model.graph
    due = np.full(s.n, NEVER, dtype=np.int64)
    for rule in g.time_rules:
        ref = getattr(s, rule.since_field)[: s.n].astype(np.int64)
        ok = (s.stage[: s.n] == rule.source) & (ref != NONE)
        due[ok] = np.minimum(due[ok], ref[ok] + rule.after_days)
    return due


@pytest.mark.parametrize("name", ["retail_tiers", "five_stage_lifecycle", "six_stage_rfm"])
def test_time_due_is_exact_after_every_day(engine, name):
    """state.time_due always equals the due day recomputed from scratch, and no customer is left
    in a stage past a due time rule, except one that moved today (one transition a day; its rule
    fires tomorrow). The engines skip the rules before time_due, so a stale value would silently
    delay a transition."""
    sc = load_scenario(name)
    m = CustomerModel(sc, customers=600 if engine == "agent" else 5_000, days=150, engine=engine, seed=8)
    for _ in range(150):
        m.step()
        s = m.state
        due = _due_by_hand(m)
        assert np.array_equal(s.time_due[: s.n], due), f"day {m.day - 1}"
        late = (due < m.day) & (s.stage_since[: s.n] != m.day - 1)
        assert not late.any(), f"day {m.day - 1}: a due time rule did not fire"
