"""The scenario schema: what a scenario file may say, validated once at the boundary.

Core objects: :class:`ScenarioConfig` (a whole scenario) and its parts :class:`StageConfig`,
:class:`TransitionConfig`, :class:`CustomerConfig`, :class:`ChannelConfig`, :class:`TierConfig`,
:class:`SegmentConfig`, plus the trait distributions. Policies are validated by their own classes
(see :mod:`sim.policies`); here they are kept as raw tables and built by
:func:`sim.scenario.scenario_from_data`. The ``[experiment]`` and ``[budget]`` tables are typed
in :mod:`scenarios.designs`.

All models forbid unknown fields, so a misspelt field is an error that names it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from scenarios.designs import BudgetConfig, ExperimentDesign
from scenarios.fields import (
    INT32_MAX, MAX_CUSTOMERS, MAX_DAYS, MAX_MONEY, MAX_MULTIPLIER, STRICT, StrictModel,
)  # fmt: skip

__all__ = [
    "Distribution",
    "GammaDist",
    "LogNormalDist",
    "BetaDist",
    "ConstantDist",
    "GammaGammaDist",
    "StageConfig",
    "TransitionConfig",
    "CustomerConfig",
    "ChannelConfig",
    "PopulationConfig",
    "TierConfig",
    "SegmentConfig",
    "RFMConfig",
    "RunConfig",
    "ScenarioConfig",
]


class _Strict(StrictModel):
    """A table of the scenario file: strict, finite, bounded (see :mod:`scenarios.fields`)."""


# --- trait distributions --------------------------------------------------------------------


class GammaDist(_Strict):
    """Gamma across customers, given by its mean and shape (coefficient of variation 1/sqrt(shape))."""

    distribution: Literal["gamma"]
    mean: float = Field(gt=0, le=MAX_MONEY)
    shape: float = Field(gt=0, le=1e6)


class LogNormalDist(_Strict):
    """Log-normal across customers, given by its mean and the sigma of the underlying normal."""

    distribution: Literal["lognormal"]
    mean: float = Field(gt=0, le=MAX_MONEY)
    sigma: float = Field(ge=0, le=10)


class BetaDist(_Strict):
    """Beta across customers, given by its two shape parameters a and b."""

    distribution: Literal["beta"]
    a: float = Field(gt=0, le=1e6)
    b: float = Field(gt=0, le=1e6)


class ConstantDist(_Strict):
    """Every customer gets the same value."""

    distribution: Literal["constant"]
    value: float = Field(ge=0, le=MAX_MONEY)


class GammaGammaDist(_Strict):
    """Gamma-Gamma spend (Fader, Hardie & Lee): per-customer scale nu ~ Gamma(q, rate gamma),
    each order ~ Gamma(p, rate nu); so a customer's mean order value is p / nu."""

    distribution: Literal["gamma_gamma"]
    p: float = Field(gt=0, le=1e6)
    q: float = Field(gt=1, le=1e6, description="q > 1 so that the mean order value is finite")
    gamma: float = Field(gt=0, le=MAX_MONEY)


Distribution = Annotated[
    GammaDist | LogNormalDist | BetaDist | ConstantDist | GammaGammaDist,
    Field(discriminator="distribution"),
]


# --- stages and rules -----------------------------------------------------------------------


class StageConfig(_Strict):
    """One lifecycle stage; its name is the author's (any UTF-8 label)."""

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    purchase_multiplier: float = Field(1.0, ge=0, le=MAX_MULTIPLIER, description="scales the purchase rate in this stage")
    churn_multiplier: float = Field(1.0, ge=0, le=MAX_MULTIPLIER, description="scales the churn hazard in this stage")
    basket_multiplier: float = Field(1.0, ge=0, le=MAX_MULTIPLIER, description="scales basket value in this stage")
    churned: bool = Field(False, description="customers here are lost: no purchases, no churn")


class TransitionConfig(_Strict):
    """An allowed move between two stages and the rule that makes it happen.

    rule = "churn": the customer's own latent churn (daily hazard and/or dropout after a repeat
    purchase) moves it here. rule = "probability": a constant daily probability. rule = "event":
    a purchase that brings the customer's count of purchases to at least ``min_purchases``.
    rule = "time": ``after_days`` days have passed since ``since``. rule = "policy": only a policy
    (for example a win-back offer re-activating a churned customer) makes this move.
    """

    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    rule: Literal["churn", "probability", "event", "time", "policy"]
    daily_probability: float | None = Field(None, ge=0, le=1)
    min_purchases: int | None = Field(None, ge=1, le=INT32_MAX)
    after_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    since: Literal["acquisition", "first_purchase", "last_purchase", "stage_entry"] | None = None

    model_config = ConfigDict(**STRICT, populate_by_name=True)

    @model_validator(mode="after")
    def _fields_match_rule(self) -> TransitionConfig:
        needs = {
            "churn": set(),
            "probability": {"daily_probability"},
            "event": {"min_purchases"},
            "time": {"after_days", "since"},
            "policy": set(),
        }[self.rule]
        optional = {"daily_probability", "min_purchases", "after_days", "since"}
        for name in sorted(needs):
            if getattr(self, name) is None:
                raise ValueError(f"rule '{self.rule}' needs field '{name}'")
        for name in sorted(optional - needs):
            if getattr(self, name) is not None:
                raise ValueError(
                    f"field '{name}' does not apply to rule '{self.rule}' "
                    f"(it needs {sorted(needs) or 'no further fields'})"
                )
        if self.from_ == self.to:
            raise ValueError(f"a transition must change stage; got from = to = '{self.to}'")
        return self


