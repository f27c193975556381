"""The classroom page: ``solara run lifecycle.app.page`` (or ``lifecycle app``) serves the module-level ``page``.

Layout, as in Mesa's ``SolaraViz``: an app bar, a sidebar with the scenario, the run controls and
the levers, and the views on the right (tabs: Live, Compare, Explain).

What comes from Mesa's visualisation package: ``UserInputs`` draws every slider and select of the
levers from the same kind of specification ``SolaraViz`` uses for model parameters, and the views
re-render on Mesa's ``update_counter`` (``force_update`` after each step), as Mesa's own
components do; the stage chart reads the model's ``mesa.DataCollector``. ``SolaraViz`` itself is
offered for notebooks (:func:`notebook_view`, with :class:`lifecycle.app.controller.ClassroomModel`). The page
does not use Mesa's ``ModelController``: its play loop lives in the component's own state, so it
cannot be paused from outside (a new scenario must stop it), and a reset re-creates one model from
parameters fixed when the page is built, while here the levers follow whichever scenario is loaded
and a comparison steps two models. The run controls here drive :class:`lifecycle.app.controller.Controller`,
which holds all the state and is unit-tested. The lever panels are built from the policies' own
metadata (:mod:`lifecycle.app.levers`), so a policy loaded with ``lifecycle app --plugin FILE.py``
gets its labelled sliders too; the page process imports those files before any scenario loads
(:func:`lifecycle.app.launch.start_controller`).

Uploads: a real file input (``ipyvuetify.extra.FileInput``); the declared size is checked before
anything is read, at most the size limit is read, and the bytes go to
:meth:`lifecycle.app.controller.Controller.upload` (TOML parsed and validated as data). Nothing is written to or
read from the server's disk on behalf of the page.

Errors: no traceback ever reaches the browser. Every event handler runs through :func:`_safely`
(a refused file or value, a :class:`~scenarios.errors.LabError`, shows its message; anything else
becomes "internal error ... this is a bug" through :meth:`lifecycle.app.controller.Controller.fail`,
with the traceback in the server log only), the controller's own methods do the same, and each
card and view renders inside :func:`Guarded`, an error boundary that shows the message in the
failed part's place and tries again after the next change, while the rest of the page goes on.
:func:`Page` itself is a last boundary around the whole session.

Projector mode (the app bar's switch, or ``?projector=1``) drops the sidebar for a one-row run
bar and shows the Live tab one figure at a time (:data:`SLIDES`), restyled by
:func:`lifecycle.app.charts.for_projector`. The dot view is :class:`lifecycle.app.widgets.DotView`
(a click opens that customer's :func:`StoryPanel`). With ``lifecycle app --class`` the page is the
class page instead (:mod:`lifecycle.app.class_page`).

Size: about 560 lines of code: the page's Solara components (sidebar, tabs, views, the story
panel) share the reactive state of one session, and splitting them would thread that state
through modules.
"""

from __future__ import annotations

import functools
import threading
import time
import warnings

# Mesa 3.3's own ComponentsView trips Solara's hook check at import; it is not used here
warnings.filterwarnings("ignore", message=r".*ComponentsView.*use_state", category=UserWarning)

import solara  # noqa: E402
import solara.lab  # noqa: E402
from ipyvuetify.extra import FileInput  # noqa: E402
from mesa.visualization.solara_viz import UserInputs  # noqa: E402
from mesa.visualization.utils import force_update, update_counter  # noqa: E402

from lifecycle.app import charts as C  # noqa: E402
from lifecycle.app import explain as X  # noqa: E402
from lifecycle.app.controller import Controller, log_internal  # noqa: E402
from lifecycle.app.launch import start_controller  # noqa: E402
from lifecycle.app.limits import (  # noqa: E402
    CUSTOMERS_LABEL, MAX_CUSTOMERS, MIN_CUSTOMERS, SEED_LABEL, SPEEDS, LeverError,
)  # fmt: skip
from lifecycle.app.sources import preset_description, preset_names  # noqa: E402
from lifecycle.app.widgets import DotView  # noqa: E402
from scenarios.loader import MAX_SCENARIO_BYTES  # noqa: E402
from scenarios.errors import ConfigError, LabError  # noqa: E402

__all__ = ["Page", "page", "notebook_view", "TITLE"]

