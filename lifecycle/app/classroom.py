"""Class play: students join with a code, spend a budget over the levers the trainer unlocks, and compete.

Core object: :class:`ClassSession`, one per page process started with ``lifecycle app --class``
(:func:`class_session` builds it from the environment the server sets). No UI code here.

- Everyone plays the same scenario, population, run length and seed, so every student has the
  same customers and the same luck: only the levers differ.
- :meth:`ClassSession.join` needs the join code and a name; it returns the student's own token,
  which every later call must give: a student changes only its own levers
  (:meth:`ClassSession.set_lever` refuses another student's token, a lever the trainer has not
  unlocked, and a plan whose channel spend exceeds the budget).
- :meth:`ClassSession.run` simulates a student's plan with :func:`analysis.runs.run`, exactly
  what ``lifecycle run`` does with the same settings and seed; the leaderboard shows its profit
  (net contribution) and LTV/CAC with their standard errors (what another draw of customers
  could change).
- :meth:`ClassSession.reveal` (trainer only) adds the twin-world truth: each plan against the
  scenario's own setting on the very same customers (same seed, common random numbers), i.e.
  what the plan itself changed, without sampling noise.
- Caps: at most ``max_students`` students, at most :data:`MAX_RUNS` runs each, one simulation at a
  time for the whole class (a lock), runs no bigger than the page's limits.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass, field

from lifecycle.app.limits import LeverError, check_run
from lifecycle.app.settings import Setting
from lifecycle.app.sources import load_preset

__all__ = ["ClassSession", "ClassError", "class_session", "CODE_ENV", "TRAINER_ENV", "BUDGET_ENV", "MAX_RUNS",
           "make_code"]

CODE_ENV = "LIFECYCLE_APP_CLASS_CODE"
TRAINER_ENV = "LIFECYCLE_APP_TRAINER_TOKEN"
BUDGET_ENV = "LIFECYCLE_APP_CLASS_BUDGET"
#: runs a student may ask for in one class
MAX_RUNS = 20
MAX_NAME = 40
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed from a projector


class ClassError(LeverError):
    """A refused class action (wrong code, a name taken, someone else's levers, over budget); says why."""


def make_code(length: int = 6) -> str:
    """A join code easy to read from a projector."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass
class Student:
    """One student's plan and its last result."""

    name: str
    token: str
    setting: Setting
    values: dict = field(default_factory=dict)
    runs: int = 0
    result: dict | None = None


class ClassSession:
    """One class: the shared scenario and seed, the unlocked levers, the budget and the students."""

    def __init__(self, scenario: str = "retail_tiers", *, code: str | None = None, trainer_token: str | None = None,
                 customers: int = 1_000, days: int = 180, seed: int | None = None, budget: float | None = None,
                 max_students: int = 30) -> None:
        self.scenario = load_preset(scenario) if isinstance(scenario, str) else scenario
        self.code = code or make_code()
        self.trainer_token = trainer_token or secrets.token_urlsafe(12)
        self.customers, self.days = int(customers), int(days)
        self.seed = int(self.scenario.config.run.seed if seed is None else seed)
        check_run(self.scenario, customers=self.customers, days=self.days, where="the class")
        self.base = Setting.from_scenario(self.scenario)
        spend = sum(c.daily_spend for c in self.scenario.config.channels)
        #: most a student may spend a day over all channels together
        self.budget = float(spend if budget is None else budget)
        self.max_students = int(max_students)
        self.unlocked: list[str] = [lv.id for lv in self.base.levers() if lv.kind == "channel"]
        self.students: dict[str, Student] = {}
        self.revealed: dict[str, float] | None = None
        self._lock = threading.RLock()
        self._compute = threading.Lock()

    # --- trainer ------------------------------------------------------------------------------

    def is_trainer(self, token: str | None) -> bool:
        """Whether ``token`` is the trainer's."""
        return bool(token) and secrets.compare_digest(str(token), self.trainer_token)

    def _trainer(self, token) -> None:
        if not self.is_trainer(token):
            raise ClassError("only the trainer can do this")

    def levers(self) -> list:
        """Every lever of the scenario (the trainer picks which to unlock)."""
        return self.base.levers()

    def unlock(self, token: str, lever_ids) -> None:
        """The levers students may move (trainer only); unknown ids are refused."""
        self._trainer(token)
        known = {lv.id for lv in self.base.levers()}
        ids = [str(i) for i in lever_ids]
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ClassError(f"no such lever: {', '.join(unknown)}")
        with self._lock:
            self.unlocked = ids

    def reveal(self, token: str) -> dict[str, float]:
        """Trainer only: each student's plan against the scenario's own setting on the same customers (profit)."""
        self._trainer(token)
        base = self._simulate(self.base)["net_contribution"]
        with self._lock:
            self.revealed = {name: s.result["net_contribution"] - base for name, s in self.students.items() if s.result}
            self.revealed_base = base
            return dict(self.revealed)

    # --- students -----------------------------------------------------------------------------

    def join(self, code: str | None, name: str | None) -> str:
        """A student joins with the class code and a name; returns its token (ClassError if refused)."""
        if not code or not secrets.compare_digest(str(code).strip().upper(), self.code):
            raise ClassError("wrong class code: ask the trainer for the code on the screen")
        name = " ".join(str(name or "").split())
        if not name or len(name) > MAX_NAME or not all(ch.isprintable() for ch in name):
            raise ClassError(f"a name of 1 to {MAX_NAME} characters is needed")
        with self._lock:
            if name.casefold() in (n.casefold() for n in self.students):
                raise ClassError(f"the name '{name}' is taken: choose another")
            if len(self.students) >= self.max_students:
                raise ClassError(f"the class is full ({self.max_students} students)")
            token = secrets.token_urlsafe(16)
            self.students[name] = Student(name=name, token=token, setting=self.base)
            return token

    def student(self, token: str | None) -> Student:
        """The student whose token this is (ClassError otherwise)."""
        with self._lock:
            for s in self.students.values():
                if token and secrets.compare_digest(s.token, str(token)):
                    return s
        raise ClassError("not a student of this class: join with the code and a name")

    def unlocked_levers(self, token: str) -> list:
        """The unlocked levers with this student's values."""
        s = self.student(token)
        return [lv for lv in s.setting.levers() if lv.id in self.unlocked]

    def spend(self, setting: Setting) -> float:
        """Daily spend over all channels of ``setting``."""
        return float(sum(setting.channel_spend.values()))

    def set_lever(self, token: str, lever_id: str, value) -> None:
        """Move one of this student's unlocked levers; refused beyond the budget or for a locked lever."""
        s = self.student(token)
        with self._lock:
            if lever_id not in self.unlocked:
                raise ClassError(f"the lever '{lever_id}' is not unlocked for this class")
            lever = next(lv for lv in s.setting.levers() if lv.id == lever_id)
            new = s.setting.with_value(*lever.key, value)
            if self.spend(new) > self.budget + 1e-9:
                raise ClassError(f"{lever.label}: the channels would spend {self.spend(new):,.0f} a day; the class "
                                 f"budget is {self.budget:,.0f}")
            check_run(new.scenario, customers=self.customers, days=self.days, where=lever.label)
            s.setting = new
            s.values[lever_id] = value

    def run(self, token: str) -> dict:
        """Simulate this student's plan (as ``lifecycle run`` would, same seed); the leaderboard shows it."""
        s = self.student(token)
        with self._lock:
            if s.runs >= MAX_RUNS:
                raise ClassError(f"{MAX_RUNS} runs is the most a student may ask for in one class")
            s.runs += 1
            setting = s.setting
        result = self._simulate(setting)
        with self._lock:
            s.result = result
        return result

    def _simulate(self, setting: Setting) -> dict:
        from analysis.runs import run

        with self._compute:  # one simulation at a time for the whole class
            report = run(setting.scenario, customers=self.customers, days=self.days, seed=self.seed,
                         counterfactual=False)
        summary = report.summary()
        m, u = summary["metrics"], summary["uncertainty"]
        c = report.customers
        each = (c["margin"] - c["policy_cost"] - c["acquisition_cost"]).to_numpy()
        # the profit is a total over customers: its standard error, customers taken as independent draws
        profit_se = float(each.std(ddof=1) * each.size**0.5) if each.size > 1 else None
        return {"net_contribution": m["net_contribution"], "net_contribution_se": profit_se,
                "ltv_cac": m["ltv_cac"], "ltv_cac_se": (u.get("ltv_cac") or {}).get("se"), "summary": summary}

    def leaderboard(self) -> list[dict]:
        """One row per student who has run a plan, the most profitable first."""
        with self._lock:
            rows = [{"name": s.name, "profit": s.result["net_contribution"], "profit_se": s.result["net_contribution_se"],
                     "ltv_cac": s.result["ltv_cac"], "ltv_cac_se": s.result["ltv_cac_se"], "runs": s.runs,
                     "spend": self.spend(s.setting),
                     "truth": None if self.revealed is None else self.revealed.get(s.name)}
                    for s in self.students.values() if s.result]  # fmt: skip
        return sorted(rows, key=lambda r: -(r["profit"] if r["profit"] is not None else float("-inf")))


_session: ClassSession | None = None
_session_lock = threading.Lock()


def class_session() -> ClassSession | None:
    """The page process's class (``lifecycle app --class``), from the environment; None without one."""
    global _session
    code = os.environ.get(CODE_ENV)
    if not code:
        return None
    with _session_lock:
        if _session is None:
            from lifecycle.app.launch import _open, start_scenario
            from scenarios.loader import DEFAULT_PRESET

            budget = os.environ.get(BUDGET_ENV)
            scenario, _ = _open(start_scenario() or DEFAULT_PRESET)
            _session = ClassSession(scenario, code=code, trainer_token=os.environ.get(TRAINER_ENV),
                                    budget=float(budget) if budget else None)
        return _session
