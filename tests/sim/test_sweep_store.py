"""The verified sweep store: damaged, swapped, extra or renamed files are found, quarantined and
recomputed, results equal a clean run's bit for bit, and a refused sweep leaves nothing on disk."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket

import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.sweeps import sweep, sweep_metrics
from lifecycle.cli import main
from scenarios.errors import ConfigError, DataError
from sim.scenario import load_scenario
from sim.sweep import Axis, SweepSpec, parse_axis, run_sweep
from sim.sweep_store import ResultsStore

PARAM = "customers.gross_margin=0.2,0.3,0.4"
SMALL = {"customers": 300, "days": 30}
CLI_ARGS = ["sweep", "--param", PARAM, "--replications", "2", "--customers", "300", "--days", "30", "--workers", "1"]


def _spec(*params, **kw) -> SweepSpec:
    return SweepSpec(load_scenario(), tuple(parse_axis(p) for p in params or (PARAM,)), replications=2, **{**SMALL, **kw})


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """One clean, finished store and its results (3 points x 2 replications)."""
    folder = tmp_path_factory.mktemp("clean") / "store"
    frame = run_sweep(_spec(), ResultsStore(folder), measure=sweep_metrics, workers=1)
    assert len(frame) == 6
    return folder, frame


def _copy(clean, tmp_path):
    folder = tmp_path / "store"
    shutil.copytree(clean[0], folder)
    return folder


def _resume(folder):
    store = ResultsStore(folder)
    frame = run_sweep(_spec(), store, measure=sweep_metrics, workers=1, resume=True)
    return frame, store


def _snapshot(folder):
    return {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def _parts_mtimes(folder):
    return {p.name: p.stat().st_mtime_ns for p in (folder / "parts").glob("point-??????.parquet")}


def _quarantined(store):
    return {n.path: n for n in store.notices if n.action == "quarantined"}


def _assert_clean(folder, clean, frame):
    """Same results as the clean run, bit for bit, and the store verifies from scratch."""
    pd.testing.assert_frame_equal(frame, clean[1], check_exact=True)
    pd.testing.assert_frame_equal(ResultsStore(folder).read(), clean[1], check_exact=True)
    assert sorted(p.name for p in (folder / "parts").iterdir()) == [f"point-{i:06d}.parquet" for i in range(3)]


def test_store_layout_manifest_parts_and_checksums(clean):
    """The manifest lists every part; each part has a record with its SHA-256 and row count."""
    folder = clean[0]
    info = json.loads((folder / "manifest.json").read_text())
    assert info["version"] == 2 and info["key"] == _spec().key()
    assert [e["file"] for e in info["parts"]] == [f"parts/point-{i:06d}.parquet" for i in range(3)]
    assert [e["params"] for e in info["parts"]] == [{"customers.gross_margin": v} for v in (0.2, 0.3, 0.4)]
    assert all(e["replications"] == {"start": 0, "stop": 2} for e in info["parts"])
    for e in info["parts"]:
        data = (folder / e["file"]).read_bytes()
        rec = json.loads((folder / "checksums" / f"point-{e['point']:06d}.json").read_text())
        assert rec["sha256"] == hashlib.sha256(data).hexdigest() and rec["rows"] == 2 and rec["key"] == info["key"]
    assert not list(folder.rglob("*.tmp"))
    assert len(pd.read_parquet(folder / "parts")) == 6  # parts/ holds only parts: plain Parquet readers work


def test_swapped_parts_are_quarantined_and_recomputed(clean, tmp_path):
    folder = _copy(clean, tmp_path)
    a, b = folder / "parts/point-000000.parquet", folder / "parts/point-000001.parquet"
    swapped_a, swapped_b = b.read_bytes(), a.read_bytes()
    a.write_bytes(swapped_a)
    b.write_bytes(swapped_b)
    frame, store = _resume(folder)
    bad = _quarantined(store)
    assert set(bad) == {"parts/point-000000.parquet", "parts/point-000001.parquet"}
    assert "holds point 1's results, not point 0's" in bad["parts/point-000000.parquet"].problem
    assert bad["parts/point-000000.parquet"].point == 0
    assert "point 0 is recomputed" in str(bad["parts/point-000000.parquet"])
    # never deleted: the bad bytes are in quarantine/, with the reasons
    moved = folder / bad["parts/point-000000.parquet"].moved_to
    assert moved.read_bytes() == swapped_a and moved.is_relative_to(folder / "quarantine")
    reasons = json.loads((moved.parents[1] / "reasons.json").read_text())
    assert {r["file"] for r in reasons} >= {"parts/point-000000.parquet", "checksums/point-000000.json"}
    _assert_clean(folder, clean, frame)


def test_extra_files_in_parts_are_quarantined_without_recomputing(clean, tmp_path):
    folder = _copy(clean, tmp_path)
    parts = folder / "parts"
    before = _parts_mtimes(folder)
    shutil.copy(parts / "point-000000.parquet", parts / "point-000007.parquet")
    (parts / "notes.txt").write_text("mine")
    (parts / "old").mkdir()
    (parts / ".DS_Store").write_bytes(b"\0")
    (parts / ".point-000001.parquet.999.abcd.tmp").write_bytes(b"half a part")
    frame, store = _resume(folder)
    bad = _quarantined(store)
    assert set(bad) == {"parts/point-000007.parquet", "parts/notes.txt", "parts/old", "parts/.point-000001.parquet.999.abcd.tmp"}
    assert "names point 7, but this sweep has points 0..2" in bad["parts/point-000007.parquet"].problem
    assert "unfinished write" in bad["parts/.point-000001.parquet.999.abcd.tmp"].problem
    assert all(n.point is None for n in bad.values())
    ignored = [n for n in store.notices if n.action == "ignored"]
    assert [n.path for n in ignored] == ["parts/.DS_Store"] and (parts / ".DS_Store").exists()
    assert _parts_mtimes(folder) == before  # the real parts were verified, not redone
    (parts / ".DS_Store").unlink()
    _assert_clean(folder, clean, frame)


def test_truncated_part_is_quarantined_and_recomputed(clean, tmp_path):
    folder = _copy(clean, tmp_path)
    part = folder / "parts/point-000001.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    frame, store = _resume(folder)
    bad = _quarantined(store)
    assert list(bad) == ["parts/point-000001.parquet"]
    assert "not a readable Parquet file" in bad["parts/point-000001.parquet"].problem
    _assert_clean(folder, clean, frame)


def test_renamed_part_is_quarantined_and_its_point_recomputed(clean, tmp_path):
    folder = _copy(clean, tmp_path)
    (folder / "parts/point-000002.parquet").rename(folder / "parts/point-2.parquet")
    before = _parts_mtimes(folder)
    frame, store = _resume(folder)
    bad = _quarantined(store)
    assert list(bad) == ["parts/point-2.parquet"]
    assert "not named like a part" in bad["parts/point-2.parquet"].problem
    after = _parts_mtimes(folder)
    assert {k: after[k] for k in before} == before and "point-000002.parquet" in after
    _assert_clean(folder, clean, frame)


def test_changed_numbers_are_caught_by_the_checksum(clean, tmp_path):
    """A readable part with the right point, replications and parameters but other numbers."""
    folder = _copy(clean, tmp_path)
    part = folder / "parts/point-000001.parquet"
    df = pd.read_parquet(part)
    df["ltv_mean"] += 1.0
    df.to_parquet(part, index=False)
    frame, store = _resume(folder)
    bad = _quarantined(store)
    assert list(bad) == ["parts/point-000001.parquet"]
    assert "SHA-256" in bad["parts/point-000001.parquet"].problem
    _assert_clean(folder, clean, frame)


def test_part_without_checksum_record_is_recomputed(clean, tmp_path):
    folder = _copy(clean, tmp_path)
    (folder / "checksums/point-000000.json").unlink()
    (folder / "checksums/stray.json").write_text("{}")
    frame, store = _resume(folder)
    bad = _quarantined(store)
    assert set(bad) == {"parts/point-000000.parquet", "checksums/stray.json"}
    assert "no checksum record" in bad["parts/point-000000.parquet"].problem
    _assert_clean(folder, clean, frame)


@pytest.mark.parametrize("damage", ["truncated", "edited", "missing"])
def test_damaged_manifest_is_refused_then_rebuilt_on_resume(clean, tmp_path, damage):
    folder = _copy(clean, tmp_path)
    manifest = folder / "manifest.json"
    if damage == "truncated":
        manifest.write_bytes(manifest.read_bytes()[:200])
    elif damage == "edited":
        info = json.loads(manifest.read_text())
        info["parts"][1]["params"]["customers.gross_margin"] = 0.9
        manifest.write_text(json.dumps(info))
    else:
        manifest.unlink()
    snapshot = _snapshot(folder)
    with pytest.raises(ConfigError, match="resume the sweep to rebuild it"):
        run_sweep(_spec(), ResultsStore(folder), measure=sweep_metrics, workers=1)
    with pytest.raises(DataError):
        ResultsStore(folder).read()  # reading never trusts a store it cannot verify
    assert _snapshot(folder) == snapshot
    before = _parts_mtimes(folder)
    frame, store = _resume(folder)
    bad = _quarantined(store)
    if damage == "missing":
        assert not bad
    else:
        assert list(bad) == ["manifest.json"] and "rebuilt" in str(bad["manifest.json"])
        assert ("not valid JSON" if damage == "truncated" else "does not match this sweep's plan") in bad["manifest.json"].problem
    assert _parts_mtimes(folder) == before  # the parts kept their proof: nothing recomputed
    assert json.loads(manifest.read_text()) == json.loads((clean[0] / "manifest.json").read_text())
    _assert_clean(folder, clean, frame)


def test_damaged_manifest_with_another_sweeps_records_is_not_touched(clean, tmp_path):
    folder = _copy(clean, tmp_path)
    (folder / "manifest.json").write_text("{")
    snapshot = _snapshot(folder)
    with pytest.raises(ConfigError, match="belong to another sweep"):
        run_sweep(_spec(seed=1), ResultsStore(folder), measure=sweep_metrics, workers=1, resume=True)
    assert _snapshot(folder) == snapshot


@pytest.mark.parametrize("manifest", [None, '{"name": "some other tool"}'])
def test_a_folder_that_is_not_a_sweep_is_refused_even_on_resume(tmp_path, manifest):
    """A stranger's folder (its own manifest.json or parts/) is never quarantined or rebuilt."""
    folder = tmp_path / "theirs"
    (folder / "parts").mkdir(parents=True)
    (folder / "parts" / "data.parquet").write_bytes(b"not ours")
    if manifest is not None:
        (folder / "manifest.json").write_text(manifest)
    snapshot = _snapshot(folder)
    with pytest.raises(ConfigError, match="not empty and is not a sweep"):
        run_sweep(_spec(), ResultsStore(folder), measure=sweep_metrics, workers=1, resume=True)
    assert _snapshot(folder) == snapshot


