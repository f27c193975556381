"""Reading scenario files: TOML text -> validated :class:`~scenarios.schema.ScenarioConfig`.

Core functions: :func:`read_scenario` (a preset name or a file path -> parsed data),
:func:`parse_toml` (text, e.g. an upload), :func:`validate_config` (data -> config),
:func:`set_value` (one dotted-path change to scenario data), :func:`presets`, and
:func:`describe` (a pydantic error as one sentence naming the field). The runnable scenario,
config plus built policies, is :class:`sim.scenario.Scenario`, one layer up.

Every problem becomes one :class:`~scenarios.errors.ConfigError` whose message names the source, the
field (as a dotted path such as ``policies[1].offer.discount``) and what is allowed. A scenario is
data only: nothing in it is imported or executed.
"""

from __future__ import annotations

import tomllib
import copy
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from scenarios.schema import ScenarioConfig
from scenarios.errors import ConfigError

__all__ = [
    "read_scenario", "parse_toml", "validate_config", "set_value", "describe", "presets", "DEFAULT_PRESET",
    "MAX_SCENARIO_BYTES",
]  # fmt: skip

DEFAULT_PRESET = "retail_tiers"
MAX_SCENARIO_BYTES = 256 * 1024


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


def read_scenario(name_or_path: str | Path | None = None) -> tuple[dict[str, Any], str]:
    """Read a preset by name (default :data:`DEFAULT_PRESET`) or a scenario file by path.

    Returns the parsed TOML and a label of where it came from (for error messages).
    """
    if name_or_path is None:
        name_or_path = DEFAULT_PRESET
    text_name = str(name_or_path)
    preset = _preset_dir() / f"{text_name}.toml"
    if "/" not in text_name and not text_name.endswith(".toml") and preset.is_file():
        source = f"preset '{text_name}'"
        return parse_toml(preset.read_bytes(), source=source), source
    path = Path(name_or_path)
    if not path.exists():
        known = ", ".join(presets())
        raise ConfigError(f"scenario '{text_name}': no such preset or file (presets: {known})")
    if not path.is_file():
        raise ConfigError(f"scenario '{text_name}': not a file")
    size = path.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise ConfigError(f"scenario file '{path}': {size} bytes; the limit is {MAX_SCENARIO_BYTES} bytes")
    source = f"scenario file '{path}'"
    return parse_toml(path.read_bytes(), source=source), source


def parse_toml(data: bytes | str, *, source: str = "scenario") -> dict[str, Any]:
    """Scenario text (TOML, UTF-8, bounded in size) as data; raise ConfigError on any problem."""
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
    except RecursionError:
        raise ConfigError(f"{source}: tables or lists nested too deeply to be a scenario") from None
    return raw


def validate_config(raw: dict[str, Any], *, source: str = "scenario") -> ScenarioConfig:
    """Validate a scenario given as parsed data; raise ConfigError naming the field."""
    try:
        return ScenarioConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe(exc, ScenarioConfig)}") from None


def set_value(data: dict[str, Any], path: str, value: Any, *, tables: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of scenario ``data`` with ``value`` at the dotted ``path``; list items by their ``name``.

    ``channels.search.daily_spend`` is the ``daily_spend`` of the channel named ``search``. A top
    level table the data leaves to its defaults (one of ``tables``, e.g. ``run``) is created.
    Raises ConfigError naming the path and what is there instead.
    """
    out = copy.deepcopy(data)
    node: Any = out
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise ConfigError(f"'{path}': a path is dot-separated names, such as channels.search.daily_spend")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            match = [item for item in node if isinstance(item, dict) and item.get("name", item.get("type")) == part]
            if not match:
                names = [str(item.get("name", item.get("type"))) for item in node if isinstance(item, dict)]
                raise ConfigError(f"'{path}': no item named '{part}' at '{where}'; names there: {', '.join(names) or 'none'}")
            if last:
                raise ConfigError(f"'{path}': '{where}' is a whole table; name one of its fields")
            node = match[0]
            continue
        if not isinstance(node, dict):
            raise ConfigError(f"'{path}': '{'.'.join(parts[:i])}' is a value, not a table")
        if last:
            node[part] = value
            return out
        if part not in node:
            if i == 0 and part in tables:
                node[part] = {}
            else:
                known = ", ".join(map(str, node)) or "none"
                raise ConfigError(f"'{path}': unknown name '{part}' at '{where}'; known there: {known}")
        node = node[part]
    return out  # pragma: no cover - the loop returns


def describe(exc: ValidationError, model: type[BaseModel]) -> str:
    """The first problem of a validation error as one sentence naming the dotted field path."""
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
