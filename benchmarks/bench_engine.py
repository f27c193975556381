"""Benchmark: throughput and peak memory of the vector and agent engines on one scenario.

Runs the scenario (default: ``retail_tiers``, the default scenario, five policies active) on
the vector engine at each of ``--sizes`` initial customers and on the agent engine at
``--agent-customers``, each for ``--days`` days, every run in a fresh Python process so that the
peak resident memory (``ru_maxrss``) of one size does not leak into the next. Each child first
runs a tiny model to load the compiled day kernel from numba's on-disk cache; before all of that
one child compiles the kernel from scratch (in an empty temporary cache) to report the compile
time on its own. Prints one JSON object: per run the wall and CPU seconds of the simulation, the
customer-days simulated (initial and acquired customers, alive or not, each day), their rate per
second, the peak RSS, and the vector/agent throughput ratio; plus the machine's load average.

Usage::

    python benchmarks/bench_engine.py [--sizes 100000 1000000] [--days 365]
        [--agent-customers 10000] [--scenario retail_tiers] [--seed 1]

10,000,000 customers take about 4.6 GiB and 6 minutes on 2 cores: ask for them with
``--sizes 10000000``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

CHILD_FLAG = "--child"


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 1024.0**2  # Linux: KiB, macOS: bytes


def child(spec: dict) -> dict:
    """Run one measurement in this process (called in a fresh child) and return its figures."""
    started = time.perf_counter()
    from sim.scenario import load_scenario
    from sim.model import CustomerModel

    scenario = load_scenario(spec["scenario"])
    import_s = time.perf_counter() - started
    t0 = time.perf_counter()
    if spec["engine"] == "vector":  # compile, or load from numba's cache, the day kernel
        CustomerModel(scenario, seed=0, customers=200, days=3, engine="vector").run()
    warmup_s = time.perf_counter() - t0
    rss_before = _peak_rss_mib()
    t0 = time.perf_counter()
    model = CustomerModel(
        scenario, seed=spec["seed"], customers=spec["customers"], days=spec["days"], engine=spec["engine"]
    )
    build_s = time.perf_counter() - t0
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = model.run()
    run_s = time.perf_counter() - t0
    run_cpu_s = time.process_time() - cpu0
    customer_days = int(result.daily["customers"].sum())
    return {
        **spec,
        "customers_at_end": result.n_customers,
        "customer_days": customer_days,
        "import_s": round(import_s, 3),
        "warmup_s": round(warmup_s, 3),
        "build_s": round(build_s, 3),
        "run_s": round(run_s, 3),
        "run_cpu_s": round(run_cpu_s, 3),
        "customer_days_per_s": round(customer_days / run_s),
        "customer_days_per_cpu_s": round(customer_days / run_cpu_s),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "rss_before_model_mib": round(rss_before, 1),
    }


def run_in_child(spec: dict, env: dict | None = None) -> dict:
    """Run :func:`child` for ``spec`` in a fresh interpreter and return its JSON report."""
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), CHILD_FLAG, json.dumps(spec)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {spec} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compile_time(scenario: str) -> dict:
    """Seconds to compile the day kernel from scratch (empty numba cache) and to load it cached."""
    with tempfile.TemporaryDirectory(prefix="bench_numba_") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        tiny = {"engine": "vector", "scenario": scenario, "customers": 10, "days": 1, "seed": 0}
        cold = run_in_child(tiny, env)  # compiles (and fills the empty cache)
        warm = run_in_child(tiny, env)  # loads what the first child cached
    return {"compile_s": cold["warmup_s"], "cached_load_s": warm["warmup_s"]}


def machine() -> dict:
    """What the figures were measured on."""
    import numba
    import numpy

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
    }


def closing_fields(t0: float, load_start: tuple) -> dict:
    """The fields every report ends with: total time, load averages before and after, machine."""
    return {
        "total_s": round(time.perf_counter() - t0, 1),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="vector-engine populations")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--agent-customers", type=int, default=10_000, help="agent-engine population (0: skip)")
    parser.add_argument("--scenario", default="retail_tiers")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    load_start = os.getloadavg()
    t0 = time.perf_counter()
    kernel = compile_time(args.scenario)
    vector = [
        run_in_child({"engine": "vector", "scenario": args.scenario, "customers": n, "days": args.days, "seed": args.seed})
        for n in args.sizes
    ]
    agent = None
    if args.agent_customers > 0:
        spec = {"scenario": args.scenario, "customers": args.agent_customers, "days": args.days, "seed": args.seed}
        agent = run_in_child({"engine": "agent", **spec})
        for run in vector:
            run["throughput_vs_agent"] = round(run["customer_days_per_s"] / agent["customer_days_per_s"], 1)
            run["cpu_throughput_vs_agent"] = round(run["customer_days_per_cpu_s"] / agent["customer_days_per_cpu_s"], 1)
    report = {
        "benchmark": "engine",
        "scenario": args.scenario,
        "days": args.days,
        "kernel": kernel,
        "vector": vector,
        "agent": agent,
        **closing_fields(t0, load_start),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == CHILD_FLAG:
        print(json.dumps(child(json.loads(sys.argv[2]))))
    else:
        main()
