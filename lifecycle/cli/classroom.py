"""``app``: the classroom app, served on this computer."""

from __future__ import annotations

import click

from lifecycle.cli.base import main


@main.command("app")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this computer only; 0.0.0.0: every network interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on.")
def app_cmd(host: str, port: int) -> None:
    """Start the classroom app: a browser page that plays a scenario for a class (see docs/classroom.md)."""
    from lifecycle.app.server import serve

    code = serve(host, port)
    if code:
        raise SystemExit(code)
