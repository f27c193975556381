"""Sweep throughput with 1 vs 2 local workers, and the per-task overhead of each executor.

Prints one JSON object. The acceptance figure of the sweep issue is a 64-point x 20-replication
sweep of the default scenario at 10,000 customers x 365 days:

    python benchmarks/bench_sweep.py --points 64 --replications 20 --customers 10000 --days 365

The defaults are smaller so that `make bench` finishes in a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

from sim.scenario import load_scenario
from analysis.sweeps import sweep_metrics
from sim.sweep import SweepSpec, parse_axis, run_sweep
from sim.sweep_store import ResultsStore


def _spec(points: int, replications: int, customers: int, days: int) -> SweepSpec:
    sc = load_scenario()
    values = ",".join(str(5 * k) for k in range(points))  # coupon discount 0, 5, 10, ...
    return SweepSpec(sc, (parse_axis(f"policies.repurchase_coupon.offer.discount={values}"),),
                     replications=replications, customers=customers, days=days)


def _timed(spec: SweepSpec, **kw) -> float:
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        run_sweep(spec, ResultsStore(os.path.join(d, "r")), measure=sweep_metrics, **kw)
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=16)
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask overhead measurement")
    args = ap.parse_args()
    spec = _spec(args.points, args.replications, args.customers, args.days)
    runs = args.points * args.replications
    one = _timed(spec, workers=1)
    two = _timed(spec, workers=2)
    # per-task overhead: tasks that do (almost) nothing
    tiny = _spec(16, 1, 1, 1)
    overhead = {"local_2_workers_s_per_task": _timed(tiny, workers=2) / 16}
    if not args.no_dask:
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            _timed(tiny, scheduler=cluster.scheduler_address)  # warm the workers
            overhead["dask_2_workers_s_per_task"] = _timed(tiny, scheduler=cluster.scheduler_address) / 16
            dask_time = _timed(spec, scheduler=cluster.scheduler_address)
    else:
        dask_time = None
    print(json.dumps({
        "benchmark": "sweep", "points": args.points, "replications": args.replications, "runs": runs,
        "customers": args.customers, "days": args.days,
        "seconds_1_worker": round(one, 2), "seconds_2_workers": round(two, 2),
        "speedup_2_vs_1": round(one / two, 3), "seconds_dask_2_workers": None if dask_time is None else round(dask_time, 2),
        "customer_days_per_second_2_workers": round(runs * args.customers * args.days / two),
        "overhead": {k: round(v, 4) for k, v in overhead.items()},
        "peak_rss_mib_self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average": os.getloadavg(),
    }))


if __name__ == "__main__":
    main()
