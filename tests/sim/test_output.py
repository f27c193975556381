"""Fault injection for sim/output.py: a user's files are never lost, no temporary is left behind.

In-process faults: a folder that appears or fills up while the output is written, a full disk
(simulated ENOSPC), a read-only destination (simulated EROFS; the tests run as root, for whom
permissions do not bite), concurrent writers, the current folder as destination, stale
temporaries of killed runs. Real signals against the command line are in
tests/lifecycle/cli/test_faults.py.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path

import pytest

from scenarios.errors import ConfigError
from sim import output
from sim.output import atomic_output_dir, write_json_atomic, write_text_atomic


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _temporaries(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.rglob("*") if ".lifecycle-" in p.name)


def _user_folder(parent: Path) -> Path:
    mine = parent / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("my own notes\n")
    (mine / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return mine


def test_a_folder_filled_while_writing_is_left_as_it_is(tmp_path):
    """The destination appears, with a file in it, during the write: refused, untouched, no temporary."""
    dest = tmp_path / "out"
    with pytest.raises(ConfigError, match="filled by something else"):
        with atomic_output_dir(dest) as tmp:
            (tmp / "summary.json").write_text("{}")
            dest.mkdir()
            (dest / "theirs.txt").write_text("another tool's file")
    assert _snapshot(dest) == {"theirs.txt": b"another tool's file"}
    assert _temporaries(tmp_path) == []


def test_an_empty_folder_that_appears_is_filled(tmp_path):
    """An empty destination folder holds nothing to lose: the output moves into it."""
    dest = tmp_path / "out"
    with atomic_output_dir(dest) as tmp:
        (tmp / "a.txt").write_text("new")
        dest.mkdir()
    assert _snapshot(dest) == {"a.txt": b"new"} and _temporaries(tmp_path) == []


def test_force_replaces_only_after_the_new_output_is_complete(tmp_path):
    """With overwrite, an error while writing leaves the old folder byte-identical."""
    mine = _user_folder(tmp_path)
    before = _snapshot(mine)
    with pytest.raises(RuntimeError):
        with atomic_output_dir(mine, overwrite=True) as tmp:
            (tmp / "half.json").write_text("{")
            raise RuntimeError("the run failed half-way")
    assert _snapshot(mine) == before and _temporaries(tmp_path) == []
    with atomic_output_dir(mine, overwrite=True) as tmp:
        (tmp / "new.json").write_text("{}")
    assert _snapshot(mine) == {"new.json": b"{}"} and _temporaries(tmp_path) == []


def test_without_force_a_full_folder_is_refused_before_anything_is_written(tmp_path):
    """A non-empty destination is refused on entry, naming it and how to replace it."""
    mine = _user_folder(tmp_path)
    before = _snapshot(mine)
    with pytest.raises(ConfigError, match="exists and is not empty.*--force"):
        with atomic_output_dir(mine):
            pytest.fail("the block must not run")
    assert _snapshot(mine) == before and _temporaries(tmp_path) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_full_or_read_only_disk_leaves_nothing(tmp_path, monkeypatch, code):
    """An OSError while writing (disk full, read-only, forbidden): the error surfaces, nothing remains."""
    mine = _user_folder(tmp_path)
    before = _snapshot(mine)

    def failing(self, *args, **kwargs):
        raise OSError(code, os.strerror(code), str(self))

    with pytest.raises(OSError) as info:
        with atomic_output_dir(mine, overwrite=True) as tmp:
            monkeypatch.setattr(Path, "write_text", failing)
            write_json_atomic(tmp / "summary.json", {"x": 1})
    monkeypatch.undo()
    assert info.value.errno == code
    assert _snapshot(mine) == before and _temporaries(tmp_path) == []


def test_the_current_folder_is_refused_even_with_force(tmp_path, monkeypatch):
    """``--out . --force`` would remove the folder the user is in: refused, nothing written in it."""
    mine = _user_folder(tmp_path)
    monkeypatch.chdir(mine)
    before = _snapshot(mine)
    for dest in (".", str(mine), str(tmp_path)):
        with pytest.raises(ConfigError, match="current folder or one of its parents"):
            with atomic_output_dir(dest, overwrite=True):
                pytest.fail("the block must not run")
    assert _snapshot(mine) == before and _temporaries(tmp_path) == []


def test_concurrent_writers_never_mix_or_lose_outputs(tmp_path):
    """Eight threads write complete outputs to one destination: exactly one lands, whole; no temporary."""
    dest = tmp_path / "out"
    barrier = threading.Barrier(8)
    results = []

    def writer(k: int) -> None:
        try:
            with atomic_output_dir(dest) as tmp:
                for name in ("a.json", "b.json", "c.json"):
                    write_json_atomic(tmp / name, {"writer": k})
                barrier.wait(timeout=10)  # everyone has passed the entry check: the move decides
            results.append(("ok", k))
        except ConfigError as exc:
            results.append(("refused", str(exc)))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [k for kind, k in results if kind == "ok"]
    assert len(winners) == 1, results
    content = {json.loads(p.read_text())["writer"] for p in dest.iterdir()}
    assert content == {winners[0]} and len(list(dest.iterdir())) == 3
    assert _temporaries(tmp_path) == []


def test_stale_temporaries_of_killed_runs_are_removed_on_the_next_write(tmp_path):
    """Temporaries whose process is gone are removed (with a warning); a live writer's are kept."""
    dest = tmp_path / "out"
    dead = tmp_path / f".out.lifecycle-{2**22 + 12345}-deadbeef.tmp"  # no such process
    dead.mkdir()
    (dead / "daily.parquet").write_bytes(b"x" * 1000)
    live = tmp_path / f".out.lifecycle-{os.getppid()}-cafebabe.tmp"
    live.mkdir()
    with pytest.warns(RuntimeWarning, match="left by killed runs"):
        with atomic_output_dir(dest) as tmp:
            (tmp / "a").write_text("1")
    assert not dead.exists() and live.exists()


