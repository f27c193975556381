"""Lifecycle Lab from Python: the public API. The command line (:mod:`lifecycle.cli`) and the
classroom page (:mod:`lifecycle.app`) are thin faces over these same calls.

Scenarios and policies

- :func:`load_scenario` (a preset name or a TOML file), :func:`parse_scenario` (TOML text) ->
  :class:`Scenario`; ``scenario.with_values({"channels.search.daily_spend": 500})`` returns a new
  validated scenario; :func:`presets` lists the shipped ones.
- :class:`Policy`, :class:`PolicyParams`, :class:`Target`, :class:`Offer`, :class:`Day`,
  :func:`register` and :func:`control` (a parameter's label and slider range on the classroom
  page): write and register a policy of your own.

Workflows (each returns an object with the numbers and their uncertainty)

- :func:`run` -> :class:`RunReport` (``.daily``, ``.customers``, ``.summary()``, policy ROI
  against the counterfactual without policies, ``.write(folder)``);
- :func:`experiment` -> :class:`ExperimentReport` (estimates beside the twin-world truth, checks,
  decisions); :func:`experiment_design` builds and checks a design;
- :func:`power` (analytic sample size, power or MDE) and :func:`simulated_power`;
- :func:`calibrate` -> :class:`Calibration` (BG/NBD and Gamma-Gamma fits, holdout check, a scenario);
- :func:`allocate_budget` -> budget result; :func:`sweep` -> :class:`SweepOutcome`;
  :func:`analytic` (the Markov closed form beside a simulation).

Errors: every mistake in an input raises :class:`ConfigError` or :class:`DataError` (both
:class:`LabError`), whose message names the field, the file or the row.
"""

from __future__ import annotations

import importlib

#: public name -> (module, attribute); imported on first use, so ``import lifecycle`` (and the
#: command line's start) stays fast
_EXPORTS = {
    "analytic": ("analysis.analytic", "analytic"),
    "allocate_budget": ("analysis.budget", "allocate_budget"),
    "Calibration": ("analysis.calibration.workflow", "Calibration"),
    "calibrate": ("analysis.calibration.workflow", "calibrate"),
    "experiment_design": ("analysis.experiment_runs", "experiment_design"),
    "experiment": ("analysis.experiment_runs", "run_experiment"),
    "ExperimentReport": ("analysis.experiments", "ExperimentReport"),
    "power": ("analysis.power", "power"),
    "RunReport": ("analysis.runs", "RunReport"),
    "run": ("analysis.runs", "run"),
    "simulated_power": ("analysis.simulated_power", "simulated_power"),
    "SweepOutcome": ("analysis.sweeps", "SweepOutcome"),
    "sweep": ("analysis.sweeps", "sweep"),
    "ArmSpec": ("scenarios.designs", "ArmSpec"),
    "BudgetConfig": ("scenarios.designs", "BudgetConfig"),
    "ExperimentDesign": ("scenarios.designs", "ExperimentDesign"),
    "ConfigError": ("scenarios.errors", "ConfigError"),
    "ConvergenceError": ("scenarios.errors", "ConvergenceError"),
    "DataError": ("scenarios.errors", "DataError"),
    "LabError": ("scenarios.errors", "LabError"),
    "DEFAULT_PRESET": ("scenarios.loader", "DEFAULT_PRESET"),
    "presets": ("scenarios.loader", "presets"),
    "CustomerModel": ("sim.model", "CustomerModel"),
    "Day": ("sim.policies", "Day"),
    "control": ("sim.policies", "control"),
    "Offer": ("sim.policies", "Offer"),
    "Policy": ("sim.policies", "Policy"),
    "PolicyParams": ("sim.policies", "PolicyParams"),
    "Target": ("sim.policies", "Target"),
    "register": ("sim.policies", "register"),
    "RunResult": ("sim.records", "RunResult"),
    "Scenario": ("sim.scenario", "Scenario"),
    "load_scenario": ("sim.scenario", "load_scenario"),
    "parse_scenario": ("sim.scenario", "parse_scenario"),
}

__all__ = [
    "load_scenario", "parse_scenario", "presets", "DEFAULT_PRESET", "Scenario",
    "Policy", "PolicyParams", "Target", "Offer", "Day", "register", "control",
    "run", "RunReport", "RunResult", "CustomerModel",
    "experiment", "experiment_design", "ExperimentReport", "ExperimentDesign", "ArmSpec",
    "power", "simulated_power", "calibrate", "Calibration", "allocate_budget", "BudgetConfig",
    "sweep", "SweepOutcome", "analytic",
    "LabError", "ConfigError", "DataError", "ConvergenceError",
]  # fmt: skip


def __getattr__(name: str):
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'lifecycle' has no attribute '{name}'") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
