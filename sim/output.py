"""Writing results safely: all or nothing, never over a user's files without asking.

Core function: :func:`atomic_output_dir`, a context manager that yields a fresh temporary folder
next to the destination and renames it into place only if the block finishes; and
:func:`write_run`, which writes one run's tables (Parquet), summary (JSON) and plots (PNG).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from scenarios.errors import ConfigError

__all__ = ["atomic_output_dir", "check_output_dir", "write_run", "write_json_atomic", "write_csv_atomic", "write_text_atomic"]


def check_output_dir(dest: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse a destination that is a file, or a non-empty folder unless ``overwrite``."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ConfigError(f"--out '{dest}': exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise ConfigError(
            f"--out '{dest}': the folder exists and is not empty; choose another or pass --force to replace it"
        )
    return dest


@contextlib.contextmanager
def atomic_output_dir(dest: str | Path, *, overwrite: bool = False):
    """Yield a temporary folder that becomes ``dest`` when the block succeeds.

    An existing non-empty ``dest`` is an error unless ``overwrite``; then it is replaced only
    after the new output is complete. On any error the temporary folder is removed and ``dest``
    is untouched.
    """
    dest = check_output_dir(dest, overwrite=overwrite)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_json_atomic(path: Path, data) -> None:
    """Write JSON to ``path`` via a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_jsonable), encoding="utf-8")
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    """Write text to ``path`` via a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_csv_atomic(path: Path, frame) -> None:
    """Write a DataFrame as CSV to ``path`` via a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _jsonable(x):
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def write_run(result, summary: dict, folder: Path) -> list[str]:
    """Write a run into ``folder`` (already created): Parquet tables, summary JSON, PNG plots."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from analysis.plots import money_plot, retention_plot, stage_area

    written = []
    tables = {
        "daily.parquet": result.daily,
        "customers.parquet": result.customers_frame(),
        "retention.parquet": result.retention_frame(),
        "ledger.parquet": pd.DataFrame(result.ledger_rows),
    }
    for name, df in tables.items():
        df.to_parquet(folder / name, index=False)
        written.append(name)
    write_json_atomic(folder / "summary.json", summary)
    written.append("summary.json")
    for name, make in (("stages.png", stage_area), ("retention.png", retention_plot), ("money.png", money_plot)):
        fig = make(result)
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        written.append(name)
    return written
