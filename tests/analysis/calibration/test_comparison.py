"""Tests for analysis/calibration/comparison.py: BG/NBD against Pareto/NBD on the CDNOW log."""

from __future__ import annotations

import pytest

from analysis.calibration import ParetoNBDModel, holdout_validation
from analysis.calibration.comparison import SCENARIO_MODEL, ModelRow, compare_models, comparison_sentence


@pytest.mark.slow
def test_cdnow_comparison_rows_are_each_models_own_figures(cdnow_log, cdnow_summary, cdnow_bgnbd):
    """Each row holds its model's own likelihood and holdout check; the sentence follows the numbers."""
    rows = compare_models(cdnow_log, cdnow_summary, bgnbd=cdnow_bgnbd)
    bg, pareto = rows
    assert (bg.model, pareto.model) == ("BG/NBD", "Pareto/NBD") and bg.error is None and pareto.error is None
    assert bg.log_likelihood == pytest.approx(-95368.444, abs=1e-2)
    assert bg.conditional_expected_repeat_transactions == pytest.approx(16873.73, abs=0.05)
    model = ParetoNBDModel().fit(cdnow_summary)
    check = holdout_validation(cdnow_log, cdnow_summary, model)
    assert pareto.log_likelihood == pytest.approx(model.log_likelihood_, rel=1e-12)
    assert pareto.conditional_expected_repeat_transactions == pytest.approx(check.conditional_expected_total, rel=1e-12)
    assert pareto.holdout_error_pct == pytest.approx((check.conditional_expected_total / 19684.0 - 1) * 100)
    assert pareto.aic == pytest.approx(8 - 2 * model.log_likelihood_)
    assert [r.used_by_scenario for r in rows] == [True, False] and SCENARIO_MODEL == "BG/NBD"
    # on CDNOW BG/NBD has the higher likelihood, Pareto/NBD the smaller holdout errors
    assert bg.log_likelihood > pareto.log_likelihood
    assert abs(pareto.holdout_error_pct) < abs(bg.holdout_error_pct)
    text = comparison_sentence(rows)
    assert "BG/NBD has the higher calibration log-likelihood" in text
    assert "on the holdout Pareto/NBD is closer in total" in text
    assert "follow BG/NBD" in text


def _row(model, ll, err, mape, used=False, error=None):
    return ModelRow(model=model, parameters={"k1": 1, "k2": 2}, log_likelihood=ll, aic=4 - 2 * ll,
                    conditional_expected_repeat_transactions=100 + err, actual_repeat_transactions=100.0,
                    holdout_error_pct=err, tracking_mape_holdout_pct=mape, per_customer_mae=0.5,
                    per_customer_correlation=0.5, used_by_scenario=used, error=error)


def test_sentence_names_the_better_model_on_each_count_and_a_failed_fit():
    """The sentence picks the best model per criterion, and says when a model could not be fitted."""
    rows = [_row("BG/NBD", -10.0, -2.0, 5.0, used=True), _row("Pareto/NBD", -12.0, -8.0, 1.0)]
    text = comparison_sentence(rows)
    assert "BG/NBD has the higher" in text and "on the holdout BG/NBD is closer in total" in text
    assert "Pareto/NBD tracks the cohort curve better" in text and "somewhat better" not in text
    failed = [rows[0], ModelRow(model="Pareto/NBD", parameters=None, log_likelihood=None, aic=None,
                                conditional_expected_repeat_transactions=None, actual_repeat_transactions=None,
                                holdout_error_pct=None, tracking_mape_holdout_pct=None, per_customer_mae=None,
                                per_customer_correlation=None, used_by_scenario=False, error="not identified")]
    text = comparison_sentence(failed)
    assert "Pareto/NBD could not be fitted to these data (not identified)" in text and "follow BG/NBD" in text
