"""Per-customer random numbers: counter-based draws keyed by who the customer is, not by order.

Core functions: :func:`customer_ids` (a stable 64-bit identity from channel, arrival day and
arrival order), :func:`uniform` (the uniform draw of customer ``uid`` on day ``t`` for purpose
``slot``, from a run key), :func:`gamma_variate` (a gamma draw built from such uniforms) and the
per-batch trait draws in :func:`trait_draws`.

The hash comes in two halves: :func:`customer_keys` mixes the run key with the customer's identity
once, at arrival (the model keeps it in ``state.draw_key``), and :func:`keyed_uniform` mixes in
the day and purpose. ``uniform(key, uid, t, slot) == keyed_uniform(customer_key(key, uid), t,
slot)`` exactly, so the engines' daily work is half a hash per draw.

Why: with one sequential generator, a customer's draws depend on how many draws everyone before
it used, so two worlds that differ in one policy stop sharing random numbers after the first
difference. Keyed draws give every customer the same numbers in every world (common random
numbers), which is what makes a twin-world truth, a policy ROI or a budget comparison precise.
The hash is SplitMix64's finaliser applied to the mixed counters; keys come from the run's
``SeedSequence``, so a run stays reproducible from its seed.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

__all__ = [
    "customer_ids", "customer_key", "customer_keys", "keyed_uniform", "uniform", "uniforms",
    "gamma_variate", "trait_draws", "SLOTS",
]

#: purposes of a customer's draws on one day
SLOTS = {"act": 0, "dropout": 1, "move": 2, "reactivate": 3, "order": 8}

_G1 = uint64(0x9E3779B97F4A7C15)
_G2 = uint64(0xC2B2AE3D27D4EB4F)
_G3 = uint64(0x165667B19E3779F9)


@njit(cache=True, inline="always")
def _fmix(x):
    x = (x ^ (x >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> uint64(27))) * uint64(0x94D049BB133111EB)
    return x ^ (x >> uint64(31))


@njit(cache=True, inline="always")
def customer_key(key, uid):
    """The first half of the hash: run ``key`` mixed with customer identity ``uid``."""
    return _fmix(uint64(key) ^ (uint64(uid) * _G1))


@njit(cache=True, inline="always")
def keyed_uniform(ckey, t, slot):
    """Uniform in [0, 1) for the customer with key ``ckey`` (:func:`customer_key`), day ``t``, purpose ``slot``."""
    x = _fmix(uint64(ckey) ^ (uint64(t) * _G2) ^ (uint64(slot) * _G3))
    return (x >> uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def uniform(key, uid, t, slot):
    """Uniform in [0, 1) for customer ``uid``, day ``t``, purpose ``slot`` under run ``key``."""
    return keyed_uniform(customer_key(key, uid), t, slot)


@njit(cache=True)
def customer_keys(key, uids):
    """:func:`customer_key` for many customers at once."""
    out = np.empty(uids.shape[0], dtype=np.uint64)
    for i in range(uids.shape[0]):
        out[i] = customer_key(key, uids[i])
    return out


@njit(cache=True)
def uniforms(key, uids, t, slot):
    """:func:`uniform` for many customers at once."""
    out = np.empty(uids.shape[0], dtype=np.float64)
    for i in range(uids.shape[0]):
        out[i] = uniform(key, uids[i], t, slot)
    return out


@njit(cache=True)
def customer_ids(key, source, day, first, count):
    """Identities of the ``first .. first+count-1``-th customers arriving on ``day`` from ``source``."""
    out = np.empty(count, dtype=np.uint64)
    base = _fmix(uint64(key) ^ (uint64(source) * _G1) ^ (uint64(day) * _G2))
    for j in range(count):
        out[j] = _fmix(base ^ (uint64(first + j) * _G3))
    return out


@njit(cache=True)
def gamma_variate(shape, ckey, t, slot):
    """Gamma(shape, 1) from the uniforms of the customer keyed ``ckey`` (Marsaglia & Tsang, 2000;
    boost for shape < 1)."""
    boost = 1.0
    k = shape
    if k < 1.0:
        boost = keyed_uniform(ckey, t, slot) ** (1.0 / k)
        k += 1.0
    d = k - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    s = slot + 1
    while True:
        u1 = keyed_uniform(ckey, t, s)
        u2 = keyed_uniform(ckey, t, s + 1)
        u3 = keyed_uniform(ckey, t, s + 2)
        s += 3
        z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
        v = (1.0 + c * z) ** 3
        if v > 0.0 and np.log(1.0 - u3) < 0.5 * z * z + d - d * v + d * np.log(v):
            return d * v * boost


def trait_draws(dist, key: int, batch: tuple[int, ...], first: int, count: int) -> np.ndarray:
    """Draws ``first .. first+count-1`` of trait stream ``batch`` (e.g. source, day, trait).

    Each (run key, batch) has its own generator, so the j-th customer of a batch gets the same
    value whatever else arrived; ``first`` skips draws given to earlier arrivals of the batch.
    """
    from sim.distributions import draw

    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([key, *batch])))
    return draw(dist, first + count, rng)[first:]
