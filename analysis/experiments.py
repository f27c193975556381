"""Reading an experiment: uplift per arm and metric with honest uncertainty, checked against truth.

Core objects: :data:`METRICS` (the experiment metrics and how each is estimated),
:func:`analyse` (estimates for every treatment arm and metric, SRM check, Holm adjustment,
CUPED and winsorised variants of revenue, true effects from the twin worlds),
:func:`segment_effects` (heterogeneous effects by tier, stage, RFM segment and channel),
:func:`survival_by_arm` (Kaplan-Meier curves and log-rank tests), :func:`decide` (ship / don't
ship / inconclusive against the user's guardrails) and :class:`ExperimentReport`.

Metric definitions (one row per assigned customer; the window runs from assignment to the end):

- ``retention_{h}d`` true: among customers alive at assignment, not in a churned stage ``h``
  days later (the latent truth, known to the simulation only); ``observed_retention_{h}d``: among
  all assigned customers (the firm cannot tell who is gone), a purchase within the observed
  window at that age;
- ``repurchase_rate``: a repeat purchase (not the customer's first ever) in the window;
- ``revenue``, ``margin``: per customer in the window; ``revenue_winsorized`` caps both arms at
  the pooled 99th percentile; ``revenue_cuped`` adjusts by pre-assignment revenue;
- ``ltv``: discounted margin minus policy cost per customer in the window;
- ``churn_rate``: share of customers alive at assignment who are churned at the end;
- ``ltv_cac``: ratio of sums over customers acquired during the experiment (delta method).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import checks, stats, survival
from scenarios.errors import NotEstimableError

__all__ = ["METRICS", "MetricSpec", "analyse", "analyse_frame", "segment_effects", "survival_by_arm", "decide", "ExperimentReport", "Guardrails"]

MIN_UNITS = 20  # fewer units per arm than this: the metric is not estimated (and the report says so)


def _proportion(col: str, eligible: str | None = None):
    def pick(frame: pd.DataFrame) -> np.ndarray:
        values = frame[col].to_numpy()
        keep = np.ones(values.size, dtype=bool)
        if values.dtype == np.int8:  # -1 = horizon not reached
            keep &= values >= 0
        if eligible is not None:
            keep &= frame[eligible].to_numpy()
        return values[keep].astype(float)

    return pick


def _column(col: str):
    def pick(frame: pd.DataFrame) -> np.ndarray:
        return frame[col].to_numpy(dtype=float)

    return pick


@dataclass(frozen=True)
class MetricSpec:
    """How one experiment metric is picked from the outcomes and estimated."""

    name: str
    kind: str  # proportion | mean | cuped | winsorized | ratio
    pick: object
    higher_is_better: bool = True
    label: str = ""
    #: CUPED's pre-period covariate column
    covariate: str = "pre_revenue"
    #: ratio metrics: numerator and denominator columns, over the units with a positive denominator
    ratio: tuple[str, str] = ("ltv", "acquisition_cost")


def _metrics(horizons) -> list[MetricSpec]:
    out = []
    for h in horizons:
        out.append(MetricSpec(f"retention_{h}d", "proportion", _proportion(f"alive_{h}d", "alive_at_assign"),
                              label=f"true retention {h}d"))
        out.append(
            MetricSpec(f"observed_retention_{h}d", "proportion", _proportion(f"active_{h}d"),
                       label=f"observed retention {h}d")
        )
    out += [
        MetricSpec("repurchase_rate", "proportion", _column("repurchased"), label="repurchase rate"),
        MetricSpec("churn_rate", "proportion", _proportion("churned", "alive_at_assign"), higher_is_better=False,
                   label="churned by the end"),
        MetricSpec("revenue", "mean", _column("revenue"), label="revenue per customer"),
        MetricSpec("revenue_winsorized", "winsorized", _column("revenue"), label="revenue per customer, winsorised p99"),
        MetricSpec("revenue_cuped", "cuped", _column("revenue"), label="revenue per customer, CUPED"),
        MetricSpec("margin", "mean", _column("margin"), label="gross margin per customer"),
        MetricSpec("ltv", "mean", _column("ltv"), label="LTV per customer (net of policy cost)"),
        MetricSpec("ltv_cac", "ratio", None, label="LTV/CAC of customers acquired in the test"),
    ]
    return out


METRICS = tuple(m.name for m in _metrics((30, 90, 180)))


def _ratio_parts(frame: pd.DataFrame, columns: tuple[str, str] = ("ltv", "acquisition_cost")):
    num, den = columns
    sel = frame[den].to_numpy() > 0
    return frame[num].to_numpy(dtype=float)[sel], frame[den].to_numpy(dtype=float)[sel]


def arm_value(spec: MetricSpec, frame: pd.DataFrame) -> float | None:
    """The metric's per-arm statistic (rate, mean or ratio of sums) on ``frame``."""
    if spec.kind == "ratio":
        num, den = _ratio_parts(frame, spec.ratio)
        return float(num.sum() / den.sum()) if den.size and den.sum() > 0 else None
    values = spec.pick(frame)
    return float(values.mean()) if values.size else None


