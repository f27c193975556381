"""Seeding: one root ``SeedSequence`` per run, spawned into independent streams per subsystem.

Core objects: :class:`Streams` and :func:`seed_plan` (the seeds of many runs, fixed up front). Sequential generators drive arrivals (how many customers each
channel brings), policies, Mesa and experiment assignment; customers' traits and daily behaviour
use counter-based draws (:mod:`sim.draws`) under their own keys, so every customer has the same
random numbers in every world that shares the seed. Adding a policy draw cannot shift the draws
of customers, and two arms of an experiment built from the same seed share the same customers
(common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Streams", "make_streams", "seed_plan", "SeedLike"]

SeedLike = int | np.random.SeedSequence

GENERATORS = ("arrivals", "policy", "mesa", "assignment")
KEYS = ("ids", "traits", "behaviour", "assignment_key")


@dataclass(frozen=True)
class Streams:
    """Independent generators and draw keys of one run, and the seed they came from."""

    arrivals: np.random.Generator
    policy: np.random.Generator
    mesa: np.random.Generator
    assignment: np.random.Generator
    ids: int  # key of customer identities
    traits: int  # key of trait draws
    behaviour: int  # key of daily behaviour draws
    assignment_key: int  # key of arm draws for customers arriving during an experiment
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
    # spawn from a copy so that building streams twice from one SeedSequence gives the same run
    root = np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key, pool_size=root.pool_size)
    children = root.spawn(len(GENERATORS) + len(KEYS))
    gens = {name: np.random.Generator(np.random.PCG64(ss)) for name, ss in zip(GENERATORS, children)}
    keys = {name: int(ss.generate_state(1, np.uint64)[0]) for name, ss in zip(KEYS, children[len(GENERATORS):])}
    return Streams(**gens, **keys, entropy=int(root.entropy), spawn_key=tuple(root.spawn_key))


def seed_plan(seed: int, points: int, replications: int | None = None):
    """The seeds of replicated work, fixed before any of it is dispatched.

    ``seed_plan(seed, n)`` is ``SeedSequence(seed).spawn(n)``: one child per run.
    ``seed_plan(seed, points, replications)`` is ``[point][replication]``: one child per point,
    one grandchild per replication, so adding replications never changes a point's first ones and
    results do not depend on how the runs are spread over workers.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(int(points))
    if replications is None:
        return children
    return [child.spawn(int(replications)) for child in children]