TITLE = "Lifecycle Lab · classroom"
#: slider labels on their own line above a full-width slider (the lever labels are long)
CSS = """
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { flex: 1 0 100%; max-width: 100%; white-space: normal; margin: 0 0 -6px 0; }
"""
#: projector mode: one figure per screen, as wide as the screen allows (but never taller), text at least 20 px
PROJECTOR_CSS = """
.projector svg[data-chart] { max-width: none !important; width: 100%; max-height: calc(100vh - 370px); }
.projector img[data-chart=dots] { max-height: calc(100vh - 420px); width: auto !important; }
.projector, .projector .v-card__title, .projector p, .projector td, .projector th, .projector span,
.projector .v-btn__content, .projector .caption-squares, .projector [class*=caption-] { font-size: 20px !important; }
.projector [class*=caption-], .projector p, .projector td, .projector th { color: #000 !important; }
.projector .status-line { font-size: 22px !important; color: #000 !important; }
"""
COLOR_A, COLOR_B = "#1f77b4", "#d62728"


def _bump(ui: solara.Reactive) -> None:
    ui.set(ui.value + 1)
    force_update()


def _safely(ctrl: Controller, ui: solara.Reactive | None, action: str, fn):
    """``fn`` as a page callback that never raises: any exception becomes the page's message.

    A LabError (a refused file or value) shows its own message; anything else is logged with its
    traceback and shown as an internal error (:meth:`Controller.fail`). The page re-renders.
    """

    @functools.wraps(fn)
    def callback(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            ctrl.fail(exc, action)
            if ui is not None:
                try:
                    _bump(ui)
                except Exception:  # the page is gone (a closed tab): nothing to show it on
                    pass
            return None

    return callback


@solara.component
def Guarded(ctrl: Controller, where: str, render):
    """An error boundary: ``render()``'s elements, or, if they raise, a message in their place.

    The exception becomes the controller's message (:meth:`Controller.fail`: logged, never shown
    as a traceback); the part is drawn again after the next change (a step, a reset, a lever), so
    the rest of the page and the session go on.
    """
    exception, clear = solara.use_exception()
    failed_at = solara.use_ref(None)
    message = solara.use_ref("")
    update_counter.get()
    if exception is not None:
        if failed_at.current is None:
            message.current = str(ctrl.fail(exception, f"drawing {where}"))
            failed_at.current = ctrl.version
        if ctrl.version == failed_at.current:
            solara.Error(message.current, text=True, dense=True, outlined=True, icon=True, classes=["page-error"])
            return
        failed_at.current = None
        clear()
    render()


# --- sidebar ---------------------------------------------------------------------------------------


@solara.component
def UploadBox(ctrl: Controller, ui: solara.Reactive):
    """A file input whose file is checked and handed to the controller (in a worker thread)."""
    info, set_info = solara.use_state(None)
    files, set_files = solara.use_state(None)
    widget = FileInput.element(accept=".toml,text/plain,application/toml", multiple=False, on_file_info=set_info,
                               show_progress=False)  # fmt: skip

    @functools.partial(_safely, ctrl, ui, "receiving the uploaded file")
    def wire():
        if not info:
            return
        real = solara.get_widget(widget)
        real.version += 1  # as solara's FileDrop does: the observer may not have run
        real.reset_stats()
        set_files(real.get_files(timeout=20))

    solara.use_effect(wire, [info])

    @functools.partial(_safely, ctrl, ui, "reading the uploaded file")
    def handle(cancel: threading.Event):
        if not files:
            return
        f = files[0]
        size = int(f.get("size") or 0)
        if size > MAX_SCENARIO_BYTES:  # refuse before reading anything
            ctrl.upload(f.get("name"), size=size)
        else:
            ctrl.upload(f.get("name"), size=size, stream=f["file_obj"])
        _bump(ui)

    solara.use_thread(handle, [files], intrusive_cancel=False)
    return widget


@solara.component
def ScenarioCard(ctrl: Controller, ui: solara.Reactive):
    """Preset, population, seed, upload and the last message."""
    _ = ui.value  # re-render on every change of scenario, population or message
    refused = solara.use_reactive(0)  # bumped when a typed value is refused: the inputs show the value in force
    names = preset_names()
    current = ctrl.scenario.name if (ctrl.origin == "preset" and ctrl.scenario.name in names) else None

    @functools.partial(_safely, ctrl, ui, "switching the preset")
    def choose(name):
        if not name:
            return
        try:
            ctrl.load_preset(name)
        except ConfigError:
            pass  # ctrl.error holds the message
        _bump(ui)

    def refusing(change):
        """A typed value: refused (LabError) -> the message, and the input shows the value in force again."""

        def apply(value):
            if value is None:
                return
            try:
                change(value)
            except LabError as exc:
                ctrl.fail(exc)
                refused.set(refused.value + 1)
            _bump(ui)

        return apply

    set_customers = _safely(ctrl, ui, "changing the number of customers", refusing(ctrl.set_customers))
    set_seed = _safely(ctrl, ui, "changing the seed", refusing(ctrl.set_seed))

    with solara.Card("Scenario", margin=0, elevation=1):
        solara.Select(label="Preset", value=current, values=names, on_value=choose)
        if ctrl.origin != "preset":
            solara.Text(f"Using {ctrl.label}", style={"font-weight": "600"})
        else:
            solara.Text(preset_description(ctrl.scenario.name), style={"font-size": "12px", "color": "#555"})
        solara.InputInt(f"{CUSTOMERS_LABEL} ({MIN_CUSTOMERS:,}-{MAX_CUSTOMERS:,})", value=ctrl.customers,
                        on_value=set_customers, continuous_update=False).key(f"customers-{refused.value}")
        solara.InputInt(f"{SEED_LABEL} (same seed = same customers)", value=ctrl.seed, on_value=set_seed,
                        continuous_update=False).key(f"seed-{refused.value}")
        solara.Text(f"Upload a scenario file (.toml, at most {MAX_SCENARIO_BYTES // 1024} KiB):",
                    style={"font-size": "12px"})
        UploadBox(ctrl, ui)
        if ctrl.error:
            solara.Error(ctrl.error, text=True, dense=True, outlined=True, icon=True, classes=["scenario-error"])
        elif ctrl.notice:
            solara.Success(ctrl.notice, text=True, dense=True, outlined=True, icon=True)


@solara.component
def RunControls(ctrl: Controller, ui: solara.Reactive, compact: bool = False):
    """Reset, play/pause, step and speed; the play loop runs in a worker thread. ``compact``: one row (projector)."""
    update_counter.get()
    _ = ui.value
    playing = ctrl.playing

    def loop(cancel: threading.Event):
        ticks = 0
        try:
            while ctrl.playing and not cancel.is_set():
                started = time.perf_counter()
                done = ctrl.tick()
                force_update()
                ticks += 1
                if not done:
                    break
                # rest at least half as long as the day and its drawing took: a loop that drew again at
                # once would keep the session busy, and a click on Pause could wait behind it for ever
                spent = time.perf_counter() - started
                if cancel.wait(max(ctrl.interval_ms / 1000 - spent, 0.5 * spent, 0.02)):
                    break
        except Exception as exc:  # the controller has said why (ctrl.error) and stopped playing
            ctrl.fail(exc, "playing the simulation")
            ticks = ticks or 1
        if ticks and not ctrl.playing and not cancel.is_set():
            ui.set(ui.value + 1)  # the run ended by itself (or failed): show the Play button again

    solara.use_thread(loop, [playing, ctrl.generation], intrusive_cancel=False)

    @functools.partial(_safely, ctrl, ui, "resetting the run")
    def do_reset():
        ctrl.reset()
        _bump(ui)

    @functools.partial(_safely, ctrl, ui, "playing or pausing")
    def do_play():
        ctrl.toggle_play()
        _bump(ui)

    @functools.partial(_safely, ctrl, ui, "stepping the simulation")
    def do_step():
        ctrl.step(ctrl.days_per_update)
        force_update()

    @functools.partial(_safely, ctrl, ui, "changing the speed")
    def set_speed(level):
        ctrl.set_speed(level)
        _bump(ui)

    per_s = ctrl.days_per_update * 1000 / max(50, ctrl.interval_ms)
    if compact:
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}, classes=["run-bar"]):
            solara.Button("Reset", color="primary", on_click=do_reset, outlined=True)
            solara.Button("Pause" if playing else "Play", color="primary", on_click=do_play,
                          disabled=not ctrl.running and not playing, icon_name="mdi-pause" if playing else "mdi-play")
            solara.Button("Step", color="primary", on_click=do_step, disabled=playing or not ctrl.running)
            with solara.Column(style={"min-width": "220px"}, gap="0"):
                solara.SliderInt(f"Speed: {ctrl.speed} of {len(SPEEDS)}", value=ctrl.speed, min=1, max=len(SPEEDS),
                                 on_value=set_speed, thumb_label=False)
            solara.Text(f"{ctrl.days_per_update} day(s) per update", classes=["run-speed"])
        return
    with solara.Card("Run", margin=0, elevation=1):
        with solara.Row(justify="space-between"):
            solara.Button("Reset", color="primary", on_click=do_reset, outlined=True)
            solara.Button("Pause" if playing else "Play", color="primary", on_click=do_play,
                          disabled=not ctrl.running and not playing, icon_name="mdi-pause" if playing else "mdi-play")
            solara.Button("Step", color="primary", on_click=do_step, disabled=playing or not ctrl.running)
        # no value bubble: above the thumb it would cover the Play button; the level is in the label
        solara.SliderInt(f"Speed: {ctrl.speed} of {len(SPEEDS)}", value=ctrl.speed, min=1, max=len(SPEEDS),
                         on_value=set_speed, thumb_label=False)
        with solara.Column(gap="2px"):
            solara.Text(f"{ctrl.days_per_update} day(s) per update, up to {per_s:.3g} days a second",
                        classes=["run-speed"], style={"font-size": "12px", "color": "#555"})
            end = " · run finished: press Reset" if not ctrl.running else ""
            solara.Text(f"Day {ctrl.day} of {ctrl.days}{end}", classes=["run-day"], style={"font-weight": "600"})


