"""``calibrate``: fit BG/NBD and Gamma-Gamma to a transaction log and write a scenario."""

from __future__ import annotations

import click
import numpy as np

from lifecycle.cli.base import echo_json, main


@main.command("calibrate")
@click.argument("transactions", type=click.Path(dir_okay=False))
@click.option("--customer-col", help="Customer id column (default: guessed).")
@click.option("--date-col", help="Date column (default: guessed).")
@click.option("--amount-col", help="Amount column (default: guessed).")
@click.option("--date-format", help="strftime format of the dates, e.g. %Y%m%d (default: inferred).")
@click.option("--calibration-end", help="Last day of the calibration period (default: the middle of the log).")
@click.option("--holdout-end", help="Last day of the holdout period (default: the last day of the log).")
@click.option("--time-unit", type=click.Choice(["week", "day"]), default="week", show_default=True)
@click.option("--keep-same-day", is_flag=True, help="Count several purchases of a customer on one day separately.")
@click.option("--name", default="calibrated", show_default=True, help="Name of the written scenario.")
@click.option("--gross-margin", type=click.FloatRange(0, 1), default=0.3, show_default=True)
@click.option("--replications", type=click.IntRange(min=1), default=5, show_default=True,
              help="Simulations of the calibrated cohort for the holdout comparison.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write the calibrated scenario (TOML) here.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), help="Write plots and tables here.")
@click.option("--force", is_flag=True, help="Replace an existing --out file or non-empty --report folder.")
@click.option("--json", "as_json", is_flag=True)
def calibrate_cmd(transactions, customer_col, date_col, amount_col, date_format, calibration_end, holdout_end,
                  time_unit, keep_same_day, name, gross_margin, replications, seed, out_file, report_dir, force,
                  as_json) -> None:
    """Fit BG/NBD + Gamma-Gamma to TRANSACTIONS, check them on the holdout, write a scenario."""
    from pathlib import Path

    import pandas as pd

    from analysis.calibration import (
        BetaGeoModel, GammaGammaModel, holdout_validation, load_transactions, rfm_summary,
    )  # fmt: skip
    from analysis.calibration.scenario import DAYS_PER_UNIT, calibrated_scenario_toml, simulate_cohort
    from scenarios.loader import parse_scenario
    from scenarios.errors import ConfigError
    from sim.output import atomic_output_dir, check_output_dir

    if out_file is not None and Path(out_file).exists() and not force:
        raise ConfigError(f"--out '{out_file}': the file exists; choose another name or pass --force to replace it")
    if report_dir is not None:
        check_output_dir(report_dir, overwrite=force)
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
    scenario = parse_scenario(text, source=f"calibrated scenario '{name}'")
    simulated = simulate_cohort(scenario, periods=periods, days_per_period=unit, replications=replications, seed=seed)
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
        "bgnbd": {**purchases.params_, "log_likelihood": purchases.log_likelihood_,
                  "se": purchases.se_},
        "gamma_gamma": {**spend.params_, "log_likelihood": spend.log_likelihood_, "se": spend.se_},
        "holdout": {
            "periods": periods, "calibration_periods": cal,
            "actual_repeat_transactions": float(check.actual_cumulative[-1] - check.actual_cumulative[cal - 1]),
            "expected_repeat_transactions": float(check.expected_cumulative[-1] - check.expected_cumulative[cal - 1]),
            "simulated_repeat_transactions": float(sim_holdout.mean()),
            "simulated_repeat_transactions_se": float(sim_holdout.std(ddof=1) / np.sqrt(replications)) if replications > 1 else None,
            "simulated_replications": replications,
            "mape_cumulative_holdout_pct": check.mape_holdout,
            "simulated_mape_cumulative_holdout_pct": check.simulated_mape_holdout,
            "cumulative_error_at_end_pct": check.cumulative_error_end,
            "per_customer_correlation": check.correlation,
            "per_customer_mae": check.mae,
        },
    }
    if out_file is not None:
        from sim.output import write_text_atomic

        write_text_atomic(Path(out_file), text)
        payload["scenario_file"] = str(out_file)
    if report_dir is not None:
        from analysis.calibration.report import write_calibration_report

        with atomic_output_dir(report_dir, overwrite=force) as tmp:
            payload["report_files"] = write_calibration_report(tmp, summary, purchases, spend, check, seed=seed)
        payload["report"] = str(report_dir)
    if as_json:
        echo_json(payload)
        return
    b, g, h = payload["bgnbd"], payload["gamma_gamma"], payload["holdout"]
    click.echo(f"{payload['customers']:,} customers, {payload['transactions']:,} transactions "
               f"({log.n_rows_read:,} rows read; " + "; ".join(f"{e['rows']:,} {e['reason']}" for e in payload['rows']['excluded']) + ")")
    click.echo(f"calibration to {calibration_end}, holdout to {holdout_end}, in {time_unit}s")
    click.echo("\nBG/NBD " + ", ".join(f"{k} = {b[k]:.4g} (se {b['se'][k]:.2g})" for k in ("r", "alpha", "a", "b"))
               + f"; log-likelihood {b['log_likelihood']:.2f}")
    click.echo("Gamma-Gamma " + ", ".join(f"{k} = {g[k]:.4g} (se {g['se'][k]:.2g})" for k in ("p", "q", "gamma")))
    click.echo(f"\nholdout repeat transactions: actual {h['actual_repeat_transactions']:,.0f}, model "
               f"{h['expected_repeat_transactions']:,.0f}, simulation {h['simulated_repeat_transactions']:,.0f}"
               + (f" (± {1.96 * h['simulated_repeat_transactions_se']:,.0f})" if h['simulated_repeat_transactions_se'] else ""))
    click.echo(f"cumulative curve MAPE over the holdout: model {h['mape_cumulative_holdout_pct']:.2f}%, "
               f"simulation {h['simulated_mape_cumulative_holdout_pct']:.2f}%; per-customer correlation "
               f"{h['per_customer_correlation']:.3f}")
    if out_file:
        click.echo(f"\nscenario written to {out_file}: lifecycle run {out_file}")
    if report_dir:
        click.echo(f"report written to {report_dir}/")
