"""A sweep's results folder: every part listed, checksummed and verified before it is trusted.

Core objects: :class:`ResultsStore` (the folder: ``manifest.json`` listing every expected part,
``parts/point-NNNNNN.parquet``, ``checksums/``, ``quarantine/``; see its docstring for the
on-disk format and why each part's checksum is its own file) and :class:`StoreNotice` (one
problem found in the folder: what it was, what was done, what to do). Used by
:func:`sim.sweep.run_sweep`; a damaged, swapped, renamed or foreign file is moved to
``quarantine/`` (never deleted) and its point recomputed.

Size: about 420 lines of code, one concept (the store and its verification); split further, the
rules for trusting a part would be spread over files that must always change together.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from scenarios.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover
    from sim.sweep import SweepSpec

__all__ = ["ResultsStore", "StoreNotice", "part_name", "short_list", "concat_parts"]


KIND = "lifecycle-sweep"
PART_KIND = "lifecycle-sweep-part"
VERSION = 2
MANIFEST = "manifest.json"
_PART = re.compile(r"point-(\d{6})\.parquet")
_PART_LIKE = re.compile(r"point-0*(\d+)\.parquet", re.IGNORECASE)
_RECORD = re.compile(r"point-(\d{6})\.json")
# our own unfinished writes: ".<final name>.<pid>.<random hex>.tmp"
_TMP = re.compile(r"\.(point-\d{6}\.(parquet|json)|manifest\.json)\.\d+\.[0-9a-f]+\.tmp|\.point-\d{6}\.\d+\.tmp")


def part_name(point: int) -> str:
    """The file name of one point's part: ``point-NNNNNN.parquet``."""
    return f"point-{point:06d}.parquet"


def _record_name(point: int) -> str:
    return f"point-{point:06d}.json"


def _tmp_path(final: Path) -> Path:
    """A temporary name beside ``final``, unique to this process and call."""
    return final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and flush it to disk."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _write_atomic(final: Path, data: bytes) -> None:
    """Write ``final`` through a unique temporary name in the same folder and ``os.replace``."""
    tmp = _tmp_path(final)
    try:
        _write_file(tmp, data)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _json_bytes(obj) -> bytes:
    return json.dumps(obj, indent=2, default=str).encode("utf-8")


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def short_list(values: list) -> str:
    return str(values) if len(values) <= 6 else f"[{', '.join(map(str, values[:5]))}, ...] ({len(values)} rows)"


@dataclass(frozen=True)
class StoreNotice:
    """One thing a results store found wrong, and what it did about it.

    ``path`` and ``moved_to`` are relative to the store's folder; ``action`` is ``"quarantined"``
    (moved to ``moved_to`` inside ``quarantine/``) or ``"ignored"`` (left where it is);
    ``remedy`` says what follows (the point recomputed, the manifest rebuilt).
    """

    path: str
    problem: str
    action: str
    moved_to: str | None = None
    point: int | None = None
    remedy: str = ""

    def __str__(self) -> str:
        if self.action == "quarantined":
            text = f"{self.path} {self.problem}; moved to {self.moved_to}"
        else:
            text = f"{self.path} {self.problem}; left alone"
        return f"{text}, {self.remedy}" if self.remedy else text


