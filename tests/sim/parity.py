"""Comparison machinery for the engine parity tests (and for their planted-difference checks).

Core objects: :class:`Sample` (what users read from one engine's runs of a scenario, pooled over
seeds, plus per-customer records for pairing), :func:`draw_sample` (run one engine over several
seeds), :func:`compare_samples` (two-sample tests between samples of independent seeds),
:func:`compare_paired` (paired tests between runs of the same seeds), :func:`comparison_count`
(the most comparisons both can make for a design, fixed before any run, for Bonferroni),
:func:`flagged` and :func:`describe` (which comparisons reject, as a readable report) and
:func:`scenario_variant` (a scenario with one thing changed, to plant a difference).

Two-sample tests (independent seeds), on what users read:

- stage occupancy at the end of *every* day, for every stage (customers in the stage out of all
  customers, pooled over seeds), activation (first purchase within 30 days of acquisition),
  repurchase within 30 days and true retention at every recorded age: Fisher's exact test on
  the pooled counts (conditional on the margins, two-sided by doubling the smaller tail, so valid
  for counts of any size, 0 vs 30 included);
- per-customer LTV and per-customer policy cost: Mann-Whitney U (tie-corrected normal
  approximation) and Welch's t on the means.

Customers are (almost) independent within a run: traits are drawn independently, arrivals are
Poisson (so, given their number, independent), and only weak population-level couplings exist
(RFM quintile thresholds, referrals). Pooling runs of independent seeds keeps the counts
binomial, as Fisher's test assumes; the two-sided Welch and Mann-Whitney tails are accurate far out
at these sizes (the skewness terms cancel in a two-sided test).

Paired tests (the same seeds on both sides). Customers' random numbers are keyed by who they are
(:mod:`sim.draws`), so a customer of seed ``s`` meets the same draws in both runs; customers are
matched by identity (``state.uid``). Per day and stage, the customers in the stage under ``a`` only
are compared with those under ``b`` only; likewise activation, repurchase within 30 days (customers
eligible on both sides), purchases, LTV and policy cost per customer (which side is larger). Each
is an exact sign test (McNemar's test for the binary ones): under the null the two kinds of
disagreement are equally likely, whether the runs share every draw or none. Money that differs by
less than 1e-6 of the customer's revenue counts as equal: the kernel computes order values in
float32 and the agent in float64, and that rounding is not a difference in semantics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from analysis.metrics import ACTIVATION_WINDOW, activation_rate, repurchase_rate
from scenarios.schema import ScenarioConfig
from sim.model import CustomerModel
from sim.records import RETENTION_AGES
from sim.state import NONE

__all__ = [
    "Sample", "PairedRun", "Comparison", "draw_sample", "compare_samples", "compare_paired",
    "comparison_count", "bonferroni", "flagged", "describe", "fisher_p", "sign_test_p",
    "scenario_variant", "two_proportion_power",
]  # fmt: skip

SHARES = ("activation_30d", "repurchase_30d")
PER_CUSTOMER = {"ltv": "value", "policy_cost": "policy_cost"}
REPURCHASE_DAYS = 30
MONEY_TIE = 1e-6  # relative to the customer's revenue (plus one unit of money)


@dataclass(frozen=True)
class PairedRun:
    """One run's per-customer record, to pair with the run of the same seed on the other side."""

    seed: int
    uid: np.ndarray  # (n,) customer identities
    stage_by_day: np.ndarray  # (days, n) stage at the end of each day; -1 before arrival
    activated: np.ndarray  # (n,) 1 hit, 0 miss, -1 not eligible
    repurchased: np.ndarray  # (n,) likewise
    purchases: np.ndarray
    revenue: np.ndarray
    value: np.ndarray
    policy_cost: np.ndarray