def test_read_refuses_an_unverified_part_and_moves_nothing(clean, tmp_path):
    folder = _copy(clean, tmp_path)
    part = folder / "parts/point-000002.parquet"
    part.write_bytes(part.read_bytes()[:-10])
    snapshot = _snapshot(folder)
    with pytest.raises(DataError, match=r"parts/point-000002\.parquet is not a readable Parquet file"):
        ResultsStore(folder).read()
    assert ResultsStore(folder).finished() == {0, 1}
    assert _snapshot(folder) == snapshot


class _DamagesOnce(ResultsStore):
    """A store whose first write of point 1 is truncated on disk right after it is written."""

    def write(self, point, frame):
        super().write(point, frame)
        if point == 1 and not getattr(self, "_damaged", False):
            self._damaged = True
            part = self.parts / "point-000001.parquet"
            part.write_bytes(part.read_bytes()[:50])


def test_final_read_verifies_and_recomputes_a_part_damaged_during_the_run(clean, tmp_path):
    store = _DamagesOnce(tmp_path / "store")
    frame = run_sweep(_spec(), store, measure=sweep_metrics, workers=1)
    assert [n.path for n in store.notices] == ["parts/point-000001.parquet"]
    _assert_clean(tmp_path / "store", clean, frame)


def test_cli_resume_warns_which_part_and_what_was_wrong(clean, tmp_path):
    folder = _copy(clean, tmp_path)
    a, b = folder / "parts/point-000000.parquet", folder / "parts/point-000002.parquet"
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    res = CliRunner().invoke(main, [*CLI_ARGS, "--results", str(folder), "--resume"])
    assert res.exit_code == 0, res.output
    warnings = [line for line in res.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert "parts/point-000000.parquet holds point 2's results, not point 0's" in warnings[0]
    assert "quarantine/" in warnings[0] and "point 0 is recomputed" in warnings[0]
    pd.testing.assert_frame_equal(ResultsStore(folder).read(), clean[1], check_exact=True)
    again = CliRunner().invoke(main, [*CLI_ARGS, "--results", str(folder), "--resume", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["store_notices"] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, message", [
    ("tcp://127.0.0.1:{port}", "cannot reach a Dask scheduler"),
    ("not a url", "is not a Dask scheduler address"),
    ("tcp://127.0.0.1:notaport", "is not a Dask scheduler address"),
    ("http://127.0.0.1:8786", "is not a Dask scheduler address"),
])  # fmt: skip
def test_bad_scheduler_is_one_config_error_and_leaves_nothing(tmp_path, address, message):
    address = address.format(port=_free_port())
    results = tmp_path / "new" / "results"
    res = CliRunner().invoke(main, [*CLI_ARGS, "--scheduler", address, "--results", str(results)])
    assert res.exit_code == 2, res.output
    assert message in res.output and "--scheduler" in res.output and "Traceback" not in res.output
    with pytest.raises(ConfigError, match=message) as err:
        run_sweep(_spec(), ResultsStore(results), measure=sweep_metrics, scheduler=address)
    assert "--" not in str(err.value)  # library messages name no command-line flags
    assert not (tmp_path / "new").exists()


def test_bad_scheduler_on_resume_changes_nothing(clean, tmp_path):
    folder = _copy(clean, tmp_path)
    (folder / "parts/point-000001.parquet").write_bytes(b"junk")
    snapshot = _snapshot(folder)
    with pytest.raises(ConfigError, match="cannot reach"):
        run_sweep(_spec(), ResultsStore(folder), measure=sweep_metrics, resume=True,
                  scheduler=f"tcp://127.0.0.1:{_free_port()}")
    assert _snapshot(folder) == snapshot


def _failing_measure(result):
    raise RuntimeError("measure is broken")


def test_failing_first_task_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="measure is broken"):
        run_sweep(_spec(), ResultsStore(tmp_path / "r"), measure=_failing_measure, workers=1)
    assert not (tmp_path / "r").exists()


