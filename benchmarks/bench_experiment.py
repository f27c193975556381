"""Replicated experiments: many two-arm experiments of the default scenario, timed.

Prints one JSON object. The acceptance figure: 1,000 replications of a 10,000-customer, 180-day
two-arm experiment (control vs win-back) of the default scenario:

    python benchmarks/bench_experiment.py --replications 1000 --customers 10000 --days 180

Replications run as batches of independent replicas inside one world per task (see
``sim.experiment.run_world(replicas=...)``), spread over worker processes. The defaults are
smaller so that `make bench` stays short.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from sim.scenario import load_scenario
from scenarios.designs import ArmSpec, ExperimentDesign
from analysis.simulated_power import simulated_power


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=50, help="replicas per world (per task)")
    ap.add_argument("--metric", default="ltv")
    args = ap.parse_args()
    sc = load_scenario()
    design = ExperimentDesign(
        arms=(ArmSpec(name="control", share=0.5), ArmSpec(name="winback", policies=("winback",), share=0.5)),
        warmup_days=args.warmup, days=args.days, customers=args.customers,
    )
    t = time.perf_counter()
    points = simulated_power(sc, design, metric=args.metric, points=[(args.customers, args.days)],
                             replications=args.replications, seed=1, workers=args.workers, batch=args.batch)
    seconds = time.perf_counter() - t
    p = points[0]
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({
        "benchmark": "replicated_experiment", "replications": args.replications, "customers": args.customers,
        "days": args.days, "warmup_days": args.warmup, "workers": args.workers, "batch": args.batch,
        "seconds": round(seconds, 2), "metric": args.metric, "power": p.power, "power_ci": [p.ci_low, p.ci_high],
        "mean_n_per_arm": p.mean_n_per_arm,
        "peak_rss_mib_self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_mib_largest_worker": round(children, 1),
        "load_average": os.getloadavg(),
    }))


if __name__ == "__main__":
    main()