def _estimate(spec: MetricSpec, c: pd.DataFrame, t: pd.DataFrame, alpha: float, winsor_q: float):
    if spec.kind == "ratio":
        nc, dc = _ratio_parts(c, spec.ratio)
        nt, dt = _ratio_parts(t, spec.ratio)
        if min(nc.size, nt.size) < MIN_UNITS:
            return None
        return stats.ratio_metric(nc, dc, nt, dt, alpha, metric=spec.name)
    yc, yt = spec.pick(c), spec.pick(t)
    if min(yc.size, yt.size) < MIN_UNITS:
        return None
    if spec.kind == "proportion":
        return stats.diff_in_proportions(int(yc.sum()), yc.size, int(yt.sum()), yt.size, alpha, metric=spec.name)
    if spec.kind == "winsorized":
        w = stats.winsorize_pooled(yc, yt, upper_quantile=winsor_q)
        return stats.diff_in_means(w.y_c, w.y_t, alpha, metric=spec.name)
    if spec.kind == "cuped":
        xc, xt = c[spec.covariate].to_numpy(dtype=float), t[spec.covariate].to_numpy(dtype=float)
        if np.var(np.concatenate([xc, xt])) == 0:
            return None  # no pre-period variation (no warm-up): CUPED has nothing to adjust by
        return stats.diff_in_means_cuped(yc, xc, yt, xt, alpha, metric=spec.name)
    return stats.diff_in_means(yc, yt, alpha, metric=spec.name)


@dataclass(frozen=True)
class Guardrails:
    """What a treatment arm must satisfy to ship, relative to the control.

    ``primary`` must be significantly better (Holm-adjusted across arms). Each guardrail is a
    non-inferiority check against the control with a margin: ``guard_metric`` (a retention rate)
    must not drop by more than ``retention_margin`` (absolute, 0.005 = half a point), LTV/CAC by
    more than ``ltv_cac_margin`` (relative, 0.05 = 5%). A guardrail is *breached* when the whole
    confidence interval lies beyond the margin, *held* when the whole interval lies inside it, and
    *unresolved* otherwise. ``min_ltv_cac`` is an absolute target, reported beside the control's
    value at the experiment's horizon but never deciding on its own: over a short horizon even the
    control misses a lifetime target.
    """

    primary: str = "ltv"
    guard_metric: str | None = "observed_retention_90d"
    retention_margin: float = 0.005
    ltv_cac_margin: float | None = 0.05
    min_ltv_cac: float | None = 3.0
    alpha: float = 0.05


@dataclass
class ExperimentReport:
    """Everything an analyst reads: estimates per arm and metric, checks, truth and decisions."""

    rows: list[dict]
    srm: dict
    arm_names: tuple[str, ...]
    arm_sizes: dict[str, int]
    decisions: list[dict] = field(default_factory=list)
    segments: pd.DataFrame | None = None
    survival: dict | None = None
    notes: list[str] = field(default_factory=list)
    #: (arm, metric, reason) of every estimate the data do not identify (constant, empty, no events)
    not_estimable: list[dict] = field(default_factory=list)
    #: the per-customer outcomes of the experiment world (set by :func:`analysis.experiment_runs.run_experiment`)
    outcomes: object | None = None
    #: scenario name, seed and design of the run
    context: dict = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """The estimates as a DataFrame (one row per arm and metric)."""
        return pd.DataFrame(self.rows)

    def to_dict(self) -> dict:
        """Everything as plain JSON-ready data (what ``lifecycle experiment --json`` prints).

        An undefined number (a relative effect against a control of 0) is None, never NaN.
        """
        from sim.output import finite_json

        return finite_json({
            **self.context,
            "arms": self.arm_sizes,
            "srm": self.srm,
            "results": self.rows,
            "decisions": self.decisions,
            "segments": [] if self.segments is None else self.segments.to_dict(orient="records"),
            "logrank": None if self.survival is None else self.survival["logrank"],
            "not_estimable": self.not_estimable,
            "notes": self.notes,
        })


