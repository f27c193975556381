"""Tests for sim/budget: levers and exact feasibility, CRN evaluation, the optimiser, the report, the CLI.

The known-optimum scenario (``TWO_CHANNELS``) has no initial base, one stage and customers who buy
every day (purchase rate 50 a day: P(buy) = 1 - exp(-50) = 1 in floating point) a constant basket
of 10 at a 50% margin, and never churn. A customer acquired on day t of an H-day horizon therefore
earns exactly ``0.5 * 10 * q * (H - t)`` (q = the channel's basket multiplier), and the expected
profit of daily spends (s1, s2) is

    profit(s1, s2) = sum_k W_k * n_k(s_k) - (s1 + s2) * H,   W_k = 5 * q_k * H (H + 1) / 2,
    n_k(s) = sat_k * (1 - exp(-s / (sat_k * cac_k))).

With s1 + s2 = B the optimum equates marginal returns, W1 n1'(s1) = W2 n2'(s2), with
n'(s) = exp(-s / a) / cac and a = sat * cac; taking logs,
    s1* = (ln(W1 cac2 / (W2 cac1)) + B / a2) / (1 / a1 + 1 / a2).
Numbers: H = 60, B = 1500; cheap: cac 20, sat 40 (a1 = 800), q 1; premium: cac 60, sat 30
(a2 = 1800), q 1.2; so W2 / W1 = 1.2, ln(60 / (1.2 * 20)) = ln 2.5 = 0.9163, B / a2 = 0.8333,
1/a1 + 1/a2 = 0.0018056, and s1* = 1.7496 / 0.0018056 = 969.0, s2* = 531.0 (the equal split is 750/750).

Because every customer's value is deterministic given the arrival day, the smoothed objective
(arrivals post-stratified to their expectation) is exactly this closed form, so the optimiser's
error is its own (COBYLA's final trust radius), not Monte Carlo noise.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scenario import load_scenario, parse_scenario
from analysis.budget import allocate_budget, project_allocation
from analysis.budget.evaluate import Evaluator, Setting, simulate
from sim.acquisition import poisson_quantile
from analysis.budget.optimise import TOL
from lifecycle.cli import main
from scenarios.errors import ConfigError

H, B = 60, 1500.0
TWO_CHANNELS = """
name = "two_channels"
description = "Two channels with analytic response curves and customers of known value."
[run]
days = 60
seed = 7
annual_discount_rate = 0.0
[population]
initial_customers = 0
initial_stage = "active"
[customers]
purchase_rate = { distribution = "constant", value = 50.0 }
basket_value = { distribution = "constant", value = 10.0 }
gross_margin = 0.5
[[stages]]
name = "active"
[[channels]]
name = "cheap"
daily_spend = 750.0
cac = 20.0
saturation = 40.0
[[channels]]
name = "premium"
daily_spend = 750.0
cac = 60.0
saturation = 30.0
basket_multiplier = 1.2
"""
W1, W2 = 5 * 1.0 * H * (H + 1) / 2, 5 * 1.2 * H * (H + 1) / 2
A1, A2 = 40 * 20.0, 30 * 60.0


def closed_form_profit(s1: float, s2: float) -> float:
    """Expected profit of daily spends (s1, s2) over H days in TWO_CHANNELS."""
    return W1 * 40 * -math.expm1(-s1 / A1) + W2 * 30 * -math.expm1(-s2 / A2) - (s1 + s2) * H


S1_STAR = (math.log(W1 * 60 / (W2 * 20)) + B / A2) / (1 / A1 + 1 / A2)


def two_channels(extra: str = "", **replace) -> object:
    """The known-optimum scenario, optionally with a [budget] table or edited channel fields."""
    text = TWO_CHANNELS
    for old, new in replace.items():
        text = text.replace(old, new)
    return parse_scenario(text + extra, source="two_channels test")


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


# --- the projection: exact budget, bounds (property tests) ------------------------------------------


@st.composite
def _problems(draw):
    n = draw(st.integers(1, 8))
    lo = np.array(draw(st.lists(st.floats(0, 1000), min_size=n, max_size=n)))
    width = np.array(draw(st.lists(st.floats(0, 5000), min_size=n, max_size=n)))
    hi = lo + width
    share = draw(st.floats(0, 1))
    budget = float(lo.sum() + share * (hi.sum() - lo.sum()))
    x = np.array(draw(st.lists(st.floats(-1e4, 1e4), min_size=n, max_size=n)))
    return x, budget, lo, hi


@settings(max_examples=300, deadline=None)
@given(_problems())
def test_projection_spends_budget_exactly_within_bounds(problem):
    """Any start point projects to an allocation inside the bounds whose sum is the budget to float precision."""
    x, budget, lo, hi = problem
    a = project_allocation(x, budget, lo, hi)
    assert np.all(a >= lo) and np.all(a <= hi)
    # "exact": the float sum equals the budget up to a few units in the last place of the budget
    assert abs(math.fsum(a) - budget) <= 4 * math.ulp(max(budget, 1.0))
    assert np.array_equal(a, project_allocation(x, budget, lo, hi)), "deterministic"
    b = project_allocation(a, budget, lo, hi)
    assert np.allclose(a, b, rtol=0, atol=1e-9 * max(1.0, budget)), "idempotent"
    # Euclidean projection: levers strictly inside their bounds are all shifted by the same amount
    inside = (a > lo + 1e-9) & (a < hi - 1e-9)
    if inside.sum() >= 2:
        shift = x[inside] - a[inside]
        assert np.ptp(shift) <= 1e-6 * max(1.0, budget)


def test_projection_rejects_infeasible_bounds():
    """Bounds that cannot meet the budget, or an inverted bound, raise ConfigError (never a silent clamp)."""
    with pytest.raises(ConfigError, match="infeasible"):
        project_allocation([1, 1], 10.0, [0, 0], [3, 3])
    with pytest.raises(ConfigError, match="infeasible"):
        project_allocation([1, 1], 1.0, [1, 1], [3, 3])
    with pytest.raises(ConfigError, match="min 5 > max 2"):
        project_allocation([1, 1], 3.0, [0, 5], [3, 2])


# --- evaluation ----------------------------------------------------------------------------------------


def test_smoothed_profit_equals_closed_form():
    """With deterministic customer values, the smoothed simulated profit is the closed form (to 1e-9)."""
    sc = two_channels()
    for s1, s2 in ((750.0, 750.0), (1200.0, 300.0)):
        [m] = simulate(sc, Setting((("cheap", s1), ("premium", s2)), ()), np.random.SeedSequence(3),
                       customers=0, days=H, smoothing=True)
        assert m["profit"] == pytest.approx(closed_form_profit(s1, s2), rel=1e-9)


def test_each_replica_of_a_world_is_one_run():
    """A world of 4 replicas: each replica's smoothed profit is the one-run closed form, and its raw
    customer count has the one-run Poisson law (mean and variance within 4 standard errors)."""
    sc = two_channels()
    # spends at which a replica has arrivals on every day of either channel (P(an empty day) ~ 1e-5 each):
    # a day without arrivals hands its expectation to the next (first-order, not exactly, the same value)
    setting = Setting((("cheap", 900.0), ("premium", 900.0)), ())
    counts = []
    for seed in np.random.SeedSequence(5).spawn(10):
        reps = simulate(sc, setting, seed, customers=0, days=H, smoothing=True, replicas=4)
        assert len(reps) == 4
        for m in reps:
            assert m["profit"] == pytest.approx(closed_form_profit(900.0, 900.0), rel=1e-9)
            assert m["channel_spend"] == {"cheap": 900.0 * H, "premium": 900.0 * H}
            counts.append(m["customers_raw"])
    lam = H * (40 * -math.expm1(-900.0 / A1) + 30 * -math.expm1(-900.0 / A2))  # one run's expected customers
    k = np.array(counts)
    assert abs(k.mean() - lam) < 4 * math.sqrt(lam / k.size)
    # variance of a sample variance of a Poisson(lam) (large lam: ~2 lam^2 / n)
    assert abs(k.var(ddof=1) - lam) < 4 * math.sqrt(2 * lam * lam / (k.size - 1) + lam / k.size)


def test_inverse_cdf_arrivals_are_poisson_and_monotone():
    """The quantile sampler is monotone in the mean and has Poisson moments (4 standard errors)."""
    u = np.random.default_rng(1).random(20000)
    for lam in (0.3, 7.0, 80.0):
        k = np.array([poisson_quantile(x, lam) for x in u])
        se_mean = math.sqrt(lam / k.size)
        assert abs(k.mean() - lam) < 4 * se_mean
        assert abs(k.var() - lam) < 4 * lam * math.sqrt(2 / k.size) + 4 * se_mean
    lams = np.linspace(0, 30, 61)
    for x in u[:200]:
        ks = [poisson_quantile(x, lam) for lam in lams]
        assert ks == sorted(ks)


def test_common_random_numbers_keep_other_channels_fixed():
    """Under one seed, raising one channel's spend leaves the other channel's customers unchanged."""
    sc = two_channels()
    seed = np.random.SeedSequence(11)
    [a] = simulate(sc, Setting((("cheap", 500.0), ("premium", 500.0)), ()), seed, customers=0, days=H, smoothing=False)
    [b] = simulate(sc, Setting((("cheap", 900.0), ("premium", 500.0)), ()), seed, customers=0, days=H, smoothing=False)
    assert b["channel_spend"]["premium"] == a["channel_spend"]["premium"]
    # premium customers are identical, so the raw customer gain is the cheap channel's alone, and positive
    assert b["customers_raw"] > a["customers_raw"]


# --- the optimiser finds the known optimum ---------------------------------------------------------------


def test_optimiser_finds_known_optimum():
    """The default optimiser finds s1* = 969.02/day within 0.5/day, and the gain over the equal split is the closed form."""
    result = allocate_budget(two_channels(), budget=B, replications=2, seed=1)
    s1, s2 = result.allocation["cheap"], result.allocation["premium"]
    assert S1_STAR == pytest.approx(969.02, abs=0.01)  # the hand computation in the module docstring
    # tolerance: here the surrogate *is* the closed form (deterministic customer values), and SLSQP stops
    # at ftol 1e-12 of B*H = 90,000; on a top of curvature ~0.35 per (unit/day)^2 that is ~0.02/day
    assert abs(s1 - S1_STAR) <= 0.5
    assert math.fsum([s1, s2]) == pytest.approx(B, abs=4 * math.ulp(B))
    for trial in result.trace.trials:  # every simulated proposal was predicted exactly by the surrogate
        if trial.predicted is not None:
            assert trial.predicted == pytest.approx(trial.objective, rel=1e-9)
    # the report: deterministic values, so the paired gain over the equal split is exactly the closed form
    gain = result.difference(result.equal)
    assert gain.mean == pytest.approx(closed_form_profit(s1, s2) - closed_form_profit(750, 750), rel=1e-6)
    assert gain.mean == pytest.approx(6229.0, abs=1.0)
    # at the optimum the marginal returns of the two channels agree (one-sided steps of 2% of B: within 0.05/unit)
    m = {mg.lever: mg.profit.mean for mg in result.marginals}
    assert m["cheap"] == pytest.approx(m["premium"], abs=0.05)


def test_cobyla_finds_known_optimum():
    """COBYLA on the simulated objective gets within 1.5 final trust radii (45/day) and 0.1% of the best profit."""
    result = allocate_budget(two_channels(), budget=B, replications=2, seed=1, method="cobyla",
                             marginal_returns=False)
    s1, s2 = result.allocation["cheap"], result.allocation["premium"]
    # COBYLA stops when its trust radius reaches TOL * range = 0.02 * 1500 = 30/day
    assert abs(s1 - S1_STAR) <= 1.5 * TOL * B
    best = closed_form_profit(S1_STAR, B - S1_STAR)
    assert closed_form_profit(s1, s2) >= best * (1 - 1e-3)  # a 45/day miss costs 0.1% on this flat top


def test_constraints_hold_in_every_recommended_allocation():
    """Min/max per lever and the exact budget hold in the recommendation, every trial and every frontier point."""
    extra = """
