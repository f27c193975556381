"""Sweeps: the seed plan, the crash-safe store, resume after a real kill, and a real Dask cluster.

The store's verification (damaged, swapped, extra files; quarantine) is in test_sweep_store.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sim.scenario import load_scenario
from lifecycle.cli import main
from analysis.sweeps import sweep_metrics
from sim.sweep import SweepSpec, parse_axis, plan, run_sweep
from sim.sweep_store import ResultsStore

SMALL = dict(customers=600, days=40)


def _spec(*params, replications=2, **kw):
    sc = load_scenario()
    return SweepSpec(sc, tuple(parse_axis(p) for p in params), replications=replications,
                     **{**SMALL, **kw})


def test_plan_is_fixed_before_dispatch_and_independent_of_order():
    """Seeds come from (point, replication) indices: the same plan every time, distinct per run."""
    spec = _spec("policies.winback.heavy_after_days=60,90,120", replications=3)
    points, seeds = plan(spec)
    points2, seeds2 = plan(spec)
    assert points == points2 and len(points) == 3
    states = {tuple(s.generate_state(2)) for row in seeds for s in row}
    assert len(states) == 9  # every run its own seed
    assert [tuple(s.generate_state(2)) for s in seeds[1]] == [tuple(s.generate_state(2)) for s in seeds2[1]]


def test_latin_and_random_samples_cover_the_ranges():
    """Latin-hypercube and random samples stay in range and are reproducible from the seed."""
    spec = _spec("customers.gross_margin=0.2:0.5", "channels.search.daily_spend=100:900", method="latin", sample=8)
    points, _ = plan(spec)
    assert len(points) == 8
    margins = sorted(p["customers.gross_margin"] for p in points)
    assert 0.2 <= margins[0] and margins[-1] <= 0.5
    # latin: one point in each eighth of the range
    assert sorted(np.floor((np.array(margins) - 0.2) / 0.3 * 8).astype(int).tolist()) == list(range(8))
    assert plan(spec)[0] == points


def test_embedded_results_do_not_depend_on_worker_count(tmp_path):
    """One worker and two worker processes give identical results."""
    spec = _spec("policies.repurchase_coupon.offer.discount=0,40")
    one = run_sweep(spec, ResultsStore(tmp_path / "one"), measure=sweep_metrics, workers=1)
    two = run_sweep(spec, ResultsStore(tmp_path / "two"), measure=sweep_metrics, workers=2)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 4 and one["replication"].tolist() == [0, 1, 0, 1]


def test_dask_localcluster_gives_identical_results(tmp_path):
    """A real Dask LocalCluster (2 workers over loopback) reproduces the embedded run bit for bit."""
    distributed = pytest.importorskip("distributed")
    spec = _spec("policies.repurchase_coupon.offer.discount=0,40")
    embedded = run_sweep(spec, ResultsStore(tmp_path / "embedded"), measure=sweep_metrics, workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        on_dask = run_sweep(spec, ResultsStore(tmp_path / "dask"), measure=sweep_metrics, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(embedded, on_dask)


def _cli(*args) -> list[str]:
    return [sys.executable, "-c", "from lifecycle.cli import main; main()", *args]


def test_killed_sweep_resumes_without_losing_or_repeating(tmp_path):
    """A sweep killed with SIGKILL mid-way and resumed equals an uninterrupted sweep, each point once."""
    args = ["sweep", "--param", "policies.repurchase_coupon.offer.discount=0,10,20,30,40,50",
            "--replications", "2", "--customers", "600", "--days", "40", "--workers", "1"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cli(*args, "--results", str(killed)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    parts = killed / "parts"
    while time.time() < deadline:
        done = list(parts.glob("point-*.parquet")) if parts.exists() else []
        if len(done) >= 2:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = {p.name for p in parts.glob("point-*.parquet")}
    assert 1 <= len(finished_before) < 6, "the kill must land mid-sweep"
    before = {p.name: p.stat().st_mtime_ns for p in parts.glob("point-*.parquet")}
    res = subprocess.run(_cli(*args, "--results", str(killed), "--resume"), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    # finished points were not redone
    for name, mtime in before.items():
        assert (parts / name).stat().st_mtime_ns == mtime
    whole = tmp_path / "whole"
    res = subprocess.run(_cli(*args, "--results", str(whole)), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    a, b = ResultsStore(killed).read(), ResultsStore(whole).read()
    assert sorted(a["point"].unique()) == list(range(6))
    assert not a.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--param", "policies.nope.discount=1,2"], "no policy named 'nope'"),
        (["--param", "customers.gross_margin=high,low"], "gross_margin"),
        (["--param", "customers.gross_margin=0.2:0.5"], "grid needs listed values"),
        (["--param", "customers.gross_margin"], "NAME=VALUES"),
        (["--param", "customers.gross_margin=0.3", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach"),
        (["--param", "customers.gross_margin=0.3", "--scheduler", "not a url"], "not a Dask scheduler address"),
        (["--param", "customers.gross_margin=0.3", "--param", "customers.gross_margin=0.4"], "names a parameter twice"),
    ],
)
def test_bad_input_exits_2_and_touches_nothing(tmp_path, args, message):
    """Unknown parameter, wrong type, bad range, bad or unreachable scheduler: exit 2, no results folder."""
    results = tmp_path / "results"
    res = CliRunner().invoke(main, ["sweep", *args, "--results", str(results), "--customers", "300", "--days", "10"])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert not results.exists()


def test_results_folder_of_another_sweep_is_refused_untouched(tmp_path):
    """A results folder holding another sweep is refused (exit 2) and left exactly as it was."""
    folder = tmp_path / "r"
    ok = CliRunner().invoke(main, ["sweep", "--param", "customers.gross_margin=0.3", "--replications", "1",
                                   "--customers", "300", "--days", "10", "--results", str(folder), "--workers", "1"])
    assert ok.exit_code == 0, ok.output
    snapshot = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    other = CliRunner().invoke(main, ["sweep", "--param", "customers.gross_margin=0.4", "--replications", "1",
                                      "--customers", "300", "--days", "10", "--results", str(folder)])
    assert other.exit_code == 2 and "another sweep" in other.output
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == snapshot
    again = CliRunner().invoke(main, ["sweep", "--param", "customers.gross_margin=0.3", "--replications", "1",
                                      "--customers", "300", "--days", "10", "--results", str(folder)])
    assert again.exit_code == 2 and "resume it" in again.output


def test_summary_has_confidence_intervals(tmp_path):
    """The per-point summary carries means and 95% intervals over replications."""
    res = CliRunner().invoke(main, ["sweep", "--param", "customers.gross_margin=0.2,0.4", "--replications", "3",
                                    "--customers", "300", "--days", "20", "--results", str(tmp_path / "s"),
                                    "--workers", "1", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)["summary"]
    assert len(rows) == 2
    for row in rows:
        assert row["ltv_mean_ci_low"] <= row["ltv_mean"] <= row["ltv_mean_ci_high"]
    assert rows[1]["ltv_mean"] > rows[0]["ltv_mean"]  # twice the margin: more value, same customers
