"""Calibration meets the simulator: recovery from simulated logs, the calibrated CDNOW cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.calibration import BetaGeoModel, GammaGammaModel, holdout_validation, load_transactions, rfm_summary
from analysis.calibration.scenario import calibrated_scenario_toml, simulate_cohort
from sim.scenario import load_scenario, parse_scenario
from sim.model import CustomerModel

TRUE_BGNBD = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}  # weekly: a purchase every ~12 weeks on average
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}
START = pd.Timestamp("2020-01-01")


def _simulated_log(tmp_path, customers: int, weeks: int, seed: int):
    """Run the simulator on a scenario with known parameters and write its orders as a CSV log."""
    text = calibrated_scenario_toml(
        name="known", source="known parameters", bgnbd=TRUE_BGNBD, gamma_gamma=TRUE_GG,
        arrivals=[customers // 84] * 84, days=weeks * 7, time_unit="week", seed=seed,
    )
    scenario = parse_scenario(text, source="known-parameter scenario")
    result = CustomerModel(scenario, engine="vector", log_orders=True).run()
    c = result.customers
    trial = pd.DataFrame({"customer": np.arange(result.n_customers), "day": c["acquired"],
                          "amount": c["basket"].astype(float)})
    orders = result.orders_frame()[["customer", "day", "amount"]]
    log = pd.concat([trial, orders], ignore_index=True)
    log["date"] = (START + pd.to_timedelta(log["day"], unit="D")).dt.strftime("%Y-%m-%d")
    path = tmp_path / "simulated.csv"
    log[["customer", "date", "amount"]].to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_fit_recovers_parameters_of_logs_made_by_the_simulator(tmp_path):
    """BG/NBD and Gamma-Gamma fitted to a simulated log recover the parameters used (4 SE)."""
    path = _simulated_log(tmp_path, customers=42_000, weeks=78, seed=11)
    log = load_transactions(path)
    summary = rfm_summary(log, calibration_end=(START + pd.Timedelta(days=78 * 7 - 1)).strftime("%Y-%m-%d"))
    bg = BetaGeoModel().fit(summary)
    gg = GammaGammaModel().fit(summary)
    # 4 standard errors: each check fails by chance with probability 6e-5; the simulator allows one
    # purchase a day (as merged logs do), a small bias at these weekly rates (about 0.1 a day at
    # most for the heaviest buyers), well inside the tolerance at this sample size
    for name, true in TRUE_BGNBD.items():
        assert abs(bg.params_[name] - true) < 4 * bg.se_[name], (name, bg.params_[name], bg.se_[name])
    for name, true in TRUE_GG.items():
        assert abs(gg.params_[name] - true) < 4 * gg.se_[name], (name, gg.params_[name], gg.se_[name])


@pytest.mark.slow
def test_calibrated_cdnow_simulation_tracks_the_model_over_the_holdout():
    """The cdnow_calibrated preset's holdout repeat purchases match the BG/NBD expectation (4 SE)."""
    log = load_transactions("scenarios/data/cdnow.txt")
    summary = rfm_summary(log, calibration_end="1997-09-30", holdout_end="1998-06-30")
    model = BetaGeoModel().fit(summary)
    scenario = load_scenario("cdnow_calibrated")
    sims = simulate_cohort(scenario, periods=78, days_per_period=7, replications=6, seed=3)
    check = holdout_validation(log, summary, model, simulated_cumulative=sims)
    cal = check.n_calibration_periods
    expected = check.expected_cumulative[-1] - check.expected_cumulative[cal - 1]
    simulated = sims[:, -1] - sims[:, cal - 1]
    se = simulated.std(ddof=1) / np.sqrt(simulated.size)
    # the mean of 6 replications against the closed-form expectation, within 4 standard errors of
    # that mean (t with 5 df: a false alarm about 1% of the time; the seed is fixed)
    assert abs(simulated.mean() - expected) < 4 * se, (simulated.mean(), expected, se)
    # and week by week through the holdout: repeat purchases since the calibration end, simulated
    # vs expected, within 4 standard errors at every one of the 39 holdout weeks (Bonferroni over
    # 39 checks at 4 SE keeps the family-wise false alarm rate under 1%)
    inc_sim = sims[:, cal:] - sims[:, [cal - 1]]
    inc_exp = check.expected_cumulative[cal:] - check.expected_cumulative[cal - 1]
    se_k = inc_sim.std(axis=0, ddof=1) / np.sqrt(inc_sim.shape[0])
    assert np.all(np.abs(inc_sim.mean(axis=0) - inc_exp) < 4 * se_k + 1e-9)
