"""One customer's story: what happened to each customer the dot view follows, day by day.

Core objects: :class:`StoryRecorder` (a watcher of :class:`sim.model.CustomerModel`: it is told of
every order, stage move and policy charge as the model books it, keeps those of the followed
customers (:class:`~lifecycle.app.sample.DotSample`), and after each day notes the offers they
received) and :func:`traits_in_words`. :meth:`StoryRecorder.story` is the timeline the page
shows: channel, traits in words, every purchase, stage move, offer received and redeemed, and
the money so far (revenue, margin, policy costs, acquisition cost, LTV so far).

The recorder only reads the model (no draw, no state change), so a run with it is the run
without it: a story's purchases are those of ``lifecycle.run(...).customers`` with the same
scenario, seed and days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.state import NONE

__all__ = ["StoryRecorder", "Event", "traits_in_words"]

#: what a policy charge of each kind is, in a story
CHARGES = {"discount": "redeemed the offer of", "contact": "was contacted by", "points": "earned points from",
           "benefit": "got a tier benefit from", "bounty": "earned a referral bounty from", "other": "cost"}


@dataclass(frozen=True)
class Event:
    """One line of a story: ``kind`` is joined, purchase, move, offer, redeemed or cost."""

    day: int
    kind: str
    text: str
    amount: float | None = None


class StoryRecorder:
    """Keeps the events of the customers ``sample`` follows in ``model`` (registered as its watcher)."""

    def __init__(self, model, sample) -> None:
        self.model, self.sample = model, sample
        self.events: dict[int, list[Event]] = {}
        size = max(1, sample.size)
        self._offer_until = np.full(size, NONE, dtype=np.int64)  # per slot: the offer held at the last look
        self._seen = 0  # followed customers already joined
        model.watchers.append(self)
        self._join()

    # --- the model's watcher hooks ---------------------------------------------------------------

    def _followed(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        s = self.sample
        j = idx - s.initial
        newcomer = (j >= 0) & (j % s.every == 0) & (j // s.every < s.arrivals)
        return (idx < s.base) | newcomer

    def ordered(self, idx, amounts, t) -> None:
        """Orders booked on day ``t``."""
        keep = self._followed(idx)
        for row, amount in zip(np.asarray(idx)[keep].tolist(), np.asarray(amounts)[keep].tolist()):
            self._add(row, Event(int(t), "purchase", "bought", float(amount)))

    def moved(self, idx, sources, targets, t) -> None:
        """Stage moves on day ``t``."""
        names = self.model.graph.names
        keep = self._followed(idx)
        for row, a, b in zip(np.asarray(idx)[keep].tolist(), np.asarray(sources)[keep].tolist(),
                             np.asarray(targets)[keep].tolist()):  # fmt: skip
            self._add(row, Event(int(t), "move", f"moved from '{names[a]}' to '{names[b]}'"))

    def charged(self, pid, idx, amounts, kind, t) -> None:
        """Policy costs booked on day ``t`` (a redeemed coupon is a ``discount``)."""
        keep = self._followed(idx)
        policy = self.model.policies[int(pid)].name
        for row, amount in zip(np.asarray(idx)[keep].tolist(), np.asarray(amounts)[keep].tolist()):
            if kind == "discount":
                slot = self.sample.slot_of(row)
                if slot is not None and self._offer_until[slot] < t:  # given and redeemed on the same day
                    self._add(row, Event(int(t), "offer", f"received an offer from '{policy}'"))
                self._add(row, Event(int(t), "redeemed", f"redeemed the offer of '{policy}' (discount)", float(amount)))
            elif amount:
                self._add(row, Event(int(t), "cost", f"{CHARGES.get(kind, 'cost')} '{policy}'", float(amount)))

    # --- after each day --------------------------------------------------------------------------

    def observe(self) -> None:
        """After a day: newly arrived followed customers join; offers received today are noted."""
        self._join()
        s, t = self.model.state, self.model.day - 1
        rows = self.sample.rows(s.n)
        if not rows.size:
            return
        until = s.offer_until[rows].astype(np.int64)
        fresh = (until != self._offer_until[: rows.size]) & (until >= t)
        names = [p.name for p in self.model.policies]
        for k in np.flatnonzero(fresh).tolist():
            pid = int(s.offer_policy[rows[k]])
            who = names[pid] if 0 <= pid < len(names) else "a policy"
            self._add(int(rows[k]), Event(t, "offer", f"received an offer from '{who}' (valid to day {int(until[k])})"))
        self._offer_until[: rows.size] = until

    def _join(self) -> None:
        s, cfg = self.model.state, self.model.config
        rows = self.sample.rows(s.n)
        for row in rows[self._seen:].tolist():
            channel = int(s.channel[row])
            where = "in the initial base" if channel == NONE else f"through '{self.model.channel_names[channel]}'"
            stage = cfg.population.initial_stage if channel == NONE else (cfg.population.entry_stage or
                                                                          cfg.population.initial_stage)
            self.events.setdefault(row, []).insert(0, Event(int(s.acquired[row]), "joined", f"joined {where}, "
                                                                                           f"in stage '{stage}'"))
        self._seen = rows.size

    def _add(self, row: int, event: Event) -> None:
        self.events.setdefault(int(row), []).append(event)

    # --- the story -------------------------------------------------------------------------------

    def story(self, row: int) -> dict:
        """Customer ``row``'s story so far: who, traits in words, events (oldest first), money."""
        s, m = self.model.state, self.model
        row = int(row)
        if not (0 <= row < s.n) or self.sample.slot_of(row) is None:
            raise KeyError(f"customer {row} is not one the dot view follows")
        channel = int(s.channel[row])
        events = sorted(self.events.get(row, []), key=lambda e: (e.day, e.kind != "joined"))
        purchases = [e for e in events if e.kind == "purchase"]
        return {
            "customer": row,
            "slot": self.sample.slot_of(row),
            "channel": "initial base" if channel == NONE else m.channel_names[channel],
            "acquired": int(s.acquired[row]),
            "stage": m.graph.names[int(s.stage[row])],
            "traits": traits_in_words(s, row),
            "events": events,
            "purchases": len(purchases),
            "revenue": float(s.revenue[row]),
            "margin": float(s.margin[row]),
            "policy_cost": float(s.policy_cost[row]),
            "acquisition_cost": float(s.acquisition_cost[row]),
            "ltv": float(s.value[row]),
            "day": m.day,
        }


