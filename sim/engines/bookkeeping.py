"""Compiled bookkeeping on the columnar state, shared by both engines.

Core functions: :func:`book_orders` (a day's orders onto the buyers' columns),
:func:`time_rule_due` (each customer's first day a time rule can fire) and :func:`assign_tiers`
(each customer's value tier). Both visit the given
customers once, touching all of a customer's columns together, where the numpy equivalent makes
one scattered pass per column.
"""

from __future__ import annotations

from numba import njit

from sim.stages import NEVER

__all__ = ["book_orders", "time_rule_due", "assign_tiers", "reference_day"]

NONE = -1  # as sim.state.NONE (kept here so the compiled code needs no import cycle)


@njit(cache=True, nogil=True)
def book_orders(
    idx, amounts, margins, discount, n_orders, t, block,
    revenue, margin, value, spend_months, annual_spend, first_purchase, purchases, second_purchase, last_purchase,
):  # fmt: skip
    """Book the day's order ``k`` (list price ``amounts[k]``, margin ``margins[k]``, discount factor
    ``discount[k]``, ``n_orders[k]`` purchases) on customer ``idx[k]``: money, the spend block
    ``block`` and the running annual spend, and the purchase days and count. ``idx`` must not repeat."""
    for k in range(idx.shape[0]):
        i = idx[k]
        revenue[i] += amounts[k]
        margin[i] += margins[k]
        value[i] += margins[k] * discount[k]
        spend_months[block, i] += spend_months.dtype.type(amounts[k])
        annual_spend[i] += amounts[k]
        if first_purchase[i] == NONE:
            first_purchase[i] = t
        before = purchases[i]
        purchases[i] += n_orders[k]
        if before < 2 and purchases[i] >= 2:
            second_purchase[i] = t
        last_purchase[i] = t


@njit(cache=True, inline="always")
def reference_day(code, i, acquired, first_purchase, last_purchase, stage_since):
    """Customer ``i``'s reference day for a time rule whose ``since`` has code ``code``
    (:data:`sim.stages.SINCE_CODES`); ``NONE`` when it is undefined (e.g. never bought)."""
    if code == 0:
        return acquired[i]
    if code == 1:
        return first_purchase[i]
    if code == 2:
        return last_purchase[i]
    return stage_since[i]


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
            ref = reference_day(tr_since[r], i, acquired, first_purchase, last_purchase, stage_since)
            if ref >= 0 and ref + tr_after[r] < best:
                best = ref + tr_after[r]
        due[i] = best


@njit(cache=True, nogil=True)
def assign_tiers(idx, annual_spend, purchases, referrals, min_spend, min_purchases, min_referrals, tier):
    """Set ``tier[i]`` for customers ``idx``: the first tier whose three minimums they all meet
    (``NONE`` if none). ``idx`` may be an index array or a range of rows."""
    for i in idx:
        chosen = NONE
        for k in range(min_spend.shape[0]):
            spend_ok = annual_spend[i] >= min_spend[k]
            if spend_ok and purchases[i] >= min_purchases[k] and referrals[i] >= min_referrals[k]:
                chosen = k
                break
        tier[i] = chosen
