"""Real experiments: a results file read with the same estimators as the simulated ones.

Core functions: :func:`read_results` (a CSV or Parquet file, one row per unit: its arm and its
outcomes; every problem a :class:`~scenarios.errors.DataError` naming the file, the column and the
row) and :func:`analyse_results` (estimates per arm and metric against the control, with the
sample-ratio check, Holm across arms and the decision, as an
:class:`~analysis.experiments.ExperimentReport`, through :func:`analysis.experiments.analyse_frame`).

Metrics are named by column. A column holding only 0 and 1 (or true/false) is a proportion; any
other numeric column is a mean (Welch), also reported winsorised at the pooled 99th percentile
and, with a pre-period covariate (``pre``), CUPED-adjusted. ``NAME=NUM/DEN`` is a ratio of sums
over the units with a positive denominator (delta method), e.g. ``ltv_cac=ltv/acquisition_cost``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.experiments import ExperimentReport, Guardrails, MetricSpec, _column, analyse_frame
from scenarios.errors import ConfigError, DataError

__all__ = ["read_results", "analyse_results", "MAX_RESULTS_BYTES"]

#: the largest results file read (one row per unit; 2 GB is tens of millions of rows)
MAX_RESULTS_BYTES = 2 * 2**30


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a results file (``.parquet``/``.pq`` as Parquet, anything else as CSV)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"results file '{path}': no such file")
    size = path.stat().st_size
    if size > MAX_RESULTS_BYTES:
        raise DataError(f"results file '{path}': {size:,} bytes; the limit is {MAX_RESULTS_BYTES:,}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"results file '{path}': cannot be read as {'Parquet' if path.suffix in ('.parquet', '.pq') else 'CSV'} "
                        f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if frame.empty:
        raise DataError(f"results file '{path}': no rows")
    return frame


def _numeric(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    if column not in frame.columns:
        raise DataError(f"{source}: no column '{column}'; the columns are {', '.join(map(str, frame.columns))}")
    values = pd.to_numeric(frame[column], errors="coerce") if frame[column].dtype != bool else frame[column].astype(float)
    bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
    if bad.size:
        row = int(bad[0])
        raise DataError(f"{source}: column '{column}', row {row + 2 if not source.endswith('.parquet') else row + 1}: "
                        f"not a finite number ({frame[column].iloc[row]!r}); {bad.size:,} such row(s)")
    return values.to_numpy(dtype=float)


def analyse_results(results, *, arm_col: str = "arm", metrics: list[str], control: str | None = None,
                    pre: str | None = None, shares: list[float] | None = None, alpha: float = 0.05,
                    primary: str | None = None, source: str | None = None) -> ExperimentReport:
    """Analyse a real experiment's per-unit results (a DataFrame or a file path; see the module docstring).

    ``control`` names the control arm (default: an arm called ``control``, else the first in sorted
    order); the other arms follow in sorted order. ``shares`` are the planned arm shares in that
    order, for the sample-ratio check (default: equal). ``primary`` is the metric the decision is
    about (default: the first).
    """
    if isinstance(results, (str, Path)):
        source = source or f"results file '{results}'"
        results = read_results(results)
    source = source or "results"
    if not metrics:
        raise ConfigError("name at least one metric: a column, or NAME=NUM/DEN for a ratio")
    if arm_col not in results.columns:
        raise DataError(f"{source}: no arm column '{arm_col}'; the columns are {', '.join(map(str, results.columns))}")
    labels = results[arm_col].astype(str)
    names = sorted(labels.unique())
    if len(names) < 2:
        raise DataError(f"{source}: column '{arm_col}' holds one arm ({names[0]!r}); an experiment needs two or more")
    if control is None:
        control = "control" if "control" in names else names[0]
    if control not in names:
        raise ConfigError(f"control arm '{control}' is not in column '{arm_col}'; the arms are {', '.join(names)}")
    arms = (control, *[n for n in names if n != control])
    if shares is None:
        shares = [1.0 / len(arms)] * len(arms)
    if len(shares) != len(arms) or any(not 0 < x < 1 for x in shares) or abs(sum(shares) - 1) > 1e-9:
        raise ConfigError(f"shares must be {len(arms)} numbers in (0, 1) adding up to 1, in the order {', '.join(arms)}; "
                          f"got {shares}")
    frame = pd.DataFrame({"arm": labels.map({a: k for k, a in enumerate(arms)}).to_numpy()})
    specs: list[MetricSpec] = []
    for text in metrics:
        m = re.fullmatch(r"\s*([^=\s]+)\s*=\s*([^/\s]+)\s*/\s*([^/\s]+)\s*", text)
        if m:
            name, num, den = m.groups()
            frame[num], frame[den] = _numeric(results, num, source), _numeric(results, den, source)
            specs.append(MetricSpec(name, "ratio", None, label=f"{num} / {den}", ratio=(num, den)))
            continue
        if "=" in text or "/" in text:
            raise ConfigError(f"metric '{text}': a column name, or NAME=NUM/DEN for a ratio of sums")
        values = _numeric(results, text, source)
        frame[text] = values
        if np.isin(values, (0.0, 1.0)).all():
            specs.append(MetricSpec(text, "proportion", _column(text), label=f"share with {text}"))
            continue
        specs.append(MetricSpec(text, "mean", _column(text), label=f"mean {text}"))
        specs.append(MetricSpec(f"{text}_winsorized", "winsorized", _column(text), label=f"mean {text}, winsorised p99"))
        if pre is not None:
            frame[pre] = _numeric(results, pre, source)
            specs.append(MetricSpec(f"{text}_cuped", "cuped", _column(text), label=f"mean {text}, CUPED on {pre}",
                                    covariate=pre))
    guard = Guardrails(primary=primary or specs[0].name, guard_metric=None, ltv_cac_margin=None, min_ltv_cac=None,
                       alpha=alpha)
    report = analyse_frame(frame, specs, arm_names=arms, shares=shares, alpha=alpha, guardrails=guard)
    report.context = {"scenario": source, "source": source, "arm_column": arm_col, "metrics": list(metrics),
                      "pre": pre}
    return report
