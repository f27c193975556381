"""Real signals against ``lifecycle run --out``: after each, the user's files are intact, no temporary stays.

Each case starts the command in its own process, sends SIGINT, SIGTERM or SIGKILL after a
random delay (seeded, so a failure can be replayed), and then checks: a folder the user had is
either byte-identical or completely replaced by a whole output (never partial, never missing);
other files beside it are untouched; SIGINT and SIGTERM leave no temporary and exit 130 / 143;
after SIGKILL, the next run to the same destination removes what the killed one left.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUN_FILES = {"daily.parquet", "customers.parquet", "retention.parquet", "ledger.parquet", "summary.json",
             "stages.png", "retention.png", "money.png"}
ARGS = ["run", "--customers", "3000", "--days", "90", "--seed", "3", "--json"]


def _lifecycle() -> list[str]:
    script = Path(sys.executable).with_name("lifecycle")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "from lifecycle.cli import main; main()"]


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _temporaries(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".lifecycle-" in p.name)


def _user_files(parent: Path) -> tuple[Path, dict, dict]:
    mine = parent / "results"
    mine.mkdir()
    (mine / "report.txt").write_text("last quarter's figures\n")
    (parent / "beside.txt").write_text("a file next to the output\n")
    return mine, _snapshot(mine), {"beside.txt": (parent / "beside.txt").read_bytes()}


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_signal_at_a_random_moment_loses_nothing(tmp_path, sig, seed):
    """--out onto the user's folder with --force, interrupted at a random moment of the run or the write."""
    mine, before, beside = _user_files(tmp_path)
    delay = random.Random(seed * 31 + int(sig)).uniform(0.5, 6.0)
    proc = subprocess.Popen(_lifecycle() + ARGS + ["--out", str(mine), "--force"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
        os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    now = _snapshot(mine) if mine.exists() else None
    assert now is not None, f"the user's folder vanished (signal after {delay:.2f} s)"
    assert now == before or set(now) == RUN_FILES, (delay, sorted(now))
    assert {"beside.txt": (tmp_path / "beside.txt").read_bytes()} == beside
    if finished:
        assert proc.returncode == 0
        return
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        again = subprocess.run(_lifecycle() + ARGS + ["--out", str(tmp_path / "again")], capture_output=True,
                               text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        stale = [t for t in _temporaries(tmp_path) if t.startswith(".results.")]
        # the next run to the same destination cleans what the killed one left
        subprocess.run(_lifecycle() + ARGS + ["--out", str(mine), "--force"], capture_output=True, timeout=300)
        assert [t for t in _temporaries(tmp_path) if t.startswith(".results.")] == [], stale
    else:
        if proc.returncode == -sig:
            # the signal came while the interpreter was shutting down, after the output was in place
            assert set(now) == RUN_FILES, (delay, err)
        else:
            assert proc.returncode in (130, 143, 0), err
        assert _temporaries(tmp_path) == [], err
        assert b"Traceback" not in err


@pytest.mark.slow
def test_two_runs_to_one_new_folder_leave_one_whole_output(tmp_path):
    """Two concurrent runs to the same new --out: one writes it, the other is refused; no temporary."""
    dest = tmp_path / "out"
    procs = [subprocess.Popen(_lifecycle() + ARGS + ["--out", str(dest)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for _ in range(2)]
    codes = [p.wait(timeout=300) for p in procs]
    errors = [p.stderr.read().decode() for p in procs]
    assert sorted(codes) in ([0, 2], [0, 0]) or codes == [2, 0], (codes, errors)
    assert set(_snapshot(dest)) == RUN_FILES
    assert _temporaries(tmp_path) == []
    for code, err in zip(codes, errors):
        if code == 2:
            assert err.startswith("error: output folder") and err.count("\n") == 1, err
