"""The classroom controller: the models behind the page, and everything a trainer can do to them.

No UI code here: the page (:mod:`lifecycle.app.page`) only calls these methods, so all of it is unit-tested.

Core objects:

- :class:`Controller`: holds the scenario and its model (and a second model when two settings are
  compared); steps, plays, pauses and resets them; loads presets and uploaded files; applies lever
  changes (a new :class:`~lifecycle.app.settings.Setting`, made with ``Scenario.with_values``,
  which the running model follows from its next day on).
- :class:`ClassroomModel`: the controller seen as a ``mesa.Model``, so Mesa's own
  ``ModelController`` (play / pause / step / reset) can drive it.

Lever changes take effect at once in the running model and are kept for the next reset, which
restarts from day 0. Comparing two settings runs two models with the same seed and the same
initial customers, stepped together.

Uploads are data only: the bytes go through :func:`sim.scenario.parse_scenario`, which parses
TOML and validates it; nothing in a file is imported or executed, the size is checked before the
content is read, and the file name is only ever shown as a label (never used as a path).
"""

from __future__ import annotations

import threading
from typing import Any

import mesa

from lifecycle.app.levers import Lever
from lifecycle.app.limits import (
    DEFAULT_CUSTOMERS, DEFAULT_SPEED, MAX_DAYS, SPEEDS, LeverError, check_arrivals, clamp_customers,
)  # fmt: skip
from lifecycle.app.settings import Setting, apply_live, build_model
from lifecycle.app.snapshots import COMPARISON_METRICS, Snapshot, metric_rows, quick_metrics, same_initial
from lifecycle.app.sources import load_preset, safe_label
from scenarios.errors import ConfigError
from scenarios.loader import DEFAULT_PRESET, MAX_SCENARIO_BYTES
from sim.scenario import Scenario, parse_scenario

__all__ = ["Controller", "ClassroomModel"]


