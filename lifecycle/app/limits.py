"""What the classroom page allows: population, run length, speed and how fast a run may grow.

Constants the page and the controller share, the engine choice for a whole run, and the check that
refuses a scenario (or a spend slider) whose channels would bring more customers a day than the
page can play live. :class:`LeverError` is the error of a refused value.
"""

from __future__ import annotations

from scenarios.errors import ConfigError
from sim.acquisition import expected_customers
from sim.model import AGENT_ENGINE_LIMIT

__all__ = [
    "DEFAULT_CUSTOMERS", "MIN_CUSTOMERS", "MAX_CUSTOMERS", "MAX_DAYS", "DOT_VIEW_LIMIT", "MAX_DAILY_ARRIVALS",
    "SPEEDS", "DEFAULT_SPEED", "LeverError", "clamp_customers", "expected_arrivals", "choose_engine",
    "check_arrivals",
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
#: speed levels 1..9: (pause between updates in ms, days simulated per update)
SPEEDS: tuple[tuple[int, int], ...] = (
    (1000, 1), (500, 1), (250, 1), (100, 1), (50, 1), (50, 2), (50, 5), (50, 10), (50, 30),
)  # fmt: skip
DEFAULT_SPEED = 4


class LeverError(ConfigError):
    """A lever value the policy or scenario does not accept; the message says why."""


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
