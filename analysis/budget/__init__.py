"""Budget allocation: split a daily budget over acquisition channels and retention levers.

The question a strategist asks: with B a day to spend, how much should go to each acquisition
channel and to each retention programme, judged on simulated profit (or LTV/CAC, or customers)?

Core objects (one module each):

- :mod:`analysis.budget.levers`: the levers (channels: daily spend through the response curve; policies:
  spend buys coverage ``min(1, x / full-coverage cost)``), the ``[budget]`` table, bounds, exact
  feasibility (:func:`project_allocation`, a deterministic pure function).
- :mod:`analysis.budget.evaluate`: an allocation evaluated by simulation with common random numbers
  (the same replication seeds for every allocation), in worker processes; arrival-count smoothing.
- :mod:`analysis.budget.optimise`: the search; by default SLSQP on a simulated surrogate
  (:mod:`analysis.budget.surrogate`: response curves times simulated customer values, policy slopes from
  common-random-numbers probes) in a trust region, every proposal verified by simulation; COBYLA on
  the budget hyperplane as the alternative (why: see that module).
- :mod:`analysis.budget.allocate`: :func:`allocate_budget`, the whole question end to end: costs, search,
  the report on independent seeds (CIs, paired differences to the equal split and to the current
  allocation, marginal returns, ROI), the efficient frontier.
- :mod:`analysis.budget.report`: JSON, text, plots, output files.

Example::

    from sim.scenario import load_scenario
    from analysis.budget import allocate_budget

    result = allocate_budget(load_scenario("retail_tiers"), budget=4000, customers=5000, replications=6)
    result.allocation            # lever -> recommended daily spend
"""

from analysis.budget.allocate import BudgetResult, FrontierPoint, Marginal, Outcome, allocate_budget
from analysis.budget.evaluate import Evaluator, Setting, setting_for
from analysis.estimate import Estimate
from analysis.budget.levers import (
    OBJECTIVES, BudgetConfig, Lever, LeverConfig, build_levers, equal_split, project_allocation, read_budget_config,
    request_levers,
)  # fmt: skip
from analysis.budget.optimise import METHODS, Trace, Trial, optimise
from analysis.budget.report import result_dict, result_text, write_outputs

__all__ = [
    "allocate_budget", "BudgetResult", "Outcome", "Marginal", "FrontierPoint", "Estimate", "Evaluator", "Setting",
    "setting_for", "OBJECTIVES", "BudgetConfig", "LeverConfig", "Lever", "build_levers", "equal_split",
    "project_allocation", "read_budget_config", "request_levers", "optimise", "METHODS", "Trace", "Trial", "result_dict",
    "result_text", "write_outputs",
]  # fmt: skip
