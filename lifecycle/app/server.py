"""Start the classroom app: the Solara page (:mod:`lifecycle.app.page`) in a child process.

Core function: :func:`serve` (blocks until the server stops; ``lifecycle app`` calls it), which
hands the trainer's plugin files and the scenario to open to the page process through its
environment (:mod:`lifecycle.app.launch`). The child is ``python -m lifecycle.app.asgi``: Solara's
app in production mode (no code reloading) behind the Host/Origin guard
(:mod:`lifecycle.app.guard`), served by uvicorn.

Security: the server listens on 127.0.0.1 unless told otherwise: the page lets anyone who
reaches it run simulations, so exposing it to a network is a choice to make explicitly
(``--host``). It answers only to the addresses it was started for (HTTP ``Host`` header, and the
``Origin`` of the page's WebSocket): 127.0.0.1, localhost and the ``--host`` value, plus each
``--allow-origin``; so neither a web page the trainer visits (cross-site WebSocket) nor a foreign
name resolving to this computer (DNS rebinding) can drive the lab. Solara's telemetry and its
version check are off and the page's scripts and styles come from the locally installed
``solara-assets`` package, so the app needs no internet connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

__all__ = ["serve", "command", "environment", "class_environment", "DEFAULT_HOST", "DEFAULT_PORT", "check_installed", "access_notes"]

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


def command(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow_origins=()) -> list[str]:
    """The command line that runs the server (the page process, :mod:`lifecycle.app.asgi`)."""
    cmd = [sys.executable, "-m", "lifecycle.app.asgi", "--host", str(host), "--port", str(int(port)),
           "--log-level", "warning"]  # fmt: skip
    for origin in allow_origins:
        cmd += ["--allow-origin", str(origin)]
    return cmd


def access_notes(host: str, port: int, allow_origins=()) -> list[str]:
    """What the trainer should know about who may open the page (printed at start).

    Raises ConfigError for a malformed ``--allow-origin``.
    """
    from lifecycle.app.guard import allowed

    allow = allowed(host, port, allow_origins)
    notes = []
    if host.strip() not in ("127.0.0.1", "localhost", "::1"):
        notes.append("note: the page is reachable from other computers; anyone who can reach it can run simulations "
                     "on this one")
    if host.strip() in ("0.0.0.0", "::", "") and not allow_origins:
        notes.append(f"note: browsers are let in only at http://127.0.0.1:{int(port)} and http://localhost:{int(port)}; "
                     f"for students, add --allow-origin http://<this computer's address>:{int(port)} "
                     f"(or start with --host <that address>)")
    if allow_origins:
        notes.append(f"allowed origins: {', '.join(sorted(allow.origins))}")
    return notes


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


def class_environment(budget: float | None = None) -> dict[str, str]:
    """A new class's join code and trainer token (and budget), as the page process reads them."""
    import secrets

    from lifecycle.app.classroom import BUDGET_ENV, CODE_ENV, TRAINER_ENV, make_code

    env = {CODE_ENV: make_code(), TRAINER_ENV: secrets.token_urlsafe(12)}
    if budget is not None:
        env[BUDGET_ENV] = repr(float(budget))
    return env


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, plugins=(), scenario: str | None = None,
          allow_origins=(), class_play: bool = False, budget: float | None = None) -> int:
    """Run the server in the foreground until it stops, Ctrl+C or SIGTERM; return its exit code.

    ``plugins``: the trainer's policy files, imported in the page process before scenarios load;
    ``scenario``: a preset name or scenario file the page opens on; ``allow_origins``: origins
    (``http://host:port``) the page may also be opened from, besides 127.0.0.1, localhost and
    ``host``. All are checked here first, so a problem raises ConfigError before the server
    starts. Stopping this process (Ctrl+C or SIGTERM) also stops the server it started.
    """
    from lifecycle.app.launch import check_start

    check_installed()
    allow_origins = list(allow_origins)
    notes = access_notes(host, port, allow_origins)
    plugins = list(plugins)
    kinds = check_start(plugins, scenario)
    if plugins:
        print(f"plugins: {', '.join(map(str, plugins))} (policy types: {', '.join(kinds) or 'none registered'})",
              flush=True)
    shown = "127.0.0.1" if host.strip() in ("0.0.0.0", "::", "") else host
    print(f"Lifecycle Lab classroom: open http://{shown}:{int(port)}/ in a browser (Ctrl+C stops it)", flush=True)
    for note in notes:
        print(note, flush=True)
    env = environment(plugins, scenario)
    if class_play:
        from lifecycle.app.classroom import CODE_ENV, TRAINER_ENV

        extra = class_environment(budget)
        env.update(extra)
        print(f"class code: {extra[CODE_ENV]} (students open the page and enter it with their name)", flush=True)
        print(f"trainer: open http://{shown}:{int(port)}/?code={extra[CODE_ENV]}&trainer={extra[TRAINER_ENV]} "
              f"(keep this address to yourself)", flush=True)
    proc = subprocess.Popen(command(host, port, allow_origins), env=env)
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
