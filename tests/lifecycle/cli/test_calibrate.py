"""`lifecycle calibrate` end to end: CDNOW figures in JSON, bad logs exit 2, nothing half-written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lifecycle.cli import main


@pytest.mark.slow
def test_calibrate_cdnow_prints_fit_and_holdout(tmp_path):
    """The CDNOW protocol run prints the fitted parameters, the log-likelihood and holdout errors."""
    out = tmp_path / "cdnow.toml"
    res = CliRunner().invoke(main, ["calibrate", "scenarios/data/cdnow.txt", "--calibration-end", "1997-09-30",
                                    "--holdout-end", "1998-06-30", "--replications", "2", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["customers"] == 23570 and d["time_unit"] == "week"
    for key in ("r", "alpha", "a", "b", "log_likelihood", "se"):
        assert key in d["bgnbd"]
    assert set(d["gamma_gamma"]) >= {"p", "q", "gamma"}
    h = d["holdout"]
    assert h["actual_repeat_transactions"] == 19684.0
    assert {"conditional_expected_repeat_transactions", "tracking_forecast_repeat_transactions",
            "simulated_repeat_transactions", "mape_cumulative_holdout_pct"} <= set(h)
    assert "expected_repeat_transactions" not in h  # the old, ambiguous name is gone
    # the headline is the sum of per-customer conditional expectations (16,873.7 on the full log),
    # the tracking curve's rise is the unconditional forecast (16,849.2)
    assert h["conditional_expected_repeat_transactions"] == pytest.approx(16873.73, abs=0.05)
    assert h["tracking_forecast_repeat_transactions"] == pytest.approx(16849.24, abs=0.05)
    assert set(h["definitions"]) >= {"conditional_expected_repeat_transactions", "tracking_forecast_repeat_transactions"}
    # the written scenario runs
    run = CliRunner().invoke(main, ["run", str(out), "--customers", "3000", "--days", "60", "--json"])
    assert run.exit_code == 0, run.output


@pytest.mark.parametrize(
    "content, message",
    [
        ("customer,date\n1,2020-01-01\n", "amount"),
        ("customer,date,amount\n1,2020-13-45,10\n", "row 1"),
        ("customer,date,amount\n1,2020-01-01,-5\n", "negative"),
        ("customer,date,amount\n1,2020-01-01,abc\n", "row 1"),
        ("", "empty"),
    ],
)
def test_bad_logs_exit_2_and_write_nothing(tmp_path, content, message):
    """Missing column, bad date, negative or non-numeric amount, empty file: one error, exit 2."""
    log = tmp_path / "log.csv"
    log.write_text(content, encoding="utf-8")
    out = tmp_path / "s.toml"
    res = CliRunner().invoke(main, ["calibrate", str(log), "--out", str(out)])
    assert res.exit_code == 2
    assert "error:" in res.output and message.lower() in res.output.lower()
    assert "Traceback" not in res.output
    assert not out.exists()


def test_calibration_end_before_first_purchase_exits_2(tmp_path):
    """A calibration end before the first purchase is refused with exit 2."""
    log = tmp_path / "log.csv"
    log.write_text("customer,date,amount\n1,2020-01-05,10\n1,2020-02-01,12\n2,2020-01-09,8\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["calibrate", str(log), "--calibration-end", "2019-12-01"])
    assert res.exit_code == 2 and "error:" in res.output


def test_existing_scenario_file_is_not_overwritten(tmp_path):
    """--out naming an existing file is refused without --force, and the file is untouched."""
    out = tmp_path / "mine.toml"
    out.write_text("precious", encoding="utf-8")
    res = CliRunner().invoke(main, ["calibrate", "scenarios/data/cdnow.txt", "--out", str(out)])
    assert res.exit_code == 2
    assert out.read_text(encoding="utf-8") == "precious"


def _cdnow_sample(tmp_path):
    """Every tenth CDNOW customer (2,357), as a log file."""
    lines = open("scenarios/data/cdnow.txt", encoding="utf-8").read().splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.split() and int(ln.split()[0]) % 10 == 1]
    path = tmp_path / "cdnow_sample.txt"
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_readme_path_calibrate_then_experiment_and_budget(tmp_path):
    """The README's commands on a CDNOW sample: calibrate on the default template, then a two-arm
    win-back experiment and a budget run on the written scenario, unchanged."""
    log, out, cohort = _cdnow_sample(tmp_path), tmp_path / "my_customers.toml", tmp_path / "cohort.toml"
    res = CliRunner().invoke(main, ["calibrate", str(log), "--calibration-end", "1997-09-30", "--holdout-end",
                                    "1998-06-30", "--replications", "1", "--out", str(out), "--cohort-out", str(cohort)])
    assert res.exit_code == 0, res.output
    assert "template retail_tiers" in res.output and out.exists() and cohort.exists()
    exp = CliRunner().invoke(main, ["experiment", str(out), "--arm", "control=", "--arm", "winback=winback",
                                    "--customers", "2357", "--json"])
    assert exp.exit_code == 0, exp.output
    assert set(json.loads(exp.output)["arms"]) == {"control", "winback"}
    bud = CliRunner().invoke(main, ["budget", str(out), "--customers", "2357", "--horizon", "60", "--replications", "2",
                                    "--workers", "1", "--max-evaluations", "4", "--json"])
    assert bud.exit_code == 0, bud.output


def test_unknown_template_exits_2_and_writes_nothing(tmp_path):
    """--template naming neither a preset nor a file: one error naming it, exit 2, no file."""
    out = tmp_path / "s.toml"
    res = CliRunner().invoke(main, ["calibrate", str(_cdnow_sample(tmp_path)), "--template", "no_such_shop",
                                    "--out", str(out)])
    assert res.exit_code == 2 and "no_such_shop" in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_scores_report_and_verdict(tmp_path):
    """--scores writes one row per customer whose expected holdout purchases add up to the headline;
    --report adds the calibration-vs-holdout plot and the verdict, which --json also carries."""
    log, scores, report = _cdnow_sample(tmp_path), tmp_path / "scores.csv", tmp_path / "report"
    res = CliRunner().invoke(main, ["calibrate", str(log), "--calibration-end", "1997-09-30", "--holdout-end",
                                    "1998-06-30", "--replications", "1", "--scores", str(scores), "--horizon", "26",
                                    "--report", str(report), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    import pandas as pd

    table = pd.read_csv(scores, dtype={"customer": str})
    assert len(table) == d["customers"] == 2_357 and table["customer"].iloc[0] == "00001"
    assert table["expected_holdout_purchases"].sum() == pytest.approx(
        d["holdout"]["conditional_expected_repeat_transactions"], rel=1e-9)
    assert set(table["horizon"]) == {26.0}
    assert {"calibration_vs_holdout.png", "verdict.md", "models.csv"} <= set(d["report_files"])
    assert [m["model"] for m in d["models"]] == ["BG/NBD", "Pareto/NBD"] and d["models"][0]["used_by_scenario"]
    assert "follow BG/NBD" in d["model_choice"]
    assert d["verdict"].startswith("The BG/NBD model is off by ") and "% on the holdout" in d["verdict"]
    assert (report / "verdict.md").read_text(encoding="utf-8").strip() == d["verdict"] + "\n\n" + d["model_choice"]
    again = CliRunner().invoke(main, ["calibrate", str(log), "--scores", str(scores)])
    assert again.exit_code == 2 and "--scores" in again.output  # not replaced without --force
