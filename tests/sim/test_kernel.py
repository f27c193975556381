"""Tests of sim/engines/kernel.py and the vector engine's threads: same decisions however split."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import sim.engines.vector as vector
from sim.scenario import load_scenario
from sim.engines.kernel import day_kernel, day_kernel_parallel
from sim.model import CustomerModel


@pytest.mark.parametrize("name", ["retail_tiers", "markov_value"])
def test_parallel_kernel_decides_as_the_serial_one_whatever_the_split(name):
    m = CustomerModel(load_scenario(name), customers=20_000, days=200, engine="vector", seed=3)
    m.run(60)
    args = m._vector.kernel_args()
    serial = day_kernel(m.day, m.state.n, *args)
    assert serial[0].size > 50 and serial[3].size > 50  # buyers and moves: the check is not vacuous
    for parts in (1, 2, 3, 7, 64):
        split = day_kernel_parallel(m.day, m.state.n, parts, *args)
        # buyers, order values and stages: identical, in index order
        for a, b in zip(serial[:3], split[:3]):
            assert a.dtype == b.dtype
            assert np.array_equal(a, b), f"{parts} parts"
        # moves: the same set (their order does not matter to the model; each customer moves once)
        for moves in (serial, split):
            assert np.unique(moves[3]).size == moves[3].size
        order_a, order_b = np.argsort(serial[3]), np.argsort(split[3])
        assert np.array_equal(serial[3][order_a], split[3][order_b]), f"{parts} parts"
        assert np.array_equal(serial[4][order_a], split[4][order_b]), f"{parts} parts"


def test_a_run_is_the_same_on_one_thread_and_on_all(monkeypatch):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here: nothing to compare")
    monkeypatch.setattr(vector, "PARALLEL_MIN_CUSTOMERS", 1_000)  # use the parallel kernel here
    results = []
    for threads in (1, 2):
        with vector.kernel_threads(threads):
            assert numba.get_num_threads() == threads
            m = CustomerModel(load_scenario(), customers=20_000, days=90, engine="vector", seed=5)
            m.run()
        s = m.state
        results.append({c: getattr(s, c)[: s.n].copy() for c in ("stage", "purchases", "revenue", "value", "tier")})
    for c in results[0]:
        assert np.array_equal(results[0][c], results[1][c]), c
