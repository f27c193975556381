"""Reproducibility (sim/seeding.py, style rules 10-13 and 29) on both engines.

Same scenario and seed: identical results. Another seed, or another replicate child of one root
``SeedSequence``: different results. Separate streams per subsystem: a policy that draws random
numbers shifts neither the customers' traits nor the arrivals, and one that draws but does nothing
leaves the run unchanged. A run in another process equals the run in this one.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from sim.scenario import load_scenario
from sim.model import CustomerModel
from sim.policies import Policy, Referral
from tests.sim.conftest import make_scenario

SIZE = {"vector": (2000, 90), "agent": (400, 45)}  # initial customers, days


def _preset_run(engine: str, seed, policies=None):
    n0, days = SIZE[engine]
    sc = load_scenario("retail_tiers")
    return CustomerModel(sc, engine=engine, seed=seed, customers=n0, days=days, policies=policies).run()


def _assert_identical(a, b) -> None:
    pd.testing.assert_frame_equal(a.daily, b.daily)
    assert a.customers.keys() == b.customers.keys()
    for key in a.customers:
        np.testing.assert_array_equal(a.customers[key], b.customers[key], err_msg=key)
    np.testing.assert_array_equal(a.flows, b.flows)
    np.testing.assert_array_equal(a.retention_alive, b.retention_alive)
    assert a.ledger_rows == b.ledger_rows
    assert (a.entropy, a.spawn_key) == (b.entropy, b.spawn_key)


def _differ(a, b) -> bool:
    if a.daily.shape != b.daily.shape or a.n_customers != b.n_customers:
        return True
    return not a.daily.equals(b.daily) or not np.array_equal(a.customers["revenue"], b.customers["revenue"])


def test_same_seed_gives_identical_results(engine):
    """Two runs of the preset with one seed are identical in every table."""
    _assert_identical(_preset_run(engine, 7), _preset_run(engine, 7))


def test_another_seed_gives_different_results(engine):
    """Another seed changes the run, and the result records which seed it came from."""
    a, b = _preset_run(engine, 7), _preset_run(engine, 8)
    assert _differ(a, b)
    assert (a.seed, a.entropy) == (7, 7) and (b.seed, b.entropy) == (8, 8)
    # traits of the initial base come from the seed's own traits stream
    assert not np.array_equal(a.customers["rate"][:100], b.customers["rate"][:100])


def test_replicate_children_differ_and_each_reproduces(engine):
    """Children spawned from one root give pairwise different runs; each child, reused, gives the same run."""
    root = np.random.SeedSequence(2024)
    children = root.spawn(3)
    runs = [_preset_run(engine, child) for child in children]
    for i in range(3):
        assert runs[i].entropy == 2024 and runs[i].spawn_key == (i,)
        for j in range(i):
            assert _differ(runs[i], runs[j])
    # the same child object used again (e.g. for an experiment's twin world) gives the same run
    _assert_identical(runs[0], _preset_run(engine, children[0]))
    # and so does an equal child rebuilt from the recorded entropy and spawn key
    rebuilt = np.random.SeedSequence(runs[1].entropy, spawn_key=runs[1].spawn_key)
    _assert_identical(runs[1], _preset_run(engine, rebuilt))


def test_a_drawing_policy_does_not_shift_traits_or_arrivals(engine):
    """Referral draws from the policy stream: the initial base's traits and paid arrivals are unchanged."""
    sc = load_scenario("retail_tiers")
    referral = [p for p in sc.policies if p.name == "referral"]
    assert isinstance(referral[0], Referral)
    plain = _preset_run(engine, 11, policies=[])
    drawing = _preset_run(engine, 11, policies=[Referral(daily_rate=0.05, bounty=1.0, channel="referral")])
    assert drawing.customers["referrals"].sum() > 0  # it did draw and act
    n0 = SIZE[engine][0]
    for trait in ("rate", "basket", "hazard", "dropout"):
        np.testing.assert_array_equal(drawing.customers[trait][:n0], plain.customers[trait][:n0], err_msg=trait)
    for name in ("search", "social", "kol"):
        np.testing.assert_array_equal(drawing.daily[f"acquired:{name}"], plain.daily[f"acquired:{name}"])


class _DiceRoller(Policy):
    """Draws many random numbers a day from day.rng and does nothing with them."""

    kind = "test_dice"

    def apply(self, day):
        day.rng.random(1000)


def test_a_policy_that_only_draws_changes_nothing(engine):
    """A policy whose only action is drawing from its stream leaves the whole run unchanged."""
    plain = _preset_run(engine, 3, policies=[])
    rolled = _preset_run(engine, 3, policies=[_DiceRoller()])
    pd.testing.assert_frame_equal(plain.daily, rolled.daily)
    for key in plain.customers:
        np.testing.assert_array_equal(plain.customers[key], rolled.customers[key], err_msg=key)


def _small_run(seed: int) -> tuple[pd.DataFrame, dict]:
    """A run to compare across processes (module level, so a worker process can import it)."""
    sc = make_scenario(
        customers={"purchase_rate": {"distribution": "gamma", "mean": 0.05, "shape": 0.8}},
        channels=[{"name": "ads", "daily_spend": 100.0, "cac": 20.0, "saturation": 10.0}],
    )
    r = CustomerModel(sc, engine="vector", seed=seed, customers=500).run()
    return r.daily, r.customers


@pytest.mark.slow
def test_runs_in_a_worker_process_equal_runs_in_this_one():
    """Runs done in a freshly spawned worker process equal the same runs done here, in any order."""
    seeds = [1, 2]
    here = [_small_run(s) for s in seeds]
    # one spawned worker: a fresh interpreter (own hash seed, no inherited state) at the cost of
    # one interpreter start-up
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        there = list(pool.map(_small_run, reversed(seeds)))[::-1]
    for (d1, c1), (d2, c2) in zip(here, there):
        pd.testing.assert_frame_equal(d1, d2)
        for key in c1:
            np.testing.assert_array_equal(c1[key], c2[key], err_msg=key)


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_invalid_seeds_are_rejected(bad):
    """A seed that is not a non-negative int or SeedSequence is an error naming the value."""
    with pytest.raises(ValueError, match="seed must be"):
        CustomerModel(make_scenario(), seed=bad, customers=10)
