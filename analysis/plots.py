"""Plots of a run: stage populations, cohort retention, money. Each returns a matplotlib Figure.

Core functions: :func:`stage_area`, :func:`retention_plot`, :func:`money_plot`. Stage and channel
names are the scenario author's and may be any UTF-8 text; each plot is built inside
:func:`analysis.fonts.plot_fonts`, which adds the installed CJK fonts as fallbacks (Debian:
``fonts-wqy-microhei``) without changing rcParams outside the plot, and warns once if no
installed font has some of the labels' glyphs.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from analysis.fonts import unicode_labels  # noqa: E402
from analysis.metrics import retention_curve  # noqa: E402

__all__ = ["stage_area", "retention_plot", "money_plot"]


@unicode_labels
def stage_area(result):
    """Customers per stage over time, as a stacked area."""
    d = result.daily
    fig, ax = plt.subplots(figsize=(9, 4.5))
    cols = [f"stage:{s}" for s in result.stage_names]
    ax.stackplot(d["day"], [d[c] for c in cols], labels=result.stage_names, alpha=0.85)
    ax.set_xlabel("day")
    ax.set_ylabel("customers")
    ax.set_title(f"{result.scenario}: customers by stage")
    ax.legend(loc="upper left", fontsize=8, ncols=2)
    fig.tight_layout()
    return fig


@unicode_labels
def retention_plot(result):
    """True and observed retention by age since acquisition, with 95% bands."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind, style in (("true", "-"), ("observed", "--")):
        curve = retention_curve(result, kind)
        if curve.empty:
            continue
        ax.plot(curve["age_days"], curve["retention"], style, marker="o", label=f"{kind} retention")
        ax.fill_between(
            curve["age_days"], curve["retention"] - 1.96 * curve["se"], curve["retention"] + 1.96 * curve["se"], alpha=0.2
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days since acquisition")
    ax.set_ylabel("share of cohort")
    ax.set_title("Retention: true (latent) vs observed (bought in window)")
    ax.legend()
    fig.tight_layout()
    return fig


@unicode_labels
def money_plot(result):
    """Cumulative gross margin against policy and acquisition costs."""
    d = result.daily
    spend = d[[c for c in d.columns if c.startswith("spend:")]].sum(axis=1)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(d["day"], d["revenue"].cumsum(), label="revenue (list price)")
    ax.plot(d["day"], d["gross_margin"].cumsum(), label="gross margin")
    ax.plot(d["day"], d["policy_cost"].cumsum(), label="policy costs")
    ax.plot(d["day"], spend.cumsum(), label="acquisition spend")
    net = (d["gross_margin"] - d["policy_cost"] - spend).cumsum()
    ax.plot(d["day"], net, "k", lw=2, label="net contribution")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("day")
    ax.set_ylabel("money (cumulative)")
    ax.set_title("Revenue vs cost")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
