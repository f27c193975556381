"""From fitted models to a scenario, and the simulation of the calibrated cohort.

Core functions: :func:`calibrated_scenario_toml` (a scenario file whose customers draw their
purchase rate, dropout probability and spend from the fitted BG/NBD and Gamma-Gamma
distributions, and whose base joins on the real cohort's first-purchase days) and
:func:`simulate_cohort` (cumulative repeat transactions per period of that scenario, replicated,
to lay beside the actual and the model's expected curves).

Mapping: BG/NBD's purchase rate per time unit ``lambda ~ gamma(r, rate alpha)`` becomes a daily
rate ``gamma(shape r, mean r / (alpha * days_per_unit))``; the dropout probability after each
repeat purchase ``p ~ beta(a, b)`` maps one to one; the Gamma-Gamma spend ``(p, q, gamma)`` maps
one to one. A simulated day holds a Poisson(rate) number of purchases, each repeat one followed
by the dropout coin (``purchases_per_day = "poisson"``): the exact day-by-day version of the
continuous-time BG/NBD, so the simulated cohort's expected purchases are the model's (with at most
one purchase a day, probability ``1 - exp(-rate)``, the full CDNOW cohort ran 0.6-0.7% below).
"""

from __future__ import annotations

import numpy as np

__all__ = ["calibrated_scenario_toml", "fitted_customers", "simulate_cohort", "DAYS_PER_UNIT"]

DAYS_PER_UNIT = {"week": 7, "day": 1}


def fitted_customers(*, bgnbd: dict, gamma_gamma: dict, time_unit: str) -> dict:
    """The ``[customers]`` table of fitted BG/NBD and Gamma-Gamma customers (margin and fatigue not included)."""
    unit = DAYS_PER_UNIT[time_unit]
    r, alpha, a, b = (float(bgnbd[k]) for k in ("r", "alpha", "a", "b"))
    p, q, g = (float(gamma_gamma[k]) for k in ("p", "q", "gamma"))
    return {
        "purchase_rate": {"distribution": "gamma", "mean": r / (alpha * unit), "shape": r},
        "dropout_after_purchase": {"distribution": "beta", "a": a, "b": b},
        "churn_hazard": {"distribution": "constant", "value": 0.0},
        "purchases_per_day": "poisson",
        "basket_value": {"distribution": "gamma_gamma", "p": p, "q": q, "gamma": g},
    }


def calibrated_scenario_toml(*, name: str, source: str, bgnbd: dict, gamma_gamma: dict, arrivals: list[int],
                             days: int, time_unit: str, gross_margin: float = 0.3, seed: int = 0,
                             calibration_end: str = "", holdout_end: str = "") -> str:
    """The text of a scenario reproducing the calibrated cohort (comments say where numbers come from)."""
    unit = DAYS_PER_UNIT[time_unit]
    r, alpha, a, b = (bgnbd[k] for k in ("r", "alpha", "a", "b"))
    p, q, g = (gamma_gamma[k] for k in ("p", "q", "gamma"))
    mean_rate = r / (alpha * unit)
    schedule = ", ".join(str(int(c)) for c in arrivals)
    return f'''# Customers calibrated from a transaction log ({source}).
# Written by `lifecycle calibrate`: BG/NBD purchase and dropout behaviour and Gamma-Gamma spend,
# fitted by maximum likelihood on the calibration period{f" (to {calibration_end})" if calibration_end else ""}.
# Every simulated customer draws its own purchase rate, dropout probability and typical spend
# from the fitted distributions; the base joins on the real cohort's first-purchase days.

name = "{name}"
description = """Customers calibrated by BG/NBD + Gamma-Gamma from {source}; {sum(arrivals):,} customers joining as in the log."""

[run]
days = {int(days)}                 # calibration + holdout{f" (to {holdout_end})" if holdout_end else ""}
seed = {int(seed)}
annual_discount_rate = 0.10
observed_window_days = 30

[population]
initial_customers = 0
initial_stage = "active"
arrive_as_buyers = true       # each customer joins with its first purchase (the BTYD "trial")
# customers joining on day 0, 1, 2, ...: the first-purchase days of the real cohort
arrival_schedule = [{schedule}]

[customers]
# BG/NBD: purchases per {time_unit} ~ gamma(r = {r:.6g}, alpha = {alpha:.6g}); per day: mean r/(alpha*{unit})
purchase_rate = {{ distribution = "gamma", mean = {mean_rate:.8g}, shape = {r:.8g} }}
# BG/NBD: after each repeat purchase the customer drops out with p ~ beta(a = {a:.6g}, b = {b:.6g})
dropout_after_purchase = {{ distribution = "beta", a = {a:.8g}, b = {b:.8g} }}
churn_hazard = {{ distribution = "constant", value = 0.0 }}   # no dropout between purchases (BG/NBD)
# a day holds Poisson(rate) purchases, each repeat one followed by the dropout coin: BG/NBD exactly
purchases_per_day = "poisson"
# Gamma-Gamma: each order ~ gamma(p, nu), nu ~ gamma(q, gamma): mean order value p*gamma/(q-1) = {p * g / (q - 1):.4g}
basket_value = {{ distribution = "gamma_gamma", p = {p:.8g}, q = {q:.8g}, gamma = {g:.8g} }}
gross_margin = {gross_margin}

[[stages]]
name = "active"
description = "Alive: buys at its own rate."

[[stages]]
name = "dropped"
description = "Dropped out after a repeat purchase (latent)."
churned = true

[[transitions]]
from = "active"
to = "dropped"
rule = "churn"
'''


def simulate_cohort(scenario, *, periods: int, days_per_period: int, replications: int, seed: int) -> np.ndarray:
    """Cumulative repeat transactions per period, shape (replications, periods)."""
    from sim.model import CustomerModel
    from sim.seeding import seed_plan

    days = periods * days_per_period
    out = np.zeros((replications, periods))
    for k, ss in enumerate(seed_plan(seed, replications)):
        result = CustomerModel(scenario, seed=ss, days=days, engine="vector").run()
        daily = result.daily["orders"].to_numpy()
        per_period = daily[: periods * days_per_period].reshape(periods, days_per_period).sum(axis=1)
        out[k] = np.cumsum(per_period)
    return out
