"""Tests for analysis/markov.py: closed forms against partial sums and simulated customers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.markov import discounted_value, expected_occupancy
from scenarios.errors import ConfigError

# new -> active -> at-risk -> churned (absorbing), with win-back from at-risk to active
P = np.array([
    [0.00, 0.70, 0.20, 0.10],
    [0.00, 0.80, 0.15, 0.05],
    [0.00, 0.30, 0.40, 0.30],
    [0.00, 0.00, 0.00, 1.00],
])
R = np.array([5.0, 12.0, 4.0, 0.0])


def _simulate_paths(P, start, horizon, n, rng):
    """Stage of each of ``n`` simulated customers at periods 0..horizon."""
    cum = np.cumsum(P, axis=1)
    states = np.empty((horizon + 1, n), dtype=int)
    states[0] = start
    for t in range(1, horizon + 1):
        u = rng.random(n)
        nxt = (u[:, None] > cum[states[t - 1]]).sum(axis=1)
        states[t] = np.minimum(nxt, P.shape[0] - 1)  # guard against cum[-1] = 1 - 1e-16
    return states


def test_occupancy_equals_matrix_powers():
    """Row t of the occupancy equals pi_0 P^t and every row sums to 1."""
    start = np.array([0.5, 0.3, 0.2, 0.0])
    occ = expected_occupancy(P, start, 12)
    assert occ.shape == (13, 4)
    for t in range(13):
        np.testing.assert_allclose(occ[t], start @ np.linalg.matrix_power(P, t), atol=1e-14)
    np.testing.assert_allclose(occ.sum(axis=1), 1.0, atol=1e-12)


def test_occupancy_matches_simulated_customers():
    """Simulated stage shares match the expected occupancy within 4 binomial s.e."""
    rng = np.random.default_rng(123)
    n, horizon = 20_000, 8
    states = _simulate_paths(P, 0, horizon, n, rng)
    occ = expected_occupancy(P, 0, horizon)
    for t in range(horizon + 1):
        shares = np.bincount(states[t], minlength=4) / n
        # each share is a binomial proportion; 4 s.e. (floor 1e-12 for exact 0/1 shares)
        se = np.sqrt(occ[t] * (1 - occ[t]) / n) + 1e-12
        assert np.all(np.abs(shares - occ[t]) <= 4 * se)


@pytest.mark.parametrize("discount", [0.0, 0.5, 0.9, 0.99])
def test_infinite_value_equals_long_partial_sum(discount):
    """(I - dP)^-1 R equals sum_{t<H} (dP)^t R once d^H is negligible."""
    closed = discounted_value(P, R, discount)
    horizon = 4000  # remainder <= 0.99 ** 4000 * max(R) / (1 - 0.99) ~ 4e-15
    brute = sum(np.linalg.matrix_power(discount * P, t) @ R for t in range(200))
    partial = discounted_value(P, R, discount, horizon=horizon)
    np.testing.assert_allclose(partial, closed, rtol=1e-12)
    if discount <= 0.9:  # remainder <= 0.9 ** 200 * max(R) / (1 - 0.9) ~ 1e-7 absolute
        np.testing.assert_allclose(brute, closed, rtol=1e-7)


@pytest.mark.parametrize(("discount", "horizon"), [(0.9, 1), (0.9, 5), (1.0, 7), (0.0, 3)])
def test_finite_value_equals_explicit_matrix_power_sum(discount, horizon):
    """Finite horizon equals sum_{t=0}^{H-1} (dP)^t R term by term (reward at period start)."""
    expected = sum(np.linalg.matrix_power(discount * P, t) @ R for t in range(horizon))
    np.testing.assert_allclose(discounted_value(P, R, discount, horizon=horizon), expected,
                               rtol=1e-13)


def test_horizon_zero_and_one():
    """H = 0 earns nothing; H = 1 earns exactly the first-period reward, undiscounted."""
    np.testing.assert_array_equal(discounted_value(P, R, 0.9, horizon=0), np.zeros(4))
    np.testing.assert_array_equal(discounted_value(P, R, 0.9, horizon=1), R)


def test_discounted_value_matches_simulated_customers():
    """Mean discounted reward of simulated customers matches the closed form within 4 s.e."""
    rng = np.random.default_rng(7)
    n, horizon, d = 20_000, 30, 0.9
    closed = discounted_value(P, R, d, horizon=horizon)
    for start in range(3):
        states = _simulate_paths(P, start, horizon - 1, n, rng)
        weights = d ** np.arange(horizon)
        per_customer = (R[states] * weights[:, None]).sum(axis=0)
        se = per_customer.std(ddof=1) / math.sqrt(n)
        assert abs(per_customer.mean() - closed[start]) < 4 * se


def test_two_state_closed_form():
    """Active/lapsed chain: V_active = r / (1 - d p_stay) (Pfeifer-Carraway retention model)."""
    p_stay, r, d = 0.8, 10.0, 0.9
    value = discounted_value([[p_stay, 1 - p_stay], [0.0, 1.0]], [r, 0.0], d)
    assert value[0] == pytest.approx(r / (1 - d * p_stay), rel=1e-14)
    assert value[1] == 0.0


def test_reward_matrix_values_columns_independently():
    """An (S, K) reward matrix gives the same columns as K separate calls."""
    rewards = np.column_stack([R, -np.array([1.0, 2.0, 0.5, 0.0])])
    both = discounted_value(P, rewards, 0.95)
    assert both.shape == (4, 2)
    np.testing.assert_allclose(both[:, 0], discounted_value(P, R, 0.95), rtol=1e-14)
    np.testing.assert_allclose(both[:, 1], discounted_value(P, rewards[:, 1], 0.95), rtol=1e-14)


def test_undiscounted_finite_horizon_is_allowed():
    """d = 1 is valid with a finite horizon: expected total reward over H periods."""
    value = discounted_value([[0.5, 0.5], [0.0, 1.0]], [2.0, 0.0], 1.0, horizon=3)
    assert value[0] == pytest.approx(2.0 * (1 + 0.5 + 0.25))


@pytest.mark.parametrize(("call", "match"), [
    (lambda: discounted_value(P, R, 1.0), r"discount must be in \[0, 1\) for an infinite horizon"),
    (lambda: discounted_value(P, R, -0.1, horizon=3), r"discount must be in \[0, 1\] for a finite"),
    (lambda: discounted_value(P, R, 0.9, horizon=-1), r"horizon must be an integer >= 0; got -1"),
    (lambda: discounted_value(P, R[:3], 0.9), r"R must have shape \(4,\) or \(4, K\)"),
    (lambda: discounted_value(P, [1.0, np.nan, 0.0, 0.0], 0.9), r"R must be finite"),
    (lambda: discounted_value(P[:3], R, 0.9), r"P must be a non-empty square matrix"),
    (lambda: discounted_value([[0.5, 0.4], [0.0, 1.0]], [1.0, 0.0], 0.9),
     r"P rows must sum to 1 within 1e-09; row 0 sums to 0.9"),
    (lambda: discounted_value([[1.2, -0.2], [0.0, 1.0]], [1.0, 0.0], 0.9),
     r"P entries must be in \[0, 1\]"),
    (lambda: expected_occupancy(P, 4, 3), r"start must be a stage index in \[0, 3\]; got 4"),
    (lambda: expected_occupancy(P, [0.5, 0.5], 3), r"start must have shape \(4,\)"),
    (lambda: expected_occupancy(P, [0.5, 0.6, 0.0, -0.1], 3), r"start shares must be finite"),
    (lambda: expected_occupancy(P, 0, 2.5), r"horizon must be an integer >= 0; got 2.5"),
])
def test_bad_inputs_raise_config_error(call, match):
    """Invalid chains, rewards, discounts, horizons and starts raise ConfigError."""
    with pytest.raises(ConfigError, match=match):
        call()
