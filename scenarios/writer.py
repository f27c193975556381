"""Writing scenario data back as TOML: the inverse of :func:`scenarios.loader.parse_toml`.

Core function: :func:`to_toml` (plain scenario data -> TOML text: top-level values, then tables,
then arrays of tables; values inside a table written inline, so any depth round-trips). Used by
calibration's templated scenarios and by the tests that build scenarios from data.
"""

from __future__ import annotations

import json
import math
from typing import Any

from scenarios.errors import ConfigError

__all__ = ["to_toml"]


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
