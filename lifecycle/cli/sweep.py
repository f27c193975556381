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
@click.option("--resume", is_flag=True, help="Finish a sweep already in --results, repeating nothing.")
@click.option("--json", "as_json", is_flag=True)
def sweep_cmd(scenario, params, sample, method, replications, customers, days, seed, workers, scheduler,
              results_dir, resume, as_json) -> None:
    """Sweep scenario parameters with replications, locally or on a Dask cluster."""
    from scenarios.loader import load_scenario
    from scenarios.errors import ConfigError
    from sim.replicate import default_workers
    from sim.sweep import ResultsStore, SweepSpec, parse_axis, plan, run_sweep, summarize_sweep

    if not params:
        raise ConfigError("give at least one --param NAME=VALUES")
    sc = load_scenario(scenario)
    spec = SweepSpec(
        scenario_text=sc.text, scenario_source=sc.source, axes=tuple(parse_axis(p) for p in params),
        method=method, sample=sample, replications=replications, seed=seed, customers=customers, days=days,
    )
    points, _ = plan(spec)
    update, close = progress(len(points), "points")
    try:
        results = run_sweep(spec, ResultsStore(results_dir), workers=workers or default_workers(),
                            scheduler=scheduler, resume=resume, progress=update)
    finally:
        close()
    summary = summarize_sweep(results)
    from pathlib import Path

    from sim.output import write_csv_atomic, write_json_atomic

    folder = Path(results_dir)
    write_csv_atomic(folder / "summary.csv", summary)
    write_json_atomic(folder / "summary.json", summary.to_dict(orient="records"))
    _sweep_plots(summary, [a.name for a in spec.axes], folder)
    if as_json:
        echo_json({"scenario": sc.name, "key": spec.key(), "points": len(points), "replications": replications,
                    "results": str(folder), "summary": summary.to_dict(orient="records")})
        return
    click.echo(f"Sweep of {sc.name}: {len(points)} points x {replications} replications -> {folder}/")
    with_ci = [c for c in summary.columns if not c.endswith(("_ci_low", "_ci_high"))]
    click.echo(summary[with_ci].to_string(index=False, float_format=lambda x: f"{x:,.4g}"))
    click.echo(f"\nper-run results: {folder}/parts/*.parquet (e.g. pandas.read_parquet('{folder}/parts'));"
               f" summary with 95% CIs: {folder}/summary.csv; plots: {folder}/*.png")


def _sweep_plots(summary, names: list[str], folder) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["ltv_mean", "ltv_cac", "net_contribution"]
    if len(names) == 1:
        x = summary[names[0]]
        if not all(isinstance(v, (int, float)) for v in x):
            return
        order = x.argsort()
        for m in metrics:
            fig, ax = plt.subplots(figsize=(6.5, 4))
            ax.plot(x.iloc[order], summary[m].iloc[order], "o-")
            ax.fill_between(x.iloc[order], summary[f"{m}_ci_low"].iloc[order], summary[f"{m}_ci_high"].iloc[order], alpha=0.25)
            ax.set_xlabel(names[0])
            ax.set_ylabel(f"{m} (mean, 95% CI)")
            fig.tight_layout()
            fig.savefig(folder / f"{m}.png", dpi=100)
            plt.close(fig)
    elif len(names) == 2:
        for m in metrics:
            table = summary.pivot_table(index=names[0], columns=names[1], values=m)
            fig, ax = plt.subplots(figsize=(6.5, 5))
            im = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(table.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.columns], rotation=45)
            ax.set_yticks(range(table.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.index])
            ax.set_xlabel(names[1])
            ax.set_ylabel(names[0])
            fig.colorbar(im, ax=ax, label=m)
            fig.tight_layout()
            fig.savefig(folder / f"{m}_heatmap.png", dpi=100)
            plt.close(fig)