class CustomerConfig(_Strict):
    """How customers differ from one another, and the economics of a purchase."""

    purchase_rate: Distribution = Field(description="purchases per day, drawn per customer")
    basket_value: Distribution = Field(description="mean order value per customer, in money")
    order_value_shape: float | None = Field(
        None, gt=0, description="gamma shape of the order-to-order noise around a customer's "
        "mean (coefficient of variation 1/sqrt(shape)); omitted: no noise (gamma_gamma sets p)"
    )
    churn_hazard: Distribution = Field(
        ConstantDist(distribution="constant", value=0.0),
        description="daily probability of latent churn, drawn per customer",
    )
    dropout_after_purchase: Distribution = Field(
        ConstantDist(distribution="constant", value=0.0),
        description="probability of latent churn right after each repeat purchase (BG/NBD)",
    )
    purchases_per_day: Literal["at_most_one", "poisson"] = Field(
        "at_most_one", description="'at_most_one': a customer buys on a day with probability "
        "1 - exp(-rate); 'poisson': a Poisson(rate) number of purchases (at most "
        "1,000), with the dropout coin after each repeat one, the exact day-by-day version of the "
        "continuous-time buy-till-you-die models (calibrated scenarios use it)"
    )
    gross_margin: float = Field(0.3, ge=0, le=1, description="margin share of the list price")
    fatigue_contacts_per_week: int = Field(
        3, ge=1, le=255, description="more contacts than this in 7 days annoy the customer"
    )
    fatigue_churn_multiplier: float = Field(
        1.5, ge=1, le=MAX_MULTIPLIER, description="churn hazard multiplier while over-contacted"
    )

    @model_validator(mode="after")
    def _probabilities(self) -> CustomerConfig:
        for name in ("churn_hazard", "dropout_after_purchase"):
            d = getattr(self, name)
            if isinstance(d, ConstantDist) and d.value > 1:
                raise ValueError(f"{name}: a probability must be in [0, 1]; got {d.value}")
            if isinstance(d, (GammaDist, LogNormalDist, GammaGammaDist)):
                raise ValueError(
                    f"{name}: a probability needs distribution 'beta' or 'constant'; "
                    f"got '{d.distribution}'"
                )
        if isinstance(self.purchase_rate, (BetaDist, GammaGammaDist)):
            raise ValueError(
                "purchase_rate: use 'gamma', 'lognormal' or 'constant'; "
                f"got '{self.purchase_rate.distribution}'"
            )
        if isinstance(self.basket_value, BetaDist):
            raise ValueError("basket_value: 'beta' is for probabilities; use gamma or lognormal")
        return self


class ChannelConfig(_Strict):
    """An acquisition channel: money in, customers out, with diminishing returns.

    Customers acquired per day from spend s: ``saturation * (1 - exp(-s / (saturation * cac)))``.
    At small spend each customer costs about ``cac``; no spend brings more than ``saturation``
    customers a day. Quality multipliers scale the traits of the customers the channel brings.
    """

    name: str = Field(min_length=1, max_length=80)
    daily_spend: float = Field(0.0, ge=0, le=MAX_MONEY)
    cac: float = Field(gt=0, le=MAX_MONEY, description="cost per customer at small spend")
    saturation: float = Field(gt=0, le=1e7, description="most customers a day, at any spend")
    purchase_multiplier: float = Field(1.0, ge=0, le=MAX_MULTIPLIER)
    basket_multiplier: float = Field(1.0, ge=0, le=MAX_MULTIPLIER)
    churn_multiplier: float = Field(1.0, ge=0, le=MAX_MULTIPLIER)


class PopulationConfig(_Strict):
    """Who is there on day 0 and where new customers start."""

    initial_customers: int = Field(1000, ge=0, le=MAX_CUSTOMERS)
    initial_stage: str = Field(min_length=1)
    entry_stage: str | None = Field(None, description="stage of acquired customers; default initial_stage")
    arrival_schedule: list[int] = Field(
        default_factory=list, max_length=MAX_DAYS,
        description="customers joining the base on day 0, 1, 2, ... (e.g. a real cohort's first-purchase days)",
    )
    arrive_as_buyers: bool = Field(
        False, description="base customers join with their first purchase made (buy-till-you-die cohorts); "
        "that purchase is not part of simulated revenue"
    )

    @model_validator(mode="after")
    def _schedule(self) -> PopulationConfig:
        if any(c < 0 for c in self.arrival_schedule):
            raise ValueError("arrival_schedule: counts must be >= 0")
        total = self.initial_customers + sum(self.arrival_schedule)
        if total > MAX_CUSTOMERS:
            raise ValueError(f"initial_customers + arrival_schedule: {total:,} customers; at most {MAX_CUSTOMERS:,}")
        return self


