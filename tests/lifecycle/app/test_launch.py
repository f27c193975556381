"""Tests for lifecycle/app/launch.py and ``lifecycle app --plugin FILE.py [SCENARIO]``.

A trainer's own policy file (tests/lifecycle/app/plugins/birthday_coupon.py, outside the
package) is imported by path and registers its policy, so a scenario file can name it and the
page gets its labelled levers. A missing file, a non-Python file, an import error or a bad start
scenario is one ``error:`` line and exit code 2 before any server starts. What the command line
hands to the page process travels in two environment variables. Uploads stay data only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecycle.app import launch, server
from lifecycle.cli import main
from sim.policies import REGISTRY

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "plugins" / "birthday_coupon.py"
SCENARIO = HERE / "plugins" / "birthday.toml"


@pytest.fixture(autouse=True)
def clean_registry():
    """Each test starts and ends with the built-in registry and no plugin modules loaded."""
    saved = dict(REGISTRY)
    loaded = set(sys.modules)
    yield
    REGISTRY.clear()
    REGISTRY.update(saved)
    for name in set(sys.modules) - loaded:
        if name.startswith("lifecycle_plugin_"):
            del sys.modules[name]


@pytest.fixture
def no_server(monkeypatch):
    """Fail if anything tries to start the server process."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the server was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", refuse)


def test_a_plugin_file_registers_its_policies():
    assert "birthday_coupon" not in REGISTRY
    assert launch.load_plugins([PLUGIN]) == ["birthday_coupon"]
    assert REGISTRY["birthday_coupon"].__name__ == "BirthdayCoupon"
    assert launch.load_plugins([PLUGIN]) == [], "loaded once per process"


def test_the_page_opens_on_the_plugin_scenario_with_labelled_levers():
    env = {launch.PLUGINS_ENV: str(PLUGIN), launch.SCENARIO_ENV: str(SCENARIO)}
    ctrl = launch.start_controller(env, customers=100, days=20)
    assert ctrl.scenario.name == "birthday_club" and ctrl.label == "birthday_club (file: birthday.toml)"
    levers = {lv.id: lv for lv in ctrl.levers()}
    assert levers["policy:birthday:discount"].label == "Birthday discount (money off)"
    assert (levers["policy:birthday:purchase_lift"].min, levers["policy:birthday:purchase_lift"].max) == (1.0, 5.0)
    assert levers["policy:birthday:valid_days"].label == "Valid for (days)", "pydantic's title as label"
    assert levers["policy:birthday:send_cost"].type == "SliderFloat", "no metadata: the generic slider"
    ctrl.set_lever("policy:birthday:purchase_lift", 4.5)
    assert next(p for p in ctrl.model.policies if p.name == "birthday").params.purchase_lift == 4.5
    ctrl.step(3)


def test_start_scenario_by_preset_name_or_default():
    assert launch.start_controller({}, customers=50, days=5).scenario.name == "retail_tiers"
    ctrl = launch.start_controller({launch.SCENARIO_ENV: "four_stage_funnel"}, customers=50, days=5)
    assert ctrl.scenario.name == "four_stage_funnel" and ctrl.origin == "preset"
    gone = launch.start_controller({launch.SCENARIO_ENV: "/nonexistent/x.toml"}, customers=50, days=5)
    assert gone.scenario.name == "retail_tiers" and "neither a preset" in gone.error


def test_uploads_may_name_plugin_policies_but_stay_data(tmp_path):
    launch.load_plugins([PLUGIN])
    ctrl = launch.start_controller({}, customers=50, days=5)
    assert ctrl.upload("club.toml", SCENARIO.read_bytes()) and ctrl.scenario.name == "birthday_club"
    evil = SCENARIO.read_text() + '\n[[policies]]\ntype = "lifecycle_plugin_birthday_coupon"\nname = "x"\n'
    assert not ctrl.upload("evil.toml", evil) and "unknown policy type" in ctrl.error


@pytest.mark.parametrize("content, message", [
    (None, "not found"),
    ("raise RuntimeError('no database here')", r"\(line 1\): RuntimeError: no database here"),
    ("def broken(:\n", r"\(line 1\): SyntaxError"),
    ("import no_such_module_anywhere", "ModuleNotFoundError"),
])  # fmt: skip
def test_plugin_problems_are_one_error_line_before_the_server_starts(tmp_path, no_server, content, message):
    path = tmp_path / "mine.py"
    if content is not None:
        path.write_text(content)
    result = CliRunner().invoke(main, ["app", "--plugin", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: plugin file '{path}'"), lines
    assert __import__("re").search(message, lines[0]), lines[0]


def test_a_plugin_must_be_a_python_file_and_the_scenario_must_load(tmp_path, no_server):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = CliRunner().invoke(main, ["app", "--plugin", str(text)])
    assert result.exit_code == 2 and "a plugin is a Python file" in result.stderr
    # the scenario names the plugin's type: without the plugin it cannot load
    result = CliRunner().invoke(main, ["app", str(SCENARIO)])
    assert result.exit_code == 2 and "unknown policy type 'birthday_coupon'" in result.stderr
    result = CliRunner().invoke(main, ["app", "no_such_preset"])
    assert result.exit_code == 2 and "neither a preset" in result.stderr


def test_the_server_gets_plugins_and_scenario_through_its_environment(monkeypatch):
    started = {}

    class Proc:
        def __init__(self, cmd, env):
            started.update(cmd=cmd, env=env)

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", Proc)
    result = CliRunner().invoke(main, ["app", str(SCENARIO), "--plugin", str(PLUGIN), "--port", "9123"])
    assert result.exit_code == 0, result.output
    assert "policy types: birthday_coupon" in result.stdout
    env = started["env"]
    assert env[launch.PLUGINS_ENV] == str(PLUGIN) and env[launch.SCENARIO_ENV] == str(SCENARIO)
    assert "9123" in started["cmd"]
    assert server.environment()[launch.PLUGINS_ENV] == "" and launch.SCENARIO_ENV not in server.environment()
    assert server.environment(scenario="retail_tiers")[launch.SCENARIO_ENV] == "retail_tiers"
