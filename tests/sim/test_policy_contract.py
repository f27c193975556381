"""The policy contract (style rule 28), checked for every registered policy and a user-defined one.

Every policy class must: rebuild equal from ``get_params()``; pickle to an equal policy; have a
repr naming its class, name and parameters; survive ``reset`` twice; take the same decisions
from the same seed; hold no random generator of its own; reject unknown parameters; and run on
both engines with its money reconciled. A user policy written in a few lines (subclass
:class:`Policy`, implement ``apply``) and registered under a new ``type`` works end to end from a
TOML scenario.
"""

from __future__ import annotations

import copy
import math
import pickle
import random

import numpy as np
import pytest
from pydantic import Field, ValidationError

import sim.policies as policies_mod
from sim.scenario import parse_scenario
from scenarios.errors import ConfigError
from sim.model import CustomerModel
from sim.policies import REGISTRY, NoIntervention, Policy, PolicyParams, build_policy, register
from tests.sim.conftest import make_scenario, scenario_dict, to_toml


class Nudge(Policy):
    """A user policy: lower the churn hazard of targeted customers, for a fee per customer-day."""

    kind = "test_nudge"

    class Params(PolicyParams):
        churn_multiplier: float = Field(0.5, ge=0)
        fee: float = Field(0.01, ge=0)

    def apply(self, day):
        idx = day.customers(self.params.target)
        day.scale(idx, churn=self.params.churn_multiplier)
        day.charge(self, idx, np.full(idx.size, self.params.fee), "other")


# every registered policy, plus the user policy above (registered only inside its own test)
CLASSES: dict[str, type[Policy]] = {**REGISTRY, Nudge.kind: Nudge}
KINDS = sorted(CLASSES)

# non-default parameters per kind, short enough to act within the contract runs
EXAMPLES: dict[str, dict] = {
    "coupon": {
        "trigger": "winback", "send_after_days": 3, "reactivate_to": "active",
        "offer": {"discount": 10.0, "min_spend": 50.0, "valid_days": 5, "purchase_lift": 2.0, "reactivation": 0.2},
        "target": {"stages": ["active", "lapsed", "churned"]},
    },
    "loyalty": {"benefits": {"gold": {"churn_multiplier": 0.5, "cost_share_of_spend": 0.05},
                             "silver": {"purchase_multiplier": 1.2}}},
    # reactivation > 0 in the default heavy offer and reminder, but no reactivate_to
    "winback": {"light_after_days": 5, "heavy_after_days": 10, "rich_tiers": ["gold"]},
    "onboarding": {"window_days": 10, "contact_days": [1, 2], "coupon_day": 2},
    "referral": {"daily_rate": 0.05, "bounty": 5.0, "channel": "referral"},
    "cross_sell": {"basket_multiplier": 1.3, "target": {"tiers": ["gold"]}},
    "contact_cap": {"max_per_week": 1},
    "test_nudge": {"churn_multiplier": 0.3, "target": {"stages": ["active"]}},
}  # fmt: skip

CONTRACT_SCENARIO = dict(
    run={"days": 40, "seed": 99},
    customers={"purchase_rate": 0.15, "churn_hazard": 0.02},
    channels=[
        {"name": "ads", "daily_spend": 100.0, "cac": 20.0, "saturation": 10.0},
        {"name": "referral", "daily_spend": 0.0, "cac": 30.0, "saturation": 1.0},
    ],
    tiers=[{"name": "gold", "min_purchases": 3}, {"name": "silver", "min_purchases": 1}],
    rfm={"every_days": 10, "segments": [{"name": "best", "recency": [4, 5]}, {"name": "rest"}]},
)


def _example(kind: str) -> Policy:
    return CLASSES[kind](name=f"my_{kind}", **EXAMPLES.get(kind, {}))


def _both(kind: str) -> list[Policy]:
    """The default-built policy and the example one."""
    return [CLASSES[kind](), _example(kind)]


def _model(policy: Policy, engine: str = "vector", seed: int | None = None, customers: int = 400) -> CustomerModel:
    return CustomerModel(make_scenario(**CONTRACT_SCENARIO), engine=engine, seed=seed, customers=customers,
                         policies=[policy])  # fmt: skip


def _fingerprint(model) -> dict[str, np.ndarray]:
    """Everything a policy can decide, as of now."""
    s = model.state
    cols = ("offer_policy", "offer_until", "offer_discount", "offer_lift", "offer_reactivation",
            "contacts", "policy_cost", "referrals", "mod_purchase", "mod_basket", "mod_churn", "stage",
            "purchases")  # fmt: skip
    out = {c: np.array(s.column(c)) for c in cols}
    if getattr(model, "group_mod", None) is not None:
        out["group_mod"] = model.group_mod.copy()
    return out


