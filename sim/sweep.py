"""Parameter sweeps with replications: a plan, an executor, a crash-safe results store.

Core objects:

- :class:`SweepSpec`: the scenario, the parameter axes (``NAME=VALUES``; NAME is a dotted path
  into the scenario file such as ``policies.repurchase_coupon.offer.discount`` or
  ``channels.search.daily_spend``), the sampling method (grid, random, latin), replications, seed.
- :func:`plan`: the design points and every task's seeds, fixed before any work is dispatched:
  run ``(point p, replication r)`` is seeded by ``SeedSequence(seed).spawn(points)[p].spawn(R)[r]``,
  so results are identical whatever the number of workers or the scheduler.
- :class:`ResultsStore`: a folder with ``manifest.json`` and one Parquet file per finished task,
  each written to a temporary name and renamed, so a killed sweep loses at most the tasks running
  and ``resume`` repeats none that finished.
- :func:`run_sweep`: runs the missing tasks on local worker processes or on an existing Dask
  distributed cluster (``scheduler="tcp://host:port"``), the same code either way.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.errors import ConfigError

__all__ = ["SweepSpec", "Axis", "parse_axis", "plan", "ResultsStore", "run_sweep", "summarize_sweep", "TASK_METRICS"]

#: metrics recorded per run (keys of ``analysis.metrics.summarize(...)["metrics"]``)
TASK_METRICS = (
    "activation_rate", "repurchase_rate_30d", "repurchase_rate_90d", "retention_90d", "retention_180d",
    "observed_retention_90d", "churn_rate_monthly", "ltv_mean", "cac", "ltv_cac", "revenue", "gross_margin",
    "policy_cost_total", "acquisition_spend", "net_contribution",
)  # fmt: skip


@dataclass(frozen=True)
class Axis:
    """One swept parameter: a dotted path and either explicit values or a numeric range."""

    name: str
    values: tuple | None = None  # explicit values (grid)
    low: float | None = None  # range, for random / latin sampling
    high: float | None = None
    integer: bool = False


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def parse_axis(text: str) -> Axis:
    """Parse ``NAME=V1,V2,...`` (values), ``NAME=LOW:HIGH`` (range) or ``NAME=LOW:HIGH:STEP``."""
    if "=" not in text:
        raise ConfigError(f"--param '{text}': expected NAME=VALUES, e.g. policies.winback.heavy_after_days=60,90,120")
    name, _, values = text.partition("=")
    name, values = name.strip(), values.strip()
    if not name or not values:
        raise ConfigError(f"--param '{text}': both a name and values are needed")
    if ":" in values:
        parts = values.split(":")
        nums = [_number(p) for p in parts]
        if len(parts) not in (2, 3) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in nums):
            raise ConfigError(f"--param '{text}': a range is LOW:HIGH or LOW:HIGH:STEP with numbers")
        low, high = nums[0], nums[1]
        if not low < high:
            raise ConfigError(f"--param '{text}': LOW must be below HIGH")
        integer = all(isinstance(x, int) for x in nums)
        if len(nums) == 3:
            step = nums[2]
            if step <= 0:
                raise ConfigError(f"--param '{text}': STEP must be > 0")
            count = int(np.floor((high - low) / step + 1e-9)) + 1
            vals = tuple(low + k * step for k in range(count))
            return Axis(name, tuple(int(v) if integer else float(v) for v in vals), low, high, integer)
        return Axis(name, None, low, high, integer)
    vals = tuple(_number(v.strip()) for v in values.split(",") if v.strip())
    if not vals:
        raise ConfigError(f"--param '{text}': no values")
    return Axis(name, vals)


@dataclass(frozen=True)
class SweepSpec:
    """Everything that defines a sweep's results (and so its identity in the store)."""

    scenario_text: str
    scenario_source: str
    axes: tuple[Axis, ...]
    method: str = "grid"
    sample: int | None = None
    replications: int = 1
    seed: int = 0
    customers: int | None = None
    days: int | None = None

    def key(self) -> str:
        """A hash of the spec: two sweeps with the same key produce the same results."""
        blob = json.dumps(asdict(self), sort_keys=True, default=str).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]


