"""The customers the dot view follows: a fixed sample, each with a fixed place, whatever the population.

Core object: :class:`DotSample`. Rows of the model's state are in acquisition order and never
move, so a sample can be named by row numbers once, before the run: the first
:data:`BASE_DOTS` customers of the initial base, then every ``k``-th newcomer (``k`` chosen from
the arrivals the channels are expected to bring over the whole run, so the sample reaches its
size near the end of the run rather than filling up in the first weeks), up to
:data:`ARRIVAL_DOTS` of them. Slot ``j`` of the grid always holds the same customer, so a dot
keeps its place and only changes colour; a newcomer's slot is empty (white) until it arrives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["DotSample", "BASE_DOTS", "ARRIVAL_DOTS"]

#: customers of the initial base the dot view follows (the first ones)
BASE_DOTS = 2_000
#: newcomers the dot view follows at most
ARRIVAL_DOTS = 1_000


@dataclass(frozen=True)
class DotSample:
    """Which customers (state rows) the dot view shows, and where.

    ``base``: customers of the initial base followed (rows ``0 .. base-1``); ``initial``: size of
    the initial base; ``every``: one newcomer in ``every`` is followed, from the first one on;
    ``arrivals``: at most this many newcomers.
    """

    initial: int
    base: int
    every: int
    arrivals: int

    @classmethod
    def plan(cls, initial: int, expected_arrivals: float, *, base_dots: int = BASE_DOTS,
             arrival_dots: int = ARRIVAL_DOTS) -> DotSample:
        """The sample for a run starting with ``initial`` customers and expecting ``expected_arrivals`` newcomers."""
        base = int(min(initial, base_dots))
        expected = max(0.0, float(expected_arrivals))
        slots = int(min(arrival_dots, math.ceil(expected))) if expected > 0 else 0
        every = max(1, math.ceil(expected / arrival_dots)) if expected > 0 else 1
        return cls(initial=int(initial), base=base, every=every, arrivals=slots)

    @property
    def size(self) -> int:
        """Slots in the grid (followed customers once every newcomer of the sample has arrived)."""
        return self.base + self.arrivals

    def rows(self, n: int) -> np.ndarray:
        """State rows of the followed customers present among the first ``n`` rows, in slot order."""
        base = np.arange(min(self.base, n), dtype=np.int64)
        if n <= self.initial or not self.arrivals:
            return base
        newcomers = np.arange(self.initial, min(n, self.initial + self.every * self.arrivals), self.every,
                              dtype=np.int64)
        return np.concatenate([base, newcomers])

    def slot_of(self, row: int) -> int | None:
        """The slot of state row ``row``, or None if the dot view does not follow that customer."""
        row = int(row)
        if 0 <= row < self.base:
            return row
        j = row - self.initial
        if j >= 0 and j % self.every == 0 and j // self.every < self.arrivals:
            return self.base + j // self.every
        return None

    def row_of(self, slot: int) -> int | None:
        """The state row in ``slot`` (whether or not that customer has arrived yet), or None outside the grid."""
        slot = int(slot)
        if 0 <= slot < self.base:
            return slot
        if self.base <= slot < self.size:
            return self.initial + (slot - self.base) * self.every
        return None

    def describe(self) -> str:
        """The sampling in words, for the page."""
        if self.base == self.initial:
            first = f"all {self.initial:,} customers of the initial base"
        else:
            first = f"the first {self.base:,} of the {self.initial:,} customers at the start"
        if not self.arrivals:
            return f"Following {first}; each dot keeps its place."
        newcomers = "every newcomer" if self.every == 1 else f"every {_ordinal(self.every)} newcomer"
        return (f"Following {first} and {newcomers} (up to {self.arrivals:,}); each dot keeps its place, "
                f"newcomers fill the empty places in the order they arrive.")


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k:,}{suffix}"
