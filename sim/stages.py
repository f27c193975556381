"""The stage graph: a scenario's stages and transition rules, compiled to arrays.

Core object: :class:`StageGraph`. Stages are numbered in file order; per-stage multipliers are
arrays indexed by stage number; rules are grouped by kind, each a small array-friendly record.

One day's transition semantics (both engines implement exactly this):

1. A customer makes at most one transition per day.
2. Priority: latent churn, then an event rule fired by today's purchase, then a time rule, then
   a probability rule. Within a kind, the first matching rule in file order wins.
3. A time rule fires on the first day on which ``day - reference >= after_days``; a rule whose
   reference day is undefined (e.g. ``last_purchase`` for a customer who never bought) does not fire.
   (``after_days >= 1``, so a purchase cannot make a time rule fire on the day of the purchase.
   The engines keep each customer's earliest due day in ``state.time_due``, recomputed whenever a
   purchase or a move changes its references, and look at the rules only from that day on.)
4. A probability rule is tried with a single uniform draw: the stage's probability rules split
   ``[0, 1)`` into consecutive intervals in file order, so they are mutually exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.schema import ScenarioConfig

__all__ = ["StageGraph", "TimeRule", "EventRule", "SINCE_CODES", "NEVER"]

SINCE_FIELDS = {
    "acquisition": "acquired",
    "first_purchase": "first_purchase",
    "last_purchase": "last_purchase",
    "stage_entry": "stage_since",
}
#: time-rule reference columns as small integers, in the order the compiled code receives them
SINCE_CODES = {"acquired": 0, "first_purchase": 1, "last_purchase": 2, "stage_since": 3}
#: "no time rule can fire": the due day of a customer whose stage has no usable time rule
NEVER = np.iinfo(np.int32).max


@dataclass(frozen=True)
class TimeRule:
    """``after_days`` after the day in state column ``since_field``: from -> to."""

    source: int
    target: int
    after_days: int
    since_field: str


@dataclass(frozen=True)
class EventRule:
    """A purchase bringing the count to at least ``min_purchases``: from -> to."""

    source: int
    target: int
    min_purchases: int


class StageGraph:
    """Stages and rules of one scenario in array form."""

    def __init__(self, config: ScenarioConfig) -> None:
        self.names: list[str] = [s.name for s in config.stages]
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.names)}
        S = len(self.names)
        self.purchase_mult = np.array([s.purchase_multiplier for s in config.stages], dtype=np.float32)
        self.churn_mult = np.array([s.churn_multiplier for s in config.stages], dtype=np.float32)
        self.basket_mult = np.array([s.basket_multiplier for s in config.stages], dtype=np.float32)
        self.churned = np.array([s.churned for s in config.stages], dtype=bool)
        # purchases are impossible in churned stages, whatever the multiplier says
        self.purchase_mult[self.churned] = 0.0

        self.churn_target = np.full(S, -1, dtype=np.int16)
        self.event_rules: list[EventRule] = []
        self.time_rules: list[TimeRule] = []
        self.prob_rules: list[tuple[int, int, float]] = []
        self.policy_edges: set[tuple[int, int]] = set()
        self.allowed = np.zeros((S, S), dtype=bool)
        for tr in config.transitions:
            a, b = self.index[tr.from_], self.index[tr.to]
            self.allowed[a, b] = True
            if tr.rule == "churn":
                if self.churn_target[a] < 0:  # first churn rule of a stage wins
                    self.churn_target[a] = b
            elif tr.rule == "event":
                self.event_rules.append(EventRule(a, b, int(tr.min_purchases)))
            elif tr.rule == "time":
                self.time_rules.append(TimeRule(a, b, int(tr.after_days), SINCE_FIELDS[tr.since]))
            elif tr.rule == "probability":
                self.prob_rules.append((a, b, float(tr.daily_probability)))
            else:
                self.policy_edges.add((a, b))
        self.can_churn = self.churn_target >= 0
        # event and time rules grouped by source stage for compiled code (file order kept within a
        # stage): the rules of stage s are rows ptr[s] .. ptr[s + 1] - 1
        ev = sorted(self.event_rules, key=lambda r: r.source)
        tr = sorted(self.time_rules, key=lambda r: r.source)
        self.ev_ptr = _pointers([r.source for r in ev], S)
        self.ev_target = np.array([r.target for r in ev], dtype=np.int16)
        self.ev_min = np.array([r.min_purchases for r in ev], dtype=np.int32)
        self.tr_ptr = _pointers([r.source for r in tr], S)
        self.tr_target = np.array([r.target for r in tr], dtype=np.int16)
        self.tr_after = np.array([r.after_days for r in tr], dtype=np.int32)
        self.tr_since = np.array([SINCE_CODES[r.since_field] for r in tr], dtype=np.int8)

        # probability rules as cumulative thresholds per stage: customer in stage s with uniform u
        # moves to prob_targets[s, k] for the first k with u < prob_cum[s, k].
        K = max([sum(1 for r in self.prob_rules if r[0] == s) for s in range(S)] + [0])
        self.prob_cum = np.zeros((S, max(K, 1)), dtype=np.float64)
        self.prob_targets = np.full((S, max(K, 1)), -1, dtype=np.int16)
        fill = np.zeros(S, dtype=int)
        total = np.zeros(S)
        for a, b, p in self.prob_rules:
            total[a] += p
            self.prob_cum[a, fill[a]] = total[a]
            self.prob_targets[a, fill[a]] = b
            fill[a] += 1
        for s in range(S):
            self.prob_cum[s, fill[s]:] = total[s]
        self.prob_total = total
        bad = np.flatnonzero(total > 1 + 1e-12)
        if bad.size:
            s = int(bad[0])
            raise ValueError(
                f"the daily probability rules leaving stage '{self.names[s]}' add up to "
                f"{total[s]:.6g}; they must add up to at most 1"
            )

    def __len__(self) -> int:
        return len(self.names)

    def is_markov(self) -> bool:
        """True when only churn and constant-probability rules move customers."""
        return not self.event_rules and not self.time_rules and not self.policy_edges


def _pointers(sources: list[int], stages: int) -> np.ndarray:
    """CSR-style row pointers of rules sorted by source stage."""
    counts = np.bincount(np.asarray(sources, dtype=np.int64), minlength=stages)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