def _assert_same_run(a, b) -> None:
    assert a.daily.equals(b.daily)
    for key in a.customers:
        np.testing.assert_array_equal(a.customers[key], b.customers[key], err_msg=key)
    assert a.policy_costs_by_kind == b.policy_costs_by_kind


# --- construction, copying, repr ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_rebuilding_from_get_params_gives_an_equal_policy(kind):
    """type(p)(name=p.name, **p.get_params()) == p, for default and example parameters."""
    for p in _both(kind):
        rebuilt = type(p)(name=p.name, **p.get_params())
        assert rebuilt == p
        assert rebuilt.get_params() == p.get_params()
        assert type(p)(name="other", **p.get_params()) != p  # the name is part of the identity


@pytest.mark.parametrize("kind", KINDS)
def test_pickle_round_trip_gives_an_equal_policy(kind):
    """A policy pickles to an equal policy, before and after a run (with its derived state)."""
    for p in _both(kind):
        assert pickle.loads(pickle.dumps(p)) == p
        assert copy.deepcopy(p) == p
    p = _example(kind)
    _model(p).run(10)
    clone = pickle.loads(pickle.dumps(p))
    assert clone == p
    # the unpickled policy drives a fresh run exactly like a freshly built one
    _assert_same_run(_model(clone).run(), _model(_example(kind)).run())


@pytest.mark.parametrize("kind", KINDS)
def test_repr_names_class_name_and_every_parameter(kind):
    """repr(p) starts with the class and name and mentions every parameter."""
    for p in _both(kind):
        text = repr(p)
        assert text.startswith(f"{type(p).__name__}(name={p.name!r}")
        for key in p.get_params():
            assert f"{key}=" in text


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_parameters_are_rejected(kind):
    """A misspelt parameter is an error, directly and from a scenario file (which names it)."""
    with pytest.raises(ValidationError):
        CLASSES[kind](no_such_parameter=1)
    if kind in REGISTRY:
        with pytest.raises(ValidationError):
            build_policy({"type": kind, "no_such_parameter": 1})
        text = to_toml(scenario_dict(policies=[{"type": kind, "no_such_parameter": 1}]))
        with pytest.raises(ConfigError, match="no_such_parameter"):
            parse_scenario(text)


# --- behaviour in a run -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_reset_twice_is_harmless(kind):
    """Calling reset again before the run changes nothing about the run."""
    once = _model(_example(kind))
    twice = _model(_example(kind))
    p = twice.policies[0]
    p.reset(twice)
    p.reset(twice)
    _assert_same_run(once.run(), twice.run())


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_the_same_decisions(kind):
    """Two runs from one seed take identical policy decisions every day."""
    a, b = _model(_example(kind), seed=5), _model(_example(kind), seed=5)
    for _ in range(25):
        a.step()
        b.step()
        fa, fb = _fingerprint(a), _fingerprint(b)
        for key in fa:
            np.testing.assert_array_equal(fa[key], fb[key], err_msg=key)
    assert a.ledger.policy_costs == b.ledger.policy_costs


@pytest.mark.parametrize("kind", KINDS)
def test_policy_holds_no_random_generator(kind):
    """After reset and a run, a policy stores no generator of its own (it draws from day.rng)."""
    p = _example(kind)
    _model(p).run(10)
    for value in vars(p).values():
        assert not isinstance(value, (np.random.Generator, np.random.RandomState, np.random.BitGenerator,
                                      random.Random))  # fmt: skip


@pytest.mark.parametrize("engine", ["agent", "vector"])
@pytest.mark.parametrize("kind", KINDS)
def test_policy_runs_on_both_engines_with_money_reconciled(kind, engine):
    """Default and example parameters run on either engine; every cost is recorded once and reconciles."""
    for p in _both(kind):
        model = _model(p, engine=engine, customers=250)
        r = model.run()
        for item, diff in model.ledger.reconcile(model.state).items():
            assert diff < 1e-9, item
        assert r.policy_costs[p.name] == pytest.approx(r.customers["policy_cost"].sum(), rel=1e-9, abs=1e-9)
        stages = r.customers["stage"]
        assert stages.min() >= 0 and stages.max() < len(r.stage_names)


def test_null_policy_changes_nothing(engine):
    """A run with NoIntervention is the run without policies."""
    a = _model(NoIntervention(), engine=engine, customers=300).run()
    b = CustomerModel(make_scenario(**CONTRACT_SCENARIO), engine=engine, customers=300, policies=[]).run()
    _assert_same_run(a, b)


# --- the base class and the registry ------------------------------------------------------------


def test_base_class_requires_apply():
    """A subclass that does not implement apply fails loudly on the first day."""

    class Lazy(Policy):
        kind = "test_lazy"

    with pytest.raises(NotImplementedError, match="Lazy must implement apply"):
        _model(Lazy()).step()


