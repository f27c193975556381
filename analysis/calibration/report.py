"""Calibration report: does the fitted model (and the simulation) reproduce the log?

Core function: :func:`write_calibration_report`, which writes four plots and the tables behind
them: cumulative repeat transactions (actual, model, simulation) with the calibration/holdout
boundary; the distribution of calibration-period repeat purchases, actual vs the fitted model;
average repeat spend, actual vs the fitted Gamma-Gamma model; mean holdout purchases by
calibration frequency, actual vs the model's conditional expectation (the calibration-vs-holdout
plot); ``verdict.md``, one plain paragraph on how far the model is off (and, with a model
comparison, one on BG/NBD against Pareto/NBD, whose figures are in ``models.csv``). Model distributions are drawn by
simulating the fitted models for the same customers (same ages, same purchase counts).
"""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["write_calibration_report", "model_frequency_counts", "model_average_spend"]


def model_frequency_counts(params: dict, T: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Repeat purchases in ``[0, T]`` per customer under BG/NBD: ``min(N(T), G)``.

    ``N(T)`` is Poisson(lambda T) with lambda ~ gamma(r, rate alpha); ``G`` is the number of
    repeat purchases until the dropout, geometric with p ~ beta(a, b).
    """
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], size=T.size)
    p = rng.beta(params["a"], params["b"], size=T.size)
    return np.minimum(rng.poisson(lam * T), rng.geometric(p))


def model_average_spend(params: dict, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Average of ``x`` repeat orders per customer under Gamma-Gamma."""
    nu = rng.gamma(params["q"], 1.0 / params["gamma"], size=x.size)
    return rng.gamma(params["p"] * x, 1.0 / (nu * x))


def write_calibration_report(folder, summary, purchases, spend, check, *, seed: int = 0, models=None) -> list[str]:
    """Write the plots (PNG) and tables (CSV, JSON) into ``folder``; return the file names."""
    rng = np.random.default_rng(seed)
    table = summary.table
    files = []

    # 1. tracking: cumulative repeat transactions
    periods = np.arange(1, check.actual_cumulative.size + 1)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(periods, check.actual_cumulative, "k-", lw=2, label="actual")
    ax.plot(periods, check.expected_cumulative, "--", label="BG/NBD tracking forecast (unconditional)")
    if check.simulated_cumulative is not None:
        sims = np.atleast_2d(check.simulated_cumulative)
        ax.plot(periods, sims.mean(axis=0), ":", label=f"simulation (mean of {sims.shape[0]})")
        if sims.shape[0] > 1:
            ax.fill_between(periods, sims.min(axis=0), sims.max(axis=0), alpha=0.2, label="simulation range")
    ax.axvline(check.n_calibration_periods, color="grey", lw=1)
    ax.text(check.n_calibration_periods, ax.get_ylim()[1] * 0.05, " holdout →", color="grey")
    ax.set_xlabel(f"{check.time_unit}s since the cohort's first day")
    ax.set_ylabel("cumulative repeat transactions")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "tracking.png", dpi=100)
    plt.close(fig)
    files.append("tracking.png")

    # 2. repeat purchases in the calibration period, actual vs model
    x = table["frequency"].to_numpy()
    model_x = model_frequency_counts(purchases.params_, table["T"].to_numpy(dtype=float), rng)
    top = 7
    bins = np.arange(top + 1)
    actual_counts = np.bincount(np.minimum(x, top), minlength=top + 1)
    model_counts = np.bincount(np.minimum(model_x, top), minlength=top + 1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(bins - 0.2, actual_counts, width=0.4, label="actual")
    ax.bar(bins + 0.2, model_counts, width=0.4, label="BG/NBD (simulated for the same customers)")
    ax.set_xticks(bins, [str(b) for b in bins[:-1]] + [f"{top}+"])
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("customers")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "frequency.png", dpi=100)
    plt.close(fig)
    files.append("frequency.png")

    # 3. average repeat spend of repeat customers, actual vs model
    rep = table[table["frequency"] > 0]
    actual_m = rep["monetary_value"].to_numpy(dtype=float)
    model_m = model_average_spend(spend.params_, rep["frequency"].to_numpy(dtype=float), rng)
    hi = np.quantile(actual_m, 0.99)
    fig, ax = plt.subplots(figsize=(7, 4))
    edges = np.linspace(0, hi, 50)
    ax.hist(actual_m, bins=edges, alpha=0.6, density=True, label="actual")
    ax.hist(model_m, bins=edges, alpha=0.6, density=True, label="Gamma-Gamma (simulated)")
    ax.set_xlabel("average repeat order value")
    ax.set_ylabel("density")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "spend.png", dpi=100)
    plt.close(fig)
    files.append("spend.png")

    # 4. calibration vs holdout: mean holdout purchases by calibration frequency, actual vs model
    bf = check.by_frequency
    pos = np.arange(len(bf["frequency"]))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(pos, bf["actual"], "k-o", lw=2, label="actual")
    ax.plot(pos, bf["expected"], "--s", label="BG/NBD, given each customer's history")
    ax.set_xticks(pos, [f"{f}\n{n:,}" for f, n in zip(bf["frequency"], bf["n"])], fontsize=8)
    ax.set_xlabel("repeat purchases in the calibration period (and customers)")
    ax.set_ylabel("mean repeat purchases in the holdout")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "calibration_vs_holdout.png", dpi=100)
    plt.close(fig)
    files.append("calibration_vs_holdout.png")
    pd.DataFrame({"calibration_frequency": bf["frequency"], "customers": bf["n"], "actual_holdout_mean": bf["actual"],
                  "expected_holdout_mean": bf["expected"]}).to_csv(folder / "calibration_vs_holdout.csv", index=False)
    files.append("calibration_vs_holdout.csv")
    verdict = check.verdict()
    if models:
        from analysis.calibration.comparison import comparison_sentence

        verdict += "\n\n" + comparison_sentence(models)
        pd.DataFrame([{k: v for k, v in row.to_dict().items() if k != "parameters"} for row in models]).to_csv(
            folder / "models.csv", index=False)
        files.append("models.csv")
    (folder / "verdict.md").write_text(verdict + "\n", encoding="utf-8")
    files.append("verdict.md")

    pd.DataFrame({
        "period": periods, "actual_cumulative": check.actual_cumulative,
        "expected_cumulative": check.expected_cumulative,
        **({"simulated_cumulative_mean": np.atleast_2d(check.simulated_cumulative).mean(axis=0)}
           if check.simulated_cumulative is not None else {}),
    }).to_csv(folder / "tracking.csv", index=False)  # fmt: skip
    files.append("tracking.csv")
    (folder / "holdout.json").write_text(json.dumps(check.to_dict(), indent=2, default=str), encoding="utf-8")
    files.append("holdout.json")
    return files