def _set_path(data: dict, path: str, value) -> None:
    """Set ``value`` at a dotted ``path`` in scenario data; list items are found by ``name``."""
    node = data
    parts = path.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            match = [item for item in node if isinstance(item, dict) and item.get("name") == part]
            if not match:
                names = [str(item.get("name")) for item in node if isinstance(item, dict)]
                raise ConfigError(f"--param {path}: no item named '{part}' at '{where}'; names there: {', '.join(names)}")
            if last:
                raise ConfigError(f"--param {path}: '{where}' is a whole table; name one of its fields")
            node = match[0]
            continue
        if not isinstance(node, dict):
            raise ConfigError(f"--param {path}: '{'.'.join(parts[:i])}' is a value, not a table")
        if last:
            node[part] = value
            return
        if part not in node:
            # a table the file leaves to defaults (e.g. [run]) may be created
            from scenarios.schema import ScenarioConfig

            if i == 0 and part in ScenarioConfig.model_fields:
                node[part] = {}
            else:
                raise ConfigError(f"--param {path}: unknown name '{part}' at '{where}'; known there: {', '.join(map(str, node))}")
        node = node[part]


def plan(spec: SweepSpec) -> tuple[list[dict], list[list[np.random.SeedSequence]]]:
    """Design points (parameter name -> value) and seeds ``[point][replication]``."""
    if spec.method == "grid":
        for ax in spec.axes:
            if ax.values is None:
                raise ConfigError(f"--param {ax.name}: a grid needs listed values or LOW:HIGH:STEP, not LOW:HIGH")
        points = [dict(zip([a.name for a in spec.axes], combo)) for combo in itertools.product(*(a.values for a in spec.axes))]
    elif spec.method in ("random", "latin"):
        if not spec.sample or spec.sample < 1:
            raise ConfigError(f"--method {spec.method} needs --sample N (N >= 1)")
        for ax in spec.axes:
            if ax.low is None:
                raise ConfigError(f"--param {ax.name}: --method {spec.method} needs a range LOW:HIGH")
        rng = np.random.default_rng(np.random.SeedSequence(spec.seed).spawn(1)[0])
        d = len(spec.axes)
        if spec.method == "latin":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=d, seed=rng).random(spec.sample)
        else:
            unit = rng.random((spec.sample, d))
        points = []
        for row in unit:
            point = {}
            for ax, u in zip(spec.axes, row):
                v = ax.low + u * (ax.high - ax.low)
                point[ax.name] = int(round(v)) if ax.integer else float(v)
            points.append(point)
    else:
        raise ConfigError(f"--method must be grid, random or latin; got '{spec.method}'")
    if not points:
        raise ConfigError("the sweep has no points")
    seeds = [child.spawn(spec.replications) for child in np.random.SeedSequence(spec.seed).spawn(len(points))]
    return points, seeds


def point_scenario(spec: SweepSpec, point: dict):
    """The validated scenario of one design point."""
    import tomllib

    from scenarios.loader import scenario_from_data

    data = copy.deepcopy(tomllib.loads(spec.scenario_text))
    for name, value in point.items():
        _set_path(data, name, value)
    label = ", ".join(f"{k}={v}" for k, v in point.items())
    return scenario_from_data(data, source=f"{spec.scenario_source} with {label}")


def run_task(task: tuple) -> pd.DataFrame:
    """Worker: all replications of one point; one row per replication (no timings: reproducible).

    Its days are decided on one thread: the workers are the parallelism (results do not depend on
    it either way).
    """
    from analysis.metrics import summarize
    from sim.engines.vector import kernel_threads
    from sim.model import CustomerModel

    spec, p, point, seeds = task
    scenario = point_scenario(spec, point)
    rows = []
    for r, ss in enumerate(seeds):
        model = CustomerModel(scenario, seed=ss, customers=spec.customers, days=spec.days)
        with kernel_threads(1):
            result = model.run()
        m = summarize(result)["metrics"]
        m["policy_cost_total"] = m["policy_costs"]["total"]
        row = {"point": p, "replication": r, **{f"param:{k}": v for k, v in point.items()}}
        row.update({k: (np.nan if m[k] is None else float(m[k])) for k in TASK_METRICS})
        rows.append(row)
    return pd.DataFrame(rows)


