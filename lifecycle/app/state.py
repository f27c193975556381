"""The classroom controller: the models behind the page, and everything a trainer can do to them.

No UI code here: the page (:mod:`lifecycle.app.page`) only calls these methods, so all of it is unit-tested.

Core objects:

- :class:`Controller`: holds the scenario and its model (and a second model when two settings are
  compared); steps, plays, pauses and resets them; loads presets and uploaded files; applies lever
  changes by rebuilding the policies with new parameters (``type(p)(name=p.name, **params)``).
- :class:`Setting`: one combination of lever values: the policies, the daily spend per channel
  and the value-tier thresholds. Settings are immutable; a lever change makes a new one.
- :class:`Lever`: one control derived from the scenario (what it changes, its range, its value).
- :class:`ClassroomModel`: the controller seen as a ``mesa.Model``, so Mesa's own
  ``ModelController`` (play / pause / step / reset) can drive it.

Lever changes take effect at once in the running model (the rebuilt policy replaces the old one
from the next day on) and are kept for the next reset, which restarts from day 0. Comparing two
settings runs two models with the same seed and the same initial customers, stepped together.

Uploads are data only: the bytes go through :func:`scenarios.loader.parse_scenario`, which parses
TOML and validates it; nothing in a file is imported or executed, the size is checked before the
content is read, and the file name is only ever shown as a label (never used as a path).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import mesa
import numpy as np
from pydantic import ValidationError

from scenarios.loader import DEFAULT_PRESET, MAX_SCENARIO_BYTES, Scenario, load_scenario, parse_scenario, presets
from scenarios.errors import ConfigError
from sim.acquisition import expected_customers
from sim.model import AGENT_ENGINE_LIMIT, CustomerModel
from sim.segments import Segmenter
from sim.state import NONE

__all__ = [
    "Controller", "Setting", "Lever", "LeverError", "ClassroomModel", "Snapshot", "safe_label",
    "preset_names", "DEFAULT_CUSTOMERS", "MIN_CUSTOMERS", "MAX_CUSTOMERS", "MAX_DAYS", "DOT_VIEW_LIMIT",
    "MAX_DAILY_ARRIVALS", "expected_arrivals", "choose_engine",
    "SPEEDS", "DEFAULT_SPEED",
]  # fmt: skip

#: initial customers when the page opens (a class can follow about this many dots)
DEFAULT_CUSTOMERS = 1_000
MIN_CUSTOMERS = 10
#: the most initial customers the page offers (it stays interactive on a laptop)
MAX_CUSTOMERS = 20_000
#: longest run the page plays (a scenario asking for more is cut here)
MAX_DAYS = 3_650
#: up to this many customers the page draws one dot per customer; above it, aggregate views
DOT_VIEW_LIMIT = 3_000
#: most customers a day the channels may be expected to bring (a run must stay small enough to play live)
MAX_DAILY_ARRIVALS = 2_000
#: speed levels 1..9: (pause between updates in ms, days simulated per update)
SPEEDS: tuple[tuple[int, int], ...] = (
    (1000, 1), (500, 1), (250, 1), (100, 1), (50, 1), (50, 2), (50, 5), (50, 10), (50, 30),
)  # fmt: skip
DEFAULT_SPEED = 4


class LeverError(ConfigError):
    """A lever value the policy or scenario does not accept; the message says why."""


@lru_cache(maxsize=1)
def _preset_table() -> tuple[tuple[str, str], ...]:
    return tuple(presets().items())


def preset_names() -> list[str]:
    """Names of the shipped presets (the only scenario names the page may load by name)."""
    return [name for name, _ in _preset_table()]


def preset_description(name: str) -> str:
    """First line of a preset's description ('' if unknown)."""
    return dict(_preset_table()).get(name, "")


def safe_label(name: object, limit: int = 80) -> str:
    """A file name reduced to a harmless display label (no folders, no control characters)."""
    text = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    return (text or "upload")[:limit]


# --- levers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lever:
    """One control: which part of a setting it changes, its range and its current value.

    ``kind`` is ``policy`` (``owner`` is the policy name, ``path`` the parameter path),
    ``channel`` (``owner`` is the channel, path ``("daily_spend",)``) or ``tier`` (``owner`` is
    the value tier, path ``("min_annual_spend",)`` or ``("min_purchases",)``).
    """

    kind: str
    owner: str
    path: tuple[str, ...]
    group: str
    label: str
    type: str  # SliderInt | SliderFloat | Select | SelectMultiple
    value: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    values: tuple = ()
    help: str = ""

    @property
    def id(self) -> str:
        """Stable identifier, e.g. ``policy:repurchase_coupon:offer.discount``."""
        return f"{self.kind}:{self.owner}:{'.'.join(self.path)}"

    @property
    def key(self) -> tuple:
        """(kind, owner, path): what :meth:`Controller.set_lever` accepts besides the lever itself."""
        return (self.kind, self.owner, self.path)

    def user_param(self) -> dict:
        """The lever as one entry of Mesa's ``UserInputs`` specification."""
        spec: dict[str, Any] = {"type": self.type, "label": self.label, "value": self.value}
        if self.type in ("SliderInt", "SliderFloat"):
            spec.update(min=self.min, max=self.max, step=self.step)
        elif self.type == "Select":
            spec["values"] = list(self.values)
        return spec


