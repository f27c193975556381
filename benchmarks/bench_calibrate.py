"""Benchmark: calibrate BG/NBD + Gamma-Gamma from a large synthetic transaction log.

Generates a log of ``--customers`` customers on the CDNOW calendar (12-week acquisition,
39-week calibration, 39-week holdout) with purchase parameters chosen to give about five rows
per customer and writes it to a CSV (or Parquet) file, in a child process (so its memory is not
counted); then times, in this process,

    load (read + validate + merge same-day rows) -> RFM summary -> BG/NBD fit -> Gamma-Gamma fit

and prints one JSON object: wall time per phase (seconds), rows, customers, fitted parameters,
this process's peak resident memory (``ru_maxrss``: the pipeline's peak) and the load average.
Targets for 1,000,000 customers (about 5.3 million rows): at least 5x faster than lifetimes 0.11
on the same file (``benchmarks/README.md`` has both figures) and under 1 GiB.

Usage::

    python benchmarks/bench_calibrate.py [--customers 1000000] [--format csv|parquet] [--seed 1]
                                         [--log FILE]   # keep the generated log there (reused if it exists)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.csv as pa_csv

from analysis.calibration import (
    BetaGeoModel,
    GammaGammaModel,
    load_transactions,
    rfm_summary,
    simulate_bgnbd_log,
)

# About 4.3 expected repeat purchases per customer over the 78 weeks -> ~5 rows per customer.
BENCH_BGNBD = {"r": 0.6, "alpha": 4.0, "a": 0.8, "b": 3.0}
BENCH_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
DATES = {"start": "1997-01-01", "calibration_end": "1997-09-30", "holdout_end": "1998-06-30"}


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return peak / 1024.0 if sys.platform != "darwin" else peak / 1024.0 ** 2


def _generate(customers: int, fmt: str, seed: int, path: str) -> None:
    """Write the synthetic log to ``path`` (run in a child process)."""
    frame = simulate_bgnbd_log(customers, BENCH_BGNBD, BENCH_GG, rng=seed, **DATES)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(1, "date", table.column("date").cast(pa.date32()))
    if fmt == "csv":
        pa_csv.write_csv(table, path)
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, path)


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", help="keep the generated log in this file (reused if it exists)")
    args = parser.parse_args(argv)

    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench_calibrate_") as tmp:
        path = args.log or os.path.join(tmp, f"transactions.{args.format}")
        if not os.path.exists(path):
            t0 = time.perf_counter()
            ctx = multiprocessing.get_context("spawn")
            child = ctx.Process(target=_generate, args=(args.customers, args.format, args.seed, path))
            child.start()
            child.join()
            if child.exitcode != 0:
                raise SystemExit(f"generating the log failed (exit code {child.exitcode})")
            times["generate_and_write"] = time.perf_counter() - t0
        file_mib = os.path.getsize(path) / 1024.0 ** 2
        load_before = os.getloadavg()

        start = time.perf_counter()
        t0 = start
        log = load_transactions(path)
        times["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = rfm_summary(log, calibration_end=DATES["calibration_end"],
                          holdout_end=DATES["holdout_end"])
    times["summary"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bgnbd = BetaGeoModel().fit(summary)
    times["fit_bgnbd"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    spend = GammaGammaModel().fit(summary)
    times["fit_gamma_gamma"] = time.perf_counter() - t0
    times["calibrate_total"] = time.perf_counter() - start
    rows = log.n_rows_read
    report = {
        "benchmark": "calibrate",
        "format": args.format,
        "customers": summary.n_customers,
        "rows": rows,
        "transactions": log.n_rows_used,
        "merged_same_day_rows": rows - log.n_rows_used,
        "file_mib": round(file_mib, 1),
        "seconds": {k: round(v, 3) for k, v in times.items()},
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "bgnbd": {k: round(v, 4) for k, v in bgnbd.params_.items()},
        "bgnbd_true": BENCH_BGNBD,
        "gamma_gamma": {k: round(v, 4) for k, v in spend.params_.items()},
        "gamma_gamma_true": BENCH_GG,
        "python": sys.version.split()[0],
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
