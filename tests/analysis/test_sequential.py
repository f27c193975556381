"""Tests for analysis/sequential.py: boundaries against published tables, A/A calibration under peeking.

Pocock and O'Brien-Fleming constants for 2-5 equally spaced looks at two-sided alpha 0.05 are
computed by the code and compared with Jennison & Turnbull (2000), Tables 2.1 and 2.3, to 3
decimals. Under A/A with daily looks (2,000 Monte Carlo replications of 28 looks of a z-statistic
built from independent increments), naive peeking rejects far more often than 5%, while Pocock,
Lan-DeMets spending and the mSPRT stay within 4 Monte Carlo standard errors of (at most) 5%.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.sequential import (
    crossing_probabilities, msprt, obrien_fleming_boundaries, pocock_boundaries, spending_boundaries,
)  # fmt: skip
from scenarios.errors import ConfigError

# Jennison & Turnbull (2000): Table 2.1 (Pocock C_P) and Table 2.3 (O'Brien-Fleming C_B), alpha = 0.05
POCOCK = {2: 2.178, 3: 2.289, 4: 2.361, 5: 2.413}
OBRIEN_FLEMING = {2: 1.977, 3: 2.004, 4: 2.024, 5: 2.040}
REPS, LOOKS, ALPHA = 2_000, 28, 0.05
MC_SE = math.sqrt(ALPHA * (1 - ALPHA) / REPS)


@pytest.mark.parametrize("looks", sorted(POCOCK))
def test_pocock_constants_match_the_published_table(looks):
    """Computed, not stored: the constant solving P(any |Z_k| >= C) = 0.05, to 3 decimals."""
    b = pocock_boundaries(looks)
    assert round(b.z[0], 3) == POCOCK[looks] and len(set(b.z)) == 1
    assert sum(b.crossing) == pytest.approx(0.05, abs=1e-9)


@pytest.mark.parametrize("looks", sorted(OBRIEN_FLEMING))
def test_obrien_fleming_constants_match_the_published_table(looks):
    """c_k = C sqrt(K / k); the final boundary is C, to 3 decimals."""
    b = obrien_fleming_boundaries(looks)
    assert round(b.z[-1], 3) == OBRIEN_FLEMING[looks]
    assert np.allclose(np.array(b.z) * np.sqrt(np.arange(1, looks + 1) / looks), b.z[-1])


def test_one_look_is_the_fixed_sample_test():
    """With a single look every method is the ordinary two-sided z-test."""
    assert pocock_boundaries(1).z[0] == pytest.approx(1.959964, abs=1e-6)
    assert crossing_probabilities([1.959964], [1.0])[0] == pytest.approx(0.05, abs=1e-7)


@pytest.mark.parametrize("spending", ["obrien_fleming", "pocock"])
def test_spending_boundaries_spend_exactly_the_planned_alpha(spending):
    """At unequal fractions each look crosses with exactly the alpha its spending function allots."""
    from analysis.sequential import SPENDING

    t = np.array([0.2, 0.45, 0.7, 1.0])
    b = spending_boundaries(t, spending=spending)
    allotted = np.diff(np.r_[0.0, SPENDING[spending](t, 0.05)])
    assert np.allclose(b.crossing, allotted, atol=1e-9) and sum(b.crossing) == pytest.approx(0.05, abs=1e-9)


def test_obrien_fleming_spending_is_stingy_early_and_pocock_even():
    """OBF-type spending demands a much higher early boundary than Pocock-type."""
    t = [0.25, 0.5, 0.75, 1.0]
    obf, poc = spending_boundaries(t), spending_boundaries(t, spending="pocock")
    assert obf.z[0] > 3.5 and obf.z[-1] < 2.1
    assert max(poc.z) - min(poc.z) < 0.05


def test_bad_arguments_are_config_errors():
    """Fractions must increase in (0, 1]; alpha in (0, 1); a known spending function."""
    with pytest.raises(ConfigError, match="increase strictly"):
        spending_boundaries([0.5, 0.4, 1.0])
    with pytest.raises(ConfigError, match="alpha"):
        pocock_boundaries(3, alpha=1.5)
    with pytest.raises(ConfigError, match="spending must be one of"):
        spending_boundaries([0.5, 1.0], spending="linear")


@pytest.fixture(scope="module")
def aa_paths():
    """2,000 A/A experiments looked at daily: per-look difference in means and its variance."""
    rng = np.random.default_rng(20261203)
    per_day = 50  # customers per arm joining each day
    xc = rng.normal(size=(REPS, LOOKS, per_day)).sum(axis=2).cumsum(axis=1)
    xt = rng.normal(size=(REPS, LOOKS, per_day)).sum(axis=2).cumsum(axis=1)
    n = per_day * np.arange(1, LOOKS + 1)
    diff = (xt - xc) / n
    var = np.broadcast_to(2.0 / n, diff.shape)
    return diff, var


def _fpr(rejected: np.ndarray) -> float:
    return float(rejected.any(axis=1).mean())


def test_naive_peeking_inflates_the_false_positive_rate(aa_paths):
    """Rejecting at |z| >= 1.96 at any of 28 daily looks: far above 5% (about 25% in theory)."""
    diff, var = aa_paths
    fpr = _fpr(np.abs(diff) / np.sqrt(var) >= 1.959964)
    assert fpr > ALPHA + 10 * MC_SE


@pytest.mark.parametrize("method", ["pocock", "lan_demets_obrien_fleming", "lan_demets_pocock"])
def test_group_sequential_methods_hold_alpha_under_daily_looks(aa_paths, method):
    """Boundaries for 28 looks: the A/A false-positive rate is within 4 Monte Carlo SE of 5%."""
    diff, var = aa_paths
    t = np.arange(1, LOOKS + 1) / LOOKS
    b = pocock_boundaries(LOOKS) if method == "pocock" else spending_boundaries(t, spending=method.split("_", 2)[2])
    fpr = _fpr(np.abs(diff) / np.sqrt(var) >= np.array(b.z))
    assert abs(fpr - ALPHA) < 4 * MC_SE, fpr


def test_msprt_is_always_valid_under_daily_looks(aa_paths):
    """The mixture SPRT rejects an A/A test at most 5% of the time (it is conservative), within 4 SE."""
    diff, var = aa_paths
    rejected = np.array([msprt(d, v, tau2=var[0][0]) for d, v in zip(diff, var)])
    assert _fpr(rejected) < ALPHA + 4 * MC_SE


def test_msprt_detects_a_real_difference():
    """With a true difference of half a standard deviation per unit it rejects in most runs."""
    rng = np.random.default_rng(7)
    n = 50 * np.arange(1, LOOKS + 1)
    hits = 0
    for _ in range(200):
        xc = rng.normal(size=(LOOKS, 50)).sum(axis=1).cumsum()
        xt = rng.normal(loc=0.3, size=(LOOKS, 50)).sum(axis=1).cumsum()
        hits += bool(msprt((xt - xc) / n, 2.0 / n, tau2=0.1)[-1])
    assert hits / 200 > 0.8
