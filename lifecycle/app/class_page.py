"""The class-play page (``lifecycle app --class``): the trainer's screen and each student's.

The page process's :class:`~lifecycle.app.classroom.ClassSession` holds everything; this module
only draws it. The address says who is who: ``?code=...&name=...`` (the join form fills it in)
is a student, who joins once per tab and then holds its own token in this tab only;
``?code=...&trainer=...`` (printed when the app starts) is the trainer. The HTTP guard has
already refused any request without the class code (:class:`lifecycle.app.guard.HostOriginGuard`).
"""

from __future__ import annotations

import functools
import html
import threading
from urllib.parse import parse_qs

import solara
from mesa.visualization.solara_viz import UserInputs

from lifecycle.app import charts as C
from lifecycle.app.classroom import ClassError, ClassSession
from lifecycle.app.controller import log_internal
from scenarios.errors import LabError

__all__ = ["ClassPage", "leaderboard_table"]


def _params(search: str | None) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(search or "").items() if v}


def _safely(message: solara.Reactive, action: str, fn):
    @functools.wraps(fn)
    def callback(*args, **kwargs):
        try:
            message.set("")
            return fn(*args, **kwargs)
        except LabError as exc:
            message.set(str(exc))
        except Exception as exc:  # a bug: logged with its traceback, a message without details on the page
            message.set(log_internal(exc, action))
        return None

    return callback


def _pm(value, se, kind) -> str:
    text = C.fmt(value, kind)
    return text if se is None else f"{text} ± {C.fmt(se, kind)}"


def leaderboard_table(rows: list[dict], revealed: bool) -> str:
    """The leaderboard as an HTML table; each row carries its exact values as data attributes."""
    head = ("<tr><th>#</th><th>student</th><th>profit ± s.e.</th><th>LTV/CAC ± s.e.</th><th>spend a day</th>"
            + ("<th>truth: profit vs the scenario's own plan, same customers</th>" if revealed else "") + "</tr>")
    body = []
    for k, r in enumerate(rows, 1):
        truth = f"<td>{C.fmt(r['truth'], 'money')}</td>" if revealed else ""
        body.append(f"<tr data-name='{html.escape(r['name'], quote=True)}' data-profit='{r['profit']!r}' "
                    f"data-ltv-cac='{r['ltv_cac']!r}' data-truth='{r['truth']!r}'><td>{k}</td>"
                    f"<td>{html.escape(r['name'])}</td><td>{_pm(r['profit'], r['profit_se'], 'money')}</td>"
                    f"<td>{_pm(r['ltv_cac'], r['ltv_cac_se'], 'ratio')}</td><td>{C.fmt(r['spend'], 'money')}</td>"
                    f"{truth}</tr>")
    if not body:
        body.append("<tr><td colspan='6'>No plan has been run yet.</td></tr>")
    style = ("<style>[data-table=leaderboard] td, [data-table=leaderboard] th {padding:4px 16px 4px 0;"
             "text-align:left;border-bottom:1px solid #ccc}</style>")
    return (f"{style}<table data-table='leaderboard' style='border-collapse:collapse;font-size:20px;width:100%'>"
            f"{head}{''.join(body)}</table>")


def _use_ticks(seconds: float = 1.0) -> int:
    """Re-render every ``seconds`` (the leaderboard is live)."""
    tick, set_tick = solara.use_state(0)

    def loop(cancel: threading.Event):
        k = 0
        while not cancel.wait(seconds):
            k += 1
            set_tick(k)

    solara.use_thread(loop, [], intrusive_cancel=False)
    return tick


@solara.component
def Leaderboard(session: ClassSession):
    _use_ticks()
    with solara.Card("Leaderboard", margin=0, elevation=1, classes=["leaderboard"]):
        solara.HTML(tag="div", unsafe_innerHTML=leaderboard_table(session.leaderboard(), session.revealed is not None))
        solara.Text(f"Everyone has the same {session.customers:,} customers at the start, the same seed and "
                    f"{session.days} days; ± is one standard error (what another draw of customers could change).",
                    style={"font-size": "16px"})