@dataclass(frozen=True)
class Sample:
    """One engine's runs of one scenario: pooled aggregates, and per-run records if asked for."""

    engine: str
    stages: tuple[str, ...]
    seeds: tuple[int, ...]
    occupancy: np.ndarray  # (days, stages): customers in each stage at the end of each day
    customers: np.ndarray  # (days,): customers at the end of each day
    shares: dict[str, tuple[int, int]]  # name -> (hits, eligible)
    per_customer: dict[str, np.ndarray]  # name -> one value per customer
    paired: tuple[PairedRun, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """One test: the quantity, each side's estimate and size, the method and the p-value.

    For paired tests the estimates are the numbers of customers for which side ``a`` (resp.
    ``b``) has the property (or the larger value) and the other side not, out of ``n`` pairs.
    """

    quantity: str
    method: str
    estimate_a: float
    estimate_b: float
    n_a: int
    n_b: int
    p_value: float

    def __str__(self) -> str:
        return (
            f"{self.quantity}: {self.estimate_a:.6g} (n={self.n_a}) vs {self.estimate_b:.6g} "
            f"(n={self.n_b}), {self.method} p={self.p_value:.3g}"
        )


# --- samples -------------------------------------------------------------------------------------


def _paired_run(seed: int, model, result, snapshots: list[np.ndarray]) -> PairedRun:
    c = result.customers
    n, days = result.n_customers, result.days
    stage_by_day = np.full((len(snapshots), n), -1, dtype=np.int16)
    for t, snap in enumerate(snapshots):
        stage_by_day[t, : snap.size] = snap
    fp, sp, acq = c["first_purchase"], c["second_purchase"], c["acquired"]
    eligible = (c["channel"] != NONE) & (acq + ACTIVATION_WINDOW <= days)
    hit = (fp != NONE) & (fp - acq < ACTIVATION_WINDOW)
    activated = np.where(eligible, hit, -1).astype(np.int8)
    eligible = (fp != NONE) & (fp + REPURCHASE_DAYS <= days - 1)
    hit = (sp != NONE) & (sp - fp <= REPURCHASE_DAYS)
    repurchased = np.where(eligible, hit, -1).astype(np.int8)
    return PairedRun(
        seed=seed,
        uid=np.array(model.state.column("uid")),
        stage_by_day=stage_by_day,
        activated=activated,
        repurchased=repurchased,
        purchases=np.asarray(c["purchases"], dtype=np.int64),
        revenue=np.asarray(c["revenue"], dtype=np.float64),
        value=np.asarray(c["value"], dtype=np.float64),
        policy_cost=np.asarray(c["policy_cost"], dtype=np.float64),
    )


def draw_sample(scenario, *, engine: str, seeds, customers: int, days: int, paired: bool = False) -> Sample:
    """Run ``scenario`` on ``engine`` once per seed (``customers`` x ``days``) and pool the runs.

    With ``paired``, also keep each run's per-customer record (stage every day, outcomes) for
    :func:`compare_paired`.
    """
    results, records = [], []
    for seed in seeds:
        model = CustomerModel(scenario, seed=int(seed), customers=customers, days=days, engine=engine)
        snapshots: list[np.ndarray] = []

        def snapshot(_steps: int, model=model, snapshots=snapshots) -> None:
            snapshots.append(model.state.stage[: model.state.n].copy())

        result = model.run(progress=snapshot if paired else None)
        results.append(result)
        if paired:
            records.append(_paired_run(int(seed), model, result, snapshots))
    return _pool(results, engine, tuple(int(s) for s in seeds), tuple(records))


def _pool(results, engine: str, seeds: tuple[int, ...], records: tuple[PairedRun, ...]) -> Sample:
    first = results[0]
    names = tuple(first.stage_names)
    days = first.days
    occupancy = np.zeros((days, len(names)), dtype=np.int64)
    customers = np.zeros(days, dtype=np.int64)
    shares = {name: [0, 0] for name in SHARES}
    alive = np.zeros(len(first.retention_ages), dtype=np.int64)
    total = np.zeros(len(first.retention_ages), dtype=np.int64)
    per_customer: dict[str, list[np.ndarray]] = {name: [] for name in PER_CUSTOMER}
    for r in results:
        if r.days != days or tuple(r.stage_names) != names:
            raise ValueError("a sample pools runs of one scenario and one length only")
        occupancy += r.daily[[f"stage:{s}" for s in names]].to_numpy(dtype=np.int64)
        customers += r.daily["customers"].to_numpy(dtype=np.int64)
        for name, metric in (("activation_30d", activation_rate(r)), ("repurchase_30d", repurchase_rate(r, REPURCHASE_DAYS))):
            if metric.n:
                shares[name][0] += int(round(metric.value * metric.n))
                shares[name][1] += metric.n
        alive += r.retention_alive.sum(axis=0)
        total += r.retention_total.sum(axis=0)
        for name, column in PER_CUSTOMER.items():
            per_customer[name].append(np.asarray(r.customers[column], dtype=np.float64))
    out_shares = {name: (h, n) for name, (h, n) in shares.items()}
    for age, a, n in zip(first.retention_ages, alive, total):
        out_shares[f"true_retention_{int(age)}d"] = (int(a), int(n))
    return Sample(
        engine=engine,
        stages=names,
        seeds=seeds,
        occupancy=occupancy,
        customers=customers,
        shares=out_shares,
        per_customer={k: np.concatenate(v) for k, v in per_customer.items()},
        paired=records,
    )


# --- two-sample tests -----------------------------------------------------------------------------


def fisher_p(k1, n1, k2, n2) -> np.ndarray:
    """Two-sided Fisher exact p-values of ``k1/n1`` vs ``k2/n2`` (vectorised; tail doubling)."""
    k1, n1, k2, n2 = (np.asarray(x, dtype=np.int64) for x in (k1, n1, k2, n2))
    total, hits = n1 + n2, k1 + k2
    # given both margins, k1 is hypergeometric: n1 draws from total with hits successes
    lower = stats.hypergeom.cdf(k1, total, hits, n1)
    upper = stats.hypergeom.sf(k1 - 1, total, hits, n1)
    return np.minimum(1.0, 2.0 * np.minimum(lower, upper))


def _share_comparisons(quantities, k1, n1, k2, n2) -> list[Comparison]:
    k1, n1, k2, n2 = (np.asarray(x, dtype=np.int64) for x in (k1, n1, k2, n2))
    ok = (n1 > 0) & (n2 > 0)
    p = np.ones(k1.shape)
    if ok.any():
        p[ok] = fisher_p(k1[ok], n1[ok], k2[ok], n2[ok])
    return [
        Comparison(q, "Fisher exact", k1[i] / n1[i], k2[i] / n2[i], int(n1[i]), int(n2[i]), float(p[i]))
        for i, q in enumerate(quantities)
        if ok[i]
    ]


def _value_comparisons(name: str, a: np.ndarray, b: np.ndarray) -> list[Comparison]:
    if a.size < 2 or b.size < 2:
        return []
    if np.ptp(a) == 0 and np.ptp(b) == 0:  # both constant: equal or certainly different
        p = 1.0 if a[0] == b[0] else 0.0
        return [Comparison(f"{name} (constant)", "exact", float(a[0]), float(b[0]), a.size, b.size, p)]
    mw = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    welch = stats.ttest_ind(a, b, equal_var=False)
    n_a, n_b = a.size, b.size
    return [
        Comparison(f"{name} distribution", "Mann-Whitney U (medians)", float(np.median(a)), float(np.median(b)), n_a, n_b, float(mw.pvalue)),
        Comparison(f"{name} mean", "Welch t", float(a.mean()), float(b.mean()), n_a, n_b, float(welch.pvalue)),
    ]  # fmt: skip


def compare_samples(a: Sample, b: Sample) -> list[Comparison]:
    """Two-sample tests between samples ``a`` and ``b`` (independent seeds) of one design."""
    if a.stages != b.stages or a.occupancy.shape != b.occupancy.shape:
        raise ValueError("compare_samples needs two samples of the same scenario and length")
    days, S = a.occupancy.shape
    quantities = [f"occupancy day {t} stage {name!r}" for t in range(days) for name in a.stages]
    out = _share_comparisons(
        quantities,
        a.occupancy.ravel(), np.repeat(a.customers, S),
        b.occupancy.ravel(), np.repeat(b.customers, S),
    )  # fmt: skip
    names = [k for k in a.shares if k in b.shares]
    out += _share_comparisons(
        names,
        [a.shares[k][0] for k in names], [a.shares[k][1] for k in names],
        [b.shares[k][0] for k in names], [b.shares[k][1] for k in names],
    )  # fmt: skip
    for name in PER_CUSTOMER:
        out += _value_comparisons(name, a.per_customer[name], b.per_customer[name])
    return out


# --- paired tests ------------------------------------------------------------------------------------


def sign_test_p(more_a, more_b) -> np.ndarray:
    """Two-sided exact sign-test p-values (McNemar's exact test) from the two discordant counts."""
    more_a, more_b = (np.asarray(x, dtype=np.int64) for x in (more_a, more_b))
    n = more_a + more_b
    p = np.minimum(1.0, 2.0 * stats.binom.cdf(np.minimum(more_a, more_b), n, 0.5))
    return np.where(n == 0, 1.0, p)


def _paired_counts(ra: PairedRun, rb: PairedRun, S: int) -> dict[str, np.ndarray]:
    """Discordant counts (a only, b only) of one pair of runs, for every paired quantity."""
    _, ia, ib = np.intersect1d(ra.uid, rb.uid, assume_unique=True, return_indices=True)
    days = ra.stage_by_day.shape[0]
    K = S + 1  # stage codes -1..S-1 shifted to 0..S
    occ_a = np.zeros((days, S), dtype=np.int64)
    occ_b = np.zeros((days, S), dtype=np.int64)
    for t in range(days):
        x = ra.stage_by_day[t, ia].astype(np.int64) + 1
        y = rb.stage_by_day[t, ib].astype(np.int64) + 1
        table = np.bincount(x * K + y, minlength=K * K).reshape(K, K)
        diag = np.diag(table)
        occ_a[t] = (table.sum(axis=1) - diag)[1:]
        occ_b[t] = (table.sum(axis=0) - diag)[1:]
    out = {"occupancy": (occ_a, occ_b), "pairs": np.array([ia.size])}
    for name in ("activated", "repurchased"):
        x, y = getattr(ra, name)[ia], getattr(rb, name)[ib]
        both = (x >= 0) & (y >= 0)
        out[name] = (np.array([np.sum(both & (x == 1) & (y == 0))]), np.array([np.sum(both & (x == 0) & (y == 1))]))
        out[f"{name}_pairs"] = np.array([np.sum(both)])
    d = ra.purchases[ia] - rb.purchases[ib]
    out["purchases"] = (np.array([np.sum(d > 0)]), np.array([np.sum(d < 0)]))
    tie = MONEY_TIE * (1.0 + np.maximum(ra.revenue[ia], rb.revenue[ib]))
    for name in PER_CUSTOMER:
        d = getattr(ra, PER_CUSTOMER[name])[ia] - getattr(rb, PER_CUSTOMER[name])[ib]
        out[name] = (np.array([np.sum(d > tie)]), np.array([np.sum(d < -tie)]))
    return out


def compare_paired(a: Sample, b: Sample) -> list[Comparison]:
    """Paired tests between the runs of ``a`` and ``b`` that share a seed (every seed must)."""
    if a.stages != b.stages or a.occupancy.shape != b.occupancy.shape:
        raise ValueError("compare_paired needs two samples of the same scenario and length")
    runs_a = {r.seed: r for r in a.paired}
    runs_b = {r.seed: r for r in b.paired}
    if not runs_a or set(runs_a) != set(runs_b):
        raise ValueError(f"compare_paired needs per-run records of the same seeds; got {sorted(runs_a)} and {sorted(runs_b)}")
    S = len(a.stages)
    total: dict = {}
    for seed in sorted(runs_a):
        counts = _paired_counts(runs_a[seed], runs_b[seed], S)
        for key, value in counts.items():
            if key not in total:
                total[key] = value
            elif isinstance(value, tuple):
                total[key] = (total[key][0] + value[0], total[key][1] + value[1])
            else:
                total[key] = total[key] + value
    pairs = int(total["pairs"][0])
    days = a.occupancy.shape[0]
    occ_a, occ_b = total["occupancy"]
    p = sign_test_p(occ_a, occ_b).tolist()
    method = "paired sign test (McNemar exact)"
    out = [
        Comparison(f"paired occupancy day {t} stage {name!r}", method, int(occ_a[t, k]), int(occ_b[t, k]), pairs, pairs, p[t][k])
        for t in range(days)
        for k, name in enumerate(a.stages)
    ]
    for name, label in (("activated", "activation_30d"), ("repurchased", "repurchase_30d")):
        n = int(total[f"{name}_pairs"][0])
        if n:
            x, y = total[name]
            out.append(Comparison(f"paired {label}", method, int(x[0]), int(y[0]), n, n, float(sign_test_p(x, y)[0])))
    for name in ("purchases", *PER_CUSTOMER):
        x, y = total[name]
        p_value = float(sign_test_p(x, y)[0])
        out.append(Comparison(f"paired {name} (which side is larger)", "paired sign test", int(x[0]), int(y[0]), pairs, pairs, p_value))
    return out


# --- budget and reports -----------------------------------------------------------------------------


def comparison_count(scenario, days: int, *, paired: bool = True) -> int:
    """The most comparisons :func:`compare_samples` (and :func:`compare_paired`) make for a design."""
    stages = len(scenario.config.stages)
    ages = sum(1 for age in RETENTION_AGES if age < days)
    count = days * stages + len(SHARES) + ages + 2 * len(PER_CUSTOMER)
    if paired:
        count += days * stages + len(SHARES) + 1 + len(PER_CUSTOMER)
    return count


def bonferroni(family_alpha: float, comparisons: int) -> float:
    """Per-comparison level keeping the family-wise false-alarm rate at most ``family_alpha``."""
    if not 0 < family_alpha < 1 or comparisons < 1:
        raise ValueError(f"need 0 < family_alpha < 1 and comparisons >= 1; got {family_alpha}, {comparisons}")
    return family_alpha / comparisons


def flagged(comparisons: list[Comparison], alpha: float) -> list[Comparison]:
    """The comparisons that reject at level ``alpha``, smallest p-value first."""
    return sorted((c for c in comparisons if c.p_value < alpha), key=lambda c: c.p_value)


def describe(comparisons: list[Comparison], alpha: float, top: int = 8) -> str:
    """How many comparisons reject, and the ``top`` smallest p-values, one a line."""
    worst = sorted(comparisons, key=lambda c: c.p_value)[:top]
    head = f"{len(flagged(comparisons, alpha))} of {len(comparisons)} comparisons reject at alpha={alpha:.3g}"
    return "\n".join([head, *(f"  {c}" for c in worst)])


def two_proportion_power(p1: float, p2: float, n1: int, n2: int, alpha: float) -> float:
    """Power of a two-sided two-proportion test at level ``alpha`` (normal approximation)."""
    z_crit = stats.norm.isf(alpha / 2)
    pbar = (p1 * n1 + p2 * n2) / (n1 + n2)
    se0 = math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2))
    se1 = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    d = abs(p1 - p2)
    return float(stats.norm.sf((z_crit * se0 - d) / se1) + stats.norm.cdf((-z_crit * se0 - d) / se1))


# --- planting differences -------------------------------------------------------------------------


def scenario_variant(scenario, change):
    """``scenario`` with ``change(raw)`` applied to its config as a plain dict (re-validated).

    The policies are kept as built (changes to the ``policies`` tables are not supported).
    """
    raw = scenario.config.model_dump(by_alias=True, exclude_none=True)
    change(raw)
    config = ScenarioConfig.model_validate(raw)
    return replace(scenario, config=config, source=f"{scenario.source} (variant)")
