"""A policy with a bug on purpose, for the page's error handling: ``lifecycle app --plugin exploding.py``.

On the day ``explode_on_day`` its ``apply`` raises a RuntimeError whose message holds this file's
path, as an unexpected exception from deep inside a run would. The page must show "internal
error ... this is a bug" without that text or path, log the traceback on the server, and go on.
Used by tests/lifecycle/app/test_browser.py.
"""

from __future__ import annotations

from pydantic import Field

from sim.policies import Policy, PolicyParams, register


@register
class ExplodingPolicy(Policy):
    """Does nothing, except fail on one day."""

    kind = "exploding"

    class Params(PolicyParams):
        explode_on_day: int = Field(3, ge=0, le=36_500, title="Explode on day")

    def apply(self, day) -> None:
        if day.t == self.params.explode_on_day:
            raise RuntimeError(f"boom on day {day.t} in {__file__}")
