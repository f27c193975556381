"""The commands every user starts with: ``scenarios``, ``validate`` and ``run``."""

from __future__ import annotations

import click

from lifecycle.cli.base import echo_json, main, progress


@main.command("scenarios")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scenarios_cmd(as_json: bool) -> None:
    """List the shipped preset scenarios."""
    from scenarios.loader import DEFAULT_PRESET, presets

    items = presets()
    if as_json:
        echo_json({"default": DEFAULT_PRESET, "presets": items})
        return
    width = max(len(k) for k in items)
    for name, desc in items.items():
        mark = "*" if name == DEFAULT_PRESET else " "
        click.echo(f"{mark} {name:<{width}}  {desc}")
    click.echo("(* = default)")


@main.command("validate")
@click.argument("scenario")
def validate_cmd(scenario: str) -> None:
    """Check a scenario file (or preset) and report the first problem, if any."""
    from sim.scenario import load_scenario

    sc = load_scenario(scenario)
    cfg = sc.config
    click.echo(
        f"ok: {sc.source}: scenario '{cfg.name}', {len(cfg.stages)} stages, {len(cfg.transitions)} "
        f"transitions, {len(cfg.channels)} channels, {len(sc.policies)} policies"
    )


@main.command("run")
@click.argument("scenario", required=False)
@click.option("--customers", type=click.IntRange(min=0), help="Initial customers (default: the scenario's).")
@click.option("--days", type=click.IntRange(min=1, max=36500), help="Days to simulate (default: the scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Run seed (default: the scenario's).")
@click.option("--engine", type=click.Choice(["auto", "agent", "vector"]), default="auto", show_default=True,
              help="agent: one Mesa agent per customer; vector: all customers at once; auto: agent up to 2,000.")
@click.option("--out", "out", type=click.Path(file_okay=False), help="Write tables (Parquet), summary and plots here.")
@click.option("--force", is_flag=True, help="Replace an existing, non-empty --out folder.")
@click.option("--counterfactual/--no-counterfactual", default=True, show_default=True,
              help="Also run the same customers without policies, for policy ROI.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def run_cmd(scenario, customers, days, seed, engine, out, force, counterfactual, as_json) -> None:
    """Run SCENARIO (a preset name or a TOML file; default: the default preset)."""
    from analysis.runs import run
    from sim.output import check_output_dir
    from sim.scenario import load_scenario

    sc = load_scenario(scenario)
    if out is not None:
        check_output_dir(out, overwrite=force)  # refuse a bad --out before spending time on the run
    total = (days or sc.config.run.days) * (2 if counterfactual and sc.policies else 1)
    update, close = progress(total, "simulating")
    try:
        report = run(sc, seed=seed, customers=customers, days=days, engine=engine, counterfactual=counterfactual,
                     progress=update)
    finally:
        close()
    summary = report.summary()
    if out is not None:
        summary["outputs"] = {"folder": str(out), "files": report.write(out, force=force)}
    if as_json:
        echo_json(summary)
    else:
        _print_summary(summary)


def _fmt(x, pct=False) -> str:
    if x is None:
        return "n/a"
    if pct:
        return f"{100 * x:6.1f}%"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:,.1f}"


def _print_summary(s: dict) -> None:
    m, u = s["metrics"], s["uncertainty"]
    click.echo(f"Scenario {s['scenario']} ({s['source']}), seed {s['seed']}, engine {s['engine']}")
    click.echo(f"{s['customers']:,} customers ({s['initial_customers']:,} at start), {s['days']} days\n")
    rows = [
        ("activation (first purchase within 30 days)", "activation_rate", True),
        ("repurchase within 7 days", "repurchase_rate_7d", True),
        ("repurchase within 30 days", "repurchase_rate_30d", True),
        ("repurchase within 90 days", "repurchase_rate_90d", True),
        ("true retention at 90 days", "retention_90d", True),
        ("true retention at 180 days", "retention_180d", True),
        ("observed retention at 90 days", "observed_retention_90d", True),
        ("observed retention at 180 days", "observed_retention_180d", True),
        ("churn per month (latent)", "churn_rate_monthly", True),
        ("LTV per customer (discounted)", "ltv_mean", False),
        ("CAC", "cac", False),
        ("LTV/CAC (acquired customers)", "ltv_cac", False),
    ]
    click.echo(f"{'metric':<46}{'value':>12}{'± 1.96 se':>12}")
    for label, key, pct in rows:
        se = u[key]["se"]
        half = None if se is None else 1.96 * se
        click.echo(f"{label:<46}{_fmt(m[key], pct):>12}{_fmt(half, pct):>12}")
    click.echo("")
    click.echo(f"{'money':<46}{'total':>12}")
    for label, value in (
        ("revenue (list price)", m["revenue"]),
        ("gross margin", m["gross_margin"]),
        ("policy costs", m["policy_costs"]["total"]),
        ("acquisition spend", m["acquisition_spend"]),
        ("net contribution", m["net_contribution"]),
    ):
        click.echo(f"{label:<46}{_fmt(value):>12}")
    for name, cost in m["policy_costs"].items():
        if name != "total":
            click.echo(f"  policy {name:<39}{_fmt(cost):>12}")
    if s.get("policy_roi"):
        r = s["policy_roi"]
        click.echo(f"{'policies vs none: incremental margin':<46}{_fmt(r['incremental_margin']):>12}")
        click.echo(f"{'policies vs none: ROI':<46}{_fmt(r['roi']):>12}")
    click.echo("")
    click.echo("stage counts at the end: " + ", ".join(f"{k} {v:,}" for k, v in m["stage_counts_final"].items()))
    if "outputs" in s:
        click.echo(f"\noutputs written to {s['outputs']['folder']}/: {', '.join(s['outputs']['files'])}")