def test_register_rejects_non_policies_and_taken_kinds(monkeypatch):
    """register() takes Policy subclasses with a new kind only."""
    monkeypatch.setattr(policies_mod, "REGISTRY", dict(REGISTRY))
    with pytest.raises(TypeError):
        register(dict)

    class Nameless(Policy):
        pass

    with pytest.raises(TypeError):
        register(Nameless)

    class Impostor(Policy):
        kind = "coupon"

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)
    assert register(Nudge) is Nudge and register(Nudge) is Nudge  # registering again is a no-op


def test_unknown_policy_type_lists_the_registered_ones():
    """A scenario naming an unregistered type fails with the list of allowed types."""
    text = to_toml(scenario_dict(policies=[{"type": "no_such_policy"}]))
    with pytest.raises(ConfigError, match="unknown policy type 'no_such_policy'.*coupon"):
        parse_scenario(text)


def test_user_defined_policy_works_end_to_end_from_toml(monkeypatch):
    """A user policy registered under a new type is built from a TOML scenario, runs, costs and works."""
    monkeypatch.setattr(policies_mod, "REGISTRY", dict(REGISTRY))
    register(Nudge)
    data = scenario_dict(**CONTRACT_SCENARIO)
    data["policies"] = [{"type": "test_nudge", "name": "nudge", "churn_multiplier": 0.2, "fee": 0.01,
                         "target": {"stages": ["active"]}}]  # fmt: skip
    sc = parse_scenario(to_toml(data))
    (p,) = sc.policies
    assert p == Nudge(name="nudge", churn_multiplier=0.2, fee=0.01, target={"stages": ["active"]})
    n0 = 3000
    with_ = CustomerModel(sc, engine="vector", customers=n0).run()
    without = CustomerModel(sc, engine="vector", customers=n0, policies=[]).run()
    # one fee per active customer-day: the customers active at the start of a day (arrivals enter
    # 'new', so they are those active at the end of the day before; nobody is active on day 0)
    active_days = int(with_.daily["stage:active"].to_numpy()[:-1].sum())
    assert with_.policy_costs["nudge"] == pytest.approx(0.01 * active_days, rel=1e-9)
    assert with_.policy_costs_by_kind[("nudge", "other")] == pytest.approx(with_.customers["policy_cost"].sum())
    # churn out of 'active' per active customer-day: a Poisson rate, se sqrt(events) / exposure
    rates = []
    for r in (with_, without):
        events = int(r.flows[:, 1, 3].sum())
        exposure = int(r.daily["stage:active"].to_numpy()[:-1].sum())
        rates.append((events / exposure, math.sqrt(events) / exposure))
    (r1, se1), (r0, se0) = rates
    assert r0 - r1 > 4 * math.hypot(se0, se1), rates


# --- lever metadata: how a policy's parameters are shown on the classroom page ----------------------

CONTROL_KEYS = {"label", "low", "high", "step", "stretch", "help", "names", "fields", "hidden"}


def _controls(model, where: str):
    """(where, field, control spec) of every described field of ``model`` and the models it nests."""
    from typing import get_args

    from pydantic import BaseModel

    for name, field in model.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        spec = extra.get("control")
        nested = [a for a in (field.annotation, *get_args(field.annotation))
                  if isinstance(a, type) and issubclass(a, BaseModel)]  # fmt: skip
        if spec is not None:
            yield f"{where}.{name}", field, spec, nested[0] if nested else None
        for inner in nested:
            yield from _controls(inner, f"{where}.{name}")


@pytest.mark.parametrize("kind", KINDS)
def test_lever_metadata_is_well_formed_and_changes_no_validation(kind):
    """Every ``control(...)`` names known keys and lists, sub-fields that exist and a sane range."""
    from sim.policies.base import CONTROL_NAMES

    cls = CLASSES[kind]
    for where, field, spec, nested in _controls(cls.Params, kind):
        assert set(spec) <= CONTROL_KEYS, (where, spec)
        assert spec.get("names") in (None, *CONTROL_NAMES), (where, spec)
        if "low" in spec and "high" in spec:
            assert spec["low"] < spec["high"], (where, spec)
        for sub in spec.get("fields", {}):
            assert nested is not None and sub in nested.model_fields, (where, sub)
    cls.Params.model_json_schema()  # the metadata is plain JSON
    assert cls.Params().model_dump() == cls().get_params()


def test_built_in_policies_describe_their_levers():
    """Each built-in kind labels at least one parameter, and the shared reach is labelled once for all."""
    for kind, cls in REGISTRY.items():
        if kind == "none":
            continue
        labelled = [where for where, _, spec, _ in _controls(cls.Params, kind) if spec.get("label")]
        assert any(not w.endswith(("coverage", "target")) for w in labelled), kind
    assert PolicyParams.model_fields["coverage"].json_schema_extra["control"]["label"] == "Reach (share of customers)"
