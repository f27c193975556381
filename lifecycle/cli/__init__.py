"""The ``lifecycle`` command line: one module per group of commands.

Core object: :data:`main` (in :mod:`lifecycle.cli.base`), a click group. Each sub-command parses its
options, calls library code and prints a readable table or, with ``--json``, one JSON object. A
user mistake (any :class:`~scenarios.errors.LabError`) prints one ``error:`` paragraph on stderr and
exits with code 2; usage mistakes also exit 2 (click's convention); nothing is written on error.

Modules: :mod:`~lifecycle.cli.run` (scenarios, validate, run), :mod:`~lifecycle.cli.experiments` (experiment,
power), :mod:`~lifecycle.cli.analytic`, :mod:`~lifecycle.cli.sweep`, :mod:`~lifecycle.cli.calibrate`,
:mod:`~lifecycle.cli.budget`, :mod:`~lifecycle.cli.classroom` (app).
"""

from lifecycle.cli.base import main

# importing the command modules registers their commands with `main`
from lifecycle.cli import analyse, analytic, budget, calibrate, classroom, experiments, run, sweep  # noqa: E402,F401  isort: skip

__all__ = ["main"]
