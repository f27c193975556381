"""The ``lifecycle`` command group and what its commands share.

Core object: :data:`main`, a click group whose commands live in the other :mod:`lifecycle.cli`
modules. Every exception that reaches it is one of:

- a user mistake (any :class:`~scenarios.errors.LabError`, or a file system refusal such as a
  full disk, a read-only or forbidden destination): one ``error:`` line on stderr, exit code 2;
  click's own usage errors also exit 2;
- an interruption: Ctrl+C prints ``interrupted`` and exits 130; SIGTERM exits 143; temporary
  outputs are removed on the way out;
- anything else is a bug: one line saying so, with the path of a file holding the traceback,
  exit code 1.

Shared helpers: :func:`echo_json` (one JSON object on stdout) and :func:`progress` (a progress
bar on a terminal only).
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

import click

from scenarios.errors import LabError

__all__ = ["main", "echo_json", "progress", "USER_ERROR", "INTERNAL_ERROR", "INTERRUPTED"]

USER_ERROR = 2
INTERNAL_ERROR = 1
INTERRUPTED = 130

#: file system errors that are the user's situation, not the lab's bug
_USER_OS_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG,
                   errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENOTEMPTY}


class _LabGroup(click.Group):
    def invoke(self, ctx):
        from sim.output import terminate_as_interrupt

        terminate_as_interrupt()
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except LabError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(USER_ERROR)
        except KeyboardInterrupt:
            click.echo("interrupted (nothing half-written was left behind)", err=True)
            ctx.exit(INTERRUPTED)
        except OSError as exc:
            if exc.errno not in _USER_OS_ERRORS:
                _internal(ctx, exc)
            where = f" '{exc.filename}'" if exc.filename else ""
            click.echo(f"error: cannot write or read{where}: {exc.strerror or exc}", err=True)
            ctx.exit(USER_ERROR)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: report a bug, not a traceback
            if interrupted(exc):
                click.echo("interrupted (nothing half-written was left behind)", err=True)
                ctx.exit(INTERRUPTED)
            _internal(ctx, exc)


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is a Ctrl-C in disguise: a signal that arrives while compiled code (the day
    kernel) runs surfaces on its return as a ``SystemError`` chained to the ``KeyboardInterrupt``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _internal(ctx, exc: BaseException) -> None:
    path = _save_traceback(exc)
    where = f"; the details are in {path}" if path else ""
    click.echo(f"internal error: {type(exc).__name__}: {exc}. This is a bug in Lifecycle Lab, please report it"
               f"{where}", err=True)
    ctx.exit(INTERNAL_ERROR)


def _save_traceback(exc: BaseException) -> Path | None:
    text = "".join(traceback.format_exception(exc))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(os.environ.get("LIFECYCLE_BUG_DIR") or Path(tempfile.gettempdir()) / "lifecycle-bugs")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bug-{stamp}-{os.getpid()}.txt"
        path.write_text(f"lifecycle {' '.join(sys.argv[1:])}\n\n{text}", encoding="utf-8")
        return path
    except OSError:
        return None


@click.group(cls=_LabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lifecycle-lab")
@click.option("--max-memory", metavar="SIZE",
              help="Memory a run may plan for, e.g. 32G (default: half of this machine's; env LIFECYCLE_MAX_MEMORY).")
def main(max_memory: str | None) -> None:
    """Lifecycle Lab: simulate customer lifecycles, test interventions, size experiments."""
    if max_memory is not None:
        from sim.limits import MEMORY_ENV, parse_size

        parse_size(max_memory)  # a malformed size is a user error now, not in a worker later
        os.environ[MEMORY_ENV] = max_memory  # worker processes inherit it


def echo_json(obj) -> None:
    """Print ``obj`` as one JSON object (numpy numbers as numbers, non-finite numbers as null)."""
    from sim.output import finite_json, jsonable

    click.echo(json.dumps(finite_json(obj), indent=2, ensure_ascii=False, default=jsonable, allow_nan=False))


def progress(total: int, label: str):
    """A tqdm progress bar on a terminal, nothing otherwise. Returns (update, close)."""
    if not sys.stderr.isatty() or total < 2:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="day", leave=False, file=sys.stderr)
    return bar.update, bar.close


class PhaseBars:
    """Progress of a workflow in phases: ``bars(phase, done, total)`` keeps one tqdm bar (with ETA)
    per phase on a terminal; nothing without a terminal or when not ``enabled`` (e.g. ``--json``)."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar = None
        self.phase = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.phase = phase
            self.bar = tqdm(total=total, desc=phase, unit="world", leave=False, file=sys.stderr)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar, self.phase = None, None