class ResultsStore:
    """A sweep's results folder, every part of which is verified before it is trusted.

    On disk (format version 2)::

        manifest.json                  the sweep (key, scenario, axes, method, replications, seed,
                                       customers, days, points) and "parts": for every expected part
                                       {"file": "parts/point-NNNNNN.parquet", "point": N,
                                        "params": {name: value}, "replications": {"start": 0, "stop": R}}
        parts/point-NNNNNN.parquet     one point's R rows (point, replication, param:NAME..., metrics)
        checksums/point-NNNNNN.json    that part's record: {"kind", "version", "key", "file", "point",
                                       "replications", "rows", "bytes", "sha256"}
        quarantine/STAMP-PID-RAND/     files moved out of the way by one run, under their store path,
                                       with reasons.json saying what was wrong with each

    Every file is written under a unique temporary name in its own folder (``.NAME.PID.HEX.tmp``)
    and renamed with ``os.replace``. The manifest is written once, when the store is created after
    the first task has finished, and never rewritten (only rebuilt from the plan when it is found
    damaged on resume), so ``parts/`` holds nothing but part files and stays readable by
    ``pandas.read_parquet(folder / "parts")``.

    Checksums live in one small record per part rather than in a manifest rewritten after each
    part. A part is written to its temporary name, its record (SHA-256 and row count of exactly
    those bytes) is written and renamed into ``checksums/``, and only then is the part renamed
    into ``parts/``. A kill -9 at any instant therefore leaves every part visible under its final
    name with its checksum already on disk: a finished part is never lost or redone, and the worst
    left behind is a record without a part (overwritten when the point is recomputed) and an
    unfinished temporary file (quarantined). Rewriting the manifest instead would cost a write of
    the whole list per part, make concurrent updates lose records, and let one damaged manifest
    erase every checksum at once; with records, a damaged manifest is rebuilt from the plan and the
    parts keep their proof.

    A part is trusted only if its name is one the sweep expects, its record belongs to this sweep
    (key, file, point), its bytes match the recorded SHA-256 and row count, and it is readable
    Parquet holding exactly the expected point, replications 0..R-1 and the point's parameter
    values. On resume and at the end of a run everything else is moved to ``quarantine/`` (never
    deleted) and reported, and the affected points are recomputed: a bad or swapped part, a part
    under an unexpected name, an extra file or folder in ``parts/`` (whatever its name: any file
    there would be read by Parquet readers), a stray record in ``checksums/`` and an unfinished
    temporary file. Hidden files that are not ours (names starting with ``.`` or ``_``, such as
    ``.DS_Store``, which Parquet readers skip) are left alone with a notice. A missing or damaged
    manifest is quarantined and rebuilt from the plan on resume (refused without resume, and
    refused if the checksum records name another sweep). Other files in the folder (summaries,
    plots, your notes) are never touched.

    A running sweep holds an exclusive lock on the folder (``flock``, where the platform has it),
    released by the system when the process ends, however it ends.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / "parts"
        self.checksums = self.folder / "checksums"
        self.quarantine = self.folder / "quarantine"
        self.manifest = self.folder / MANIFEST
        #: what this store found wrong and did about it, in order
        self.notices: list[StoreNotice] = []
        #: called with each :class:`StoreNotice` as it is made
        self.on_notice = None
        self._key: str | None = None
        self._info: dict | None = None
        self._entries: list[dict] | None = None
        self._state: str | None = None
        self._damage = ""
        self._ready = False
        self._lock_fd: int | None = None
        self._batch: Path | None = None
        self._batch_reasons: list[dict] = []
        self._noticed: set[tuple[str, str]] = set()

    # -- opening ---------------------------------------------------------------------------------

    def check(self, spec: SweepSpec, points: list[dict], *, resume: bool) -> str:
        """Decide, without writing anything, what this folder is for ``spec``.

        Returns ``"new"`` (nothing there yet: created when the first task finishes), ``"existing"``
        (this sweep, to resume) or ``"rebuild"`` (this sweep with a missing or damaged manifest,
        to rebuild on resume). Raises ConfigError when the folder cannot take this sweep.
        """
        self._key = spec.key()
        self._info = _manifest(spec, points, self._key)
        self._entries = self._info["parts"]
        folder = self.folder
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"results folder '{folder}': exists and is not a folder")
        if not folder.exists():
            parent = next((a for a in folder.absolute().parents if a.exists()), None)
            if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
                raise ConfigError(f"results folder '{folder}': cannot be created ({parent} is not a writable folder)")
            return self._set_state("new")
        ours = False  # the manifest itself names this sweep
        if self.manifest.exists() or self.manifest.is_symlink():
            info, why = self._load_manifest()
            if isinstance(info, dict) and info.get("kind") == KIND and info.get("key") != self._key:
                raise ConfigError(
                    f"results folder '{folder}' holds another sweep ({info.get('scenario')}, key {info.get('key')}); "
                    "choose another folder (nothing was changed)"
                )
            if why is None:
                if _canonical(info) == _canonical(self._info):
                    if not resume:
                        raise ConfigError(f"results folder '{folder}' already holds this sweep; resume it to finish it")
                    return self._set_state("existing")
                ours = True
                if info.get("version") != VERSION:
                    why = f"was written by an older version of the store (format {info.get('version')}, without checksums)"
                else:
                    why = "does not match this sweep's plan (edited or damaged)"
        else:
            if self._is_empty():
                return self._set_state("new")
            why = "is missing"
        keys = self._record_keys()
        if not ours:  # without a readable manifest, only this sweep's checksum records show the folder is its store
            if keys and self._key not in keys:
                raise ConfigError(
                    f"results folder '{folder}': its {MANIFEST} {why} and its checksum records belong to another sweep "
                    f"(key {min(map(str, keys))}); choose another folder (nothing was changed)"
                )
            if self._key not in keys:
                raise ConfigError(
                    f"results folder '{folder}': the folder is not empty and is not a sweep ({MANIFEST} {why}); "
                    "choose another"
                )
        if not resume:
            raise ConfigError(
                f"results folder '{folder}': its {MANIFEST} {why}; resume the sweep to rebuild it from the plan and "
                "re-check every part (nothing was changed)"
            )
        if not ours and len(keys) > 1:
            raise ConfigError(
                f"results folder '{folder}': its {MANIFEST} {why} and its checksum records name several sweeps; "
                "not touching it"
            )
        self._damage = why
        return self._set_state("rebuild")

    def _set_state(self, state: str) -> str:
        self._state = state
        return state

    def start(self) -> set[int]:
        """After :meth:`check`: lock the folder, repair it if needed, return the verified points.

        A new store is not created here but by the first :meth:`write`. A damaged manifest is
        quarantined and rebuilt from the plan; every part is verified and bad files quarantined.
        """
        if self._state is None:
            raise RuntimeError("ResultsStore.start() needs check() first")
        if self._state == "new":
            return set()
        self._lock()
        if self._state == "rebuild":
            if self.manifest.exists() or self.manifest.is_symlink():
                self._quarantine(self.manifest, self._damage, remedy="rebuilt from this sweep's plan")
            _write_atomic(self.manifest, _json_bytes(self._info))
        self.parts.mkdir(exist_ok=True)
        self.checksums.mkdir(exist_ok=True)
        self._ready = True
        return set(self.verify())

    def close(self) -> None:
        """Release the folder's lock."""
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None

    def _create(self) -> None:
        """Create the store (manifest first, then the part folders), under the folder's lock."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"results folder '{self.folder}': cannot be created ({exc.strerror})") from None
        self._lock()
        if not self._is_empty():
            raise ConfigError(f"results folder '{self.folder}': was filled by someone else while this sweep ran; choose another")
        for leftover in self.folder.iterdir():  # our own unfinished manifests: nothing but a derivable file
            with contextlib.suppress(OSError):
                leftover.unlink()
        _write_atomic(self.manifest, _json_bytes(self._info))
        self.parts.mkdir(exist_ok=True)
        self.checksums.mkdir(exist_ok=True)
        self._ready = True

    def _lock(self) -> None:
        if self._lock_fd is not None:
            return
        try:
            import fcntl
        except ImportError:  # no flock on this platform: no lock
            return
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ConfigError(
                f"results folder '{self.folder}' is in use by another sweep that is still running; "
                "wait for it to finish or choose another folder"
            ) from None
        self._lock_fd = fd

    def _is_empty(self) -> bool:
        """Nothing in the folder but our own unfinished manifests."""
        return all(_TMP.fullmatch(p.name) and p.name.startswith(f".{MANIFEST}.") for p in self.folder.iterdir())

    def _load_manifest(self) -> tuple[dict | None, str | None]:
        """The parsed manifest, or None and what is wrong with it."""
        try:
            info = json.loads(self.manifest.read_text(encoding="utf-8"))
        except OSError as exc:
            return None, f"is unreadable ({exc.strerror})"
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, f"is not valid JSON ({exc})"
        if not isinstance(info, dict) or info.get("kind") != KIND:
            return None, "is not a sweep manifest"
        return info, None

    def _record_keys(self) -> set:
        """The sweep keys named by the readable checksum records."""
        keys = set()
        if self.checksums.is_dir():
            for path in self.checksums.iterdir():
                if _RECORD.fullmatch(path.name):
                    rec = _read_record(path)
                    if rec is not None:
                        keys.add(rec.get("key"))
        return keys

    # -- writing ---------------------------------------------------------------------------------

    def write(self, point: int, frame: pd.DataFrame) -> None:
        """Write one point's results: temporary part, then its checksum record, then the rename."""
        if self._entries is None:
            raise RuntimeError("ResultsStore.write() needs check() first")
        if not self._ready:
            self._create()
        entry = self._entries[point]
        final = self.parts / part_name(point)
        data = frame.to_parquet(None, index=False)
        tmp = _tmp_path(final)
        try:
            _write_file(tmp, data)
            record = {
                "kind": PART_KIND, "version": VERSION, "key": self._key, "file": entry["file"], "point": point,
                "replications": entry["replications"], "rows": len(frame), "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }  # fmt: skip
            _write_atomic(self.checksums / _record_name(point), _json_bytes(record))
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    # -- verifying -------------------------------------------------------------------------------

    def verify(self) -> dict[int, pd.DataFrame]:
        """Every verified part by point; everything else in the store's folders is quarantined.

        Reads each part once: the bytes checked against the checksum are the bytes parsed.
        """
        frames, problems = self._scan(self._entries, self._key)
        for path, problem, point in problems:
            remedy = f"point {point} is recomputed" if point is not None else ""
            self._quarantine(path, problem, point=point, remedy=remedy)
            if point is not None:
                record = self.checksums / _record_name(point)
                if record.exists():
                    self._quarantine(record, f"is the checksum record of {path.name}, quarantined with it", silent=True)
        return frames

    def read(self) -> pd.DataFrame:
        """All finished results, every part verified, ordered by point and replication.

        Reads never trust an unverified part: a part that fails verification raises DataError
        (resume the sweep to quarantine and recompute it). Points not finished yet are absent.
        """
        frames, problems = self._scan(*self._expectations())
        if problems:
            listed = "; ".join(f"{p.relative_to(self.folder)} {why}" for p, why, _ in problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise DataError(
                f"results folder '{self.folder}': {len(problems)} file(s) fail verification: {listed}{more}; "
                "resume the sweep to quarantine and recompute them"
            )
        return concat_parts(frames)

    def finished(self) -> set[int]:
        """Points whose part is present and verifies."""
        return set(self._scan(*self._expectations())[0])

    def _expectations(self) -> tuple[list[dict], str]:
        """The expected parts and key: from the spec after :meth:`check`, else from the manifest."""
        if self._entries is not None:
            return self._entries, self._key
        if not self.manifest.exists():
            raise DataError(f"results folder '{self.folder}': no {MANIFEST}; not a sweep's results")
        info, why = self._load_manifest()
        if why is None and info.get("version") != VERSION:
            why = f"was written by an older version of the store (format {info.get('version')}, without checksums)"
        if why is None:
            why = _manifest_problem(info)
        if why is not None:
            raise DataError(f"results folder '{self.folder}': its {MANIFEST} {why}; resume the sweep to rebuild it")
        return info["parts"], info["key"]

    def _scan(self, entries: list[dict], key: str) -> tuple[dict[int, pd.DataFrame], list[tuple[Path, str, int | None]]]:
        """Verified frames by point, and ``(path, problem, point or None)`` for every bad file."""
        by_name = {Path(e["file"]).name: e for e in entries}
        frames: dict[int, pd.DataFrame] = {}
        problems: list[tuple[Path, str, int | None]] = []
        if self.parts.is_dir():
            for path in sorted(self.parts.iterdir()):
                name = path.name
                entry = by_name.get(name)
                if entry is not None and path.is_file():
                    data = path.read_bytes()
                    frame, problem = self._check_part(entry, key, data)
                    if problem is None:
                        frames[entry["point"]] = frame
                    else:
                        problems.append((path, problem, entry["point"]))
                elif _TMP.fullmatch(name):
                    problems.append((path, "is an unfinished write left by an interrupted run", None))
                elif name.startswith((".", "_")):
                    self._notice(path, "is a hidden file, not the sweep's (Parquet readers skip it)")
                else:
                    problems.append((path, _unknown_part(path, len(entries)), None))
        if self.checksums.is_dir():
            records = {_record_name(e["point"]) for e in entries}
            for path in sorted(self.checksums.iterdir()):
                name = path.name
                if name in records and path.is_file():
                    continue  # a record without its part is from an interrupted write: overwritten on recompute
                if _TMP.fullmatch(name):
                    problems.append((path, "is an unfinished write left by an interrupted run", None))
                elif name.startswith((".", "_")):
                    self._notice(path, "is a hidden file, not the sweep's")
                else:
                    problems.append((path, "is not a checksum record of a part of this sweep", None))
        return frames, problems

    def _check_part(self, entry: dict, key: str, data: bytes) -> tuple[pd.DataFrame | None, str | None]:
        """The part's frame if it verifies, else None and what is wrong (content first, then checksum)."""
        p = entry["point"]
        start, stop = entry["replications"]["start"], entry["replications"]["stop"]
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
            return None, f"is not a readable Parquet file (truncated or damaged: {type(exc).__name__})"
        params = {f"param:{k}": v for k, v in entry["params"].items()}
        missing = [c for c in ("point", "replication", *params) if c not in frame.columns]
        if missing:
            return None, f"lacks the column(s) {', '.join(missing)}"
        held = sorted(set(frame["point"].tolist()))
        if held != [p]:
            what = f"point {held[0]}'s results" if len(held) == 1 else f"the results of points {short_list(held)}"
            return None, f"holds {what}, not point {p}'s"
        reps = frame["replication"].tolist()
        if reps != list(range(start, stop)):
            return None, f"holds replications {short_list(reps)}, not {start}..{stop - 1}"
        extra = [c for c in frame.columns if c.startswith("param:") and c not in params]
        if extra:
            return None, f"has parameter column(s) {', '.join(extra)} this sweep does not vary"
        for col, value in params.items():
            bad = [v for v in frame[col].tolist() if not _same(v, value)]
            if bad:
                return None, f"has {col[6:]} = {bad[0]!r}, not this point's {value!r}"
        path = self.checksums / _record_name(p)
        if not path.exists():
            return None, f"has no checksum record ({path.relative_to(self.folder)} is missing)"
        rec = _read_record(path)
        if rec is None:
            return None, f"has an unreadable checksum record ({path.relative_to(self.folder)})"
        if rec.get("key") != key or rec.get("file") != entry["file"] or rec.get("point") != p:
            return None, "has a checksum record that belongs to another sweep or another part"
        if rec.get("sha256") != hashlib.sha256(data).hexdigest() or rec.get("bytes") != len(data):
            return None, "does not match the SHA-256 checksum recorded when it was written (changed since)"
        if rec.get("rows") != len(frame):
            return None, f"has {len(frame)} rows, but {rec.get('rows')} were recorded"
        return frame, None

    # -- quarantine and notices ------------------------------------------------------------------

    def _quarantine(self, path: Path, problem: str, *, point: int | None = None, remedy: str = "",
                    silent: bool = False) -> None:
        """Move ``path`` into this run's quarantine folder, record why, and report it."""
        if self._batch is None:
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            self._batch = self.quarantine / f"{stamp}-{os.getpid()}-{secrets.token_hex(2)}"
        rel = path.relative_to(self.folder)
        dest = self._batch / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
        moved = str(dest.relative_to(self.folder))
        self._batch_reasons.append({"file": str(rel), "problem": problem, "point": point, "moved_to": moved})
        _write_atomic(self._batch / "reasons.json", _json_bytes(self._batch_reasons))
        if not silent:
            self._report(StoreNotice(str(rel), problem, "quarantined", moved, point, remedy))

    def _notice(self, path: Path, problem: str) -> None:
        """Report a file left alone (once per store)."""
        rel = str(path.relative_to(self.folder))
        if (rel, problem) not in self._noticed:
            self._noticed.add((rel, problem))
            self._report(StoreNotice(rel, problem, "ignored"))

    def _report(self, notice: StoreNotice) -> None:
        self.notices.append(notice)
        if self.on_notice is not None:
            self.on_notice(notice)


def _manifest(spec: SweepSpec, points: list[dict], key: str) -> dict:
    """The manifest of ``spec``'s store: what the sweep is and every part it expects."""
    info = {
        "kind": KIND, "version": VERSION, "key": key, "scenario": spec.scenario.source,
        "axes": [asdict(a) for a in spec.axes], "method": spec.method, "sample": spec.sample,
        "replications": spec.replications, "seed": spec.seed, "customers": spec.customers,
        "days": spec.days, "points": points,
        "parts": [
            {"file": f"parts/{part_name(p)}", "point": p, "params": dict(point),
             "replications": {"start": 0, "stop": spec.replications}}
            for p, point in enumerate(points)
        ],
    }  # fmt: skip
    return json.loads(_json_bytes(info))  # exactly what a reader parses back


def _manifest_problem(info: dict) -> str | None:
    """What is inconsistent in a manifest read without its spec, or None."""
    parts, key = info.get("parts"), info.get("key")
    if not isinstance(key, str) or not isinstance(parts, list) or not parts:
        return "lacks its key or its list of parts"
    reps = info.get("replications")
    for p, entry in enumerate(parts):
        ok = (
            isinstance(entry, dict) and entry.get("point") == p and entry.get("file") == f"parts/{part_name(p)}"
            and isinstance(entry.get("params"), dict) and entry.get("replications") == {"start": 0, "stop": reps}
        )  # fmt: skip
        if not ok:
            return f"has a damaged entry for part {p}"
    return None


def _read_record(path: Path) -> dict | None:
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return rec if isinstance(rec, dict) and rec.get("kind") == PART_KIND else None


def _unknown_part(path: Path, points: int) -> str:
    """Why a file in ``parts/`` is not one of the sweep's parts."""
    if path.is_dir():
        return "is a folder; the parts folder holds only the sweep's part files"
    m = _PART_LIKE.fullmatch(path.name)
    if m and int(m.group(1)) >= points:
        return f"names point {int(m.group(1))}, but this sweep has points 0..{points - 1}"
    if m:
        return f"is not named like a part (point {int(m.group(1))}'s part is {part_name(int(m.group(1)))})"
    return "is not a part of this sweep (unexpected name)"


def concat_parts(frames: dict[int, pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame()
    df = pd.concat([frames[p] for p in sorted(frames)], ignore_index=True)
    return df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
