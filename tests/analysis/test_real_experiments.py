"""Tests for analysis/real_experiments.py: a real experiment's file, read with the simulation's estimators.

The acceptance check: an experiment simulated in the lab, exported as CSV (one row per customer)
and read back with ``lifecycle analyse``, gives the same estimates as the in-simulation analysis
of that experiment, to 1e-9. Bad files get one DataError naming the file, the column and the row.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from analysis.experiment_runs import run_experiment
from analysis.real_experiments import analyse_results
from lifecycle.cli import main
from scenarios.errors import ConfigError, DataError
from sim.scenario import load_scenario

METRICS = ["revenue", "margin", "ltv", "repurchased", "ltv_cac=ltv/acquisition_cost"]
SAME_NAME = {"repurchased": "repurchase_rate"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A three-arm experiment of the default preset and its outcomes as a CSV file."""
    sc = load_scenario()
    report = run_experiment(sc, arms=[{"name": "control", "policies": []},
                                      {"name": "coupon", "policies": ["repurchase_coupon"]},
                                      {"name": "winback", "policies": ["winback"]}],
                            customers=3000, warmup_days=30, days=90, seed=5, truth=False)
    frame = report.outcomes.frame.copy()
    frame["arm"] = frame["arm"].map(dict(enumerate(report.outcomes.arm_names)))
    path = tmp_path_factory.mktemp("real") / "results.csv"
    frame.to_csv(path, index=False)
    return report, path


def test_a_csv_export_gives_the_in_simulation_estimates(exported):
    """Every shared metric: estimate, CI, p-value and Holm-adjusted p-value equal to 1e-9."""
    simulated, path = exported
    real = analyse_results(path, arm_col="arm", metrics=METRICS, pre="pre_revenue")
    sim = {(r["arm"], r["metric"]): r for r in simulated.rows}
    compared = 0
    for r in real.rows:
        s = sim.get((r["arm"], SAME_NAME.get(r["metric"], r["metric"])))
        if s is None:  # e.g. margin_winsorized: estimated from files only
            continue
        for key in ("estimate", "ci_low", "ci_high", "p_value", "n_control", "n_treatment", "control"):
            assert r[key] == pytest.approx(s[key], abs=1e-9, rel=0), (r["arm"], r["metric"], key)
        compared += 1
    assert compared == 2 * 7  # revenue, winsorised, CUPED, margin, ltv, repurchase, LTV/CAC for both arms
    assert real.srm["p_value"] == pytest.approx(simulated.srm["p_value"], abs=1e-12)


def test_the_command_writes_the_same_report(exported, tmp_path):
    """lifecycle analyse FILE --metric ... --out DIR: JSON and a self-contained report page."""
    _, path = exported
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["analyse", str(path), "--metric", "ltv", "--metric", "repurchased",
                                       "--pre", "pre_revenue", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {d["arm"] for d in payload["decisions"]} == {"coupon", "winback"}
    assert (out / "report.html").read_text().startswith("<!doctype html>")


@pytest.mark.parametrize(
    "content, args, error, match",
    [
        ("arm,revenue\ncontrol,1\ntreated,2\n", {"metrics": ["nope"]}, DataError, r"no column 'nope'"),
        ("arm,revenue\ncontrol,1\ntreated,abc\n", {"metrics": ["revenue"]}, DataError,
         r"column 'revenue', row 3: not a finite number \('abc'\)"),
        ("arm,revenue\ncontrol,1\ncontrol,2\n", {"metrics": ["revenue"]}, DataError, r"holds one arm"),
        ("group,revenue\na,1\nb,2\n", {"metrics": ["revenue"]}, DataError, r"no arm column 'arm'"),
        ("arm,revenue\na,1\nb,2\n", {"metrics": ["revenue"], "control": "c"}, ConfigError,
         r"control arm 'c' is not in column 'arm'; the arms are a, b"),
        ("arm,revenue\na,1\nb,2\n", {"metrics": ["revenue"], "shares": [0.5, 0.6]}, ConfigError, r"adding up to 1"),
        ("arm,revenue\na,1\nb,2\n", {"metrics": ["x=revenue"]}, ConfigError, r"NAME=NUM/DEN"),
        ("", {"metrics": ["revenue"]}, DataError, r"cannot be read as CSV"),
    ],
    ids=["missing-column", "not-a-number", "one-arm", "no-arm-column", "unknown-control", "bad-shares",
         "bad-ratio", "empty-file"],
)
def test_bad_results_files_get_one_clear_error(tmp_path, content, args, error, match):
    """The file, the column and the row are named; nothing else is raised."""
    path = tmp_path / "r.csv"
    path.write_text(content)
    with pytest.raises(error, match=match):
        analyse_results(path, arm_col="arm", **args)
