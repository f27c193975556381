"""Parameter sweeps with replications: a plan, an executor, a verified crash-safe results store.

Core objects:

- :class:`SweepSpec`: the scenario, the parameter axes (``NAME=VALUES``; NAME is a dotted path
  into the scenario file such as ``policies.repurchase_coupon.offer.discount`` or
  ``channels.search.daily_spend``), the sampling method (grid, random, latin), replications, seed.
- :func:`plan`: the design points and every task's seeds, fixed before any work is dispatched:
  run ``(point p, replication r)`` is seeded by ``SeedSequence(seed).spawn(points)[p].spawn(R)[r]``,
  so results are identical whatever the number of workers or the scheduler.
- :class:`~sim.sweep_store.ResultsStore` (its own module): a folder whose ``manifest.json`` lists
  every expected part and whose parts are each checked (name, SHA-256, content) before they are
  trusted. A killed sweep loses at most the tasks running and ``resume`` repeats none that
  finished; a damaged, swapped, renamed or foreign file is moved to ``quarantine/`` and its point
  recomputed, each reported as a :class:`~sim.sweep_store.StoreNotice`.
- :func:`run_sweep`: runs the missing tasks on local worker processes or on an existing Dask
  distributed cluster (``scheduler="tcp://host:port"``), the same code either way. Nothing is
  written until the spec, the results folder, the scheduler and the first finished task have been
  checked, so a refused sweep leaves nothing on disk.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields

import numpy as np
import pandas as pd

from scenarios.errors import ConfigError, DataError
from sim.parallel import Runner
from sim.scenario import Scenario
from sim.seeding import seed_plan
from sim.sweep_store import ResultsStore, concat_parts, short_list

__all__ = ["Axis", "SweepSpec", "parse_axis", "plan", "point_scenario", "run_sweep", "run_task"]

#: most design points of one sweep, most replications per point, most runs in all
MAX_POINTS = 100_000
MAX_REPLICATIONS = 100_000
MAX_RUNS = 1_000_000


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
            if count > MAX_POINTS:
                raise ConfigError(f"sweep parameter '{text}': {count:,} values; at most {MAX_POINTS:,} (use a larger STEP)")
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
    names = [a.name for a in spec.axes]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"sweep parameters name {', '.join(repr(n) for n in twice)} more than once; give each parameter once")
    if not 1 <= spec.replications <= MAX_REPLICATIONS:
        raise ConfigError(f"replications must be 1 to {MAX_REPLICATIONS:,}; got {spec.replications:,}")
    if spec.method == "grid":
        for ax in spec.axes:
            if ax.values is None:
                raise ConfigError(f"sweep parameter {ax.name}: a grid needs listed values or LOW:HIGH:STEP, not LOW:HIGH")
        size = math.prod(len(ax.values) for ax in spec.axes)
        if size > MAX_POINTS:
            raise ConfigError(f"the grid has {size:,} points; at most {MAX_POINTS:,} (fewer values, or sample it)")
        points = [dict(zip([a.name for a in spec.axes], combo)) for combo in itertools.product(*(a.values for a in spec.axes))]
    elif spec.method in ("random", "latin"):
        if not spec.sample or not 1 <= spec.sample <= MAX_POINTS:
            raise ConfigError(f"sampling method '{spec.method}' needs a sample size of 1 to {MAX_POINTS:,}")
        for ax in spec.axes:
            if ax.low is None:
                raise ConfigError(f"sweep parameter {ax.name}: sampling method '{spec.method}' needs a range LOW:HIGH")
        rng = np.random.default_rng(seed_plan(spec.seed, 1)[0])
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
    if len(points) * spec.replications > MAX_RUNS:
        raise ConfigError(f"the sweep has {len(points):,} points x {spec.replications:,} replications; "
                          f"at most {MAX_RUNS:,} runs in one sweep")
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


def _check_scheduler(address) -> None:
    """Refuse a malformed or unreachable scheduler address before anything is written."""
    if address is None:
        return
    example = "e.g. tcp://127.0.0.1:8786"
    if not isinstance(address, str) or not address.strip():
        raise ConfigError(f"scheduler: an address is needed, {example}")
    try:
        from distributed.comm.addressing import parse_address, parse_host_port
        from distributed.comm.registry import get_backend
    except ImportError:
        raise ConfigError("scheduler: running on a Dask cluster needs the 'distributed' package, which is not installed") from None
    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        host = port = None
        if scheme in ("tcp", "tls", "ws", "wss", "ucx"):
            host, port = parse_host_port(location)
            if not host or not 0 < int(port) < 65536:
                raise ValueError("a host and a port between 1 and 65535 are needed")
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"scheduler '{address}' is not a Dask scheduler address ({exc}); {example}") from None
    if scheme == "tcp":  # fail fast (a refused port, an unknown host) instead of waiting for the client's timeout
        import socket

        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise ConfigError(f"scheduler {address}: cannot reach a Dask scheduler there ({why})") from None


def _nothing(task):  # pragma: no cover - never called: connecting maps no tasks
    return task


def _connect(runner: Runner, address) -> None:
    """Connect the runner to its scheduler now, so an unreachable one fails before any write."""
    if address is None:
        return
    try:
        runner.map(_nothing, [])
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - the client raises many types for a scheduler it cannot talk to
        raise ConfigError(f"scheduler {address}: cannot reach a Dask scheduler there ({type(exc).__name__}: {exc})") from None


def run_sweep(spec: SweepSpec, store: ResultsStore, *, measure, workers: int | None = 1,
              scheduler: str | None = None, resume: bool = False, progress=None, on_notice=None) -> pd.DataFrame:
    """Run every unfinished point of ``spec`` into ``store``; return all results, every part verified.

    ``measure(result) -> {metric: number}`` turns one run into its row (a module-level function,
    so it pickles to worker processes); the tasks run on a :class:`sim.parallel.Runner`.

    Before anything is written: every point's scenario is validated, the folder is checked
    (another sweep's, this sweep's without ``resume``: refused), and the scheduler is connected
    (malformed or unreachable: ConfigError). A new store is created only when the first task has
    finished. On resume every part is verified and bad files quarantined; at the end every part
    is verified again, and one found bad then is quarantined and recomputed. What was found wrong
    is in ``store.notices`` (and passed to ``on_notice`` as it is found).
    """
    points, seeds = plan(spec)
    for point in points:  # every point must be a valid scenario before anything runs
        point_scenario(spec, point)
    store.check(spec, points, resume=resume)  # read-only: refuses a folder that cannot take this sweep
    _check_scheduler(scheduler)
    if on_notice is not None:
        store.on_notice = on_notice
    with Runner(workers=workers, scheduler=scheduler) as runner:
        _connect(runner, scheduler)
        try:
            done = store.start()
            if progress is not None and done:
                progress(len(done))
            todo = [p for p in range(len(points)) if p not in done]
            for attempt in range(2):
                tasks = [(spec, p, points[p], seeds[p], measure) for p in todo]
                for i, frame in runner.completed(run_task, tasks, progress=progress if attempt == 0 else None):
                    store.write(tasks[i][1], frame)
                frames = store.verify()
                todo = [p for p in range(len(points)) if p not in frames]
                if not todo:
                    break
            else:
                raise DataError(
                    f"results folder '{store.folder}': point(s) {short_list(todo)} failed verification again right after "
                    "being recomputed; is something else writing to the folder?"
                )
        finally:
            store.close()
    return concat_parts(frames)
