"""The duration curve: simulated power and MDE of an experiment against its length, timed.

Prints one JSON object: wall time, base customer-days per second, peak memory and load average,
and per duration the MDE and power. The issue's figure:

    python benchmarks/bench_duration.py --replications 200 --customers 10000 --metric retention_90d
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from analysis.experiment_runs import experiment_design
from analysis.simulated_power import simulated_power
from sim.output import finite_json
from sim.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--customers", type=int, default=5_000)
    ap.add_argument("--durations", default="30,60,90,120,180,270,365")
    ap.add_argument("--metric", default="retention_90d")
    ap.add_argument("--warmup", type=int, default=90)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    durations = [int(x) for x in args.durations.split(",")]
    sc = load_scenario()
    design = experiment_design(sc, [{"name": "control", "policies": []},
                                    {"name": "coupon", "policies": ["repurchase_coupon"]}], warmup_days=args.warmup)
    load_start = os.getloadavg()
    t = time.perf_counter()
    points = simulated_power(sc, design, metric=args.metric, points=[(args.customers, d) for d in durations],
                             replications=args.replications, seed=1, workers=args.workers)
    seconds = time.perf_counter() - t
    simulated = [p for p in points if p.note is None]
    customer_days = sum(args.replications * args.customers * (args.warmup + p.days) for p in simulated)
    print(json.dumps(finite_json({
        "benchmark": "duration_curve", "metric": args.metric, "replications": args.replications,
        "customers": args.customers, "warmup_days": args.warmup, "workers": args.workers,
        "seconds": round(seconds, 2), "base_customer_days_per_s": round(customer_days / seconds),
        "points": [{"days": p.days, "mde": p.mde, "power": p.power, "mean_n_per_arm": p.mean_n_per_arm, "note": p.note}
                   for p in points],
        "peak_rss_mib_self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_mib_largest_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
    }), default=float, allow_nan=False))


if __name__ == "__main__":
    main()
