"""The vectorised engine: one day of customer behaviour for all customers at once.

Core object: :class:`VectorEngine`. It hands the columnar state to the compiled
:func:`sim.engines.kernel.day_kernel`, which decides the day for every customer, then books the
day's orders and moves through the model (the same booking code as the per-agent engine).

From :data:`PARALLEL_MIN_CUSTOMERS` customers on, the day is decided by
:func:`~sim.engines.kernel.day_kernel_parallel` on all of numba's threads (by default one per
core): customers are split into consecutive ranges whose results are joined in order, so results
do not depend on the number of threads. Where processes supply the parallelism (sweeps,
replicated experiments, budget evaluations), each worker keeps its kernel to one thread
(:func:`one_kernel_thread`, :func:`kernel_threads`), so K workers use K cores. The parity tests
in ``tests/sim/test_engine_parity.py`` hold the two engines to one semantics.
"""

from __future__ import annotations

from contextlib import contextmanager

import numba
import numpy as np

from sim.engines.kernel import day_kernel, day_kernel_parallel

__all__ = ["VectorEngine", "PARALLEL_MIN_CUSTOMERS", "one_kernel_thread", "kernel_threads"]

#: populations from which a day is decided in parallel threads (below, thread start-up and the
#: joining of results cost more than they save)
PARALLEL_MIN_CUSTOMERS = 100_000


def one_kernel_thread() -> None:
    """Process-pool initializer: this worker process decides days on one thread."""
    numba.set_num_threads(1)


@contextmanager
def kernel_threads(count: int):
    """Within the block, the calling thread decides days on at most ``count`` threads."""
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(count, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


class VectorEngine:
    """Steps every customer of ``model`` through a day."""

    def __init__(self, model) -> None:
        self.model = model
        g = model.graph
        self.graph_arrays = (
            g.churned, g.can_churn, g.churn_target, g.purchase_mult, g.basket_mult, g.churn_mult,
            g.ev_ptr, g.ev_target, g.ev_min, g.tr_ptr, g.tr_target, g.tr_after, g.tr_since,
            g.prob_total, g.prob_cum, g.prob_targets,
        )  # fmt: skip

    def step(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Simulate day ``t``; return today's buyers, order values and stages when ordering."""
        m, s = self.model, self.model.state
        threads = numba.get_num_threads()
        if threads > 1 and s.n >= PARALLEL_MIN_CUSTOMERS:
            kernel, first = day_kernel_parallel, (t, s.n, threads)
        else:
            kernel, first = day_kernel, (t, s.n)
        buyers, amounts, order_stage, move_idx, move_to, n_orders = kernel(*first, *self.kernel_args())
        m.record_orders(buyers, amounts, t, n_orders)
        m.transition(move_idx, move_to, t)
        return buyers, amounts, order_stage

    def kernel_args(self) -> tuple[tuple, tuple, tuple]:
        """(customer columns, stage graph arrays, constants), as the day kernels take them."""
        m, s = self.model, self.model.state
        customers = (
            s.draw_key, s.stage, s.rate, s.basket, s.hazard, s.dropout, s.purchases, s.contacts_week,
            s.acquired, s.first_purchase, s.last_purchase, s.stage_since, s.time_due,
            s.offer_until, s.offer_lift, s.offer_reactivation, s.offer_policy,
            s.mod_purchase, s.mod_basket, s.mod_churn, s.arm, s.tier, m.group_mod,
        )  # fmt: skip
        constants = (m.reactivate_to, m.fatigue_contacts, m.fatigue_multiplier, float(m.order_shape or 0.0),
                     m.several_purchases)
        return customers, self.graph_arrays, constants
