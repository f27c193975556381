"""``budget``: split a daily budget across channels and retention levers."""

from __future__ import annotations

import sys

import click

from lifecycle.cli.base import echo_json, main


def _floats(text: str | None, option: str) -> list[float]:
    if not text:
        return []
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        from scenarios.errors import ConfigError

        raise ConfigError(f"{option}: expected numbers separated by commas, e.g. 2000,4000,6000; got '{text}'") from None


@main.command("budget")
@click.argument("scenario", required=False)
@click.option("--budget", "budget", type=float,
              help="Daily budget over the levers (default: [budget].total, else the levers' current spend).")
@click.option("--objective", type=click.Choice(["profit", "ltv_cac", "customers"]),
              help="What to maximise (default: [budget].objective, else profit).")
@click.option("--horizon", type=click.IntRange(min=1, max=36500), help="Days simulated (default: the scenario's).")
@click.option("--customers", type=click.IntRange(min=0), help="Initial customers (default: the scenario's).")
@click.option("--min-ltv-cac", type=float, help="Only recommend allocations with mean LTV/CAC at least this.")
@click.option("--replications", type=click.IntRange(min=2, max=10_000), default=8, show_default=True,
              help="Seeds per allocation (the same seeds for every allocation; as many again for the report).")
@click.option("--seed", type=click.IntRange(min=0), help="Root seed (default: the scenario's).")
@click.option("--frontier", help="Also optimise these daily budgets, e.g. 2000,4000,6000 (the efficient frontier).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: cores).")
@click.option("--method", type=click.Choice(["surrogate", "cobyla"]), default="surrogate", show_default=True,
              help="surrogate: SLSQP on response curves x simulated values, verified by simulation; cobyla: "
                   "derivative-free search on the simulated objective.")
@click.option("--max-evaluations", type=click.IntRange(min=3),
              help="Allocations and probes the search may simulate per budget (each on every seed).")
@click.option("--smoothing/--no-smoothing", default=True, show_default=True,
              help="Post-stratify paid arrivals to their expected count (less noise; see docs/budget.md).")
@click.option("--out", type=click.Path(file_okay=False), help="Write budget.json, tables and plots here.")
@click.option("--force", is_flag=True, help="Replace an existing, non-empty --out folder.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def budget_cmd(scenario, budget, objective, horizon, customers, min_ltv_cac, replications, seed, frontier, workers,
               method, max_evaluations, smoothing, out, force, as_json) -> None:
    """Split a daily budget over SCENARIO's channels and retention levers, by simulation."""
    from sim.scenario import load_scenario
    from analysis.budget import allocate_budget, result_dict, result_text, write_outputs
    from sim.output import atomic_output_dir, check_output_dir
    from sim.parallel import default_workers

    sc = load_scenario(scenario)
    levels = _floats(frontier, "--frontier")
    if out is not None:
        check_output_dir(out, overwrite=force)  # refuse a bad --out before spending time on simulations
    say = None if as_json or not sys.stderr.isatty() else (lambda msg: click.echo(msg, err=True))
    result = allocate_budget(
        sc, budget=budget, objective=objective, horizon=horizon, customers=customers, min_ltv_cac=min_ltv_cac,
        replications=replications, seed=seed, frontier=levels, workers=workers or default_workers(),
        max_evaluations=max_evaluations, smoothing=smoothing, method=method, progress=say,
    )  # fmt: skip
    payload = result_dict(result)
    if out is not None:
        with atomic_output_dir(out, overwrite=force) as tmp:
            files = write_outputs(result, tmp)
        payload["outputs"] = {"folder": str(out), "files": files}
    if as_json:
        echo_json(payload)
        return
    click.echo(result_text(result))
    if out is not None:
        click.echo(f"\noutputs written to {out}/: {', '.join(payload['outputs']['files'])}")
