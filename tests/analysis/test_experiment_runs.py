"""Tests for analysis/experiment_runs.py: A/B/n experiments complete on every preset, whatever the data.

A segment or metric whose values are constant, empty or without events is reported as not
estimable with the reason; it never aborts the analysis (a three-arm run on the default preset
used to stop with "y_c and y_t are both constant" on the churned segment).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.experiment_runs import experiment_design, run_experiment
from analysis.experiments import segment_effects
from scenarios.loader import presets
from sim.experiment import Outcomes
from sim.scenario import load_scenario


def _arms(scenario, n: int) -> list[dict]:
    """The control plus n - 1 arms, each adding one of the scenario's policies (or none)."""
    names = [p.name for p in scenario.policies if p.kind != "contact_cap"]
    arms = [{"name": "control", "policies": []}]
    for k in range(1, n):
        arms.append({"name": f"arm{k}", "policies": [names[(k - 1) % len(names)]] if names else []})
    return arms


@pytest.mark.slow
@pytest.mark.parametrize("arms", [3, 4])
@pytest.mark.parametrize("preset", sorted(presets()))
def test_three_and_four_arm_experiments_complete_on_every_preset(preset, arms):
    """Every preset, three and four arms: a report with a row per arm and metric, JSON-ready."""
    sc = load_scenario(preset)
    report = run_experiment(sc, arms=_arms(sc, arms), customers=800, warmup_days=20, days=40, seed=3)
    got = {r["arm"] for r in report.rows}
    assert got == {f"arm{k}" for k in range(1, arms)}
    assert len(report.decisions) == arms - 1
    json.dumps(report.to_dict(), allow_nan=False, default=float)


def test_a_constant_segment_is_not_estimable_and_the_rest_goes_on():
    """A planted segment whose LTV is 0 in both arms: reported with the reason, other segments estimated."""
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        "arm": np.repeat([0, 1], n),
        "tier_at_assign": np.tile([0, 1], n),
        "stage_at_assign": np.zeros(2 * n, dtype=int),
        "segment_at_assign": np.full(2 * n, -1),
        "channel": np.full(2 * n, -1),
    })
    frame["ltv"] = np.where(frame["tier_at_assign"] == 1, 0.0, rng.gamma(2.0, 10.0, 2 * n))  # tier 1: constant
    outcomes = Outcomes(frame=frame, arm_names=("control", "treated"), shares=(0.5, 0.5), horizons=(30,), days=60,
                        stage_names=("s",), tier_names=("paying", "lapsed"), segment_names=(), channel_names=())
    seg = segment_effects(outcomes)
    lapsed = seg[(seg["segmentation"] == "tier") & (seg["segment"] == "lapsed")].iloc[0]
    assert pd.isna(lapsed["estimate"]) and "constant" in lapsed["not_estimable"] and not lapsed["loses_money"]
    paying = seg[(seg["segmentation"] == "tier") & (seg["segment"] == "paying")].iloc[0]
    assert np.isfinite(paying["estimate"]) and pd.isna(paying["not_estimable"])


def test_design_arms_are_checked_against_the_scenario():
    """An arm naming a policy the scenario does not have is a ConfigError listing the policies."""
    from scenarios.errors import ConfigError

    sc = load_scenario()
    with pytest.raises(ConfigError, match="unknown policy 'nope'.*'repurchase_coupon'"):
        experiment_design(sc, [{"name": "a", "policies": []}, {"name": "b", "policies": ["nope"]}])
