"""An A/B(/n) test run inside the simulation end to end: design, worlds, analysis, report.

Core functions: :func:`experiment_design` (a validated :class:`~scenarios.designs.ExperimentDesign`
from the scenario's ``[experiment]`` table and any overrides, arms checked against the scenario's
policies) and :func:`run_experiment` (the experiment world, the twin worlds for the truth and the
analysis, returned as an :class:`~analysis.experiments.ExperimentReport` whose
:meth:`~analysis.experiments.ExperimentReport.to_dict` is what ``lifecycle experiment --json`` prints).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from analysis.experiments import ExperimentReport, Guardrails, analyse, segment_effects, survival_by_arm
from scenarios.designs import ExperimentDesign
from scenarios.errors import ConfigError
from scenarios.loader import describe
from sim.experiment import run_world
from sim.scenario import Scenario, load_scenario

__all__ = ["experiment_design", "run_experiment", "write_experiment"]


def experiment_design(scenario: Scenario, arms=None, **overrides) -> ExperimentDesign:
    """The scenario's ``[experiment]`` design with ``arms`` and other fields overridden.

    ``arms`` is a list of ``{"name": ..., "policies": [...], "share": ...}`` (share optional:
    equal shares), the first being the control; ``overrides`` are design fields such as
    ``warmup_days``, ``days``, ``customers``, ``stratify_by`` (None leaves the scenario's value).
    """
    base = scenario.config.experiment
    table = {} if base is None else base.model_dump(exclude_unset=True)
    if arms is not None:
        arms = [dict(a) for a in arms]
        if arms and all("share" not in a for a in arms):
            for a in arms:
                a["share"] = 1.0 / len(arms)
        table["arms"] = arms
    elif "arms" not in table:
        raise ConfigError(f"{scenario.source}: no [experiment] table with arms; name the arms "
                          "(the first is the control), each with the scenario policies it adds")
    table.update({k: v for k, v in overrides.items() if v is not None})
    try:
        design = ExperimentDesign.model_validate(table)
    except ValidationError as exc:
        raise ConfigError(f"experiment design: {describe(exc, ExperimentDesign)}") from None
    try:
        design.policy_arms(scenario)
    except ValueError as exc:
        raise ConfigError(f"experiment design: {exc}") from None
    return design


def run_experiment(scenario: Scenario | str | None = None, design: ExperimentDesign | None = None, *,
                   arms=None, seed: int | None = None, truth: bool = True, alpha: float = 0.05,
                   min_ltv_cac: float | None = 3.0, retention_margin: float = 0.005, ltv_cac_margin: float = 0.05,
                   progress=None, **overrides) -> ExperimentReport:
    """Run an A/B(/n) test inside ``scenario`` and read it as an analyst would, beside the truth.

    ``design`` (or the scenario's ``[experiment]`` table with ``arms`` and ``overrides``, see
    :func:`experiment_design`) says who gets what. With ``truth`` the twin worlds (every customer
    in arm k, same customers and draws) give each effect's true value. ``progress`` is called with
    ``1`` after each simulated world. The decision per arm follows
    :class:`~analysis.experiments.Guardrails`: ``retention_margin`` (absolute) and
    ``ltv_cac_margin`` (relative) are the drops against the control a guardrail tolerates;
    ``min_ltv_cac`` is an absolute target reported beside the control's value, not deciding.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if design is None:
        design = experiment_design(sc, arms, **overrides)
    seed = sc.config.run.seed if seed is None else seed
    outcomes = run_world(sc, design, seed=seed)
    if progress is not None:
        progress(1)
    twins = None
    if truth:
        twins = {}
        for k in range(len(design.arms)):
            twins[k] = run_world(sc, design, seed=seed, fixed_arm=k)
            if progress is not None:
                progress(1)
    guardrails = Guardrails(min_ltv_cac=min_ltv_cac, retention_margin=retention_margin, ltv_cac_margin=ltv_cac_margin,
                            alpha=alpha)
    report = analyse(outcomes, truth=twins, alpha=alpha, guardrails=guardrails)
    report.segments = segment_effects(outcomes, alpha=alpha)
    report.survival = survival_by_arm(outcomes)
    report.outcomes = outcomes
    report.context = {"scenario": sc.name, "seed": seed, "design": design.model_dump()}
    return report


def write_experiment(report: ExperimentReport, folder: str | Path, *, force: bool = False) -> list[str]:
    """Write the HTML report, plots and per-customer outcomes into ``folder`` (all or nothing)."""
    from analysis.report import write_experiment_report
    from sim.output import atomic_output_dir

    with atomic_output_dir(folder, overwrite=force) as tmp:
        return write_experiment_report(tmp, report.to_dict(), report, report.outcomes)
