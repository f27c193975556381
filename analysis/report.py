"""The experiment report: plots and one self-contained HTML page a person can open in a browser.

Core functions: :func:`forest_plot` (uplift per metric with 95% CIs and the true effect),
:func:`survival_plot` (Kaplan-Meier curves by arm), :func:`segment_plot` (effects by segment),
:func:`power_curve_plot` (simulated power with Monte Carlo bands, analytic curve beside it) and
:func:`write_experiment_report`.
"""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from analysis.fonts import unicode_labels  # noqa: E402

__all__ = ["forest_plot", "survival_plot", "segment_plot", "power_curve_plot", "mde_curve_plot", "write_experiment_report"]


@unicode_labels
def forest_plot(rows: list[dict]):
    """Relative uplift per (arm, metric) with its 95% CI; a cross marks the twin-world truth."""
    rows = [r for r in rows if r.get("relative") is not None and r.get("rel_ci_low") is not None]
    fig, ax = plt.subplots(figsize=(8, 0.38 * max(len(rows), 3) + 1.2))
    for i, r in enumerate(rows):
        y = len(rows) - 1 - i
        color = "tab:green" if r["ci_low"] > 0 else ("tab:red" if r["ci_high"] < 0 else "tab:gray")
        ax.plot([100 * r["rel_ci_low"], 100 * r["rel_ci_high"]], [y, y], color=color, lw=2)
        ax.plot(100 * r["relative"], y, "o", color=color)
        if r.get("true_effect") is not None and r["control"]:
            ax.plot(100 * r["true_effect"] / r["control"], y, "kx", ms=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r['arm']}: {r['metric']}" for r in reversed(rows)], fontsize=8)
    ax.set_xlabel("relative uplift vs control (%), 95% CI; x = true effect (twin worlds)")
    ax.set_title("Uplift by metric")
    fig.tight_layout()
    return fig


@unicode_labels
def survival_plot(survival: dict):
    """Kaplan-Meier survival (not churned) since assignment, per arm."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, curve in survival["curves"].items():
        if curve is None:
            continue
        t = np.r_[0, curve["times"]]
        s = np.r_[1, curve["survival"]]
        ax.step(t, s, where="post", label=name)
    ax.set_xlabel("days since assignment")
    ax.set_ylabel("share not churned (Kaplan-Meier)")
    tests = "; ".join(f"{k}: log-rank p = {v['p_value']:.3g}" for k, v in survival["logrank"].items())
    ax.set_title(f"Retention by arm ({tests})" if tests else "Retention by arm", fontsize=10)
    ax.legend()
    fig.tight_layout()
    return fig


@unicode_labels
def segment_plot(segments):
    """LTV effect by segment with 95% CIs; red where the policy loses money (BH-adjusted); none where not estimable."""
    n = max(len(segments), 3)
    fig, ax = plt.subplots(figsize=(8, 0.33 * n + 1.2))
    for i, r in enumerate(segments.itertuples()):
        y = len(segments) - 1 - i
        if r.ci_low is None or r.ci_low != r.ci_low:  # not estimable: no bar
            continue
        color = "tab:red" if r.loses_money else ("tab:green" if r.ci_low > 0 else "tab:gray")
        ax.plot([r.ci_low, r.ci_high], [y, y], color=color, lw=2)
        ax.plot(r.estimate, y, "o", color=color)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(segments)))
    labels = [f"{r.arm}: {r.segmentation} = {r.segment}" for r in segments.itertuples()]
    ax.set_yticklabels(list(reversed(labels)), fontsize=8)
    ax.set_xlabel("LTV effect per customer (95% CI)")
    ax.set_title("Heterogeneous effects")
    fig.tight_layout()
    return fig


def power_curve_plot(points: list[dict], *, x: str = "n_per_arm", analytic: list[tuple[float, float]] | None = None,
                     target: float | None = 0.8):
    """Simulated power against ``x`` with Monte Carlo 95% bands; optional analytic curve."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    points = [p for p in points if p.get("note") is None]  # points where the metric is not yet mature
    xs = [p["mean_n_per_arm"] if x == "n_per_arm" else p["days"] for p in points]
    ax.errorbar(xs, [p["power"] for p in points],
                yerr=[[p["power"] - p["ci_low"] for p in points], [p["ci_high"] - p["power"] for p in points]],
                fmt="o-", capsize=3, label="simulated (Monte Carlo 95% CI)")
    if analytic:
        ax.plot([a for a, _ in analytic], [b for _, b in analytic], "--", label="analytic")
    if target:
        ax.axhline(target, color="grey", lw=0.8, ls=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("customers per arm" if x == "n_per_arm" else "test duration (days)")
    ax.set_ylabel("power")
    ax.legend()
    fig.tight_layout()
    return fig


def mde_curve_plot(points: list[dict], *, metric: str, target: float = 0.8, alpha: float = 0.05):
    """The minimum detectable effect against test duration (or customers), from simulated standard errors."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ok = [p for p in points if p.get("mde") is not None]
    by_days = len({p["days"] for p in ok}) > 1
    xs = [p["days"] if by_days else p["mean_n_per_arm"] for p in ok]
    ax.plot(xs, [p["mde"] for p in ok], "o-")
    ax.set_xlabel("test duration (days)" if by_days else "customers per arm")
    ax.set_ylabel(f"MDE on {metric} (power {target:g}, alpha {alpha:g})")
    ax.set_ylim(bottom=0)
    ax.set_title("Smallest effect the test detects, by simulation", fontsize=10)
    fig.tight_layout()
    return fig


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _table(rows: list[dict], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c)
            text = f"{v:.4g}" if isinstance(v, float) else ("" if v is None else str(v))
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_experiment_report(folder, payload: dict, report, outcomes) -> list[str]:
    """Write report.html (self-contained), the plots as PNG, outcomes.parquet and results.json."""
    from sim.output import write_json_atomic

    figures = {"uplift.png": forest_plot(report.rows)}
    if report.survival is not None and report.survival.get("curves"):
        figures["retention_by_arm.png"] = survival_plot(report.survival)
    if report.segments is not None and len(report.segments):
        figures["segments.png"] = segment_plot(report.segments)
    images = {}
    for name, fig in figures.items():
        fig.savefig(folder / name, dpi=100)
        images[name] = _png(fig)
    tables = []
    if outcomes is not None:
        outcomes.frame.to_parquet(folder / "outcomes.parquet", index=False)
        tables.append("outcomes.parquet")
    write_json_atomic(folder / "results.json", payload)
    from analysis.results_page import results_page

    segments = _table(payload["segments"], ["arm", "segmentation", "segment", "n_control", "n_treatment", "estimate",
                                            "ci_low", "ci_high", "p_value", "p_value_bh", "loses_money", "not_estimable"])
    page = results_page(payload, report, outcomes, images, alpha=payload.get("alpha", 0.05), segments_html=segments)
    (folder / "report.html").write_text(page, encoding="utf-8")
    return ["report.html", *figures, *tables, "results.json"]
