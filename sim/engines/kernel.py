"""The compiled day kernel: all customers' day in a dense pass and two sparse ones, no Python per customer.

Core function: :func:`day_kernel`, compiled with numba. It implements exactly the per-customer day
of :meth:`sim.customer.Customer.step` (the readable reference), over the columnar state:
re-activation by offer, latent churn, purchase and order value, dropout after a repeat purchase,
and the one transition a customer may make (churn > event > time > probability). It only
*decides*: it returns the day's buyers with their order values and the day's moves, which the
model then books (money, coupons, counters, stage changes) with the same code for both engines.

Layout of the work, chosen from measurements at a million customers, where branches that the
processor cannot predict and scattered memory reads cost more than the arithmetic:

1. A dense pass without branches computes every customer's hazard and purchase rate for the day
   and its uniform, and sorts out the few who may do anything: those who may churn or buy
   (``u < h + lam``, a superset of both events, about 1.5 % a day) and those a due time rule, a
   probability rule (drawn here) or an offer may move. Everyone else (the vast majority) is done.
2. Those who cannot churn or buy: offers bringing lost customers back, then rules.
3. Those who may churn or buy, in chunks: their other columns are first gathered into small
   arrays by tight loops (the scattered reads overlap), then each is decided exactly.

The decisions are those of deciding every customer in one pass, bit for bit: the pre-test only
skips customers whose outcome it proves. :func:`day_kernel_parallel` does the same for
consecutive ranges of customers in parallel threads and joins their results in range order.

Random numbers are the customer's own counter-based draws (:mod:`sim.draws`): the same customer
gets the same numbers on the same day in every world run from the same seed.

The model keeps ``state.time_due`` (:func:`sim.engines.bookkeeping.time_rule_due`), the first day
on which a time rule of a customer's stage can fire; the kernel looks at the time rules only from
that day on.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.draws import gamma_variate, keyed_uniform
from sim.engines.bookkeeping import reference_day

__all__ = ["day_kernel", "day_kernel_parallel", "further_purchases", "MAX_PURCHASES_PER_DAY", "PURCHASE_SLOT_STRIDE"]

#: most purchases of one customer on one day under ``purchases_per_day = "poisson"``
MAX_PURCHASES_PER_DAY = 1000
#: the k-th purchase of a day (k = 1, 2, ...) draws its dropout coin from slot
#: ``1 + STRIDE (k - 1)`` and its order value from slot ``8 + STRIDE (k - 1)`` onwards: far enough
#: apart that a gamma draw's rejection loop (3 slots a try) never reaches the next purchase's slots
PURCHASE_SLOT_STRIDE = 1 << 16


@njit(cache=True, inline="always")
def _churn_or_buy(u, h, lam):
    """Churn and purchase from one uniform: churn with probability ``h``; otherwise ``u``,
    rescaled to [0, 1), buys with probability ``1 - exp(-lam)``."""
    if h > 0.0:
        if u < h:
            return True, False
        u = (u - h) / (1.0 - h)
    # 1 - exp(-lam) <= lam, so the exact test is needed only when u < lam
    return False, u < lam and u < -np.expm1(-lam)


@njit(cache=True)
def further_purchases(u, lam, value, order_shape, ckey, t, count, can_drop, drop):
    """The purchases after a customer's first of day ``t``, when a day holds Poisson(``lam``) many.

    ``u`` is the uniform that decided the first purchase (``u < P(N >= 1)``, rescaled past the
    churn test); the day holds at least ``k`` purchases while ``u < P(N >= k)``, so the count is
    Poisson(``lam``) exactly and the first purchase is decided as with at most one a day. Each
    further purchase has the order value ``value`` (times gamma noise of shape ``order_shape``
    when > 0) and is followed by the dropout coin (probability ``drop``, if ``can_drop``): after a
    dropout the day holds no more purchases, as in continuous time. ``count`` is the number of
    the day's first order (repeat purchases have numbers >= 2). Returns (their summed value,
    their number, whether the customer dropped out after one of them).
    """
    pmf = np.exp(-lam) * lam  # P(N = 1)
    tail = -np.expm1(-lam) - pmf  # P(N >= 2)
    extra = 0.0
    k = 1
    while u < tail and k < MAX_PURCHASES_PER_DAY:
        k += 1  # the day's k-th purchase
        amount = value
        if order_shape > 0.0:
            amount *= gamma_variate(order_shape, ckey, t, 8 + PURCHASE_SLOT_STRIDE * (k - 1)) / order_shape
        extra += amount
        if can_drop and drop > 0.0 and count + k - 1 >= 2:
            if keyed_uniform(ckey, t, 1 + PURCHASE_SLOT_STRIDE * (k - 1)) < drop:
                return extra, k - 1, True
        pmf = pmf * lam / k
        tail -= pmf
    return extra, k - 1, False


@njit(cache=True, inline="always")
def _rule_target(
    i, t, st, bought, count, due, draw_key, acquired, first_purchase, last_purchase, stage_since,
    ev_ptr, ev_dst, ev_min, tr_ptr, tr_dst, tr_after, tr_since, prob_total, prob_cum, prob_targets,
):  # fmt: skip
    """The stage a rule moves customer ``i`` to today (-1: none), for one who did not churn:
    an event rule fired by today's purchase (its ``count``-th), else a time rule if ``due``
    today, else a probability rule."""
    if bought:
        for r in range(ev_ptr[st], ev_ptr[st + 1]):
            if count >= ev_min[r]:
                return np.int64(ev_dst[r])
    if t >= due:
        for r in range(tr_ptr[st], tr_ptr[st + 1]):
            code = tr_since[r]
            ref = reference_day(code, i, acquired, first_purchase, last_purchase, stage_since)
            if bought and (code == 2 or (code == 1 and ref < 0)):
                ref = t  # today's order, not booked yet, is the last (and maybe the first) purchase
            if ref >= 0 and t - ref >= tr_after[r]:
                return np.int64(tr_dst[r])
    if prob_total[st] > 0.0:
        u = keyed_uniform(draw_key[i], t, 2)
        for k in range(prob_cum.shape[1]):
            if u < prob_cum[st, k]:
                return np.int64(prob_targets[st, k])
    return np.int64(-1)


#: relative slack on the pre-test of the dense pass, covering rounding
SLACK = 1.0 + 1e-9
#: candidates decided per chunk: their gathered columns stay in the core's cache
CHUNK = 256


@njit(cache=True, nogil=True)
def _decide_range(t, lo, hi, customers, graph, constants, outputs) -> tuple[int, int]:
    """Decide day ``t`` for customers ``lo .. hi - 1``, writing ``outputs`` from position 0;
    returns the numbers of buyers and of moves written. The tuples are as :func:`day_kernel`'s."""
    (draw_key, stage, rate, basket, hazard, dropout, purchases, contacts_week,
     acquired, first_purchase, last_purchase, stage_since, time_due,
     offer_until, offer_lift, offer_reactivation, offer_policy,
     mod_purchase, mod_basket, mod_churn, arm, tier, group_mod) = customers
    (churned, can_churn, churn_target, purchase_mult, basket_mult, churn_mult,
     ev_ptr, ev_dst, ev_min, tr_ptr, tr_dst, tr_after, tr_since, prob_total, prob_cum, prob_targets) = graph
    reactivate_to, fatigue_contacts, fatigue_multiplier, order_shape, several = constants
    buyers, amounts, order_stage, move_idx, move_to, n_orders = outputs
    size = hi - lo + 1
    heavy = np.empty(size, dtype=np.int64)  # may churn or buy today
    heavy_u = np.empty(size, dtype=np.float64)
    heavy_h = np.empty(size, dtype=np.float64)
    heavy_lam = np.empty(size, dtype=np.float64)
    light = np.empty(size, dtype=np.int64)  # cannot churn or buy, but a rule or an offer may move it
    nh = 0
    nl = 0
    any_prob = prob_total.max() > 0.0
    # 1. dense pass, without branches: each customer's hazard and purchase rate today, and who
    # may do anything at all
    for i in range(lo, hi):
        st = stage[i]
        lost = churned[st]
        cell_arm = arm[i] + 1
        cell_tier = tier[i] + 1
        h = np.float64(hazard[i]) * churn_mult[st] * mod_churn[i] * group_mod[2, cell_arm, st, cell_tier]
        h = h * fatigue_multiplier if contacts_week[i] > fatigue_contacts else h  # over-contacted churn faster
        h = h if can_churn[st] else 0.0
        lam = np.float64(rate[i]) * purchase_mult[st] * mod_purchase[i] * group_mod[0, cell_arm, st, cell_tier]
        lam = lam * np.float64(offer_lift[i]) if offer_until[i] >= t else lam
        u = keyed_uniform(draw_key[i], t, 0)
        # churn needs u < h; a purchase u < h + lam (1 - h) <= h + lam (slack for rounding)
        may_buy = ~lost & (u < (h + lam) * SLACK)
        # a time rule is due, or the customer is lost and holds an offer that may bring it back
        may_move = (t >= time_due[i]) | (lost & (offer_until[i] >= t))
        if any_prob:  # a probability rule fires (a test the same for all customers: predictable)
            may_move |= keyed_uniform(draw_key[i], t, 2) < prob_total[st]
        heavy[nh] = i  # written always, kept only if flagged (no branch to mispredict)
        heavy_u[nh] = u
        heavy_h[nh] = h
        heavy_lam[nh] = lam
        nh += np.int64(may_buy)
        light[nl] = i
        nl += np.int64(may_move & ~may_buy)

    nm = 0
    # 2. customers who cannot churn or buy today: offers bringing lost ones back, then rules
    for k in range(nl):
        i = light[k]
        st = stage[i]
        if churned[st] and offer_until[i] >= t and offer_reactivation[i] > 0.0:
            if keyed_uniform(draw_key[i], t, 3) < offer_reactivation[i]:
                move_idx[nm] = i
                move_to[nm] = reactivate_to[offer_policy[i]]
                nm += 1
                continue
        target = _rule_target(
            i, t, st, False, 0, time_due[i], draw_key, acquired, first_purchase, last_purchase, stage_since,
            ev_ptr, ev_dst, ev_min, tr_ptr, tr_dst, tr_after, tr_since, prob_total, prob_cum, prob_targets,
        )  # fmt: skip
        if target >= 0:
            move_idx[nm] = i
            move_to[nm] = target
            nm += 1

    # 3. customers who may churn or buy, chunk by chunk
    nb = 0
    value = np.empty(CHUNK, dtype=np.float64)
    count = np.empty(CHUNK, dtype=np.int64)
    due = np.empty(CHUNK, dtype=np.int64)
    drop = np.empty(CHUNK, dtype=np.float64)
    stages = np.empty(CHUNK, dtype=np.int64)
    keys = np.empty(CHUNK, dtype=np.uint64)
    for c0 in range(0, nh, CHUNK):
        m = min(CHUNK, nh - c0)
        idx = heavy[c0 : c0 + m]
        # gather: one column per loop, no branches, so the scattered reads overlap
        for j in range(m):
            stages[j] = stage[idx[j]]
            keys[j] = draw_key[idx[j]]
        for j in range(m):
            if last_purchase[idx[j]] == t:  # joined the base today with a purchase: bought already
                heavy_lam[c0 + j] = 0.0
        for j in range(m):
            i = idx[j]
            st = stage[i]
            cell = group_mod[1, arm[i] + 1, st, tier[i] + 1]
            value[j] = np.float64(basket[i]) * basket_mult[st] * mod_basket[i] * cell
        for j in range(m):
            i = idx[j]
            count[j] = purchases[i] + 1
            due[j] = time_due[i]
            drop[j] = dropout[i]
        # decide, exactly
        for j in range(m):
            i = idx[j]
            st = stages[j]
            # One uniform decides both: churn with probability h; otherwise, rescaled, the purchase
            churn, bought = _churn_or_buy(heavy_u[c0 + j], heavy_h[c0 + j], heavy_lam[c0 + j])
            if bought:
                amount = value[j]
                if order_shape > 0.0:
                    amount *= gamma_variate(order_shape, keys[j], t, 8) / order_shape
                made = 1
                if count[j] >= 2 and can_churn[st] and drop[j] > 0.0:
                    if keyed_uniform(keys[j], t, 1) < drop[j]:
                        churn = True
                if several and not churn:  # Poisson-many purchases a day
                    u = heavy_u[c0 + j]
                    h = heavy_h[c0 + j]
                    if h > 0.0:
                        u = (u - h) / (1.0 - h)
                    more, n_more, churn = further_purchases(
                        u, heavy_lam[c0 + j], value[j], order_shape, keys[j], t, count[j], can_churn[st], drop[j])
                    amount += more
                    made += n_more
                    count[j] += n_more
                buyers[nb] = i
                amounts[nb] = amount
                order_stage[nb] = st
                n_orders[nb] = made
                nb += 1
            if churn:
                target = np.int64(churn_target[st])
            else:
                target = _rule_target(
                    i, t, st, bought, count[j], due[j], draw_key, acquired, first_purchase, last_purchase,
                    stage_since, ev_ptr, ev_dst, ev_min, tr_ptr, tr_dst, tr_after, tr_since, prob_total, prob_cum,
                    prob_targets,
                )  # fmt: skip
            if target >= 0:
                move_idx[nm] = i
                move_to[nm] = target
                nm += 1
    return nb, nm


