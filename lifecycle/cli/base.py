"""The ``lifecycle`` command group and what its commands share.

Core object: :data:`main`, a click group whose commands live in the other :mod:`lifecycle.cli` modules.
A user mistake (any :class:`~scenarios.errors.LabError`) prints one ``error:`` paragraph on stderr and
exits with code 2. Shared helpers: :func:`echo_json` (one JSON object on stdout) and
:func:`progress` (a progress bar on a terminal only).
"""

from __future__ import annotations

import json
import sys

import click

from scenarios.errors import LabError

__all__ = ["main", "echo_json", "progress"]


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


def echo_json(obj) -> None:
    from sim.output import jsonable

    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=jsonable))


def progress(total: int, label: str):
    """A tqdm progress bar on a terminal, nothing otherwise. Returns (update, close)."""
    if not sys.stderr.isatty() or total < 2:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="day", leave=False, file=sys.stderr)
    return bar.update, bar.close