class TierConfig(_Strict):
    """A value tier: customers meeting every minimum are in it (first matching tier wins)."""

    name: str = Field(min_length=1, max_length=80)
    min_annual_spend: float = Field(0.0, ge=0, le=MAX_MONEY)
    min_purchases: int = Field(0, ge=0, le=INT32_MAX)
    min_referrals: int = Field(0, ge=0, le=INT32_MAX)


class SegmentConfig(_Strict):
    """An RFM segment: a box of recency/frequency/monetary scores (1 = worst, 5 = best)."""

    name: str = Field(min_length=1, max_length=80)
    recency: tuple[int, int] = Field((1, 5), strict=False)
    frequency: tuple[int, int] = Field((1, 5), strict=False)
    monetary: tuple[int, int] = Field((1, 5), strict=False)

    @model_validator(mode="after")
    def _ranges(self) -> SegmentConfig:
        for name in ("recency", "frequency", "monetary"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi <= 5:
                raise ValueError(f"{name} must be [low, high] with 1 <= low <= high <= 5; got {[lo, hi]}")
        return self


class RFMConfig(_Strict):
    """RFM scoring: quintile scores recomputed every ``every_days`` days among buyers."""

    every_days: int = Field(30, ge=1, le=MAX_DAYS)
    segments: list[SegmentConfig] = Field(default_factory=list)


class RunConfig(_Strict):
    """Run length and defaults, overridable from the command line."""

    days: int = Field(365, ge=1, le=MAX_DAYS)
    seed: int = Field(0, ge=0, le=2**64 - 1)
    annual_discount_rate: float = Field(0.10, ge=0, le=1, description="for discounted LTV")
    observed_window_days: int = Field(
        30, ge=1, le=MAX_DAYS, description="'observed active' means a purchase within this many days"
    )


class ScenarioConfig(_Strict):
    """A whole scenario, as read from a TOML file."""

    name: str = Field(min_length=1)
    description: str = ""
    run: RunConfig = RunConfig()
    stages: list[StageConfig] = Field(min_length=1)
    transitions: list[TransitionConfig] = Field(default_factory=list)
    customers: CustomerConfig
    population: PopulationConfig
    channels: list[ChannelConfig] = Field(default_factory=list)
    tiers: list[TierConfig] = Field(default_factory=list)
    rfm: RFMConfig = RFMConfig()
    policies: list[dict[str, Any]] = Field(default_factory=list)
    experiment: ExperimentDesign | None = Field(
        None, description="an experiment design (arms, warmup_days, days, stratify_by, customers)"
    )
    budget: BudgetConfig | None = Field(
        None, description="a budget allocation question (total per day, levers with min/max/pacing, "
        "objective, min_ltv_cac)"
    )

    @model_validator(mode="after")
    def _names_resolve(self) -> ScenarioConfig:
        stage_names = [s.name for s in self.stages]
        _unique("stages", stage_names)
        _unique("channels", [c.name for c in self.channels])
        _unique("tiers", [t.name for t in self.tiers])
        _unique("rfm.segments", [s.name for s in self.rfm.segments])
        known = set(stage_names)
        allowed = ", ".join(repr(s) for s in stage_names)
        for i, tr in enumerate(self.transitions):
            for end, value in (("from", tr.from_), ("to", tr.to)):
                if value not in known:
                    raise ValueError(
                        f"transitions[{i}].{end}: unknown stage '{value}'; the stages are {allowed}"
                    )
        for field in ("initial_stage", "entry_stage"):
            value = getattr(self.population, field)
            if value is not None and value not in known:
                raise ValueError(f"population.{field}: unknown stage '{value}'; the stages are {allowed}")
        leaving: dict[str, float] = {}
        for tr in self.transitions:
            if tr.rule == "probability":
                leaving[tr.from_] = leaving.get(tr.from_, 0.0) + tr.daily_probability
        for name, total in leaving.items():
            if total > 1 + 1e-12:
                raise ValueError(
                    f"transitions: the daily probability rules leaving stage '{name}' add up to {total:.6g}; "
                    "they must add up to at most 1"
                )
        churned = {s.name for s in self.stages if s.churned}
        for i, tr in enumerate(self.transitions):
            if tr.rule == "churn" and tr.to not in churned:
                raise ValueError(
                    f"transitions[{i}]: a 'churn' rule must lead to a stage marked churned = true; "
                    f"'{tr.to}' is not"
                )
            if tr.from_ in churned and tr.rule not in ("policy", "time", "probability"):
                raise ValueError(
                    f"transitions[{i}]: customers in churned stage '{tr.from_}' make no purchases "
                    f"and cannot churn again, so rule '{tr.rule}' can never fire there"
                )
        return self


def _unique(where: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{where}: the name '{name}' is used twice; names must be unique")
        seen.add(name)
