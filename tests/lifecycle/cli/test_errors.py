"""How the command line ends: user mistakes exit 2, bugs exit 1 with a saved traceback, nothing half-written.

Covers the paths not reached by bad scenario files: a deeply nested TOML, a full or read-only
disk during writing (simulated: the tests run as root, for whom permissions do not bite), a
report that fails after a calibration (no scenario file may be left behind), and an internal error.
"""

from __future__ import annotations

import errno
import os

import pytest
from click.testing import CliRunner

from lifecycle.cli import main

SMALL = ["--customers", "300", "--days", "20"]


def _one_error_line(result, code=2, prefix="error:"):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), result.stderr
    assert "Traceback" not in result.output


def test_a_60000_deep_nested_toml_is_one_error(tmp_path):
    """Nesting that would overflow the parser's recursion is refused as a user error."""
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 60_000 + "]" * 60_000 + "\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    _one_error_line(result)
    assert "nested too deeply" in result.stderr


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_full_or_read_only_disk_is_a_user_error_and_leaves_nothing(tmp_path, monkeypatch, code):
    """OSError while writing --out: one error line naming the problem, exit 2, no folder, no temporary."""
    import pandas as pd

    def full(self, *args, **kwargs):
        raise OSError(code, os.strerror(code), str(args[0]) if args else "file")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", *SMALL, "--out", str(out)])
    _one_error_line(result)
    assert os.strerror(code) in result.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []


def test_calibrate_leaves_no_scenario_file_when_its_report_fails(tmp_path, monkeypatch):
    """The report is written first: if it fails (a full disk), the scenario file is not left behind."""
    from analysis.calibration import report as calibration_report

    log = tmp_path / "log.csv"
    rows = ["customer,date,amount"] + [f"c{i % 60},2020-01-{1 + i % 28:02d},{10 + i % 7}" for i in range(600)]
    rows += [f"c{i % 60},2020-03-{1 + i % 28:02d},{12 + i % 5}" for i in range(300)]
    log.write_text("\n".join(rows) + "\n")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "report")

    monkeypatch.setattr(calibration_report, "write_calibration_report", full)
    scenario_file = tmp_path / "mine.toml"
    result = CliRunner().invoke(main, ["calibrate", str(log), "--calibration-end", "2020-02-15", "--holdout-end",
                                       "2020-03-31", "--replications", "1", "--out", str(scenario_file),
                                       "--report", str(tmp_path / "report")])
    _one_error_line(result)
    assert not scenario_file.exists() and not (tmp_path / "report").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_an_internal_error_says_it_is_a_bug_and_saves_the_traceback(tmp_path, monkeypatch):
    """An unexpected exception: one line saying it is a bug, the traceback in a file, exit 1."""
    import analysis.runs

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(analysis.runs, "run", broken)
    monkeypatch.setenv("LIFECYCLE_BUG_DIR", str(tmp_path / "bugs"))
    result = CliRunner().invoke(main, ["run", *SMALL])
    _one_error_line(result, code=1, prefix="internal error:")
    assert "bug" in result.stderr and "planted" in result.stderr
    (saved,) = list((tmp_path / "bugs").iterdir())
    assert "ZeroDivisionError: planted" in saved.read_text() and str(saved) in result.stderr


def test_a_malformed_memory_limit_is_a_user_error():
    """--max-memory takes sizes such as 32G."""
    result = CliRunner().invoke(main, ["--max-memory", "lots", "run", *SMALL])
    _one_error_line(result)
    assert "512M, 32G" in result.stderr


def test_a_run_above_the_memory_limit_is_refused_with_the_estimate():
    """The estimate and the limit are in the message; nothing is simulated."""
    result = CliRunner().invoke(main, ["--max-memory", "400M", "run", "--customers", "2000000", "--days", "30"])
    _one_error_line(result)
    assert "GiB of memory; the limit is 0.4 GiB" in result.stderr


@pytest.fixture(autouse=True)
def _restore_memory_limit(monkeypatch):
    """--max-memory sets the environment for worker processes; keep it out of other tests."""
    monkeypatch.delenv("LIFECYCLE_MAX_MEMORY", raising=False)
    yield
    os.environ.pop("LIFECYCLE_MAX_MEMORY", None)



def test_ctrl_c_inside_the_compiled_kernel_is_an_interruption_not_a_bug(monkeypatch):
    """A signal that lands while compiled code runs comes back as a SystemError chained to the
    KeyboardInterrupt (CPython's check on the call's result): exit 130 'interrupted', no bug report."""
    import analysis.runs

    def kernel_interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(<function day_kernel>) returned a result with an exception set") from exc

    monkeypatch.setattr(analysis.runs, "run", kernel_interrupted)
    result = CliRunner().invoke(main, ["run", *SMALL])
    assert result.exit_code == 130, result.output
    assert result.stderr.startswith("interrupted") and "bug" not in result.stderr