[budget]
total = 1500.0
[[budget.levers]]
name = "cheap"
max = 800.0
[[budget.levers]]
name = "premium"
min = 200.0
"""
    result = allocate_budget(two_channels(extra), replications=2, seed=2, frontier=[1000.0, 2500.0])
    assert result.allocation["cheap"] == pytest.approx(800.0, abs=1e-9)  # the optimum (969) is beyond the max
    for trial in result.trace.trials:
        cheap, premium = trial.allocation
        assert cheap <= 800.0 and premium >= 200.0
        assert abs(math.fsum(trial.allocation) - 1500.0) <= 4 * math.ulp(1500.0)
    for point in result.frontier:
        cheap, premium = point.allocation
        assert cheap <= 800.0 and premium >= 200.0
        assert abs(math.fsum(point.allocation) - point.budget) <= 4 * math.ulp(point.budget)


def test_min_ltv_cac_is_a_constraint():
    """An unreachable LTV/CAC floor is reported as not met; a reachable one holds in the recommendation."""
    hard = allocate_budget(two_channels(), budget=B, replications=2, min_ltv_cac=50.0)
    assert not hard.trace.constraint_met and hard.target_met is False
    # the closest allocation on the report's seeds: never below the current or equal figure printed beside it
    best = hard.recommended.metrics["ltv_cac"].mean
    assert best >= hard.current.metrics["ltv_cac"].mean and best >= hard.equal.metrics["ltv_cac"].mean
    easy = allocate_budget(two_channels(), budget=B, replications=2, min_ltv_cac=3.75)
    assert easy.trace.constraint_met and easy.trace.best.ltv_cac >= 3.75


# --- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra, budget, match",
    [
        ("", -5.0, "must be >= 0"),
        ('[budget]\n[[budget.levers]]\nname = "cheap"\nmin = 900.0\nmax = 100.0\n', B, "min 900 > max 100"),
        ('[budget]\n[[budget.levers]]\nname = "cheap"\nmin = 1000.0\n[[budget.levers]]\nname = "premium"\nmin = 600.0\n',
         B, "infeasible budget: the lever minimums cheap \\(min 1,000.00\\), premium \\(min 600.00\\)"),
        ('[budget]\n[[budget.levers]]\nname = "cheap"\nmax = 500.0\n[[budget.levers]]\nname = "premium"\nmax = 600.0\n',
         B, "infeasible budget: the lever maximums cheap \\(max 500.00\\), premium \\(max 600.00\\)"),
        ('[budget]\n[[budget.levers]]\nname = "cheap"\npacing = [1.0, 2.0]\n', B, None),
    ],
    ids=["negative", "min-above-max", "minimums-exceed", "maximums-short", "pacing-ok"],
)
def test_bad_budget_questions_raise_clear_errors(extra, budget, match):
    """Negative budgets, unknown levers, inverted or infeasible bounds raise ConfigError naming the levers."""
    sc = two_channels(extra)
    if match is None:  # a valid pacing profile is accepted
        allocate_budget(sc, budget=budget, replications=2, max_evaluations=4)
        return
    with pytest.raises(ConfigError, match=match):
        allocate_budget(sc, budget=budget, replications=2)


def test_an_unknown_lever_is_refused_when_the_scenario_is_loaded():
    """A misspelt lever name in [budget] is an error naming it and the levers there are, before any run."""
    with pytest.raises(ConfigError, match=r"budget\.levers\[0\]\.name: unknown lever 'cheep'.*'cheap', 'premium'"):
        two_channels('[budget]\n[[budget.levers]]\nname = "cheep"\n')


def test_non_increasing_response_curve_is_rejected():
    """cac <= 0 and an infinite cac (a flat curve) are refused by the schema, naming the field."""
    with pytest.raises(ConfigError, match=r"channels\[0\]\.cac"):
        two_channels(**{"cac = 20.0": "cac = 0.0"})
    with pytest.raises(ConfigError, match=r"channels\[0\]\.cac.*finite number"):
        two_channels(**{"cac = 20.0": "cac = inf"})


def test_default_preset_lever_names_and_policy_pacing():
    """The default preset qualifies 'referral' (a channel and a policy); plain 'referral' and policy pacing are errors."""
    sc = load_scenario("retail_tiers")
    from analysis.budget.levers import BudgetConfig, request_levers

    names = [r.name for r in request_levers(sc, BudgetConfig(), 365)]
    assert names == ["search", "social", "kol", "cap", "repurchase_coupon", "loyalty", "winback", "policy:referral"]
    with pytest.raises(ConfigError, match="both a channel and a policy"):
        request_levers(sc, BudgetConfig(levers=[{"name": "referral"}]), 365)
    with pytest.raises(ConfigError, match="pacing applies to channel levers only"):
        request_levers(sc, BudgetConfig(levers=[{"name": "loyalty", "pacing": [1, 2]}]), 365)


def test_cli_infeasible_and_negative_exit_2(tmp_path):
    """The CLI turns infeasible and negative budgets into one error line and exit code 2, writing nothing."""
    path = tmp_path / "two.toml"
    path.write_text(TWO_CHANNELS + '[budget]\n[[budget.levers]]\nname = "cheap"\nmax = 10.0\n', encoding="utf-8")
    out = tmp_path / "out"
    for args in (["--budget", "1500"], ["--budget", "-1"]):
        res = _invoke("budget", str(path), *args, "--replications", "2", "--workers", "1", "--out", str(out))
        assert res.exit_code == 2, res.output
        assert res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1
        assert not out.exists()


def test_cli_json_and_outputs(tmp_path):
    """--json prints the documented keys with CIs; --out writes the tables and the frontier plot."""
    path = tmp_path / "two.toml"
    path.write_text(TWO_CHANNELS, encoding="utf-8")
    out = tmp_path / "report"
    res = _invoke("budget", str(path), "--budget", "1500", "--replications", "2", "--workers", "1",
                  "--frontier", "1000,2000", "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    for key in ("allocation", "objective", "profit", "ltv_cac", "baseline_equal", "baseline_current"):
        assert key in d
    for key in ("objective", "profit", "ltv_cac", "baseline_equal", "baseline_current"):
        assert "ci_low" in d[key] and "ci_high" in d[key]
    assert d["evaluations"] > 0 and d["seconds"] > 0
    assert sum(d["allocation"].values()) == pytest.approx(1500.0, abs=1e-9)
    files = {p.name for p in out.iterdir()}
    assert {"budget.json", "allocation.csv", "trials.csv", "allocation.png", "frontier.csv", "frontier.png"} <= files


def test_same_seed_same_result_with_workers():
    """Serial and two-worker runs give the same recommendation and numbers (seeds are fixed up front)."""
    a = allocate_budget(two_channels(), budget=B, replications=2, seed=5, workers=1, smoothing=False, max_evaluations=8)
    b = allocate_budget(two_channels(), budget=B, replications=2, seed=5, workers=2, smoothing=False, max_evaluations=8)
    assert a.allocation == b.allocation
    assert a.recommended.per_seed == b.recommended.per_seed


# --- the policy-lever mapping and the default preset ---------------------------------------------------------


def test_policy_cost_is_linear_in_coverage():
    """Half coverage costs half the full-coverage cost, within sampling error (the budget's linearity assumption)."""
    sc = load_scenario("retail_tiers")
    ev = Evaluator(sc, customers=1500, days=120, replications=4, seed=3)
    base = tuple((c.name, c.daily_spend) for c in sc.config.channels)
    names = ("repurchase_coupon", "loyalty", "referral")  # winback: a handful of redemptions at this size
    full, half = ev.evaluate_many([Setting(base, tuple((n, 1.0) for n in names)),
                                   Setting(base, tuple((n, 0.5) for n in names))])
    bounty = next(p for p in sc.policies if p.name == "referral").params.bounty
    for n in names:
        c_full = sum(r["policy_costs"][n] for r in full)
        c_half = sum(r["policy_costs"][n] for r in half)
        # coverage reaches a fixed random half of the customers, and half-covered policies keep fewer
        # customers buying (measured at 5,000 customers x 365 days: 0.46-0.49 of full): 6% of bias room.
        # Sampling: coupons and points go to thousands of customers here (binomial share: ~2%); referral
        # bounties are counted events (cost / bounty), Poisson: 4 standard errors of the ratio of counts.
        sampling = 0.04
        if n == "referral":
            k_full, k_half = c_full / bounty, c_half / bounty
            sampling = 4 * math.sqrt(1 / max(k_half, 1) + 1 / max(k_full, 1))
        assert c_half == pytest.approx(0.5 * c_full, rel=0.06 + sampling), n


def test_default_preset_recommendation_beats_equal_split():
    """On the default preset (small population) the recommendation beats the equal split beyond its 95% CI."""
    # 2,000 customers over 120 days, 4 seeds, 12 search evaluations: ~70 short simulations (the full-size
    # figures are in docs/budget.md); the gain is ~5 standard errors here, so a fixed seed is not a lucky one
    result = allocate_budget(load_scenario("retail_tiers"), customers=2000, horizon=120, replications=4, seed=1,
                             workers=2, max_evaluations=12, marginal_returns=False)
    gain = result.difference(result.equal)
    assert gain.ci_low > 0, gain
    equal = dict(zip([lv.name for lv in result.levers], result.equal.allocation))
    assert result.allocation["loyalty"] < 0.5 * equal["loyalty"]  # the lever losing money within the horizon is cut


# --- strategists' controls: chosen levers, held levers, bounds from the caller --------------------------------


def test_levers_and_fix_leave_the_other_levers_exactly_unchanged():
    """--levers/--fix: the held lever spends exactly what it was given, the optimised ones add up to the
    budget exactly, and levers outside the question keep the scenario's own spend in every simulated world."""
    sc = load_scenario("retail_tiers")
    result = allocate_budget(sc, budget=1200.0, customers=800, horizon=60, replications=2, seed=4,
                             levers=["search", "social", "winback"], fix={"social": 250.0}, max_evaluations=6,
                             marginal_returns=False)
    assert [lv.name for lv in result.levers] == ["search", "social", "winback"]
    assert result.allocation["social"] == 250.0 and result.fixed == {"social": 250.0}
    assert math.fsum(result.allocation.values()) == pytest.approx(1200.0, abs=4 * math.ulp(1200.0))
    kol = next(c.daily_spend for c in sc.config.channels if c.name == "kol")
    assert result.held["kol"] == {"kind": "channel", "daily_spend": kol}
    for outcome in (result.recommended, result.equal, result.current, result.zero):
        assert outcome.channel_spend["kol"] == kol  # spend is set, not drawn: exactly the scenario's
    for trial in result.trace.trials:
        assert trial.allocation[1] == 250.0
        assert math.fsum(trial.allocation) == pytest.approx(1200.0, abs=4 * math.ulp(1200.0))
    coverage = {p.name: p.params.coverage for p in sc.policies}
    assert result.held["loyalty"] == {"kind": "policy", "coverage": coverage["loyalty"]}


def test_caller_bounds_and_bad_lever_names():
    """Bounds from the caller hold in the recommendation; unknown or contradictory names are one clear error."""
    result = allocate_budget(two_channels(), budget=B, replications=2, seed=1, bounds={"cheap": (None, 600.0)},
                             max_evaluations=6, marginal_returns=False)
    assert result.allocation["cheap"] <= 600.0 and result.allocation["premium"] == pytest.approx(B - result.allocation["cheap"])
    with pytest.raises(ConfigError, match="levers: unknown lever 'cheep'"):
        allocate_budget(two_channels(), budget=B, replications=2, levers=["cheep"])
    with pytest.raises(ConfigError, match="fix: cheap = -1"):
        allocate_budget(two_channels(), budget=B, replications=2, fix={"cheap": -1.0})
    with pytest.raises(ConfigError, match="bounds: 'premium' is not one of the levers being optimised"):
        allocate_budget(two_channels(), budget=B, replications=2, levers=["cheap"], bounds={"premium": (0.0, 5.0)})


# --- risk in view --------------------------------------------------------------------------------------------

STEADY_OR_LUMPY = """
name = "steady_or_lumpy"
description = "Two channels of equal reach per unit spent: many ordinary customers, or a few worth 105 times as much."
[run]
days = 120
seed = 3
annual_discount_rate = 0.0
[population]
initial_customers = 0
initial_stage = "active"
[customers]
purchase_rate = { distribution = "constant", value = 24.0 }
basket_value = { distribution = "constant", value = 10.0 }
gross_margin = 0.5
[[stages]]
name = "active"
[[channels]]
name = "steady"
daily_spend = 300.0
cac = 20.0
saturation = 200.0
[[channels]]
name = "lumpy"
daily_spend = 300.0
cac = 2000.0
saturation = 2.0
basket_multiplier = 105.0
"""


def test_risk_objective_chooses_the_safer_allocation():
    """The lumpy channel's customers are worth 5% more per unit spent (same response curve shape), but come
    100 times fewer: its profit is a Poisson count of big values. The mean objective leans to it; the 10th
    percentile of profit moves the money to the steady channel, and is higher there on the same report seeds."""
    sc = parse_scenario(STEADY_OR_LUMPY, source="steady or lumpy")
    mean = allocate_budget(sc, budget=600.0, objective="profit", replications=40, seed=1, marginal_returns=False)
    safe = allocate_budget(sc, budget=600.0, objective="profit_p10", seed=1, marginal_returns=False)
    assert safe.replications == 40  # the default for a risk objective
    assert mean.allocation["lumpy"] > 300.0  # more than half to the better mean
    assert safe.allocation["lumpy"] < mean.allocation["lumpy"] - 0.25 * 600.0
    # both results share the report seeds (same root seed): the tails are compared on the same simulated years
    p10 = lambda r: np.quantile(r.recommended.per_seed["profit_raw"], 0.1)  # noqa: E731
    assert p10(safe) > p10(mean)
    assert np.std(safe.recommended.per_seed["profit_raw"]) < 0.5 * np.std(mean.recommended.per_seed["profit_raw"])
    assert safe.recommended.metrics["profit_p10"].mean == pytest.approx(p10(safe))


# --- the command: constraints, tables, progress ----------------------------------------------------------------


def test_cli_unreachable_ltv_cac_target_is_exit_2_with_the_best_value(tmp_path):
    """No allocation reaches LTV/CAC 50: one error line naming the closest value reached, exit 2, nothing written."""
    path = tmp_path / "two.toml"
    path.write_text(TWO_CHANNELS, encoding="utf-8")
    out = tmp_path / "out"
    res = _invoke("budget", str(path), "--budget", "1500", "--replications", "2", "--workers", "1",
                  "--min-ltv-cac", "50", "--out", str(out))
    assert res.exit_code == 2, res.output
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1 and "no allocation of 1,500.00/day reaches LTV/CAC >= 50" in line
    assert "the closest" in line and "the current allocation" in line and "Lower --min-ltv-cac to at most" in line
    assert not out.exists()


def test_cli_tables_are_aligned_and_match_the_json(tmp_path):
    """The frontier table's columns are separated and parse back to the --json numbers."""
    path = tmp_path / "two.toml"
    path.write_text(TWO_CHANNELS, encoding="utf-8")
    args = ("budget", str(path), "--budget", "1500", "--replications", "2", "--workers", "1",
            "--frontier", "1000,2500", "--max-evaluations", "6", "--fix", "premium=400")
    text = _invoke(*args)
    assert text.exit_code == 0, text.output
    d = json.loads(_invoke(*args, "--json").stdout)
    lines = text.stdout.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("budget/day"))
    header = lines[head].split()
    assert header[:6] == ["budget/day", "profit", "ci_low", "ci_high", "LTV/CAC", "constraint"]
    rows = [ln.split() for ln in lines[head + 2: head + 4]]
    for row, point in zip(rows, d["frontier"]):
        assert float(row[0].replace(",", "")) == pytest.approx(point["budget"])
        assert float(row[1].replace(",", "")) == pytest.approx(point["profit"]["mean"], abs=0.5)
        assert float(row[-1].replace(",", "")) == pytest.approx(point["allocation"]["premium"], abs=0.5)
    assert d["allocation"]["premium"] == 400.0 and d["fixed_levers"] == {"premium": 400.0}
    # the lever table: one row per lever, columns two spaces apart, the held lever marked
    lever_rows = [ln for ln in lines if ln.startswith(("cheap ", "premium "))]
    assert len(lever_rows) == 2 and "(held)" in lever_rows[1]
    assert "playbook" not in text.stdout and "claim" not in text.stdout
    assert "simulated years (same customers, same luck) the recommended split earns more" in text.stdout