@njit(cache=True, nogil=True)
def day_kernel(t, n, customers, graph, constants):
    """Decide day ``t`` for customers ``0..n-1`` (arithmetic in float64, as the agent engine does).

    ``customers``: the state columns (draw_key, stage, rate, basket, hazard, dropout, purchases,
    contacts_week, acquired, first_purchase, last_purchase, stage_since, time_due, offer_until,
    offer_lift, offer_reactivation, offer_policy, mod_purchase, mod_basket, mod_churn, arm, tier)
    and the model's group_mod table; ``graph``: the stage graph's arrays (churned, can_churn,
    churn_target, purchase_mult, basket_mult, churn_mult, then the event, time and probability
    rules); ``constants``: (reactivate_to, fatigue_contacts, fatigue_multiplier, order_shape,
    several: Poisson-many purchases a day).
    :meth:`sim.engines.vector.VectorEngine.kernel_args` builds them.

    Returns (buyers, order values, buyers' stages when ordering, moved customers, their new stages,
    buyers' numbers of purchases today); buyers in index order; moves in no set order (each
    customer at most once: the model's transition does not depend on their order). A buyer's
    order value is the sum over its purchases of the day.
    """
    buyers = np.empty(n, dtype=np.int64)  # pages only become memory where written
    amounts = np.empty(n, dtype=np.float64)
    order_stage = np.empty(n, dtype=np.int16)
    move_idx = np.empty(n, dtype=np.int64)
    move_to = np.empty(n, dtype=np.int16)
    n_orders = np.empty(n, dtype=np.int64)
    nb, nm = _decide_range(t, 0, n, customers, graph, constants,
                           (buyers, amounts, order_stage, move_idx, move_to, n_orders))
    # copies, not views: a view would keep the whole n-long buffer alive, and the model keeps
    # each day's buyers for BUYERS_LOOKBACK days
    return (buyers[:nb].copy(), amounts[:nb].copy(), order_stage[:nb].copy(), move_idx[:nm].copy(),
            move_to[:nm].copy(), n_orders[:nb].copy())


