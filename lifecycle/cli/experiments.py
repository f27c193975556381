"""Analysts' commands: ``experiment`` (an A/B test inside the simulation) and ``power``
(analytic or simulated)."""

from __future__ import annotations

import click

from lifecycle.cli.base import echo_json, main, progress


def _parse_arms(arms: tuple[str, ...], allocation: str | None):
    from scenarios.errors import ConfigError

    parsed = []
    for text in arms:
        if "=" not in text:
            raise ConfigError(f"--arm '{text}': expected NAME=POLICY[,POLICY...] (NAME= for an arm with no extra policy)")
        name, _, policies = text.partition("=")
        parsed.append((name.strip(), tuple(p.strip() for p in policies.split(",") if p.strip())))
    if len(parsed) < 2:
        raise ConfigError("give at least two --arm options; the first is the control")
    if allocation is None:
        shares = [1.0 / len(parsed)] * len(parsed)
    else:
        try:
            shares = [float(x) for x in allocation.split(",")]
        except ValueError:
            raise ConfigError(f"--allocation '{allocation}': expected comma-separated numbers such as 0.5,0.5") from None
        if len(shares) != len(parsed):
            raise ConfigError(f"--allocation has {len(shares)} shares for {len(parsed)} arms")
    return [{"name": n, "policies": p, "share": s} for (n, p), s in zip(parsed, shares)]


@main.command("experiment")
@click.argument("scenario", required=False)
@click.option("--arm", "arms", multiple=True, metavar="NAME=POLICY[,POLICY]",
              help="An arm and the scenario policies it adds; repeat; the first arm is the control.")
