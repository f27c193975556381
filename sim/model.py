"""The lifecycle model: a Mesa model whose customers move through the scenario's stages, one day a step.

Core object: :class:`CustomerModel`. It owns the columnar :class:`~sim.state.CustomerState`, the
compiled :class:`~sim.stages.StageGraph`, the channels, the policies and the money
:class:`~sim.ledger.Ledger`. One day (one ``step``):

1. roll the rolling-spend ring; acquire customers (channels, then yesterday's referrals);
2. refresh RFM segments on RFM days; reset today's multipliers;
3. policies act, in priority then file order, through a :class:`~sim.policies.base.Day`;
4. customers act (engine-specific): re-activation, latent churn, purchases, order value,
   coupon redemption, dropout, stage transitions; ``engine="agent"`` steps each
   :class:`~sim.customer.Customer` agent, ``engine="vector"`` steps all at once
   (:mod:`sim.engines.vector`); both follow the rules in :mod:`sim.stages`;
5. policies see the day's orders; tiers of buyers are refreshed; the day is recorded.

Size: about 420 lines of code: the day's order (acquisition, policies, engine, booking, records)
is kept in one class on purpose, so that the sequence the README states can be read in one place.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from scenarios.errors import ConfigError
from scenarios.fields import MAX_CUSTOMERS, MAX_DAYS
from sim.acquisition import ARRIVAL_SAMPLERS, expected_customers
from sim.distributions import order_value_shape
from sim.draws import customer_ids, customer_keys, trait_draws, uniforms
from sim.engines.bookkeeping import book_orders, time_rule_due
from sim.ledger import Ledger
from sim.limits import check_memory, run_memory_estimate
from sim.policies import check_policy
from sim.policies.base import Day, Policy, in_codes
from sim.records import DailyRecorder, RunResult
from sim.replicas import replica_of
from sim.segments import BLOCK_DAYS, Segmenter
from sim.seeding import SeedLike, make_streams
from sim.stages import StageGraph
from sim.state import NONE, CustomerState

__all__ = ["CustomerModel", "AGENT_ENGINE_LIMIT", "ENGINES"]

#: With ``engine="auto"``, populations up to this size use the per-agent engine.
AGENT_ENGINE_LIMIT = 2_000
#: how many days back policies can ask for a day's buyers
BUYERS_LOOKBACK = 400
ENGINES = ("auto", "agent", "vector")


class CustomerModel(mesa.Model):
    """Customers of one scenario, stepped one day at a time.

    Parameters
    ----------
    scenario
        A loaded :class:`sim.scenario.Scenario` (validated config plus built policies).
    seed
        Run seed (int or ``SeedSequence``); defaults to the scenario's ``run.seed``.
    customers
        Initial population; defaults to ``population.initial_customers``.
    days
        Run length; defaults to ``run.days`` (used by :meth:`run`).
    engine
        ``"agent"`` (per-customer Mesa agents), ``"vector"`` (all customers at once) or ``"auto"``.
    policies
        Policies to use instead of the scenario's (e.g. an experiment arm); ``[]`` for none.
    policy_arms
        Experiment scoping: policy name -> arm codes it applies to (absent: every customer).
    log_orders
        Keep every order (day, customer, amount) for :meth:`sim.records.RunResult.orders_frame`
        (memory grows with orders; off by default).
    arrivals
        How channels draw their daily counts: ``"poisson"`` (the run's own Poisson draws) or
        ``"inverse_cdf"`` (one uniform per channel and day, count monotone in spend: allocations
        compared on one seed see the same arrivals wherever their spend agrees).
    spend_schedules
        Channel name -> daily spend for each day of the run, instead of its ``daily_spend``.
    replicas
        Replications this world holds (:mod:`sim.replicas`; pass the scenario already scaled by
        :func:`sim.replicas.scaled`): policy costs are then also kept by replica
        (``policy_cost_by_replica``).
    assignment
        Experiment hook with ``start(model, t)`` (each morning), ``arrivals(model, idx, t)``
        (new customers) and ``end_day(model, t)`` (each evening); see :mod:`sim.experiment`.
    """

    #: the lab's scenario (config plus built policies). Mesa >= 3.5 makes ``Model.scenario`` a
    #: property for its own ``mesa.experimental.scenarios.Scenario`` (which it sets in
    #: ``Model.__init__`` and gives a ``model`` back-reference); this plain class attribute shadows
    #: it so that ``scenario`` stays an ordinary attribute on every Mesa line.
    scenario = None

    def __init__(
        self,
        scenario,
        *,
        seed: SeedLike | None = None,
        customers: int | None = None,
        days: int | None = None,
        engine: str = "auto",
        policies: list[Policy] | None = None,
        policy_arms: dict[str, tuple[int, ...]] | None = None,
        assignment=None,
        log_orders: bool = False,
        arrivals: str = "poisson",
        spend_schedules: dict[str, np.ndarray] | None = None,
        replicas: int = 1,
    ) -> None:
        cfg = scenario.config
        self.config = cfg
        seed = cfg.run.seed if seed is None else seed
        self.streams = make_streams(seed)
        super().__init__(rng=self.streams.mesa)
        self.scenario = scenario  # after Model.__init__: Mesa >= 3.5 sets its own there (see below)
        self.seed = seed if isinstance(seed, int) else None
        self.days = cfg.run.days if days is None else int(days)
        pop = cfg.population
        n0 = pop.initial_customers + sum(pop.arrival_schedule) if customers is None else int(customers)
        if n0 < 0:
            raise ValueError(f"customers must be >= 0; got {n0}")
        # the base: customers on day 0, then the scheduled arrivals, scaled to `customers`
        schedule = list(pop.arrival_schedule) or [0]
        schedule[0] += pop.initial_customers
        self.base_schedule = _scaled_schedule(schedule, n0)
        if self.days < 1:
            raise ValueError(f"days must be >= 1; got {self.days}")
        if self.days > MAX_DAYS or n0 > MAX_CUSTOMERS:
            raise ConfigError(f"a run holds at most {MAX_CUSTOMERS:,} initial customers and {MAX_DAYS:,} days; "
                              f"got {n0:,} customers and {self.days:,} days")
        arrivals_per_day = sum(float(expected_customers(c.daily_spend, c.saturation, c.cac)) for c in cfg.channels)
        if spend_schedules:
            arrivals_per_day = max(arrivals_per_day, sum(c.saturation for c in cfg.channels))
        check_memory(run_memory_estimate(initial_customers=n0, expected_arrivals_per_day=arrivals_per_day,
                                         days=self.days, stages=len(cfg.stages)),
                     f"a run of {n0:,} customers over {self.days:,} days ({scenario.name})")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}; got '{engine}'")
        if engine == "auto":
            engine = "agent" if n0 <= AGENT_ENGINE_LIMIT else "vector"
        self.engine = engine

        self.graph = StageGraph(cfg)
        if arrivals not in ARRIVAL_SAMPLERS:
            raise ValueError(f"arrivals must be one of {tuple(ARRIVAL_SAMPLERS)}; got '{arrivals}'")
        self.channels = [ARRIVAL_SAMPLERS[arrivals].from_config(c) for c in cfg.channels]
        self.channel_names = [c.name for c in self.channels]
        unknown = sorted(set(spend_schedules or {}) - set(self.channel_names))
        if unknown:
            raise ValueError(f"spend_schedules names unknown channels {unknown}; the channels are {self.channel_names}")
        self.spend_schedules = {self.channel_names.index(name): np.asarray(v, dtype=float)
                                for name, v in (spend_schedules or {}).items()}  # fmt: skip
        self.channel_index = {c: i for i, c in enumerate(self.channel_names)}
        self.tier_names = [t.name for t in cfg.tiers]
        self.tier_index = {t: i for i, t in enumerate(self.tier_names)}
        self.segment_names = [s.name for s in cfg.rfm.segments]
        self.segment_index = {s: i for i, s in enumerate(self.segment_names)}
        self.segmenter = Segmenter(cfg)
        self.order_shape = order_value_shape(cfg.customers)
        #: Poisson-many purchases a customer a day (``customers.purchases_per_day = "poisson"``)
        self.several_purchases = cfg.customers.purchases_per_day == "poisson"
        self.margin_rate = cfg.customers.gross_margin
        self.daily_discount = math.log1p(cfg.run.annual_discount_rate) / 365.0
        self.entry_stage = self.graph.index[cfg.population.entry_stage or cfg.population.initial_stage]

        chosen = list(scenario.policies if policies is None else policies)
        order = sorted(range(len(chosen)), key=lambda i: (chosen[i].priority, i))
        self.policies: list[Policy] = [chosen[i] for i in order]
        names = [p.name for p in self.policies]
        if len(set(names)) != len(names):
            raise ValueError(f"policy names must be unique; got {names}")
        self._policy_ids = {id(p): i for i, p in enumerate(self.policies)}
        arms = policy_arms or {}
        unknown = sorted(set(arms) - set(names))
        if unknown:
            raise ValueError(f"policy_arms names unknown policies {unknown}; the policies are {names}")
        self.policy_arms: list[tuple[int, ...] | None] = [
            tuple(arms[p.name]) if p.name in arms else None for p in self.policies
        ]
        self.assignment = assignment
        n_arms = max([max(c) + 1 for c in self.policy_arms if c] + [getattr(assignment, "n_arms", 0)])
        #: today's multipliers by (purchase|basket|churn, 1 + arm, stage, 1 + tier), set by policies
        self.group_mod = np.ones((3, n_arms + 1, len(self.graph), len(self.tier_names) + 1), dtype=np.float32)
        #: customers whose per-customer multipliers were changed today (reset tomorrow)
        self.touched: list[np.ndarray] = []
        self._agent_steps: list = []  # the agents' step methods in creation order (agent engine)
        #: buyers of each recent day, for policies triggered by purchase dates
        self.buyers_log: dict[int, np.ndarray] = {}
        self.ledger = Ledger(names, self.channel_names)
        if not (isinstance(replicas, (int, np.integer)) and replicas >= 1):
            raise ValueError(f"replicas must be an integer >= 1; got {replicas!r}")
        #: replicas held in this world (:mod:`sim.replicas`; the scenario is already scaled to them)
        self.replicas = int(replicas)
        #: policy costs by (policy, replica): what the ledger sums, split by each customer's replica
        self.policy_cost_by_replica = np.zeros((len(names), self.replicas))
        self._replica, self._replica_n = np.zeros(0, dtype=np.int64), 0
        #: (coverage, policy position) -> whether each customer so far is reached (sim.policies.base.Day)
        self.coverage_masks: dict[tuple[float, int], np.ndarray] = {}
        self.pending_referrals: dict[int, int] = {}
        self._arrived: dict[tuple[int, int], int] = {}  # arrivals so far by (source, day)

        self.state = CustomerState(capacity=max(1024, int(n0 * 1.25) + 1024))
        self.day = 0
        self.recorder = DailyRecorder(self, log_orders=log_orders)
        #: observers told of every order, stage move and policy charge as it is booked (``ordered(idx,
        #: amounts, t)``, ``moved(idx, sources, targets, t)``, ``charged(pid, idx, amounts, kind, t)``); the
        #: classroom page follows single customers this way. They read, never change, the model.
        self.watchers: list = []
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _stage_reporter(k) for k, name in enumerate(self.graph.names)}
        )
        self.fatigue_contacts = cfg.customers.fatigue_contacts_per_week
        self.fatigue_multiplier = cfg.customers.fatigue_churn_multiplier
        for p in self.policies:
            try:
                check_policy(p, cfg)
                p.reset(self)
            except ValueError as exc:  # say which policy the bad name belongs to
                raise ValueError(f"policy {p.name!r} ({p.kind}): {exc}") from exc
        self.reactivate_to = self._reactivation_targets()
        if self.engine == "vector":
            from sim.engines.vector import VectorEngine

            self._vector = VectorEngine(self)
        self.base_stage = self.graph.index[cfg.population.initial_stage]
        self._add_customers(int(self.base_schedule[0]), channel=NONE, stage=self.base_stage, t=0)

    def _reactivation_targets(self) -> np.ndarray:
        """Stage each policy's offers bring churned customers back to (-1: none)."""
        out = np.full(max(1, len(self.policies)), NONE, dtype=np.int16)
        for k, p in enumerate(self.policies):
            name = getattr(p, "reactivate_to", None)
            if not name:
                continue
            target = self.graph.index[name]  # checked by check_policy: a stage with 'policy' moves to it
            out[k] = target
        return out

    def swap_policies(self, replacements: dict[int, Policy]) -> None:
        """Replace the policies at the given positions from the next day on; all or nothing.

        A replacement keeps its predecessor's name (the ledger and the offers customers hold refer
        to the position). Raises ValueError, leaving the model unchanged, if one does not fit.
        """
        before = list(self.policies)
        try:
            for i, q in replacements.items():
                if q.name != before[i].name:
                    raise ValueError(f"a replacement must keep the name {before[i].name!r}; got {q.name!r}")
                check_policy(q, self.config)
                q.reset(self)
                self.policies[i] = q
            self._policy_ids = {id(p): i for i, p in enumerate(self.policies)}
            self.reactivate_to = self._reactivation_targets()
        except ValueError:
            self.policies[:] = before
            self._policy_ids = {id(p): i for i, p in enumerate(self.policies)}
            raise

    def follow(self, scenario) -> None:
        """Run under ``scenario`` from the next day on: its channel spends, tier thresholds and policies.

        ``scenario`` is this model's scenario with other values (e.g. from
        :meth:`sim.scenario.Scenario.with_values`): the same config apart from the channels' daily
        spend, the tiers' thresholds and the policies' parameters, and the same policy names.
        Policies that differ are swapped in at the same positions, as :meth:`swap_policies` does
        (the model takes the scenario's policy objects: give it ones no other model uses); when a
        threshold changes, every policy is reset and every customer re-tiered. All or nothing:
        raises ValueError, leaving the model unchanged, if the scenario does not fit.
        """
        cfg = scenario.config
        changeable = {"channels": {"__all__": {"daily_spend"}}, "policies": True,
                      "tiers": {"__all__": {"min_annual_spend", "min_purchases", "min_referrals"}}}  # fmt: skip
        if cfg.model_dump(exclude=changeable) != self.config.model_dump(exclude=changeable):
            raise ValueError("follow() takes this model's scenario with other channel spends, tier thresholds or "
                             "policy parameters; this scenario differs in more")
        wanted = {p.name: p for p in scenario.policies}
        if sorted(wanted) != sorted(p.name for p in self.policies):
            raise ValueError(f"follow() needs the same policies {sorted(p.name for p in self.policies)}; "
                             f"got {sorted(wanted)}")
        retier = [t.model_dump() for t in cfg.tiers] != [t.model_dump() for t in self.config.tiers]
        swaps = {i: wanted[p.name] for i, p in enumerate(self.policies) if retier or wanted[p.name] != p}
        before = (self.scenario, self.config)
        self.scenario, self.config = scenario, cfg
        try:
            self.swap_policies(swaps)
        except ValueError:
            self.scenario, self.config = before
            raise
        self.channels = [type(ch).from_config(c) for ch, c in zip(self.channels, cfg.channels)]
        if retier:
            self.segmenter = Segmenter(cfg)
            self.segmenter.update_tiers(self.state, slice(0, self.state.n))

    # --- ids and lookups ------------------------------------------------------------------------

    def policy_id(self, policy: Policy) -> int:
        """Position of ``policy`` in this model's ordered policy list."""
        try:
            return self._policy_ids[id(policy)]
        except KeyError:
            raise ValueError(f"policy {policy.name!r} is not part of this model") from None

    def discount_factor(self, idx: np.ndarray, t: int) -> np.ndarray:
        """Discount factor of money on day ``t`` for customers ``idx`` (from their acquisition)."""
        return np.exp(-self.daily_discount * (t - self.state.acquired[idx]))

    # --- customers arriving ---------------------------------------------------------------------

    def _add_customers(self, count: int, *, channel: int, stage: int, t: int, cost_each: float = 0.0) -> slice:
        s = self.state
        rows = s.append(count)
        if count == 0:
            return rows
        c = self.config.customers
        # identity: source (1 = initial base, 2 + channel), arrival day, arrival order that day
        source = 1 if channel == NONE else 2 + channel
        first = self._arrived.get((source, t), 0)
        self._arrived[(source, t)] = first + count
        uid = customer_ids(np.uint64(self.streams.ids), source, t, first, count)
        s.uid[rows] = uid
        s.draw_key[rows] = customer_keys(np.uint64(self.streams.behaviour), uid)
        q = self.channels[channel] if channel != NONE else None

        def trait(k: int, dist):
            # the j-th arrival of (source, day) always gets the j-th draw of this trait's stream
            return trait_draws(dist, self.streams.traits, (source, t, k), first, count)

        s.rate[rows] = trait(0, c.purchase_rate) * (q.purchase_multiplier if q else 1.0)
        s.basket[rows] = trait(1, c.basket_value) * (q.basket_multiplier if q else 1.0)
        s.hazard[rows] = np.minimum(1.0, trait(2, c.churn_hazard) * (q.churn_multiplier if q else 1.0))
        s.dropout[rows] = trait(3, c.dropout_after_purchase)
        s.coverage_u[rows] = uniforms(np.uint64(self.streams.traits), uid, 0, 4)
        if channel == NONE and self.config.population.arrive_as_buyers:
            s.purchases[rows] = 1
            s.first_purchase[rows] = t
            s.last_purchase[rows] = t
            self.recorder.last_purchases(np.full(count, NONE, dtype=np.int32), t)
        s.channel[rows] = channel
        s.stage[rows] = stage
        s.stage_since[rows] = t
        self.recorder.added(stage, count)
        s.acquired[rows] = t
        s.acquisition_cost[rows] = cost_each
        self._refresh_time_due(np.arange(rows.start, rows.stop))
        self.segmenter.update_tiers(s, rows)
        if self.assignment is not None:
            self.assignment.arrivals(self, np.arange(rows.start, rows.stop), t)
        if self.engine == "agent":
            from sim.customer import Customer

            for i in range(rows.start, rows.stop):
                self._agent_steps.append(Customer(self, i).step)
        return rows

    def _acquire(self, t: int) -> None:
        if 0 < t < self.base_schedule.size and self.base_schedule[t]:
            self._add_customers(int(self.base_schedule[t]), channel=NONE, stage=self.base_stage, t=t)
        rng = self.streams.arrivals
        for k, ch in enumerate(self.channels):
            spend = float(self.spend_schedules[k][t]) if k in self.spend_schedules else ch.daily_spend
            count = ch.draw_count(rng, spend)
            self.ledger.add_acquisition(k, spend, count)
            self._add_customers(count, channel=k, stage=self.entry_stage, t=t, cost_each=spend / count if count else 0.0)
            self.recorder.acquired(k, count, spend)
        pending, self.pending_referrals = self.pending_referrals, {}
        for k, count in sorted(pending.items()):
            self.ledger.add_acquisition(k, 0.0, count)
            self._add_customers(count, channel=k, stage=self.entry_stage, t=t)
            self.recorder.acquired(k, count, 0.0)

    def refer(self, channel: str, count: int) -> None:
        """Schedule ``count`` referred customers to arrive tomorrow through ``channel``."""
        k = self.channel_index[channel]
        self.pending_referrals[k] = self.pending_referrals.get(k, 0) + int(count)

    # --- money and moves (used by policies through Day, and by the engines) -------------------

    def charge_policy(self, pid: int, idx: np.ndarray, amounts: np.ndarray, kind: str, t: int) -> None:
        """Charge per-customer ``amounts`` to policy ``pid`` (``idx`` must not repeat)."""
        idx = np.asarray(idx, dtype=np.int64)
        amounts = np.broadcast_to(np.asarray(amounts, dtype=np.float64), idx.shape)
        if idx.size == 0:
            return
        if np.any(amounts < 0):
            raise ValueError(f"policy costs must be >= 0; got {amounts.min()}")
        s = self.state
        s.policy_cost[idx] += amounts
        s.value[idx] -= amounts * self.discount_factor(idx, t)
        for watcher in self.watchers:
            watcher.charged(pid, idx, amounts, kind, t)
        total = float(amounts.sum())
        self.ledger.add_policy_cost(pid, kind, total)
        if self.replicas > 1:
            self.policy_cost_by_replica[pid] += np.bincount(self.replica[idx], weights=amounts, minlength=self.replicas)
        else:
            self.policy_cost_by_replica[pid, 0] += total
        self.recorder.policy_cost(total)

    @property
    def replica(self) -> np.ndarray:
        """Each customer's replica (:func:`sim.replicas.replica_of`), kept as customers arrive."""
        n, done = self.state.n, self._replica_n
        if done < n:
            if self._replica.size < n:  # room for twice as many: a day's arrivals do not copy the column
                self._replica = np.resize(self._replica, max(n, 2 * self._replica.size))
            self._replica[done:n] = replica_of(self.streams, self.state.uid[done:n], self.replicas)
            self._replica_n = n
        return self._replica[:n]

    def record_orders(self, idx: np.ndarray, amounts: np.ndarray, t: int, n_orders: np.ndarray | None = None) -> None:
        """Book the day's orders (list-price ``amounts``): sales, margin, coupons redeemed.

        Shared by both engines, so money is booked one way. ``idx`` must not repeat; a customer's
        ``n_orders`` purchases of the day (default one) are booked as one order of their summed value.
        """
        if idx.size == 0:
            return
        s = self.state
        n_orders = np.ones(idx.size, dtype=np.int64) if n_orders is None else n_orders
        margin = amounts * self.margin_rate
        self.recorder.last_purchases(s.last_purchase[idx], t)
        book_orders(idx, amounts, margin, self.discount_factor(idx, t), n_orders, t, (t // BLOCK_DAYS) % 12,
                    s.revenue, s.margin, s.value, s.spend_months, s.annual_spend, s.first_purchase, s.purchases,
                    s.second_purchase, s.last_purchase)  # fmt: skip
        self._refresh_time_due(idx)
        self.ledger.add_sales(float(amounts.sum()), float(margin.sum()))
        for watcher in self.watchers:
            watcher.ordered(idx, amounts, t)
        self.recorder.order_log(idx, amounts, t, n_orders)
        self.recorder.orders(int(n_orders.sum()), float(amounts.sum()), float(margin.sum()))
        # coupons: a valid offer is redeemed on an order of at least its minimum spend
        valid = (s.offer_until[idx] >= t) & (amounts >= s.offer_min_spend[idx]) & (s.offer_discount[idx] > 0)
        red = idx[valid]
        if red.size:
            discount = np.minimum(s.offer_discount[red].astype(np.float64), amounts[valid])
            pids = s.offer_policy[red]
            s.offer_until[red] = NONE
            for pid in np.unique(pids):
                sel = pids == pid
                self.charge_policy(int(pid), red[sel], discount[sel], "discount", t)
            self.recorder.redemptions(red.size)

    def transition(self, idx: np.ndarray, targets: np.ndarray, t: int) -> None:
        """Move customers ``idx`` to stages ``targets`` (arrays; ``idx`` must not repeat)."""
        if idx.size == 0:
            return
        s, g = self.state, self.graph
        sources = s.stage[idx]
        self.recorder.flows(sources, targets)
        for watcher in self.watchers:
            watcher.moved(idx, sources, targets, t)
        lost = g.churned[targets] & ~g.churned[sources]
        back = ~g.churned[targets] & g.churned[sources]
        if lost.any():
            li = idx[lost]
            first = s.first_churn[li]
            s.first_churn[li] = np.where(first == NONE, t, first)
            self.recorder.churned(int(lost.sum()))
        if back.any():
            s.reactivations[idx[back]] += 1
            self.recorder.reactivated(int(back.sum()))
        s.stage[idx] = targets
        s.stage_since[idx] = t
        self._refresh_time_due(idx)

    def _refresh_time_due(self, idx: np.ndarray) -> None:
        """Recompute ``state.time_due`` of customers ``idx`` after their references changed."""
        s, g = self.state, self.graph
        time_rule_due(idx, s.stage, s.acquired, s.first_purchase, s.last_purchase, s.stage_since,
                      g.tr_ptr, g.tr_after, g.tr_since, s.time_due)  # fmt: skip

    def move_by_policy(self, policy: Policy, idx: np.ndarray, to_stage: str, t: int) -> None:
        """A policy moves customers to ``to_stage`` along declared 'policy' transitions."""
        if idx.size == 0:
            return
        target = self.graph.index.get(to_stage)
        if target is None:
            raise ValueError(f"policy {policy.name!r}: unknown stage '{to_stage}'")
        sources = np.unique(self.state.stage[idx])
        for src in sources:
            if (int(src), target) not in self.graph.policy_edges:
                raise ValueError(
                    f"policy {policy.name!r} moved customers from '{self.graph.names[src]}' to "
                    f"'{to_stage}', but the scenario declares no rule = 'policy' transition there"
                )
        self.transition(idx, np.full(idx.size, target, dtype=np.int16), t)

    # --- the day --------------------------------------------------------------------------------

    def step(self) -> None:
        """Simulate one day."""
        t = self.day
        s = self.state
        self.recorder.start_day(t)
        if self.segmenter.start_day(s, t):
            self.segmenter.update_tiers(s, slice(0, s.n))
        self._acquire(t)
        if self.segmenter.is_rfm_day(t):
            self.segmenter.update_segments(s, t)
        if self.assignment is not None:
            self.assignment.start(self, t)
        self._reset_multipliers()
        slot = s.contacts[t % 7, : s.n]  # contacts of 7 days ago leave the week
        s.contacts_week[: s.n] -= slot
        slot[:] = 0
        day = Day(self, t, self.streams.policy)
        scopes = self._scopes()
        for k, (p, scope, arms) in enumerate(zip(self.policies, scopes, self.policy_arms)):
            day.scope, day.scope_arms, day.coverage = scope, arms, (p.params.coverage, k)
            p.apply(day)
        if self.engine == "agent":
            buyers, amounts, order_stage = self._step_agents(t)
        else:
            buyers, amounts, order_stage = self._vector.step(t)
        day.order_stage = order_stage
        for k, (p, scope, arms) in enumerate(zip(self.policies, scopes, self.policy_arms)):
            day.scope, day.scope_arms, day.coverage = scope, arms, (p.params.coverage, k)
            p.on_purchases(day, buyers, amounts)
        self.buyers_log[t] = buyers
        self.buyers_log.pop(t - BUYERS_LOOKBACK, None)
        self.segmenter.update_tiers(s, buyers)
        self.recorder.end_day(t)
        if self.assignment is not None:
            self.assignment.end_day(self, t)
        self.datacollector.collect(self)
        self.day += 1

    def _reset_multipliers(self) -> None:
        s = self.state
        for idx in self.touched:
            s.mod_purchase[idx] = 1.0
            s.mod_basket[idx] = 1.0
            s.mod_churn[idx] = 1.0
        self.touched = []
        self.group_mod.fill(1.0)

    def buyers_on(self, d: int) -> np.ndarray:
        """Customers who bought on day ``d`` (at most :data:`BUYERS_LOOKBACK` days ago)."""
        if d < self.day - BUYERS_LOOKBACK or d >= self.day:
            if d >= self.day:
                raise ValueError(f"day {d} has not been simulated yet (today is {self.day})")
            raise ValueError(f"day {d} is more than {BUYERS_LOOKBACK} days ago; buyers are kept that long")
        return self.buyers_log.get(d, np.zeros(0, dtype=np.int64))

    def _scopes(self) -> list[np.ndarray | None]:
        """Per policy, the boolean mask of customers in its arms (None: unscoped)."""
        arm = self.state.arm[: self.state.n]
        masks: dict[tuple[int, ...], np.ndarray] = {}
        out = []
        for codes in self.policy_arms:
            if codes is None:
                out.append(None)
                continue
            if codes not in masks:
                masks[codes] = in_codes(arm, np.array(codes))
            out.append(masks[codes])
        return out

    def order_today(self, i: int, amount: float, stage: int, n_orders: int = 1) -> None:
        """An agent's order of today (list price ``amount``, placed in ``stage``, of ``n_orders``
        purchases), booked at day's end."""
        self._buyers.append(i)
        self._amounts.append(amount)
        self._order_stage.append(stage)
        self._n_orders.append(n_orders)

    def _step_agents(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._buyers: list[int] = []
        self._amounts: list[float] = []
        self._order_stage: list[int] = []
        self._n_orders: list[int] = []
        # each agent's step, in the order the agents were created: what agents.do("step") does,
        # without walking the agent set's weak references every day (agents are never removed)
        for step in self._agent_steps:
            step()
        order = np.argsort(self._buyers)  # buyers in index order, as the vector engine gives them
        buyers = np.array(self._buyers, dtype=np.int64)[order]
        amounts = np.array(self._amounts, dtype=np.float64)[order]
        n_orders = np.array(self._n_orders, dtype=np.int64)[order]
        self.record_orders(buyers, amounts, t, n_orders)  # as the vector engine does, after everyone's day
        return buyers, amounts, np.array(self._order_stage, dtype=np.int16)[order]

    def run(self, days: int | None = None, *, progress=None) -> RunResult:
        """Run ``days`` days (default: the model's ``days``) and return the result."""
        todo = self.days - self.day if days is None else int(days)
        for _ in range(todo):
            self.step()
            if progress is not None:
                progress(1)
        return self.result()

    def result(self) -> RunResult:
        """Everything recorded so far, as a :class:`~sim.records.RunResult`."""
        return self.recorder.result()


def _stage_reporter(k: int):
    def report(model: CustomerModel) -> int:
        return int(model.recorder.stage_counts[k])

    report.__name__ = f"stage_{k}"
    return report


def _scaled_schedule(counts: list[int], total: int) -> np.ndarray:
    """``counts`` scaled to add up to ``total`` (largest remainders), as an int array."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.sum() == total:
        return counts.astype(np.int64)
    if counts.sum() == 0:
        counts = np.zeros(max(1, counts.size))
        counts[0] = 1.0
    share = counts / counts.sum() * total
    out = np.floor(share).astype(np.int64)
    rest = int(total - out.sum())
    if rest:
        out[np.argsort(-(share - out), kind="stable")[:rest]] += 1
    return out
