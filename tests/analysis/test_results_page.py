"""Tests for analysis/results_page.py: the experiment's results page, checked in real headless Chromium.

The page is rendered from a real three-arm experiment of the default preset and opened in the
system's Chromium (playwright drives it by executable_path; never a downloaded browser): the
decision, the health box, the guardrail table, one coloured bar per metric and the next step are
there, and a screenshot is taken. Unit tests pin the direction rule (churn: lower is better) and
the units (rates in points, money in percent of control).
"""

from __future__ import annotations

import os

import pytest

from analysis.experiment_runs import run_experiment, write_experiment
from analysis.results_page import _verdict, metric_cell, next_step
from sim.scenario import load_scenario

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _row(metric, est, lo, hi, *, higher=True, p=0.001, control=0.5, method="Welch t", rel=None):
    rel = rel if rel is not None else (est / control, lo / control, hi / control)
    return {"arm": "t", "metric": metric, "estimate": est, "ci_low": lo, "ci_high": hi, "p_value": p,
            "higher_is_better": higher, "control": control, "method": method, "relative": rel[0],
            "rel_ci_low": rel[1], "rel_ci_high": rel[2], "std_error": (hi - lo) / 3.92, "n_control": 1000,
            "n_treatment": 1000}


def test_direction_follows_the_metric():
    """More churn is worse, more LTV better; an interval across zero is not significant."""
    assert _verdict(_row("churn_rate", 0.02, 0.01, 0.03, higher=False), 0.05) == "worse"
    assert _verdict(_row("ltv", 5.0, 1.0, 9.0), 0.05) == "better"
    assert _verdict(_row("ltv", 5.0, -1.0, 9.0, p=0.2), 0.05) == "ns"


def test_rates_in_points_and_money_in_percent_of_control():
    """A retention change reads in points; an LTV change in percent of the control's LTV."""
    text, *_ = metric_cell(_row("retention_90d", 0.012, 0.002, 0.022, method="Wald CI, pooled z-test"))
    assert text.startswith("+1.20 pts [+0.20, +2.20]")
    text, *_ = metric_cell(_row("ltv", 5.0, 1.0, 9.0, control=100.0))
    assert text.startswith("+5.0% [+1.0, +9.0]")


def test_next_step_sizes_the_test_for_the_effect_it_saw():
    """An effect smaller than the MDE: the customers per arm that would detect it, scaling with 1/effect^2."""
    row = _row("ltv", 1.0, -3.0, 5.0, p=0.6, control=100.0)
    text = next_step(row, 0.05)
    mde = (1.959964 + 0.841621) * row["std_error"]
    assert f"{mde:.4g}" in text and f"{1000 * (mde / 1.0) ** 2:,.0f} customers per arm" in text


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (install it: make system-deps)")
def test_the_page_reads_in_a_real_browser(tmp_path):
    """report.html of a three-arm experiment: decision, health, guardrails, bars and next step render."""
    playwright = pytest.importorskip("playwright.sync_api")
    sc = load_scenario()
    report = run_experiment(sc, arms=[{"name": "control", "policies": []},
                                      {"name": "coupon", "policies": ["repurchase_coupon"]},
                                      {"name": "winback", "policies": ["winback"]}],
                            customers=2000, warmup_days=30, days=90, seed=3)
    write_experiment(report, tmp_path / "report")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto((tmp_path / "report" / "report.html").as_uri())
        assert page.locator("#decision li").count() >= 2
        assert "Sample ratio: p =" in page.locator("#health").inner_text()
        assert "Pre-period revenue, coupon vs control" in page.locator("#health").inner_text()
        assert page.locator("#guardrails tbody tr").count() == 4  # two guardrails for each of two arms
        bars = page.locator("table.metrics svg")
        assert bars.count() == len(report.rows)
        assert set(bars.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")) <= {"better", "worse", "ns"}
        assert "This test could detect an effect of" in page.locator("#next-step").inner_text()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert (tmp_path / "report.png").stat().st_size > 50_000
