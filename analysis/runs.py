"""One run of a scenario, read as a user reads it: tables, metrics with uncertainty, policy ROI.

Core objects: :func:`run` (simulate a scenario, and by default the same customers without any
policy, for policy ROI) and :class:`RunReport` (the :class:`sim.records.RunResult` of the run and
of its counterfactual, the daily and per-customer tables as DataFrames, :meth:`RunReport.summary`
(the metrics with their standard errors, as ``lifecycle run --json`` prints them) and
:meth:`RunReport.write` (Parquet tables, JSON summary and PNG plots, all or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.metrics import policy_roi, summarize
from sim.model import CustomerModel
from sim.records import RunResult
from sim.scenario import Scenario, load_scenario
from sim.seeding import SeedLike

__all__ = ["RunReport", "run", "write_run"]


@dataclass(frozen=True)
class RunReport:
    """A finished run: its result, the counterfactual without policies (if run) and how it was made."""

    scenario: Scenario
    result: RunResult
    counterfactual: RunResult | None
    seed: int | None
    entropy: int
    engine: str
    initial_customers: int
    _summary: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def daily(self) -> pd.DataFrame:
        """One row per day: stage counts, arrivals, orders, money (see ``sim.records``)."""
        return self.result.daily

    @property
    def customers(self) -> pd.DataFrame:
        """One row per customer, with stage, channel, tier and segment as labels."""
        return self.result.customers_frame()

    @property
    def policy_roi(self) -> dict | None:
        """Incremental margin and ROI of the policies against the same customers without them."""
        return None if self.counterfactual is None else policy_roi(self.result, self.counterfactual)

    def summary(self) -> dict:
        """Metrics with standard errors, per-channel figures and policy ROI, as plain JSON-ready data."""
        if not self._summary:
            self._summary.update({
                "scenario": self.scenario.name,
                "source": self.scenario.source,
                "seed": self.seed,
                "entropy": self.entropy,
                "engine": self.engine,
                "customers": self.result.n_customers,
                "initial_customers": self.initial_customers,
                "days": self.result.days,
                **summarize(self.result),
                "policy_roi": self.policy_roi,
            })  # fmt: skip
        return dict(self._summary)

    def write(self, folder: str | Path, *, force: bool = False) -> list[str]:
        """Write tables, summary and plots into ``folder`` (all or nothing); returns the file names."""
        from sim.output import atomic_output_dir

        with atomic_output_dir(folder, overwrite=force) as tmp:
            return write_run(self.result, self.summary(), tmp)


def run(scenario: Scenario | str | None = None, *, seed: SeedLike | None = None, customers: int | None = None,
        days: int | None = None, engine: str = "auto", policies=None, counterfactual: bool = True,
        progress=None) -> RunReport:
    """Simulate ``scenario`` (a :class:`~sim.scenario.Scenario`, a preset name or a file path).

    Parameters
    ----------
    seed, customers, days
        Override the scenario's ``run.seed``, ``population.initial_customers`` and ``run.days``.
    engine
        ``"agent"`` (one Mesa agent per customer), ``"vector"`` or ``"auto"`` (agent up to 2,000).
    policies
        Policies to use instead of the scenario's (objects, e.g. a policy class of your own).
    counterfactual
        Also run the same customers (same seed, common random numbers) without any policy, so
        :attr:`RunReport.policy_roi` can say what the policies earned. Skipped without policies.
    progress
        Called with ``1`` after each simulated day (of both runs).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if policies is not None:
        sc = sc.with_policies(policies)
    model = CustomerModel(sc, seed=seed, customers=customers, days=days, engine=engine)
    result = model.run(progress=progress)
    twin = None
    if counterfactual and sc.policies:
        base = CustomerModel(sc, seed=seed, customers=customers, days=days, engine=model.engine, policies=[])
        twin = base.run(progress=progress)
    n0 = sc.config.population.initial_customers if customers is None else customers
    return RunReport(scenario=sc, result=result, counterfactual=twin, seed=model.seed, entropy=model.streams.entropy,
                     engine=model.engine, initial_customers=int(n0))


def write_run(result: RunResult, summary: dict, folder: Path) -> list[str]:
    """Write a run into ``folder`` (already created): Parquet tables, summary JSON, PNG plots."""
    import matplotlib.pyplot as plt

    from analysis.plots import money_plot, retention_plot, stage_area
    from sim.output import write_json_atomic

    written = []
    tables = {
        "daily.parquet": result.daily,
        "customers.parquet": result.customers_frame(),
        "retention.parquet": result.retention_frame(),
        "ledger.parquet": pd.DataFrame(result.ledger_rows),
    }
    for name, df in tables.items():
        df.to_parquet(folder / name, index=False)
        written.append(name)
    write_json_atomic(folder / "summary.json", summary)
    written.append("summary.json")
    for name, make in (("stages.png", stage_area), ("retention.png", retention_plot), ("money.png", money_plot)):
        fig = make(result)
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        written.append(name)
    return written
