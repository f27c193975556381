"""Which purchase model fits the log best: BG/NBD against Pareto/NBD, in-sample and on the holdout.

Core function: :func:`compare_models`, which fits each model to the calibration summary and
returns one row per model (:class:`ModelRow`): calibration log-likelihood and AIC, and the holdout
figures of :func:`~analysis.calibration.holdout.holdout_validation` (the conditional forecast
against the actual, its error, the tracking curve's MAPE, per-customer MAE and correlation).
:func:`comparison_sentence` says in words which one is better on what, and which one the written
scenario's customers follow (BG/NBD: the simulator draws BG/NBD customers exactly; a Pareto/NBD
customer's exponential lifetime with a gamma-distributed rate has no scenario form yet).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from analysis.calibration.bgnbd import BetaGeoModel
from analysis.calibration.holdout import HoldoutResult, holdout_validation
from analysis.calibration.pareto_nbd import ParetoNBDModel
from scenarios.errors import LabError

__all__ = ["ModelRow", "compare_models", "comparison_sentence", "SCENARIO_MODEL"]

#: the purchase model whose customers the written scenario simulates
SCENARIO_MODEL = "BG/NBD"


@dataclass(frozen=True)
class ModelRow:
    """One model's fit and holdout figures (``error`` set, figures ``None``, if it could not be fitted)."""

    model: str
    parameters: dict | None
    log_likelihood: float | None
    aic: float | None
    conditional_expected_repeat_transactions: float | None
    actual_repeat_transactions: float | None
    holdout_error_pct: float | None
    tracking_mape_holdout_pct: float | None
    per_customer_mae: float | None
    per_customer_correlation: float | None
    used_by_scenario: bool
    error: str | None = None

    def to_dict(self) -> dict:
        """Plain JSON-ready data."""
        return asdict(self)


def _row(name: str, model, check: HoldoutResult) -> ModelRow:
    actual = check.actual_total
    cond = check.conditional_expected_total
    return ModelRow(
        model=name, parameters=dict(model.params_), log_likelihood=float(model.log_likelihood_),
        aic=2 * len(model.params_) - 2 * float(model.log_likelihood_),
        conditional_expected_repeat_transactions=cond, actual_repeat_transactions=actual,
        holdout_error_pct=(cond - actual) / actual * 100.0 if actual > 0 else None,
        tracking_mape_holdout_pct=check.mape_holdout, per_customer_mae=check.mae,
        per_customer_correlation=check.correlation, used_by_scenario=name == SCENARIO_MODEL)


def compare_models(log, summary, *, bgnbd: BetaGeoModel | None = None,
                   bgnbd_check: HoldoutResult | None = None) -> list[ModelRow]:
    """BG/NBD and Pareto/NBD fitted to ``summary`` and checked on its holdout.

    An already fitted BG/NBD (and its holdout check) can be passed to save fitting it again. A
    model that cannot be fitted to these data gets a row with its ``error`` and no figures.
    """
    rows = []
    if bgnbd is None:
        bgnbd = BetaGeoModel().fit(summary)
    rows.append(_row("BG/NBD", bgnbd, bgnbd_check or holdout_validation(log, summary, bgnbd)))
    try:
        pareto = ParetoNBDModel().fit(summary)
        rows.append(_row("Pareto/NBD", pareto, holdout_validation(log, summary, pareto)))
    except LabError as exc:  # not identified, did not converge: say so, keep the rest
        rows.append(ModelRow(model="Pareto/NBD", parameters=None, log_likelihood=None, aic=None,
                             conditional_expected_repeat_transactions=None, actual_repeat_transactions=None,
                             holdout_error_pct=None, tracking_mape_holdout_pct=None, per_customer_mae=None,
                             per_customer_correlation=None, used_by_scenario=False, error=str(exc)))
    return rows


def comparison_sentence(rows: list[ModelRow]) -> str:
    """Which model has the higher likelihood, which the smaller holdout errors, which one the scenario uses."""
    fitted = [r for r in rows if r.error is None]
    used = f"The written scenario's customers follow {SCENARIO_MODEL}, the model the simulator draws exactly."
    failed = [r for r in rows if r.error is not None]
    note = "".join(f" {r.model} could not be fitted to these data ({r.error})." for r in failed)
    if len(fitted) < 2:
        return (note + " " + used).strip()
    best_ll = max(fitted, key=lambda r: r.log_likelihood)
    best_hold = min(fitted, key=lambda r: abs(r.holdout_error_pct) if r.holdout_error_pct is not None else float("inf"))
    best_mape = min(fitted, key=lambda r: r.tracking_mape_holdout_pct)
    parts = ", ".join(f"{r.model} {r.log_likelihood:,.1f}" for r in fitted)
    errors = ", ".join(f"{r.model} {r.holdout_error_pct:+.1f}%" for r in fitted)
    mapes = ", ".join(f"{r.model} {r.tracking_mape_holdout_pct:.2f}%" for r in fitted)
    same_size = len({len(r.parameters) for r in fitted}) == 1
    aic = "the same number of parameters, so AIC ranks them alike" if same_size else "AIC " + ", ".join(
        f"{r.model} {r.aic:,.1f}" for r in fitted)
    text = (f"Model comparison: {best_ll.model} has the higher calibration log-likelihood ({parts}; {aic}); "
            f"on the holdout {best_hold.model} is closer in total ({errors}) "
            f"and {best_mape.model} tracks the cohort curve better (MAPE {mapes}).")
    if best_hold.model != SCENARIO_MODEL:
        text += (f" {best_hold.model} forecasts this holdout somewhat better; the difference is "
                 f"{abs(abs(best_hold.holdout_error_pct) - abs(next(r for r in fitted if r.model == SCENARIO_MODEL).holdout_error_pct)):.1f} "
                 "points of the total.")
    return text + note + " " + used
