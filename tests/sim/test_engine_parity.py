"""Engine parity: ``engine="agent"`` and ``engine="vector"`` implement one semantics.

Design. For every shipped preset, each engine runs the preset with 2,000 base customers (plus
whoever its channels acquire) for 120 days: the agent engine on 3 seeds, the vector engine on 15
other seeds (it is cheap, and a larger sample on one side sharpens every two-sample test) and
again on the agent's 3 seeds. Seeds are derived from the preset name, so each preset sees fresh
random numbers; they are fixed, so the file is deterministic. :mod:`tests.sim.parity` compares
what users read, in two ways:

- two-sample tests between the independent seeds: stage occupancy at the end of every day for
  every stage, activation, repurchase within 30 days and true retention at every recorded age
  (Fisher's exact test on pooled counts), per-customer LTV and policy cost (Mann-Whitney U and
  Welch's t). These hold whatever the engines' random numbers are;
- paired tests between the runs of the agent's seeds: customers draw keyed random numbers
  (:mod:`sim.draws`), so the same customer meets the same draws in both engines, and any
  difference in semantics shows up as customers who disagree, mostly one way (exact sign tests
  per day and stage, on activation, repurchase, purchases, LTV and policy cost).

False-alarm budget. The family is every comparison of every parity test in this file, counted
before any run by :func:`~tests.sim.parity.comparison_count` (about 7,500 with six presets). Each
comparison rejects at ``FAMILY_ALPHA / that count`` (about 1.3e-7, |z| > 5.3), so by Bonferroni
the probability that this file reports a difference between two correct engines is at most
``FAMILY_ALPHA`` = 1e-3.

Power. Two-sample, at these sizes (about 6,000 customers on the agent side, five times as many on
the vector side): a share near 0.3 that differs by 0.045 is flagged with power 0.9, a share of 0.05
against 0.075 likewise. Timing is sharp because the presets start their whole base on day 0: a
time rule firing a day late leaves a stage empty on a day where the reference holds a batch of
customers (:func:`test_parity_detects_a_time_rule_firing_one_day_late`). Paired, a semantic
difference moves individual customers one way, which an exact sign test sees from about 24
customers: a 2% higher churn hazard is seen with power 0.86 at the parity size (6,000 pairs) and
1 - 1e-7 from 12,000 pairs (:func:`test_parity_machinery_detects_a_two_percent_hazard_change`),
where the two-sample tests would need 1.1 million customers a side.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import pytest
from scipy import stats

from analysis.analytic import analytic_summary
from scenarios.loader import presets
from sim.scenario import load_scenario
from sim.model import CustomerModel
from tests.sim.parity import (
    Sample,
    bonferroni,
    compare_paired,
    compare_samples,
    comparison_count,
    describe,
    draw_sample,
    flagged,
    scenario_variant,
    sign_test_p,
    two_proportion_power,
)

PRESETS = sorted(presets())
CUSTOMERS = 2_000
DAYS = 120
AGENT_SEEDS = 3
VECTOR_SEEDS = 15
FAMILY_ALPHA = 1e-3
#: at most this share of customer-days may see the engines disagree on a shared seed (float32
#: against float64 rounding can flip a decision with probability about 1e-7)
DISAGREEMENT_TOLERANCE = 1e-5


@functools.cache
def alpha() -> float:
    """Per-comparison level: Bonferroni over every parity comparison of every preset."""
    total = sum(comparison_count(load_scenario(name), DAYS) for name in PRESETS)
    return bonferroni(FAMILY_ALPHA, total)


def _seeds(preset: str, engine: str) -> list[int]:
    """Fixed seeds, different for each preset and each engine."""
    base = zlib.crc32(f"{preset}/{engine}".encode()) % 1_000_000 * 100
    return [base + k for k in range(AGENT_SEEDS if engine == "agent" else VECTOR_SEEDS)]


def _draw(scenario, engine: str, seeds, paired: bool) -> Sample:
    return draw_sample(scenario, engine=engine, seeds=seeds, customers=CUSTOMERS, days=DAYS, paired=paired)


@functools.cache
def _samples(preset: str) -> tuple[Sample, Sample, Sample]:
    """Agent runs, vector runs of independent seeds, vector runs of the agent's seeds (cached)."""
    scenario = load_scenario(preset)
    agent_seeds = _seeds(preset, "agent")
    return (
        _draw(scenario, "agent", agent_seeds, paired=True),
        _draw(scenario, "vector", _seeds(preset, "vector"), paired=False),
        _draw(scenario, "vector", agent_seeds, paired=True),
    )


