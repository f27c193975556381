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
from typing import Any

from scenarios.errors import ConfigError
from scenarios.writer import to_toml

__all__ = ["templated_scenario_data", "to_toml", "base_stage_of"]  # to_toml: scenarios.writer

_STAGE_MULTIPLIERS = ("purchase_multiplier", "basket_multiplier", "churn_multiplier")


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
