"""Seeding: one root ``SeedSequence`` per run, spawned into independent streams per subsystem.

Core object: :class:`Streams`. Separate streams for arrivals, customer traits, customer behaviour,
policies and experiment assignment mean that adding a policy draw cannot shift the draws of customers, and that two arms
of an experiment built from the same seed share the same customers (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Streams", "make_streams", "SeedLike"]

SeedLike = int | np.random.SeedSequence

STREAM_NAMES = ("arrivals", "traits", "behaviour", "policy", "mesa", "assignment")


@dataclass(frozen=True)
class Streams:
    """Independent generators of one run, and the seed they came from."""

    arrivals: np.random.Generator
    traits: np.random.Generator
    behaviour: np.random.Generator
    policy: np.random.Generator
    mesa: np.random.Generator
    assignment: np.random.Generator
    entropy: int
    spawn_key: tuple[int, ...]


def make_streams(seed: SeedLike) -> Streams:
    """Build the run's streams from an int seed or a (spawned) ``SeedSequence``."""
    if isinstance(seed, np.random.SeedSequence):
        root = seed
    else:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or a SeedSequence; got {seed!r}")
        root = np.random.SeedSequence(int(seed))
    # spawn from a fresh copy: SeedSequence.spawn advances the object's child counter, so a
    # SeedSequence used twice (say, for an experiment's twin world) would give other streams
    fresh = np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key, pool_size=root.pool_size)
    children = fresh.spawn(len(STREAM_NAMES))
    gens = {name: np.random.Generator(np.random.PCG64(ss)) for name, ss in zip(STREAM_NAMES, children)}
    return Streams(**gens, entropy=int(root.entropy), spawn_key=tuple(root.spawn_key))
