"""Benchmark: optimise the default scenario's budget levers at 50,000 customers over 365 days.

Runs :func:`analysis.budget.allocate_budget` on the default preset (``retail_tiers``: the paid channels
search, social and kol plus the policies with a cost: repurchase coupon, loyalty, win-back and
referral; ``--levers`` narrows the set) with the full report (baselines, marginal returns, ROI) and
prints one JSON object: wall time, simulations run, allocations tried, peak resident memory of this
process and of its workers (``ru_maxrss``), the load average before and after (other work on the
machine slows it), the recommendation and its gain over the equal split. Target: under 2 minutes on
the 2-core reference machine.

Worker processes run the replications of each allocation in parallel (``--workers``, default: cores);
each worker imports the stack once and loads numba's compiled kernels from its on-disk cache.

Usage::

    python benchmarks/bench_budget.py [--customers 50000] [--days 365] [--replications 2] [--workers 2]
                                      [--levers search,social,kol,repurchase_coupon,loyalty,winback]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def _peak_rss_mib(who: int) -> float:
    peak = resource.getrusage(who).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 1024.0 ** 2  # Linux: KiB, macOS: bytes


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print its JSON report."""
    from sim.scenario import load_scenario
    from analysis.budget import allocate_budget

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="retail_tiers")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-evaluations", type=int, default=None)
    parser.add_argument("--levers", help="comma-separated lever names (default: the scenario's default set)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    sc = load_scenario(args.scenario)
    if args.levers:
        levers = [{"name": n.strip()} for n in args.levers.split(",") if n.strip()]
        sc = sc.with_values({"budget": {"levers": levers}}, source=f"{sc.source} with levers {args.levers}")
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    result = allocate_budget(sc, customers=args.customers, horizon=args.days, replications=args.replications,
                             seed=args.seed, workers=args.workers, max_evaluations=args.max_evaluations)
    wall = time.perf_counter() - t0
    gain = result.difference(result.equal)
    roi = result.roi_uplift()
    report = {
        "benchmark": "budget",
        "scenario": sc.name,
        "customers": args.customers,
        "days": args.days,
        "levers": len(result.levers),
        "lever_names": [lv.name for lv in result.levers],
        "replications": args.replications,
        "workers": args.workers,
        "wall_seconds": round(wall, 2),
        "simulations": result.evaluations,
        "seconds_per_simulation_per_worker": round(wall * args.workers / max(result.evaluations, 1), 3),
        "allocations_tried": len(result.trace.trials),
        "search_evaluations": result.trace.evaluations,
        "optimiser": result.trace.message,
        "peak_rss_mib_main": round(_peak_rss_mib(resource.RUSAGE_SELF), 1),
        "peak_rss_mib_largest_worker": round(_peak_rss_mib(resource.RUSAGE_CHILDREN), 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "budget_per_day": result.budget,
        "allocation": {k: round(v, 2) for k, v in result.allocation.items()},
        "profit_gain_vs_equal": gain.to_dict(),
        "roi_uplift_vs_equal": {k: roi[k] for k in ("uplift", "uplift_ci_low", "uplift_ci_high")},
        "target_seconds": 120,
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
