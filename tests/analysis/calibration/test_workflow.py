"""Tests for analysis/calibration/workflow.py: calibrate() end to end on the CDNOW log and small logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.calibration import BetaGeoModel, load_transactions, rfm_summary, simulate_bgnbd_log
from analysis.calibration.workflow import calibrate

CAL, HOLD = "1997-09-30", "1998-06-30"


def test_keep_same_day_reaches_the_summary_and_the_fit(cdnow_path, cdnow_summary, cdnow_bgnbd):
    """Kept apart, CDNOW's same-day rows are extra repeat transactions, and the BG/NBD fit moves.

    The log has 2,068 rows sharing a customer and a day with another; those in the calibration
    period must all be added to the calibration frequencies, the rest to the holdout counts.
    """
    kept = load_transactions(cdnow_path, merge_same_day=False)
    assert kept.n_rows_used == 69_659 and not kept.merged_same_day
    summary = rfm_summary(kept, calibration_end=CAL, holdout_end=HOLD)
    merged = cdnow_summary.table
    days = kept.data["date"].to_numpy()
    dup = kept.data.duplicated(["customer", "date"]).to_numpy()
    in_cal = days <= np.datetime64(CAL)
    assert summary.table["frequency"].sum() - merged["frequency"].sum() == int((dup & in_cal).sum())
    assert summary.table["frequency_holdout"].sum() - merged["frequency_holdout"].sum() == int((dup & ~in_cal).sum())
    fit = BetaGeoModel().fit(summary)
    # more repeat transactions at the same ages: a higher purchase rate r / alpha, by far more than
    # the fit's standard error (same-day rows are 3% of the log)
    gap = fit.params_["r"] / fit.params_["alpha"] - cdnow_bgnbd.params_["r"] / cdnow_bgnbd.params_["alpha"]
    assert gap > 0
    assert abs(fit.params_["r"] - cdnow_bgnbd.params_["r"]) > 2 * cdnow_bgnbd.se_["r"]


def test_calibrate_honours_keep_same_day(tmp_path):
    """calibrate(keep_same_day=True) counts same-day purchases apart in its summary, fit and holdout."""
    frame = simulate_bgnbd_log(3_000, {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}, {"p": 6.0, "q": 4.0, "gamma": 15.0},
                               start="2020-01-01", calibration_end="2020-06-30", holdout_end="2020-12-31", rng=5)
    twice = frame.sample(frac=0.2, random_state=5)  # a fifth of the purchases come as two rows
    frame = pd.concat([frame, twice.assign(amount=1.0)], ignore_index=True)
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    merged = calibrate(path, calibration_end="2020-06-30", holdout_end="2020-12-31", replications=1)
    kept = calibrate(path, calibration_end="2020-06-30", holdout_end="2020-12-31", replications=1, keep_same_day=True)
    assert kept.payload["transactions"] == len(frame) > merged.payload["transactions"]
    assert kept.summary.table["frequency"].sum() > merged.summary.table["frequency"].sum()
    assert kept.payload["holdout"]["actual_repeat_transactions"] > merged.payload["holdout"]["actual_repeat_transactions"]
    assert kept.purchases.params_ != merged.purchases.params_
    assert kept.payload["keep_same_day"] is True and merged.payload["keep_same_day"] is False


@pytest.fixture(scope="module")
def small_cdnow(tmp_path_factory):
    """A 1/10 systematic sample of the CDNOW log (every tenth customer, 2,357 customers), as a file."""
    from importlib import resources

    with resources.as_file(resources.files("scenarios") / "data" / "cdnow.txt") as path:
        lines = path.read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.split() and int(ln.split()[0]) % 10 == 1]
    out = tmp_path_factory.mktemp("cdnow") / "cdnow_sample.txt"
    out.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return out


def _template_with_designs(tmp_path):
    """retail_tiers with an [experiment] and a [budget] design, written as a scenario file."""
    from analysis.calibration.template import to_toml
    from sim.scenario import load_scenario

    data = dict(load_scenario("retail_tiers").data)
    data["experiment"] = {"arms": [{"name": "control", "policies": [], "share": 0.5},
                                   {"name": "winback", "policies": ["winback"], "share": 0.5}],
                          "warmup_days": 30, "days": 60}
    data["budget"] = {"total": 1500.0, "objective": "profit"}
    path = tmp_path / "shop.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    return path


def test_template_keeps_everything_but_the_customers(small_cdnow, tmp_path):
    """The written scenario is the template with the fitted customers and the real cohort as its base."""
    from sim.scenario import load_scenario, parse_scenario

    template_path = _template_with_designs(tmp_path)
    template = load_scenario(template_path)
    cal = calibrate(small_cdnow, calibration_end=CAL, holdout_end=HOLD, replications=1, template=str(template_path))
    written = parse_scenario(cal.scenario_text, source="written")
    t, w = template.config, written.config
    for field in ("transitions", "channels", "policies", "tiers", "rfm", "run", "experiment", "budget"):
        assert getattr(w, field) == getattr(t, field), field
    assert [s.name for s in w.stages] == [s.name for s in t.stages]
    assert all(s.purchase_multiplier == s.basket_multiplier == s.churn_multiplier == 1.0 for s in w.stages)
    c = w.customers
    r, alpha = cal.purchases.params_["r"], cal.purchases.params_["alpha"]
    assert c.purchase_rate.shape == pytest.approx(r) and c.purchase_rate.mean == pytest.approx(r / (alpha * 7))
    assert (c.dropout_after_purchase.a, c.dropout_after_purchase.b) == pytest.approx(
        (cal.purchases.params_["a"], cal.purchases.params_["b"]))
    assert c.basket_value.distribution == "gamma_gamma" and c.purchases_per_day == "poisson"
    assert c.gross_margin == t.customers.gross_margin and c.fatigue_contacts_per_week == t.customers.fatigue_contacts_per_week
    pop = w.population
    assert pop.initial_customers == 0 and pop.arrive_as_buyers and sum(pop.arrival_schedule) == 2_357
    assert pop.initial_stage == "activation" and pop.entry_stage == "potential"  # after the first purchase
    assert [p.name for p in written.policies] == [p.name for p in template.policies]
    # the cohort scenario, simulated for the holdout check, is the customers alone
    assert cal.cohort_scenario.config.channels == [] and cal.cohort_scenario.policies == ()
    assert cal.payload["scenario"]["template"] == "retail_tiers"


def test_default_template_is_the_default_preset_and_experiments_and_budgets_run_on_it(small_cdnow):
    """Without a template the default preset is used; a two-arm win-back experiment and a budget run on it."""
    import lifecycle

    cal = lifecycle.calibrate(small_cdnow, calibration_end=CAL, holdout_end=HOLD, replications=1)
    assert cal.payload["scenario"]["template"] == "retail_tiers"
    scenario = cal.scenario
    result = lifecycle.experiment(scenario, customers=2_357, warmup_days=30, days=60, seed=3,
                                  arms=[{"name": "control", "policies": []}, {"name": "winback", "policies": ["winback"]}])
    table = result.table()
    assert set(table["arm"]) == {"winback"} and len(table) > 0
    run = lifecycle.run(scenario, customers=2_357, days=120, seed=3, counterfactual=False)
    base = run.customers[run.customers["channel"] == "initial"]
    assert len(base) == 2_357 and (base["purchases"] >= 1).all()  # the cohort joins with its first purchase
    assert (base["purchases"] >= 2).sum() > 200  # and buys again
    assert len(run.customers) > 2_357  # the template's channels bring new customers
    budget = lifecycle.allocate_budget(scenario, budget=1_000.0, horizon=60, customers=2_357, replications=2,
                                       workers=1, max_evaluations=4)
    assert sum(budget.allocation.values()) == pytest.approx(1_000.0)
