"""What ``lifecycle app`` hands to the page process: the trainer's policy files and the scenario to open.

The page runs in a child process (``solara run lifecycle.app.page``), so the command line passes
both through environment variables:

- :data:`PLUGINS_ENV`: the trainer's own Python files (paths joined with ``os.pathsep``), each
  imported by :func:`load_plugins` before any scenario loads. A plugin defines policy classes
  and registers them (``@register class BirthdayCoupon(Policy)``), so scenario files can name
  them with ``type = "..."``. Plugins are code the trainer chose to run; uploaded scenario files
  stay data only and are never executed.
- :data:`SCENARIO_ENV`: a preset name or a scenario file path the page opens on
  (:func:`start_controller`).

The command line loads both itself first (:func:`check_start`), so a missing file, an import
error or a bad scenario is one ``error:`` line before the server starts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from scenarios.errors import ConfigError

__all__ = ["PLUGINS_ENV", "SCENARIO_ENV", "load_plugin", "load_plugins", "plugins_from_env", "start_scenario",
           "start_controller", "check_start", "environment_for"]  # fmt: skip

PLUGINS_ENV = "LIFECYCLE_APP_PLUGINS"
SCENARIO_ENV = "LIFECYCLE_APP_SCENARIO"


def load_plugin(path: str | os.PathLike) -> ModuleType:
    """Import one plugin file (once per process; again it returns the module already loaded).

    Raises ConfigError naming the file if it is missing, not a ``.py`` file, or fails to import.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ConfigError(f"plugin file '{path}': not found")
    if file.suffix != ".py":
        raise ConfigError(f"plugin file '{path}': a plugin is a Python file ending in .py")
    name = f"lifecycle_plugin_{file.stem.replace('-', '_')}_{hashlib.sha1(str(file).encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise ConfigError(f"plugin file '{path}': cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # registered before running it, as a normal import does
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the trainer's code: say which file and what went wrong, in one line
        del sys.modules[name]
        where = ""
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(file):
                where = f" (line {tb.tb_lineno})"
            tb = tb.tb_next
        if isinstance(exc, SyntaxError) and exc.lineno:
            where = f" (line {exc.lineno})"
        raise ConfigError(f"plugin file '{path}'{where}: {type(exc).__name__}: {exc}") from None
    return module


def load_plugins(paths) -> list[str]:
    """Import each plugin file in order; return the policy kinds they registered."""
    from sim.policies import REGISTRY

    before = dict(REGISTRY)
    for path in paths:
        load_plugin(path)
    return [kind for kind, cls in REGISTRY.items() if before.get(kind) is not cls]


def plugins_from_env(environ=os.environ) -> list[str]:
    """The plugin files named in :data:`PLUGINS_ENV`."""
    return [p for p in environ.get(PLUGINS_ENV, "").split(os.pathsep) if p]


def start_scenario(environ=os.environ) -> str | None:
    """The preset name or scenario file named in :data:`SCENARIO_ENV` (None: the default preset)."""
    return environ.get(SCENARIO_ENV) or None


def _open(name_or_path: str):
    """(scenario, label) for a preset name or a scenario file."""
    from lifecycle.app.sources import preset_names, safe_label
    from sim.scenario import load_scenario

    if name_or_path in preset_names():
        return load_scenario(name_or_path), None
    if not Path(name_or_path).is_file():
        raise ConfigError(f"scenario '{name_or_path}': neither a preset ({', '.join(preset_names())}) nor a file")
    sc = load_scenario(name_or_path)
    return sc, f"{sc.name} (file: {safe_label(name_or_path)})"


def start_controller(environ=os.environ, **kwargs):
    """The page's controller: plugins imported, then the scenario the command line named (or the default)."""
    from lifecycle.app.controller import Controller

    load_plugins(plugins_from_env(environ))  # ConfigError here: checked by the command line already
    name = start_scenario(environ)
    if name is None:
        return Controller(**kwargs)
    try:
        sc, label = _open(name)
        return Controller(name, **kwargs) if label is None else Controller(sc, label=label, **kwargs)
    except ConfigError as exc:  # the file changed since the command line checked it: say so on the page
        ctrl = Controller(**kwargs)
        ctrl.error = str(exc)
        return ctrl
    except Exception as exc:  # a bug (or a plugin's): the default preset, and the message; traceback to the log
        from lifecycle.app.controller import log_internal

        message = log_internal(exc, "opening the start scenario")
        ctrl = Controller(**kwargs)
        ctrl.error = message
        return ctrl


def check_start(plugins, scenario: str | None) -> list[str]:
    """What the page process will do, done here first: import the plugins, load the scenario.

    Returns the policy kinds the plugins registered; raises ConfigError on any problem.
    """
    from lifecycle.app.limits import check_arrivals

    kinds = load_plugins(plugins)
    if scenario is not None:
        sc, _ = _open(scenario)
        check_arrivals(sc, sc.source)
    return kinds


def environment_for(plugins, scenario: str | None) -> dict[str, str]:
    """The environment variables that hand ``plugins`` and ``scenario`` to the page process."""
    from lifecycle.app.sources import preset_names

    env = {PLUGINS_ENV: os.pathsep.join(str(Path(p).expanduser().resolve()) for p in plugins)}
    if scenario is not None:
        env[SCENARIO_ENV] = scenario if scenario in preset_names() else str(Path(scenario).expanduser().resolve())
    return env
