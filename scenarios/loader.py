"""Loading scenarios: TOML text -> validated :class:`Scenario`, with errors a person can act on.

Core objects: :class:`Scenario` (validated config plus built policies), :func:`load_scenario`
(a preset name or a file path), :func:`parse_scenario` (text, e.g. an upload), :func:`presets`.

Every problem becomes one :class:`~scenarios.errors.ConfigError` whose message names the source, the
field (as a dotted path such as ``policies[1].offer.discount``) and what is allowed. A scenario is
data only: nothing in it is imported or executed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from scenarios.schema import ScenarioConfig
from scenarios.errors import ConfigError

__all__ = ["Scenario", "load_scenario", "parse_scenario", "scenario_from_data", "presets", "DEFAULT_PRESET", "MAX_SCENARIO_BYTES"]

DEFAULT_PRESET = "retail_tiers"
MAX_SCENARIO_BYTES = 256 * 1024


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its config, its policies (built, in file order) and where it came from."""

    config: ScenarioConfig
    policies: tuple
    source: str
    text: str = ""  # the TOML it was read from (sent to worker processes, which re-validate it)
    data: dict = field(default_factory=dict, compare=False)  # the parsed TOML, before validation

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.config.name

    def with_policies(self, policies) -> Scenario:
        """The same scenario with other policies (e.g. an experiment arm)."""
        return replace(self, policies=tuple(policies))


def presets() -> dict[str, str]:
    """Preset name -> first line of its description, for every shipped preset."""
    out = {}
    for path in sorted(_preset_dir().iterdir()):
        if path.name.endswith(".toml"):
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            lines = str(data.get("description", "")).strip().splitlines()
            out[path.name[:-5]] = lines[0] if lines else ""
    return out


def _preset_dir():
    return resources.files("scenarios") / "presets"


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """Load a preset by name (default :data:`DEFAULT_PRESET`) or a scenario file by path."""
    if name_or_path is None:
        name_or_path = DEFAULT_PRESET
    text_name = str(name_or_path)
    preset = _preset_dir() / f"{text_name}.toml"
    if "/" not in text_name and not text_name.endswith(".toml") and preset.is_file():
        return parse_scenario(preset.read_bytes(), source=f"preset '{text_name}'")
    path = Path(name_or_path)
    if not path.exists():
        known = ", ".join(presets())
        raise ConfigError(f"scenario '{text_name}': no such preset or file (presets: {known})")
    if not path.is_file():
        raise ConfigError(f"scenario '{text_name}': not a file")
    size = path.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise ConfigError(f"scenario file '{path}': {size} bytes; the limit is {MAX_SCENARIO_BYTES} bytes")
    return parse_scenario(path.read_bytes(), source=f"scenario file '{path}'")


def parse_scenario(data: bytes | str, *, source: str = "scenario") -> Scenario:
    """Validate scenario text (TOML) and build its policies; raise ConfigError on any problem."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_SCENARIO_BYTES:
        raise ConfigError(f"{source}: {len(data)} bytes; the limit is {MAX_SCENARIO_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise ConfigError(f"{source}: the file is empty; a scenario needs at least [[stages]], [customers] and [population]")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return scenario_from_data(raw, source=source, text=text)


def scenario_from_data(raw: dict[str, Any], *, source: str = "scenario", text: str = "") -> Scenario:
    """Validate a scenario given as parsed data (e.g. TOML with sweep values filled in)."""
    try:
        config = ScenarioConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc, ScenarioConfig)}") from None
    policies = []
    for i, table in enumerate(config.policies):
        policies.append(_build_policy(table, f"{source}: policies[{i}]"))
    scenario = Scenario(config=config, policies=tuple(policies), source=source, text=text, data=raw)
    _check_buildable(scenario, source)
    return scenario


def _build_policy(table: dict[str, Any], where: str):
    from sim.policies import REGISTRY, build_policy

    kind = table.get("type")
    try:
        return build_policy(table)
    except KeyError:
        allowed = ", ".join(sorted(REGISTRY))
        if kind is None:
            raise ConfigError(f"{where}: missing field 'type'; allowed types: {allowed}") from None
        raise ConfigError(f"{where}.type: unknown policy type {kind!r}; allowed types: {allowed}") from None
    except ValidationError as exc:
        label = f"{where} ({kind} {table.get('name')!r})" if table.get("name") else f"{where} ({kind})"
        raise ConfigError(f"{label}: {_describe(exc, REGISTRY[kind].Params)}") from None


def _check_buildable(scenario: Scenario, source: str) -> None:
    """Cross-checks that need the compiled model (names a policy refers to, graph sums)."""
    from sim.model import CustomerModel

    try:
        CustomerModel(scenario, customers=0, days=1, engine="vector")
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _describe(exc: ValidationError, model: type[BaseModel]) -> str:
    errors = exc.errors()
    # a misspelt field is reported both as unknown and (if required) as missing: name the typo
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = _dotted(first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        msg = f"unknown field '{loc}'"
        allowed = _allowed_fields(model, first["loc"])
        if allowed:
            msg += f"; allowed here: {', '.join(allowed)}"
    elif kind == "missing":
        msg = f"missing required field '{loc}'"
    else:
        text = first["msg"].removeprefix("Value error, ")
        msg = f"field '{loc}': {text}" if loc else text
        if "input" in first and kind != "value_error" and not isinstance(first["input"], (dict, list)):
            msg += f" (got {first['input']!r})"
    more = len(errors) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return msg


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("gamma", "lognormal", "beta", "constant", "gamma_gamma") and out:
            continue  # discriminated-union tag, not a field the user wrote
        else:
            out += f".{part}" if out else str(part)
    return out


def _allowed_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names allowed at the place ``loc`` points into (its last part is the bad field)."""
    node = model
    for part in loc[:-1]:
        if isinstance(part, int) or node is None:
            continue
        field = node.model_fields.get(part)
        node = _model_of(field.annotation) if field is not None else None
    if node is None:
        return []
    return [f.alias or name for name, f in node.model_fields.items()]


def _model_of(annotation) -> type[BaseModel] | None:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
