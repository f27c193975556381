"""Input checks shared by the statistics modules: each raises ConfigError naming the argument."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from scenarios.errors import ConfigError



def _vector(name: str, values: Any, *, min_size: int = 1) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a 1-D array of numbers; got {values!r:.80}") from exc
    if arr.ndim != 1:
        raise ConfigError(f"{name} must be 1-D; got an array of shape {arr.shape}")
    if arr.size < min_size:
        raise ConfigError(f"{name} must have at least {min_size} values; got {arr.size}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ConfigError(f"{name} must be finite; got {float(arr[bad[0]])!r} at index {bad[0]}")
    return arr


def _same_length(a_name: str, a: np.ndarray, b_name: str, b: np.ndarray) -> None:
    if a.size != b.size:
        raise ConfigError(
            f"{a_name} and {b_name} must have the same length; got {a.size} and {b.size}"
        )


def _shown(value: Any) -> Any:
    """``value`` for an error message: numpy scalars as plain Python numbers."""
    return value.item() if isinstance(value, np.generic) else value


def _count(name: str, value: Any, *, minimum: int) -> int:
    numeric = isinstance(value, (int, float, np.integer, np.floating))
    if (isinstance(value, bool) or not numeric or not math.isfinite(value)
            or float(value) != int(value) or value < minimum):
        raise ConfigError(f"{name} must be an integer >= {minimum}; got {_shown(value)!r}")
    return int(value)


def _alpha(alpha: Any) -> float:
    numeric = isinstance(alpha, (int, float, np.integer, np.floating))
    if isinstance(alpha, bool) or not numeric or not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be in (0, 1); got {_shown(alpha)!r}")
    return float(alpha)


def _events(name: str, values: Any, durations: np.ndarray, durations_name: str) -> np.ndarray:
    arr = _vector(name, values)
    _same_length(durations_name, durations, name, arr)
    if not np.all((arr == 0) | (arr == 1)):
        raise ConfigError(
            f"{name} must contain only 0/1 (or booleans); got values {np.unique(arr).tolist()}"
        )
    return arr.astype(np.int64)


def _durations(name: str, values: Any) -> np.ndarray:
    arr = _vector(name, values)
    if np.any(arr < 0):
        raise ConfigError(f"{name} must be >= 0; got min {float(arr.min())!r}")
    return arr
