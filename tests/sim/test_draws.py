"""Tests of sim/draws.py: the two halves of the per-customer hash give the one-call numbers."""

from __future__ import annotations

import numpy as np

from sim.draws import customer_key, customer_keys, gamma_variate, keyed_uniform, uniform, uniforms


def test_keyed_uniform_equals_uniform_for_every_customer_day_and_slot():
    key = np.uint64(0x1234_5678_9ABC_DEF0)
    uids = np.random.default_rng(3).integers(0, 2**63, size=200, dtype=np.uint64)
    keys = customer_keys(key, uids)
    for t in (0, 1, 364, 10_000):
        for slot in (0, 1, 2, 3, 8):
            split = np.array([keyed_uniform(k, t, slot) for k in keys])
            assert np.array_equal(split, uniforms(key, uids, t, slot))
    assert keys[0] == customer_key(key, uids[0])
    assert uniform(key, uids[0], 5, 0) == keyed_uniform(keys[0], 5, 0)


def test_keyed_uniforms_are_uniform_and_independent_across_days():
    """Kolmogorov-Smirnov against U(0, 1) and lag-1 correlation over days, 40,000 draws.

    Critical values at a 1e-4 false-alarm rate each: KS sqrt(-ln(5e-5) / 2) / sqrt(n); the
    correlation |r| < 3.9 / sqrt(n).
    """
    keys = customer_keys(np.uint64(99), np.arange(40_000, dtype=np.uint64))
    u0 = np.array([keyed_uniform(k, 7, 0) for k in keys])
    u1 = np.array([keyed_uniform(k, 8, 0) for k in keys])
    n = u0.size
    x = np.sort(u0)
    ks = max(np.max(np.arange(1, n + 1) / n - x), np.max(x - np.arange(n) / n))
    assert ks < np.sqrt(-np.log(5e-5) / 2) / np.sqrt(n)
    assert abs(np.corrcoef(u0, u1)[0, 1]) < 3.9 / np.sqrt(n)


def test_gamma_variate_has_the_gamma_mean_and_variance():
    """Gamma(k, 1) has mean k and variance k; 20,000 draws, within 4 standard errors."""
    keys = customer_keys(np.uint64(5), np.arange(20_000, dtype=np.uint64))
    for k in (0.6, 3.0):
        x = np.array([gamma_variate(k, c, 11, 8) for c in keys])
        n = x.size
        assert abs(x.mean() - k) < 4 * np.sqrt(k / n)
        # variance of the sample variance of Gamma(k): (mu4 - sigma^4) / n, mu4 = 3k^2 + 6k
        assert abs(x.var() - k) < 4 * np.sqrt((3 * k * k + 6 * k - k * k) / n)