def _compare(agent: Sample, vector: Sample, vector_paired: Sample) -> list:
    """Everything the parity test compares: two-sample, then paired."""
    return compare_samples(agent, vector) + compare_paired(agent, vector_paired)


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_engines_agree_on_preset(preset):
    """No two-sample or paired comparison rejects; on shared seeds each customer is in the same stage each day."""
    agent, vector, vector_paired = _samples(preset)
    comparisons = _compare(agent, vector, vector_paired)
    assert len(comparisons) <= comparison_count(load_scenario(preset), DAYS)
    # every stage on every day was compared, both ways, and so were LTV and policy costs
    assert sum(c.quantity.startswith(("occupancy", "paired occupancy")) for c in comparisons) == 2 * DAYS * len(agent.stages)
    assert any(c.quantity.startswith("ltv") for c in comparisons)
    bad = flagged(comparisons, alpha())
    assert not bad, f"{preset}: the engines differ\n" + describe(comparisons, alpha())
    # the engines share each customer's draws, so they should not merely agree in distribution
    disagree = sum(c.estimate_a + c.estimate_b for c in comparisons if c.quantity.startswith("paired occupancy"))
    customer_days = sum(c.n_a for c in comparisons if c.quantity.startswith("paired occupancy")) / len(agent.stages)
    assert disagree / 2 <= DISAGREEMENT_TOLERANCE * customer_days, (
        f"{preset}: on shared seeds the engines put {disagree / 2:.0f} of {customer_days:.0f} customer-days in different stages"
    )


# --- sharpness: the same machinery flags a planted semantic difference ----------------------------

# Time rules of retail_tiers that can fire within DAYS (the 365-day rule and the rule leaving
# value_add, a stage reached only after 365 days, cannot).
PLANTED_TIME_RULES = [("activation", "retention"), ("retention", "light_warning"), ("light_warning", "churn_warning")]


def _one_day_late(source: str, target: str):
    def change(raw: dict) -> None:
        hits = [t for t in raw["transitions"] if t["rule"] == "time" and (t["from"], t["to"]) == (source, target)]
        assert len(hits) == 1, f"no single time rule {source} -> {target}"
        hits[0]["after_days"] += 1

    return change


@pytest.mark.slow
def test_parity_detects_a_time_rule_firing_one_day_late():
    """A vector engine whose time rule fires one day late (``>`` for ``>=``) fails the parity comparisons.

    The planted runs are what such a buggy kernel would produce: the parity test's vector seeds
    (and the agent's, for pairing), with one rule's ``after_days`` raised by one, which is exactly
    ``t - ref > after_days``. They are compared with the parity test's agent sample, at its level.

    Power: the base starts on day 0, so on a rule's first firing day the agent sample holds a
    batch the late engine cannot have yet: 82 customers in retention on day 30 (two-sample
    p = 1e-64), 29 in light_warning on day 45 (p = 4e-23), 14 in churn_warning on day 90
    (p = 3e-11); paired, the customers a late rule holds back disagree one way on later days too
    (90 on day 37 for the 30-day rule, p = 2e-27). In 10 replicate designs with other seeds (a
    vector sample standing in for the agent one), the 30- and 45-day rules were flagged 10 times
    out of 10 and the 90-day rule 7 times: its first batch averages about 11 customers, and with a
    vector side five times larger the two-sample test needs 10. The runs are seeded, so the
    outcome here is fixed.
    """
    scenario = load_scenario("retail_tiers")
    agent, _, _ = _samples("retail_tiers")
    for source, target in PLANTED_TIME_RULES:
        late = scenario_variant(scenario, _one_day_late(source, target))
        planted = _draw(late, "vector", _seeds("retail_tiers", "vector"), paired=False)
        planted_paired = _draw(late, "vector", _seeds("retail_tiers", "agent"), paired=True)
        comparisons = _compare(agent, planted, planted_paired)
        bad = flagged(comparisons, alpha())
        assert bad, f"a one-day-late {source} -> {target} rule went unnoticed\n" + describe(comparisons, alpha())
        assert all("occupancy" in c.quantity for c in bad[:1])


