"""``sweep``: a grid or sample of scenario settings, replicated, locally or on a Dask cluster."""

from __future__ import annotations

import click

from lifecycle.cli.base import echo_json, main, progress


@main.command("sweep")
@click.argument("scenario", required=False)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUES",
              help="A scenario field (dotted path) and its values: V1,V2,... or LOW:HIGH[:STEP]; repeat.")
@click.option("--sample", type=click.IntRange(min=1), help="Points to sample (random or latin).")
@click.option("--method", type=click.Choice(["grid", "random", "latin"]), default="grid", show_default=True)
@click.option("--replications", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--customers", type=click.IntRange(min=1), help="Initial customers of every run.")
@click.option("--days", type=click.IntRange(min=1), help="Days of every run.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), help="Local worker processes (default: cores).")
@click.option("--scheduler", help="Run on an existing Dask cluster, e.g. tcp://127.0.0.1:8786.")
@click.option("--results", "results_dir", type=click.Path(file_okay=False), required=True,
              help="Results folder (created; a killed sweep is finished with --resume).")
@click.option("--resume", is_flag=True,
              help="Finish a sweep already in --results, repeating nothing; every stored part is verified first "
                   "and a bad one is moved to quarantine/ and recomputed.")
@click.option("--json", "as_json", is_flag=True)
def sweep_cmd(scenario, params, sample, method, replications, customers, days, seed, workers, scheduler,
              results_dir, resume, as_json) -> None:
    """Sweep scenario parameters with replications, locally or on a Dask cluster."""
    from analysis.sweeps import sweep
    from scenarios.errors import ConfigError
    from sim.sweep import parse_axis

    if not params:
        raise ConfigError("give at least one --param NAME=VALUES")
    axes = []
    for text in params:
        try:
            axes.append(parse_axis(text))
        except ConfigError as exc:
            raise ConfigError(f"--param: {exc}") from None
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise ConfigError(f"--param names a parameter twice: {sorted({n for n in names if names.count(n) > 1})}")
    bar = {}
    notices = []

    def started(total):
        bar["update"], bar["close"] = progress(total, "points")

    try:
        out = sweep(scenario, axes, results=results_dir, method=method, sample=sample, replications=replications,
                    seed=seed, customers=customers, days=days, workers=workers, scheduler=scheduler, resume=resume,
                    on_plan=started, progress=lambda k: bar["update"] and bar["update"](k), on_notice=notices.append)
    except ConfigError as exc:
        if scheduler is not None and str(exc).startswith(("scheduler ", "scheduler:")):
            raise ConfigError(f"--{exc}") from None  # the library says "scheduler ...": name the flag
        raise
    finally:
        if "close" in bar:
            bar["close"]()
        for notice in notices:  # after the bar, and even when the run failed later: files were moved
            kind = "warning" if notice.action == "quarantined" else "notice"
            click.echo(f"{kind}: results folder {results_dir}: {notice}", err=True)
    folder, summary = out.folder, out.summary
    if as_json:
        echo_json({"scenario": out.spec.scenario.name, "key": out.spec.key(), "points": out.points,
                   "replications": replications, "results": str(folder), "summary": summary.to_dict(orient="records"),
                   "store_notices": [{"path": n.path, "problem": n.problem, "action": n.action,
                                      "moved_to": n.moved_to, "point": n.point} for n in out.notices]})
        return
    click.echo(f"Sweep of {out.spec.scenario.name}: {out.points} points x {replications} replications -> {folder}/")
    with_ci = [c for c in summary.columns if not c.endswith(("_ci_low", "_ci_high"))]
    click.echo(summary[with_ci].to_string(index=False, float_format=lambda x: f"{x:,.4g}"))
    click.echo(f"\nper-run results: {folder}/parts/*.parquet (e.g. pandas.read_parquet('{folder}/parts'));"
               f" summary with 95% CIs: {folder}/summary.csv; plots: {folder}/*.png")