@solara.component
def LeverGroup(ctrl: Controller, ui: solara.Reactive, refused: solara.Reactive, message: solara.Reactive, group: str,
               levers: list, epoch: str, note: str):
    """One policy (or channels, or tiers): Mesa's UserInputs for sliders and selects, plus multi-selects.

    The inputs are re-created (``epoch``) only for a new scenario or side, or after a refused value
    (so the widget shows the value actually in force), never while the trainer drags a slider.
    A refusal is shown at the bottom of this panel, below its inputs: nothing above the slider
    being moved shifts, so the panel stays under the trainer's pointer.
    """

    @functools.partial(_safely, ctrl, ui, "changing a lever")
    def apply(lever, value):
        try:
            ctrl.set_lever(lever, value)
        except LabError as exc:  # refused (the message names the lever), or an internal error (also in ctrl.error)
            message.set((group, str(exc)))
            refused.set(refused.value + 1)
            _bump(ui)
            return
        message.set(None)
        _bump(ui)

    simple = {lv.id: {**lv.user_param(), "label": _lever_label(lv)} for lv in levers if lv.type != "SelectMultiple"}
    by_id = {lv.id: lv for lv in levers}
    with solara.Details(summary=group, expand=False):
        with solara.Column(gap="2px").key(f"{group}-{epoch}"):
            if note:
                solara.Text(note, style={"font-size": "12px", "color": "#555"})
            if simple:
                UserInputs(simple, on_change=lambda lever_id, value: apply(by_id[lever_id], value))
            for lv in levers:
                if lv.type == "SelectMultiple":
                    solara.SelectMultiple(lv.label, values=list(lv.value), all_values=list(lv.values),
                                          on_value=lambda v, lv=lv: apply(lv, list(v)))
        if message.value and message.value[0] == group:
            solara.Error(message.value[1], text=True, dense=True, outlined=True, icon=True, classes=["lever-error"])