HAZARD_CHANGE = 1.02
HAZARD_SEEDS = (81, 82, 83)
HAZARD_CUSTOMERS = 4_000


def _hazard_times(factor: float):
    def change(raw: dict) -> None:
        raw["customers"]["churn_hazard"]["value"] *= factor

    return change


@pytest.mark.slow
def test_parity_machinery_detects_a_two_percent_hazard_change():
    """Vector runs with the churn hazard 2% higher are flagged against vector runs of the same seeds.

    Design: markov_value, 3 seeds x 4,000 customers x 120 days, the same seeds on both sides, so
    every customer meets the same draws and only the hazard differs (a paired, common-random-
    numbers design). A customer then churns with the higher hazard whenever it churns with the
    lower one, so the customers lost on the last day under the planted hazard only are Binomial(
    12,000, p1 - p0) with the closed-form lost shares p0 = 0.3064 and p1 = 0.3113, about 59, and
    none the other way; the sign test rejects from 24. Power 1 - 1e-7 (computed and asserted
    below); at the parity test's own size (6,000 pairs) it would be 0.86. Without pairing the same
    change needs 1.1 million customers a side (two-sample power 0.99, closed form), and is
    invisible at the parity sizes (power 3e-6; asserted). The runs are seeded, so the outcome is
    fixed.
    """
    scenario = load_scenario("markov_value")
    planted_scenario = scenario_variant(scenario, _hazard_times(HAZARD_CHANGE))
    lost = [analytic_summary(sc, DAYS)["occupancy_end_of_day"]["lost"][DAYS - 1] for sc in (scenario, planted_scenario)]
    p0, p1 = lost
    pairs = len(HAZARD_SEEDS) * HAZARD_CUSTOMERS
    k_min = next(k for k in range(1, 200) if sign_test_p(k, 0) < alpha())
    assert stats.binom.sf(k_min - 1, pairs, p1 - p0) >= 0.99
    assert two_proportion_power(p0, p1, 1_100_000, 1_100_000, alpha()) >= 0.99
    assert two_proportion_power(p0, p1, AGENT_SEEDS * CUSTOMERS, VECTOR_SEEDS * CUSTOMERS, alpha()) < 0.01

    def draw(sc):
        return draw_sample(sc, engine="vector", seeds=HAZARD_SEEDS, customers=HAZARD_CUSTOMERS, days=DAYS, paired=True)

    comparisons = compare_paired(draw(scenario), draw(planted_scenario))
    bad = flagged(comparisons, alpha())
    assert bad, "a 2% hazard change went unnoticed\n" + describe(comparisons, alpha())
    assert any("'lost'" in c.quantity for c in bad)
    np.testing.assert_array_less(0, [c.estimate_b for c in bad if "'lost'" in c.quantity])


# --- regression: found while benchmarking the vector engine ----------------------------------------


def test_vector_day_outputs_do_not_pin_population_sized_buffers():
    """Each day's buyers that the model keeps own only their own data, not an n-long kernel buffer.

    Regression: the kernel returned views of buffers as long as the population, and the model
    keeps every day's buyers for its look-back, so peak memory grew by 8 bytes per customer per
    day (3 GB after a year of 1M customers instead of 0.7 GB).
    """
    model = CustomerModel(load_scenario("markov_value"), seed=1, customers=20_000, days=5, engine="vector")
    model.run()
    assert sum(b.size for b in model.buyers_log.values()) > 0
    for buyers in model.buyers_log.values():
        owner = buyers if buyers.base is None else buyers.base
        assert memoryview(owner).nbytes <= buyers.nbytes
