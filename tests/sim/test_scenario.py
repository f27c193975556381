"""Tests for sim/scenario.py: the runnable scenario, changed only through new validated copies."""

from __future__ import annotations

import pytest

from sim.scenario import load_scenario



def test_with_values_returns_a_new_validated_scenario_and_leaves_the_old_one():
    """Dotted paths into channels, population and policies; a bad value names the path; the original is unchanged."""
    from scenarios.errors import ConfigError

    sc = load_scenario()
    new = sc.with_values({"channels.search.daily_spend": 500, "policies.winback.light_offer.discount": 30,
                          "population.initial_customers": 1234})
    assert new.config.channels[0].daily_spend == 500.0 and new.policy("winback").params.light_offer.discount == 30
    assert new.config.population.initial_customers == 1234
    assert sc.config.population.initial_customers != 1234 and sc.policy("winback").params.light_offer.discount != 30
    with pytest.raises(ConfigError, match="channels.nope.daily_spend': no item named 'nope'"):
        sc.with_values({"channels.nope.daily_spend": 1})
    with pytest.raises(ConfigError, match="policies.winback: .*light_offer.discount"):
        sc.with_values({"policies.winback.light_offer.discount": -5})
    with pytest.raises(ConfigError, match="no policy named 'nope'"):
        sc.with_values({"policies.nope.coverage": 0.5})


def test_with_policies_checks_names_against_the_config_but_not_the_files_designs():
    """A policy targeting an unknown tier is refused; an [experiment] naming a dropped policy is checked when used."""
    from scenarios.errors import ConfigError
    from sim.policies import Coupon

    sc = load_scenario()
    with pytest.raises(ConfigError, match="target.tiers: unknown name 'gold'"):
        sc.with_policies([Coupon(name="c", target={"tiers": ["gold"]})])
    with_design = sc.with_values({"experiment": {"arms": [{"name": "c", "share": 0.5},
                                                          {"name": "t", "policies": ["winback"], "share": 0.5}]}})
    assert with_design.with_policies([]).policies == ()
