"""Tests for scenarios/loader.py: every bad scenario file gives one ConfigError a person can act on.

Each bad file is the default preset's text with one deliberate mistake (see :data:`BAD_SCENARIOS`).
The message must name the file, the field (or stage, policy) at fault and what is allowed there.
``tests/lifecycle/cli/test_cli.py`` reuses the same cases through the command line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import pytest

from scenarios.loader import DEFAULT_PRESET, MAX_SCENARIO_BYTES

from sim.scenario import load_scenario, parse_scenario
from scenarios.errors import ConfigError


def preset_text(name: str = DEFAULT_PRESET) -> str:
    """The text of a shipped preset, read the way the loader finds it."""
    return (resources.files("scenarios") / "presets" / f"{name}.toml").read_text(encoding="utf-8")


def edit(old: str, new: str) -> Callable[[str], str]:
    """A text edit replacing the first ``old`` (which must be present) by ``new``."""

    def apply(text: str) -> str:
        if old not in text:
            raise AssertionError(f"the default preset no longer contains {old!r}; update the test case")
        return text.replace(old, new, 1)

    return apply


def append(extra: str) -> Callable[[str], str]:
    """A text edit adding ``extra`` at the end of the file."""
    return lambda text: text + "\n" + extra


@dataclass(frozen=True)
class BadCase:
    """One mistake: how to make it from the good text, and what the message must say (in order)."""

    make: Callable[[str], str]
    says: tuple[str, ...]  # fragments (regular expressions) that must appear, in this order

    def write(self, folder: Path, name: str) -> Path:
        """Write the bad file into ``folder`` and return its path."""
        path = folder / f"{name}.toml"
        path.write_text(self.make(preset_text()), encoding="utf-8")
        return path

    def pattern(self, path: Path) -> str:
        """The regular expression the message must match: the file name, then the fragments."""
        return "(?s)" + ".*".join([re.escape(path.name), *self.says])


def _extra_transition(rule_fields: str, frm: str = "light_warning", to: str = "churned") -> str:
    return f'[[transitions]]\nfrom = "{frm}"\nto = "{to}"\n{rule_fields}\n'


#: name -> the mistake and what the message says about it. Shared with tests/lifecycle/cli/test_cli.py.
BAD_SCENARIOS: dict[str, BadCase] = {
    "unknown_stage_in_transition": BadCase(
        edit('to = "activation"\nrule = "event"', 'to = "activaton"\nrule = "event"'),
        (r"transitions\[0\]\.to", "unknown stage 'activaton'", "the stages are 'potential', 'activation'"),
    ),
    "unknown_stage_in_population": BadCase(
        edit('initial_stage = "potential"', 'initial_stage = "prospective"'),
        (r"population\.initial_stage", "unknown stage 'prospective'", "the stages are 'potential'"),
    ),
    "probability_above_one": BadCase(
        append(_extra_transition('rule = "probability"\ndaily_probability = 1.5')),
        (r"transitions\[15\]\.daily_probability", "less than or equal to 1", r"got 1\.5"),
    ),
    "probability_below_zero": BadCase(
        append(_extra_transition('rule = "probability"\ndaily_probability = -0.1')),
        (r"transitions\[15\]\.daily_probability", "greater than or equal to 0", r"got -0\.1"),
    ),
    "churn_hazard_above_one": BadCase(
        edit('churn_hazard = { distribution = "beta", a = 2.0, b = 998.0 }',
             'churn_hazard = { distribution = "constant", value = 1.2 }'),
        ("churn_hazard", r"a probability must be in \[0, 1\]", r"got 1\.2"),
    ),
    "referral_rate_above_one": BadCase(
        edit("daily_rate = 0.002", "daily_rate = 1.5"),
        (r"policies\[4\]", "referral 'referral'", "daily_rate", "less than or equal to 1", r"got 1\.5"),
    ),
    "negative_channel_cac": BadCase(
        edit("cac = 60.0", "cac = -60.0"),
        (r"channels\[0\]\.cac", "greater than 0", r"got -60\.0"),
    ),
    "negative_channel_spend": BadCase(
        edit("daily_spend = 600.0", "daily_spend = -600.0"),
        (r"channels\[0\]\.daily_spend", "greater than or equal to 0", r"got -600\.0"),
    ),
    "negative_coupon_send_cost": BadCase(
        edit("purchase_lift = 1.5, send_cost = 0.05 }", "purchase_lift = 1.5, send_cost = -0.05 }"),
        (r"policies\[1\]", "coupon 'repurchase_coupon'", r"offer\.send_cost", "greater than or equal to 0",
         r"got -0\.05"),
    ),
    "negative_coupon_discount": BadCase(
        edit("offer = { discount = 20.0,", "offer = { discount = -20.0,"),
        (r"policies\[1\]", r"offer\.discount", "greater than or equal to 0", r"got -20\.0"),
    ),
    "unknown_policy_type": BadCase(
        edit('type = "coupon"', 'type = "coupons"'),
        (r"policies\[1\]\.type", "unknown policy type 'coupons'", "allowed types: .*coupon, .*winback"),
    ),
    "policy_without_type": BadCase(
        edit('type = "coupon"\n', ""),
        (r"policies\[1\]", "missing field 'type'", "allowed types: .*coupon"),
    ),
    "misspelt_top_level_field": BadCase(
        edit("\ndescription = ", "\ndescripton = "),
        ("unknown field 'descripton'", "allowed here: name, description, run, stages"),
    ),
    "misspelt_top_level_table": BadCase(
        edit("[population]", "[populaton]"),
        ("unknown field 'populaton'", "allowed here: .*population"),
    ),
    "misspelt_nested_field": BadCase(
        edit("purchase_rate = {", "purchse_rate = {"),
        (r"unknown field 'customers\.purchse_rate'", "allowed here: purchase_rate, basket_value"),
    ),
    "misspelt_field_in_a_list_of_tables": BadCase(
        edit("saturation = 20.0", "saturaton = 20.0"),
        (r"unknown field 'channels\[0\]\.saturaton'", "allowed here: name, daily_spend, cac, saturation"),
    ),
    "misspelt_policy_parameter": BadCase(
        edit("send_after_days = 5", "send_after_day = 5"),
        (r"policies\[1\]", "unknown field 'send_after_day'", "allowed here: .*send_after_days"),
    ),
    "string_for_a_number": BadCase(
        edit("initial_customers = 10000", 'initial_customers = "many"'),
        (r"population\.initial_customers", "valid integer", "got 'many'"),
    ),
    "string_for_a_money_amount": BadCase(
        edit("cac = 60.0", 'cac = "sixty"'),
        (r"channels\[0\]\.cac", "valid number", "got 'sixty'"),
    ),
    "empty_file": BadCase(
        lambda text: "",
        ("the file is empty", r"needs at least \[\[stages\]\], \[customers\] and \[population\]"),
    ),
    "whitespace_only_file": BadCase(
        lambda text: "\n   \n\t\n",
        ("the file is empty",),
    ),
    "not_toml": BadCase(
        lambda text: "stages: [potential, activation]\nthis is yaml, not toml\n",
        ("not valid TOML", "line 1"),
    ),
    "broken_toml_inside_a_good_file": BadCase(
        edit("gross_margin = 0.35", "gross_margin = 0.35 0.4"),
        ("not valid TOML", r"line \d+"),
    ),
    "time_rule_without_after_days": BadCase(
        edit("after_days = 30\n", ""),
        (r"transitions\[1\]", "rule 'time' needs field 'after_days'"),
    ),
    "event_rule_without_min_purchases": BadCase(
        edit("min_purchases = 1             # the first purchase activates\n", ""),
        (r"transitions\[0\]", "rule 'event' needs field 'min_purchases'"),
    ),
    "field_that_does_not_apply_to_the_rule": BadCase(
        append(_extra_transition('rule = "churn"\nafter_days = 10')),
        (r"transitions\[15\]", "field 'after_days' does not apply to rule 'churn'"),
    ),
    "probabilities_from_one_stage_sum_over_one": BadCase(
        append(
            _extra_transition('rule = "probability"\ndaily_probability = 0.6', to="retention")
            + "\n"
            + _extra_transition('rule = "probability"\ndaily_probability = 0.5', to="churn_warning")
        ),
        ("daily probability rules leaving stage 'light_warning'", r"add up to 1\.1", "at most 1"),
    ),
    "policy_targets_unknown_tier": BadCase(
        edit('target = { stages = ["retention", "value_add"] }', 'target = { tiers = ["gold"] }'),
        ("policy 'referral'", r"target\.tiers", "unknown name 'gold'", "known: 'high', 'mid', 'basic', 'prospect'"),
    ),
    "winback_rich_tier_unknown": BadCase(
        edit('rich_tiers = ["high", "mid"]', 'rich_tiers = ["high", "gold"]'),
        ("policy 'winback'", "rich_tiers", "unknown tier 'gold'", "known: 'high', 'mid'"),
    ),
    "loyalty_benefit_for_unknown_tier": BadCase(
        edit("benefits.mid = {", "benefits.gold = {"),
        ("policy 'loyalty'", "benefits", "unknown tier 'gold'", "known: 'high', 'mid'"),
    ),
    "policy_targets_unknown_stage": BadCase(
        edit('target = { stages = ["retention", "value_add"] }', 'target = { stages = ["retention", "vip"] }'),
        ("policy 'referral'", r"target\.stages", "unknown name 'vip'", "known: 'potential'"),
    ),
    "oversized_file": BadCase(
        lambda text: text + "\n# padding\n" + ("# " + "x" * 98 + "\n") * (MAX_SCENARIO_BYTES // 100 + 10),
        (r"\d+ bytes", f"the limit is {MAX_SCENARIO_BYTES} bytes"),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_file_gives_one_clear_config_error(case, tmp_path):
    """Each bad file raises one single-line ConfigError naming the file, the field and what is allowed."""
    bad = BAD_SCENARIOS[case]
    path = bad.write(tmp_path, case)
    with pytest.raises(ConfigError, match=bad.pattern(path)) as excinfo:
        load_scenario(path)
    message = str(excinfo.value)
    assert message.startswith(f"scenario file '{path}'")
    assert "\n" not in message, "the message must be one paragraph"
    assert "Traceback" not in message and "pydantic" not in message.lower()


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_text_names_the_given_source(case):
    """parse_scenario (text, e.g. an upload) reports the same problem under the source name given."""
    bad = BAD_SCENARIOS[case]
    source = "upload 'mine.toml'"
    with pytest.raises(ConfigError) as excinfo:
        parse_scenario(bad.make(preset_text()), source=source)
    message = str(excinfo.value)
    assert message.startswith(source + ": ")
    for fragment in bad.says:
        assert re.search(fragment, message), (fragment, message)


def test_unmodified_copy_of_the_default_preset_loads(tmp_path):
    """The good text the bad cases are made from loads from a file path (so each case has one mistake)."""
    path = tmp_path / "copy.toml"
    path.write_text(preset_text(), encoding="utf-8")
    sc = load_scenario(path)
    assert sc.name == DEFAULT_PRESET
    assert sc.source == f"scenario file '{path}'"
    assert len(sc.policies) == len(sc.config.policies) > 0


def test_misspelt_field_is_named_rather_than_the_missing_one(tmp_path):
    """A misspelt required field is reported by its misspelt name, not only as 'missing'."""
    path = BAD_SCENARIOS["misspelt_nested_field"].write(tmp_path, "typo")
    with pytest.raises(ConfigError) as excinfo:
        load_scenario(path)
    message = str(excinfo.value)
    assert "purchse_rate" in message
    assert "(and 1 more problem)" in message  # the missing purchase_rate is counted, not listed


def test_missing_file_lists_the_presets(tmp_path):
    """A path that does not exist names it and lists the presets one could use instead."""
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=rf"(?s){re.escape(str(missing))}.*no such preset or file.*retail_tiers"):
        load_scenario(missing)


def test_unknown_preset_name_lists_the_presets():
    """An unknown preset name is an error listing the shipped presets."""
    with pytest.raises(ConfigError, match=r"'retail_tier': no such preset or file \(presets: .*retail_tiers"):
        load_scenario("retail_tier")


def test_not_utf8_file(tmp_path):
    """A file that is not UTF-8 text is named, with the offending byte position."""
    path = tmp_path / "latin1.toml"
    path.write_bytes(preset_text().replace("potential", "potenti\u00e9l", 1).encode("latin-1"))
    with pytest.raises(ConfigError, match=rf"{re.escape(path.name)}.*not UTF-8 text \(byte \d+\)"):
        load_scenario(path)


def test_folder_is_not_a_scenario(tmp_path):
    """A folder given as the scenario is refused as 'not a file'."""
    with pytest.raises(ConfigError, match="not a file"):
        load_scenario(tmp_path)


def test_file_at_the_size_limit_is_accepted(tmp_path):
    """A scenario padded to exactly the size limit still loads (the limit is inclusive)."""
    text = preset_text() + "\n#"
    text += "x" * (MAX_SCENARIO_BYTES - len(text.encode("utf-8")) - 1) + "\n"
    path = tmp_path / "full.toml"
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size == MAX_SCENARIO_BYTES
    assert load_scenario(path).name == DEFAULT_PRESET

