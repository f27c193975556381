"""Settings: one combination of lever values, and the models that run under it.

Core objects:

- :class:`Setting`: the loaded scenario with the trainer's lever values, kept as a validated
  :class:`~sim.scenario.Scenario`. Immutable: a lever move makes a new one through
  :meth:`~sim.scenario.Scenario.with_values` (the only way the page changes a scenario).
- :func:`build_model`: a fresh model of a setting (fresh copies of its policies, so two models
  never share one).
- :func:`apply_live`: a running model follows a new setting from its next day on
  (:meth:`sim.model.CustomerModel.follow`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.app.levers import Lever, lever_change, scenario_levers
from lifecycle.app.limits import LeverError, check_arrivals, choose_engine, expected_arrivals
from scenarios.errors import ConfigError
from sim.model import CustomerModel
from sim.scenario import Scenario

__all__ = ["Setting", "build_model", "apply_live", "fresh"]


def fresh(policy):
    """A fresh copy of a policy (no derived state), rebuilt from its parameters."""
    return type(policy)(name=policy.name, **policy.get_params())


@dataclass(frozen=True)
class Setting:
    """Lever values: the scenario as the trainer set it (policies, daily spend per channel, tier thresholds)."""

    scenario: Scenario

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Setting:
        """The scenario's own values."""
        return cls(scenario)

    @property
    def policies(self) -> tuple:
        """The policies with this setting's parameters."""
        return self.scenario.policies

    @property
    def channel_spend(self) -> dict[str, float]:
        """Daily spend per channel."""
        return {c.name: float(c.daily_spend) for c in self.scenario.config.channels}

    @property
    def tiers(self) -> dict[str, dict[str, float]]:
        """Tier name -> its ``min_annual_spend`` and ``min_purchases``."""
        return {t.name: {"min_annual_spend": float(t.min_annual_spend), "min_purchases": int(t.min_purchases)}
                for t in self.scenario.config.tiers}  # fmt: skip

    def policy(self, name: str):
        """The policy called ``name``."""
        for p in self.policies:
            if p.name == name:
                return p
        raise LeverError(f"no policy named {name!r}; the policies are {[p.name for p in self.policies]}")

    def levers(self) -> list[Lever]:
        """Every control this setting offers, policies first, then channels and tiers."""
        return scenario_levers(self.scenario)

    def with_value(self, kind: str, owner: str, path: tuple[str, ...], value: Any) -> Setting:
        """A new setting with one lever moved; raises :class:`LeverError` if the value is refused."""
        values = lever_change(self.scenario, kind, owner, tuple(path), value)
        source = self.scenario.source
        try:
            scenario = self.scenario.with_values(values, source=source)
        except ConfigError as exc:
            raise LeverError(str(exc).removeprefix(f"{source}: ")) from None
        if kind == "channel":
            check_arrivals(scenario, f"{owner}: daily spend")  # the slider's label
        return Setting(scenario)


def build_model(setting: Setting, *, seed: int, customers: int, days: int, engine: str = "auto") -> CustomerModel:
    """A fresh model of ``setting`` (fresh copies of the policies).

    ``engine="auto"`` picks with :func:`~lifecycle.app.limits.choose_engine` (the whole run's size).
    """
    scenario = setting.scenario
    if engine == "auto":
        engine = choose_engine(customers, days, expected_arrivals(scenario))
    own = scenario.with_policies(fresh(p) for p in scenario.policies)
    return CustomerModel(own, seed=seed, customers=customers, days=days, engine=engine)


def apply_live(model: CustomerModel, new: Setting) -> None:
    """Make a running model follow ``new`` from its next day on; LeverError (and no change) if refused.

    Changed policies are rebuilt and swapped in place (same name and position, so the ledger and
    the offers customers already hold keep pointing at the right policy); channel spend and tier
    thresholds are taken over.
    """
    scenario = new.scenario
    try:
        model.follow(scenario.with_policies(fresh(p) for p in scenario.policies))
    except ValueError as exc:
        raise LeverError(str(exc)) from None
