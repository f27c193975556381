"""Experiments read honestly: A/A calibration, coverage of the twin-world truth, CUPED, power.

The experiments here run many independent replicas of one design inside one simulated world
(``run_world(..., replicas=R)``): customers do not interact in the test scenario, so each replica
is an independent experiment. Tolerances are 4 Monte Carlo standard errors of the rate checked.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.experiments import _estimate, _metrics, analyse, arm_value
from analysis.power import proportion_power
from sim.scenario import parse_scenario
from sim.experiment import ArmSpec, ExperimentDesign, run_world

SCENARIO = """
name = "experiment_bench"
[run]
days = 365
seed = 1
[population]
initial_customers = 600
initial_stage = "active"
arrive_as_buyers = true   # every customer has bought once, so loyalty benefits reach everyone
[customers]
purchase_rate = { distribution = "gamma", mean = 0.03, shape = 0.5 }   # persistent differences
basket_value = { distribution = "lognormal", mean = 80.0, sigma = 0.8 }
order_value_shape = 2.0
churn_hazard = { distribution = "constant", value = 0.004 }
gross_margin = 0.4
[[stages]]
name = "active"
[[stages]]
name = "gone"
churned = true
[[transitions]]
from = "active"
to = "gone"
rule = "churn"
[[tiers]]
name = "everyone"
[[policies]]
type = "loyalty"
name = "care"
points_per_unit = 0.0
benefits.everyone = { churn_multiplier = 0.5, purchase_multiplier = 1.3, cost_share_of_spend = 0.02 }
"""
SPECS = {m.name: m for m in _metrics((30,))}
METRICS = ("retention_30d", "repurchase_rate", "revenue", "ltv_cac")


@pytest.fixture(scope="module")
def scenario():
    """The test scenario: heterogeneous, persistent customers and one retention policy."""
    return parse_scenario(SCENARIO, source="experiment test scenario")


def _design(*arms, customers=600, warmup=30, days=60):
    return ExperimentDesign(arms=tuple(arms), warmup_days=warmup, days=days, customers=customers)


def _per_replica(outcomes, metric, alpha=0.05):
    spec = SPECS[metric]
    out = []
    for _, grp in outcomes.frame.groupby("replica", sort=True):
        out.append(_estimate(spec, grp[grp["arm"] == 0], grp[grp["arm"] == 1], alpha, 0.99))
    return out


def _mc_band(p: float, n: int) -> float:
    """4 Monte Carlo standard errors of a rate p estimated from n replicas."""
    return 4 * np.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def aa(scenario):
    """400 A/A experiments: two arms, no difference between them."""
    design = _design(ArmSpec(name="a", share=0.5), ArmSpec(name="b", share=0.5))
    return run_world(scenario, design, seed=11, replicas=400)


@pytest.mark.parametrize("metric", ["retention_30d", "repurchase_rate", "revenue"])
def test_aa_false_positive_rate_is_nominal(aa, metric):
    """Across 400 A/A tests the rejection rate at alpha 0.05 lies within 4 MC SE of 0.05."""
    p = np.array([e.p_value for e in _per_replica(aa, metric)])
    assert abs(np.mean(p < 0.05) - 0.05) <= _mc_band(0.05, p.size)


@pytest.mark.parametrize("metric", ["retention_30d", "repurchase_rate", "revenue"])
def test_aa_confidence_intervals_cover_zero(aa, metric):
    """95% CIs cover the A/A truth (zero) about 95% of the time, and p-values look uniform."""
    ests = _per_replica(aa, metric)
    cover = np.mean([e.ci_low <= 0 <= e.ci_high for e in ests])
    assert abs(cover - 0.95) <= _mc_band(0.95, len(ests))
    # uniform p-values: a Kolmogorov-Smirnov test at alpha 0.001 (discreteness aside)
    assert stats.kstest([e.p_value for e in ests], "uniform").pvalue > 0.001


def test_aa_ltv_cac_ratio_metric_is_calibrated(scenario):
    """LTV/CAC (delta method) is calibrated in A/A tests where customers are acquired at a cost."""
    text = SCENARIO.replace("[[tiers]]", """[[channels]]
