"""The ``lifecycle`` command line.

Core object: :data:`main`, a click group. Each sub-command parses its options, calls library code
and prints a readable table or, with ``--json``, one JSON object. A user mistake (any
:class:`~sim.errors.LabError`) prints one ``error:`` paragraph on stderr and exits with code 2;
usage mistakes also exit 2 (click's convention); nothing is written on error.
"""

from __future__ import annotations

import json
import sys

import click
import numpy as np

from sim.errors import LabError

__all__ = ["main"]


class _LabGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LabError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_LabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lifecycle-lab")
def main() -> None:
    """Lifecycle Lab: simulate customer lifecycles, test interventions, size experiments."""


def _echo_json(obj) -> None:
    from sim.output import _jsonable

    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=_jsonable))


def _progress(total: int, label: str):
    """A tqdm progress bar on a terminal, nothing otherwise. Returns (update, close)."""
    if not sys.stderr.isatty() or total < 2:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="day", leave=False, file=sys.stderr)
    return bar.update, bar.close


@main.command("scenarios")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scenarios_cmd(as_json: bool) -> None:
    """List the shipped preset scenarios."""
    from scenarios.loader import DEFAULT_PRESET, presets

    items = presets()
    if as_json:
        _echo_json({"default": DEFAULT_PRESET, "presets": items})
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
    from scenarios.loader import load_scenario

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
    from analysis.metrics import policy_roi, summarize
    from scenarios.loader import load_scenario
    from sim.model import CustomerModel
    from sim.output import atomic_output_dir, check_output_dir, write_run

    sc = load_scenario(scenario)
    if out is not None:
        check_output_dir(out, overwrite=force)  # refuse a bad --out before spending time on the run
    model = CustomerModel(sc, seed=seed, customers=customers, days=days, engine=engine)
    update, close = _progress(model.days * (2 if counterfactual and sc.policies else 1), "simulating")
    try:
        result = model.run(progress=update)
        roi = None
        if counterfactual and sc.policies:
            twin = CustomerModel(sc, seed=seed, customers=customers, days=days, engine=model.engine, policies=[])
            roi = policy_roi(result, twin.run(progress=update))
    finally:
        close()
    summary = {
        "scenario": sc.name,
        "source": sc.source,
        "seed": model.seed,
        "entropy": model.streams.entropy,
        "engine": model.engine,
        "customers": result.n_customers,
        "initial_customers": int(model.config.population.initial_customers if customers is None else customers),
        "days": result.days,
        **summarize(result),
        "policy_roi": roi,
    }
    if out is not None:
        with atomic_output_dir(out, overwrite=force) as tmp:
            files = write_run(result, summary, tmp)
        summary["outputs"] = {"folder": str(out), "files": files}
    if as_json:
        _echo_json(summary)
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


# --- experiments ------------------------------------------------------------------------------


def _parse_arms(arms: tuple[str, ...], allocation: str | None):
    from sim.errors import ConfigError

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


def _design(sc, arms, allocation, warmup, days, customers, stratify_by):
    from pydantic import ValidationError

    from sim.errors import ConfigError
    from sim.experiment import ExperimentDesign

    table = dict(sc.config.experiment or {})
    if arms:
        table["arms"] = _parse_arms(arms, allocation)
    elif "arms" not in table:
        raise ConfigError(f"{sc.source}: no [experiment] table with arms; give --arm NAME=POLICY options")
    for key, value in (("warmup_days", warmup), ("days", days), ("customers", customers), ("stratify_by", stratify_by)):
        if value is not None:
            table[key] = value
    try:
        design = ExperimentDesign.model_validate(table)
        design.policy_arms(sc)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"experiment design: {where + ': ' if where else ''}{err['msg'].removeprefix('Value error, ')}") from None
    except ValueError as exc:
        raise ConfigError(f"experiment design: {exc}") from None
    return design


@main.command("experiment")
@click.argument("scenario", required=False)
@click.option("--arm", "arms", multiple=True, metavar="NAME=POLICY[,POLICY]",
              help="An arm and the scenario policies it adds; repeat; the first arm is the control.")
