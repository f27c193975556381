"""The customer agent: the readable, per-customer reference for one day of behaviour.

Core object: :class:`Customer`, a ``mesa.Agent`` that is a view of row ``index`` of the model's
columnar state. :meth:`Customer.step` spells out, one customer at a time, exactly what
:class:`sim.engines.vector.VectorEngine` does for all customers at once.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.draws import gamma_variate, keyed_uniform
from sim.state import NONE

__all__ = ["Customer"]


class Customer(mesa.Agent):
    """One customer; its attributes live in ``model.state`` at row ``index``."""

    def __init__(self, model, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def stage(self) -> str:
        """The customer's current stage name."""
        return self.model.graph.names[self.model.state.stage[self.index]]

    def step(self) -> None:
        """One day: re-activation, latent churn, purchase, dropout, one stage transition.

        Draws are the customer's own (:func:`sim.draws.uniform` by day and purpose), the same
        numbers the vectorised engine uses: slot 0 decides churn and purchase, 1 the dropout after
        a repeat purchase, 2 a probability rule, 3 a re-activation, 8 onwards the order value.
        """
        m = self.model
        s, g, t, i = m.state, m.graph, m.day, self.index
        key = s.draw_key[i]
        st = int(s.stage[i])
        offer_valid = s.offer_until[i] >= t
        cell = (int(s.arm[i]) + 1, st, int(s.tier[i]) + 1)  # policies' multipliers by arm, stage, tier
        gm = m.group_mod
        lost = bool(g.churned[st])

        if lost and offer_valid and s.offer_reactivation[i] > 0:
            # a lost customer neither buys nor churns; an offer may bring it back
            if keyed_uniform(key, t, 3) < s.offer_reactivation[i]:
                self._move(int(m.reactivate_to[s.offer_policy[i]]), t)
                return

        # one uniform decides both: churn with probability h; otherwise, rescaled, the purchase
        u = keyed_uniform(key, t, 0)
        churn = False
        if g.can_churn[st] and not lost:
            hazard = float(s.hazard[i]) * float(g.churn_mult[st]) * float(s.mod_churn[i]) * float(gm[(2, *cell)])
            if s.contacts_week[i] > m.fatigue_contacts:
                hazard *= m.fatigue_multiplier
            if hazard > 0:
                if u < hazard:
                    churn = True
                else:
                    u = (u - hazard) / (1.0 - hazard)

        bought = False
        if not churn and not lost:
            lam = float(s.rate[i]) * float(g.purchase_mult[st]) * float(s.mod_purchase[i]) * float(gm[(0, *cell)])
            if offer_valid:
                lam *= float(s.offer_lift[i])
            if s.last_purchase[i] == t:  # already bought today (joined the base with a purchase)
                lam = 0.0
            bought = u < -math.expm1(-lam)
        if bought:
            amount = float(s.basket[i]) * float(g.basket_mult[st]) * float(s.mod_basket[i]) * float(gm[(1, *cell)])
            if m.order_shape is not None:
                amount *= gamma_variate(float(m.order_shape), key, t, 8) / m.order_shape
            m.record_orders(np.array([i]), np.array([amount]), t)
            m._buyers.append(i)
            m._amounts.append(amount)
            m._order_stage.append(st)
            if s.purchases[i] >= 2 and g.can_churn[st] and s.dropout[i] > 0 and keyed_uniform(key, t, 1) < s.dropout[i]:
                churn = True

        if churn:
            self._move(int(g.churn_target[st]), t)
            return
        if bought:
            for rule in g.event_rules:
                if rule.source == st and s.purchases[i] >= rule.min_purchases:
                    self._move(rule.target, t)
                    return
        if t >= s.time_due[i]:  # a time rule of this stage is due (see sim.stages)
            for rule in g.time_rules:
                ref = int(getattr(s, rule.since_field)[i])
                if rule.source == st and ref != NONE and t - ref >= rule.after_days:
                    self._move(rule.target, t)
                    return
        if g.prob_total[st] > 0:
            u = keyed_uniform(key, t, 2)
            for k in range(g.prob_cum.shape[1]):
                if u < g.prob_cum[st, k]:
                    self._move(int(g.prob_targets[st, k]), t)
                    return

    def _move(self, target: int, t: int) -> None:
        self.model.transition(np.array([self.index]), np.array([target], dtype=np.int16), t)
