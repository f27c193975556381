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
from sim.engines.kernel import further_purchases
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
        With ``purchases_per_day = "poisson"`` the same slot-0 uniform also gives how many
        purchases the day holds (:func:`sim.engines.kernel.further_purchases`).
        """
        # (Reads use ndarray.item, which returns a Python number: arithmetic on numpy scalars
        # costs several times more, and this runs once per customer per day.)
        m = self.model
        s, g, t, i = m.state, m.graph, m.day, self.index
        key = s.draw_key[i]
        st = s.stage.item(i)
        offer_valid = s.offer_until.item(i) >= t
        arm, tier = s.arm.item(i) + 1, s.tier.item(i) + 1  # policies' multipliers by arm, stage, tier
        gm = m.group_mod
        lost = g.churned.item(st)
        bought = False

        if lost:
            # a lost customer neither buys nor churns; an offer may bring it back
            if offer_valid and s.offer_reactivation.item(i) > 0:
                if keyed_uniform(key, t, 3) < s.offer_reactivation.item(i):
                    self._move(m.reactivate_to.item(s.offer_policy.item(i)), t)
                    return
        else:
            # one uniform decides both: churn with probability h; otherwise, rescaled, the purchase
            u = keyed_uniform(key, t, 0)
            churn = False
            if g.can_churn.item(st):
                hazard = s.hazard.item(i) * g.churn_mult.item(st) * s.mod_churn.item(i) * gm.item(2, arm, st, tier)
                if s.contacts_week.item(i) > m.fatigue_contacts:
                    hazard *= m.fatigue_multiplier
                if hazard > 0:
                    if u < hazard:
                        churn = True
                    else:
                        u = (u - hazard) / (1.0 - hazard)
            if not churn:
                lam = s.rate.item(i) * g.purchase_mult.item(st) * s.mod_purchase.item(i) * gm.item(0, arm, st, tier)
                if offer_valid:
                    lam *= s.offer_lift.item(i)
                if s.last_purchase.item(i) == t:  # already bought today (joined the base with a purchase)
                    lam = 0.0
                bought = u < -math.expm1(-lam)
            if bought:
                # the model books the day's orders once every customer has stepped
                value = s.basket.item(i) * g.basket_mult.item(st) * s.mod_basket.item(i) * gm.item(1, arm, st, tier)
                amount = value
                if m.order_shape is not None:
                    amount *= gamma_variate(float(m.order_shape), key, t, 8) / m.order_shape
                count = s.purchases.item(i) + 1  # this order's number
                dropout = s.dropout.item(i)
                if count >= 2 and g.can_churn.item(st) and dropout > 0:
                    churn = keyed_uniform(key, t, 1) < dropout
                made = 1
                if m.several_purchases and not churn:  # Poisson-many purchases a day, u decided the first
                    more, n_more, churn = further_purchases(u, lam, value, float(m.order_shape or 0.0), key, t, count,
                                                            g.can_churn.item(st), dropout)
                    amount += more
                    made += n_more
                    count += n_more
                m.order_today(i, amount, st, made)
            if churn:
                self._move(g.churn_target.item(st), t)
                return
            if bought:
                for rule in g.event_rules:
                    if rule.source == st and count >= rule.min_purchases:
                        self._move(rule.target, t)
                        return
        if t >= s.time_due.item(i):  # a time rule of this stage is due (see sim.stages)
            for rule in g.time_rules:
                ref = getattr(s, rule.since_field).item(i)
                set_by_order = rule.since_field == "last_purchase" or (rule.since_field == "first_purchase" and ref == NONE)
                if bought and set_by_order:
                    ref = t  # today's order, not booked yet, is the last (and maybe the first) purchase
                if rule.source == st and ref != NONE and t - ref >= rule.after_days:
                    self._move(rule.target, t)
                    return
        if g.prob_total.item(st) > 0:
            u = keyed_uniform(key, t, 2)
            for k in range(g.prob_cum.shape[1]):
                if u < g.prob_cum.item(st, k):
                    self._move(g.prob_targets.item(st, k), t)
                    return

    def _move(self, target: int, t: int) -> None:
        self.model.transition(np.array([self.index]), np.array([target], dtype=np.int16), t)