def _lever_label(lv) -> str:
    if lv.type == "SliderInt":
        return f"{lv.label}: {int(lv.value)}"
    if lv.type == "SliderFloat":
        v = float(lv.value)
        return f"{lv.label}: {v:g}" if abs(v) < 1e4 else f"{lv.label}: {v:,.0f}"
    return lv.label


@solara.component
def LeverCard(ctrl: Controller, ui: solara.Reactive):
    """Every lever of the scenario, grouped by policy, then channels and tier thresholds."""
    _ = ui.value
    refused = solara.use_reactive(0)
    message = solara.use_reactive(None)  # (group, text) of the last refusal, shown in that group's panel
    epoch = f"{ctrl.generation}-{ctrl.editing}-{refused.value}"
    with solara.Card("Levers", margin=0, elevation=1):
        if ctrl.compare:
            solara.Text("Comparing: the levers change setting", style={"font-size": "12px"})

            @functools.partial(_safely, ctrl, ui, "switching between A and B")
            def pick(side):
                ctrl.set_editing(side)
                _bump(ui)

            solara.ToggleButtonsSingle(value=ctrl.editing, values=["A", "B"], on_value=pick)
        levers = ctrl.levers()
        if not levers:
            solara.Text("This scenario has no policies or channels to change.")
        groups: dict[str, list] = {}
        for lv in levers:
            groups.setdefault(lv.group, []).append(lv)
        setting = ctrl.setting()
        for group, items in groups.items():
            note = ""
            if items[0].kind == "policy":
                note = X.policy_now(setting.policy(items[0].owner))
            LeverGroup(ctrl, ui, refused, message, group, items, epoch, note).key(f"group-{group}")