name = "ads"
daily_spend = 200.0
cac = 20.0
saturation = 30.0
[[tiers]]""")
    sc = parse_scenario(text, source="A/A with acquisition")
    design = _design(ArmSpec(name="a", share=0.5), ArmSpec(name="b", share=0.5), customers=100)
    outcomes = run_world(sc, design, seed=12, replicas=300)
    ests = [e for e in _per_replica(outcomes, "ltv_cac") if e is not None]
    assert len(ests) >= 290
    cover = np.mean([e.ci_low <= 0 <= e.ci_high for e in ests])
    assert abs(cover - 0.95) <= _mc_band(0.95, len(ests))


@pytest.fixture(scope="module")
def planted(scenario):
    """300 experiments of the 'care' policy, with the twin worlds that know the truth."""
    design = _design(ArmSpec(name="control", share=0.5), ArmSpec(name="care", policies=("care",), share=0.5))
    world = run_world(scenario, design, seed=21, replicas=300)
    twins = {k: run_world(scenario, design, seed=21, replicas=300, fixed_arm=k) for k in (0, 1)}
    return design, world, twins


@pytest.mark.parametrize("metric", METRICS[:3])
def test_planted_effect_ci_covers_twin_world_truth(planted, metric):
    """Each replica's 95% CI covers that replica's true effect (same customers, treated vs not)."""
    _, world, twins = planted
    spec = SPECS[metric]
    by0 = dict(list(twins[0].frame.groupby("replica")))
    by1 = dict(list(twins[1].frame.groupby("replica")))
    ests = _per_replica(world, metric)
    truths = [arm_value(spec, by1[g]) - arm_value(spec, by0[g]) for g in range(len(ests))]
    assert np.mean(truths) > 0  # the policy does help: a real effect, not an A/A in disguise
    cover = np.mean([e.ci_low <= tr <= e.ci_high for e, tr in zip(ests, truths)])
    # Neyman intervals are conservative for the sample effect: coverage at least nominal - 4 MC SE
    assert cover >= 0.95 - _mc_band(0.95, len(ests))


def test_simulated_power_matches_analytic_power(planted):
    """Simulated power of 30-day retention agrees with the analytic (pooled) power within MC error."""
    _, world, twins = planted
    p0 = arm_value(SPECS["retention_30d"], twins[0].frame)
    p1 = arm_value(SPECS["retention_30d"], twins[1].frame)
    ests = _per_replica(world, "retention_30d")
    n = np.mean([e.n_control for e in ests])
    ratio = np.mean([e.n_treatment for e in ests]) / n
    analytic = proportion_power(baseline=p0, mde=p1 - p0, n_per_arm=n, ratio=ratio, method="pooled").power
    simulated = np.mean([e.p_value < 0.05 for e in ests])
    assert 0.2 < analytic < 0.9  # a design point where power is informative
    assert abs(simulated - analytic) <= _mc_band(analytic, len(ests))


def test_cuped_reduces_the_variance_of_the_revenue_estimate(planted):
    """CUPED with pre-period revenue shrinks the spread of revenue estimates across replicas."""
    _, world, _ = planted
    plain = np.array([e.estimate for e in _per_replica(world, "revenue")])
    spec = SPECS["revenue_cuped"]
    cuped = np.array([_estimate(spec, g[g["arm"] == 0], g[g["arm"] == 1], 0.05, 0.99).estimate
                      for _, g in world.frame.groupby("replica")])
    reduction = 1 - cuped.var(ddof=1) / plain.var(ddof=1)
    f = world.frame
    rho = np.corrcoef(f["pre_revenue"], f["revenue"])[0, 1]
    print(f"CUPED: variance of the revenue estimate down {100 * reduction:.0f}% (rho^2 = {rho**2:.2f})")
    # with 300 replicas the variance ratio has a relative standard error of about sqrt(2/299) = 8%;
    # the expected reduction is about rho^2, so ask for at least half of it beyond 4 such errors
    assert reduction > 0.5 * rho**2
    assert rho**2 > 0.2  # persistent customers: the pre-period predicts the experiment period


def test_analyse_reports_truth_srm_and_decision(scenario):
    """A single experiment's report has estimates with true effects, an SRM check and a decision."""
    design = _design(ArmSpec(name="control", share=0.5), ArmSpec(name="care", policies=("care",), share=0.5),
                     customers=6000)
    world = run_world(scenario, design, seed=3)
    twins = {k: run_world(scenario, design, seed=3, fixed_arm=k) for k in (0, 1)}
    report = analyse(world, truth=twins)
    rows = {r["metric"]: r for r in report.rows}
    assert rows["retention_30d"]["true_effect"] > 0
    assert rows["retention_30d"]["ci_low"] <= rows["retention_30d"]["true_effect"] <= rows["retention_30d"]["ci_high"]
    assert report.srm["mismatch"] is False
    assert report.decisions[0]["decision"] in ("ship", "don't ship", "inconclusive")