def analyse(outcomes, *, truth: dict[int, object] | None = None, alpha: float = 0.05,
            winsor_quantile: float = 0.99, guardrails: Guardrails | None = None) -> ExperimentReport:
    """Estimate every metric for every treatment arm against the control (arm 0).

    Parameters
    ----------
    outcomes
        :class:`sim.experiment.Outcomes` of the experiment world.
    truth
        Optional twin worlds, arm code -> :class:`~sim.experiment.Outcomes` in which every customer
        got that arm (arm 0 included); the true effect of arm k is the difference of the metric's
        statistic between world k and world 0, over the same simulated customers.
    """
    def true_effect(spec, k):
        if truth is None or 0 not in truth or k not in truth:
            return None
        v1, v0 = arm_value(spec, truth[k].frame), arm_value(spec, truth[0].frame)
        return None if v1 is None or v0 is None else v1 - v0

    return analyse_frame(outcomes.frame, _metrics(outcomes.horizons), arm_names=outcomes.arm_names,
                         shares=outcomes.shares, alpha=alpha, winsor_quantile=winsor_quantile,
                         guardrails=guardrails, true_effect=true_effect)


def analyse_frame(f: pd.DataFrame, specs: list[MetricSpec], *, arm_names: tuple[str, ...], shares, alpha: float = 0.05,
                  winsor_quantile: float = 0.99, guardrails: Guardrails | None = None,
                  true_effect=None) -> ExperimentReport:
    """The estimators behind :func:`analyse`, on any per-unit table with an integer ``arm`` column (0 = control).

    ``specs`` say which metrics to estimate and how (:class:`MetricSpec`); ``true_effect(spec, k)``,
    if given, supplies the truth of arm ``k``. Used for simulated and for real experiments alike.
    """
    arms = tuple(arm_names)
    counts = np.array([int((f["arm"] == k).sum()) for k in range(len(arms))])
    srm = checks.srm_test(counts, np.array(shares)) if counts.sum() > 0 else None
    control = f[f["arm"] == 0]
    rows: list[dict] = []
    notes: list[str] = []
    not_estimable: list[dict] = []
    for spec in specs:
        per_arm = []
        for k in range(1, len(arms)):
            treat = f[f["arm"] == k]
            try:
                est = _estimate(spec, control, treat, alpha, winsor_quantile)
            except NotEstimableError as exc:
                not_estimable.append({"arm": arms[k], "metric": spec.name, "reason": str(exc)})
                notes.append(f"{arms[k]}: {spec.name} not estimable ({exc})")
                continue
            if est is None:
                continue
            row = {
                "arm": arms[k], "metric": spec.name, "label": spec.label,
                "control": est.control_value, "treatment": est.treatment_value,
                "estimate": est.estimate, "ci_low": est.ci_low, "ci_high": est.ci_high,
                "relative": est.relative, "rel_ci_low": est.rel_ci_low, "rel_ci_high": est.rel_ci_high,
                "p_value": est.p_value, "n_control": est.n_control, "n_treatment": est.n_treatment,
                "std_error": est.std_error,
                "method": est.method, "variance_reduction": est.variance_reduction,
                "true_effect": None if true_effect is None else true_effect(spec, k),
                "higher_is_better": spec.higher_is_better,
            }  # fmt: skip
            per_arm.append(row)
        if per_arm:
            adjusted = checks.holm([r["p_value"] for r in per_arm]) if len(per_arm) > 1 else [per_arm[0]["p_value"]]
            for r, p in zip(per_arm, adjusted):
                r["p_value_holm"] = float(p)
            rows.extend(per_arm)
        elif not any(x["metric"] == spec.name for x in not_estimable):
            notes.append(f"{spec.name}: fewer than {MIN_UNITS} customers per arm; not estimated")
    report = ExperimentReport(
        rows=rows,
        srm={
            "counts": dict(zip(arms, map(int, counts))),
            "expected_shares": dict(zip(arms, shares)),
            "p_value": None if srm is None else srm.p_value,
            "mismatch": None if srm is None else bool(srm.mismatch),
        },
        arm_names=arms,
        arm_sizes=dict(zip(arms, map(int, counts))),
        notes=notes,
        not_estimable=not_estimable,
    )
    report.decisions = decide(report, guardrails or Guardrails(alpha=alpha))
    return report


