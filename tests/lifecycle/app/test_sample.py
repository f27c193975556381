"""The dot view's sample (lifecycle/app/sample.py) and its drawing: fixed customers in fixed places."""

from __future__ import annotations

import numpy as np

from lifecycle import app  # noqa: F401  (the app package imports cleanly)
from lifecycle.app import charts as C
from lifecycle.app.controller import Controller
from lifecycle.app.sample import ARRIVAL_DOTS, BASE_DOTS, DotSample


def test_the_plan_follows_the_first_of_the_base_and_every_kth_newcomer():
    """At most BASE_DOTS of the base; newcomers spaced so the sample fills by the end of the run."""
    s = DotSample.plan(5_000, 13_000)
    assert (s.base, s.every, s.arrivals) == (BASE_DOTS, 13, ARRIVAL_DOTS)
    assert s.rows(5_000).tolist() == list(range(BASE_DOTS))
    rows = s.rows(5_000 + 40)
    assert rows[BASE_DOTS:].tolist() == [5_000, 5_013, 5_026, 5_039]
    small = DotSample.plan(300, 120)
    assert (small.base, small.every, small.arrivals) == (300, 1, 120)
    assert DotSample.plan(50, 0).rows(50).tolist() == list(range(50))
    assert "every 13th newcomer" in s.describe() and "first 2,000 of the 5,000" in s.describe()
    assert "all 300 customers" in small.describe() and "every newcomer" in small.describe()


def test_slots_and_rows_are_each_others_inverse_and_a_later_sample_extends_an_earlier_one():
    """Slot j holds the same customer on every day: the sample at a later day starts with the earlier one."""
    s = DotSample.plan(1_000, 9_000)
    for slot in range(s.size):
        assert s.slot_of(s.row_of(slot)) == slot
    assert s.slot_of(1_001) is None and s.row_of(s.size) is None
    early, late = s.rows(1_200), s.rows(8_000)
    assert late[: early.size].tolist() == early.tolist()
    assert s.rows(10**6).size == s.size


def test_sample_dots_keep_layout_and_colour_each_slot_by_its_customer():
    """The grid is sized for the whole sample from day 0; slot j shows the stage of its customer."""
    names, churned = ["a", "b", "c"], [False, False, True]
    s = DotSample.plan(100, 400)
    rng = np.random.default_rng(1)
    day10 = C.sample_dots(s, rng.integers(0, 3, 150).astype(np.int16), names, churned, day=10)
    day300 = C.sample_dots(s, rng.integers(0, 3, 480).astype(np.int16), names, churned, day=300)
    for key in ("cols", "rows", "cell"):
        assert day10.data[key] == day300.data[key]
    shown10, shown300 = day10.data["rows_shown"], day300.data["rows_shown"]
    assert shown300[: len(shown10)] == shown10 and len(shown300) > len(shown10)
    assert f'data-rows="{",".join(map(str, shown10))}"' in day10.markup
    assert day10.data["population"] == 150 and 'data-population="150"' in day10.markup
    squares = C.aggregate_squares(np.array([0, 1, 1, 2] * 50), names, churned, day=3)
    assert squares.data["squares"] == {"a": 50, "b": 100, "c": 50} and 'data-chart="squares"' in squares.markup


def test_the_controller_follows_the_same_customers_at_day_10_and_day_300():
    """Default preset and population: the dot view's customers at day 10 keep their places at day 300."""
    c = Controller("retail_tiers")
    c.step(10)
    r10 = c.model.result()
    d10 = C.sample_dots(c.sample, r10.customers["stage"], r10.stage_names, r10.churned_stages, day=10)
    c.step(290)
    r300 = c.model.result()
    d300 = C.sample_dots(c.sample, r300.customers["stage"], r300.stage_names, r300.churned_stages, day=300)
    assert r300.n_customers > 3_000, "more customers than the old dot view could show"
    k = len(d10.data["rows_shown"])
    assert d300.data["rows_shown"][:k] == d10.data["rows_shown"]
    assert d300.data["customers"] <= c.sample.size
