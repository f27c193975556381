"""The compiled day kernel: one pass over all customers' columns, no Python per customer.

Core function: :func:`day_kernel`, compiled with numba. It implements exactly the per-customer day
of :meth:`sim.customer.Customer.step` (the readable reference), over the columnar state:
re-activation by offer, latent churn, purchase and order value, dropout after a repeat purchase,
and the one transition a customer may make (churn > event > time > probability). It only
*decides*: it returns the day's buyers with their order values and the day's moves, which the
model then books (money, coupons, counters, stage changes) with the same code for both engines.

Random numbers are the customer's own counter-based draws (:mod:`sim.draws`): the same customer
gets the same numbers on the same day in every world run from the same seed.

:func:`time_rule_due` keeps ``state.time_due``, the first day on which a time rule of a customer's
stage can fire; the kernel looks at the time rules only from that day on, which spares the
(branchy) rule loop on the days, most of them, when no rule is due.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.draws import gamma_variate, keyed_uniform
from sim.stages import NEVER

__all__ = ["day_kernel", "time_rule_due"]


@njit(cache=True, nogil=True)
def time_rule_due(idx, stage, acquired, first_purchase, last_purchase, stage_since, tr_ptr, tr_after, tr_since, due):
    """Set ``due[i]`` for customers ``idx``: the first day a time rule of their stage can fire.

    That is the earliest ``reference + after_days`` over the stage's rules with a defined
    reference (:data:`sim.stages.NEVER` when there is none). ``idx`` may be an index array or a
    range of rows.
    """
    for i in idx:
        st = stage[i]
        best = NEVER
        for r in range(tr_ptr[st], tr_ptr[st + 1]):
            code = tr_since[r]
            if code == 0:
                ref = acquired[i]
            elif code == 1:
                ref = first_purchase[i]
            elif code == 2:
                ref = last_purchase[i]
            else:
                ref = stage_since[i]
            if ref >= 0 and ref + tr_after[r] < best:
                best = ref + tr_after[r]
        due[i] = best


@njit(cache=True, nogil=True)
def day_kernel(
    t, n, draw_key,
    # customer columns
    stage, rate, basket, hazard, dropout, purchases, contacts_week,
    acquired, first_purchase, last_purchase, stage_since, time_due,
    offer_until, offer_lift, offer_reactivation, offer_policy,
    mod_purchase, mod_basket, mod_churn, arm, tier, group_mod,
    # stage graph
    churned, can_churn, churn_target, purchase_mult, basket_mult, churn_mult,
    ev_ptr, ev_dst, ev_min, tr_ptr, tr_dst, tr_after, tr_since, prob_total, prob_cum, prob_targets,
    # model constants
    reactivate_to, fatigue_contacts, fatigue_multiplier, order_shape,
):  # fmt: skip
    """Decide day ``t`` for customers ``0..n-1`` (arithmetic in float64, as the agent engine does).

    Returns (buyers, order values, buyers' stages when ordering, moved customers, their new stages).
    """
    buyers = np.empty(n, dtype=np.int64)
    order_stage = np.empty(n, dtype=np.int16)
    amounts = np.empty(n, dtype=np.float64)
    move_idx = np.empty(n, dtype=np.int64)
    move_to = np.empty(n, dtype=np.int16)
    nb = 0
    nm = 0
    n_prob = prob_cum.shape[1]
    for i in range(n):
        st = stage[i]
        valid = offer_until[i] >= t
        lost = churned[st]
        if lost and valid and offer_reactivation[i] > 0.0:
            # a lost customer neither buys nor churns; an offer may bring it back
            if keyed_uniform(draw_key[i], t, 3) < offer_reactivation[i]:
                move_idx[nm] = i
                move_to[nm] = reactivate_to[offer_policy[i]]
                nm += 1
                continue
        # One uniform decides both: churn with probability h; otherwise, rescaled to [0, 1), it
        # decides the purchase (P = 1 - exp(-rate)). Over-contacted customers churn faster.
        u = keyed_uniform(draw_key[i], t, 0) if not lost else 1.0
        churn = False
        if can_churn[st] and not lost:
            h = np.float64(hazard[i]) * churn_mult[st] * mod_churn[i] * group_mod[2, arm[i] + 1, st, tier[i] + 1]
            if h > 0.0:
                if contacts_week[i] > fatigue_contacts:
                    h *= fatigue_multiplier
                if u < h:
                    churn = True
                else:
                    u = (u - h) / (1.0 - h)
        bought = False
        if not churn and not lost:
            lam = np.float64(rate[i]) * purchase_mult[st] * mod_purchase[i] * group_mod[0, arm[i] + 1, st, tier[i] + 1]
            if valid:
                lam *= np.float64(offer_lift[i])
            # 1 - exp(-lam) <= lam, so the exact test is needed only when u < lam; a customer who
            # joined the base today with a purchase has bought today already
            if u < lam and last_purchase[i] != t:
                bought = u < -np.expm1(-lam)
        if bought:
            value = np.float64(basket[i]) * basket_mult[st] * mod_basket[i] * group_mod[1, arm[i] + 1, st, tier[i] + 1]
            if order_shape > 0.0:
                value *= gamma_variate(order_shape, draw_key[i], t, 8) / order_shape
            buyers[nb] = i
            amounts[nb] = value
            order_stage[nb] = st
            nb += 1
            if purchases[i] + 1 >= 2 and can_churn[st] and dropout[i] > 0.0:
                if keyed_uniform(draw_key[i], t, 1) < dropout[i]:
                    churn = True
        if churn:
            move_idx[nm] = i
            move_to[nm] = churn_target[st]
            nm += 1
            continue
        moved = False
        if bought:
            count = purchases[i] + 1
            for r in range(ev_ptr[st], ev_ptr[st + 1]):
                if count >= ev_min[r]:
                    move_idx[nm] = i
                    move_to[nm] = ev_dst[r]
                    nm += 1
                    moved = True
                    break
        if not moved and t >= time_due[i]:
            for r in range(tr_ptr[st], tr_ptr[st + 1]):
                code = tr_since[r]
                if code == 0:
                    ref = acquired[i]
                elif code == 1:
                    ref = first_purchase[i]
                elif code == 2:
                    ref = t if bought else last_purchase[i]
                else:
                    ref = stage_since[i]
                if code == 1 and bought and ref < 0:
                    ref = t
                if ref >= 0 and t - ref >= tr_after[r]:
                    move_idx[nm] = i
                    move_to[nm] = tr_dst[r]
                    nm += 1
                    moved = True
                    break
        if not moved and prob_total[st] > 0.0:
            u = keyed_uniform(draw_key[i], t, 2)
            for k in range(n_prob):
                if u < prob_cum[st, k]:
                    move_idx[nm] = i
                    move_to[nm] = prob_targets[st, k]
                    nm += 1
                    break
    # copies, not views: a view would keep the whole n-long buffer alive, and the model keeps
    # each day's buyers for BUYERS_LOOKBACK days (8 bytes per customer per day of peak memory)
    return buyers[:nb].copy(), amounts[:nb].copy(), order_stage[:nb].copy(), move_idx[:nm].copy(), move_to[:nm].copy()