def decide(report: ExperimentReport, g: Guardrails) -> list[dict]:
    """Ship / don't ship / inconclusive per treatment arm, with the one reason that decided it.

    In order: a sample ratio mismatch makes the arm inconclusive; a breached guardrail or a
    significantly worse primary metric means don't ship; a significantly better primary metric
    with every guardrail held means ship; anything else is inconclusive (the first unresolved
    question is the reason). ``reasons`` lists every finding; ``targets`` the absolute targets
    (reported, not deciding).
    """
    out = []
    by = {(r["arm"], r["metric"]): r for r in report.rows}
    srm_bad = bool(report.srm.get("mismatch"))
    for arm in report.arm_names[1:]:
        findings: list[tuple[str, str]] = []  # (kind, text): kind in breach, worse, better, open, held, note
        if srm_bad:
            findings.append(("srm", f"sample ratio mismatch (p = {report.srm['p_value']:.2g}): the assignment is suspect"))
        primary = by.get((arm, g.primary))
        if primary is None:
            findings.append(("open", f"{g.primary} could not be estimated"))
        else:
            p = primary.get("p_value_holm", primary["p_value"])
            span = (f"{primary['estimate']:.4g} (95% CI {primary['ci_low']:.4g} to {primary['ci_high']:.4g}, "
                    f"Holm-adjusted p = {p:.2g})")
            if p < g.alpha and primary["ci_high"] < 0:
                findings.append(("worse", f"{g.primary} is worse: {span}"))
            elif p < g.alpha and primary["ci_low"] > 0:
                findings.append(("better", f"{g.primary} is better: {span}"))
            else:
                findings.append(("open", f"{g.primary} change is not significant: {span}"))
        guardrails = []
        checks_ = []
        if g.guard_metric is not None:
            checks_.append(_guardrail(by.get((arm, g.guard_metric)), g.guard_metric, -g.retention_margin,
                                      f"{100 * g.retention_margin:g} points", absolute=True))
        if g.ltv_cac_margin is not None:
            checks_.append(_guardrail(by.get((arm, "ltv_cac")), "ltv_cac", -g.ltv_cac_margin,
                                      f"{100 * g.ltv_cac_margin:g}%", absolute=False))
        for kind, text, info in checks_:
            findings.append((kind, text))
            guardrails.append(info)
        kinds = [k for k, _ in findings]
        if "srm" in kinds:
            decision, reason = "inconclusive", findings[kinds.index("srm")][1]
        elif "breach" in kinds or "worse" in kinds:
            k = kinds.index("breach") if "breach" in kinds else kinds.index("worse")
            decision, reason = "don't ship", findings[k][1]
        elif "better" in kinds and "open" not in kinds:
            decision, reason = "ship", findings[kinds.index("better")][1]
        else:
            decision, reason = "inconclusive", findings[kinds.index("open")][1]
        targets = []
        ratio = by.get((arm, "ltv_cac"))
        if g.min_ltv_cac is not None and ratio is not None:
            met = "met" if ratio["treatment"] >= g.min_ltv_cac else "not met"
            targets.append({
                "metric": "ltv_cac", "target": g.min_ltv_cac, "control": ratio["control"],
                "treatment": ratio["treatment"], "met": ratio["treatment"] >= g.min_ltv_cac,
                "text": f"LTV/CAC at this horizon: treatment {ratio['treatment']:.2f}, control {ratio['control']:.2f}, "
                        f"target {g.min_ltv_cac:g} ({met}; an absolute target, not part of the decision)",
            })  # fmt: skip
        out.append({"arm": arm, "decision": decision, "reason": reason, "reasons": [t for _, t in findings],
                    "guardrails": guardrails, "targets": targets, "primary": g.primary})
    return out


def _guardrail(row: dict | None, metric: str, margin: float, label: str, *, absolute: bool) -> tuple[str, str, dict]:
    """Non-inferiority of ``metric`` against the control with ``margin`` (negative: the drop allowed)."""
    info = {"metric": metric, "margin": label, "status": "not estimated", "ci": None}
    if row is None:
        return ("note", f"guardrail {metric}: not estimated in this experiment", info)
    lo, hi = (row["ci_low"], row["ci_high"]) if absolute else (row["rel_ci_low"], row["rel_ci_high"])
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return ("open", f"guardrail {metric}: its change cannot be bounded", {**info, "status": "unresolved"})
    scale, unit = (100.0, " points") if absolute else (100.0, "%")
    span = f"{scale * lo:+.3g}{unit} to {scale * hi:+.3g}{unit}"
    info = {**info, "ci": span}
    if hi < margin:
        return ("breach", f"guardrail {metric} breached: it drops by more than {label} (95% CI {span})",
                {**info, "status": "breached"})
    if lo > margin:
        return ("held", f"guardrail {metric} held: no drop of more than {label} (95% CI {span})", {**info, "status": "held"})
    return ("open", f"guardrail {metric} unresolved: a drop of more than {label} is not ruled out (95% CI {span})",
            {**info, "status": "unresolved"})