@solara.component
def Sidebar(ctrl: Controller, ui: solara.Reactive):
    with solara.Column(gap="10px"):
        Guarded(ctrl, "the scenario card", lambda: ScenarioCard(ctrl, ui))
        Guarded(ctrl, "the run controls", lambda: RunControls(ctrl, ui))
        Guarded(ctrl, "the levers", lambda: LeverCard(ctrl, ui))


# --- views -----------------------------------------------------------------------------------------


def _html(markup: str, **kw):
    return solara.HTML(tag="div", unsafe_innerHTML=markup, **kw)


@solara.component
def ChartCard(figure: C.Figure, extra: str = "", projector: tuple | None = None):
    """A figure in a card; ``projector``: (stage names, churned flags) to restyle it for a projector."""
    with solara.Card(margin=0, elevation=1, style={"min-width": "0"}):
        markup = figure.markup if projector is None else C.for_projector(figure.markup, *projector)
        _html(markup + extra)
        if figure.caption:
            solara.Text(figure.caption, classes=[f"caption-{figure.kind}"], style={"font-size": "12px", "color": "#444"})


@solara.component
def StatusLine(ctrl: Controller):
    update_counter.get()
    snap = ctrl.snapshot("A")
    last = snap.history[-1] if snap.history else {}
    ratio = C.fmt(last.get("ltv_cac"), "ratio")
    text = (f"{ctrl.label} · day {snap.day} of {snap.days} · {snap.customers:,} customers · "
            f"{snap.engine} engine · LTV/CAC {ratio}")
    if ctrl.compare:
        text += " · comparing A and B"
    solara.Text(text, classes=["status-line"], style={"font-size": "14px", "font-weight": "600"})


#: the figures of the Live tab in projector mode, one per screen, in this order
SLIDES = ("Customers", "Stages", "Moves", "Retention", "Money", "Profit", "LTV/CAC")


