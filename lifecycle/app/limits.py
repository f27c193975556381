"""What the classroom page allows: population, run length, speed and how fast a run may grow.

Constants the page and the controller share, the engine choice for a whole run, the check that
refuses a scenario (or a spend slider) whose channels would bring more customers a day than the
page can play live, and :func:`check_run`: every bound of the page plus the command line's memory
estimate (:func:`sim.limits.run_memory_estimate`), checked before a model is built.
:class:`LeverError` is the error of a refused value; its message starts with what was refused
(the slider's label, or the uploaded file).
"""

from __future__ import annotations

from scenarios.errors import ConfigError
from sim.acquisition import expected_customers
from sim.limits import check_memory, run_memory_estimate
from sim.model import AGENT_ENGINE_LIMIT

__all__ = [
    "DEFAULT_CUSTOMERS", "MIN_CUSTOMERS", "MAX_CUSTOMERS", "MAX_DAYS", "DOT_VIEW_LIMIT", "MAX_DAILY_ARRIVALS",
    "SPEEDS", "DEFAULT_SPEED", "LeverError", "clamp_customers", "expected_arrivals", "choose_engine",
    "check_arrivals", "check_customers", "check_run", "CUSTOMERS_LABEL", "SEED_LABEL", "page_days", "longest_time_rule",
]  # fmt: skip

#: initial customers when the page opens (a class can follow about this many dots)
DEFAULT_CUSTOMERS = 1_000
MIN_CUSTOMERS = 10
#: the most initial customers the page offers (it stays interactive on a laptop)
MAX_CUSTOMERS = 20_000
#: longest run the page plays (a scenario asking for more is cut here)
MAX_DAYS = 3_650
#: up to this many customers the page draws one dot per customer; above it, aggregate views
DOT_VIEW_LIMIT = 3_000
#: most customers a day the channels may be expected to bring (a run must stay small enough to play live)
MAX_DAILY_ARRIVALS = 2_000
#: what the page calls the population and the seed (refusals name them)
CUSTOMERS_LABEL = "Customers at start"
SEED_LABEL = "Seed"
#: speed levels 1..9: (pause between updates in ms, days simulated per update)
SPEEDS: tuple[tuple[int, int], ...] = (
    (1000, 1), (500, 1), (250, 1), (100, 1), (50, 1), (50, 2), (50, 5), (50, 10), (50, 30),
)  # fmt: skip
DEFAULT_SPEED = 4


class LeverError(ConfigError):
    """A lever value the policy or scenario does not accept; the message says why."""


def longest_time_rule(scenario):
    """The time rule with the largest ``after_days`` (a transition config), or None if there is none."""
    rules = [t for t in scenario.config.transitions if t.rule == "time"]
    return max(rules, key=lambda t: t.after_days) if rules else None


def page_days(scenario) -> int:
    """How many days the page plays: the file's run, but at least twice its longest time rule (and at most MAX_DAYS).

    A stage reached only by a time rule (``value_add``: a customer for over a year) would stay
    empty in a run no longer than the rule, and the class would see a stage that never fills;
    twice the rule shows customers arriving in it and staying there as long again.
    """
    days = int(scenario.config.run.days)
    rule = longest_time_rule(scenario)
    if rule is not None:
        days = max(days, 2 * int(rule.after_days))
    return min(MAX_DAYS, days)


def clamp_customers(n: int) -> int:
    """``n`` within MIN_CUSTOMERS..MAX_CUSTOMERS."""
    return int(min(MAX_CUSTOMERS, max(MIN_CUSTOMERS, int(n))))


def expected_arrivals(scenario) -> float:
    """Customers a day the scenario's channels are expected to bring at their daily spend."""
    return float(sum(expected_customers(c.daily_spend, c.saturation, c.cac) for c in scenario.config.channels))


def choose_engine(customers: int, days: int, arrivals_per_day: float) -> str:
    """The per-agent engine only if the whole run stays small; the vectorised one otherwise.

    Unlike the model's own "auto" (which looks at the initial population only), this counts the
    customers the channels will add, so a run does not slow down as it grows.
    """
    expected = customers + days * arrivals_per_day
    return "agent" if expected <= AGENT_ENGINE_LIMIT else "vector"


def check_arrivals(scenario, where: str) -> None:
    """Raise LeverError if the channels would bring more than MAX_DAILY_ARRIVALS customers a day."""
    n = expected_arrivals(scenario)
    if n > MAX_DAILY_ARRIVALS:
        raise LeverError(f"{where}: the channels would bring about {n:,.0f} customers a day; the classroom app "
                         f"plays at most {MAX_DAILY_ARRIVALS:,} a day (lower the daily spend)")


def check_customers(n, where: str = CUSTOMERS_LABEL) -> int:
    """``n`` as a whole number of initial customers; LeverError naming ``where`` outside MIN..MAX_CUSTOMERS."""
    try:
        if isinstance(n, bool) or (isinstance(n, float) and not n.is_integer()):
            raise ValueError
        value = int(n)
    except (TypeError, ValueError, OverflowError):
        raise LeverError(f"{where}: a whole number of customers is needed; got {str(n)[:40]!r}") from None
    if not MIN_CUSTOMERS <= value <= MAX_CUSTOMERS:
        raise LeverError(f"{where}: {value:,} customers is outside what the classroom app plays "
                         f"({MIN_CUSTOMERS:,} to {MAX_CUSTOMERS:,})")
    return value


def check_run(scenario, *, customers: int, days: int, where: str, models: int = 1) -> None:
    """Refuse, before any model is built, a run the page cannot play; LeverError naming ``where``.

    The page's own bounds (initial customers, run length, customers a day the channels bring)
    and then the command line's memory estimate for ``models`` runs side by side (two while
    comparing), against the same limit (``LIFECYCLE_MAX_MEMORY``, or half of this machine's memory).
    """
    check_customers(customers, where)
    if not 1 <= int(days) <= MAX_DAYS:
        raise LeverError(f"{where}: a run of {int(days):,} days; the classroom app plays 1 to {MAX_DAYS:,} days")
    check_arrivals(scenario, where)
    per_day = expected_arrivals(scenario)
    estimate = run_memory_estimate(initial_customers=customers * models, expected_arrivals_per_day=per_day * models,
                                   days=int(days), stages=len(scenario.config.stages))
    runs = "a run" if models == 1 else f"{models} runs side by side"
    try:
        check_memory(estimate, f"{runs} of {customers:,} customers over {int(days):,} days")
    except ConfigError as exc:
        raise LeverError(f"{where}: {exc}") from None
