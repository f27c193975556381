"""Property test: any mutation of a shipped preset is either a clean run or one clear error.

Hypothesis changes one value of a preset (a wrong type, an infinity, NaN, a huge, zero or
negative number, an empty list or table) or adds an unknown key, anywhere in the file. Each
result must be either a ``ConfigError`` whose message is one line naming the place, or a run
whose summary is finite and valid JSON; never another exception (a traceback), a hang (each
example has a 30 s alarm) or unbounded memory (each example's peak traced allocation, numpy's
included, must stay under 1 GiB: the model's memory estimate refuses larger runs up front).
"""

from __future__ import annotations

import json
import math
import signal
import tomllib
import tracemalloc
from importlib import resources

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.runs import run
from scenarios.errors import ConfigError
from scenarios.loader import presets
from sim.scenario import scenario_from_data

PRESETS = {name: tomllib.loads((resources.files("scenarios") / "presets" / f"{name}.toml").read_text("utf-8"))
           for name in presets()}
BAD_VALUES = st.sampled_from([
    math.inf, -math.inf, math.nan, 1e308, -1e308, 1e12, -1.0, 0.0, 0, -1, 2**31, 2**62, 3_000_000_000,
    True, False, "", "x" * 200, "天", [], [1, 2, 3], {}, {"unknown": 1}, 0.5, 7,
])
MEMORY_CAP = 2**30


def _leaves(node, path=()):
    """Every (path, value) of the data; lists and tables too, so they can be replaced whole."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, path + (i,))


def _mutated(data, path, value, add_key: bool):
    import copy

    out = copy.deepcopy(data)
    if not path:
        out["surprise"] = value
        return out
    node = out
    for part in path[:-1]:
        node = node[part]
    if add_key and isinstance(node[path[-1]], dict):
        node[path[-1]]["unexpected_field"] = value
    else:
        node[path[-1]] = value
    return out


def _finite(x) -> bool:
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return all(_finite(v) for v in x)
    return True


def _alarm(signum, frame):
    raise TimeoutError("a mutated preset ran for more than 30 s")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(preset=st.sampled_from(sorted(PRESETS)), pick=st.integers(min_value=0), value=BAD_VALUES,
       add_key=st.booleans())
def test_a_mutated_preset_runs_cleanly_or_fails_with_one_clear_error(preset, pick, value, add_key):
    """One value changed anywhere: one-line ConfigError, or a finite, JSON-valid summary."""
    data = PRESETS[preset]
    leaves = list(_leaves(data))
    path, _ = leaves[pick % len(leaves)]
    mutated = _mutated(data, path, value, add_key)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    tracemalloc.start()
    try:
        try:
            sc = scenario_from_data(mutated, source=f"{preset} with {path}={value!r}")
            report = run(sc, customers=300, days=30, counterfactual=False)
            summary = report.summary()
        except ConfigError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(f"{preset} with"), str(exc)
            return
        _, peak = tracemalloc.get_traced_memory()
        assert peak < MEMORY_CAP, f"peak {peak / 2**20:.0f} MiB"
        assert _finite(summary["metrics"]), summary["metrics"]
        json.dumps(summary, allow_nan=False, default=float)
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