@solara.component
def LiveView(ctrl: Controller, projector: bool = False):
    """Customers, stages, flows, retention, money and LTV/CAC of setting A, as it runs.

    In projector mode one figure per screen (:data:`SLIDES`, with Previous/Next), restyled for a
    projector (:func:`lifecycle.app.charts.for_projector`: large type, dark text, Okabe-Ito stages).
    """
    update_counter.get()
    period, set_period = solara.use_state(7)
    slide, set_slide = solara.use_state(0)
    snap = ctrl.snapshot("A")
    r = snap.result
    codes = r.customers["stage"]
    look = (tuple(r.stage_names), tuple(r.churned_stages)) if projector else None
    palette = C.projector_palette(r.stage_names, r.churned_stages) if projector else None
    texts = {name: X.stage_text(ctrl.scenario, name) for name in r.stage_names}

    def customers_card():
        dots = C.sample_dots(ctrl.sample, codes, r.stage_names, r.churned_stages, day=snap.day, palette=palette)
        squares = C.aggregate_squares(codes, r.stage_names, r.churned_stages, day=snap.day, palette=palette,
                                      titled=not projector)  # in projector mode the caption says it, in large type
        legend = C.stage_legend(r.stage_names, r.churned_stages, squares.data["counts"], texts)
        if projector:
            legend = C.for_projector(legend, *look)
        ring = ctrl.sample.slot_of(ctrl.followed) if (ctrl.follow and ctrl.followed is not None) else None

        @functools.partial(_safely, ctrl, None, "opening a customer's story")
        def picked(value):
            if value:
                ctrl.pick(int(value.split(":")[0]))
                force_update()

        with solara.Card("Customers", margin=0, elevation=1):
            with solara.Columns([3, 2]):
                with solara.Column(gap="2px"):
                    d = dots.data
                    DotView.element(src=d["src"], alt=dots.caption, day=snap.day, customers=d["customers"],
                                    population=d["population"], rows=",".join(map(str, d["rows_shown"])), cols=d["cols"],
                                    nrows=d["rows"], cell=d["cell"], ring=-1 if ring is None else ring, on_picked=picked)
                    solara.Text(dots.caption + " Click a dot for that customer's story.", classes=["caption-dots"],
                                style={"font-size": "12px", "color": "#444"})
                with solara.Column(gap="2px"):
                    _html(squares.markup if not projector else C.for_projector(squares.markup, *look))
                    solara.Text(squares.caption, classes=["caption-squares"], style={"font-size": "12px", "color": "#444"})
                    _html(legend)

    def flows_card():
        with solara.Column(gap="0"):
            solara.ToggleButtonsSingle(value=period, values=list(C.FLOW_PERIODS), on_value=set_period, dense=True)
            ChartCard(C.stage_flows(r, period), projector=look)

    figures = {
        "Customers": customers_card,
        "Stages": lambda: ChartCard(C.stage_populations(r, snap.stages), projector=look),
        "Moves": flows_card,
        "Retention": lambda: ChartCard(C.cohort_retention(r), projector=look),
        "Money": lambda: ChartCard(C.money(r), projector=look),
        "Profit": lambda: ChartCard(C.cumulative_profit([("profit", r, "#6a3d9a")]), projector=look),
        "LTV/CAC": lambda: ChartCard(C.ltv_cac([("LTV/CAC", list(snap.history), "#111")]), extra=C.channel_table(r),
                                     projector=look),
    }
    if projector:
        with solara.Column(gap="6px", classes=["projector-slides"]):
            if slide == 0 and ctrl.followed is not None:
                Guarded(ctrl, "the customer's story", lambda: StoryPanel(ctrl))
            with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
                solara.Button(icon_name="mdi-chevron-left", on_click=lambda: set_slide((slide - 1) % len(SLIDES)),
                              outlined=True, classes=["slide-previous"], attributes={"aria-label": "Previous figure"})
                solara.ToggleButtonsSingle(value=SLIDES[slide], values=list(SLIDES),
                                           on_value=lambda name: set_slide(SLIDES.index(name)), classes=["slide-names"])
                solara.Button(icon_name="mdi-chevron-right", on_click=lambda: set_slide((slide + 1) % len(SLIDES)),
                              outlined=True, classes=["slide-next"], attributes={"aria-label": "Next figure"})
            with solara.Column(classes=["projector-slide"], gap="0").key(f"slide-{slide}"):
                figures[SLIDES[slide]]()
        return
    figures["Customers"]()
    if ctrl.followed is not None:
        Guarded(ctrl, "the customer's story", lambda: StoryPanel(ctrl))
    with solara.Columns([1, 1]):
        figures["Stages"]()
        figures["Profit"]()
    with solara.Columns([1, 1]):
        figures["Moves"]()
        figures["Retention"]()
    with solara.Columns([1, 1]):
        figures["Money"]()
        figures["LTV/CAC"]()
    with solara.Columns([1, 1]):
        with solara.Card("What am I looking at?", margin=0, elevation=1):
            title, text = X.framework_text(ctrl.scenario)
            length = X.run_length_text(ctrl.scenario, ctrl.days)
            _html(f"<p style='font-size:13px'><b>{_esc(title)}</b></p><p style='font-size:13px'>{_esc(text)}</p>"
                  + (f"<p class='run-length' style='font-size:13px'>{_esc(length)}</p>" if length else ""))
            solara.Text("Hover a stage in the legend for its explanation; the Explain tab has every stage and policy.",
                        style={"font-size": "12px", "color": "#555"})


@solara.component
def StoryPanel(ctrl: Controller):
    """One customer's story: who, traits in words, money so far, and the timeline (newest first)."""
    update_counter.get()
    story = ctrl.story()
    if story is None:
        return

    @functools.partial(_safely, ctrl, None, "following a customer")
    def follow(on):
        ctrl.set_follow(on)
        force_update()

    @functools.partial(_safely, ctrl, None, "closing the story")
    def close():
        ctrl.close_story()
        force_update()

    money = (f"revenue {C.fmt(story['revenue'], 'money')} · margin {C.fmt(story['margin'], 'money')} · policy costs "
             f"{C.fmt(story['policy_cost'], 'money')} · acquisition {C.fmt(story['acquisition_cost'], 'money')} · "
             f"LTV so far {C.fmt(story['ltv'], 'money')}")
    joined = "in the initial base" if story["channel"] == "initial base" else f"through {story['channel']}"
    rows = "".join(
        f"<tr data-kind='{e.kind}' data-day='{e.day}'" + (f" data-amount='{e.amount:.6f}'" if e.amount is not None else "")
        + f"><td style='padding:1px 8px 1px 0'>day {e.day}</td><td>{_esc(e.text)}</td>"
        f"<td style='text-align:right;padding-left:8px'>{'' if e.amount is None else _esc(C.fmt(e.amount, 'money'))}</td></tr>"
        for e in reversed(story["events"]))  # fmt: skip
    with solara.Card(f"Customer {story['customer']:,}", margin=0, elevation=2, classes=["story-panel"]):
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text(f"Joined on day {story['acquired']} {joined}; now in '{story['stage']}' · "
                        f"{story['purchases']} purchase(s) · {money}", classes=["story-summary"],
                        style={"font-size": "13px", "font-weight": "600"})
            solara.Switch(label="Follow (ring in the dot view)", value=ctrl.follow, on_value=follow,
                          classes=["story-follow"])
            solara.Button("Close", on_click=close, outlined=True, small=True, classes=["story-close"])
        _html("<ul style='font-size:13px;margin:4px 0'>" + "".join(f"<li>{_esc(t)}</li>" for t in story["traits"])
              + "</ul>")
        _html(f"<div style='max-height:320px;overflow:auto'><table data-table='story' style='font-size:13px;"
              f"border-collapse:collapse'>{rows}</table></div>")


