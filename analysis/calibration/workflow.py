"""Calibration end to end: a transaction log in, fitted models, a holdout check and a scenario out.

Core objects: :func:`calibrate` (load, summarise, fit BG/NBD and Gamma-Gamma, validate on the
holdout against the model and a simulation of the calibrated customers, write the scenario) and
:class:`Calibration` (the fits, the check, the scenarios' TOML, and :meth:`Calibration.to_dict`,
what ``lifecycle calibrate --json`` prints; :meth:`Calibration.write_scenario` and
:meth:`Calibration.write_report` write the outputs, never over a user's files without ``force``).

Two scenarios come out. The *cohort* scenario holds only the calibrated customers (two stages,
no channels, no policies): the holdout check simulates it beside the model. The *scenario* is a
template (a preset or a scenario file; by default the default preset) whose customers are
replaced by the calibrated ones (:mod:`analysis.calibration.template`): it keeps the template's
stages, rules, channels, policies and designs, so experiments, power and budget studies run on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.calibration.bgnbd import BetaGeoModel
from analysis.calibration.comparison import ModelRow, compare_models, comparison_sentence
from analysis.calibration.gamma_gamma import GammaGammaModel
from analysis.calibration.holdout import HOLDOUT_DEFINITIONS, HoldoutResult, holdout_validation
from analysis.calibration.scenario import DAYS_PER_UNIT, calibrated_scenario_toml, fitted_customers, simulate_cohort
from analysis.calibration.summary import RFMSummary, rfm_summary
from analysis.calibration.template import base_stage_of, templated_scenario_data, to_toml
from analysis.calibration.transactions import TransactionLog, load_transactions
from scenarios.loader import DEFAULT_PRESET
from sim.scenario import Scenario, load_scenario, parse_scenario

__all__ = ["Calibration", "calibrate"]


@dataclass
class Calibration:
    """What :func:`calibrate` found: the log, its summary, the fits, the holdout check, the scenarios.

    ``scenario`` / ``scenario_text``: the template with the calibrated customers;
    ``cohort_scenario`` / ``cohort_scenario_text``: the calibrated customers alone, as simulated
    for the holdout check.
    """

    log: TransactionLog
    summary: RFMSummary
    purchases: BetaGeoModel
    spend: GammaGammaModel
    check: HoldoutResult
    scenario: Scenario
    scenario_text: str
    cohort_scenario: Scenario
    cohort_scenario_text: str
    payload: dict
    seed: int
    models: list[ModelRow] | None = None

    def to_dict(self) -> dict:
        """Fits with standard errors, data counts and holdout figures as plain JSON-ready data."""
        return dict(self.payload)

    def write_scenario(self, path: str | Path, *, force: bool = False, cohort: bool = False) -> None:
        """Write the calibrated scenario (TOML; with ``cohort`` the customers-only cohort scenario);
        an existing file is replaced only with ``force``."""
        from sim.output import write_text_atomic

        write_text_atomic(Path(path), self.cohort_scenario_text if cohort else self.scenario_text, exclusive=not force)

    def scores(self, *, horizon: float | None = None, annual_discount_rate: float | None = None):
        """Per-customer scores (:func:`~analysis.calibration.scores.customer_scores`): P(alive), expected
        purchases over ``horizon`` time units (default one year), expected spend per order and
        discounted value (at ``annual_discount_rate``, default the written scenario's), by the models used."""
        from analysis.calibration.scores import customer_scores

        unit = self.summary.unit_days
        horizon = (364 if unit == 7 else 365) / unit if horizon is None else horizon
        rate = self.scenario.config.run.annual_discount_rate if annual_discount_rate is None else annual_discount_rate
        return customer_scores(self.summary, self.purchases, self.spend, horizon=horizon, annual_discount_rate=rate,
                               gross_margin=self.scenario.config.customers.gross_margin)

    def write_scores(self, path: str | Path, *, horizon: float | None = None, annual_discount_rate: float | None = None,
                     force: bool = False) -> None:
        """Write :meth:`scores` as Parquet (``.parquet``, ``.pq``) or CSV (anything else), never over a file
        without ``force``."""
        from sim.output import write_csv_atomic, write_parquet_atomic

        table = self.scores(horizon=horizon, annual_discount_rate=annual_discount_rate).reset_index()
        path = Path(path)
        write = write_parquet_atomic if path.suffix.lower() in (".parquet", ".pq") else write_csv_atomic
        write(path, table, exclusive=not force)

    def write_report(self, folder: str | Path, *, force: bool = False) -> list[str]:
        """Write the tracking, frequency and spend plots and tables into ``folder`` (all or nothing)."""
        from analysis.calibration.report import write_calibration_report
        from sim.output import atomic_output_dir

        with atomic_output_dir(folder, overwrite=force) as tmp:
            return write_calibration_report(tmp, self.summary, self.purchases, self.spend, self.check, seed=self.seed,
                                            models=self.models)


def calibrate(transactions, *, customer_col: str | None = None, date_col: str | None = None,
              amount_col: str | None = None, date_format: str | None = None, calibration_end: str | None = None,
              holdout_end: str | None = None, time_unit: str = "week", keep_same_day: bool = False,
              name: str = "calibrated", gross_margin: float | None = None, replications: int = 5, seed: int = 0,
              template: str | Path | Scenario | None = None, compare: bool = True) -> Calibration:
    """Fit the buy-till-you-die models to a transaction log and check them on a holdout period.

    ``transactions`` is a file (CSV, whitespace-separated text or Parquet: one row per purchase,
    customer, date, amount). The calibration period ends on ``calibration_end`` (default: the
    middle of the log), the holdout on ``holdout_end`` (default: its last day). The returned
    :class:`Calibration` holds the fits, the holdout check (actual vs model vs ``replications``
    simulations of the calibrated customers) and a scenario whose customers behave as fitted:
    ``template`` (a preset name, a scenario file or a :class:`~sim.scenario.Scenario`; default
    the default preset) with its customers replaced by the calibrated ones
    (:func:`~analysis.calibration.template.templated_scenario_data` says what changes).
    ``gross_margin`` defaults to the template's. With ``compare`` Pareto/NBD is fitted too and
    both models are compared on likelihood and holdout errors
    (:func:`~analysis.calibration.comparison.compare_models`).
    """
    if isinstance(template, Scenario):
        base = template
    else:
        base = load_scenario(DEFAULT_PRESET if template is None else template)
    if gross_margin is None:
        gross_margin = float(base.config.customers.gross_margin)
    log = load_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                            date_format=date_format, merge_same_day=not keep_same_day)
    dates = pd.to_datetime(log.data["date"])
    first_day, last_day = dates.min().normalize(), dates.max().normalize()
    if calibration_end is None:
        calibration_end = (first_day + (last_day - first_day) / 2).normalize().strftime("%Y-%m-%d")
    if holdout_end is None:
        holdout_end = last_day.strftime("%Y-%m-%d")
    summary = rfm_summary(log, calibration_end=calibration_end, holdout_end=holdout_end, time_unit=time_unit)
    purchases = BetaGeoModel().fit(summary)
    spend = GammaGammaModel().fit(summary)
    check = holdout_validation(log, summary, purchases)
    models = compare_models(log, summary, bgnbd=purchases, bgnbd_check=check) if compare else None
    unit = DAYS_PER_UNIT[time_unit]
    periods = int(check.period_end.size)
    first = pd.to_datetime(summary.table["first_purchase"]).dt.normalize()
    offsets = (first - first.min()).dt.days.to_numpy()
    arrivals = np.bincount(offsets).tolist()
    text = calibrated_scenario_toml(
        name=name, source=Path(transactions).name, bgnbd=purchases.params_, gamma_gamma=spend.params_,
        arrivals=arrivals, days=periods * unit, time_unit=time_unit, gross_margin=gross_margin, seed=seed,
        calibration_end=str(calibration_end), holdout_end=str(holdout_end),
    )
    cohort_scenario = parse_scenario(text, source=f"calibrated cohort scenario '{name}'")
    customers = fitted_customers(bgnbd=purchases.params_, gamma_gamma=spend.params_, time_unit=time_unit)
    data = templated_scenario_data(
        base.data, name=name, customers=customers, arrivals=arrivals, gross_margin=gross_margin,
        description=(f"{base.config.name} with its customers calibrated by BG/NBD + Gamma-Gamma from "
                     f"{Path(transactions).name}; {sum(arrivals):,} customers joining as in the log."))
    header = (f"Scenario {base.config.name!r} ({base.source}) with its customers calibrated from "
              f"{Path(transactions).name}\nby `lifecycle calibrate` (calibration to {calibration_end}): BG/NBD r = "
              f"{purchases.params_['r']:.6g}, alpha = {purchases.params_['alpha']:.6g}, a = {purchases.params_['a']:.6g}, "
              f"b = {purchases.params_['b']:.6g} per {time_unit};\nGamma-Gamma p = {spend.params_['p']:.6g}, "
              f"q = {spend.params_['q']:.6g}, gamma = {spend.params_['gamma']:.6g}. The base is the real cohort, joining "
              "on its first-purchase days\nwith that purchase made; stages, rules, channels, policies and designs are "
              "the template's;\nstage multipliers are 1, as the fitted model already says how the customers buy.")
    scenario_text = to_toml(data, header=header)
    scenario = parse_scenario(scenario_text, source=f"calibrated scenario '{name}' (template {base.config.name!r})")
    simulated = simulate_cohort(cohort_scenario, periods=periods, days_per_period=unit, replications=replications,
                                seed=seed)
    check = holdout_validation(log, summary, purchases, simulated_cumulative=simulated)
    cal = check.n_calibration_periods
    sim_holdout = simulated[:, -1] - simulated[:, cal - 1]
    payload = {
        "source": str(transactions),
        "customers": int(summary.n_customers),
        "transactions": int(log.n_rows_used),
        "rows": {"read": int(log.n_rows_read), "used": int(log.n_rows_used),
                 "excluded": [{"reason": r, "rows": int(n)} for r, n in log.exclusions]},
        "customers_excluded": [{"reason": r, "customers": int(n)} for r, n in summary.exclusions],
        "calibration_end": str(calibration_end), "holdout_end": str(holdout_end), "time_unit": time_unit,
        "keep_same_day": bool(keep_same_day),
        "scenario": {"template": base.config.name, "template_source": base.source, "name": name,
                     "base_stage": base_stage_of(data), "days": int(scenario.config.run.days),
                     "policies": [p.name for p in scenario.policies],
                     "channels": [c.name for c in scenario.config.channels]},
        "bgnbd": {**purchases.params_, "log_likelihood": purchases.log_likelihood_,
                  "se": purchases.se_},
        "gamma_gamma": {**spend.params_, "log_likelihood": spend.log_likelihood_, "se": spend.se_},
        "holdout": {
            "periods": periods, "calibration_periods": cal,
            "actual_repeat_transactions": check.actual_total,
            "conditional_expected_repeat_transactions": check.conditional_expected_total,
            "tracking_forecast_repeat_transactions": check.tracking_forecast_total,
            "simulated_repeat_transactions": float(sim_holdout.mean()),
            "simulated_repeat_transactions_se": float(sim_holdout.std(ddof=1) / np.sqrt(replications)) if replications > 1 else None,
            "simulated_replications": replications,
            "mape_cumulative_holdout_pct": check.mape_holdout,
            "simulated_mape_cumulative_holdout_pct": check.simulated_mape_holdout,
            "cumulative_error_at_end_pct": check.cumulative_error_end,
            "per_customer_correlation": check.correlation,
            "per_customer_mae": check.mae,
            "definitions": HOLDOUT_DEFINITIONS,
        },
        "verdict": check.verdict(),
        "models": None if models is None else [row.to_dict() for row in models],
        "model_choice": None if models is None else comparison_sentence(models),
    }
    return Calibration(log=log, summary=summary, purchases=purchases, spend=spend, check=check, scenario=scenario,
                       scenario_text=scenario_text, cohort_scenario=cohort_scenario, cohort_scenario_text=text,
                       payload=payload, seed=seed, models=models)