@njit(cache=True, nogil=True, parallel=True)
def day_kernel_parallel(t, n, parts, customers, graph, constants):
    """:func:`day_kernel` in parallel threads: the same result, whatever ``parts`` and threads.

    The customers are split into ``parts`` consecutive ranges decided in parallel threads; each
    range's buyers and moves are then joined in range order, so the result is the same whatever
    ``parts`` and the number of threads.
    """
    parts = max(1, min(parts, n))
    edges = np.linspace(0, n, parts + 1).astype(np.int64)
    buyers = np.empty(n, dtype=np.int64)  # pages only become memory where written
    amounts = np.empty(n, dtype=np.float64)
    order_stage = np.empty(n, dtype=np.int16)
    move_idx = np.empty(n, dtype=np.int64)
    move_to = np.empty(n, dtype=np.int16)
    n_orders = np.empty(n, dtype=np.int64)
    counts = np.zeros((parts, 2), dtype=np.int64)
    for p in prange(parts):
        lo, hi = edges[p], edges[p + 1]
        outputs = (buyers[lo:hi], amounts[lo:hi], order_stage[lo:hi], move_idx[lo:hi], move_to[lo:hi], n_orders[lo:hi])
        nb, nm = _decide_range(t, lo, hi, customers, graph, constants, outputs)
        counts[p, 0] = nb
        counts[p, 1] = nm
    # join the ranges' results in order (copies: the model keeps each day's buyers for a while,
    # and a view would keep the whole n-long buffer alive)
    nb_total = counts[:, 0].sum()
    nm_total = counts[:, 1].sum()
    out_buyers = np.empty(nb_total, dtype=np.int64)
    out_amounts = np.empty(nb_total, dtype=np.float64)
    out_stage = np.empty(nb_total, dtype=np.int16)
    out_moved = np.empty(nm_total, dtype=np.int64)
    out_to = np.empty(nm_total, dtype=np.int16)
    out_orders = np.empty(nb_total, dtype=np.int64)
    b = 0
    m = 0
    for p in range(parts):
        lo = edges[p]
        nb, nm = counts[p, 0], counts[p, 1]
        out_buyers[b : b + nb] = buyers[lo : lo + nb]
        out_amounts[b : b + nb] = amounts[lo : lo + nb]
        out_stage[b : b + nb] = order_stage[lo : lo + nb]
        out_orders[b : b + nb] = n_orders[lo : lo + nb]
        out_moved[m : m + nm] = move_idx[lo : lo + nm]
        out_to[m : m + nm] = move_to[lo : lo + nm]
        b += nb
        m += nm
    return out_buyers, out_amounts, out_stage, out_moved, out_to, out_orders
