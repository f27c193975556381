"""`lifecycle experiment` and `lifecycle power` from the command line: outputs and bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from lifecycle.cli import main


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_experiment_json_has_a_row_per_arm_and_metric(tmp_path):
    """--json gives arm, metric, estimate, CI, p-value and the true effect; --out writes the report."""
    out = tmp_path / "report"
    res = _run("experiment", "--arm", "control=", "--arm", "coupon=repurchase_coupon", "--customers", "3000",
               "--warmup", "30", "--days", "60", "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    row = d["results"][0]
    assert {"arm", "metric", "estimate", "ci_low", "ci_high", "p_value", "true_effect"} <= set(row)
    assert {r["metric"] for r in d["results"]} >= {"retention_30d", "repurchase_rate", "revenue", "ltv", "ltv_cac"}
    assert d["srm"]["p_value"] is not None and d["decisions"][0]["arm"] == "coupon"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<img" in html and "Uplift" in html


def test_power_json_matches_statsmodels():
    """The analytic command prints n_per_arm equal to statsmodels (cohen-h convention)."""
    res = _run("power", "--baseline", "0.10", "--mde", "0.02", "--method", "cohen-h", "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    h = proportion_effectsize(0.12, 0.10)
    expected = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1.0)
    assert d["n_per_arm"] == pytest.approx(expected, abs=1e-6)
    assert d["n_per_arm_ceil"] == int(-(-expected // 1))


def test_power_solves_for_power_and_mde():
    """Given --n the command returns power; given --n and --power, the MDE (absolute and relative)."""
    p = json.loads(_run("power", "--baseline", "0.1", "--mde", "0.02", "--n", "3000", "--json").output)
    assert 0 < p["power"] < 1 and p["solved_for"] == "power"
    m = json.loads(_run("power", "--baseline", "0.1", "--n", "3000", "--power", "0.8", "--json").output)
    assert m["solved_for"] == "mde" and m["mde_relative"] == pytest.approx(m["mde_absolute"] / 0.1)


@pytest.mark.parametrize(
    "args, message",
    [
        (["experiment", "--arm", "control=", "--arm", "x=no_such_policy"], "unknown policy"),
        (["experiment", "--arm", "control=", "--arm", "x=winback", "--allocation", "0.6,0.6"], "add up to 1"),
        (["experiment", "--arm", "control="], "at least two"),
        (["power", "--baseline", "0.1", "--mde", "-0.01"], "mde"),
        (["power", "--baseline", "0.1", "--mde", "0.02", "--alpha", "1.5"], "alpha"),
        (["power", "--baseline", "0.1", "--mde", "0.02", "--n", "1"], "n_per_arm"),
        (["power", "--simulate", "retail_tiers", "--arm", "c=", "--arm", "w=winback", "--sizes", "5"], "20 customers"),
    ],
)
def test_bad_input_exits_2_with_one_error(args, message):
    """Unknown policy in an arm, shares not adding to 1, MDE <= 0, alpha outside (0,1), n too small."""
    res = _run(*args)
    assert res.exit_code == 2, res.output
    assert "error:" in res.output and message.lower() in res.output.lower()
    assert "Traceback" not in res.output