def _share_below(column: np.ndarray, value: float) -> float:
    return float((column < value).mean()) if column.size else 0.0


def traits_in_words(state, row: int) -> list[str]:
    """The customer's drawn traits as sentences, each against the other customers so far."""
    n = state.n
    rate, basket, hazard = float(state.rate[row]), float(state.basket[row]), float(state.hazard[row])
    words = []
    every = f"about once every {1 / rate:,.0f} days" if rate > 0 else "never, unless an offer tempts it"
    words.append(f"Buys {every} (purchase rate {rate:.4f} a day; more often than "
                 f"{100 * _share_below(state.rate[:n], rate):.0f}% of customers).")
    words.append(f"A typical order is about {basket:,.0f} (more than {100 * _share_below(state.basket[:n], basket):.0f}% "
                 f"of customers' typical orders).")
    stay = f"about {1 / hazard:,.0f} days on average" if hazard > 0 else "for ever, if nothing else moves it"
    words.append(f"Each day a {100 * hazard:.2f}% chance of leaving without a word: it stays {stay} "
                 f"(riskier than {100 * _share_below(state.hazard[:n], hazard):.0f}% of customers).")
    dropout = float(state.dropout[row])
    if dropout > 0:
        words.append(f"After each repeat purchase a {100 * dropout:.0f}% chance of dropping out.")
    return words