@solara.component
def CompareView(ctrl: Controller, ui: solara.Reactive):
    """Two settings on the same customers (same seed), side by side, with their differences."""
    update_counter.get()
    if not ctrl.compare:
        _html(
            "<p style='font-size:14px'>Compare two settings of the levers <b>on the same customers</b> (same seed, "
            "same initial population, stepped together). Setting B starts as a copy of A and both restart from "
            "day 0; then change B's levers in the sidebar and press Play.</p>"
        )

        @functools.partial(_safely, ctrl, ui, "starting the comparison")
        def start():
            ctrl.start_compare()
            _bump(ui)

        solara.Button("Start comparison", color="primary", on_click=start)
        return
    try:
        cmp = ctrl.comparison()
        a, b = ctrl.snapshot("A"), ctrl.snapshot("B")
    except LeverError:  # stopped by another action in the meantime
        solara.Text("The comparison has stopped.")
        return

    @functools.partial(_safely, ctrl, ui, "stopping the comparison")
    def stop():
        ctrl.stop_compare()
        _bump(ui)

    with solara.Row():
        same = "yes" if cmp["same_initial_customers"] else "no"
        solara.Text(f"Day {cmp['day']} · seed {cmp['seed']} · {cmp['customers']:,} initial customers · "
                    f"same customers: {same}", classes=["compare-line"], style={"font-weight": "600"})
        solara.Button("Stop comparing", on_click=stop, outlined=True, small=True)
    with solara.Columns([1, 1]):
        with solara.Card("Differences (B − A)", margin=0, elevation=1):
            _html(C.comparison_table(cmp))
        with solara.Card("What differs", margin=0, elevation=1):
            _html(_setting_diff(ctrl))
    with solara.Columns([1, 1]):
        ChartCard(C.stage_populations(a.result, a.stages, title="A: customers in each stage"))
        ChartCard(C.stage_populations(b.result, b.stages, title="B: customers in each stage"))
    with solara.Columns([1, 1]):
        ChartCard(C.ltv_cac([("A", list(a.history), COLOR_A), ("B", list(b.history), COLOR_B)],
                            title="LTV/CAC, A vs B"))
        ChartCard(C.retention_compare([("A", a.result, COLOR_A), ("B", b.result, COLOR_B)]))
    ChartCard(C.cumulative_profit([("A", a.result, COLOR_A), ("B", b.result, COLOR_B)], title="Cumulative profit, A vs B"))


def _setting_diff(ctrl: Controller) -> str:
    import html

    a = {lv.id: lv for lv in ctrl.levers("A")}
    b = {lv.id: lv for lv in ctrl.levers("B")}
    rows = [f"<li>{html.escape(lv.group)} · {html.escape(lv.label)}: A {html.escape(str(lv.value))} → "
            f"B {html.escape(str(b[k].value))}</li>" for k, lv in a.items() if k in b and b[k].value != lv.value]
    if not rows:
        return "<p style='font-size:13px'>No lever differs yet: change setting B's levers in the sidebar.</p>"
    return f"<ul data-list='setting-diff' style='font-size:13px'>{''.join(rows)}</ul>"


