"""Writing results safely: all or nothing, never over a user's files without asking.

Core functions:

- :func:`atomic_output_dir`: a context manager that yields a fresh, uniquely named temporary
  folder beside the destination and moves it into place only when the block finishes. The move
  cannot race: without ``overwrite`` it is a ``rename`` onto a path that is absent or an empty
  folder (the kernel refuses a non-empty one, so a folder that filled up meanwhile, from another
  run or another tool, is never replaced); with ``overwrite`` the old folder is first renamed
  aside and removed only after the new one is in place. The temporary folder is removed on every
  error, Ctrl+C and (with :func:`sim.output.terminate_as_interrupt` installed, as the command line
  does) SIGTERM; ones left by killed runs are found and removed on the next write to the same
  destination, and an old folder a run killed mid-replacement had moved aside is put back.
- :func:`write_json_atomic`, :func:`write_text_atomic`, :func:`write_csv_atomic`: one file each,
  through a unique temporary file and a rename; JSON never holds ``NaN`` or ``Infinity`` (they
  are written as ``null``); ``exclusive=True`` refuses to replace an existing file, atomically.

Folders and files get the normal permissions of the user's umask.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import shutil
import signal
import tempfile
import warnings
from pathlib import Path

from scenarios.errors import ConfigError

__all__ = [
    "atomic_output_dir", "check_output_dir", "write_json_atomic", "write_csv_atomic", "write_text_atomic",
    "jsonable", "finite_json", "terminate_as_interrupt",
]  # fmt: skip

_TAG = "lifecycle"  # temporaries are .<name>.lifecycle-<pid>-<random>.tmp / .old


def check_output_dir(dest: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse a destination that is a file, or a non-empty folder unless ``overwrite``.

    The current folder and its parents are always refused (the output replaces the folder).
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ConfigError(f"output folder '{dest}': exists and is not a folder")
    here = Path.cwd().resolve()
    target = dest.resolve()
    if target == here or target in here.parents:
        raise ConfigError(f"output folder '{dest}': is the current folder or one of its parents, which cannot "
                          "be replaced; choose a new folder inside it")
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise ConfigError(
            f"output folder '{dest}': exists and is not empty; choose another, or replace it on purpose "
            "(--force on the command line, force=True from Python)"
        )
    return dest


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_name(dest: Path, kind: str) -> str:
    return f".{dest.name}.{_TAG}-{os.getpid()}-{os.urandom(4).hex()}.{kind}"


def _clean_stale(dest: Path) -> None:
    """Remove temporaries of ``dest`` left by runs that were killed (their process is gone)."""
    pattern = re.compile(rf"^\.{re.escape(dest.name)}\.{_TAG}-(\d+)-[0-9a-f]+\.(tmp|old)$")
    try:
        entries = list(dest.parent.iterdir())
    except OSError:
        return
    removed = []
    for entry in entries:
        m = pattern.match(entry.name)
        if not m or _alive(int(m.group(1))):
            continue
        if m.group(2) == "old" and not dest.exists():
            # killed between moving the old folder aside and moving the new one in: put it back
            with contextlib.suppress(OSError):
                os.rename(entry, dest)
                warnings.warn(f"restored '{dest}' from '{entry.name}', left aside by a run killed while replacing it",
                              RuntimeWarning, stacklevel=3)
                continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry.name)
    if removed:
        warnings.warn(f"removed {len(removed)} temporary output(s) of '{dest}' left by killed runs: "
                      f"{', '.join(sorted(removed))}", RuntimeWarning, stacklevel=3)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_output_dir(dest: str | Path, *, overwrite: bool = False):
    """Yield a temporary folder that becomes ``dest`` when the block succeeds (see the module docstring).

    Raises ConfigError, leaving ``dest`` as it was, if ``dest`` is a file, is not empty (and
    ``overwrite`` is false), or filled up while the output was being written.
    """
    _clean_stale(Path(dest))  # first: a folder a killed run left aside is the user's again before the check
    dest = check_output_dir(dest, overwrite=overwrite)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / _temp_name(dest, "tmp")
    tmp.mkdir(mode=0o777 & ~_umask())
    try:
        yield tmp
        _move_into_place(tmp, dest, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_into_place(tmp: Path, dest: Path, *, overwrite: bool) -> None:
    try:
        os.rename(tmp, dest)  # succeeds onto an absent path or an empty folder, never a full one
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise
        if not overwrite or not dest.is_dir():
            raise ConfigError(f"output folder '{dest}': was filled by something else while the output was being "
                              "written; it was left as it is and nothing was written") from None
    old = dest.parent / _temp_name(dest, "old")
    os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except OSError:
        with contextlib.suppress(OSError):
            os.rename(old, dest)  # put the user's folder back where it was
        if old.exists():
            raise ConfigError(f"output folder '{dest}': was recreated by something else while being replaced; "
                              f"the previous contents are kept in '{old}'") from None
        raise ConfigError(f"output folder '{dest}': was recreated by something else while being replaced; "
                          "it was left as it is and nothing was written") from None
    shutil.rmtree(old, ignore_errors=True)


def finite_json(x):
    """``x`` with every non-finite float (NaN, infinity) replaced by None, so the JSON is valid."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite_json(v) for v in x]
    return x


def jsonable(x):
    """``json.dumps`` default: numpy scalars and arrays as Python numbers and lists."""
    import numpy as np

    if isinstance(x, np.generic):
        return finite_json(x.item())
    if isinstance(x, np.ndarray):
        return finite_json(x.tolist())
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _to_json(data) -> str:
    return json.dumps(finite_json(data), indent=2, ensure_ascii=False, default=jsonable, allow_nan=False)


def _write_file(path: Path, write, *, exclusive: bool = False) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{_TAG}-{os.getpid()}-", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        os.close(fd)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        if exclusive:
            try:
                os.link(tmp, path)  # fails if path exists: no check-then-write race
            except FileExistsError:
                raise ConfigError(f"file '{path}': exists; choose another name or replace it on purpose "
                                  "(--force on the command line, force=True from Python)") from None
        else:
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_json_atomic(path: Path, data, *, exclusive: bool = False) -> None:
    """Write JSON to ``path`` via a unique temporary file and a rename (non-finite numbers as null)."""
    text = _to_json(data)
    _write_file(path, lambda p: p.write_text(text, encoding="utf-8"), exclusive=exclusive)


def write_text_atomic(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write text to ``path`` via a unique temporary file and a rename."""
    _write_file(path, lambda p: p.write_text(text, encoding="utf-8"), exclusive=exclusive)


def write_csv_atomic(path: Path, frame, *, exclusive: bool = False) -> None:
    """Write a DataFrame as CSV to ``path`` via a unique temporary file and a rename."""
    _write_file(path, lambda p: frame.to_csv(p, index=False), exclusive=exclusive)


def write_parquet_atomic(path: Path, frame, *, exclusive: bool = False) -> None:
    """Write a DataFrame as Parquet to ``path`` via a unique temporary file and a rename."""
    _write_file(path, lambda p: frame.to_parquet(p, index=False), exclusive=exclusive)


def terminate_as_interrupt() -> None:
    """Make SIGTERM raise ``SystemExit(143)`` in the main thread, so cleanups (``finally``) run."""

    import threading

    def handler(signum, frame):  # pragma: no cover - exercised by the fault-injection tests
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
