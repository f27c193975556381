"""The runnable scenario: a validated config plus its built policies, changed only through new copies.

Core objects:

- :class:`Scenario`: what a model is built from. ``config`` is the validated
  :class:`~scenarios.schema.ScenarioConfig`, ``policies`` the built policy objects in file order.
  It is immutable; :meth:`Scenario.with_values` and :meth:`Scenario.with_policies` return new,
  validated scenarios. Sweeps, budget candidates, experiment replicas and the classroom page all
  change scenarios this one way.
- :func:`load_scenario` (a preset name or a file path), :func:`parse_scenario` (TOML text, e.g.
  an upload) and :func:`scenario_from_data` (parsed data): every problem becomes one
  :class:`~scenarios.errors.ConfigError` naming the source and the field.

Names a policy refers to (stages, tiers, segments, channels) are checked against the config by
:func:`sim.policies.check_policy`, without building a model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from scenarios.errors import ConfigError
from scenarios.loader import describe, parse_toml, read_scenario, set_value, validate_config
from scenarios.schema import ScenarioConfig
from sim.policies import REGISTRY, Policy, build_policy, check_policy

__all__ = ["Scenario", "load_scenario", "parse_scenario", "scenario_from_data"]


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its config, its policies (built, in file order) and where it came from."""

    config: ScenarioConfig
    policies: tuple[Policy, ...]
    source: str
    data: dict = field(default_factory=dict, compare=False, repr=False)  # the parsed TOML, before validation

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.config.name

    def policy(self, name: str) -> Policy:
        """The policy called ``name``; ConfigError listing the names if there is none."""
        for p in self.policies:
            if p.name == name:
                return p
        known = ", ".join(repr(p.name) for p in self.policies) or "none"
        raise ConfigError(f"{self.source}: no policy named '{name}'; the policies are {known}")

    def with_policies(self, policies, *, source: str | None = None) -> Scenario:
        """The same scenario with other policies (e.g. an experiment arm or a policy of your own)."""
        policies = tuple(policies)
        # the file's [experiment] and [budget] tables are checked against the file's own policies;
        # other policies are checked where a design uses them (experiment_design, the budget levers)
        _check_policies(self.config, policies, source or self.source, designs=False)
        return replace(self, policies=policies, source=source or self.source)

    def with_values(self, values: Mapping[str, Any], *, source: str | None = None) -> Scenario:
        """A new validated scenario with each dotted path set to its value.

        Paths name fields of the scenario file, list entries by their name:
        ``channels.search.daily_spend``, ``population.initial_customers``, ``run.days``,
        ``tiers.high.min_annual_spend`` or, for a policy, ``policies.<name>.<parameter>`` such
        as ``policies.winback.light_offer.discount``. Raises ConfigError naming the path.

        Examples
        --------
        >>> sc = load_scenario("retail_tiers")
        >>> sc.with_values({"channels.search.daily_spend": 500}).config.channels[0].daily_spend
        500.0
        """
        if not values:
            return self
        label = source or f"{self.source} with " + ", ".join(f"{k}={v}" for k, v in values.items())
        data = self.data
        policies = list(self.policies)
        for path, value in values.items():
            if not isinstance(path, str):
                raise ConfigError(f"{label}: a path is a string such as 'channels.search.daily_spend'; got {path!r}")
            head, _, rest = path.partition(".")
            if head == "policies":
                name, _, param = rest.partition(".")
                policies = _with_policy_value(policies, name, param, value, path, label)
            else:
                try:
                    data = set_value(data, path, value, tables=tuple(ScenarioConfig.model_fields))
                except ConfigError as exc:
                    raise ConfigError(f"{label}: {exc}") from None
        config = validate_config(data, source=label) if data is not self.data else self.config
        policies = tuple(policies)
        _check_policies(config, policies, label)
        return Scenario(config=config, policies=policies, source=label, data=data)

    def fingerprint(self) -> str:
        """A hash of everything that defines this scenario's results (config and policies)."""
        blob = {
            "config": self.config.model_dump(mode="json", by_alias=True),
            "policies": [[p.kind, p.name, p.params.model_dump(mode="json")] for p in self.policies],
        }
        return hashlib.sha256(json.dumps(blob, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """Load a preset by name (default: the default preset) or a scenario file by path."""
    raw, source = read_scenario(name_or_path)
    return scenario_from_data(raw, source=source)


def parse_scenario(text: bytes | str, *, source: str = "scenario") -> Scenario:
    """Validate scenario text (TOML) and build its policies; raise ConfigError on any problem."""
    return scenario_from_data(parse_toml(text, source=source), source=source)


def scenario_from_data(raw: dict[str, Any], *, source: str = "scenario") -> Scenario:
    """Validate a scenario given as parsed data and build its policies."""
    config = validate_config(raw, source=source)
    policies = tuple(_build_policy(table, f"{source}: policies[{i}]") for i, table in enumerate(config.policies))
    _check_policies(config, policies, source)
    return Scenario(config=config, policies=policies, source=source, data=raw)


def _build_policy(table: dict[str, Any], where: str) -> Policy:
    kind = table.get("type")
    if kind is not None and not isinstance(kind, str):
        raise ConfigError(f"{where}.type: a policy type is a name such as 'coupon'; got {kind!r}")
    name = table.get("name")
    if name is not None and not (isinstance(name, str) and 1 <= len(name) <= 80):
        raise ConfigError(f"{where}.name: a policy name is text of 1 to 80 characters; got {name!r}")
    try:
        return build_policy(table)
    except KeyError:
        allowed = ", ".join(sorted(REGISTRY))
        if kind is None:
            raise ConfigError(f"{where}: missing field 'type'; allowed types: {allowed}") from None
        raise ConfigError(f"{where}.type: unknown policy type {kind!r}; allowed types: {allowed}") from None
    except ValidationError as exc:
        label = f"{where} ({kind} {table.get('name')!r})" if table.get("name") else f"{where} ({kind})"
        raise ConfigError(f"{label}: {describe(exc, REGISTRY[kind].Params)}") from None


def _check_policies(config: ScenarioConfig, policies: tuple[Policy, ...], source: str, *, designs: bool = True) -> None:
    names = [p.name for p in policies]
    seen = set()
    for name in names:
        if name in seen:
            raise ConfigError(f"{source}: two policies are named '{name}'; policy names must be unique")
        seen.add(name)
    for i, p in enumerate(policies):
        try:
            check_policy(p, config)
        except ValueError as exc:
            raise ConfigError(f"{source}: policy {p.name!r} ({p.kind}, policies[{i}]): {exc}") from None
    if designs:
        _check_designs(config, names, source)


def _check_designs(config: ScenarioConfig, policy_names: list[str], source: str) -> None:
    """The names the [experiment] and [budget] tables refer to exist in the scenario."""
    known = ", ".join(map(repr, policy_names)) or "none"
    if config.experiment is not None:
        for k, arm in enumerate(config.experiment.arms):
            for name in arm.policies:
                if name not in policy_names:
                    raise ConfigError(f"{source}: experiment.arms[{k}].policies: unknown policy '{name}' "
                                      f"(arm '{arm.name}'); the scenario's policies are {known}")
    if config.budget is not None and config.budget.levers:
        channels = [c.name for c in config.channels]
        for k, lever in enumerate(config.budget.levers):
            kind, _, bare = lever.name.partition(":") if lever.name.startswith(("channel:", "policy:")) else ("", "", lever.name)
            pool = {"channel": channels, "policy": policy_names}.get(kind, channels + policy_names)
            if bare not in pool:
                raise ConfigError(f"{source}: budget.levers[{k}].name: unknown lever '{lever.name}'; a lever is a "
                                  f"channel ({', '.join(map(repr, channels)) or 'none'}) or a policy ({known})")


def _with_policy_value(policies: list[Policy], name: str, param: str, value, path: str, label: str) -> list[Policy]:
    """The policies with ``param`` (a dotted path into its parameters) of policy ``name`` set."""
    known = ", ".join(repr(p.name) for p in policies) or "none"
    match = [k for k, p in enumerate(policies) if p.name == name]
    if not match:
        raise ConfigError(f"{label}: '{path}': no policy named '{name}'; the policies are {known}")
    if not param:
        raise ConfigError(f"{label}: '{path}': name one of the policy's parameters, e.g. policies.{name}.coverage")
    k = match[0]
    old = policies[k]
    try:
        params = set_value(old.get_params(), param, value)
    except ConfigError as exc:
        raise ConfigError(f"{label}: policies.{name}: {exc}") from None
    try:
        new = type(old)(name=old.name, **params)
    except ValidationError as exc:
        raise ConfigError(f"{label}: policies.{name}: {describe(exc, type(old).Params)}") from None
    out = list(policies)
    out[k] = new
    return out
