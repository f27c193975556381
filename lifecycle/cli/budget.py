"""``budget``: split a daily budget across channels and retention levers."""

from __future__ import annotations

import os

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


def _pairs(values: tuple[str, ...], option: str, example: str) -> dict[str, str]:
    """``lever=value`` options into a dict (a lever named twice is an error)."""
    from scenarios.errors import ConfigError

    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ConfigError(f"{option}: expected LEVER=VALUE, e.g. {option} {example}; got '{item}'")
        if name.strip() in out:
            raise ConfigError(f"{option}: lever '{name.strip()}' is given twice")
        out[name.strip()] = value.strip()
    return out


def _money(text: str, option: str, name: str) -> float:
    from scenarios.errors import ConfigError

    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{option} {name}={text}: expected a daily spend (a number)") from None


@main.command("budget")
@click.argument("scenario", required=False)
@click.option("--budget", "budget", type=float,
              help="Daily budget over the levers (default: [budget].total, else the levers' current spend).")
@click.option("--objective", type=click.Choice(["profit", "ltv_cac", "customers", "profit_p10", "profit_cvar10"]),
              help="What to maximise: mean profit, LTV/CAC or customers; or, for risk, profit_p10 (the 10th "
                   "percentile of profit over simulated years) or profit_cvar10 (the mean of the worst 10%). "
                   "Default: [budget].objective, else profit.")
@click.option("--levers", "lever_names",
              help="Optimise only these levers, e.g. search,social,winback; the others keep their spend and "
                   "are outside the budget (which then defaults to these levers' current spend).")
@click.option("--fix", multiple=True, metavar="LEVER=SPEND", help="Hold a lever at this daily spend (repeatable).")
@click.option("--min", "mins", multiple=True, metavar="LEVER=SPEND", help="Least daily spend on a lever (repeatable).")
@click.option("--max", "maxes", multiple=True, metavar="LEVER=SPEND", help="Most daily spend on a lever (repeatable).")
@click.option("--pacing", multiple=True, metavar="CHANNEL=W1,W2,...",
              help="Spread a channel's spend over equal blocks of the horizon, e.g. search=2,1,1 (repeatable).")
@click.option("--horizon", type=click.IntRange(min=1, max=36500), help="Days simulated (default: the scenario's).")
@click.option("--customers", type=click.IntRange(min=0), help="Initial customers (default: the scenario's).")
@click.option("--min-ltv-cac", type=float,
              help="Only recommend allocations with mean LTV/CAC at least this; exit 2 if none reaches it.")
@click.option("--replications", type=click.IntRange(min=2, max=10_000),
              help="Seeds per allocation (the same seeds for every allocation; as many again for the report). "
                   "Default 8, or 40 for a risk objective.")
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
def budget_cmd(scenario, budget, objective, lever_names, fix, mins, maxes, pacing, horizon, customers, min_ltv_cac,
               replications, seed, frontier, workers, method, max_evaluations, smoothing, out, force, as_json) -> None:
    """Split a daily budget over SCENARIO's channels and retention levers, by simulation."""
    from analysis.budget import allocate_budget, result_dict, result_text, write_outputs
    from lifecycle.cli.base import PhaseBars
    from scenarios.errors import ConfigError
    from sim.output import atomic_output_dir, check_output_dir
    from sim.parallel import default_workers
    from sim.scenario import load_scenario

    sc = load_scenario(scenario)
    levels = _floats(frontier, "--frontier")
    chosen = [n.strip() for n in lever_names.split(",") if n.strip()] if lever_names else None
    fixed = {k: _money(v, "--fix", k) for k, v in _pairs(fix, "--fix", "search=500").items()}
    bounds: dict[str, list] = {}
    for k, v in _pairs(mins, "--min", "search=100").items():
        bounds.setdefault(k, [None, None])[0] = _money(v, "--min", k)
    for k, v in _pairs(maxes, "--max", "search=900").items():
        bounds.setdefault(k, [None, None])[1] = _money(v, "--max", k)
    paced = {k: _floats(v, f"--pacing {k}") for k, v in _pairs(pacing, "--pacing", "search=2,1,1").items()}
    if out is not None:
        check_output_dir(out, overwrite=force)  # refuse a bad --out before spending time on simulations
    bars = PhaseBars(enabled=not as_json)
    try:
        result = allocate_budget(
            sc, budget=budget, objective=objective, horizon=horizon, customers=customers, min_ltv_cac=min_ltv_cac,
            replications=replications, seed=seed, frontier=levels, workers=workers or default_workers(),
            max_evaluations=max_evaluations, smoothing=smoothing, method=method, levers=chosen, fix=fixed,
            bounds={k: tuple(v) for k, v in bounds.items()}, pacing=paced, progress=bars,
        )  # fmt: skip
    finally:
        bars.close()
    if result.target_met is False:
        raise ConfigError(result.target_message())
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
        click.echo(f"\noutputs written to {os.path.normpath(out)}/: {', '.join(payload['outputs']['files'])}")
