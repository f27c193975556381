"""Benchmark: how the vector engine's run time grows with customers and with days.

Times the scenario (default ``retail_tiers``) on the vector engine at each of ``--customers``
(at ``--fixed-days`` days) and at each of ``--days`` (at ``--fixed-customers`` customers), each
run in a fresh process after a warm-up that loads the compiled kernel (see ``bench_engine.py``).
For each sweep it fits ``log(time) = a + b log(size)`` by least squares and reports the exponent
``b`` (1 means linear) with its standard error: on wall time, on CPU time, on CPU time over the
larger half of the sizes (where fixed per-day costs no longer dominate), and on CPU time against
the customer-days actually simulated. Prints one JSON object.

The population is not quite proportional to the initial customers: channels keep acquiring
customers at a fixed daily rate (about 20 a day on ``retail_tiers``), and every day also has a
fixed cost (policies, recording), so small runs lean sublinear. ``--repeat k`` keeps the fastest
of ``k`` runs per point.

Usage::

    python benchmarks/bench_scaling.py [--customers 10000 30000 100000 300000 1000000]
        [--fixed-days 100] [--days 30 90 365 1095] [--fixed-customers 100000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_engine import closing_fields, run_in_child  # noqa: E402


def fit_exponent(sizes, seconds) -> dict:
    """Least-squares slope of log(seconds) on log(sizes), with its standard error."""
    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(seconds, dtype=float))
    if x.size < 2:
        return {"exponent": None, "se": None}
    X = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    se = None
    if x.size > 2:
        sigma2 = float(resid @ resid) / (x.size - 2)
        se = float(np.sqrt(sigma2 * np.linalg.inv(X.T @ X)[1, 1]))
    return {"exponent": round(float(coef[1]), 3), "se": None if se is None else round(se, 3)}


def _fits(points: list[dict], size: str) -> dict:
    """Exponents of run time against ``size``: wall, CPU, CPU over the larger half of the points,
    and CPU against the customer-days actually simulated (acquisitions and referrals included)."""
    upper = points[len(points) // 2 :]
    return {
        "fit_wall": fit_exponent([r[size] for r in points], [r["run_s"] for r in points]),
        "fit_cpu": fit_exponent([r[size] for r in points], [r["run_cpu_s"] for r in points]),
        "fit_cpu_larger_half": fit_exponent([r[size] for r in upper], [r["run_cpu_s"] for r in upper]),
        "fit_cpu_vs_customer_days": fit_exponent([r["customer_days"] for r in points], [r["run_cpu_s"] for r in points]),
    }


def sweep(points: list[dict], repeat: int) -> list[dict]:
    """Run each point ``repeat`` times in fresh processes; keep the fastest."""
    out = []
    for spec in points:
        runs = [run_in_child(spec) for _ in range(repeat)]
        best = min(runs, key=lambda r: r["run_s"])
        keep = ("customers", "days", "customer_days", "run_s", "run_cpu_s", "customer_days_per_s", "peak_rss_mib")
        out.append({k: best[k] for k in keep})
    return out


def main(argv: list[str] | None = None) -> dict:
    """Run both sweeps and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 30_000, 100_000, 300_000, 1_000_000])
    parser.add_argument("--fixed-days", type=int, default=100)
    parser.add_argument("--days", type=int, nargs="+", default=[30, 90, 365, 1095])
    parser.add_argument("--fixed-customers", type=int, default=100_000)
    parser.add_argument("--scenario", default="retail_tiers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)

    load_start = os.getloadavg()
    t0 = time.perf_counter()
    base = {"engine": "vector", "scenario": args.scenario, "seed": args.seed}
    by_customers = sweep([{**base, "customers": n, "days": args.fixed_days} for n in args.customers], args.repeat)
    by_days = sweep([{**base, "customers": args.fixed_customers, "days": d} for d in args.days], args.repeat)
    report = {
        "benchmark": "scaling",
        "scenario": args.scenario,
        "engine": "vector",
        "time_vs_customers": {
            "days": args.fixed_days,
            "points": by_customers,
            **_fits(by_customers, "customers"),
        },
        "time_vs_days": {
            "customers": args.fixed_customers,
            "points": by_days,
            **_fits(by_days, "days"),
        },
        **closing_fields(t0, load_start),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