@solara.component
def TrainerView(session: ClassSession, token: str):
    message = solara.use_reactive("")
    levers = session.levers()
    labels = {f"{lv.group}: {lv.label}": lv.id for lv in levers}
    chosen = [name for name, i in labels.items() if i in session.unlocked]
    unlock = _safely(message, "unlocking levers", lambda names: session.unlock(token, [labels[n] for n in names]))
    reveal = _safely(message, "revealing the truth", lambda: session.reveal(token))
    with solara.Column(gap="12px", style={"padding": "12px"}):
        solara.HTML(tag="div", unsafe_innerHTML=f"<div class='class-code' style='font-size:40px;font-weight:700'>Class "
                                                f"code: {html.escape(session.code)}</div><p style='font-size:20px'>"
                                                f"Students: open this page's address, enter the code and a name. "
                                                f"Budget: {session.budget:,.0f} a day over the channels.</p>")
        if message.value:
            solara.Error(message.value, classes=["class-error"])
        solara.SelectMultiple("Levers the students may move", values=chosen, all_values=list(labels),
                              on_value=unlock, classes=["class-unlock"])
        solara.Button("Reveal the twin-world truth", color="primary", on_click=reveal, classes=["class-reveal"])
        Leaderboard(session)


@solara.component
def StudentView(session: ClassSession, token: str):
    message = solara.use_reactive("")
    version, set_version = solara.use_state(0)
    student = session.student(token)
    levers = session.unlocked_levers(token)

    def move(lever_id, value):
        session.set_lever(token, lever_id, value)
        set_version(version + 1)

    def run_plan():
        session.run(token)
        set_version(version + 1)

    spend = session.spend(student.setting)
    with solara.Column(gap="12px", style={"padding": "12px", "max-width": "900px"}):
        solara.HTML(tag="div", unsafe_innerHTML=f"<h2 class='student-name'>{html.escape(student.name)}</h2>"
                    f"<p class='student-budget' style='font-size:18px'>Spending {spend:,.0f} a day of a budget of "
                    f"{session.budget:,.0f}.</p>")
        if message.value:
            solara.Error(message.value, classes=["class-error"])
        with solara.Card("My plan", margin=0, elevation=1).key(f"plan-{version}-{len(levers)}"):
            spec = {lv.id: {**lv.user_param(), "label": f"{lv.group}: {lv.label}: {lv.value:g}"
                            if isinstance(lv.value, (int, float)) else lv.label} for lv in levers}
            if spec:
                UserInputs(spec, on_change=_safely(message, "changing a lever", move))
            else:
                solara.Text("The trainer has not unlocked any lever yet.")
            solara.Button("Run my plan", color="primary", on_click=_safely(message, "running the plan", run_plan),
                          classes=["class-run"])
        if student.result:
            r = student.result
            solara.HTML(tag="div", unsafe_innerHTML=f"<p class='student-result' style='font-size:18px'>My last run: profit "
                        f"{_pm(r['net_contribution'], r['net_contribution_se'], 'money')}, LTV/CAC "
                        f"{_pm(r['ltv_cac'], r['ltv_cac_se'], 'ratio')} ({student.runs} run(s)).</p>")
        Leaderboard(session)


@solara.component
def ClassPage(session: ClassSession):
    """Who opened the page decides what it shows: the trainer, a joining student, or a refusal."""
    router = solara.use_router()
    params = _params(router.search)

    def join():
        if session.is_trainer(params.get("trainer")):
            return ("trainer", params["trainer"])
        try:
            return ("student", session.join(params.get("code"), params.get("name")))
        except ClassError as exc:
            return ("refused", str(exc))

    role, value = solara.use_memo(join, [])
    solara.Title("Lifecycle Lab · class")
    if role == "trainer":
        TrainerView(session, value)
    elif role == "student":
        StudentView(session, value)
    else:
        with solara.Column(style={"padding": "24px"}):
            solara.Error(value, classes=["class-error"])
            solara.HTML(tag="p", unsafe_innerHTML="<a href='/'>Join again</a>")
