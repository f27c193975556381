"""Tests for analysis/calibration/scores.py: per-customer P(alive), expectations and value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.calibration import (
    GammaGammaModel,
    bgnbd_expected_conditional,
    bgnbd_probability_alive,
    gamma_gamma_expected_spend,
    holdout_validation,
    rfm_summary,
    transactions_from_frame,
)
from analysis.calibration.scores import customer_scores
from scenarios.errors import ConfigError

#: the BG/NBD estimates published for the CDNOW 1/10 sample (Fader, Hardie & Lee 2005)
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


class Published:
    """BG/NBD at the published parameters, duck-typed like a fitted BetaGeoModel."""

    def probability_alive(self, x, tx, T):
        """P(alive | x, t_x, T)."""
        return bgnbd_probability_alive(PUBLISHED, x, tx, T)

    def expected_conditional(self, t, x, tx, T):
        """E[Y(t) | x, t_x, T]."""
        return bgnbd_expected_conditional(PUBLISHED, t, x, tx, T)


class Spend:
    """Gamma-Gamma at the published parameters."""

    def expected_average_spend(self, x, m):
        """E[spend per order | x, m]."""
        return gamma_gamma_expected_spend(GG, x, m)


@pytest.fixture()
def hand_summary():
    """Three customers with the histories of FHL's worked examples (weeks; calibration end 1997-09-30)."""
    end = pd.Timestamp("1997-09-30")
    rows = []
    # a: x = 2, t_x = 213 days = 30.43 weeks, T = 272 days = 38.86 weeks
    rows += [("a", end - pd.Timedelta(days=272), 20.0), ("a", end - pd.Timedelta(days=172), 30.0),
             ("a", end - pd.Timedelta(days=59), 50.0)]
    # b: x = 7, t_x = 206 days = 29.43 weeks, T = 210 days = 30 weeks
    first = end - pd.Timedelta(days=210)
    rows += [("b", first + pd.Timedelta(days=d), 10.0) for d in (0, 30, 60, 90, 120, 150, 180, 206)]
    # c: no repeat purchase, T = 38.86 weeks
    rows += [("c", end - pd.Timedelta(days=272), 12.0)]
    log = transactions_from_frame(pd.DataFrame(rows, columns=["customer", "date", "amount"]))
    return rfm_summary(log, calibration_end="1997-09-30", holdout_end=end + pd.Timedelta(days=273))


def _p_alive_by_hand(x: int, tx: float, T: float) -> float:
    """1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)) for x > 0, else 1."""
    r, alpha, a, b = PUBLISHED["r"], PUBLISHED["alpha"], PUBLISHED["a"], PUBLISHED["b"]
    if x == 0:
        return 1.0
    return 1.0 / (1.0 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))


def test_p_alive_and_expectations_match_hand_computed_values(hand_summary):
    """P(alive) is the closed form computed by hand; customer a expects FHL's published 1.226 in 39 weeks."""
    s = customer_scores(hand_summary, Published(), Spend(), horizon=39, annual_discount_rate=0.0,
                        model_name="BG/NBD (published)")
    assert s.loc["a", ["frequency", "recency", "T"]].tolist() == pytest.approx([2, 213 / 7, 272 / 7])
    assert s.loc["b", ["frequency", "recency", "T"]].tolist() == pytest.approx([7, 206 / 7, 30.0])
    for c in ("a", "b", "c"):
        row = s.loc[c]
        assert row["p_alive"] == pytest.approx(_p_alive_by_hand(int(row["frequency"]), row["recency"], row["T"]),
                                               rel=1e-12)
    assert s.loc["a", "p_alive"] == pytest.approx(0.7266, abs=1e-4)  # (1 + 0.793/3.426 * (43.274/34.844)^2.243)^-1
    assert s.loc["a", "expected_holdout_purchases"] == pytest.approx(1.226, abs=5e-4)  # FHL (2005), section 4
    assert s.loc["a", "expected_purchases"] == pytest.approx(s.loc["a", "expected_holdout_purchases"])
    # spend: FHL (2005, JMR) eq. 5 by hand for a: p (gamma + x m) / (p x + q - 1), m = (30 + 50) / 2
    assert s.loc["a", "expected_spend_per_order"] == pytest.approx(6.25 * (15.44 + 2 * 40.0) / (6.25 * 2 + 2.74))
    assert s.loc["c", "expected_spend_per_order"] == pytest.approx(6.25 * 15.44 / 2.74)  # the population mean
    # undiscounted, the value is expected purchases x expected spend
    np.testing.assert_allclose(s["expected_value"], s["expected_purchases"] * s["expected_spend_per_order"], rtol=1e-12)
    assert set(s["model"]) == {"BG/NBD (published)"}


def test_discounting_lowers_value_by_at_most_the_horizon_factor(hand_summary):
    """At 10% a year over a year the value is below the undiscounted one but above it x 1/1.1."""
    flat = customer_scores(hand_summary, Published(), Spend(), horizon=52, annual_discount_rate=0.0)
    disc = customer_scores(hand_summary, Published(), Spend(), horizon=52, annual_discount_rate=0.10)
    assert np.all(disc["expected_value"] < flat["expected_value"])
    assert np.all(disc["expected_value"] > flat["expected_value"] / 1.1 ** (52 * 7 / 365))


def test_sum_of_expected_holdout_purchases_is_the_headline(cdnow_log, cdnow_summary, cdnow_bgnbd):
    """Summed over CDNOW's customers the expected holdout purchases are the holdout check's headline figure."""
    spend = GammaGammaModel().fit(cdnow_summary)
    s = customer_scores(cdnow_summary, cdnow_bgnbd, spend, horizon=52)
    check = holdout_validation(cdnow_log, cdnow_summary, cdnow_bgnbd)
    assert s["expected_holdout_purchases"].sum() == pytest.approx(check.conditional_expected_total, rel=1e-12)
    assert s["expected_holdout_purchases"].sum() == pytest.approx(16873.73, abs=0.05)
    assert s["actual_holdout_purchases"].sum() == check.actual_total
    assert (s["p_alive"].between(0, 1)).all() and set(s["model"]) == {"BG/NBD + Gamma-Gamma"}


@pytest.mark.parametrize("horizon, message", [(0, "horizon must be a number > 0"), (-1, "> 0"),
                                              (math.inf, "> 0"), (600, "more than ten years")])
def test_bad_horizons_are_refused(hand_summary, horizon, message):
    """A horizon not > 0, not finite or beyond ten years is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=message):
        customer_scores(hand_summary, Published(), Spend(), horizon=horizon)
