"""``app``: the classroom app, served on this computer."""

from __future__ import annotations

import click

from lifecycle.cli.base import main


@main.command("app")
@click.argument("scenario", required=False)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this computer only; 0.0.0.0: every network interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option("--plugin", "plugins", multiple=True, metavar="FILE.py",
              help="A Python file of your own that defines and registers policies (repeatable); imported "
                   "before any scenario loads, so scenario files can name its policy types.")
@click.option("--allow-origin", "allow_origins", multiple=True, metavar="ORIGIN",
              help="Also let browsers open the page at this address, e.g. http://192.168.1.20:8765 (repeatable). "
                   "By default only http://127.0.0.1:PORT, http://localhost:PORT and the --host address are "
                   "answered; other Host headers get 403 and WebSockets from other origins are refused.")
@click.option("--class", "class_play", is_flag=True,
              help="Class play: students join with a code and a name, spend a budget over the levers you unlock, "
                   "and a leaderboard compares their plans (the code and your trainer address are printed).")
@click.option("--budget", type=click.FloatRange(0, 1e12), default=None,
              help="With --class: the most a student may spend a day over all channels (default: the scenario's).")
def app_cmd(scenario: str | None, host: str, port: int, plugins: tuple[str, ...],
            allow_origins: tuple[str, ...], class_play: bool, budget: float | None) -> None:
    """Start the classroom app: a browser page that plays a scenario for a class (see docs/classroom.md).

    SCENARIO (optional): a preset name or a scenario file the page opens on.
    """
    from lifecycle.app.server import serve

    if budget is not None and not class_play:
        raise click.UsageError("--budget is for class play: add --class")
    code = serve(host, port, plugins=plugins, scenario=scenario, allow_origins=allow_origins, class_play=class_play,
                 budget=budget)
    if code:
        raise SystemExit(code)
