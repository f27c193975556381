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


def _day_scenario(params: dict, customers: int, days: int, mode: str):
    """A cohort of ``customers`` joining on day 0 with BG/NBD ``params`` in day units."""
    text = calibrated_scenario_toml(name="exact", source="known parameters", bgnbd=params, gamma_gamma=TRUE_GG,
                                    arrivals=[customers], days=days + 1, time_unit="day")
    return parse_scenario(text, source="exact").with_values({"customers.purchases_per_day": mode})


def _purchases_by(result, last_day: int) -> np.ndarray:
    """Each customer's repeat purchases on days 1 .. ``last_day`` (the order log holds repeat purchases only)."""
    o = result.orders_frame()
    sel = o["day"].to_numpy() <= last_day
    return np.bincount(o["customer"].to_numpy()[sel], weights=o["purchases"].to_numpy()[sel],
                       minlength=result.n_customers)


def _conditional_z(result, days: int) -> tuple[float, float]:
    """(simulated - expected) / SE of the cohort's repeat purchases by the end of day ``days``, given
    each customer's own drawn rate and dropout probability.

    Given lambda and p, BG/NBD's expected repeat purchases in (0, t] are (1 - exp(-lambda p t)) / p
    (Fader, Hardie & Lee 2005, eq. 7's mean). Customers are independent, so the sum of their
    residuals has the SE sqrt(n) x their standard deviation. Returns (z, SE / expected total).
    """
    c = result.customers
    lam, p = c["rate"].astype(float), c["dropout"].astype(float)
    age = days - c["acquired"].astype(float)  # customers join at the end of their arrival day
    expected = -np.expm1(-lam * p * age) / p
    resid = _purchases_by(result, days) - expected
    return float(resid.sum() / (resid.std(ddof=1) * np.sqrt(resid.size))), float(
        resid.std(ddof=1) * np.sqrt(resid.size) / expected.sum())


@pytest.mark.slow
def test_poisson_days_are_the_continuous_time_model_exactly():
    """With Poisson-many purchases a day the simulated repeat purchases are BG/NBD's expectation.

    At rates near one purchase a day (where at most one purchase a day falls 37% short) 100,000
    customers over 60 days: without dropout the SE of the total is 1 / sqrt(100,000 x 30 days)
    = 0.058% at day 30 and 0.041% at day 60, so 4 SE is 0.23% and 0.16%; with dropout (mean
    p = 0.005, about 14% fewer purchases by day 60) the SE is about 0.1%. 4 SE: a false
    alarm about once in 16,000 per check (the seed is fixed). The same check on the one-a-day
    simulator fails by hundreds of SEs, so it can fail.
    """
    with_dropout = {"r": 16.0, "alpha": 16.0, "a": 2.0, "b": 398.0}
    no_dropout = {"r": 16.0, "alpha": 16.0, "a": 1.0, "b": 1e6}  # p ~ 1e-6: next to no dropout
    for params, dropout in ((with_dropout, True), (no_dropout, False)):
        result = CustomerModel(_day_scenario(params, 100_000, 60, "poisson"), seed=3, engine="vector",
                               log_orders=True).run()
        assert result.orders_frame()["purchases"].max() >= 3  # several purchases a day do happen
        for day in (30, 60):
            z, rel_se = _conditional_z(result, day)
            assert abs(z) < 4, (params, day, z)
            assert 4 * rel_se < (0.0025 if not dropout else 0.005), rel_se  # what the check can see
    one_a_day = CustomerModel(_day_scenario(with_dropout, 20_000, 60, "at_most_one"), seed=3, engine="vector",
                              log_orders=True).run()
    assert _conditional_z(one_a_day, 60)[0] < -50


@pytest.mark.slow
def test_calibrated_cdnow_simulation_matches_the_model_at_weeks_39_and_78():
    """The calibrated CDNOW cohort, simulated: repeat purchases at weeks 39 and 78 match BG/NBD.

    Ten copies of the 23,570-customer cohort in one world (customers are independent, so this is
    ten replications). Two checks at each week, 3 SE each (false alarm 0.27% per check; seed fixed):
    the cohort total against the fitted model's tracking expectation (SE about 0.5%, from the
    variance within each first-purchase day), and the residuals given each customer's drawn rate
    and dropout (SE about 0.25%: the one-purchase-a-day simulator, 0.6-0.7% short, fails it).
    """
    log = load_transactions("scenarios/data/cdnow.txt")
    summary = rfm_summary(log, calibration_end="1997-09-30", holdout_end="1998-06-30")
    model = BetaGeoModel().fit(summary)
    copies = 10
    base = parse_scenario(calibrated_scenario_toml(
        name="cdnow", source="cdnow.txt", bgnbd=model.params_, gamma_gamma=TRUE_GG,
        arrivals=[int(c) for c in load_scenario("cdnow_calibrated").config.population.arrival_schedule],
        days=546, time_unit="week"), source="cdnow")
    schedule = [c * copies for c in base.config.population.arrival_schedule]
    result = CustomerModel(base.with_values({"population.arrival_schedule": schedule}), seed=11, engine="vector",
                           log_orders=True).run()
    born = result.customers["acquired"].astype(int)
    for week in (39, 78):
        last = week * 7 - 1
        per = _purchases_by(result, last)
        age_weeks = (last - born) / 7.0
        expected = model.expected_transactions(age_weeks).sum()
        se = np.sqrt(sum(per[born == d].var(ddof=1) * np.sum(born == d) for d in np.unique(born)))
        assert abs(per.sum() - expected) < 3 * se, (week, per.sum() / copies, expected / copies, se / copies)
        z, _ = _conditional_z(result, last)
        assert abs(z) < 3, (week, z)
