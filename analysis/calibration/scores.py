"""Per-customer scores from the fitted models: who is alive, who will buy, what they are worth.

Core function: :func:`customer_scores`, one row per customer of the calibration cohort, given
their history (frequency, recency, age at the calibration end):

* ``p_alive``: P(alive at the calibration end | history) (BG/NBD: Fader, Hardie & Lee 2005);
* ``expected_purchases``: expected repeat purchases in the ``horizon`` after the calibration end;
* ``expected_holdout_purchases`` (with a holdout period): the same over the holdout, beside
  ``actual_holdout_purchases``; their sum is the headline conditional forecast of the holdout check;
* ``expected_spend_per_order``: Gamma-Gamma's E[spend per order | repeat spend so far];
* ``expected_value``: expected revenue over the horizon, discounted at ``annual_discount_rate``
  (the horizon is cut into at most :data:`MAX_STEPS` equal steps; each step's expected purchases
  are discounted from the step's end, at most one time unit late); ``expected_margin``: the same
  times ``gross_margin``;
* ``model``: which models gave the numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.calibration.summary import RFMSummary, rfm_arrays, spend_arrays
from scenarios.errors import ConfigError

__all__ = ["customer_scores", "MAX_STEPS", "MAX_HORIZON_DAYS"]

#: the discounting steps the horizon is cut into, at most
MAX_STEPS = 260
#: the longest horizon scored, in days (ten years)
MAX_HORIZON_DAYS = 3650


def customer_scores(summary: RFMSummary, purchases, spend, *, horizon: float, annual_discount_rate: float = 0.10,
                    gross_margin: float = 1.0, model_name: str | None = None) -> pd.DataFrame:
    """Score every customer of ``summary`` with the fitted purchase and spend models.

    Parameters
    ----------
    summary : RFMSummary
        The calibration summary the models were fitted on.
    purchases : BetaGeoModel or ParetoNBDModel
        Fitted; supplies ``probability_alive`` and ``expected_conditional``.
    spend : GammaGammaModel
        Fitted; supplies ``expected_average_spend``.
    horizon : float
        Length of the scoring window after the calibration end, in the summary's time unit.
    annual_discount_rate : float
        Discount rate of ``expected_value`` (0: undiscounted).
    gross_margin : float
        Share of revenue that is margin, for ``expected_margin``.
    model_name : str, optional
        Written in the ``model`` column (default: from the models' classes).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer, columns as in the module docstring plus ``horizon`` and ``time_unit``.

    Raises
    ------
    ConfigError
        A horizon not > 0 or beyond ten years, a negative discount rate, a margin outside [0, 1].
    """
    if not isinstance(summary, RFMSummary):
        raise ConfigError("customer_scores needs the RFMSummary built by rfm_summary")
    unit = summary.unit_days
    if not (isinstance(horizon, (int, float)) and math.isfinite(horizon) and horizon > 0):
        raise ConfigError(f"horizon must be a number > 0 (in {summary.time_unit}s); got {horizon!r}")
    if horizon * unit > MAX_HORIZON_DAYS:
        raise ConfigError(f"horizon {horizon:g} {summary.time_unit}s is more than ten years "
                          f"({MAX_HORIZON_DAYS // unit} {summary.time_unit}s); choose a shorter one")
    if not (math.isfinite(annual_discount_rate) and 0 <= annual_discount_rate <= 10):
        raise ConfigError(f"annual_discount_rate must be in [0, 10]; got {annual_discount_rate!r}")
    if not (0 <= gross_margin <= 1):
        raise ConfigError(f"gross_margin must be in [0, 1]; got {gross_margin!r}")
    x, tx, t_age = rfm_arrays(summary, owner="customer_scores")
    _, m = spend_arrays(summary, owner="customer_scores")
    table = summary.table
    out = pd.DataFrame(index=table.index)
    out["frequency"] = table["frequency"].to_numpy()
    out["recency"] = tx
    out["T"] = t_age
    out["p_alive"] = np.asarray(purchases.probability_alive(x, tx, t_age), dtype=float)
    steps = min(MAX_STEPS, max(1, math.ceil(horizon)))
    edges = np.linspace(0.0, float(horizon), steps + 1)[1:]
    cumulative = np.zeros(x.size)
    per_order = np.asarray(spend.expected_average_spend(x, m), dtype=float)
    discounted = np.zeros(x.size)
    yearly = math.log1p(annual_discount_rate)
    for end in edges:
        now = np.asarray(purchases.expected_conditional(end, x, tx, t_age), dtype=float)
        discounted += (now - cumulative) * math.exp(-yearly * end * unit / 365.0)
        cumulative = now
    out["expected_purchases"] = cumulative
    if "duration_holdout" in table.columns:
        t_star = float(table["duration_holdout"].iloc[0])
        out["expected_holdout_purchases"] = np.asarray(purchases.expected_conditional(t_star, x, tx, t_age),
                                                       dtype=float)
        out["actual_holdout_purchases"] = table["frequency_holdout"].to_numpy()
    out["expected_spend_per_order"] = per_order
    out["expected_value"] = discounted * per_order
    out["expected_margin"] = out["expected_value"] * gross_margin
    out["horizon"] = float(horizon)
    out["time_unit"] = summary.time_unit
    out["model"] = model_name or f"{_name(purchases)} + {_name(spend)}"
    return out


def _name(model) -> str:
    return {"BetaGeoModel": "BG/NBD", "ParetoNBDModel": "Pareto/NBD", "GammaGammaModel": "Gamma-Gamma",
            "ModifiedBetaGeoModel": "MBG/NBD"}.get(type(model).__name__, type(model).__name__)
