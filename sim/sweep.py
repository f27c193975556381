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

import hashlib
import itertools
import json
import os
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.errors import ConfigError
from sim.parallel import Runner
from sim.scenario import Scenario
from sim.seeding import seed_plan

__all__ = ["SweepSpec", "Axis", "parse_axis", "plan", "point_scenario", "ResultsStore", "run_sweep", "run_task"]

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
        raise ConfigError(f"sweep parameter '{text}': expected NAME=VALUES, e.g. policies.winback.heavy_after_days=60,90,120")
    name, _, values = text.partition("=")
    name, values = name.strip(), values.strip()
    if not name or not values:
        raise ConfigError(f"sweep parameter '{text}': both a name and values are needed")
    if ":" in values:
        parts = values.split(":")
        nums = [_number(p) for p in parts]
        if len(parts) not in (2, 3) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in nums):
            raise ConfigError(f"sweep parameter '{text}': a range is LOW:HIGH or LOW:HIGH:STEP with numbers")
        low, high = nums[0], nums[1]
        if not low < high:
            raise ConfigError(f"sweep parameter '{text}': LOW must be below HIGH")
        integer = all(isinstance(x, int) for x in nums)
        if len(nums) == 3:
            step = nums[2]
            if step <= 0:
                raise ConfigError(f"sweep parameter '{text}': STEP must be > 0")
            count = int(np.floor((high - low) / step + 1e-9)) + 1
            vals = tuple(low + k * step for k in range(count))
            return Axis(name, tuple(int(v) if integer else float(v) for v in vals), low, high, integer)
        return Axis(name, None, low, high, integer)
    vals = tuple(_number(v.strip()) for v in values.split(",") if v.strip())
    if not vals:
        raise ConfigError(f"sweep parameter '{text}': no values")
    return Axis(name, vals)


@dataclass(frozen=True)
class SweepSpec:
    """Everything that defines a sweep's results (and so its identity in the store)."""

    scenario: Scenario
    axes: tuple[Axis, ...]
    method: str = "grid"
    sample: int | None = None
    replications: int = 1
    seed: int = 0
    customers: int | None = None
    days: int | None = None

    def key(self) -> str:
        """A hash of the spec: two sweeps with the same key produce the same results."""
        parts = {f.name: getattr(self, f.name) for f in dataclass_fields(self) if f.name != "scenario"}
        parts["axes"] = [asdict(a) for a in self.axes]
        parts["scenario"] = self.scenario.fingerprint()
        blob = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]


def plan(spec: SweepSpec) -> tuple[list[dict], list[list[np.random.SeedSequence]]]:
    """Design points (parameter name -> value) and seeds ``[point][replication]``."""
    if spec.method == "grid":
        for ax in spec.axes:
            if ax.values is None:
                raise ConfigError(f"sweep parameter {ax.name}: a grid needs listed values or LOW:HIGH:STEP, not LOW:HIGH")
        points = [dict(zip([a.name for a in spec.axes], combo)) for combo in itertools.product(*(a.values for a in spec.axes))]
    elif spec.method in ("random", "latin"):
        if not spec.sample or spec.sample < 1:
            raise ConfigError(f"sampling method '{spec.method}' needs a sample size of at least 1")
        for ax in spec.axes:
            if ax.low is None:
                raise ConfigError(f"sweep parameter {ax.name}: sampling method '{spec.method}' needs a range LOW:HIGH")
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
        raise ConfigError(f"sampling method must be grid, random or latin; got '{spec.method}'")
    if not points:
        raise ConfigError("the sweep has no points")
    return points, seed_plan(spec.seed, len(points), spec.replications)


def point_scenario(spec: SweepSpec, point: dict):
    """The validated scenario of one design point."""
    return spec.scenario.with_values(point)


def run_task(task: tuple) -> pd.DataFrame:
    """Worker: all replications of one point; one row per replication (no timings: reproducible)."""
    from sim.model import CustomerModel

    spec, p, point, seeds, measure = task
    scenario = point_scenario(spec, point)
    rows = []
    for r, ss in enumerate(seeds):
        model = CustomerModel(scenario, seed=ss, customers=spec.customers, days=spec.days)
        m = measure(model.run())
        row = {"point": p, "replication": r, **{f"param:{k}": v for k, v in point.items()}}
        row.update({k: (np.nan if v is None else float(v)) for k, v in m.items()})
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
            raise ConfigError(f"results folder '{self.folder}': exists and is not a folder")
        if manifest.exists():
            try:
                info = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                raise ConfigError(f"results folder '{self.folder}': manifest.json is unreadable; not touching it") from None
            if info.get("key") != key:
                raise ConfigError(
                    f"results folder '{self.folder}' holds another sweep ({info.get('scenario')}, key {info.get('key')}); "
                    "choose another folder (nothing was changed)"
                )
            if not resume:
                raise ConfigError(f"results folder '{self.folder}' already holds this sweep; resume it to finish it")
            return self.finished()
        if self.folder.exists() and any(self.folder.iterdir()):
            raise ConfigError(f"results folder '{self.folder}': the folder is not empty and is not a sweep; choose another")
        self.parts.mkdir(parents=True, exist_ok=True)
        info = {
            "kind": "lifecycle-sweep", "version": 1, "key": key, "scenario": spec.scenario.source,
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


def run_sweep(spec: SweepSpec, store: ResultsStore, *, measure, workers: int | None = 1,
              scheduler: str | None = None, resume: bool = False, progress=None) -> pd.DataFrame:
    """Run every unfinished point of ``spec`` into ``store``; return all results.

    ``measure(result) -> {metric: number}`` turns one run into its row (a module-level function,
    so it pickles to worker processes); the tasks run on a :class:`sim.parallel.Runner`.
    """
    points, seeds = plan(spec)
    for point in points:  # every point must be a valid scenario before anything runs
        point_scenario(spec, point)
    done = store.open(spec, points, resume=resume)
    tasks = [(spec, p, points[p], seeds[p], measure) for p in range(len(points)) if p not in done]
    if progress is not None and done:
        progress(len(done))
    with Runner(workers=workers, scheduler=scheduler) as runner:
        for i, frame in runner.completed(run_task, tasks, progress=progress):
            store.write(tasks[i][1], frame)
    return store.read()
