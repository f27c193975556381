"""Benchmark: the whole ``lifecycle budget`` command on the default scenario, and its three-level frontier.

Runs, as a user would, in fresh processes:

- ``lifecycle budget --json`` (the default preset ``retail_tiers``: 10,000 customers, 365 days, its
  seven levers, 8 replications and as many for the report); target under 30 s on the 2-core machine;
- ``lifecycle budget --frontier 1000,2000,3000 --min-ltv-cac 3 --json`` (the README's frontier);
  target under 90 s;

and, in the same invocation as a yardstick for a noisy shared machine, one simulated year of the
same scenario (one replication, the budget engine's settings) in this process. It prints one JSON
object: per command the wall time, the CPU time of the command and its workers, their peak memory,
the simulated years run, and the wall time as a multiple of the one-year yardstick (a same-run ratio
that moves less than the seconds when the machine is busy); the load average before and after each.

Usage::

    python benchmarks/bench_budget.py [--skip-frontier] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

LIFECYCLE = Path(sys.executable).with_name("lifecycle")


def _children() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def _command(args: list[str]) -> dict:
    load = [round(x, 2) for x in os.getloadavg()]
    cpu0, _ = _children()
    t0 = time.perf_counter()
    done = subprocess.run([str(LIFECYCLE), *args], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    cpu1, rss = _children()
    if done.returncode != 0:
        raise SystemExit(f"lifecycle {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    out = json.loads(done.stdout)
    return {
        "command": "lifecycle " + " ".join(args),
        "wall_seconds": round(wall, 2),
        "cpu_seconds_command_and_workers": round(cpu1 - cpu0, 2),
        "peak_rss_mib_largest_process": round(rss, 1),
        "simulated_years": out["evaluations"],
        "allocations_tried": out["optimiser"]["trials"],
        "recommended_profit": out["profit"]["mean"],
        "recommended_vs_current_profit": out["baseline_current"]["difference_profit"]["mean"],
        "load_average_before": load,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def _one_year() -> float:
    """Wall seconds of one simulated year of the default scenario as the budget engine runs it."""
    import numpy as np

    from analysis.budget.evaluate import Setting, simulate
    from sim.scenario import load_scenario

    sc = load_scenario("retail_tiers")
    setting = Setting(tuple((c.name, c.daily_spend) for c in sc.config.channels), ())
    simulate(sc, setting, np.random.SeedSequence(0), customers=None, days=30, smoothing=True)  # warm caches
    times = []
    for k in range(3):
        t0 = time.perf_counter()
        simulate(sc, setting, np.random.SeedSequence(k + 1), customers=None, days=365, smoothing=True)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-frontier", action="store_true", help="only the default command")
    args = parser.parse_args(argv)

    year = _one_year()
    runs = {"default": _command(["budget", "--json", "--workers", str(args.workers)])}
    if not args.skip_frontier:
        runs["frontier_3_levels"] = _command(["budget", "--frontier", "1000,2000,3000", "--min-ltv-cac", "3",
                                              "--json", "--workers", str(args.workers)])
    for run in runs.values():
        run["wall_in_one_year_runs"] = round(run["wall_seconds"] / year, 1)
    report = {
        "benchmark": "budget",
        "scenario": "retail_tiers",
        "workers": args.workers,
        "cores": os.cpu_count(),
        "one_simulated_year_seconds": round(year, 3),
        "targets_seconds": {"default": 30, "frontier_3_levels": 90},
        "runs": runs,
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
