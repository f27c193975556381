"""``lifecycle validate`` checks every table of a scenario file, the designs and policies included."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from click.testing import CliRunner

from lifecycle.cli import main

PRESET = (resources.files("scenarios") / "presets" / "retail_tiers.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "extra, edit, message",
    [
        ('\n[experiment]\nwarmup_dayz = 30\n[[experiment.arms]]\nname = "control"\nshare = 0.5\n'
         '[[experiment.arms]]\nname = "coupon"\npolicies = ["repurchase_coupon"]\nshare = 0.5\n',
         None, "unknown field 'experiment.warmup_dayz'"),
        ('\n[experiment]\n[[experiment.arms]]\nname = "control"\nshare = 0.5\n'
         '[[experiment.arms]]\nname = "coupon"\npolicys = ["repurchase_coupon"]\nshare = 0.5\n',
         None, r"unknown field 'experiment.arms\[1\].policys'"),
        ('\n[experiment]\n[[experiment.arms]]\nname = "control"\nshare = 0.5\n'
         '[[experiment.arms]]\nname = "coupon"\npolicies = ["repurchse_coupon"]\nshare = 0.5\n',
         None, r"experiment.arms\[1\].policies: unknown policy 'repurchse_coupon'"),
        ("\n[budget]\ntotl = 2000\n", None, "unknown field 'budget.totl'"),
        ('\n[budget]\n[[budget.levers]]\nname = "search"\nmaximum = 10\n', None,
         r"unknown field 'budget.levers\[0\].maximum'"),
        ('\n[budget]\n[[budget.levers]]\nname = "serch"\n', None, r"budget.levers\[0\].name: unknown lever 'serch'"),
        ("", ("point_value = 0.01", "pointvalue = 0.01"), r"policies\[2\] \(loyalty 'loyalty'\): unknown field 'pointvalue'"),
        ("", ("purchase_lift = 1.5, send_cost", "purchase_lyft = 1.5, send_cost"),
         "unknown field 'offer.purchase_lyft'"),
    ],
    ids=["experiment-key", "arm-key", "arm-policy", "budget-key", "lever-key", "lever-name", "policy-key",
         "policy-nested-key"],
)
def test_validate_names_a_misspelt_key_in_designs_and_policies(tmp_path, extra, edit, message):
    """A typo inside [experiment], [budget] or a policy table: exit 2, one error line naming it."""
    text = PRESET + extra
    if edit is not None:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1], 1)
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: scenario file") and result.output.count("\n") == 1
    assert re.search(message, result.output), result.output


def test_validate_accepts_a_good_experiment_and_budget(tmp_path):
    """The same tables spelt right are accepted."""
    text = PRESET + ('\n[experiment]\nwarmup_days = 30\n[[experiment.arms]]\nname = "control"\nshare = 0.5\n'
                     '[[experiment.arms]]\nname = "coupon"\npolicies = ["repurchase_coupon"]\nshare = 0.5\n'
                     '\n[budget]\ntotal = 2000\n[[budget.levers]]\nname = "search"\nmax = 1500\n')
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok:")
