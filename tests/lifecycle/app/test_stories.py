"""One customer's story (lifecycle/app/stories.py): its events match the run's own customer table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lifecycle
from lifecycle.app.controller import Controller


@pytest.fixture(scope="module")
def played():
    """The default page played for 200 days."""
    c = Controller("retail_tiers")
    c.step(200)
    return c


def test_every_followed_customers_purchases_match_the_customer_table_of_the_same_seed(played):
    """Purchases and revenue of each followed customer's story equal ``lifecycle.run(...).customers``."""
    c = played
    table = lifecycle.run(c.scenario, customers=c.customers, days=200, seed=c.seed, counterfactual=False).customers
    rows = c.sample.rows(c.model.state.n)
    assert rows.size > 1_000
    for row in rows.tolist():
        story = c.stories.story(row)
        bought = [e for e in story["events"] if e.kind == "purchase"]
        expected = table.loc[table["customer"] == row].iloc[0]
        assert len(bought) == expected["purchases"] == story["purchases"], row
        assert sum(e.amount for e in bought) == pytest.approx(expected["revenue"])
        if bought:
            assert (bought[0].day, bought[-1].day) == (expected["first_purchase"], expected["last_purchase"])
        assert story["ltv"] == pytest.approx(expected["value"]) and story["stage"] is not None


def test_stage_moves_and_redeemed_offers_add_up_to_the_customer_table(played):
    """The last move of a story ends in the customer's stage; redeemed discounts are part of its policy costs."""
    c = played
    names = c.model.graph.names
    moved = redeemed = 0
    for row in c.sample.rows(c.model.state.n).tolist():
        story = c.stories.story(row)
        moves = [e for e in story["events"] if e.kind == "move"]
        if moves:
            moved += 1
            assert moves[-1].text.endswith(f"to '{story['stage']}'")
        costs = sum(e.amount for e in story["events"] if e.kind in ("redeemed", "cost"))
        assert costs == pytest.approx(story["policy_cost"]), row
        redeemed += any(e.kind == "redeemed" for e in story["events"])
        offers = [e for e in story["events"] if e.kind == "offer"]
        assert sum(e.kind == "redeemed" for e in story["events"]) <= len(offers), "a redeemed offer was received"
        assert story["events"][0].kind == "joined"
    assert moved > 100 and redeemed > 10
    assert set(names) >= {story["stage"]}


def test_a_story_is_told_in_words_and_the_run_is_unchanged_by_telling_it():
    """Traits in words; a model with the recorder gives the same days as one without."""
    c = Controller("retail_tiers", customers=300)
    c.step(60)
    row = c.pick(5)
    story = c.story()
    assert row == 5 and story["customer"] == 5 and story["channel"] == "initial base"
    assert any(t.startswith("Buys about once every") for t in story["traits"])
    assert any("chance of leaving" in t for t in story["traits"])
    assert c.pick(c.sample.size - 1) is None and c.followed == 5, "the last newcomer is not there yet: nothing opens"
    plain = lifecycle.run(c.scenario, customers=300, days=60, seed=c.seed, counterfactual=False)
    pd.testing.assert_frame_equal(plain.daily.reset_index(drop=True), c.model.result().daily.reset_index(drop=True),
                                  check_dtype=False)
    c.set_follow(True)
    assert c.follow
    c.reset()
    assert c.followed == 5 and c.story()["day"] == 0, "same seed, same customers: the story starts again"
    c.close_story()
    assert c.followed is None and not c.follow and c.story() is None
    assert np.all(c.sample.rows(c.model.state.n) >= 0)
