"""Start the classroom app: ``solara run lifecycle.app.page`` in a child process.

Core function: :func:`serve` (blocks until the server stops; ``lifecycle app`` calls it), which
hands the trainer's plugin files and the scenario to open to the page process through its
environment (:mod:`lifecycle.app.launch`). The
server listens on 127.0.0.1 unless told otherwise: the page lets anyone who reaches it run
simulations, so exposing it to a network is a choice to make explicitly (``--host 0.0.0.0``).
It runs in Solara's production mode (no code reloading) with Solara's telemetry switched off;
the page's scripts and styles come from the locally installed ``solara-assets`` package, so the
app needs no internet connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

__all__ = ["serve", "command", "environment", "DEFAULT_HOST", "DEFAULT_PORT", "check_installed"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def check_installed() -> None:
    """Raise ConfigError naming the missing extra if the app's packages are not installed."""
    from importlib.util import find_spec

    from scenarios.errors import ConfigError

    missing = [name for name in ("solara", "ipyvuetify", "networkx") if find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"the classroom app needs {', '.join(missing)}; install the app extra: pip install -e '.[app]'"
        )


def command(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """The command line that runs the server."""
    return [sys.executable, "-m", "solara", "run", "lifecycle.app.page", "--host", str(host), "--port", str(int(port)),
            "--production", "--no-open", "--log-level", "warning"]  # fmt: skip


def environment(plugins=(), scenario: str | None = None) -> dict[str, str]:
    """The server's environment: ours, with Solara's telemetry off, plus the plugins and scenario to open."""
    from lifecycle.app.launch import PLUGINS_ENV, SCENARIO_ENV, environment_for

    env = {k: v for k, v in os.environ.items() if k not in (PLUGINS_ENV, SCENARIO_ENV)}
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env.setdefault("SOLARA_THEME_VARIANT", "light")
    env.update(environment_for(plugins, scenario))
    return env


class _Stopped(Exception):
    pass


def _raise_stopped(signum, frame):
    raise _Stopped()


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, plugins=(), scenario: str | None = None) -> int:
    """Run the server in the foreground until it stops, Ctrl+C or SIGTERM; return its exit code.

    ``plugins``: the trainer's policy files, imported in the page process before scenarios load;
    ``scenario``: a preset name or scenario file the page opens on. Both are loaded here first,
    so a problem raises ConfigError before the server starts. Stopping this process (Ctrl+C or
    SIGTERM) also stops the server it started.
    """
    from lifecycle.app.launch import check_start

    check_installed()
    plugins = list(plugins)
    kinds = check_start(plugins, scenario)
    if plugins:
        print(f"plugins: {', '.join(map(str, plugins))} (policy types: {', '.join(kinds) or 'none registered'})",
              flush=True)
    print(f"Lifecycle Lab classroom: open http://{host}:{int(port)}/ in a browser (Ctrl+C stops it)", flush=True)
    proc = subprocess.Popen(command(host, port), env=environment(plugins, scenario))
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        return proc.wait()
    except (KeyboardInterrupt, _Stopped):
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