@click.option("--allocation", help="Arm shares, e.g. 0.5,0.5 (default: equal).")
@click.option("--customers", type=click.IntRange(min=2), help="Initial customers.")
@click.option("--warmup", type=click.IntRange(min=0, max=36500), help="Days before assignment (default 90).")
@click.option("--days", type=click.IntRange(min=1, max=36500), help="Days the experiment runs (default 180).")
@click.option("--stratify-by", type=click.Choice(["stage", "tier", "segment", "channel"]))
@click.option("--seed", type=click.IntRange(min=0), help="Seed (default: the scenario's).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True)
@click.option("--min-ltv-cac", type=click.FloatRange(0, 1e6, min_open=True), default=3.0, show_default=True,
              help="Absolute LTV/CAC target, reported beside the control's value (it does not decide).")
@click.option("--retention-margin", type=click.FloatRange(0, 1), default=0.005, show_default=True,
              help="Guardrail: observed 90-day retention may not drop by more than this (0.005 = half a point).")
@click.option("--ltv-cac-margin", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Guardrail: LTV/CAC may not fall by more than this share of the control's (0.05 = 5%).")
@click.option("--truth/--no-truth", default=True, show_default=True, help="Also run the twin worlds for the true effects.")
@click.option("--out", type=click.Path(file_okay=False), help="Write an HTML report, plots and tables here.")
@click.option("--force", is_flag=True, help="Replace an existing, non-empty --out folder.")
@click.option("--json", "as_json", is_flag=True)
def experiment_cmd(scenario, arms, allocation, customers, warmup, days, stratify_by, seed, alpha, min_ltv_cac,
                   retention_margin, ltv_cac_margin, truth, out, force, as_json) -> None:
    """Run an A/B(/n) test inside SCENARIO and read it as an analyst would, beside the truth."""
    from analysis.experiment_runs import experiment_design, run_experiment, write_experiment
    from sim.output import check_output_dir
    from sim.scenario import load_scenario

    sc = load_scenario(scenario)
    design = experiment_design(sc, _parse_arms(arms, allocation) if arms else None, warmup_days=warmup, days=days,
                               customers=customers, stratify_by=stratify_by)
    if out is not None:
        check_output_dir(out, overwrite=force)
    update, close = progress(1 + (len(design.arms) if truth else 0), "worlds")
    try:
        report = run_experiment(sc, design, seed=seed, truth=truth, alpha=alpha, min_ltv_cac=min_ltv_cac,
                                retention_margin=retention_margin, ltv_cac_margin=ltv_cac_margin, progress=update)
    finally:
        close()
    payload = report.to_dict()
    if out is not None:
        payload["outputs"] = {"folder": str(out), "files": write_experiment(report, out, force=force)}
    if as_json:
        echo_json(payload)
    else:
        _print_experiment(payload)


def _print_experiment(p: dict) -> None:
    seed = f" (seed {p['seed']})" if "seed" in p else ""
    click.echo(f"Experiment on {p['scenario']}{seed}: " + ", ".join(f"{k} {v:,}" for k, v in p["arms"].items()))
    srm = p["srm"]
    click.echo(f"sample ratio check: p = {srm['p_value']:.3g}" + ("  MISMATCH" if srm["mismatch"] else " (ok)"))
    click.echo(f"\n{'arm':<14}{'metric':<26}{'control':>11}{'effect':>11}{'95% CI':>24}{'p':>9}{'true effect':>13}")
    for r in p["results"]:
        ci = f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
        true = "n/a" if r["true_effect"] is None else f"{r['true_effect']:.4g}"
        click.echo(f"{r['arm']:<14}{r['metric']:<26}{r['control']:>11.4g}{r['estimate']:>11.4g}{ci:>24}"
                   f"{r['p_value']:>9.3g}{true:>13}")
    if any(r["true_effect"] is not None for r in p["results"]):
        click.echo("\n(effect = treatment - control, estimated from the experiment; true effect = the same "
                   "statistic in the twin worlds, every customer treated vs none)")
    for d in p["decisions"]:
        click.echo(f"\n{d['arm']}: {d['decision'].upper()}, because {d['reason']}")
        for reason in d["reasons"]:
            if reason != d["reason"]:
                click.echo(f"  - {reason}")
        for target in d["targets"]:
            click.echo(f"  * {target['text']}")
    click.echo("\n(Holm across arms for the primary metric; Benjamini-Hochberg across segments within each arm)")
    losing = [s for s in p["segments"] if s["loses_money"]]
    if losing:
        click.echo("\nsegments where the policy loses money (LTV effect below zero, BH-adjusted p < alpha):")
        for s in losing:
            click.echo(f"  {s['arm']}: {s['segmentation']} = {s['segment']}: {s['estimate']:.4g} "
                       f"[{s['ci_low']:.4g}, {s['ci_high']:.4g}]")
    for note in p["notes"]:
        click.echo(f"note: {note}")
    if "outputs" in p:
        click.echo(f"\nreport written to {p['outputs']['folder']}/report.html")




def _ints(text: str | None, option: str) -> list[int]:
    from scenarios.errors import ConfigError

    if not text:
        return []
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"{option} '{text}': expected comma-separated whole numbers") from None
    if any(v < 1 for v in values):
        raise ConfigError(f"{option} '{text}': every value must be >= 1")
    return values


@main.command("power")
@click.option("--baseline", type=float, help="Control rate of a proportion metric, in (0, 1).")
@click.option("--baseline-mean", type=float, help="Control mean of a continuous metric.")
@click.option("--sd", type=float, help="Standard deviation of the continuous metric.")
@click.option("--mde", type=float, help="Minimum detectable effect (absolute, or relative with --relative).")
@click.option("--relative", is_flag=True, help="--mde is a fraction of the baseline.")
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--power", "power_", type=float, help="Target power (default 0.8 when solving for n).")
@click.option("--n", "n_per_arm", type=float, help="Customers in the control arm.")
@click.option("--ratio", type=float, default=1.0, show_default=True, help="Treatment / control arm size.")
@click.option("--alternative", type=click.Choice(["two-sided", "larger", "smaller"]), default="two-sided", show_default=True)
@click.option("--method", type=click.Choice(["pooled", "unpooled", "cohen-h"]), default="pooled", show_default=True,
              help="Proportion test convention (they differ by up to ~6% in n).")
@click.option("--simulate", "scenario", help="Estimate power by replaying an experiment in this scenario instead.")
@click.option("--arm", "arms", multiple=True, metavar="NAME=POLICY[,POLICY]", help="With --simulate: the arms.")
@click.option("--allocation", help="With --simulate: arm shares.")
@click.option("--metric", default="ltv", show_default=True, help="With --simulate: the metric tested.")
@click.option("--sizes", help="With --simulate: initial customer counts, e.g. 2000,5000,10000.")
@click.option("--durations", help="With --simulate: test durations in days, e.g. 30,90,180.")
@click.option("--duration-curve", is_flag=True,
              help="With --simulate: power and MDE against test length (30 to 365 days unless --durations).")
@click.option("--looks", help="With --simulate: read the test at these days after assignment, e.g. 7,14,21,28 "
              "(naive peeking vs group-sequential boundaries and the mSPRT; metric ltv or revenue).")
@click.option("--replications", type=click.IntRange(min=10, max=100_000), default=200, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: cores).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), help="With --simulate: write the power curve plot and table.")
@click.option("--force", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
def power_cmd(baseline, baseline_mean, sd, mde, relative, alpha, power_, n_per_arm, ratio, alternative, method,
              scenario, arms, allocation, metric, sizes, durations, duration_curve, looks, replications, workers, seed,
              out, force, as_json) -> None:
    """Sample size, power or MDE of a two-arm test: analytic, or by simulation (--simulate)."""
    from scenarios.errors import ConfigError

    if looks is not None:
        if scenario is None:
            raise ConfigError("--looks needs --simulate SCENARIO")
        _sequential_cmd(scenario, arms, allocation, metric, sizes, looks, replications, workers, seed, alpha, as_json)
        return
    if duration_curve and scenario is None:
        raise ConfigError("--duration-curve needs --simulate SCENARIO")
    if duration_curve and durations is None:
        durations = "30,60,90,120,180,270,365"
    if scenario is not None:
        _simulated_power_cmd(scenario, arms, allocation, metric, sizes, durations, replications, workers, seed,
                             alpha, power_ or 0.8, out, force, as_json)
        return
    from analysis.power import power

    if baseline_mean is not None and sd is None:
        raise ConfigError("--baseline-mean needs --sd")
    result = power(baseline=baseline, baseline_mean=baseline_mean, sd=sd, mde=mde, n_per_arm=n_per_arm, power=power_,
                   alpha=alpha, ratio=ratio, alternative=alternative, relative=relative, method=method)
    d = result.to_dict()
    if as_json:
        echo_json(d)
        return
    kind = f"proportion, {d['method']} method" if baseline is not None else f"mean, {d['method']}-test"
    click.echo(f"Two-arm test ({kind}, {d['alternative']}, alpha {d['alpha']:g}, ratio {d['ratio']:g})")
    click.echo(f"  baseline {d['baseline']:.6g} -> treatment {d['treatment']:.6g}"
               f" (MDE {d['mde_absolute']:.6g} absolute" + (f", {100 * d['mde_relative']:.3g}% relative)" if d['mde_relative'] else ")"))
    click.echo(f"  n per arm {d['n_per_arm']:.2f} -> {d['n_per_arm_ceil']:,} (treatment {d['n_treatment_ceil']:,})")
    click.echo(f"  power {d['power']:.4f}   [solved for {d['solved_for']}]")


def _simulated_power_cmd(scenario, arms, allocation, metric, sizes, durations, replications, workers, seed,
                         alpha, target, out, force, as_json) -> None:
    from analysis.experiment_runs import experiment_design
    from analysis.simulated_power import simulated_power, write_power
    from scenarios.errors import ConfigError
    from sim.output import check_output_dir
    from sim.scenario import load_scenario

    sc = load_scenario(scenario)
    design = experiment_design(sc, _parse_arms(arms, allocation) if arms else None)
    size_list = _ints(sizes, "--sizes") or [design.customers or sc.config.population.initial_customers]
    days_list = _ints(durations, "--durations") or [design.days]
    if any(s < 20 for s in size_list):
        raise ConfigError("--sizes: at least 20 customers per design point are needed for the test")
    if out is not None:
        check_output_dir(out, overwrite=force)
    points = [(s, d) for d in days_list for s in size_list]
    update, close = progress(len(points) * -(-replications // 50), "batches")
    try:
        results = simulated_power(sc, design, metric=metric, points=points, replications=replications, seed=seed,
                                  alpha=alpha, workers=workers, progress=update, target_power=target)
    finally:
        close()
    rows = [r.to_dict() for r in results]
    reached = next((r for r in rows if r["note"] is None and r["power"] >= target), None)
    payload = {"scenario": sc.name, "metric": metric, "alpha": alpha, "target_power": target,
               "replications": replications, "seed": seed, "points": rows,
               "first_reaching_target": reached}
    if out is not None:
        x = "n_per_arm" if len(size_list) > 1 else "days"
        payload["outputs"] = {"folder": str(out), "files": write_power(payload, out, x=x, target=target, force=force)}
    if as_json:
        echo_json(payload)
        return
    click.echo(f"Simulated power for '{metric}' in {sc.name} ({replications} replications per point, alpha {alpha:g})")
    click.echo(f"{'customers':>10}{'days':>6}{'n/arm':>9}{'power':>8}{'95% MC CI':>18}{'mean effect':>14}"
               f"{'MDE':>12}")
    for r in rows:
        if r["note"] is not None:
            click.echo(f"{r['customers']:>10,}{r['days']:>6}  {r['note']}")
            continue
        click.echo(f"{r['customers']:>10,}{r['days']:>6}{r['mean_n_per_arm']:>9.0f}{r['power']:>8.3f}"
                   f"{'[' + format(r['ci_low'], '.3f') + ', ' + format(r['ci_high'], '.3f') + ']':>18}"
                   f"{r['mean_estimate']:>14.4g}{r['mde']:>12.4g}")
    click.echo(f"(MDE: the smallest effect on {metric} this design detects with power {target:g} at alpha {alpha:g}, "
               "from the simulated standard error)")
    if reached:
        click.echo(f"power first reaches {target:g} at {reached['customers']:,} customers, {reached['days']} days")
    else:
        click.echo(f"power does not reach {target:g} at any point tried")


def _sequential_cmd(scenario, arms, allocation, metric, sizes, looks, replications, workers, seed, alpha,
                    as_json) -> None:
    from analysis.experiment_runs import experiment_design
    from analysis.simulated_power import simulated_sequential
    from scenarios.errors import ConfigError
    from sim.scenario import load_scenario

    sc = load_scenario(scenario)
    design = experiment_design(sc, _parse_arms(arms, allocation) if arms else None)
    size_list = _ints(sizes, "--sizes")
    if len(size_list) > 1:
        raise ConfigError("--looks reads one design: give at most one --sizes value")
    customers = size_list[0] if size_list else (design.customers or sc.config.population.initial_customers)
    look_days = _ints(looks, "--looks")
    update, close = progress(-(-replications // 50), "batches")
    try:
        points = simulated_sequential(sc, design, metric=metric, looks=look_days, customers=customers,
                                      replications=replications, seed=seed, alpha=alpha, workers=workers,
                                      progress=update)
    finally:
        close()
    rows = [p.to_dict() for p in points]
    payload = {"scenario": sc.name, "metric": metric, "alpha": alpha, "looks": look_days, "customers": customers,
               "replications": replications, "seed": seed, "arms": [a.name for a in design.arms], "methods": rows}
    if as_json:
        echo_json(payload)
        return
    click.echo(f"Sequential reading of '{metric}' in {sc.name}: {design.arms[0].name} vs {design.arms[1].name}, "
               f"{customers:,} customers, looks at days {', '.join(map(str, look_days))}, {replications} replications")
    click.echo(f"{'method':<28}{'rejects':>9}{'95% MC CI':>18}{'mean stop day':>15}")
    for r in rows:
        ci = f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
        click.echo(f"{r['method']:<28}{r['rate']:>9.3f}{ci:>18}{r['mean_stopping_day']:>15.1f}")
    click.echo(f"(rejects = share of replications rejecting at some look: the false-positive rate if the arms are "
               f"the same, the power otherwise; alpha {alpha:g})")
