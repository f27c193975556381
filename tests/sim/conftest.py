"""Shared helpers for the simulation-core tests: a minimal scenario built from TOML text.

:func:`make_scenario` writes a small four-stage scenario (new -> active on the first purchase,
active -> lapsed after 30 days without a purchase, lapsed -> active on a purchase, latent churn
from every living stage, and a 'policy' edge bringing churned customers back to active) with
constant traits, so each test controls exactly what it checks. Keyword arguments override whole
sections: dict sections (``run``, ``customers``, ``population``, ``rfm``) are merged key by key,
list sections (``stages``, ``transitions``, ``channels``, ``tiers``, ``policies``) are replaced.
In ``customers``, a bare number for a trait distribution means a constant distribution.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from scenarios.writer import to_toml
from sim.scenario import parse_scenario

ENGINES = ("agent", "vector")
TRAITS = ("purchase_rate", "basket_value", "churn_hazard", "dropout_after_purchase")

BASE: dict = {
    "name": "mini",
    "description": "A minimal test scenario.",
    "run": {"days": 60, "seed": 12345, "annual_discount_rate": 0.0, "observed_window_days": 30},
    "population": {"initial_customers": 1000, "initial_stage": "new"},
    "customers": {
        "purchase_rate": 0.05,
        "basket_value": 100.0,
        "churn_hazard": 0.01,
        "gross_margin": 0.3,
        "fatigue_contacts_per_week": 3,
        "fatigue_churn_multiplier": 1.5,
    },
    "stages": [
        {"name": "new"},
        {"name": "active"},
        {"name": "lapsed"},
        {"name": "churned", "churned": True},
    ],
    "transitions": [
        {"from": "new", "to": "active", "rule": "event", "min_purchases": 1},
        {"from": "active", "to": "lapsed", "rule": "time", "after_days": 30, "since": "last_purchase"},
        {"from": "lapsed", "to": "active", "rule": "event", "min_purchases": 1},
        {"from": "new", "to": "churned", "rule": "churn"},
        {"from": "active", "to": "churned", "rule": "churn"},
        {"from": "lapsed", "to": "churned", "rule": "churn"},
        {"from": "churned", "to": "active", "rule": "policy"},
    ],
}


def scenario_dict(**overrides) -> dict:
    """The base scenario as a dict, with ``overrides`` applied (see the module docstring)."""
    data = copy.deepcopy(BASE)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **copy.deepcopy(value)}
        else:
            data[key] = copy.deepcopy(value)
    cust = data["customers"]
    for trait in TRAITS:
        if isinstance(cust.get(trait), (int, float)) and not isinstance(cust.get(trait), bool):
            cust[trait] = {"distribution": "constant", "value": float(cust[trait])}
    return data


def make_scenario(**overrides):
    """``parse_scenario`` of the base scenario with ``overrides`` (see the module docstring)."""
    return parse_scenario(to_toml(scenario_dict(**overrides)), source="test scenario")


def binomial_se(p: float, n: int) -> float:
    """Standard error of a share estimated from ``n`` independent Bernoulli(p) trials."""
    return math.sqrt(max(p * (1 - p), 0.0) / n)


def stage_code(model, name: str) -> int:
    """Stage number of ``name`` in ``model``."""
    return model.graph.index[name]


def live(state, name: str) -> np.ndarray:
    """The live rows of a state column (a copy)."""
    return np.array(state.column(name))


MOD_KINDS = ("purchase", "basket", "churn")


def start_of_day(model) -> dict[str, np.ndarray]:
    """What the engines key today's multipliers on, read before ``model.step()``."""
    s = model.state
    return {"n": s.n, "stage": s.stage[: s.n].astype(np.int64), "tier": s.tier[: s.n].astype(np.int64)}


def effective_mod(model, kind: str, before: dict) -> np.ndarray:
    """Today's ``kind`` multiplier set by policies for the customers counted in ``before``.

    Read after ``model.step()``: policies scale customers one by one (``state.mod_*``) or by stage
    and tier through the model's ``group_mod`` table; a customer's multiplier is the product.
    """
    s, n = model.state, before["n"]
    out = getattr(s, f"mod_{kind}")[:n].astype(np.float64)
    table = getattr(model, "group_mod", None)
    if table is not None:
        arm = s.arm[:n].astype(np.int64) + 1 if hasattr(s, "arm") else np.ones(n, dtype=np.int64)
        out = out * table[MOD_KINDS.index(kind), arm, before["stage"], before["tier"] + 1]
    return out


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    """Each engine in turn."""
    return request.param