def test_progress_bars_on_a_terminal_only(monkeypatch):
    """A bar per phase (with counts and ETA) on a terminal; nothing without one or under --json."""
    import io
    import sys

    from lifecycle.cli.base import PhaseBars

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    bars = PhaseBars()
    seen = []
    result = allocate_budget(two_channels(), budget=B, replications=2, seed=1, max_evaluations=4,
                             marginal_returns=False, progress=lambda *a: (seen.append(a), bars(*a)))
    bars.close()
    phases = [p for p, _, _ in seen]
    assert phases[0] == "measuring policy costs" and "searching 2 levers" in phases
    assert "report on independent seeds" in phases
    assert all(0 <= done <= total for _, done, total in seen)
    assert all(seen[i][1] == seen[i][2] for i in range(len(seen) - 1) if seen[i + 1][0] != seen[i][0])  # phases end full
    assert "searching 2 levers" in term.getvalue() and "world" in term.getvalue()
    assert result.allocation
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    silent = PhaseBars(enabled=False)
    silent("searching", 1, 3)
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("args, match", [
    (["--fix", "cheap"], "--fix: expected LEVER=VALUE"),
    (["--fix", "cheap=lots"], "--fix cheap=lots: expected a daily spend"),
    (["--min", "cheap=1", "--min", "cheap=2"], "--min: lever 'cheap' is given twice"),
    (["--levers", "cheap", "--max", "premium=5"], "bounds: 'premium' is not one of the levers"),
    (["--pacing", "cheap=2,x"], "--pacing cheap: expected numbers"),
    (["--levers", "nope"], "levers: unknown lever 'nope'"),
])
def test_cli_lever_options_refuse_bad_input(tmp_path, args, match):
    """Each malformed lever option is one error line naming the option, exit 2."""
    path = tmp_path / "two.toml"
    path.write_text(TWO_CHANNELS, encoding="utf-8")
    res = _invoke("budget", str(path), "--budget", "1500", "--replications", "2", "--workers", "1", *args)
    assert res.exit_code == 2, res.output
    assert match in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_cli_pacing_and_bounds_reach_the_recommendation(tmp_path):
    """--pacing and --max from the command line hold in the result, as the same keys in [budget] do."""
    path = tmp_path / "two.toml"
    path.write_text(TWO_CHANNELS, encoding="utf-8")
    res = _invoke("budget", str(path), "--budget", "1500", "--replications", "2", "--workers", "1", "--json",
                  "--max", "cheap=700", "--pacing", "premium=2,1,1", "--max-evaluations", "5")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    levers = {lv["name"]: lv for lv in d["levers"]}
    assert levers["cheap"]["max"] == 700.0 and d["allocation"]["cheap"] <= 700.0
    assert levers["premium"]["pacing"] == pytest.approx([1.5, 0.75, 0.75])
