"""The two engines read the same per-customer draws, so the same seed gives the same customers.

This is the strongest parity check there is: not "the same distribution" but the same history
for every customer, on every preset. (The distributional parity tests in test_engine_parity.py
remain the guard for engines that could not share draws.)
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from scenarios.loader import presets

from sim.scenario import load_scenario
from sim.model import CustomerModel

COMPARED = ("stage", "first_purchase", "second_purchase", "last_purchase", "purchases", "first_churn",
            "reactivations", "tier", "segment", "referrals")


@pytest.mark.parametrize("name", sorted(presets()))
def test_engines_give_identical_customers(name):
    """Agent and vector engines, same seed: identical per-customer histories and money."""
    sc = load_scenario(name)
    days = 90
    runs = {e: CustomerModel(sc, engine=e, customers=800, days=days, seed=5).run() for e in ("agent", "vector")}
    a, v = runs["agent"].customers, runs["vector"].customers
    assert runs["agent"].n_customers == runs["vector"].n_customers
    for col in COMPARED:
        np.testing.assert_array_equal(a[col], v[col], err_msg=col)
    for col in ("revenue", "margin", "policy_cost", "value"):
        np.testing.assert_allclose(a[col], v[col], rtol=1e-9, atol=1e-9, err_msg=col)
    np.testing.assert_array_equal(runs["agent"].flows, runs["vector"].flows)


def test_a_planted_one_day_shift_breaks_identity():
    """A time rule firing one day later in one run is caught at once by the identity check."""
    sc = load_scenario("retail_tiers")
    original = (resources.files("scenarios") / "presets" / "retail_tiers.toml").read_text(encoding="utf-8")
    text = original.replace("after_days = 30\nsince = \"first_purchase\"", "after_days = 31\nsince = \"first_purchase\"")
    assert text != original
    from sim.scenario import parse_scenario

    shifted = parse_scenario(text, source="shifted")
    a = CustomerModel(sc, engine="agent", customers=800, days=90, seed=5).run()
    b = CustomerModel(shifted, engine="vector", customers=800, days=90, seed=5).run()
    assert not np.array_equal(a.flows, b.flows)


@pytest.mark.parametrize("name, rate", [("retail_tiers", {"distribution": "gamma", "mean": 0.6, "shape": 2.0}),
                                        ("cdnow_calibrated", {"distribution": "gamma", "mean": 0.8, "shape": 0.5})])
def test_engines_agree_with_several_purchases_a_day(name, rate):
    """With purchases_per_day = "poisson" (and rates high enough for many multi-purchase days: churn
    hazards, offers, tiers and dropout all in play) both engines give identical customers."""
    sc = load_scenario(name).with_values({"customers.purchases_per_day": "poisson", "customers.purchase_rate": rate})
    runs = {e: CustomerModel(sc, engine=e, customers=600, days=60, seed=9, log_orders=True).run()
            for e in ("agent", "vector")}
    a, v = runs["agent"].customers, runs["vector"].customers
    assert (runs["vector"].orders_frame()["purchases"] >= 2).sum() > 100
    for col in COMPARED:
        np.testing.assert_array_equal(a[col], v[col], err_msg=col)
    for col in ("revenue", "margin", "policy_cost", "value"):
        np.testing.assert_allclose(a[col], v[col], rtol=1e-9, atol=1e-9, err_msg=col)
    np.testing.assert_array_equal(runs["agent"].orders_frame()["purchases"], runs["vector"].orders_frame()["purchases"])
