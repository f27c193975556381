"""The vectorised engine: one day of customer behaviour for all customers at once.

Core object: :class:`VectorEngine`. It implements the same day as :meth:`sim.customer.Customer.step`
(the readable per-agent reference) over the columnar state with numpy: no Python loop over
customers, work on the day's event subsets (buyers, churners, movers) where possible. The parity
tests in ``tests/sim/test_engine_parity.py`` hold the two to one semantics.
"""

from __future__ import annotations

import numpy as np

from sim.state import NONE

__all__ = ["VectorEngine"]


class VectorEngine:
    """Steps every customer of ``model`` through a day."""

    def __init__(self, model) -> None:
        self.model = model
        self.rng = model.streams.behaviour

    def step(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Simulate day ``t``; return today's buyers and their order values (list price)."""
        m, s, g, rng = self.model, self.model.state, self.model.graph, self.rng
        n = s.n
        stage = s.stage[:n]
        offer_valid = s.offer_until[:n] >= t
        in_churned = g.churned[stage]

        # 1. re-activation of churned customers holding a valid offer that can bring them back
        react_idx = np.flatnonzero(in_churned & offer_valid & (s.offer_reactivation[:n] > 0))
        if react_idx.size:
            u = rng.random(react_idx.size)
            back = react_idx[u < s.offer_reactivation[react_idx]]
            targets = m.reactivate_to[s.offer_policy[back]]
        else:
            back = targets = np.zeros(0, dtype=np.int64)

        # 2. latent churn by daily hazard (over-contacted customers churn faster)
        hazard = s.hazard[:n] * g.churn_mult[stage] * s.mod_churn[:n]
        contacts = s.contacts[:, :n].sum(axis=0, dtype=np.int16)
        hazard = np.where(contacts > m.fatigue_contacts, hazard * m.fatigue_multiplier, hazard)
        churn = g.can_churn[stage] & (rng.random(n) < hazard)

        # 3. purchases
        lam = s.rate[:n] * g.purchase_mult[stage] * s.mod_purchase[:n]
        lam = np.where(offer_valid, lam * s.offer_lift[:n], lam)
        buy = ~churn & (rng.random(n) < -np.expm1(-lam))
        buyers = np.flatnonzero(buy)
        amounts = (
            s.basket[buyers].astype(np.float64)
            * g.basket_mult[stage[buyers]]
            * s.mod_basket[buyers]
        )
        if m.order_shape is not None and buyers.size:
            amounts *= rng.gamma(m.order_shape, 1.0 / m.order_shape, size=buyers.size)
        m.record_orders(buyers, amounts, t)

        # 4. dropout right after a repeat purchase (BG/NBD)
        repeat = buyers[(s.purchases[buyers] >= 2) & g.can_churn[stage[buyers]]]
        if repeat.size:
            drop = repeat[rng.random(repeat.size) < s.dropout[repeat]]
            churn[drop] = True

        # 5. transitions: at most one per customer; churn > event > time > probability
        moved = np.zeros(n, dtype=bool)
        move_idx: list[np.ndarray] = [back]
        move_to: list[np.ndarray] = [targets.astype(np.int16)]
        moved[back] = True
        churners = np.flatnonzero(churn)
        move_idx.append(churners)
        move_to.append(g.churn_target[stage[churners]])
        moved[churners] = True
        if g.event_rules and buyers.size:
            cand = buyers[~moved[buyers]]
            for rule in g.event_rules:
                hit = cand[(stage[cand] == rule.source) & (s.purchases[cand] >= rule.min_purchases)]
                hit = hit[~moved[hit]]
                moved[hit] = True
                move_idx.append(hit)
                move_to.append(np.full(hit.size, rule.target, dtype=np.int16))
        for rule in g.time_rules:
            ref = getattr(s, rule.since_field)[:n]
            hit = np.flatnonzero((stage == rule.source) & ~moved & (ref != NONE) & (t - ref >= rule.after_days))
            moved[hit] = True
            move_idx.append(hit)
            move_to.append(np.full(hit.size, rule.target, dtype=np.int16))
        if g.prob_rules:
            cand = np.flatnonzero((g.prob_total[stage] > 0) & ~moved)
            if cand.size:
                u = rng.random(cand.size)
                cum = g.prob_cum[stage[cand]]
                k = (u[:, None] >= cum).sum(axis=1)
                ok = k < cum.shape[1]
                hit = cand[ok]
                move_idx.append(hit)
                move_to.append(g.prob_targets[stage[hit], k[ok]])
        idx = np.concatenate(move_idx).astype(np.int64)
        m.transition(idx, np.concatenate(move_to).astype(np.int16), t)
        return buyers, amounts
