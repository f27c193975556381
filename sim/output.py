"""Writing results safely: all or nothing, never over a user's files without asking.

Core function: :func:`atomic_output_dir`, a context manager that yields a fresh temporary folder
next to the destination and renames it into place only if the block finishes; and the atomic
single-file writers (JSON, CSV, text).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from scenarios.errors import ConfigError

__all__ = ["atomic_output_dir", "check_output_dir", "write_json_atomic", "write_csv_atomic", "write_text_atomic", "jsonable"]


def check_output_dir(dest: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse a destination that is a file, or a non-empty folder unless ``overwrite``."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ConfigError(f"output folder '{dest}': exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise ConfigError(
            f"output folder '{dest}': exists and is not empty; choose another, or replace it on purpose "
            "(--force on the command line, force=True from Python)"
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
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=jsonable), encoding="utf-8")
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


def jsonable(x):
    """``json.dumps`` default: numpy scalars and arrays as Python numbers and lists."""
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