@click.option("--allocation", help="Arm shares, e.g. 0.5,0.5 (default: equal).")
@click.option("--customers", type=click.IntRange(min=2), help="Initial customers.")
@click.option("--warmup", type=click.IntRange(min=0), help="Days before assignment (default 90).")
@click.option("--days", type=click.IntRange(min=1), help="Days the experiment runs (default 180).")
@click.option("--stratify-by", type=click.Choice(["stage", "tier", "segment", "channel"]))
@click.option("--seed", type=click.IntRange(min=0), help="Seed (default: the scenario's).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True)
@click.option("--min-ltv-cac", type=float, default=3.0, show_default=True, help="Guardrail on LTV/CAC.")
@click.option("--truth/--no-truth", default=True, show_default=True, help="Also run the twin worlds for the true effects.")
@click.option("--out", type=click.Path(file_okay=False), help="Write an HTML report, plots and tables here.")
@click.option("--force", is_flag=True, help="Replace an existing, non-empty --out folder.")
@click.option("--json", "as_json", is_flag=True)
def experiment_cmd(scenario, arms, allocation, customers, warmup, days, stratify_by, seed, alpha, min_ltv_cac,
                   truth, out, force, as_json) -> None:
    """Run an A/B(/n) test inside SCENARIO and read it as an analyst would, beside the truth."""
    from analysis.experiments import Guardrails, analyse, segment_effects, survival_by_arm
    from scenarios.loader import load_scenario
    from sim.experiment import run_world
    from sim.output import atomic_output_dir, check_output_dir

    sc = load_scenario(scenario)
    design = _design(sc, arms, allocation, warmup, days, customers, stratify_by)
    if out is not None:
        check_output_dir(out, overwrite=force)
    seed = sc.config.run.seed if seed is None else seed
    worlds = 1 + (len(design.arms) if truth else 0)
    update, close = _progress(worlds, "worlds")
    try:
        outcomes = run_world(sc, design, seed=seed)
        if update:
            update(1)
        twins = None
        if truth:
            twins = {}
            for k in range(len(design.arms)):
                twins[k] = run_world(sc, design, seed=seed, fixed_arm=k)
                if update:
                    update(1)
    finally:
        close()
    report = analyse(outcomes, truth=twins, alpha=alpha, guardrails=Guardrails(min_ltv_cac=min_ltv_cac, alpha=alpha))
    report.segments = segment_effects(outcomes, alpha=alpha)
    report.survival = survival_by_arm(outcomes)
    payload = {
        "scenario": sc.name,
        "seed": seed,
        "design": design.model_dump(),
        "arms": report.arm_sizes,
        "srm": report.srm,
        "results": report.rows,
        "decisions": report.decisions,
        "segments": report.segments.to_dict(orient="records"),
        "logrank": report.survival["logrank"],
        "notes": report.notes,
    }
    if out is not None:
        from analysis.report import write_experiment_report

        with atomic_output_dir(out, overwrite=force) as tmp:
            files = write_experiment_report(tmp, payload, report, outcomes)
        payload["outputs"] = {"folder": str(out), "files": files}
    if as_json:
        _echo_json(payload)
    else:
        _print_experiment(payload)


def _print_experiment(p: dict) -> None:
    click.echo(f"Experiment on {p['scenario']} (seed {p['seed']}): " + ", ".join(f"{k} {v:,}" for k, v in p["arms"].items()))
    srm = p["srm"]
    click.echo(f"sample ratio check: p = {srm['p_value']:.3g}" + ("  MISMATCH" if srm["mismatch"] else " (ok)"))
    click.echo(f"\n{'arm':<14}{'metric':<26}{'control':>11}{'effect':>11}{'95% CI':>24}{'p':>9}{'true effect':>13}")
    for r in p["results"]:
        ci = f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
        true = "n/a" if r["true_effect"] is None else f"{r['true_effect']:.4g}"
        click.echo(f"{r['arm']:<14}{r['metric']:<26}{r['control']:>11.4g}{r['estimate']:>11.4g}{ci:>24}"
                   f"{r['p_value']:>9.3g}{true:>13}")
    click.echo("\n(effect = treatment - control, estimated from the experiment; true effect = the same "
               "statistic in the twin worlds, every customer treated vs none)")
    for d in p["decisions"]:
        click.echo(f"\n{d['arm']}: {d['decision'].upper()}")
        for reason in d["reasons"]:
            click.echo(f"  - {reason}")
    losing = [s for s in p["segments"] if s["loses_money"]]
    if losing:
        click.echo("\nsegments where the policy loses money (LTV effect below zero with its whole CI):")
        for s in losing:
            click.echo(f"  {s['arm']}: {s['segmentation']} = {s['segment']}: {s['estimate']:.4g} "
                       f"[{s['ci_low']:.4g}, {s['ci_high']:.4g}]")
    for note in p["notes"]:
        click.echo(f"note: {note}")
    if "outputs" in p:
        click.echo(f"\nreport written to {p['outputs']['folder']}/report.html")


# --- power ------------------------------------------------------------------------------------


def _ints(text: str | None, option: str) -> list[int]:
    from sim.errors import ConfigError

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
@click.option("--replications", type=click.IntRange(min=10), default=200, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: cores).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), help="With --simulate: write the power curve plot and table.")
@click.option("--force", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
def power_cmd(baseline, baseline_mean, sd, mde, relative, alpha, power_, n_per_arm, ratio, alternative, method,
              scenario, arms, allocation, metric, sizes, durations, replications, workers, seed, out, force,
              as_json) -> None:
    """Sample size, power or MDE of a two-arm test: analytic, or by simulation (--simulate)."""
    from sim.errors import ConfigError

    if scenario is not None:
        _simulated_power_cmd(scenario, arms, allocation, metric, sizes, durations, replications, workers, seed,
                             alpha, power_ or 0.8, out, force, as_json)
        return
    from analysis.power import mean_power, proportion_power

    if (baseline is None) == (baseline_mean is None):
        raise ConfigError("give either --baseline (a proportion) or --baseline-mean with --sd (a mean)")
    if n_per_arm is None and power_ is None:
        power_ = 0.8
    if mde is None and (n_per_arm is None or power_ is None):
        raise ConfigError("to solve for the MDE give both --n and --power")
    if mde is not None and n_per_arm is not None and power_ is not None:
        raise ConfigError("give at most two of --mde, --n and --power: the third is solved for")
    common = dict(mde=mde, n_per_arm=n_per_arm, power=power_, alpha=alpha, ratio=ratio,
                  alternative=alternative, relative=relative)
    if baseline is not None:
        result = proportion_power(baseline=baseline, method=method, **common)
    else:
        if sd is None:
            raise ConfigError("--baseline-mean needs --sd")
        result = mean_power(baseline_mean=baseline_mean, sd=sd, **common)
    d = result.to_dict()
    if as_json:
        _echo_json(d)
        return
    kind = f"proportion, {d['method']} method" if baseline is not None else f"mean, {d['method']}-test"
    click.echo(f"Two-arm test ({kind}, {d['alternative']}, alpha {d['alpha']:g}, ratio {d['ratio']:g})")
    click.echo(f"  baseline {d['baseline']:.6g} -> treatment {d['treatment']:.6g}"
               f" (MDE {d['mde_absolute']:.6g} absolute" + (f", {100 * d['mde_relative']:.3g}% relative)" if d['mde_relative'] else ")"))
    click.echo(f"  n per arm {d['n_per_arm']:.2f} -> {d['n_per_arm_ceil']:,} (treatment {d['n_treatment_ceil']:,})")
    click.echo(f"  power {d['power']:.4f}   [solved for {d['solved_for']}]")


def _simulated_power_cmd(scenario, arms, allocation, metric, sizes, durations, replications, workers, seed,
                         alpha, target, out, force, as_json) -> None:
    from analysis.experiments import METRICS
    from scenarios.loader import load_scenario
    from sim.errors import ConfigError
    from sim.output import atomic_output_dir, check_output_dir
    from sim.replicate import default_workers, simulated_power

    sc = load_scenario(scenario)
    if metric not in METRICS:
        raise ConfigError(f"--metric '{metric}': unknown; the experiment metrics are {', '.join(METRICS)}")
    design = _design(sc, arms, allocation, None, None, None, None)
    if len(design.arms) != 2:
        raise ConfigError("simulated power compares two arms; give exactly two --arm options")
    size_list = _ints(sizes, "--sizes") or [design.customers or sc.config.population.initial_customers]
    days_list = _ints(durations, "--durations") or [design.days]
    if any(s < 20 for s in size_list):
        raise ConfigError("--sizes: at least 20 customers per design point are needed for the test")
    if out is not None:
        check_output_dir(out, overwrite=force)
    points = [(s, d) for d in days_list for s in size_list]
    update, close = _progress(len(points) * -(-replications // 50), "batches")
    try:
        results = simulated_power(sc.text, sc.source, design, metric=metric, points=points, replications=replications,
                                  seed=seed, alpha=alpha, workers=workers or default_workers(), progress=update)
    finally:
        close()
    rows = [r.to_dict() for r in results]
    reached = next((r for r in rows if r["power"] >= target), None)
    payload = {"scenario": sc.name, "metric": metric, "alpha": alpha, "target_power": target,
               "replications": replications, "seed": seed, "points": rows,
               "first_reaching_target": reached}
    if out is not None:
        from analysis.report import power_curve_plot

        with atomic_output_dir(out, overwrite=force) as tmp:
            x = "n_per_arm" if len(size_list) > 1 else "days"
            fig = power_curve_plot(rows, x=x, target=target)
            fig.savefig(tmp / "power_curve.png", dpi=100)
            from sim.output import write_json_atomic

            write_json_atomic(tmp / "power.json", payload)
        payload["outputs"] = {"folder": str(out), "files": ["power_curve.png", "power.json"]}
    if as_json:
        _echo_json(payload)
        return
    click.echo(f"Simulated power for '{metric}' in {sc.name} ({replications} replications per point, alpha {alpha:g})")
    click.echo(f"{'customers':>10}{'days':>6}{'n/arm':>9}{'power':>8}{'95% MC CI':>18}{'mean effect':>14}")
    for r in rows:
        click.echo(f"{r['customers']:>10,}{r['days']:>6}{r['mean_n_per_arm']:>9.0f}{r['power']:>8.3f}"
                   f"{'[' + format(r['ci_low'], '.3f') + ', ' + format(r['ci_high'], '.3f') + ']':>18}{r['mean_estimate']:>14.4g}")
    if reached:
        click.echo(f"power first reaches {target:g} at {reached['customers']:,} customers, {reached['days']} days")
    else:
        click.echo(f"power does not reach {target:g} at any point tried")


@main.command("analytic")
@click.argument("scenario", required=False, default="markov_value")
@click.option("--horizon", type=click.IntRange(min=1), help="Days (default: the scenario's run length).")
@click.option("--simulate", is_flag=True, help="Also simulate the scenario and show the two side by side.")
@click.option("--customers", type=click.IntRange(min=1), help="With --simulate: customers.")
@click.option("--json", "as_json", is_flag=True)
def analytic_cmd(scenario, horizon, simulate, customers, as_json) -> None:
    """Exact stage occupancy and discounted value of a Markov SCENARIO (default: markov_value)."""
    from analysis.analytic import analytic_summary
    from scenarios.loader import load_scenario

    sc = load_scenario(scenario)
    out = analytic_summary(sc, horizon)
    if simulate:
        from sim.model import CustomerModel

        model = CustomerModel(sc, customers=customers, days=out["horizon_days"], engine="vector")
        res = model.run()
        n = res.n_customers
        value = res.customers["value"]
        out["simulation"] = {
            "customers": n,
            "value_per_customer": float(value.mean()),
            "value_se": float(value.std(ddof=1) / n**0.5),
            "occupancy_final": {k: int(res.daily[f"stage:{k}"].iloc[-1]) / n for k in out["stages"]},
        }
    if as_json:
        _echo_json(out)
        return
    H = out["horizon_days"]
    click.echo(f"Markov chain of {out['scenario']}: {len(out['stages'])} stages, daily discount factor "
               f"{out['daily_discount_factor']:.6f}")
    click.echo(f"\n{'stage':<16}{'margin/day':>12}{f'value, {H} days':>18}{'value, forever':>16}{'share at end':>14}"
               + (f"{'simulated':>11}" if simulate else ""))
    for k, name in enumerate(out["stages"]):
        v = out["value_by_start_stage"][name]
        line = (f"{name:<16}{out['daily_margin_by_stage'][k]:>12.4f}{v['horizon']:>18.2f}"
                f"{(v['infinite'] if v['infinite'] is not None else float('nan')):>16.2f}"
                f"{out['occupancy_end_of_day'][name][-1]:>14.4f}")
        if simulate:
            line += f"{out['simulation']['occupancy_final'][name]:>11.4f}"
        click.echo(line)
    click.echo(f"\nexpected discounted value per customer over {H} days: {out['value_per_customer']:.2f}")
    if simulate:
        s = out["simulation"]
        click.echo(f"simulated ({s['customers']:,} customers): {s['value_per_customer']:.2f} ± {1.96 * s['value_se']:.2f}")


# --- sweeps -----------------------------------------------------------------------------------


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
    from sim.errors import ConfigError
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
    update, close = _progress(len(points), "points")
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
        _echo_json({"scenario": sc.name, "key": spec.key(), "points": len(points), "replications": replications,
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


# --- calibration ------------------------------------------------------------------------------


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
    from sim.errors import ConfigError
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
        _echo_json(payload)
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


@main.command("app")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this computer only; 0.0.0.0: every network interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on.")
def app_cmd(host: str, port: int) -> None:
    """Start the classroom app: a browser page that plays a scenario for a class (see docs/classroom.md)."""
    from app.server import serve

    code = serve(host, port)
    if code:
        raise SystemExit(code)


# --- budget allocation --------------------------------------------------------------------------


def _floats(text: str | None, option: str) -> list[float]:
    if not text:
        return []
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        from sim.errors import ConfigError

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
@click.option("--replications", type=click.IntRange(min=2), default=8, show_default=True,
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
    from scenarios.loader import load_scenario
    from sim.budget import allocate_budget, result_dict, result_text, write_outputs
    from sim.output import atomic_output_dir, check_output_dir
    from sim.replicate import default_workers

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
        _echo_json(payload)
        return
    click.echo(result_text(result))
    if out is not None:
        click.echo(f"\noutputs written to {out}/: {', '.join(payload['outputs']['files'])}")
