"""Tests for analysis/simulated_power.py's sequential reading: A/A with daily looks through the simulator.

1,000 replications of an A/A experiment of the default preset (two arms, no policy between
them), read daily for 28 days on each customer's LTV so far: naive peeking at |z| >= 1.96 must
reject clearly more often than 5%, and every sequential method at most 5% within 4 Monte Carlo
standard errors (sqrt(0.05 * 0.95 / 1000) = 0.0069). The boundaries assume information grows
with calendar time; the simulated z-process (the same customers' outcomes growing) is more
correlated than that, which makes them conservative, not liberal: hence "at most".
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.experiment_runs import experiment_design
from analysis.simulated_power import SEQUENTIAL_METHODS, simulated_sequential
from scenarios.errors import ConfigError
from sim.experiment import run_world
from sim.scenario import load_scenario

REPS = 1_000
SE = math.sqrt(0.05 * 0.95 / REPS)


@pytest.fixture(scope="module")
def aa_design():
    sc = load_scenario()
    return sc, experiment_design(sc, [{"name": "a", "policies": []}, {"name": "b", "policies": []}], warmup_days=20)


@pytest.mark.slow
def test_daily_looks_at_an_aa_test_inflate_naive_peeking_only(aa_design):
    """Naive peeking rejects far above 5%; Pocock, O'Brien-Fleming, Lan-DeMets and mSPRT stay at most 5%."""
    sc, design = aa_design
    points = {p.method: p for p in simulated_sequential(sc, design, metric="ltv", looks=tuple(range(1, 29)),
                                                        customers=400, replications=REPS, seed=11, workers=2)}
    assert set(points) == set(SEQUENTIAL_METHODS)
    assert all(p.replications >= 0.98 * REPS for p in points.values())
    assert points["naive"].rate > 0.05 + 4 * SE, points["naive"]
    for name in ("pocock", "obrien_fleming", "lan_demets_obrien_fleming", "lan_demets_pocock", "msprt"):
        assert points[name].rate < 0.05 + 4 * SE, points[name]
    assert points["naive"].mean_stopping_day < points["pocock"].mean_stopping_day


def test_look_snapshots_end_at_the_final_outcome(aa_design):
    """At the last look every customer's LTV so far is its final LTV; earlier, only customers assigned by then."""
    sc, design = aa_design
    d = design.model_copy(update={"days": 21})
    f = run_world(sc, d, seed=2, customers=400, looks=(7, 21)).frame
    np.testing.assert_array_equal(f["ltv_look21"].to_numpy(), f["ltv"].to_numpy())
    assigned_later = f["assigned"] > d.warmup_days + 6
    assert f.loc[assigned_later, "ltv_look7"].isna().all() and f.loc[~assigned_later, "ltv_look7"].notna().all()


def test_sequential_arguments_are_checked(aa_design):
    """Looks must increase; the metric must be one the looks record; two arms."""
    sc, design = aa_design
    with pytest.raises(ConfigError, match="looks must be increasing"):
        simulated_sequential(sc, design, looks=(14, 7), replications=10)
    with pytest.raises(ConfigError, match="sequential looks read one of ltv, revenue"):
        simulated_sequential(sc, design, metric="retention_30d", looks=(7,), replications=10)


def test_duration_curve_reports_immature_metrics_and_a_shrinking_mde():
    """90-day retention in a 60-day test is a note, not an error; with longer tests more customers reach it."""
    from analysis.simulated_power import simulated_power

    sc = load_scenario()
    design = experiment_design(sc, [{"name": "control", "policies": []},
                                    {"name": "coupon", "policies": ["repurchase_coupon"]}], warmup_days=20)
    short, mid, long_ = simulated_power(sc, design, metric="retention_90d", points=[(1500, 60), (1500, 120), (1500, 240)],
                                        replications=40, seed=4, workers=2)
    assert short.note == "retention_90d needs a test of more than 90 days" and short.replications == 0
    assert mid.note is None and long_.note is None
    assert long_.mean_n_per_arm > mid.mean_n_per_arm and long_.mde < mid.mde
    assert mid.mde == pytest.approx((1.959964 + 0.841621) * mid.mean_std_error, rel=1e-5)