class Controller:
    """The state of one classroom page: scenario, settings, model(s), speed and messages.

    Thread-safe: the page's play loop steps from a worker thread while the trainer moves levers,
    so every public method holds one lock.
    """

    def __init__(self, scenario: str | Scenario = DEFAULT_PRESET, *, customers: int = DEFAULT_CUSTOMERS,
                 seed: int | None = None, days: int | None = None, engine: str = "auto",
                 label: str | None = None) -> None:
        self._lock = threading.RLock()
        self.engine = engine
        self.error: str | None = None
        self.notice: str | None = None
        self.compare = False
        self.editing = "A"
        self.speed = DEFAULT_SPEED
        self.playing = False
        #: bumps when the scenario or the population changes (the page remounts its controls)
        self.generation = 0
        #: bumps on every change (cache key for snapshots)
        self.version = 0
        self._customers = clamp_customers(customers)
        self._seed_choice = seed
        self._days_choice = days
        self._snapshots: dict[str, tuple[tuple, Snapshot]] = {}
        sc = scenario if isinstance(scenario, Scenario) else load_preset(scenario)
        origin = "preset" if not isinstance(scenario, Scenario) else "given"
        self._install(sc, label=label or sc.name, origin=origin)

    # --- scenario -----------------------------------------------------------------------------

    def _install(self, scenario: Scenario, *, label: str, origin: str) -> None:
        setting = Setting.from_scenario(scenario)
        check_arrivals(scenario, scenario.source)
        seed = scenario.config.run.seed if self._seed_choice is None else self._seed_choice
        days = min(MAX_DAYS, scenario.config.run.days if self._days_choice is None else self._days_choice)
        model = build_model(setting, seed=seed, customers=self._customers, days=days, engine=self.engine)
        model_b = None
        if self.compare:
            model_b = build_model(setting, seed=seed, customers=self._customers, days=days, engine=self.engine)
        # everything built: commit
        self.scenario = scenario
        self.label = label
        self.origin = origin
        self.setting_a = setting
        self.setting_b = setting
        self.seed = seed
        self.days = days
        self.model = model
        self.model_b = model_b
        self.editing = "A"
        self.playing = False
        self._history = {"A": [quick_metrics(model)], "B": [quick_metrics(model_b)] if model_b else []}
        self.generation += 1
        self._changed()

    def load_preset(self, name: str) -> None:
        """Switch to a shipped preset; only names from :func:`~lifecycle.app.sources.preset_names` are accepted."""
        with self._lock:
            try:
                sc = load_preset(name)
                self._install(sc, label=sc.name, origin="preset")
            except ConfigError as exc:
                self.error = str(exc)
                raise
            self.error = None
            self.notice = f"Loaded preset '{name}'."

    def upload(self, name: object, data: bytes | str | None = None, *, size: int | None = None, stream=None) -> bool:
        """Validate an uploaded scenario file and switch to it.

        ``data`` is the content, or ``stream`` a file-like object read here (at most
        :data:`~scenarios.loader.MAX_SCENARIO_BYTES` + 1 bytes); a declared ``size`` above the limit
        is refused before anything is read. ``name`` is only a label. On any problem the current
        scenario stays, :attr:`error` holds the message and False is returned.
        """
        label = safe_label(name)
        source = f"uploaded file '{label}'"
        problem = None
        try:  # read before taking the lock: a slow client must not hold up the running model
            if size is not None and int(size) > MAX_SCENARIO_BYTES:
                raise ConfigError(f"{source}: {int(size):,} bytes; the limit is {MAX_SCENARIO_BYTES:,} bytes")
            if data is None:
                if stream is None:
                    raise ConfigError(f"{source}: no content")
                data = stream.read(MAX_SCENARIO_BYTES + 1)
            data = data.encode("utf-8") if isinstance(data, str) else bytes(data or b"")
            if len(data) > MAX_SCENARIO_BYTES:
                raise ConfigError(f"{source}: more than {MAX_SCENARIO_BYTES:,} bytes; the limit is "
                                  f"{MAX_SCENARIO_BYTES:,} bytes")
        except ConfigError as exc:
            problem = exc
        except Exception as exc:  # the browser went away while sending, say
            problem = ConfigError(f"{source}: could not be read ({type(exc).__name__}: {exc})")
        with self._lock:
            try:
                if problem is not None:
                    raise problem
                sc = parse_scenario(data, source=source)
                self._install(sc, label=f"{sc.name} (uploaded: {label})", origin="upload")
            except ConfigError as exc:
                self.error = str(exc)
                self.notice = None
                self._changed()
                return False
            except Exception as exc:  # a file that breaks the model: say so, keep the page alive
                self.error = f"{source}: could not be used ({type(exc).__name__}: {exc})"
                self.notice = None
                self._changed()
                return False
            self.error = None
            self.notice = f"Loaded {source}: scenario '{sc.name}'."
            return True

    def clear_messages(self) -> None:
        """Forget the last error and notice."""
        with self._lock:
            self.error = None
            self.notice = None
            self._changed()

    # --- population ---------------------------------------------------------------------------

    @property
    def customers(self) -> int:
        """Initial customers of a run."""
        return self._customers

    def set_customers(self, n: int) -> None:
        """Change the initial population (clamped to MIN..MAX_CUSTOMERS) and restart from day 0."""
        with self._lock:
            self._customers = clamp_customers(n)
            self.generation += 1
            self.reset()

    def set_seed(self, seed: int) -> None:
        """Change the seed (>= 0) and restart from day 0."""
        with self._lock:
            seed = int(seed)
            if seed < 0:
                raise LeverError(f"seed must be >= 0; got {seed}")
            self._seed_choice = seed
            self.seed = seed
            self.generation += 1
            self.reset()

    # --- running ------------------------------------------------------------------------------

    @property
    def day(self) -> int:
        """Days simulated so far."""
        return self.model.day

    @property
    def running(self) -> bool:
        """True until the run length is reached."""
        return self.model.day < self.days

    def reset(self) -> None:
        """Rebuild the model(s) from the current setting(s); day 0, same seed."""
        with self._lock:
            self.playing = False
            common = dict(seed=self.seed, customers=self._customers, days=self.days, engine=self.engine)
            self.model = build_model(self.setting_a, **common)
            self.model_b = build_model(self.setting_b, **common) if self.compare else None
            self._history = {"A": [quick_metrics(self.model)],
                             "B": [quick_metrics(self.model_b)] if self.model_b else []}
            self._changed()

    def step(self, days: int = 1) -> int:
        """Simulate up to ``days`` days (both models when comparing); return the days done."""
        done = 0
        with self._lock:
            for _ in range(max(0, int(days))):
                if not self.running:
                    break
                self.model.step()
                self._history["A"].append(quick_metrics(self.model))
                if self.model_b is not None:
                    self.model_b.step()
                    self._history["B"].append(quick_metrics(self.model_b))
                done += 1
            if not self.running:
                self.playing = False
            if done:
                self._changed()
        return done

    @property
    def interval_ms(self) -> int:
        """Pause between two updates while playing, at the current speed."""
        return SPEEDS[self.speed - 1][0]

    @property
    def days_per_update(self) -> int:
        """Days simulated per update (per Step press and per tick while playing)."""
        return SPEEDS[self.speed - 1][1]

    def set_speed(self, level: int) -> None:
        """Speed level 1 (slowest) .. len(SPEEDS)."""
        with self._lock:
            self.speed = min(len(SPEEDS), max(1, int(level)))

    def play(self) -> None:
        """Start playing (no effect at the end of the run)."""
        with self._lock:
            self.playing = self.running

    def pause(self) -> None:
        """Stop playing."""
        with self._lock:
            self.playing = False

    def toggle_play(self) -> bool:
        """Play if paused, pause if playing; return the new state."""
        with self._lock:
            self.playing = (not self.playing) and self.running
            return self.playing

    def tick(self) -> int:
        """One update of the play loop: if playing, simulate :attr:`days_per_update` days."""
        with self._lock:
            if not self.playing:
                return 0
            return self.step(self.days_per_update)

    # --- levers -------------------------------------------------------------------------------

    def setting(self, side: str | None = None) -> Setting:
        """The setting of ``side`` (default: the one being edited)."""
        side = self._side(side)
        return self.setting_a if side == "A" else self.setting_b

    def levers(self, side: str | None = None) -> list[Lever]:
        """Every control the current scenario offers, with the values of ``side``'s setting."""
        with self._lock:
            return self.setting(side).levers()

    def lever(self, lever_id: str, side: str | None = None) -> Lever:
        """The lever with this :attr:`Lever.id`."""
        for lv in self.levers(side):
            if lv.id == lever_id:
                return lv
        raise LeverError(f"no lever {lever_id!r} in scenario '{self.scenario.name}'")

    def set_lever(self, lever: Lever | str | tuple, value: Any, side: str | None = None) -> Setting:
        """Change one lever of ``side`` (default: the one being edited); the model follows at once.

        The new setting is the scenario with the value set (``Scenario.with_values``); the running
        model follows it from its next day on (a changed policy is rebuilt and replaces the old
        one) and it is kept for the next reset. Raises :class:`LeverError` (and keeps everything
        as it was) if the value is refused.
        """
        with self._lock:
            side = self._side(side)
            if isinstance(lever, str):
                lever = self.lever(lever, side)
            kind, owner, path = lever.key if isinstance(lever, Lever) else lever
            new = self.setting(side).with_value(kind, owner, tuple(path), value)
            model = self.model if side == "A" else self.model_b
            if model is not None:
                apply_live(model, new)
            if side == "A":
                self.setting_a = new
            else:
                self.setting_b = new
            self.error = None
            self._changed()
            return new

    def _side(self, side: str | None) -> str:
        side = self.editing if side is None else side
        if side not in ("A", "B"):
            raise LeverError(f"side must be 'A' or 'B'; got {side!r}")
        if side == "B" and not self.compare:
            raise LeverError("setting B exists only while comparing")
        return side

    # --- comparison ---------------------------------------------------------------------------

    def start_compare(self) -> None:
        """Compare two settings: B starts as a copy of A; both restart from day 0 on the same seed."""
        with self._lock:
            self.compare = True
            self.setting_b = self.setting_a
            self.editing = "B"
            self.reset()

    def stop_compare(self) -> None:
        """Back to one setting (A); the run goes on."""
        with self._lock:
            self.compare = False
            self.editing = "A"
            self.model_b = None
            self._history["B"] = []
            self._changed()

    def set_editing(self, side: str) -> None:
        """Which setting the levers change while comparing."""
        with self._lock:
            self.editing = self._side(side)
            self._changed()

    def comparison(self) -> dict:
        """Metrics of A and B so far and their difference (B - A); None where not yet defined."""
        with self._lock:
            if not self.compare or self.model_b is None:
                raise LeverError("not comparing; start a comparison first")
            a, b = self.snapshot("A"), self.snapshot("B")
        ma, mb = metric_rows(a.result), metric_rows(b.result)
        rows = []
        for key, label, fmt in COMPARISON_METRICS:
            va, vb = ma.get(key), mb.get(key)
            rows.append({"metric": key, "label": label, "format": fmt, "A": va, "B": vb,
                         "diff": (vb - va) if (va is not None and vb is not None) else None})
        return {"day": a.day, "seed": self.seed, "customers": self._customers, "rows": rows,
                "same_initial_customers": same_initial(a.result, b.result, self._customers)}

    # --- snapshots ----------------------------------------------------------------------------

    def snapshot(self, side: str = "A") -> Snapshot:
        """A consistent copy of ``side``'s aggregates (cached until something changes)."""
        with self._lock:
            model = self.model if side == "A" else self.model_b
            if model is None:
                raise LeverError(f"no model {side!r}")
            key = (self.version, id(model), model.day)
            hit = self._snapshots.get(side)
            if hit is not None and hit[0] == key:
                return hit[1]
            label = self.label if not self.compare else f"{self.label} · setting {side}"
            snap = Snapshot(side=side, label=label, day=model.day, days=self.days, engine=model.engine,
                            result=model.result(), history=tuple(self._history[side]),
                            stages=model.datacollector.get_model_vars_dataframe().copy())
            self._snapshots[side] = (key, snap)
            return snap

    def _changed(self) -> None:
        self.version += 1


class ClassroomModel(mesa.Model):
    """The controller as a Mesa model: Mesa's ``ModelController`` plays, steps and resets it.

    ``ModelController`` re-creates the model class from the page's parameters on Reset, so
    ``ClassroomModel(controller=c)`` resets ``c``; ``step`` simulates one day of the controller's
    model(s); ``running`` is False at the end of the run.
    """

    def __init__(self, controller: Controller, reset: bool = True) -> None:
        super().__init__(seed=controller.seed)
        self.controller = controller
        if reset:
            controller.reset()

    def step(self) -> None:
        """One day."""
        self.controller.step(1)

    @property
    def running(self) -> bool:
        """False once the controller's run is over."""
        controller = self.__dict__.get("controller")
        return True if controller is None else controller.running

    @running.setter
    def running(self, value: bool) -> None:  # mesa.Model.__init__ assigns it; the controller decides
        pass
