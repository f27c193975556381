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


def _row(arm, metric, est, lo, hi, *, p=None, control=1.0, treatment=None, rel=None):
    p = (0.001 if lo > 0 or hi < 0 else 0.5) if p is None else p
    rel_lo, rel_hi = (lo / control, hi / control) if rel is None else rel
    return {"arm": arm, "metric": metric, "estimate": est, "ci_low": lo, "ci_high": hi, "p_value": p,
            "p_value_holm": p, "control": control, "treatment": control + est if treatment is None else treatment,
            "rel_ci_low": rel_lo, "rel_ci_high": rel_hi}


def _decide(rows, mismatch=False, **guard):
    from analysis.experiments import ExperimentReport, Guardrails, decide

    report = ExperimentReport(rows=rows, srm={"mismatch": mismatch, "p_value": 1e-6 if mismatch else 0.5},
                              arm_names=("control", "t"), arm_sizes={})
    return decide(report, Guardrails(**guard))[0]


@pytest.mark.parametrize(
    "rows, decision, because",
    [
        # better LTV, both guardrails held: ship
        ([_row("t", "ltv", 5, 2, 8), _row("t", "observed_retention_90d", 0.0, -0.002, 0.003),
          _row("t", "ltv_cac", 0.1, 0.0, 0.2, control=1.7, treatment=1.8)], "ship", "ltv is better"),
        # better LTV but retention may have dropped by more than half a point: inconclusive
        ([_row("t", "ltv", 5, 2, 8), _row("t", "observed_retention_90d", -0.004, -0.012, 0.003),
          _row("t", "ltv_cac", 0.1, 0.0, 0.2, control=1.7)], "inconclusive", "retention_90d unresolved"),
        # retention surely dropped by more than half a point: don't ship, whatever LTV does
        ([_row("t", "ltv", 5, 2, 8), _row("t", "observed_retention_90d", -0.02, -0.03, -0.01),
          _row("t", "ltv_cac", 0.1, 0.0, 0.2, control=1.7)], "don't ship", "retention_90d breached"),
        # LTV/CAC fell by more than 5% of the control's: don't ship
        ([_row("t", "ltv", 1, -2, 4), _row("t", "observed_retention_90d", 0.0, -0.002, 0.003),
          _row("t", "ltv_cac", -0.3, -0.4, -0.2, control=2.0)], "don't ship", "ltv_cac breached"),
        # significantly worse LTV: don't ship
        ([_row("t", "ltv", -5, -8, -2), _row("t", "observed_retention_90d", 0.0, -0.002, 0.003),
          _row("t", "ltv_cac", 0.0, -0.05, 0.05, control=1.7)], "don't ship", "ltv is worse"),
    ],
    ids=["ship", "retention-unresolved", "retention-breached", "ltv-cac-breached", "ltv-worse"],
)
def test_guardrails_are_relative_to_control_with_margins(rows, decision, because):
    """Non-inferiority against the control decides; the deciding reason is the one reported."""
    d = _decide(rows)
    assert d["decision"] == decision and because in d["reason"], d


def test_the_absolute_ltv_cac_target_is_reported_but_never_decides():
    """Treatment and control both below 3 at this horizon: shipped on LTV, the target shown beside control's value."""
    rows = [_row("t", "ltv", 5, 2, 8), _row("t", "observed_retention_90d", 0.0, -0.002, 0.003),
            _row("t", "ltv_cac", 0.1, 0.0, 0.2, control=1.72, treatment=1.82)]
    d = _decide(rows)
    assert d["decision"] == "ship"
    (target,) = d["targets"]
    assert not target["met"] and target["control"] == 1.72 and "not part of the decision" in target["text"]


def test_a_sample_ratio_mismatch_makes_every_arm_inconclusive():
    """SRM first: the assignment is suspect, whatever the estimates say."""
    rows = [_row("t", "ltv", 5, 2, 8), _row("t", "observed_retention_90d", 0.0, -0.002, 0.003),
            _row("t", "ltv_cac", 0.1, 0.0, 0.2, control=1.7)]
    d = _decide(rows, mismatch=True)
    assert d["decision"] == "inconclusive" and "sample ratio mismatch" in d["reason"]


def test_default_preset_coupon_verdict_is_never_decided_by_the_absolute_target():
    """On the default preset the verdict comes from LTV or a relative guardrail; control's LTV/CAC is shown."""
    sc = load_scenario()
    report = run_experiment(sc, arms=[{"name": "control", "policies": []},
                                      {"name": "coupon", "policies": ["repurchase_coupon"]}],
                            customers=3000, warmup_days=30, days=90, seed=11, truth=False)
    (d,) = report.decisions
    assert "target" not in d["reason"] and d["reason"].startswith(("ltv ", "guardrail"))
    assert d["targets"] and d["targets"][0]["control"] is not None


def test_segments_are_flagged_after_benjamini_hochberg():
    """loses_money uses BH-adjusted p-values within each arm; every estimable row has one."""
    sc = load_scenario()
    report = run_experiment(sc, arms=[{"name": "control", "policies": []},
                                      {"name": "winback", "policies": ["winback"]}],
                            customers=3000, warmup_days=30, days=90, seed=11, truth=False)
    seg = report.segments
    estimable = seg["p_value"].notna()
    assert (seg.loc[estimable, "p_value_bh"] >= seg.loc[estimable, "p_value"] - 1e-12).all()
    flagged = seg[seg["loses_money"]]
    assert ((flagged["p_value_bh"] < 0.05) & (flagged["estimate"] < 0)).all()