SEGMENTATIONS = {
    "tier": ("tier_at_assign", "tier_names"),
    "stage": ("stage_at_assign", "stage_names"),
    "rfm_segment": ("segment_at_assign", "segment_names"),
    "channel": ("channel", "channel_names"),
}


def segment_effects(outcomes, *, metric: str = "ltv", alpha: float = 0.05, min_per_arm: int = 50) -> pd.DataFrame:
    """Effect of each treatment arm on ``metric`` (a per-customer column) within each segment.

    A segment "loses money" when the effect on LTV (net of policy cost) is negative and
    significant after Benjamini-Hochberg adjustment across the arm's segments (``p_value_bh``):
    with four segmentations of several segments each, unadjusted flags would be mostly noise.
    """
    f = outcomes.frame
    rows = []
    for seg_name, (col, names_attr) in SEGMENTATIONS.items():
        names = getattr(outcomes, names_attr)
        for code in sorted(f[col].unique()):
            label = "initial base" if seg_name == "channel" and code < 0 else ("none" if code < 0 else names[code])
            sub = f[f[col] == code]
            c = sub[sub["arm"] == 0][metric].to_numpy(dtype=float)
            for k in range(1, len(outcomes.arm_names)):
                t = sub[sub["arm"] == k][metric].to_numpy(dtype=float)
                if min(c.size, t.size) < min_per_arm:
                    continue
                try:
                    est = stats.diff_in_means(c, t, alpha, metric=metric)
                except NotEstimableError as exc:  # e.g. LTV is 0 for every churned customer in both arms
                    rows.append({
                        "arm": outcomes.arm_names[k], "segmentation": seg_name, "segment": label,
                        "n_control": c.size, "n_treatment": t.size, "estimate": None, "ci_low": None,
                        "ci_high": None, "p_value": None, "loses_money": False, "not_estimable": str(exc),
                    })  # fmt: skip
                    continue
                rows.append({
                    "arm": outcomes.arm_names[k], "segmentation": seg_name, "segment": label,
                    "n_control": c.size, "n_treatment": t.size, "estimate": est.estimate,
                    "ci_low": est.ci_low, "ci_high": est.ci_high, "p_value": est.p_value,
                    "loses_money": bool(metric == "ltv" and est.ci_high < 0), "not_estimable": None,
                })  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["p_value_bh"] = np.nan
    for arm in frame["arm"].unique() if len(frame) else []:
        ok = (frame["arm"] == arm) & frame["p_value"].notna()
        if ok.any():
            frame.loc[ok, "p_value_bh"] = checks.benjamini_hochberg(frame.loc[ok, "p_value"].to_numpy(dtype=float))
    if len(frame):
        frame["loses_money"] = (metric == "ltv") & (frame["p_value_bh"] < alpha) & (frame["estimate"].astype(float) < 0)
    return frame


def survival_by_arm(outcomes) -> dict:
    """Kaplan-Meier curves of time to churn since assignment per arm, and log-rank tests vs control."""
    f = outcomes.frame[outcomes.frame["alive_at_assign"]]
    curves, tests = {}, {}
    data = {}
    for k, name in enumerate(outcomes.arm_names):
        sub = f[f["arm"] == k]
        if len(sub) < MIN_UNITS:
            continue
        d = sub["days_to_churn_or_end"].to_numpy(dtype=float)
        e = sub["churned"].to_numpy(dtype=int)
        d = np.maximum(d, 0.5)  # churn on the day of assignment: half a day
        data[k] = (d, e)
        if e.sum() == 0:
            curves[name] = None
            continue
        km = survival.kaplan_meier(d, e)
        curves[name] = {"times": km.times.tolist(), "survival": km.survival.tolist(), "std_err": km.std_err.tolist()}
    for k in range(1, len(outcomes.arm_names)):
        if 0 in data and k in data and data[0][1].sum() + data[k][1].sum() > 0:
            try:
                lr = survival.logrank(*data[0], *data[k])
            except NotEstimableError:
                continue
            tests[outcomes.arm_names[k]] = {"statistic": lr.statistic, "p_value": lr.p_value}
    return {"curves": curves, "logrank": tests}
