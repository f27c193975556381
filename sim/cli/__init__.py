"""The ``lifecycle`` command line: one module per group of commands.

Core object: :data:`main` (in :mod:`sim.cli.base`), a click group. Each sub-command parses its
options, calls library code and prints a readable table or, with ``--json``, one JSON object. A
user mistake (any :class:`~sim.errors.LabError`) prints one ``error:`` paragraph on stderr and
exits with code 2; usage mistakes also exit 2 (click's convention); nothing is written on error.

Modules: :mod:`~sim.cli.run` (scenarios, validate, run), :mod:`~sim.cli.experiments` (experiment,
power), :mod:`~sim.cli.analytic`, :mod:`~sim.cli.sweep`, :mod:`~sim.cli.calibrate`,
:mod:`~sim.cli.budget`, :mod:`~sim.cli.classroom` (app).
"""

from sim.cli.base import main

# importing the command modules registers their commands with `main`
from sim.cli import analytic, budget, calibrate, classroom, experiments, run, sweep  # noqa: E402,F401  isort: skip

__all__ = ["main"]