@solara.component
def ExplainView(ctrl: Controller, ui: solara.Reactive):
    """Slide-sized texts: the framework, each stage, each policy."""
    _ = ui.value
    sc = ctrl.scenario
    title, text = X.framework_text(sc)
    length = X.run_length_text(sc, ctrl.days)
    _html(f"<h3>{_esc(title)}</h3><p style='font-size:14px'>{_esc(text)}</p>"
          + (f"<p class='run-length' style='font-size:14px'>{_esc(length)}</p>" if length else ""))
    names = [s.name for s in sc.config.stages]
    colors = C.stage_colors(names, [s.churned for s in sc.config.stages])
    with solara.Columns([1, 1]):
        with solara.Card("Stages", margin=0, elevation=1):
            for name, color in zip(names, colors):
                _html(f'<p style="margin:4px 0;font-size:13px"><span style="display:inline-block;width:10px;height:10px;'
                      f'border-radius:5px;background:{color};margin-right:6px"></span><b>{_esc(name)}</b>: '
                      f"{_esc(X.stage_text(sc, name))}</p>")
        with solara.Card("Policies", margin=0, elevation=1):
            policies = ctrl.setting("A").policies
            if not policies:
                solara.Text("No policies in this scenario.")
            for p in policies:
                _html(f'<p style="margin:4px 0 10px;font-size:13px">{_esc(X.policy_text(p))}</p>')


def _esc(text) -> str:
    import html

    return html.escape(str(text), quote=True)


@solara.component
def Main(ctrl: Controller, ui: solara.Reactive, projector: bool = False):
    tab, set_tab = solara.use_state(0)
    Guarded(ctrl, "the status line", lambda: StatusLine(ctrl))
    if projector:  # no sidebar: the run controls above the figures
        Guarded(ctrl, "the run controls", lambda: RunControls(ctrl, ui, compact=True))
    with solara.lab.Tabs(value=tab, on_value=set_tab, lazy=True):
        with solara.lab.Tab("Live"):
            if tab == 0:
                Guarded(ctrl, "the Live tab", lambda: LiveView(ctrl, projector))
        with solara.lab.Tab("Compare A/B"):
            if tab == 1:
                Guarded(ctrl, "the Compare tab", lambda: CompareView(ctrl, ui))
        with solara.lab.Tab("Explain"):
            if tab == 2:
                Guarded(ctrl, "the Explain tab", lambda: ExplainView(ctrl, ui))


@solara.component
def Page():
    """The page: one classroom session behind a last error boundary (no traceback reaches the browser)."""
    exception, clear = solara.use_exception()
    message = solara.use_ref("")
    if exception is not None:
        if not message.current:
            message.current = str(exception) if isinstance(exception, LabError) else log_internal(exception, "opening the page")
        solara.Title(TITLE)
        with solara.Column(style={"padding": "24px", "max-width": "800px"}):
            solara.Error(message.current, classes=["page-error"])

            def again():
                message.current = ""
                clear()

            solara.Button("Open the page again", color="primary", on_click=again)
        return
    Session()


@solara.component
def Session():
    """One classroom session (its own controller and models), or with ``lifecycle app --class`` the class page."""
    from lifecycle.app.classroom import class_session

    session = solara.use_memo(class_session, [])
    if session is not None:
        from lifecycle.app.class_page import ClassPage

        ClassPage(session)
        return
    Classroom()


@solara.component
def Classroom():
    """One classroom session: its own controller and models."""
    ctrl = solara.use_memo(start_controller, [])
    ui = solara.use_reactive(0)
    router = solara.use_router()
    projector = solara.use_reactive("projector=1" in (router.search or "").split("&"))
    _ = ui.value  # re-render the layout when the scenario or levers change
    solara.Title(TITLE)
    solara.Style(CSS + (PROJECTOR_CSS if projector.value else ""))
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
        solara.Switch(label="Projector", value=projector, classes=["projector-toggle"])
    if not projector.value:
        with solara.Sidebar():
            Sidebar(ctrl, ui)
    with solara.Column(classes=["projector"] if projector.value else [], gap="8px"):
        Main(ctrl, ui, projector.value)


page = Page


def notebook_view(ctrl: Controller | None = None):
    """The controller in Mesa's ``SolaraViz`` (for Jupyter): Mesa's controls drive a :class:`ClassroomModel`."""
    from mesa.visualization import SolaraViz

    from lifecycle.app.controller import ClassroomModel

    ctrl = ctrl or Controller()

    def live(model):
        return LiveView(model.controller)

    return SolaraViz(ClassroomModel(ctrl, reset=False), components=[(live, 0)], model_params={"controller": ctrl},
                     name=TITLE)
