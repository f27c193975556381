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

Sizes are checked before a model is built (:func:`lifecycle.app.limits.check_run`: initial
customers, run length, customers a day and the command line's memory estimate, for two models
while comparing); a refused value raises :class:`~lifecycle.app.limits.LeverError` whose message
starts with the slider's label and changes nothing.

Errors never escape as tracebacks: every public method is wrapped so that an exception which is
not a :class:`~scenarios.errors.LabError` (a bug, not a trainer's mistake) is logged with its
traceback to the server log (logger ``lifecycle.app``) and becomes :attr:`Controller.error`, a
message without server details ("internal error ... this is a bug", with a reference to find it in
the log), raised as :class:`InternalError` (a LabError) so the page shows it like any other. The
session goes on: playing stops, and Step, Reset or another scenario work as before.
:meth:`Controller.fail` does the same for exceptions the page catches itself.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
from typing import Any

import mesa

from lifecycle.app.levers import Lever
from lifecycle.app.sample import DotSample
from lifecycle.app.stories import StoryRecorder
from lifecycle.app.limits import (
    CUSTOMERS_LABEL, DEFAULT_CUSTOMERS, DEFAULT_SPEED, MAX_DAYS, SEED_LABEL, SPEEDS, LeverError, check_customers,
    check_run, clamp_customers, expected_arrivals, page_days,
)  # fmt: skip
from lifecycle.app.settings import Setting, apply_live, build_model
from lifecycle.app.snapshots import COMPARISON_METRICS, Snapshot, metric_rows, quick_metrics, same_initial
from lifecycle.app.sources import load_preset, safe_label
from scenarios.errors import ConfigError, LabError
from scenarios.loader import DEFAULT_PRESET, MAX_SCENARIO_BYTES
from sim.scenario import Scenario, parse_scenario

__all__ = ["Controller", "ClassroomModel", "InternalError", "internal_message", "log_internal", "in_labels"]

log = logging.getLogger("lifecycle.app")

MAX_SEED = 2**64 - 1


class InternalError(LabError):
    """An unexpected exception (a bug), as a message fit for the page; the traceback is in the server log."""


def internal_message(exc: BaseException, action: str, reference: str) -> str:
    """What the page says about an unexpected exception: its type and a log reference, never its text or paths."""
    return (f"internal error while {action} ({type(exc).__name__}): this is a bug, not a mistake in your "
            f"scenario or settings. The details are in the server's log (reference {reference}). The session "
            f"goes on: press Step, Reset or load another scenario.")


def log_internal(exc: BaseException, action: str, *, traceback: bool = True) -> str:
    """Log an unexpected exception (with its traceback) to the server log; return the page's message for it."""
    reference = secrets.token_hex(4)
    if traceback:
        log.error("internal error while %s (reference %s)", action, reference, exc_info=(type(exc), exc, exc.__traceback__))
    else:
        log.error("internal error while %s (reference %s): %s again (its traceback was logged before)", action,
                  reference, type(exc).__name__)
    return internal_message(exc, action, reference)


def in_labels(text: str, levers, kind: str, owner: str) -> str:
    """A refusal in the page's words: the scenario path of the owner dropped, field names as slider labels.

    ``"policies.winback: heavy_after_days (90) must be greater than light_after_days (120)"``
    becomes ``"'Heavy warning offer after (days)' (90) must be greater than 'Light warning offer
    after (days)' (120)"``: a trainer sees the sliders' labels, never the parameters' names.
    """
    import re

    prefix = {"policy": f"policies.{owner}", "channel": f"channels.{owner}", "tier": f"tiers.{owner}"}.get(kind)
    within: tuple[str, ...] = ()  # "policies.winback.heavy_offer: discount ...": the names are heavy_offer's
    if prefix:
        found = re.match(rf"^{re.escape(prefix)}(\.[\w.]+)?: ", text)
        if found:
            within = tuple(found.group(1)[1:].split(".")) if found.group(1) else ()
            text = text[found.end():]
    names: dict[str, str] = {}
    own = [lv for lv in levers if lv.kind == kind and lv.owner == owner and lv.path]
    for lv in sorted(own, key=lambda lv: lv.path[:-1] != within):  # the named part's own fields first
        names.setdefault(".".join(lv.path), lv.label)
        names.setdefault(lv.path[-1], lv.label)
    for name in sorted(names, key=len, reverse=True):  # the longest first: "light_offer.discount" before "discount"
        text = re.sub(rf"(?<![\w.'])({re.escape(name)})(?![\w'])", f"'{names[name]}'", text)
    return text


_calls = threading.local()


def _guarded(action: str):
    """Wrap a public method: LabError passes as it is; any other exception becomes :meth:`Controller.fail`.

    Only the outermost guarded call of a thread turns it into a message, so the message names what
    the trainer did (changing the seed), not the step inside it that failed (resetting the run).
    """

    def wrap(method):
        @functools.wraps(method)
        def guarded(self, *args, **kwargs):
            depth = getattr(_calls, "depth", 0)
            _calls.depth = depth + 1
            try:
                return method(self, *args, **kwargs)
            except LabError:
                raise
            except Exception as exc:
                if depth:
                    raise
                raise self.fail(exc, action) from None
            finally:
                _calls.depth = depth

        return guarded

    return wrap


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
        #: the last message for the trainer (a refused file or value, or an internal error); None: all well
        self.error: str | None = None
        self._logged: set[tuple] = set()
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
        seed = scenario.config.run.seed if self._seed_choice is None else self._seed_choice
        days = page_days(scenario) if self._days_choice is None else min(MAX_DAYS, self._days_choice)
        check_run(scenario, customers=self._customers, days=days, where=scenario.source, models=2 if self.compare else 1)
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
        self.sample = self._plan_sample(setting)
        self.stories = StoryRecorder(model, self.sample)
        self.followed = None
        self.follow = False
        self.editing = "A"
        self.playing = False
        self._history = {"A": [quick_metrics(model)], "B": [quick_metrics(model_b)] if model_b else []}
        self.generation += 1
        self._changed()

    @_guarded("loading a preset")
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

    @_guarded("loading an uploaded file")
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
            log.warning("%s could not be read: %s: %s", source, type(exc).__name__, exc)
            problem = ConfigError(f"{source}: could not be read ({type(exc).__name__}); send it again")
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
            except Exception as exc:  # a file that breaks the model: a bug in validation; keep the page alive
                self.fail(exc, f"loading {source}")
                return False
            self.error = None
            self.notice = f"Loaded {source}: scenario '{sc.name}'."
            return True

    @_guarded("clearing the messages")
    def clear_messages(self) -> None:
        """Forget the last error and notice."""
        with self._lock:
            self.error = None
            self.notice = None
            self._changed()

    def fail(self, exc: BaseException, action: str = "handling the page") -> LabError:
        """Turn ``exc`` into the page's message (:attr:`error`) and return it as a LabError to raise or drop.

        A :class:`~scenarios.errors.LabError` (a refused file or value) keeps its own message. Any
        other exception is a bug: its traceback goes to the server log (once per kind of failure;
        later ones get one line), the message says "internal error while <action>" with the
        exception's type and a reference to find it in the log, never its text or a server path,
        and playing stops, so a failing day is not retried many times a second.
        """
        if isinstance(exc, LabError):
            err: LabError = exc
        else:
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            key = (type(exc).__name__, action, tb.tb_frame.f_code.co_filename if tb else "", tb.tb_lineno if tb else 0)
            first = key not in self._logged
            if first and len(self._logged) < 100:
                self._logged.add(key)
            err = InternalError(log_internal(exc, action, traceback=first))
        with self._lock:
            self.error = str(err)
            self.notice = None
            if isinstance(err, InternalError):
                self.playing = False
            self._changed()
        return err

    def _check_size(self, customers: int, where: str, settings=None, compare: bool | None = None) -> None:
        """:func:`~lifecycle.app.limits.check_run` for each setting that will run (both while comparing)."""
        compare = self.compare if compare is None else compare
        if settings is None:
            settings = (self.setting_a, self.setting_b) if compare else (self.setting_a,)
        for setting in settings:
            check_run(setting.scenario, customers=customers, days=self.days, where=where, models=2 if compare else 1)

    # --- population ---------------------------------------------------------------------------

    @property
    def customers(self) -> int:
        """Initial customers of a run."""
        return self._customers

    @_guarded("changing the number of customers")
    def set_customers(self, n: int) -> None:
        """Change the initial population and restart from day 0.

        Raises LeverError (message starting "Customers at start") and changes nothing if ``n`` is
        outside MIN..MAX_CUSTOMERS or the run would not fit the memory limit.
        """
        with self._lock:
            n = check_customers(n, CUSTOMERS_LABEL)
            self._check_size(n, CUSTOMERS_LABEL)
            old = self._customers
            self._customers = n
            try:
                self.reset()
            except BaseException:
                self._customers = old
                raise
            self.generation += 1

    @_guarded("changing the seed")
    def set_seed(self, seed: int) -> None:
        """Change the seed (0 .. 2**64 - 1) and restart from day 0; LeverError (starting "Seed") otherwise."""
        with self._lock:
            try:
                if isinstance(seed, bool) or (isinstance(seed, float) and not seed.is_integer()):
                    raise ValueError
                seed = int(seed)
            except (TypeError, ValueError, OverflowError):
                raise LeverError(f"{SEED_LABEL}: a whole number is needed; got {str(seed)[:40]!r}") from None
            if not 0 <= seed <= MAX_SEED:
                raise LeverError(f"{SEED_LABEL}: must be between 0 and {MAX_SEED:,}; got {seed:,}")
            old = (self._seed_choice, self.seed)
            self._seed_choice, self.seed = seed, seed
            try:
                self.reset()
            except BaseException:
                self._seed_choice, self.seed = old
                raise
            self.generation += 1

    # --- running ------------------------------------------------------------------------------

    @property
    def day(self) -> int:
        """Days simulated so far."""
        return self.model.day

    @property
    def running(self) -> bool:
        """True until the run length is reached."""
        return self.model.day < self.days

    @_guarded("resetting the run")
    def reset(self) -> None:
        """Rebuild the model(s) from the current setting(s); day 0, same seed."""
        with self._lock:
            self.playing = False
            common = dict(seed=self.seed, customers=self._customers, days=self.days, engine=self.engine)
            model = build_model(self.setting_a, **common)
            model_b = build_model(self.setting_b, **common) if self.compare else None
            self.model, self.model_b = model, model_b  # both built: commit
            self.sample = self._plan_sample(self.setting_a)
            self.stories = StoryRecorder(self.model, self.sample)
            if self.followed is not None and self.sample.slot_of(self.followed) is None:
                self.followed = None  # the same seed gives the same customers: keep following, if still followed
            self._history = {"A": [quick_metrics(self.model)],
                             "B": [quick_metrics(self.model_b)] if self.model_b else []}
            self._changed()

    @_guarded("stepping the simulation")
    def step(self, days: int = 1) -> int:
        """Simulate up to ``days`` days (both models when comparing); return the days done."""
        done = 0
        with self._lock:
            for _ in range(max(0, int(days))):
                if not self.running:
                    break
                self.model.step()
                self.stories.observe()
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

    def _plan_sample(self, setting: Setting) -> DotSample:
        """The customers the dot view follows this run (fixed at day 0 from the arrivals the channels should bring)."""
        return DotSample.plan(self._customers, expected_arrivals(setting.scenario) * self.days)

    @property
    def interval_ms(self) -> int:
        """Pause between two updates while playing, at the current speed."""
        return SPEEDS[self.speed - 1][0]

    @property
    def days_per_update(self) -> int:
        """Days simulated per update (per Step press and per tick while playing)."""
        return SPEEDS[self.speed - 1][1]

    @_guarded("changing the speed")
    def set_speed(self, level: int) -> None:
        """Speed level 1 (slowest) .. len(SPEEDS)."""
        with self._lock:
            self.speed = min(len(SPEEDS), max(1, int(level)))

    @_guarded("starting to play")
    def play(self) -> None:
        """Start playing (no effect at the end of the run)."""
        with self._lock:
            self.playing = self.running

    @_guarded("pausing")
    def pause(self) -> None:
        """Stop playing."""
        with self._lock:
            self.playing = False

    @_guarded("playing or pausing")
    def toggle_play(self) -> bool:
        """Play if paused, pause if playing; return the new state."""
        with self._lock:
            self.playing = (not self.playing) and self.running
            return self.playing

    @_guarded("playing the simulation")
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

    @_guarded("listing the levers")
    def levers(self, side: str | None = None) -> list[Lever]:
        """Every control the current scenario offers, with the values of ``side``'s setting."""
        with self._lock:
            return self.setting(side).levers()

    @_guarded("finding a lever")
    def lever(self, lever_id: str, side: str | None = None) -> Lever:
        """The lever with this :attr:`Lever.id`."""
        for lv in self.levers(side):
            if lv.id == lever_id:
                return lv
        raise LeverError(f"no lever {lever_id!r} in scenario '{self.scenario.name}'")

    @_guarded("changing a lever")
    def set_lever(self, lever: Lever | str | tuple, value: Any, side: str | None = None) -> Setting:
        """Change one lever of ``side`` (default: the one being edited); the model follows at once.

        The new setting is the scenario with the value set (``Scenario.with_values``); the running
        model follows it from its next day on (a changed policy is rebuilt and replaces the old
        one) and it is kept for the next reset. Raises :class:`LeverError` (and keeps everything
        as it was) if the value is refused, including a run that would grow past the page's limits
        (:func:`~lifecycle.app.limits.check_run`); the message starts with the lever's label.
        """
        with self._lock:
            side = self._side(side)
            if isinstance(lever, str):
                lever = self.lever(lever, side)
            kind, owner, path = lever.key if isinstance(lever, Lever) else lever
            path = tuple(path)
            label = lever.label if isinstance(lever, Lever) else self._label_of((kind, owner, path), side)
            try:
                new = self.setting(side).with_value(kind, owner, path, value)
                self._check_size(self._customers, label or "this value", settings=(new,))
                model = self.model if side == "A" else self.model_b
                if model is not None:
                    apply_live(model, new)
            except LeverError as exc:
                text = in_labels(str(exc), self.setting(side).levers(), kind, owner)
                if label and not text.startswith(label):
                    raise LeverError(f"{label}: {text}") from None
                raise LeverError(text) from None
            if side == "A":
                self.setting_a = new
            else:
                self.setting_b = new
            self.error = None
            self._changed()
            return new

    def _label_of(self, key: tuple, side: str) -> str | None:
        for lv in self.setting(side).levers():
            if lv.key == key:
                return lv.label
        return None

    def _side(self, side: str | None) -> str:
        side = self.editing if side is None else side
        if side not in ("A", "B"):
            raise LeverError(f"side must be 'A' or 'B'; got {side!r}")
        if side == "B" and not self.compare:
            raise LeverError("setting B exists only while comparing")
        return side

    # --- one customer's story -------------------------------------------------------------------

    @_guarded("opening a customer's story")
    def pick(self, slot: int) -> int | None:
        """Open the story of the customer in dot ``slot``; return its row (None: an empty place, nothing opens)."""
        with self._lock:
            row = self.sample.row_of(int(slot))
            if row is None or row >= self.model.state.n:
                return None
            self.followed = row
            self._changed()
            return row

    @_guarded("closing the story")
    def close_story(self) -> None:
        """Close the story panel (and stop following)."""
        with self._lock:
            self.followed, self.follow = None, False
            self._changed()

    @_guarded("following a customer")
    def set_follow(self, on: bool) -> None:
        """Highlight the customer of the open story in the dot view as the run goes on."""
        with self._lock:
            self.follow = bool(on) and self.followed is not None
            self._changed()

    @_guarded("reading a customer's story")
    def story(self) -> dict | None:
        """The open story (:meth:`lifecycle.app.stories.StoryRecorder.story`), or None."""
        with self._lock:
            return None if self.followed is None else self.stories.story(self.followed)

    # --- comparison ---------------------------------------------------------------------------

    @_guarded("starting the comparison")
    def start_compare(self) -> None:
        """Compare two settings: B starts as a copy of A; both restart from day 0 on the same seed."""
        with self._lock:
            self._check_size(self._customers, "Start comparison", settings=(self.setting_a,), compare=True)
            old = (self.compare, self.setting_b, self.editing)
            self.compare, self.setting_b, self.editing = True, self.setting_a, "B"
            try:
                self.reset()
            except BaseException:
                self.compare, self.setting_b, self.editing = old
                raise

    @_guarded("stopping the comparison")
    def stop_compare(self) -> None:
        """Back to one setting (A); the run goes on."""
        with self._lock:
            self.compare = False
            self.editing = "A"
            self.model_b = None
            self._history["B"] = []
            self._changed()

    @_guarded("switching between A and B")
    def set_editing(self, side: str) -> None:
        """Which setting the levers change while comparing."""
        with self._lock:
            self.editing = self._side(side)
            self._changed()

    @_guarded("comparing A and B")
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

    @_guarded("reading the charts' data")
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
        super().__init__(rng=controller.seed)  # rng=: the keyword both Mesa lines share (seed= is deprecated)
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
