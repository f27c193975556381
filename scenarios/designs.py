"""Typed designs a scenario file may carry: the ``[experiment]`` and ``[budget]`` tables.

Core objects: :class:`ExperimentDesign` (with :class:`ArmSpec`) and :class:`BudgetConfig` (with
:class:`LeverConfig`). They are fields of :class:`~scenarios.schema.ScenarioConfig`, so a misspelt
key in either table is an error naming it when the file is validated (``lifecycle validate``);
names they refer to (policies, channels) are checked against the scenario when it is loaded.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from scenarios.fields import MAX_CUSTOMERS, MAX_DAYS, MAX_MONEY, StrictModel

__all__ = ["ArmSpec", "ExperimentDesign", "LeverConfig", "BudgetConfig"]


class ArmSpec(StrictModel):
    """One arm: a name, the scenario policies (by name) it adds, and its share of customers."""

    name: str = Field(min_length=1, max_length=60)
    policies: tuple[str, ...] = Field((), strict=False)
    share: float = Field(gt=0, lt=1)


class ExperimentDesign(StrictModel):
    """An experiment: arms (first = control), warm-up, duration, stratification."""

    arms: tuple[ArmSpec, ...] = Field(min_length=2, strict=False)
    warmup_days: int = Field(90, ge=0, le=MAX_DAYS, description="days of history before assignment (CUPED covariate)")
    days: int = Field(180, ge=1, le=MAX_DAYS, description="days the experiment runs after assignment")
    stratify_by: str | None = Field(None, description="stage, tier, segment or channel")
    customers: int | None = Field(None, ge=2, le=MAX_CUSTOMERS)

    @model_validator(mode="after")
    def _check(self) -> ExperimentDesign:
        total = sum(a.share for a in self.arms)
        if abs(total - 1.0) > 1e-9:
            shares = ", ".join(f"{a.name}={a.share:g}" for a in self.arms)
            raise ValueError(f"arm shares must add up to 1; got {total:.6g} ({shares})")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must be unique; got {names}")
        if self.stratify_by not in (None, "stage", "tier", "segment", "channel"):
            raise ValueError(f"stratify_by must be stage, tier, segment or channel; got '{self.stratify_by}'")
        return self

    @property
    def shares(self) -> np.ndarray:
        """Arm shares in arm order."""
        return np.array([a.share for a in self.arms])

    def policy_arms(self, scenario) -> dict[str, tuple[int, ...]]:
        """Policy name -> arms it runs in, for policies named by some arm; check the names."""
        known = [p.name for p in scenario.policies]
        out: dict[str, list[int]] = {}
        for k, arm in enumerate(self.arms):
            for name in arm.policies:
                if name not in known:
                    raise ValueError(
                        f"arm '{arm.name}' names unknown policy '{name}'; the scenario's policies are "
                        f"{', '.join(map(repr, known)) or 'none'}"
                    )
                out.setdefault(name, []).append(k)
        return {name: tuple(codes) for name, codes in out.items()}


class LeverConfig(StrictModel):
    """One ``[[budget.levers]]`` table: a channel or policy name and optional daily bounds."""

    name: str = Field(min_length=1, description="a channel or policy name; 'channel:x' / 'policy:x' if both exist")
    min: float | None = Field(None, ge=0, le=MAX_MONEY, description="least daily spend on this lever")
    max: float | None = Field(None, ge=0, le=MAX_MONEY, description="most daily spend on this lever")
    pacing: Literal["even"] | list[float] = Field(
        "even", max_length=MAX_DAYS, description="channels only: relative spend per equal block of the horizon (mean 1)"
    )


class BudgetConfig(StrictModel):
    """The ``[budget]`` table of a scenario."""

    total: float | None = Field(None, ge=0, le=MAX_MONEY, description="daily budget over the levers")
    levers: list[LeverConfig] | None = Field(None, description="default: paid channels + policies with a cost")
    objective: Literal["profit", "ltv_cac", "customers"] | None = None
    min_ltv_cac: float | None = Field(None, gt=0, le=1e6)
