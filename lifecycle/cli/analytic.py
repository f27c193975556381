"""``analytic``: the Markov closed form of a scenario, beside a simulation if asked."""

from __future__ import annotations

import click

from lifecycle.cli.base import echo_json, main


@main.command("analytic")
@click.argument("scenario", required=False, default="markov_value")
@click.option("--horizon", type=click.IntRange(min=1, max=36500), help="Days (default: the scenario's run length).")
@click.option("--simulate", is_flag=True, help="Also simulate the scenario and show the two side by side.")
@click.option("--customers", type=click.IntRange(min=1), help="With --simulate: customers.")
@click.option("--json", "as_json", is_flag=True)
def analytic_cmd(scenario, horizon, simulate, customers, as_json) -> None:
    """Exact stage occupancy and discounted value of a Markov SCENARIO (default: markov_value)."""
    from analysis.analytic import analytic

    out = analytic(scenario, horizon, simulate=simulate, customers=customers)
    if as_json:
        echo_json(out)
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