def test_single_files_use_unique_temporaries_and_exclusive_creation(tmp_path):
    """write_text_atomic(exclusive=True) never replaces an existing file; JSON has no NaN or Infinity."""
    path = tmp_path / "scenario.toml"
    path.write_text("mine")
    with pytest.raises(ConfigError, match="exists"):
        write_text_atomic(path, "new", exclusive=True)
    assert path.read_text() == "mine"
    write_json_atomic(tmp_path / "s.json", {"a": float("nan"), "b": [float("inf"), 1.5]})
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": None, "b": [None, 1.5]}
    assert _temporaries(tmp_path) == []


def test_output_folders_follow_the_umask(tmp_path):
    """Outputs get the user's normal permissions, not the 0700 of a private temporary folder."""
    mask = os.umask(0o022)
    try:
        with atomic_output_dir(tmp_path / "out") as tmp:
            write_json_atomic(tmp / "a.json", {})
    finally:
        os.umask(mask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "a.json").stat().st_mode & 0o777 == 0o644
    assert output._umask() == mask


def test_a_folder_left_aside_by_a_run_killed_mid_replacement_is_restored(tmp_path):
    """Killed between moving the old folder aside and moving the new one in: the next write puts it back."""
    mine = _user_folder(tmp_path)
    before = _snapshot(mine)
    aside = tmp_path / f".mine.lifecycle-{2**22 + 54321}-0badf00d.old"  # its process is gone
    os.rename(mine, aside)
    with pytest.warns(RuntimeWarning, match="restored"):
        with pytest.raises(ConfigError, match="not empty"):
            with atomic_output_dir(mine):
                pytest.fail("the restored folder is the user's: not replaced without force")
    assert _snapshot(mine) == before and not aside.exists()


def test_parquet_is_written_atomically_and_never_over_a_file_when_exclusive(tmp_path):
    """write_parquet_atomic writes a readable table; exclusive refuses an existing file and leaves it."""
    import pandas as pd

    from sim.output import write_parquet_atomic

    path = tmp_path / "t.parquet"
    write_parquet_atomic(path, pd.DataFrame({"a": [1, 2]}), exclusive=True)
    assert pd.read_parquet(path)["a"].tolist() == [1, 2]
    with pytest.raises(ConfigError, match="exists"):
        write_parquet_atomic(path, pd.DataFrame({"a": [3]}), exclusive=True)
    assert pd.read_parquet(path)["a"].tolist() == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]  # no temporary left behind