def test_invalid_point_leaves_nothing(tmp_path):
    with pytest.raises(ConfigError, match="no policy named 'nope'"):
        run_sweep(_spec("policies.nope.discount=1,2"), ResultsStore(tmp_path / "r"), measure=sweep_metrics)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("params", [
    [PARAM, "customers.gross_margin=0.5"],
    [Axis("customers.gross_margin", (0.2,)), Axis("customers.gross_margin", (0.3,))],
])  # fmt: skip
def test_duplicate_axes_are_refused_by_the_workflow(tmp_path, params):
    with pytest.raises(ConfigError, match="'customers.gross_margin' more than once") as err:
        sweep(None, params, results=tmp_path / "r", replications=1, **SMALL)
    assert "--" not in str(err.value)
    with pytest.raises(ConfigError, match="more than once"):
        run_sweep(SweepSpec(load_scenario(), tuple(a if isinstance(a, Axis) else parse_axis(a) for a in params)),
                  ResultsStore(tmp_path / "r"), measure=sweep_metrics)
    assert not (tmp_path / "r").exists()


def test_a_store_in_use_is_refused(clean, tmp_path):
    fcntl = pytest.importorskip("fcntl")
    import os

    folder = _copy(clean, tmp_path)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ConfigError, match="in use by another sweep"):
            _resume(folder)
    finally:
        os.close(fd)
    frame, store = _resume(folder)  # the lock goes with its holder
    assert not store.notices
    _assert_clean(folder, clean, frame)