class ResultsStore:
    """A sweep's results folder: ``manifest.json`` plus ``parts/point-NNNNNN.parquet``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / "parts"

    def open(self, spec: SweepSpec, points: list[dict], *, resume: bool) -> set[int]:
        """Create or reopen the store for ``spec``; return the points already finished."""
        manifest = self.folder / "manifest.json"
        key = spec.key()
        if self.folder.exists() and not self.folder.is_dir():
            raise ConfigError(f"--results '{self.folder}': exists and is not a folder")
        if manifest.exists():
            try:
                info = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                raise ConfigError(f"--results '{self.folder}': manifest.json is unreadable; not touching it") from None
            if info.get("key") != key:
                raise ConfigError(
                    f"--results '{self.folder}' holds another sweep ({info.get('scenario')}, key {info.get('key')}); "
                    "choose another folder (nothing was changed)"
                )
            if not resume:
                raise ConfigError(f"--results '{self.folder}' already holds this sweep; pass --resume to finish it")
            return self.finished()
        if self.folder.exists() and any(self.folder.iterdir()):
            raise ConfigError(f"--results '{self.folder}': the folder is not empty and is not a sweep; choose another")
        self.parts.mkdir(parents=True, exist_ok=True)
        info = {
            "kind": "lifecycle-sweep", "version": 1, "key": key, "scenario": spec.scenario_source,
            "axes": [asdict(a) for a in spec.axes], "method": spec.method, "sample": spec.sample,
            "replications": spec.replications, "seed": spec.seed, "customers": spec.customers,
            "days": spec.days, "points": points,
        }  # fmt: skip
        tmp = manifest.with_name(".manifest.json.tmp")
        tmp.write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, manifest)
        return set()

    def finished(self) -> set[int]:
        """Points whose part file is complete."""
        if not self.parts.is_dir():
            return set()
        return {int(p.stem.split("-")[1]) for p in self.parts.glob("point-*.parquet")}

    def write(self, point: int, frame: pd.DataFrame) -> None:
        """Write one point's results atomically."""
        final = self.parts / f"point-{point:06d}.parquet"
        tmp = self.parts / f".point-{point:06d}.{os.getpid()}.tmp"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, final)

    def read(self) -> pd.DataFrame:
        """All finished results, ordered by point and replication."""
        files = sorted(self.parts.glob("point-*.parquet"))
        if not files:
            return pd.DataFrame()
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        return df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)


def run_sweep(spec: SweepSpec, store: ResultsStore, *, workers: int = 1, scheduler: str | None = None,
              resume: bool = False, progress=None) -> pd.DataFrame:
    """Run every unfinished point of ``spec`` into ``store``; return all results."""
    points, seeds = plan(spec)
    for point in points:  # every point must be a valid scenario before anything runs
        point_scenario(spec, point)
    done = store.open(spec, points, resume=resume)
    tasks = [(spec, p, points[p], seeds[p]) for p in range(len(points)) if p not in done]
    if progress is not None and done:
        progress(len(done))
    if scheduler is not None:
        _run_dask(tasks, store, scheduler, progress)
    elif workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            store.write(task[1], run_task(task))
            if progress is not None:
                progress(1)
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
            futures = {pool.submit(run_task, t): t[1] for t in tasks}
            for fut in as_completed(futures):
                store.write(futures[fut], fut.result())
                if progress is not None:
                    progress(1)
    return store.read()


def _run_dask(tasks: list, store: ResultsStore, address: str, progress) -> None:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise ConfigError("--scheduler needs the 'distributed' package") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"--scheduler {address}: cannot reach a Dask scheduler there ({exc})") from None
    try:
        futures = client.map(run_task, tasks, pure=False)
        index = {f.key: t[1] for f, t in zip(futures, tasks)}
        for fut in dask_completed(futures):
            store.write(index[fut.key], fut.result())
            if progress is not None:
                progress(1)
    finally:
        client.close()


def summarize_sweep(results: pd.DataFrame, metrics=("ltv_mean", "ltv_cac", "net_contribution", "retention_180d")) -> pd.DataFrame:
    """Per point: the mean of each metric over replications and its 95% t-interval."""
    from scipy import stats

    params = [c for c in results.columns if c.startswith("param:")]
    rows = []
    for p, group in results.groupby("point", sort=True):
        row = {"point": int(p), **{c[6:]: group[c].iloc[0] for c in params}, "replications": len(group)}
        for m in metrics:
            x = group[m].dropna().to_numpy()
            row[m] = float(x.mean()) if x.size else np.nan
            if x.size > 1:
                half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
                row[f"{m}_ci_low"], row[f"{m}_ci_high"] = row[m] - half, row[m] + half
            else:
                row[f"{m}_ci_low"] = row[f"{m}_ci_high"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)