def _nice_ceil(x: float) -> float:
    """Round up to 1, 2, 2.5 or 5 times a power of ten."""
    if x <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * base >= x - 1e-12:
            return m * base
    return 10 * base  # pragma: no cover


def _get(d: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def _set(d: dict, path: tuple[str, ...], value: Any) -> dict:
    out = copy.deepcopy(d)
    cur = out
    for part in path[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[part] = nxt
        cur = nxt
    cur[path[-1]] = value
    return out


def _slider(value, *, lo: float, floor_hi: float, step: float, factor: float = 3.0, cap: float | None = None,
            integer: bool = False) -> dict:
    v = float(value if value is not None else lo)
    lo = min(lo, v)
    hi = _nice_ceil(max(floor_hi, v * factor, lo + step))
    if cap is not None:
        hi = min(hi, cap)
    if integer:
        return {"type": "SliderInt", "value": int(round(v)), "min": int(lo), "max": int(hi), "step": int(max(1, step))}
    return {"type": "SliderFloat", "value": v, "min": float(lo), "max": float(hi), "step": float(step)}


def _policy_levers(p, stage_names: list[str], tier_names: list[str], buyer_tiers: list[str] | None = None) -> list[Lever]:
    """Controls for one policy, by its kind (unknown kinds get a slider per numeric parameter).

    ``buyer_tiers``: the value tiers a loyalty benefit makes sense for (tiers with a threshold).
    """
    params = p.get_params()
    kind = p.kind
    group = f"{kind.replace('_', ' ')} '{p.name}'"
    out: list[Lever] = []

    def add(path: tuple[str, ...], label: str, spec: dict, help: str = "") -> None:
        if spec["type"] in ("Select", "SelectMultiple"):
            value = spec["value"]
        else:
            current = _get(params, path)
            value = spec["value"] if current is None else current
            value = int(value) if spec["type"] == "SliderInt" else float(value)
        out.append(Lever("policy", p.name, path, group, label, spec["type"], value, spec.get("min"), spec.get("max"),
                         spec.get("step"), tuple(spec.get("values", ())), help))

    def num(path, label, help="", default=None, **kw):
        current = _get(params, path)
        add(path, label, _slider(default if current is None else current, **kw), help)

    def pick_many(path, label, choices, help=""):
        if choices:
            current = _get(params, path) or []
            add(path, label, {"type": "SelectMultiple", "value": list(current), "values": list(choices)}, help)

    if kind == "coupon":
        num(("offer", "discount"), "Coupon value (money off)", "Discount on one order of at least the minimum spend.",
            lo=0, floor_hi=100, step=1)
        num(("offer", "min_spend"), "Minimum order for the coupon", "'Spend X get Y off': X.", lo=0, floor_hi=500, step=10)
        num(("send_after_days",), "Send after (days)", "Days after the trigger event.", lo=0, floor_hi=60, step=1,
            cap=365, integer=True)
        num(("offer", "purchase_lift"), "Purchase lift while valid (x)", "Multiplies the purchase rate while valid.",
            lo=0.5, floor_hi=3, step=0.05, factor=1.5)
        add(("trigger",), "Trigger", {"type": "Select", "value": params.get("trigger"),
                                      "values": ["first_order", "repurchase", "winback"]},
            "first order after acquisition, repurchase after the first order, or win-back after silence.")
        pick_many(("target", "stages"), "Target stages (none = all)", stage_names)
        pick_many(("target", "tiers"), "Target tiers (none = all)", tier_names)
    elif kind == "loyalty":
        for tier in _loyalty_tiers(tier_names if buyer_tiers is None else buyer_tiers, p):
            num(("benefits", tier, "churn_multiplier"), f"{tier}: churn multiplier", "Below 1: members leave less often.",
                default=1.0, lo=0, floor_hi=1.5, step=0.05, factor=1)
            num(("benefits", tier, "purchase_multiplier"), f"{tier}: purchase multiplier", "Above 1: members buy more often.",
                default=1.0, lo=0.5, floor_hi=2, step=0.05, factor=1)
            num(("benefits", tier, "cost_share_of_spend"), f"{tier}: benefit cost (share of spend)",
                "What the tier's benefits cost, as a share of the member's spend.", default=0.0, lo=0, floor_hi=0.2,
                step=0.005, factor=1, cap=1)
        num(("points_per_unit",), "Points per unit spent", "Points cost point value x redemption rate.", lo=0,
            floor_hi=5, step=0.5)
    elif kind == "winback":
        num(("light_after_days",), "Light warning offer after (days)", "Days without a purchase.", lo=1, floor_hi=180,
            step=1, factor=1, cap=364, integer=True)
        num(("heavy_after_days",), "Heavy warning offer after (days)", "Must be later than the light warning.", lo=2,
            floor_hi=365, step=1, factor=1, cap=365, integer=True)
        num(("light_offer", "discount"), "Light offer value (money off)", lo=0, floor_hi=100, step=1)
        num(("heavy_offer", "discount"), "Heavy offer value (money off)", lo=0, floor_hi=150, step=1)
        pick_many(("rich_tiers",), "Tiers that get rich offers", tier_names, "Everyone else gets a cheap reminder.")
    elif kind == "referral":
        num(("bounty",), "Referral bounty", "Paid per referred customer.", lo=0, floor_hi=100, step=1)
        num(("daily_rate",), "Daily chance to refer", "Per targeted buyer and day.", lo=0, floor_hi=0.01, step=0.0005)
    elif kind == "contact_cap":
        num(("max_per_week",), "Contact cap (per customer per week)", "Contacts beyond it are not sent.", lo=0,
            floor_hi=7, step=1, factor=1, integer=True)
    elif kind == "onboarding":
        num(("purchase_multiplier",), "Onboarding purchase boost (x)", lo=0.5, floor_hi=2, step=0.05, factor=1)
        num(("churn_multiplier",), "Onboarding churn multiplier", lo=0, floor_hi=1.5, step=0.05, factor=1)
        num(("window_days",), "Onboarding window (days)", lo=1, floor_hi=90, step=1, factor=1, cap=365, integer=True)
    elif kind == "cross_sell":
        num(("basket_multiplier",), "Basket multiplier (x)", lo=0.5, floor_hi=2, step=0.05, factor=1)
        num(("cost_per_order",), "Cost per order", lo=0, floor_hi=5, step=0.1)
    elif kind != "none":
        for name, value in params.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or name == "coverage":
                continue
            num((name,), name.replace("_", " "), lo=0, floor_hi=1, step=1 if isinstance(value, int) else 0.01,
                integer=isinstance(value, int))
    if isinstance(params.get("coverage"), (int, float)):
        num(("coverage",), "Reach (share of customers)", "Share of customers the programme can reach.", lo=0,
            floor_hi=1, step=0.05, factor=1, cap=1)
    return out


def _loyalty_tiers(tier_names: list[str], loyalty) -> list[str]:
    """Tiers with a benefit already, then the other tiers that have a threshold."""
    named = list(loyalty.get_params().get("benefits", {}))
    return named + [t for t in tier_names if t not in named]


# --- settings -------------------------------------------------------------------------------------


def _clone(policy):
    """A fresh copy of a policy (no derived state), rebuilt from its parameters."""
    return type(policy)(name=policy.name, **policy.get_params())


@dataclass(frozen=True)
class Setting:
    """Lever values: policies (rebuilt on change), daily spend per channel, value-tier thresholds."""

    policies: tuple
    channel_spend: dict[str, float] = field(default_factory=dict)
    tiers: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Setting:
        """The scenario's own values."""
        cfg = scenario.config
        return cls(
            policies=tuple(_clone(p) for p in scenario.policies),
            channel_spend={c.name: float(c.daily_spend) for c in cfg.channels},
            tiers={t.name: {"min_annual_spend": float(t.min_annual_spend), "min_purchases": int(t.min_purchases)}
                   for t in cfg.tiers},
        )  # fmt: skip

    def config_for(self, scenario: Scenario):
        """The scenario's config with this setting's channel spend and tier thresholds."""
        cfg = scenario.config
        channels = [c.model_copy(update={"daily_spend": float(self.channel_spend.get(c.name, c.daily_spend))})
                    for c in cfg.channels]  # fmt: skip
        tiers = [t.model_copy(update=dict(self.tiers.get(t.name, {}))) for t in cfg.tiers]
        return cfg.model_copy(update={"channels": channels, "tiers": tiers})

    def policy(self, name: str):
        """The policy called ``name``."""
        for p in self.policies:
            if p.name == name:
                return p
        raise LeverError(f"no policy named {name!r}; the policies are {[p.name for p in self.policies]}")

    def levers(self, scenario: Scenario) -> list[Lever]:
        """Every control this setting offers, policies first, then channels and tiers."""
        cfg = scenario.config
        stage_names = [s.name for s in cfg.stages]
        tier_names = [t.name for t in cfg.tiers]
        buyer_tiers = [t.name for t in cfg.tiers if t.min_annual_spend > 0 or t.min_purchases > 0 or t.min_referrals > 0]
        out: list[Lever] = []
        for p in self.policies:
            out.extend(_policy_levers(p, stage_names, tier_names, buyer_tiers))
        for c in cfg.channels:
            v = self.channel_spend.get(c.name, c.daily_spend)
            spec = _slider(v, lo=0, floor_hi=max(100.0, 2 * c.saturation * c.cac), step=10)
            out.append(Lever("channel", c.name, ("daily_spend",), "acquisition spend per day", f"{c.name}: daily spend",
                             "SliderFloat", float(v), spec["min"], spec["max"], spec["step"], (),
                             f"About {c.cac:g} per customer at small spend, at most {c.saturation:g} customers a day."))
        for t in cfg.tiers:
            cur = self.tiers.get(t.name, {})
            spend = cur.get("min_annual_spend", t.min_annual_spend)
            buys = cur.get("min_purchases", t.min_purchases)
            s1 = _slider(spend, lo=0, floor_hi=1000, step=100)
            s2 = _slider(buys, lo=0, floor_hi=20, step=1, factor=2, integer=True)
            group = "value tier thresholds"
            out.append(Lever("tier", t.name, ("min_annual_spend",), group, f"{t.name}: min annual spend", "SliderFloat",
                             float(spend), s1["min"], s1["max"], s1["step"], (), "First matching tier wins."))
            out.append(Lever("tier", t.name, ("min_purchases",), group, f"{t.name}: min purchases", "SliderInt",
                             int(buys), s2["min"], s2["max"], s2["step"]))
        return out

    def with_value(self, kind: str, owner: str, path: tuple[str, ...], value: Any) -> Setting:
        """A new setting with one lever changed; raises :class:`LeverError` if the value is refused."""
        if kind == "policy":
            old = self.policy(owner)
            params = _set(old.get_params(), tuple(path), value)
            try:
                new = type(old)(name=old.name, **params)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first.get("loc", ())) or ".".join(path)
                msg = str(first.get("msg", exc)).removeprefix("Value error, ")
                raise LeverError(f"{old.kind} '{old.name}': {where}: {msg}") from None
            except (TypeError, ValueError) as exc:
                raise LeverError(f"{old.kind} '{old.name}': {exc}") from None
            return dataclasses.replace(self, policies=tuple(new if p.name == owner else p for p in self.policies))
        if kind == "channel":
            if owner not in self.channel_spend:
                raise LeverError(f"no channel named {owner!r}")
            spend = _number(value, f"channel '{owner}' daily spend")
            return dataclasses.replace(self, channel_spend={**self.channel_spend, owner: spend})
        if kind == "tier":
            if owner not in self.tiers or path[-1] not in ("min_annual_spend", "min_purchases"):
                raise LeverError(f"no tier threshold {owner!r} {'.'.join(path)}")
            v = _number(value, f"tier '{owner}' {path[-1]}")
            v = int(round(v)) if path[-1] == "min_purchases" else v
            tiers = {**self.tiers, owner: {**self.tiers[owner], path[-1]: v}}
            return dataclasses.replace(self, tiers=tiers)
        raise LeverError(f"unknown lever kind {kind!r}")


def _number(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LeverError(f"{what}: a number is needed; got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise LeverError(f"{what}: must be a number >= 0; got {value!r}")
    return v


def expected_arrivals(scenario: Scenario, setting: Setting) -> float:
    """Customers a day the channels are expected to bring under ``setting``."""
    spend = setting.channel_spend
    return float(sum(expected_customers(spend.get(c.name, c.daily_spend), c.saturation, c.cac)
                     for c in scenario.config.channels))  # fmt: skip


def choose_engine(customers: int, days: int, arrivals_per_day: float) -> str:
    """The per-agent engine only if the whole run stays small; the vectorised one otherwise.

    Unlike the model's own "auto" (which looks at the initial population only), this counts the
    customers the channels will add, so a run does not slow down as it grows.
    """
    expected = customers + days * arrivals_per_day
    return "agent" if expected <= AGENT_ENGINE_LIMIT else "vector"


def _check_arrivals(scenario: Scenario, setting: Setting, where: str) -> None:
    n = expected_arrivals(scenario, setting)
    if n > MAX_DAILY_ARRIVALS:
        raise LeverError(f"{where}: the channels would bring about {n:,.0f} customers a day; the classroom app "
                         f"plays at most {MAX_DAILY_ARRIVALS:,} a day (lower the daily spend)")


def build_model(scenario: Scenario, setting: Setting, *, seed: int, customers: int, days: int,
                engine: str = "auto") -> CustomerModel:
    """A fresh model of ``scenario`` under ``setting`` (fresh copies of the policies).

    ``engine="auto"`` picks with :func:`choose_engine` (the whole run's size).
    """
    if engine == "auto":
        engine = choose_engine(customers, days, expected_arrivals(scenario, setting))
    variant = dataclasses.replace(scenario, config=setting.config_for(scenario),
                                  policies=tuple(_clone(p) for p in setting.policies))
    return CustomerModel(variant, seed=seed, customers=customers, days=days, engine=engine)


def apply_live(model: CustomerModel, scenario: Scenario, old: Setting, new: Setting) -> None:
    """Make a running model follow ``new`` from its next day on.

    Changed policies are rebuilt and swapped in place (same name and position, so the ledger and
    the offers customers already hold keep pointing at the right policy); channel spend and tier
    thresholds are replaced. On a refused value nothing changes and LeverError is raised.
    """
    wanted = {p.name: p for p in new.policies}
    swaps: dict[int, Any] = {}
    for i, p in enumerate(model.policies):
        q = wanted.get(p.name)
        if q is None or q == p:
            continue
        swaps[i] = _clone(q)
    if swaps:
        try:
            model.swap_policies(swaps)
        except ValueError as exc:
            raise LeverError(str(exc)) from None
    for k, ch in enumerate(model.channels):
        spend = new.channel_spend.get(ch.name)
        if spend is not None and spend != ch.daily_spend:
            model.channels[k] = dataclasses.replace(ch, daily_spend=float(spend))
    if new.tiers != old.tiers or new.channel_spend != old.channel_spend:
        cfg = new.config_for(scenario)
        model.config = cfg
        if new.tiers != old.tiers:
            model.segmenter = Segmenter(cfg)
            model.segmenter.update_tiers(model.state, slice(0, model.state.n))


# --- what the page shows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of one model's aggregates at one moment (charts read only this)."""

    side: str
    label: str
    day: int
    days: int
    engine: str
    result: Any  # sim.records.RunResult
    history: tuple[dict, ...]
    #: stage occupancy per day as collected by the model's ``mesa.DataCollector`` (one column per stage)
    stages: Any = None

    @property
    def customers(self) -> int:
        """Customers simulated so far (initial plus acquired)."""
        return self.result.n_customers


def quick_metrics(model: CustomerModel) -> dict:
    """LTV, CAC and LTV/CAC of acquired customers so far (as in :mod:`analysis.metrics`), cheaply."""
    s = model.state
    n = s.n
    acquired = s.channel[:n] != NONE
    spend = float(model.ledger.channel_spend.sum())
    count = int(model.ledger.channel_customers.sum())
    cac = spend / count if count else None
    ltv = float(s.value[:n][acquired].mean()) if acquired.any() else None
    ratio = ltv / cac if (ltv is not None and cac) else None
    return {"day": model.day, "ltv": ltv, "cac": cac, "ltv_cac": ratio, "customers": n}


def _metric_rows(result) -> dict[str, float | None]:
    from analysis import metrics as M

    c = result.customers
    acquired = c["channel"] != NONE
    margin = float(c["margin"].sum())
    policy = float(c["policy_cost"].sum())
    acq = float(result.channel_spend.sum())
    return {
        "ltv_cac": M.ltv_cac(result).value,
        "ltv_mean_acquired": M.ltv(result, acquired).value,
        "cac": M.cac(result).value,
        "retention_30d": M.retention_at(result, 30).value,
        "retention_90d": M.retention_at(result, 90).value,
        "observed_retention_30d": M.retention_at(result, 30, "observed").value,
        "repurchase_rate_30d": M.repurchase_rate(result, 30).value,
        "revenue": float(c["revenue"].sum()),
        "policy_costs": policy,
        "net_contribution": margin - policy - acq,
    }


COMPARISON_METRICS: tuple[tuple[str, str, str], ...] = (
    ("ltv_cac", "LTV/CAC", "ratio"),
    ("ltv_mean_acquired", "LTV per acquired customer", "money"),
    ("cac", "CAC", "money"),
    ("retention_30d", "Retention at 30 days (true)", "share"),
    ("retention_90d", "Retention at 90 days (true)", "share"),
    ("observed_retention_30d", "Retention at 30 days (observed)", "share"),
    ("repurchase_rate_30d", "Repurchase within 30 days", "share"),
    ("revenue", "Revenue", "money"),
    ("policy_costs", "Policy costs", "money"),
    ("net_contribution", "Cumulative profit", "money"),
)


# --- the controller -------------------------------------------------------------------------------


class Controller:
    """The state of one classroom page: scenario, settings, model(s), speed and messages.

    Thread-safe: the page's play loop steps from a worker thread while the trainer moves levers,
    so every public method holds one lock.
    """

    def __init__(self, scenario: str | Scenario = DEFAULT_PRESET, *, customers: int = DEFAULT_CUSTOMERS,
                 seed: int | None = None, days: int | None = None, engine: str = "auto") -> None:
        self._lock = threading.RLock()
        self.engine = engine
        self.error: str | None = None
        self.notice: str | None = None
        self.compare = False
        self.editing = "A"
        self.speed = DEFAULT_SPEED
        self.playing = False
        #: bumps when the scenario or the population changes (the page remounts its controls)
        self.generation = 0
        #: bumps on every change (cache key for snapshots)
        self.version = 0
        self._customers = _clamp_customers(customers)
        self._seed_choice = seed
        self._days_choice = days
        self._snapshots: dict[str, tuple[tuple, Snapshot]] = {}
        sc = scenario if isinstance(scenario, Scenario) else self._preset(scenario)
        origin = "preset" if not isinstance(scenario, Scenario) else "given"
        self._install(sc, label=sc.name, origin=origin)

    # --- scenario -----------------------------------------------------------------------------

    @staticmethod
    def _preset(name: str) -> Scenario:
        if name not in preset_names():
            raise ConfigError(f"unknown preset {safe_label(name)!r}; the presets are {', '.join(preset_names())}")
        return load_scenario(name)

    def _install(self, scenario: Scenario, *, label: str, origin: str) -> None:
        setting = Setting.from_scenario(scenario)
        _check_arrivals(scenario, setting, scenario.source)
        seed = scenario.config.run.seed if self._seed_choice is None else self._seed_choice
        days = min(MAX_DAYS, scenario.config.run.days if self._days_choice is None else self._days_choice)
        model = build_model(scenario, setting, seed=seed, customers=self._customers, days=days, engine=self.engine)
        model_b = None
        if self.compare:
            model_b = build_model(scenario, setting, seed=seed, customers=self._customers, days=days, engine=self.engine)
        # everything built: commit
        self.scenario = scenario
        self.label = label
        self.origin = origin
        self.setting_a = setting
        self.setting_b = setting
        self.seed = seed
        self.days = days
        self.model = model
        self.model_b = model_b
        self.editing = "A"
        self.playing = False
        self._history = {"A": [quick_metrics(model)], "B": [quick_metrics(model_b)] if model_b else []}
        self.generation += 1
        self._changed()

    def load_preset(self, name: str) -> None:
        """Switch to a shipped preset; only names from :func:`preset_names` are accepted."""
        with self._lock:
            try:
                sc = self._preset(name)
                self._install(sc, label=sc.name, origin="preset")
            except ConfigError as exc:
                self.error = str(exc)
                raise
            self.error = None
            self.notice = f"Loaded preset '{name}'."

    def upload(self, name: object, data: bytes | str | None = None, *, size: int | None = None, stream=None) -> bool:
        """Validate an uploaded scenario file and switch to it.

        ``data`` is the content, or ``stream`` a file-like object read here (at most
        :data:`~scenarios.loader.MAX_SCENARIO_BYTES` + 1 bytes); a declared ``size`` above the limit
        is refused before anything is read. ``name`` is only a label. On any problem the current
        scenario stays, :attr:`error` holds the message and False is returned.
        """
        label = safe_label(name)
        source = f"uploaded file '{label}'"
        problem = None
        try:  # read before taking the lock: a slow client must not hold up the running model
            if size is not None and int(size) > MAX_SCENARIO_BYTES:
                raise ConfigError(f"{source}: {int(size):,} bytes; the limit is {MAX_SCENARIO_BYTES:,} bytes")
            if data is None:
                if stream is None:
                    raise ConfigError(f"{source}: no content")
                data = stream.read(MAX_SCENARIO_BYTES + 1)
            data = data.encode("utf-8") if isinstance(data, str) else bytes(data or b"")
            if len(data) > MAX_SCENARIO_BYTES:
                raise ConfigError(f"{source}: more than {MAX_SCENARIO_BYTES:,} bytes; the limit is "
                                  f"{MAX_SCENARIO_BYTES:,} bytes")
        except ConfigError as exc:
            problem = exc
        except Exception as exc:  # the browser went away while sending, say
            problem = ConfigError(f"{source}: could not be read ({type(exc).__name__}: {exc})")
        with self._lock:
            try:
                if problem is not None:
                    raise problem
                sc = parse_scenario(data, source=source)
                self._install(sc, label=f"{sc.name} (uploaded: {label})", origin="upload")
            except ConfigError as exc:
                self.error = str(exc)
                self.notice = None
                self._changed()
                return False
            except Exception as exc:  # a file that breaks the model: say so, keep the page alive
                self.error = f"{source}: could not be used ({type(exc).__name__}: {exc})"
                self.notice = None
                self._changed()
                return False
            self.error = None
            self.notice = f"Loaded {source}: scenario '{sc.name}'."
            return True

    def clear_messages(self) -> None:
        """Forget the last error and notice."""
        with self._lock:
            self.error = None
            self.notice = None
            self._changed()

    # --- population ---------------------------------------------------------------------------

    @property
    def customers(self) -> int:
        """Initial customers of a run."""
        return self._customers

    def set_customers(self, n: int) -> None:
        """Change the initial population (clamped to MIN..MAX_CUSTOMERS) and restart from day 0."""
        with self._lock:
            self._customers = _clamp_customers(n)
            self.generation += 1
            self.reset()

    def set_seed(self, seed: int) -> None:
        """Change the seed (>= 0) and restart from day 0."""
        with self._lock:
            seed = int(seed)
            if seed < 0:
                raise LeverError(f"seed must be >= 0; got {seed}")
            self._seed_choice = seed
            self.seed = seed
            self.generation += 1
            self.reset()

    # --- running ------------------------------------------------------------------------------

    @property
    def day(self) -> int:
        """Days simulated so far."""
        return self.model.day

    @property
    def running(self) -> bool:
        """True until the run length is reached."""
        return self.model.day < self.days

    def reset(self) -> None:
        """Rebuild the model(s) from the current setting(s); day 0, same seed."""
        with self._lock:
            self.playing = False
            common = dict(seed=self.seed, customers=self._customers, days=self.days, engine=self.engine)
            self.model = build_model(self.scenario, self.setting_a, **common)
            self.model_b = build_model(self.scenario, self.setting_b, **common) if self.compare else None
            self._history = {"A": [quick_metrics(self.model)],
                             "B": [quick_metrics(self.model_b)] if self.model_b else []}
            self._changed()

    def step(self, days: int = 1) -> int:
        """Simulate up to ``days`` days (both models when comparing); return the days done."""
        done = 0
        with self._lock:
            for _ in range(max(0, int(days))):
                if not self.running:
                    break
                self.model.step()
                self._history["A"].append(quick_metrics(self.model))
                if self.model_b is not None:
                    self.model_b.step()
                    self._history["B"].append(quick_metrics(self.model_b))
                done += 1
            if not self.running:
                self.playing = False
            if done:
                self._changed()
        return done

    @property
    def interval_ms(self) -> int:
        """Pause between two updates while playing, at the current speed."""
        return SPEEDS[self.speed - 1][0]

    @property
    def days_per_update(self) -> int:
        """Days simulated per update (per Step press and per tick while playing)."""
        return SPEEDS[self.speed - 1][1]

    def set_speed(self, level: int) -> None:
        """Speed level 1 (slowest) .. len(SPEEDS)."""
        with self._lock:
            self.speed = min(len(SPEEDS), max(1, int(level)))

    def play(self) -> None:
        """Start playing (no effect at the end of the run)."""
        with self._lock:
            self.playing = self.running

    def pause(self) -> None:
        """Stop playing."""
        with self._lock:
            self.playing = False

    def toggle_play(self) -> bool:
        """Play if paused, pause if playing; return the new state."""
        with self._lock:
            self.playing = (not self.playing) and self.running
            return self.playing

    def tick(self) -> int:
        """One update of the play loop: if playing, simulate :attr:`days_per_update` days."""
        with self._lock:
            if not self.playing:
                return 0
            return self.step(self.days_per_update)

    # --- levers -------------------------------------------------------------------------------

    def setting(self, side: str | None = None) -> Setting:
        """The setting of ``side`` (default: the one being edited)."""
        side = self._side(side)
        return self.setting_a if side == "A" else self.setting_b

    def levers(self, side: str | None = None) -> list[Lever]:
        """Every control the current scenario offers, with the values of ``side``'s setting."""
        with self._lock:
            return self.setting(side).levers(self.scenario)

    def lever(self, lever_id: str, side: str | None = None) -> Lever:
        """The lever with this :attr:`Lever.id`."""
        for lv in self.levers(side):
            if lv.id == lever_id:
                return lv
        raise LeverError(f"no lever {lever_id!r} in scenario '{self.scenario.name}'")

    def set_lever(self, lever: Lever | str | tuple, value: Any, side: str | None = None) -> Setting:
        """Change one lever of ``side`` (default: the one being edited); the model follows at once.

        The policy is rebuilt with the new parameters and replaces the old one in the running
        model; the value is also kept for the next reset. Raises :class:`LeverError` (and keeps
        everything as it was) if the value is refused.
        """
        with self._lock:
            side = self._side(side)
            if isinstance(lever, str):
                lever = self.lever(lever, side)
            kind, owner, path = lever.key if isinstance(lever, Lever) else lever
            old = self.setting(side)
            new = old.with_value(kind, owner, tuple(path), value)
            if kind == "channel":
                _check_arrivals(self.scenario, new, f"channel '{owner}' daily spend")
            model = self.model if side == "A" else self.model_b
            if model is not None:
                apply_live(model, self.scenario, old, new)
            if side == "A":
                self.setting_a = new
            else:
                self.setting_b = new
            self.error = None
            self._changed()
            return new

    def _side(self, side: str | None) -> str:
        side = self.editing if side is None else side
        if side not in ("A", "B"):
            raise LeverError(f"side must be 'A' or 'B'; got {side!r}")
        if side == "B" and not self.compare:
            raise LeverError("setting B exists only while comparing")
        return side

    # --- comparison ---------------------------------------------------------------------------

    def start_compare(self) -> None:
        """Compare two settings: B starts as a copy of A; both restart from day 0 on the same seed."""
        with self._lock:
            self.compare = True
            self.setting_b = self.setting_a
            self.editing = "B"
            self.reset()

    def stop_compare(self) -> None:
        """Back to one setting (A); the run goes on."""
        with self._lock:
            self.compare = False
            self.editing = "A"
            self.model_b = None
            self._history["B"] = []
            self._changed()

    def set_editing(self, side: str) -> None:
        """Which setting the levers change while comparing."""
        with self._lock:
            self.editing = self._side(side)
            self._changed()

    def comparison(self) -> dict:
        """Metrics of A and B so far and their difference (B - A); None where not yet defined."""
        with self._lock:
            if not self.compare or self.model_b is None:
                raise LeverError("not comparing; start a comparison first")
            a, b = self.snapshot("A"), self.snapshot("B")
        ma, mb = _metric_rows(a.result), _metric_rows(b.result)
        rows = []
        for key, label, fmt in COMPARISON_METRICS:
            va, vb = ma.get(key), mb.get(key)
            rows.append({"metric": key, "label": label, "format": fmt, "A": va, "B": vb,
                         "diff": (vb - va) if (va is not None and vb is not None) else None})
        return {"day": a.day, "seed": self.seed, "customers": self._customers, "rows": rows,
                "same_initial_customers": _same_initial(a.result, b.result, self._customers)}

    # --- snapshots ----------------------------------------------------------------------------

    def snapshot(self, side: str = "A") -> Snapshot:
        """A consistent copy of ``side``'s aggregates (cached until something changes)."""
        with self._lock:
            model = self.model if side == "A" else self.model_b
            if model is None:
                raise LeverError(f"no model {side!r}")
            key = (self.version, id(model), model.day)
            hit = self._snapshots.get(side)
            if hit is not None and hit[0] == key:
                return hit[1]
            label = self.label if not self.compare else f"{self.label} · setting {side}"
            snap = Snapshot(side=side, label=label, day=model.day, days=self.days, engine=model.engine,
                            result=model.result(), history=tuple(self._history[side]),
                            stages=model.datacollector.get_model_vars_dataframe().copy())
            self._snapshots[side] = (key, snap)
            return snap

    def _changed(self) -> None:
        self.version += 1


def _clamp_customers(n: int) -> int:
    return int(min(MAX_CUSTOMERS, max(MIN_CUSTOMERS, int(n))))


def _same_initial(a, b, n0: int) -> bool:
    """True if both runs started from identical initial customers (same traits)."""
    ca, cb = a.customers, b.customers
    k = min(n0, ca["rate"].size, cb["rate"].size)
    return bool(np.array_equal(ca["rate"][:k], cb["rate"][:k]) and np.array_equal(ca["hazard"][:k], cb["hazard"][:k]))


class ClassroomModel(mesa.Model):
    """The controller as a Mesa model: Mesa's ``ModelController`` plays, steps and resets it.

    ``ModelController`` re-creates the model class from the page's parameters on Reset, so
    ``ClassroomModel(controller=c)`` resets ``c``; ``step`` simulates one day of the controller's
    model(s); ``running`` is False at the end of the run.
    """

    def __init__(self, controller: Controller, reset: bool = True) -> None:
        super().__init__(seed=controller.seed)
        self.controller = controller
        if reset:
            controller.reset()

    def step(self) -> None:
        """One day."""
        self.controller.step(1)

    @property
    def running(self) -> bool:
        """False once the controller's run is over."""
        controller = self.__dict__.get("controller")
        return True if controller is None else controller.running

    @running.setter
    def running(self, value: bool) -> None:  # mesa.Model.__init__ assigns it; the controller decides
        pass
