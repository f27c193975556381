"""Tests for analysis/analytic.py: the closed form of Markov scenarios, against both engines.

The ``markov_value`` preset is a Markov chain, so each engine's simulated stage occupancy and
discounted value per customer must agree with :func:`analysis.analytic.analytic_summary`:
occupancy at the end of day ``t`` (``result.daily["stage:NAME"]`` row ``t`` over the customers) is
a binomial share around ``occupancy_end_of_day[t]``; the mean of ``result.customers["value"]`` is a
mean of independent customers around ``value_per_customer``. Each check allows 4 standard errors
(a correct engine exceeds that with probability 6.3e-5 per check, so at most 2.9e-3 over the 46
checks of one engine, by Bonferroni); the seeds are fixed, so the outcome is too.

Sizes: 300,000 customers x 365 days on the vector engine (the preset's horizon), 8,000 x 150
days on the agent engine, whose 4-SE bounds are correspondingly about six times wider.
Sharpness: the same checks at the vector size flag a 2% higher new -> active probability (power
0.999, computed from the closed form and asserted in the test).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.analytic import analytic_summary, markov_chain
from scenarios.loader import presets
from sim.scenario import load_scenario, parse_scenario
from scenarios.errors import ConfigError
from sim.model import CustomerModel
from tests.sim.parity import scenario_variant

LIMIT_SE = 4.0
CHECK_DAYS = (0, 7, 21, 30, 60, 120, 180, 270, 364)
VECTOR_CUSTOMERS, VECTOR_DAYS = 300_000, 365
AGENT_CUSTOMERS, AGENT_DAYS = 8_000, 150


def _check_days(days: int) -> list[int]:
    return sorted({d for d in CHECK_DAYS if d < days} | {days - 1})


def _deviations(result, summary) -> dict[str, float]:
    """Distance of each simulated figure from the closed form, in standard errors."""
    n = result.n_customers
    out = {}
    for name, expected in summary["occupancy_end_of_day"].items():
        observed = result.daily[f"stage:{name}"].to_numpy() / n
        for t in _check_days(result.days):
            p = expected[t]
            se = math.sqrt(max(p * (1 - p), 0.0) / n)
            diff = observed[t] - p
            out[f"occupancy day {t} stage {name!r}"] = diff / se if se > 0 else (0.0 if abs(diff) < 1e-12 else math.inf)
    value = result.customers["value"]
    se = value.std(ddof=1) / math.sqrt(value.size)
    out["value per customer"] = (value.mean() - summary["value_per_customer"]) / se
    return out


def _report(deviations: dict[str, float], top: int = 6) -> str:
    worst = sorted(deviations.items(), key=lambda kv: -abs(kv[1]))[:top]
    return "\n".join(f"  {k}: {z:+.2f} SE" for k, z in worst)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("engine", "customers", "days", "seed"),
    [("vector", VECTOR_CUSTOMERS, VECTOR_DAYS, 31), ("agent", AGENT_CUSTOMERS, AGENT_DAYS, 32)],
)
def test_engine_converges_to_the_closed_form(engine, customers, days, seed):
    """Stage occupancy at the check days and discounted value per customer lie within 4 SE of the closed form."""
    scenario = load_scenario("markov_value")
    result = CustomerModel(scenario, seed=seed, customers=customers, days=days, engine=engine).run()
    deviations = _deviations(result, analytic_summary(scenario, days))
    worst = max(abs(z) for z in deviations.values())
    assert worst <= LIMIT_SE, f"{engine} engine off the closed form:\n" + _report(deviations)


def _one_sample_power(p0: float, p1: float, n: int, limit: float = LIMIT_SE) -> float:
    """Probability that a share with mean ``p1`` lands more than ``limit`` SE (under ``p0``) from ``p0``."""
    se0, se1 = math.sqrt(p0 * (1 - p0) / n), math.sqrt(p1 * (1 - p1) / n)
    return float(stats.norm.sf((p0 + limit * se0 - p1) / se1) + stats.norm.cdf((p0 - limit * se0 - p1) / se1))


@pytest.mark.slow
def test_closed_form_check_detects_a_two_percent_probability_change():
    """A vector run with new -> active 2% more likely fails the same 4-SE checks at the same size.

    Power: 'new' occupancy on day 21 responds most (0.2347 vs 0.2293); at 300,000 customers that
    is 7.0 SE, so that check alone fires with probability 0.9988 (closed form of both chains,
    normal approximation; asserted below), and 'new' on day 30 (6.9 SE) backs it up. The run is
    seeded, so the outcome is fixed.
    """
    scenario = load_scenario("markov_value")

    def change(raw: dict) -> None:
        (rule,) = [t for t in raw["transitions"] if (t["from"], t["to"]) == ("new", "active")]
        rule["daily_probability"] *= 1.02

    planted = scenario_variant(scenario, change)
    truth, moved = analytic_summary(scenario, VECTOR_DAYS), analytic_summary(planted, VECTOR_DAYS)
    power = max(
        _one_sample_power(truth["occupancy_end_of_day"][k][t], moved["occupancy_end_of_day"][k][t], VECTOR_CUSTOMERS)
        for k in truth["stages"]
        for t in _check_days(VECTOR_DAYS)
        if 0 < truth["occupancy_end_of_day"][k][t] < 1
    )
    assert power >= 0.99
    result = CustomerModel(planted, seed=33, customers=VECTOR_CUSTOMERS, days=VECTOR_DAYS, engine="vector").run()
    deviations = _deviations(result, truth)
    assert max(abs(z) for z in deviations.values()) > LIMIT_SE, "the planted change went unnoticed:\n" + _report(deviations)


# --- the closed form itself ------------------------------------------------------------------------

TINY = """
name = "tiny_chain"
[run]
days = 5
seed = 1
annual_discount_rate = 0.5
[population]
initial_customers = 10
initial_stage = "a"
[customers]
purchase_rate = { distribution = "constant", value = 0.3 }
basket_value = { distribution = "constant", value = 10.0 }
churn_hazard = { distribution = "constant", value = 0.05 }
gross_margin = 0.4
[[stages]]
name = "a"
churn_multiplier = 2.0
[[stages]]
name = "b"
purchase_multiplier = 2.0
basket_multiplier = 1.5
churn_multiplier = 0.5
[[stages]]
name = "gone"
churned = true
[[transitions]]
from = "a"
to = "b"
rule = "probability"
daily_probability = 0.2
[[transitions]]
from = "a"
to = "gone"
rule = "probability"
daily_probability = 0.1
[[transitions]]
from = "b"
to = "a"
rule = "probability"
daily_probability = 0.15
[[transitions]]
from = "a"
to = "gone"
rule = "churn"
[[transitions]]
from = "b"
to = "gone"
rule = "churn"
[[channels]]
name = "none"
daily_spend = 0.0
cac = 1.0
saturation = 1.0
"""


def _brute_force(scenario, start: str, horizon: int) -> tuple[np.ndarray, float]:
    """Expected end-of-day occupancy and discounted value, by enumerating every path of every day.

    Follows the day of ``sim.stages`` literally: latent churn first (no purchase that day); else a
    purchase with probability ``1 - exp(-rate)`` and, with its own draw, one probability rule.
    """
    cfg = scenario.config
    names = [s.name for s in cfg.stages]
    stage = {s.name: s for s in cfg.stages}
    c = cfg.customers
    churn_to = {t.from_: t.to for t in cfg.transitions if t.rule == "churn"}
    prob = {n: [(t.to, t.daily_probability) for t in cfg.transitions if t.rule == "probability" and t.from_ == n] for n in names}
    d = 1.0 + cfg.run.annual_discount_rate
    occupancy = np.zeros((horizon, len(names)))
    value = 0.0

    def walk(t: int, here: str, p: float) -> None:
        nonlocal value
        if t == horizon:
            return
        st = stage[here]
        outcomes = []  # (probability, bought, next stage)
        h = c.churn_hazard.value * st.churn_multiplier if here in churn_to and not st.churned else 0.0
        if h > 0:
            outcomes.append((h, False, churn_to[here]))
        buy = 0.0 if st.churned else -math.expm1(-c.purchase_rate.value * st.purchase_multiplier)
        for bought, pb in ((True, buy), (False, 1.0 - buy)):
            stay = 1.0 - sum(q for _, q in prob[here])
            for to, q in [*prob[here], (here, stay)]:
                outcomes.append(((1 - h) * pb * q, bought, to))
        for q, bought, to in outcomes:
            if q == 0:
                continue
            if bought:
                value += p * q * c.basket_value.value * st.basket_multiplier * c.gross_margin * d ** (-t / 365)
            occupancy[t, names.index(to)] += p * q
            walk(t + 1, to, p * q)

    walk(0, start, 1.0)
    return occupancy, value


def test_closed_form_equals_brute_force_on_a_tiny_chain():
    """Occupancy and discounted value of the closed form equal an enumeration of every path."""
    scenario = parse_scenario(TINY, source="tiny chain")
    horizon = scenario.config.run.days
    summary = analytic_summary(scenario, horizon)
    occupancy, value = _brute_force(scenario, "a", horizon)
    for k, name in enumerate(summary["stages"]):
        np.testing.assert_allclose(summary["occupancy_end_of_day"][name], occupancy[:, k], rtol=1e-12, atol=1e-15)
    assert summary["value_per_customer"] == pytest.approx(value, rel=1e-12)
    for start in summary["stages"]:
        _, from_start = _brute_force(scenario, start, horizon)
        assert summary["value_by_start_stage"][start]["horizon"] == pytest.approx(from_start, rel=1e-12, abs=1e-15)


def _expected_reasons(scenario) -> dict[str, bool]:
    """Each reason a scenario is not Markov, as the error words it, and whether it applies here."""
    cfg = scenario.config
    rules = {t.rule for t in cfg.transitions}
    reasons = {
        "it has event rules": "event" in rules,
        "it has time rules": "time" in rules,
        "it has policy-driven transitions": "policy" in rules,
        "it has policies": bool(cfg.policies),
        "it acquires customers during the run": any(ch.daily_spend > 0 for ch in cfg.channels),
    }
    for trait in ("purchase_rate", "basket_value", "churn_hazard"):
        reasons[f"customers.{trait} varies across customers"] = getattr(cfg.customers, trait).distribution != "constant"
    dropout = cfg.customers.dropout_after_purchase
    reasons["dropout_after_purchase is not zero"] = not (dropout.distribution == "constant" and dropout.value == 0)
    return reasons


@pytest.mark.parametrize("preset", [p for p in sorted(presets()) if p != "markov_value"])
def test_markov_chain_names_every_reason_a_preset_is_not_markov(preset):
    """markov_chain raises ConfigError naming the preset and every reason (and no other) it has no closed form."""
    scenario = load_scenario(preset)
    reasons = _expected_reasons(scenario)
    assert any(reasons.values())
    with pytest.raises(ConfigError, match=f"preset '{preset}': no closed form, because ") as info:
        markov_chain(scenario)
    message = str(info.value)
    for reason, applies in reasons.items():
        assert (reason in message) == applies, f"{reason!r} {'missing from' if applies else 'wrongly in'}: {message}"


def test_markov_chain_accepts_the_markov_preset():
    """markov_value is Markov: its matrix is row-stochastic and nothing is reported against it."""
    chain = markov_chain(load_scenario("markov_value"))
    np.testing.assert_allclose(chain.P.sum(axis=1), 1.0, atol=1e-12)
    assert chain.start.sum() == 1.0
