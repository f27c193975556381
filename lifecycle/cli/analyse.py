"""``analyse``: a real experiment's results file, read with the same estimators as a simulated one."""

from __future__ import annotations

import click

from lifecycle.cli.base import echo_json, main


@main.command("analyse")
@click.argument("results", type=click.Path(dir_okay=False))
@click.option("--arm-col", default="arm", show_default=True, help="Column holding each unit's arm.")
@click.option("--control", help="The control arm (default: 'control' if present, else the first in sorted order).")
@click.option("--metric", "metrics", multiple=True, required=True, metavar="COLUMN | NAME=NUM/DEN",
              help="A metric column (0/1: a proportion; else a mean, also winsorised), or a ratio of sums; repeat.")
@click.option("--pre", help="A pre-period covariate column, for CUPED-adjusted means.")
@click.option("--allocation", help="Planned arm shares for the sample-ratio check, in the arms' order (default: equal).")
@click.option("--primary", help="The metric the decision is about (default: the first).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), help="Write report.html, plots and results.json here.")
@click.option("--force", is_flag=True, help="Replace an existing, non-empty --out folder.")
@click.option("--json", "as_json", is_flag=True)
def analyse_cmd(results, arm_col, control, metrics, pre, allocation, primary, alpha, out, force, as_json) -> None:
    """Analyse RESULTS (CSV or Parquet, one row per unit) of an experiment run for real."""
    from analysis.experiment_runs import write_experiment
    from analysis.real_experiments import analyse_results
    from lifecycle.cli.experiments import _print_experiment
    from scenarios.errors import ConfigError
    from sim.output import check_output_dir

    shares = None
    if allocation is not None:
        try:
            shares = [float(x) for x in allocation.split(",")]
        except ValueError:
            raise ConfigError(f"--allocation '{allocation}': expected comma-separated numbers such as 0.5,0.5") from None
    if out is not None:
        check_output_dir(out, overwrite=force)
    report = analyse_results(results, arm_col=arm_col, metrics=list(metrics), control=control, pre=pre, shares=shares,
                             alpha=alpha, primary=primary)
    payload = report.to_dict()
    if out is not None:
        payload["outputs"] = {"folder": str(out), "files": write_experiment(report, out, force=force)}
    if as_json:
        echo_json(payload)
    else:
        _print_experiment(payload)
