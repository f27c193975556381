"""The policy interface: what every intervention is, and the day context it acts through.

Core objects:

- :class:`Policy`: a plug-in intervention. One required hook, :meth:`Policy.apply`, called once a
  day before customers act; optional hooks :meth:`Policy.on_purchases` (after the day's orders)
  and :meth:`Policy.reset` (before a run). A policy's parameters are declared as a pydantic model
  ``Params`` and validated when the policy is built; the constructor only stores them.
- :class:`Target`: whom a policy addresses (stages, value tiers, RFM segments, channels).
- :class:`Offer`: a coupon a customer can hold (discount, minimum spend, validity, lift).
- :class:`Day`: the context handed to policies. Everything a policy does goes through it:
  selecting customers, contacting them (the contact cap applies here), handing out offers,
  scaling today's purchase/basket/churn multipliers, charging costs, moving stages. It works on
  index arrays, so the same policy serves the per-agent and the vectorised engine.

Policies never own a random generator: they draw from ``day.rng``.

A ``Params`` field can also say how it is shown as a lever on the classroom page:
``Field(..., json_schema_extra=control("Coupon value (money off)", low=0, high=100, step=1))``.
:func:`control` only describes; it changes no validation, default or result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import BaseModel, Field, model_validator

from scenarios.fields import STRICT, check_magnitudes

from sim.state import rows_on_day

if TYPE_CHECKING:  # pragma: no cover
    from scenarios.schema import ScenarioConfig
    from sim.model import CustomerModel

__all__ = [
    "Policy", "PolicyParams", "Target", "Offer", "Day", "NoIntervention", "in_codes", "members", "known_names",
    "control", "CONTROL_NAMES",
]  # fmt: skip

_GOLDEN = 0.6180339887498949  # coverage offset between policies (golden-ratio rotation)


#: the lists of the scenario's names a ``control(names=...)`` can choose from
CONTROL_NAMES = ("stages", "tiers", "buyer_tiers", "segments", "channels")


def control(label: str | None = None, *, low: float | None = None, high: float | None = None,
            step: float | None = None, stretch: float | None = None, help: str | None = None,
            names: str | None = None, fields: dict[str, dict] | None = None, hidden: bool = False) -> dict:
    """How a ``Params`` field is shown as a lever; pass the result as ``Field(json_schema_extra=...)``.

    Only a description for the classroom page (:mod:`lifecycle.app.levers`): it changes no
    validation, default or result.

    - ``label``: the control's label (default: the field's ``title``, else its name);
      ``help``: one line under it (default: the field's ``description``).
    - Numbers get a slider (whole numbers for ``int`` fields) from ``low`` (default: the field's
      validated minimum ``ge``, else 0) to ``high`` in steps of ``step``. ``high`` is soft: the
      slider reaches at least ``stretch`` (default 3) times the current value, rounded up to 1, 2,
      2.5 or 5 times a power of ten, but never beyond the field's validated maximum (``le``).
    - ``Literal`` fields get a select of their values; ``names`` makes a ``str`` field a select and
      a ``list[str]`` field a multi-select of the scenario's ``"stages"``, ``"tiers"``,
      ``"buyer_tiers"`` (tiers with a threshold), ``"segments"`` or ``"channels"``.
    - A nested model field (an offer) shows the controls of its own fields, or exactly ``fields``
      (sub-field name -> ``control(...)``) when given. A ``dict[str, Model]`` field with ``names``
      shows one group of those controls per name, labelled ``"<name>: <label>"``.
    - ``hidden=True``: no control for this field.

    A field without this metadata at the top level of ``Params`` still gets a generic control: a
    plain slider for a number, a select for a ``Literal``, a checkbox for a ``bool``. Inside a
    nested model only described fields are shown.

    Examples
    --------
    >>> control("Bounty", low=0, high=100, step=1)
    {'control': {'label': 'Bounty', 'low': 0, 'high': 100, 'step': 1}}
    """
    if names is not None and names not in CONTROL_NAMES:
        raise ValueError(f"control(names=...) is one of {', '.join(CONTROL_NAMES)}; got {names!r}")
    spec = {"label": label, "low": low, "high": high, "step": step, "stretch": stretch, "help": help,
            "names": names, "fields": fields}  # fmt: skip
    spec = {k: v for k, v in spec.items() if v is not None}
    if hidden:
        spec["hidden"] = True
    return {"control": spec}


class Target(BaseModel):
    """Whom a policy addresses. Empty lists mean 'any'; fields combine with AND, names with OR."""

    model_config = STRICT
    stages: list[str] = Field(default_factory=list,
                              json_schema_extra=control("Target stages (none = all)", names="stages"))
    tiers: list[str] = Field(default_factory=list,
                             json_schema_extra=control("Target tiers (none = all)", names="tiers"))
    segments: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)


class PolicyParams(BaseModel):
    """Base of every policy's parameter model; subclasses add their own fields.

    ``coverage`` is the share of customers the programme can reach at all (1 = everyone it
    targets). Which customers are covered is fixed per customer and policy for the whole run, so
    a budget that pays for half the customers treats the same half every day.

    ``target`` is not a lever unless a policy says so: redeclare it in its ``Params`` as
    ``target: Target = Field(Target(), json_schema_extra=control("Target"))`` to offer the target
    stages and tiers on the classroom page.
    """

    model_config = STRICT
    target: Target = Field(Target(), json_schema_extra=control("Target", hidden=True))
    coverage: float = Field(1.0, ge=0, le=1, json_schema_extra=control(
        "Reach (share of customers)", low=0, high=1, step=0.05, stretch=1,
        help="Share of customers the programme can reach."))

    @model_validator(mode="after")
    def _magnitudes(self) -> PolicyParams:
        # every number of every policy, a user's own included, stays within what the model stores
        check_magnitudes(self.model_dump())
        return self


@dataclass(frozen=True)
class Offer:
    """A coupon: ``discount`` off an order of at least ``min_spend``, valid ``valid_days`` days.

    While valid it multiplies the holder's purchase rate by ``purchase_lift``; a holder who is in a
    churned stage comes back with daily probability ``reactivation`` (to the policy's stage).
    """

    discount: float
    min_spend: float = 0.0
    valid_days: int = 14
    purchase_lift: float = 1.0
    reactivation: float = 0.0


class Policy:
    """Base class of every intervention.

    Subclasses set ``kind`` (the name used in scenario files), declare ``Params`` and implement
    :meth:`apply`. ``priority`` orders policies within a day (lower first; ties keep file order):
    constraints such as the contact cap run before the policies they constrain.
    """

    kind: ClassVar[str] = ""
    priority: ClassVar[int] = 10
    Params: ClassVar[type[PolicyParams]] = PolicyParams

    def __init__(self, *, name: str | None = None, **params) -> None:
        self.params = self.Params(**params)
        self.name = name or self.kind or type(self).__name__

    def __getattr__(self, item: str):
        # parameters read as attributes: self.discount is self.params.discount
        params = self.__dict__.get("params")
        if params is not None and item in type(params).model_fields:
            return getattr(params, item)
        raise AttributeError(f"{type(self).__name__} has no attribute '{item}'")

    def get_params(self) -> dict:
        """The parameters this policy was built with (rebuild with ``type(p)(name=..., **params)``)."""
        return self.params.model_dump()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}(name={self.name!r}, {args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.name == other.name and self.params == other.params

    __hash__ = None  # mutable derived state after reset

    # --- hooks -------------------------------------------------------------------------------

    def reset(self, model: CustomerModel) -> None:
        """Prepare for a run (build derived state, with a trailing underscore). Optional."""

    def apply(self, day: Day) -> None:
        """Act on today's customers. Required."""
        raise NotImplementedError(f"{type(self).__name__} must implement apply(day)")

    def on_purchases(self, day: Day, buyers: np.ndarray, amounts: np.ndarray) -> None:
        """React to today's orders (``amounts`` at list price, per buyer; ``buyers`` ascending). Optional."""

    # --- helpers for subclasses ------------------------------------------------------------

    def check(self, config: ScenarioConfig) -> None:
        """Check the names this policy refers to against the scenario; raise ValueError if one is unknown.

        The base checks ``target``; a policy naming other things (a channel, tiers) extends it,
        calling ``super().check(config)``. Runs when a scenario is validated, before any model.
        """
        t = self.params.target
        for field, known in (
            ("stages", [s.name for s in config.stages]),
            ("tiers", [x.name for x in config.tiers]),
            ("segments", [x.name for x in config.rfm.segments]),
            ("channels", [x.name for x in config.channels]),
        ):
            for value in getattr(t, field):
                if value not in known:
                    raise ValueError(f"target.{field}: unknown name '{value}'; known: {known_names(known)}")


def known_names(names) -> str:
    """``'a', 'b'`` for an error message, or ``none``."""
    return ", ".join(map(repr, names)) or "none"


class NoIntervention(Policy):
    """The null policy: does nothing. A model with no policies behaves exactly like one with this."""

    kind = "none"

    def apply(self, day: Day) -> None:
        return None


class Day:
    """Today's context for policies. Built by the model; policies only call its methods."""

    def __init__(self, model: CustomerModel, t: int, rng: np.random.Generator) -> None:
        self.model = model
        self.t = t
        self.rng = rng
        self.state = model.state
        self.contact_cap: int | None = None
        #: customers the current policy may touch (an experiment arm); None means everyone
        self.scope: np.ndarray | None = None
        #: the arm codes behind ``scope`` (None: every arm)
        self.scope_arms: tuple[int, ...] | None = None
        #: (coverage, policy position) of the current policy
        self.coverage: tuple[float, int] = (1.0, 0)
        #: after the customers acted: today's buyers' stage when they ordered (aligned with buyers)
        self.order_stage: np.ndarray | None = None

    def _scoped(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        if self.scope is not None:
            idx = idx[self.scope[idx]]
        share, k = self.coverage
        if share < 1.0:
            idx = idx[self._covered(share, k)[idx]]
        return idx

    def _covered(self, share: float, k: int) -> np.ndarray:
        """Who a policy with this coverage and position reaches, one flag per customer so far.

        Each policy sees the customers' coverage draws rotated by its own offset, so two policies
        with partial coverage reach different (not nested) customers. The flags are kept by the
        model and extended as customers arrive (a customer's draw never changes), so a policy
        consulted many times a day pays for each customer once.
        """
        cache = self.model.coverage_masks
        n = self.state.n
        flags = cache.get((share, k))
        if flags is None or flags.size < n:
            start = 0 if flags is None else flags.size
            new = np.mod(self.state.coverage_u[start:n] + k * _GOLDEN, 1.0) < share
            flags = new if flags is None else np.concatenate([flags, new])
            cache[share, k] = flags
        return flags

    # --- selecting ----------------------------------------------------------------------------

    def customers(self, target: Target | None = None, *, alive: bool = True) -> np.ndarray:
        """Indices of customers matching ``target`` (and, by default, not in a churned stage)."""
        s = self.state
        stage = s.stage[: s.n]
        idx = np.flatnonzero(~self.model.graph.churned[stage]) if alive else np.arange(s.n)
        return self._scoped(idx) if target is None else self.matches(idx, target)

    def matches(self, idx: np.ndarray, target: Target) -> np.ndarray:
        """The subset of ``idx`` that matches ``target``."""
        m, s = self.model, self.state
        idx = self._scoped(idx)
        keep = np.ones(idx.size, dtype=bool)
        for field, column, lookup in (
            ("stages", "stage", m.graph.index),
            ("tiers", "tier", m.tier_index),
            ("segments", "segment", m.segment_index),
            ("channels", "channel", m.channel_index),
        ):
            names = getattr(target, field)
            if names:
                codes = np.array([lookup[x] for x in names])
                keep &= in_codes(getattr(s, column)[idx], codes)
        return idx[keep]

    def buyers_on(self, d: int) -> np.ndarray:
        """Customers who bought on day ``d`` (a past day within the model's look-back)."""
        return self.model.buyers_on(d)

    def arrivals_on(self, d: int) -> np.ndarray:
        """Customers acquired on day ``d``."""
        s = self.state
        lo, hi = rows_on_day(s.acquired[: s.n], d)
        return np.arange(lo, hi)

    def bernoulli(self, n: int, p: float) -> np.ndarray:
        """Indices among ``0..n-1`` each chosen independently with probability ``p``.

        Drawn as geometric gaps between successes, so the work grows with ``n * p``, not ``n``.
        """
        if p <= 0 or n <= 0:
            return np.zeros(0, dtype=np.int64)
        if p >= 1:
            return np.arange(n)
        out = []
        pos = -1
        while True:
            gaps = self.rng.geometric(p, size=int(n * p * 1.1) + 16)
            steps = pos + np.cumsum(gaps)
            out.append(steps[steps < n])
            if steps[-1] >= n:
                break
            pos = int(steps[-1])
        return np.concatenate(out)

    def alive(self, idx: np.ndarray) -> np.ndarray:
        """The subset of ``idx`` not in a churned stage."""
        return idx[~self.model.graph.churned[self.state.stage[idx]]]

    # --- acting -------------------------------------------------------------------------------

    def contacts_last_week(self, idx: np.ndarray) -> np.ndarray:
        """Contacts each customer in ``idx`` received over the last 7 days, today included."""
        return self.state.contacts_week[idx].astype(np.int32)

    def contact(self, policy: Policy, idx: np.ndarray, cost_each: float) -> np.ndarray:
        """Contact customers (an email, a push, a call); returns those actually contacted.

        With a contact cap in force, customers already at the cap this week are skipped.
        Each contact costs ``cost_each`` to ``policy``.
        """
        idx = self._scoped(idx)
        if self.contact_cap is not None and idx.size:
            idx = idx[self.contacts_last_week(idx) < self.contact_cap]
        if idx.size:
            ring = self.t % 7
            c, week = self.state.contacts, self.state.contacts_week
            room = (c[ring, idx] < 255) & (week[idx] < 255)  # counts saturate at 255
            c[ring, idx[room]] += 1
            week[idx[room]] += 1
            if cost_each > 0:
                self.charge(policy, idx, np.full(idx.size, cost_each), "contact")
        return idx

    def give_offer(self, policy: Policy, idx: np.ndarray, offer: Offer, *, send_cost: float = 0.0) -> np.ndarray:
        """Send ``offer`` to customers who hold no valid offer; returns those who received it."""
        s = self.state
        idx = self._scoped(idx)
        idx = idx[s.offer_until[idx] < self.t]
        idx = self.contact(policy, idx, send_cost)
        if idx.size:
            s.offer_policy[idx] = self.model.policy_id(policy)
            s.offer_until[idx] = self.t + offer.valid_days - 1
            s.offer_discount[idx] = offer.discount
            s.offer_min_spend[idx] = offer.min_spend
            s.offer_lift[idx] = offer.purchase_lift
            # only a policy with a reactivate_to stage (model.reactivate_to >= 0) brings holders back
            can_return = self.model.reactivate_to[self.model.policy_id(policy)] >= 0
            s.offer_reactivation[idx] = offer.reactivation if can_return else 0.0
        return idx

    def scale(self, idx: np.ndarray, *, purchase: float = 1.0, basket: float = 1.0, churn: float = 1.0) -> None:
        """Multiply today's purchase rate, basket value and churn hazard of ``idx``."""
        s = self.state
        idx = self._scoped(idx)
        if idx.size == 0:
            return
        self.model.touched.append(idx)
        if purchase != 1.0:
            s.mod_purchase[idx] *= purchase
        if basket != 1.0:
            s.mod_basket[idx] *= basket
        if churn != 1.0:
            s.mod_churn[idx] *= churn

    def scale_target(self, target: Target, *, purchase: float = 1.0, basket: float = 1.0, churn: float = 1.0) -> None:
        """Multiply today's rates of everyone matching ``target`` (alive, in scope).

        Targets by stage and tier only are applied as a table the engines look up per customer,
        with no pass over the customers here; other targets select customers explicitly.
        """
        if target.segments or target.channels or self.coverage[0] < 1.0:
            self.scale(self.customers(target), purchase=purchase, basket=basket, churn=churn)
            return
        m = self.model
        table = m.group_mod  # (3 kinds, 1 + arms, stages, 1 + tiers)
        arms = np.arange(table.shape[1]) if self.scope_arms is None else np.array(self.scope_arms) + 1
        stages = np.arange(table.shape[2]) if not target.stages else [m.graph.index[x] for x in target.stages]
        tiers = np.arange(table.shape[3]) if not target.tiers else [m.tier_index[x] + 1 for x in target.tiers]
        cells = np.ix_(arms, stages, tiers)
        for k, factor in enumerate((purchase, basket, churn)):
            if factor != 1.0:
                table[k][cells] *= factor

    def matches_at_order(self, buyers: np.ndarray, target: Target) -> np.ndarray:
        """Today's ``buyers`` whose stage when they ordered (and tier, channel, segment) match."""
        if self.order_stage is None:
            raise RuntimeError("matches_at_order is only available in on_purchases")
        keep = np.ones(buyers.size, dtype=bool)
        if target.stages:
            keep &= in_codes(self.order_stage, np.array([self.model.graph.index[x] for x in target.stages]))
        # matches() keeps the order of its input, so this is already the buyers that match
        return self.matches(buyers[keep], target.model_copy(update={"stages": []}))

    def charge(self, policy: Policy, idx: np.ndarray, amounts: np.ndarray, kind: str) -> None:
        """Charge ``amounts`` (one per customer in ``idx``) to ``policy`` under cost ``kind``."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.scope is not None:
            keep = self.scope[idx]
            idx, amounts = idx[keep], np.broadcast_to(amounts, keep.shape)[keep]
        self.model.charge_policy(self.model.policy_id(policy), idx, amounts, kind, self.t)

    def move(self, policy: Policy, idx: np.ndarray, to_stage: str) -> None:
        """Move customers to ``to_stage`` (only along a transition declared with rule 'policy')."""
        self.model.move_by_policy(policy, self._scoped(idx), to_stage, self.t)


def members(sorted_idx: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """Boolean mask over ``sorted_idx`` (ascending, unique) of the entries that are in ``subset``.

    ``subset`` must be drawn from ``sorted_idx``; a search instead of ``np.isin``'s hashing or
    sorting, so the cost grows with ``len(subset) * log(len(sorted_idx))``.
    """
    mask = np.zeros(sorted_idx.size, dtype=bool)
    mask[np.searchsorted(sorted_idx, subset)] = True
    return mask


def in_codes(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``np.isin(values, codes)`` for small non-negative integer codes (values may be -1)."""
    codes = np.asarray(codes, dtype=np.int64)
    lookup = np.zeros(int(codes.max()) + 2, dtype=bool)  # the last slot is always False
    lookup[codes] = True
    v = values.astype(np.int64)
    return lookup[np.clip(v, -1, lookup.size - 1)] & (v >= 0)
