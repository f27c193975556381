"""A template scenario with its customers replaced by calibrated ones, written as TOML.

Core functions: :func:`templated_scenario_data` (the template's stages, rules, channels,
policies, tiers, RFM segments, run settings and ``[experiment]`` / ``[budget]`` designs, with
the fitted customers and the real cohort as its base) and :func:`to_toml` (plain scenario data
back to TOML text; parsing the text gives the same data).

What changes in the template, and why:

* ``[customers]``: the fitted BG/NBD purchase rate and dropout, Gamma-Gamma spend, no churn
  between purchases and Poisson-many purchases a day; the template's gross margin and contact
  fatigue are kept (the log says nothing about them).
* stage multipliers of purchase rate, basket and churn are set to 1: the fitted model already
  says how the real customers buy, and a stage that scaled it would make the scenario's customers
  buy differently from the fitted ones. Stages, rules and the policies acting on them are kept.
* ``[population]``: the base is the real cohort, joining on its first-purchase days with that
  purchase made (``arrival_schedule``, ``arrive_as_buyers``), in the stage the template's first
  purchase leads to (its entry stage's event rule with ``min_purchases <= 1``, else the entry
  stage). Acquired customers still enter through the template's channels and entry stage, and
  draw the fitted traits scaled by their channel's quality profile.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from scenarios.errors import ConfigError

__all__ = ["templated_scenario_data", "to_toml", "base_stage_of"]

_STAGE_MULTIPLIERS = ("purchase_multiplier", "basket_multiplier", "churn_multiplier")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ConfigError(f"a scenario value must be finite; got {v}")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON's escapes are TOML basic-string escapes
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }" if v else "{}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise ConfigError(f"cannot write a value of type {type(v).__name__} to a scenario file")


def _key(k: str) -> str:
    k = str(k)
    return k if k and all(c.isalnum() and c.isascii() or c in "_-" for c in k) else json.dumps(k, ensure_ascii=False)


def to_toml(data: dict[str, Any], *, header: str = "") -> str:
    """TOML text of plain scenario data: top-level values, then tables, then arrays of tables.

    Values inside a table (nested tables too) are written inline, so any depth round-trips.
    """
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if lines:
        lines.append("")
    tables, arrays = [], []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            arrays.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in tables:
        lines += ["", f"[{_key(k)}]"] + [f"{_key(a)} = {_value(b)}" for a, b in v.items()]
    for k, items in arrays:
        for item in items:
            lines += ["", f"[[{_key(k)}]]"] + [f"{_key(a)} = {_value(b)}" for a, b in item.items()]
    return "\n".join(lines) + "\n"


def base_stage_of(data: dict[str, Any]) -> str:
    """The stage a customer of the template is in right after its first purchase.

    The target of the entry stage's event rule with ``min_purchases <= 1`` (the first one in file
    order), else the entry stage itself.
    """
    pop = data.get("population", {})
    entry = pop.get("entry_stage") or pop.get("initial_stage")
    for rule in data.get("transitions", []):
        if rule.get("from") == entry and rule.get("rule") == "event" and rule.get("min_purchases", 1) <= 1:
            return rule["to"]
    return entry


def templated_scenario_data(template: dict[str, Any], *, name: str, description: str, customers: dict[str, Any],
                            arrivals: list[int], gross_margin: float | None = None) -> dict[str, Any]:
    """The template's data with the fitted ``customers`` and the real cohort as its base.

    ``template`` is a scenario's parsed data (``Scenario.data``); ``customers`` the fitted
    ``[customers]`` table (purchase rate, dropout, spend, purchases per day); ``arrivals`` the
    cohort's first purchases per day from day 0. ``gross_margin`` overrides the template's.
    """
    data = copy.deepcopy(template)
    data["name"] = name
    data["description"] = description
    old = data.get("customers", {})
    new = dict(customers)
    for keep in ("fatigue_contacts_per_week", "fatigue_churn_multiplier", "gross_margin"):
        if keep in old and keep not in new:
            new[keep] = old[keep]
    if gross_margin is not None:
        new["gross_margin"] = gross_margin
    data["customers"] = new
    for stage in data.get("stages", []):
        for k in _STAGE_MULTIPLIERS:
            stage.pop(k, None)
    pop = dict(data.get("population", {}))
    entry = pop.get("entry_stage") or pop.get("initial_stage")
    pop["entry_stage"] = entry
    pop["initial_stage"] = base_stage_of(data)
    pop["initial_customers"] = 0
    pop["arrival_schedule"] = [int(c) for c in arrivals]
    pop["arrive_as_buyers"] = True
    data["population"] = pop
    return data
