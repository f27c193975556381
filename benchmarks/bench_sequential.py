"""Sequential reading of replicated experiments: an experiment read at several looks, timed.

Prints one JSON object: the wall time of ``simulated_sequential`` (replications of a two-arm
experiment of the default scenario, read at ``--looks``), customer-days simulated per second,
each method's rejection rate, the peak memory of this process and of the largest worker, and
the load average. The issue's figure (4 looks, 1,000 replications, 10k customers x 120 days):

    python benchmarks/bench_sequential.py --replications 1000 --customers 10000 --looks 30,60,90,120

The defaults are smaller so that `make bench` stays short.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from analysis.experiment_runs import experiment_design
from analysis.simulated_power import simulated_sequential
from sim.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--customers", type=int, default=5_000)
    ap.add_argument("--looks", default="30,60,90,120")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--treatment", default="repurchase_coupon", help="policy of the second arm ('' for A/A)")
    args = ap.parse_args()
    looks = tuple(int(x) for x in args.looks.split(","))
    sc = load_scenario()
    arms = [{"name": "control", "policies": []},
            {"name": "treatment", "policies": [args.treatment] if args.treatment else []}]
    design = experiment_design(sc, arms, warmup_days=args.warmup)
    load_start = os.getloadavg()
    t = time.perf_counter()
    points = simulated_sequential(sc, design, metric="ltv", looks=looks, customers=args.customers,
                                  replications=args.replications, seed=1, workers=args.workers)
    seconds = time.perf_counter() - t
    days = args.warmup + looks[-1]
    # base customers only (arrivals add to it), over warm-up and test: a lower bound on the work
    customer_days = args.replications * args.customers * days
    print(json.dumps({
        "benchmark": "sequential_reading", "replications": args.replications, "customers": args.customers,
        "looks": looks, "warmup_days": args.warmup, "workers": args.workers, "treatment": args.treatment,
        "seconds": round(seconds, 2), "base_customer_days_per_s": round(customer_days / seconds),
        "methods": {p.method: {"rate": p.rate, "ci": [p.ci_low, p.ci_high], "mean_stopping_day": p.mean_stopping_day}
                    for p in points},
        "peak_rss_mib_self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_mib_largest_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
    }))


if __name__ == "__main__":
    main()
