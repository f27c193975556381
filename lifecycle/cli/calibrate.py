"""``calibrate``: fit BG/NBD and Gamma-Gamma to a transaction log and write a scenario built on a template."""

from __future__ import annotations

import click

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
@click.option("--template", help="Preset or scenario file whose stages, rules, channels, policies and designs the "
              "written scenario keeps (default: the default preset, retail_tiers).")
@click.option("--gross-margin", type=click.FloatRange(0, 1), help="Margin share of the list price (default: the template's).")
@click.option("--replications", type=click.IntRange(min=1, max=1_000), default=5, show_default=True,
              help="Simulations of the calibrated cohort for the holdout comparison.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--compare/--no-compare", default=True, show_default=True,
              help="Also fit Pareto/NBD and compare it with BG/NBD on likelihood and holdout errors.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False),
              help="Write the calibrated scenario (TOML: the template with the calibrated customers) here.")
@click.option("--cohort-out", "cohort_file", type=click.Path(dir_okay=False),
              help="Also write the calibrated customers alone (no channels, no policies: what the holdout check simulates).")
@click.option("--scores", "scores_file", type=click.Path(dir_okay=False),
              help="Write per-customer scores here (.parquet or .csv): P(alive), expected purchases over --horizon, "
              "expected spend per order and discounted value.")
@click.option("--horizon", type=click.FloatRange(min=0, min_open=True),
              help="Scoring horizon after the calibration end, in --time-unit units (default: one year).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), help="Write plots and tables here.")
@click.option("--force", is_flag=True, help="Replace an existing --out file or non-empty --report folder.")
@click.option("--json", "as_json", is_flag=True)
def calibrate_cmd(transactions, customer_col, date_col, amount_col, date_format, calibration_end, holdout_end,
                  time_unit, keep_same_day, name, template, gross_margin, replications, seed, compare, out_file, cohort_file,
                  scores_file, horizon, report_dir, force, as_json) -> None:
    """Fit BG/NBD + Gamma-Gamma to TRANSACTIONS, check them on the holdout, write a scenario."""
    from pathlib import Path

    from analysis.calibration.workflow import calibrate
    from scenarios.errors import ConfigError
    from sim.output import check_output_dir

    for flag, path in (("--out", out_file), ("--cohort-out", cohort_file), ("--scores", scores_file)):
        if path is not None and Path(path).exists() and not force:
            raise ConfigError(f"{flag} '{path}': the file exists; choose another name or pass --force to replace it")
    if out_file is not None and cohort_file is not None and Path(out_file).resolve() == Path(cohort_file).resolve():
        raise ConfigError(f"--out and --cohort-out name the same file '{out_file}'; give them different names")
    if report_dir is not None:
        check_output_dir(report_dir, overwrite=force)
    cal = calibrate(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                    date_format=date_format, calibration_end=calibration_end, holdout_end=holdout_end,
                    time_unit=time_unit, keep_same_day=keep_same_day, name=name, gross_margin=gross_margin,
                    replications=replications, seed=seed, template=template, compare=compare)
    payload, log = cal.to_dict(), cal.log
    calibration_end, holdout_end = payload["calibration_end"], payload["holdout_end"]
    if report_dir is not None:  # the report first: if it fails, no scenario file is left behind
        payload["report_files"] = cal.write_report(report_dir, force=force)
        payload["report"] = str(report_dir)
    if scores_file is not None:
        cal.write_scores(scores_file, horizon=horizon, force=force)
        payload["scores_file"] = str(scores_file)
    if cohort_file is not None:
        cal.write_scenario(cohort_file, force=force, cohort=True)
        payload["cohort_scenario_file"] = str(cohort_file)
    if out_file is not None:
        cal.write_scenario(out_file, force=force)
        payload["scenario_file"] = str(out_file)
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
    click.echo(f"\nholdout repeat transactions: actual {h['actual_repeat_transactions']:,.0f}; model, given each "
               f"customer's history {h['conditional_expected_repeat_transactions']:,.1f}")
    click.echo(f"cohort tracking curve over the holdout: model {h['tracking_forecast_repeat_transactions']:,.1f}, "
               f"simulation {h['simulated_repeat_transactions']:,.0f}"
               + (f" (± {1.96 * h['simulated_repeat_transactions_se']:,.0f})" if h['simulated_repeat_transactions_se'] else ""))
    click.echo(f"cumulative curve MAPE over the holdout: model {h['mape_cumulative_holdout_pct']:.2f}%, "
               f"simulation {h['simulated_mape_cumulative_holdout_pct']:.2f}%; per-customer correlation "
               f"{h['per_customer_correlation']:.3f}")
    click.echo("\n" + payload["verdict"])
    if payload["models"]:
        click.echo("\nmodel        log-likelihood   holdout total   error   tracking MAPE   per-customer MAE")
        for row in payload["models"]:
            if row["error"]:
                click.echo(f"{row['model']:<12} not fitted: {row['error']}")
                continue
            click.echo(f"{row['model']:<12} {row['log_likelihood']:>14,.1f}   "
                       f"{row['conditional_expected_repeat_transactions']:>13,.1f}   {row['holdout_error_pct']:>+5.1f}%   "
                       f"{row['tracking_mape_holdout_pct']:>12.2f}%   {row['per_customer_mae']:>16.3f}"
                       + ("   (the scenario's)" if row["used_by_scenario"] else ""))
        click.echo(payload["model_choice"])
    sc = payload["scenario"]
    if out_file:
        click.echo(f"\nscenario written to {out_file}: template {sc['template']} (its stages, rules, channels "
                   f"{', '.join(sc['channels']) or 'none'}, policies {', '.join(sc['policies']) or 'none'}), the "
                   f"calibrated customers joining in stage {sc['base_stage']}: lifecycle run {out_file}")
    if cohort_file:
        click.echo(f"calibrated customers alone written to {cohort_file}")
    if scores_file:
        click.echo(f"per-customer scores written to {scores_file}")
    if report_dir:
        click.echo(f"report written to {report_dir}/")
