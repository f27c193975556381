"""Tests for lifecycle/app/controller.py: the classroom controller, without any UI.

Stepping, playing and resetting; lever changes rebuild the policy and reach the running model;
refused values change nothing; a comparison runs two models on the same seed and customers; and
uploads are data only: bad files, huge files, files naming Python objects and path-like file
names are refused or handled without touching the disk or executing anything. Sizes (population,
seed, customers a day, the memory estimate for one or two runs) are refused before any model is
built, with messages that start with the input's or lever's label. Errors: an unexpected exception
in any public method becomes ``Controller.error`` ("internal error ... this is a bug", no text or
path of the exception), its traceback goes to the log once, and the session goes on. Populations
are small (200-300 customers, the agent engine) so each test takes well under a second.
"""

from __future__ import annotations

import io
import os
import sys
from importlib import resources

import numpy as np
import pytest

from lifecycle.app.controller import ClassroomModel, Controller
from lifecycle.app.limits import DEFAULT_SPEED, MAX_CUSTOMERS, MAX_DAILY_ARRIVALS, MIN_CUSTOMERS, SPEEDS, LeverError
from lifecycle.app.sources import preset_names, safe_label
from scenarios.loader import MAX_SCENARIO_BYTES
from sim.scenario import load_scenario
from scenarios.errors import ConfigError, LabError


def preset_text(name: str) -> str:
    return (resources.files("scenarios") / "presets" / f"{name}.toml").read_text(encoding="utf-8")


@pytest.fixture
def ctrl():
    return Controller("retail_tiers", customers=300, days=60)


def policy(model, name):
    return next(p for p in model.policies if p.name == name)


# --- stepping, playing, resetting -------------------------------------------------------------------


def test_step_advances_the_model_and_records_each_day(ctrl):
    assert ctrl.day == 0 and ctrl.running
    assert ctrl.step(3) == 3
    assert ctrl.day == 3 == ctrl.model.day
    assert len(ctrl.model.datacollector.get_model_vars_dataframe()) == 3
    snap = ctrl.snapshot()
    assert snap.day == 3 and len(snap.result.daily) == 3
    assert [h["day"] for h in snap.history] == [0, 1, 2, 3]


def test_step_stops_at_the_end_of_the_run():
    c = Controller("four_stage_funnel", customers=50, days=5)
    c.play()
    assert c.step(10) == 5
    assert c.day == 5 and not c.running and not c.playing
    assert c.step() == 0
    c.play()
    assert not c.playing, "nothing to play at the end"


def test_play_pause_and_tick_follow_the_speed(ctrl):
    assert ctrl.speed == DEFAULT_SPEED
    assert ctrl.tick() == 0, "paused: a tick does nothing"
    ctrl.set_speed(len(SPEEDS))
    assert (ctrl.interval_ms, ctrl.days_per_update) == SPEEDS[-1]
    ctrl.play()
    assert ctrl.tick() == SPEEDS[-1][1]
    assert ctrl.toggle_play() is False
    assert ctrl.tick() == 0
    ctrl.set_speed(99)
    assert ctrl.speed == len(SPEEDS)
    ctrl.set_speed(-3)
    assert ctrl.speed == 1


def test_reset_returns_to_day_zero_with_the_same_customers(ctrl):
    first = ctrl.model.state.rate[:300].copy()
    ctrl.step(5)
    old = ctrl.model
    ctrl.reset()
    assert ctrl.day == 0 and ctrl.model is not old
    assert np.array_equal(ctrl.model.state.rate[:300], first), "same seed, same initial customers"
    assert len(ctrl.snapshot().history) == 1


def test_population_and_seed_restart_the_run(ctrl):
    ctrl.step(2)
    ctrl.set_customers(MIN_CUSTOMERS)
    assert ctrl.customers == MIN_CUSTOMERS and ctrl.day == 0 and ctrl.model.state.n == MIN_CUSTOMERS
    rates = ctrl.model.state.rate[:MIN_CUSTOMERS].copy()
    ctrl.set_seed(ctrl.seed + 1)
    assert not np.array_equal(ctrl.model.state.rate[:MIN_CUSTOMERS], rates)


def test_population_and_seed_outside_the_page_limits_are_refused_naming_the_input(ctrl):
    ctrl.step(2)
    model = ctrl.model
    for n in (10**9, MAX_CUSTOMERS + 1, MIN_CUSTOMERS - 1, 0, -5, 12.5, "lots", None, float("inf"), float("nan")):
        with pytest.raises(LeverError, match=r"^Customers at start: "):
            ctrl.set_customers(n)
    for seed in (-1, 2**64, 1.5, "x", float("inf")):
        with pytest.raises(LeverError, match=r"^Seed: "):
            ctrl.set_seed(seed)
    assert ctrl.model is model and ctrl.customers == 300 and ctrl.day == 2, "nothing changed"
    ctrl.set_customers(MAX_CUSTOMERS)  # the top of the range is fine
    assert ctrl.customers == MAX_CUSTOMERS


def test_classroom_model_lets_mesa_drive_the_controller(ctrl):
    m = ClassroomModel(ctrl)  # what Mesa's ModelController does on Reset
    assert ctrl.day == 0 and m.running
    m.step()
    m.step()
    assert ctrl.day == 2 and m.steps == 2
    ctrl.step(100)
    assert not m.running


# --- levers -----------------------------------------------------------------------------------------


def test_levers_are_derived_from_the_scenario(ctrl):
    ids = {lv.id for lv in ctrl.levers()}
    for expected in (
        "policy:repurchase_coupon:offer.discount", "policy:repurchase_coupon:target.stages",
        "policy:loyalty:benefits.high.churn_multiplier", "policy:winback:heavy_after_days",
        "policy:referral:bounty", "policy:cap:max_per_week", "channel:search:daily_spend",
        "tier:high:min_annual_spend",
    ):  # fmt: skip
        assert expected in ids
    for lv in ctrl.levers():
        if lv.type in ("SliderInt", "SliderFloat"):
            assert lv.min <= lv.value <= lv.max, lv
    other = Controller("five_stage_lifecycle", customers=50, days=10)
    kinds = {lv.id.split(":")[1] for lv in other.levers() if lv.kind == "policy"}
    assert kinds == {p.name for p in other.scenario.policies}, "every policy of another scenario has levers"
    assert {lv.owner for lv in other.levers() if lv.kind == "channel"} == {c.name for c in other.scenario.config.channels}


def test_lever_change_rebuilds_the_policy_in_the_running_model(ctrl):
    ctrl.step(3)
    before = policy(ctrl.model, "repurchase_coupon")
    position = ctrl.model.policies.index(before)
    ctrl.set_lever("policy:repurchase_coupon:offer.discount", 35)
    after = policy(ctrl.model, "repurchase_coupon")
    assert after is not before and type(after) is type(before)
    assert after.params.offer.discount == 35 and before.params.offer.discount == 20
    assert ctrl.model.policies.index(after) == position
    assert ctrl.model.policy_id(after) == position, "the model knows the new object"
    assert ctrl.lever("policy:repurchase_coupon:offer.discount").value == 35
    ctrl.step(2)  # the model runs on with the rebuilt policy
    assert ctrl.day == 5
    ctrl.reset()
    assert policy(ctrl.model, "repurchase_coupon").params.offer.discount == 35, "kept for the next run"


def test_target_and_trigger_levers(ctrl):
    ctrl.set_lever("policy:repurchase_coupon:target.stages", ["activation", "retention"])
    assert policy(ctrl.model, "repurchase_coupon").params.target.stages == ["activation", "retention"]
    ctrl.set_lever(("policy", "repurchase_coupon", ("trigger",)), "first_order")
    assert policy(ctrl.model, "repurchase_coupon").params.trigger == "first_order"
    ctrl.set_lever("policy:loyalty:benefits.basic.churn_multiplier", 0.5)
    assert policy(ctrl.model, "loyalty").params.benefits["basic"].churn_multiplier == 0.5
    ctrl.step(2)


def test_channel_and_tier_levers_reach_the_model(ctrl):
    ctrl.set_lever("channel:search:daily_spend", 0)
    assert next(c for c in ctrl.model.channels if c.name == "search").daily_spend == 0
    ctrl.set_lever("tier:high:min_annual_spend", 500)
    assert ctrl.model.segmenter.tier_min_spend[ctrl.model.tier_index["high"]] == 500
    before = ctrl.model.ledger.channel_customers[ctrl.model.channel_index["search"]]
    ctrl.step(5)
    assert ctrl.model.ledger.channel_customers[ctrl.model.channel_index["search"]] == before, "no spend, no customers"
    ctrl.reset()
    assert next(c for c in ctrl.model.channels if c.name == "search").daily_spend == 0


def test_refused_lever_values_change_nothing(ctrl):
    model, setting = ctrl.model, ctrl.setting_a
    old = policy(model, "winback")
    with pytest.raises(LeverError, match="Heavy warning offer after"):
        ctrl.set_lever("policy:winback:light_after_days", 200)  # must stay below the heavy warning (90)
    with pytest.raises(LeverError, match="greater than or equal to 0|>= 0"):
        ctrl.set_lever("policy:referral:bounty", -5)
    with pytest.raises(LeverError):
        ctrl.set_lever("channel:search:daily_spend", "lots")
    with pytest.raises(LeverError):
        ctrl.set_lever("policy:no_such_policy:bounty", 1)
    assert ctrl.model is model and ctrl.setting_a == setting and policy(model, "winback") is old


# --- comparison -------------------------------------------------------------------------------------


def test_comparison_runs_two_settings_on_the_same_seed_and_customers(ctrl):
    ctrl.step(4)
    ctrl.start_compare()
    a, b = ctrl.model, ctrl.model_b
    assert ctrl.day == 0 and b is not None and b.day == 0 and ctrl.editing == "B"
    assert a.streams.entropy == b.streams.entropy, "same seed"
    for column in ("rate", "basket", "hazard"):
        assert np.array_equal(getattr(a.state, column)[:300], getattr(b.state, column)[:300])
    ctrl.set_lever("policy:repurchase_coupon:offer.discount", 0)  # B only
    assert policy(b, "repurchase_coupon").params.offer.discount == 0
    assert policy(a, "repurchase_coupon").params.offer.discount == 20
    ctrl.step(40)
    assert a.day == b.day == 40
    cmp = ctrl.comparison()
    assert cmp["same_initial_customers"] and cmp["seed"] == ctrl.seed
    rows = {r["metric"]: r for r in cmp["rows"]}
    for key in ("ltv_cac", "retention_30d", "net_contribution"):
        r = rows[key]
        assert r["A"] is not None and r["B"] is not None
        assert r["diff"] == pytest.approx(r["B"] - r["A"])
    assert rows["policy_costs"]["B"] < rows["policy_costs"]["A"], "no coupon discounts in B"


def test_identical_settings_give_identical_worlds(ctrl):
    ctrl.start_compare()
    ctrl.step(25)
    for r in ctrl.comparison()["rows"]:
        assert r["diff"] in (None, 0.0), r


def test_b_exists_only_while_comparing(ctrl):
    with pytest.raises(LeverError):
        ctrl.set_lever("policy:referral:bounty", 5, side="B")
    with pytest.raises(LeverError):
        ctrl.comparison()
    ctrl.start_compare()
    ctrl.set_editing("A")
    ctrl.set_lever("policy:referral:bounty", 5)
    assert policy(ctrl.model, "referral").params.bounty == 5 and policy(ctrl.model_b, "referral").params.bounty == 30
    ctrl.stop_compare()
    assert ctrl.model_b is None and not ctrl.compare


# --- scenarios and uploads --------------------------------------------------------------------------


def test_presets_only_by_name(ctrl):
    assert "four_stage_funnel" in preset_names()
    ctrl.load_preset("four_stage_funnel")
    assert ctrl.scenario.name == "four_stage_funnel" and ctrl.day == 0 and ctrl.error is None
    for bad in ("../../etc/passwd", "scenarios/presets/retail_tiers.toml", "/etc/hostname"):
        with pytest.raises(ConfigError, match="unknown preset"):
            ctrl.load_preset(bad)
    assert ctrl.scenario.name == "four_stage_funnel"


def test_good_upload_switches_scenario(ctrl):
    text = preset_text("four_stage_funnel").replace('name = "four_stage_funnel"', 'name = "my_funnel"', 1)
    assert ctrl.upload("my funnel.toml", text.encode())
    assert ctrl.scenario.name == "my_funnel" and ctrl.origin == "upload" and ctrl.error is None
    assert "uploaded: my funnel.toml" in ctrl.label
    ctrl.step(2)


def test_bad_upload_shows_an_error_and_keeps_the_running_model(ctrl):
    ctrl.step(2)
    model, scenario = ctrl.model, ctrl.scenario
    assert not ctrl.upload("broken.toml", b"name = [unclosed")
    assert "uploaded file 'broken.toml'" in ctrl.error and "not valid TOML" in ctrl.error
    assert not ctrl.upload("wrong.toml", preset_text("retail_tiers").replace("gross_margin = 0.35", "gross_margin = 7"))
    assert "gross_margin" in ctrl.error
    assert ctrl.model is model and ctrl.scenario is scenario and ctrl.day == 2
    ctrl.step(1)  # still running
    assert ctrl.day == 3


class _Exploding(io.RawIOBase):
    def read(self, *args):  # pragma: no cover - must never be called
        raise AssertionError("the content of a too-large upload was read")


def test_huge_upload_is_refused_before_reading(ctrl):
    assert not ctrl.upload("huge.toml", size=MAX_SCENARIO_BYTES + 1, stream=_Exploding())
    assert "limit" in ctrl.error and f"{MAX_SCENARIO_BYTES:,}" in ctrl.error
    # a client that under-states the size: at most limit + 1 bytes are read, then refused
    big = io.BytesIO(b"#" * (MAX_SCENARIO_BYTES * 4))
    assert not ctrl.upload("liar.toml", size=10, stream=big)
    assert big.tell() == MAX_SCENARIO_BYTES + 1
    assert "limit" in ctrl.error
    assert not ctrl.upload("big.toml", b"#" * (MAX_SCENARIO_BYTES + 1))
    assert ctrl.scenario.name == "retail_tiers"


@pytest.mark.parametrize("kind", ["os.system", "__import__('os').system('touch /tmp/lifecycle-pwned')",
                                  "subprocess.Popen", "builtins.eval"])
def test_upload_naming_a_python_object_is_refused(ctrl, kind, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    text = preset_text("retail_tiers") + f'\n[[policies]]\ntype = "{kind}"\nname = "evil"\n'
    assert not ctrl.upload("evil.toml", text.encode())
    assert "unknown policy type" in ctrl.error and "allowed types" in ctrl.error
    assert not calls and not os.path.exists("/tmp/lifecycle-pwned")
    assert ctrl.scenario.name == "retail_tiers"


def test_import_strings_elsewhere_are_plain_labels(ctrl, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    text = preset_text("retail_tiers").replace('name = "retail_tiers"', 'name = "__import__(\'os\').system(\'id\')"', 1)
    assert ctrl.upload("x.toml", text.encode())
    assert ctrl.scenario.name == "__import__('os').system('id')" and not calls


def test_path_like_file_names_never_touch_the_disk(ctrl):
    text = preset_text("four_stage_funnel").encode()
    ctrl.upload("warm-up.toml", text)  # imports and caches warmed up
    seen: list[tuple] = []
    active = [True]

    def audit(event, args):
        if active[0] and event in ("open", "os.listdir", "os.scandir", "os.remove", "os.rename", "shutil.copyfile"):
            seen.append((event, args))

    sys.addaudithook(audit)
    try:
        for name in ("../../etc/passwd", "/etc/shadow", "..\\..\\windows\\win.ini", "a/../../b.toml", "\x00evil.toml"):
            ctrl.upload(name, text)
            assert ctrl.error is None
            assert "etc" not in ctrl.label and "/" not in ctrl.label and "\x00" not in ctrl.label
            ctrl.upload(name, b"broken = [", size=10)
            assert ctrl.error.startswith(f"uploaded file '{safe_label(name)}'")
    finally:
        active[0] = False
    touched = [args for _, args in seen if any(s in str(args) for s in ("passwd", "shadow", "win.ini", "b.toml", "evil"))]
    assert not touched, touched
    assert not [args for event, args in seen if event == "open" and len(args) > 1 and args[1] and "w" in str(args[1])]


def test_safe_label():
    assert safe_label("../../etc/passwd") == "passwd"
    assert safe_label("C:\\x\\y.toml") == "y.toml"
    assert safe_label("") == "upload" and safe_label(None) == "upload"
    assert safe_label("a\nb\x1b[31m.toml") == "ab[31m.toml"
    assert len(safe_label("x" * 500)) == 80


def test_runs_that_would_grow_too_fast_are_refused(ctrl):
    text = preset_text("retail_tiers").replace("saturation = 20.0", "saturation = 1000000.0", 1)
    text = text.replace("daily_spend = 600.0", "daily_spend = 100000000.0", 1)
    assert not ctrl.upload("flood.toml", text.encode())
    assert f"at most {MAX_DAILY_ARRIVALS:,} a day" in ctrl.error and ctrl.scenario.name == "retail_tiers"
    ctrl.set_lever("channel:search:daily_spend", 2500)  # the slider's top: fine
    wide = load_scenario("retail_tiers").with_values({f"channels.{c.name}.saturation": 1e6
                                                       for c in ctrl.scenario.config.channels})
    flood = Controller(wide, customers=100, days=30)
    model = flood.model
    with pytest.raises(LeverError, match="customers a day"):
        flood.set_lever("channel:search:daily_spend", 1e9)
    assert flood.model is model and flood.lever("channel:search:daily_spend").value == 600


def test_engine_follows_the_size_of_the_whole_run():
    from lifecycle.app.limits import choose_engine

    assert choose_engine(500, 100, 10) == "agent"  # 1,500 customers by the end
    assert choose_engine(500, 365, 10) == "vector"  # 4,150 by the end
    assert Controller("retail_tiers", customers=1000, days=365).model.engine == "vector"
    assert Controller("retail_tiers", customers=100, days=20).model.engine == "agent"


# --- sizes: the page's limits and the memory estimate, before any model is built ---------------------


def _estimate(scenario, customers, days, models=1):
    from lifecycle.app.limits import expected_arrivals
    from sim.limits import run_memory_estimate

    return run_memory_estimate(initial_customers=customers * models,
                               expected_arrivals_per_day=expected_arrivals(scenario) * models, days=days,
                               stages=len(scenario.config.stages))  # fmt: skip


def test_runs_too_big_for_memory_are_refused_before_any_model_is_built(ctrl, monkeypatch):
    from lifecycle.app import controller as controller_module
    from sim.limits import MEMORY_ENV

    sc = ctrl.scenario
    one, bigger = _estimate(sc, 300, 60), _estimate(sc, 2_000, 60)
    monkeypatch.setenv(MEMORY_ENV, str((one + bigger) // 2))
    built = []
    real = controller_module.build_model
    monkeypatch.setattr(controller_module, "build_model", lambda *a, **k: built.append(a) or real(*a, **k))
    model = ctrl.model
    with pytest.raises(LeverError, match=r"^Customers at start: .*memory.*LIFECYCLE_MAX_MEMORY"):
        ctrl.set_customers(2_000)
    monkeypatch.setenv(MEMORY_ENV, str((one + _estimate(sc, 300, 60, models=2)) // 2))
    with pytest.raises(LeverError, match=r"^Start comparison: .*2 runs side by side.*memory"):
        ctrl.start_compare()
    assert not built and ctrl.model is model and ctrl.customers == 300 and not ctrl.compare
    assert ctrl.upload("same.toml", preset_text("retail_tiers").encode()) is True  # one run still fits
    monkeypatch.setenv(MEMORY_ENV, "1M")
    assert not ctrl.upload("again.toml", preset_text("retail_tiers").encode())
    assert ctrl.error.startswith("uploaded file 'again.toml': ") and "memory" in ctrl.error


def test_a_spend_lever_that_would_outgrow_memory_is_refused_naming_its_label(monkeypatch):
    from sim.limits import MEMORY_ENV

    c = Controller("retail_tiers", customers=5_000, days=60)
    before = _estimate(c.scenario, 5_000, 60)
    after = _estimate(c.scenario.with_values({"channels.search.daily_spend": 2_500.0}), 5_000, 60)
    assert after > before
    monkeypatch.setenv(MEMORY_ENV, str((before + after) // 2))
    model = c.model
    with pytest.raises(LeverError, match=r"^search: daily spend: .*memory"):
        c.set_lever("channel:search:daily_spend", 2_500)
    assert c.model is model and c.lever("channel:search:daily_spend").value == 600


def test_refused_lever_values_name_the_lever(ctrl):
    """The message starts with the slider's label and names other parameters by their labels too, never by field."""
    with pytest.raises(LeverError) as info:
        ctrl.set_lever("policy:winback:light_after_days", 200)
    text = str(info.value)
    assert text == ("Light warning offer after (days): 'Heavy warning offer after (days)' (90) must be greater than "
                    "'Light warning offer after (days)' (200)"), text
    assert "_after_days" not in text and "policies." not in text
    with pytest.raises(LeverError, match=r"^Referral bounty: "):
        ctrl.set_lever(("policy", "referral", ("bounty",)), -5)  # by key: the label is looked up


# --- errors: a bug becomes a message, never a traceback, and the session goes on ---------------------


def _boom(*args, **kwargs):
    raise RuntimeError("boom in /srv/secret/lab/engine.py line 42")


def _assert_internal(message: str, action: str):
    assert message.startswith(f"internal error while {action} (RuntimeError): this is a bug"), message
    assert "reference " in message
    for leak in ("boom", "/srv", "secret", ".py", "Traceback"):
        assert leak not in message, (leak, message)


def test_an_exception_while_stepping_becomes_the_error_and_the_session_goes_on(ctrl, monkeypatch, caplog):
    from lifecycle.app.controller import InternalError

    ctrl.step(2)
    ctrl.play()
    monkeypatch.setattr(ctrl.model, "step", _boom)
    with caplog.at_level("ERROR", logger="lifecycle.app"), pytest.raises(InternalError) as info:
        ctrl.step()
    assert isinstance(info.value, LabError)  # shown like any other message
    _assert_internal(ctrl.error, "stepping the simulation")
    assert ctrl.error == str(info.value) and not ctrl.playing, "playing stops"
    reference = ctrl.error.split("reference ")[1].split(")")[0]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info and "boom in /srv/secret" in str(logged[0].exc_info[1])
    with caplog.at_level("ERROR", logger="lifecycle.app"), pytest.raises(InternalError):
        ctrl.step()  # the same failure again
    assert "again" in caplog.records[-1].getMessage() and not caplog.records[-1].exc_info, "one traceback per kind"
    monkeypatch.undo()
    assert ctrl.step(3) == 3 and ctrl.day == 5, "keeps stepping once the cause is gone"
    ctrl.reset()
    assert ctrl.day == 0


@pytest.mark.parametrize("target, call, action", [
    ("build_model", lambda c: c.reset(), "resetting the run"),
    ("build_model", lambda c: c.set_customers(400), "changing the number of customers"),
    ("build_model", lambda c: c.set_seed(7), "changing the seed"),
    ("build_model", lambda c: c.start_compare(), "starting the comparison"),
    ("build_model", lambda c: c.load_preset("four_stage_funnel"), "loading a preset"),
    ("apply_live", lambda c: c.set_lever("policy:referral:bounty", 5), "changing a lever"),
    ("quick_metrics", lambda c: c.step(), "stepping the simulation"),
    ("metric_rows", lambda c: (c.start_compare() if not c.compare else None, c.comparison()), "comparing A and B"),
])  # fmt: skip
def test_every_public_method_turns_a_bug_into_a_message(ctrl, monkeypatch, target, call, action):
    from lifecycle.app import controller as controller_module
    from lifecycle.app.controller import InternalError

    if target == "metric_rows":
        ctrl.start_compare()
    ctrl.step(2)
    monkeypatch.setattr(controller_module, target, _boom)
    with pytest.raises(InternalError) as info:
        call(ctrl)
    _assert_internal(str(info.value), action)
    assert ctrl.error == str(info.value)
    monkeypatch.undo()
    ctrl.step(1)  # the session goes on
    assert ctrl.snapshot().day == ctrl.day


def test_a_failed_reset_keeps_the_running_models(ctrl, monkeypatch):
    from lifecycle.app import controller as controller_module
    from lifecycle.app.controller import InternalError

    ctrl.start_compare()
    ctrl.step(3)
    a, b = ctrl.model, ctrl.model_b
    real, calls = controller_module.build_model, []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            _boom()
        return real(*args, **kwargs)

    monkeypatch.setattr(controller_module, "build_model", second_fails)
    with pytest.raises(InternalError):
        ctrl.reset()
    assert ctrl.model is a and ctrl.model_b is b and ctrl.day == 3, "A and B stay a pair"


def test_an_upload_that_breaks_the_model_is_a_message_without_details(ctrl, monkeypatch):
    from lifecycle.app import controller as controller_module

    monkeypatch.setattr(controller_module, "parse_scenario", _boom)
    assert not ctrl.upload("odd.toml", preset_text("four_stage_funnel").encode())
    _assert_internal(ctrl.error, "loading uploaded file 'odd.toml'")
    assert ctrl.scenario.name == "retail_tiers"

    class Broken(io.RawIOBase):
        def read(self, *args):
            raise OSError("connection reset while reading /tmp/solara-upload-123")

    monkeypatch.undo()
    assert not ctrl.upload("gone.toml", size=10, stream=Broken())
    assert ctrl.error == "uploaded file 'gone.toml': could not be read (OSError); send it again"


def test_fail_keeps_a_lab_errors_message(ctrl):
    err = ctrl.fail(LeverError("Customers at start: no"))
    assert isinstance(err, LeverError) and ctrl.error == "Customers at start: no"
    ctrl.play()
    ctrl.fail(LeverError("again"))
    assert ctrl.playing, "a refused value does not stop the run"


def test_the_default_preset_plays_long_enough_to_fill_every_stage():
    """retail_tiers' value_add needs a year after the first purchase: the page plays two, and says why."""
    from lifecycle.app import explain as X

    c = Controller("retail_tiers", customers=1000)
    assert c.days == 730 and c.scenario.config.run.days == 365
    assert "not the file's 365" in X.run_length_text(c.scenario, c.days)
    c.step(c.days)
    r = c.model.result()
    counts = np.bincount(r.customers["stage"], minlength=len(r.stage_names))
    assert all(counts > 0), dict(zip(r.stage_names, counts.tolist()))
    five = Controller("five_stage_lifecycle", customers=100)
    assert five.days == 365 and X.run_length_text(five.scenario, five.days) == "", "long enough already"


def test_refusals_name_nested_fields_by_the_label_of_the_part_they_are_in(ctrl):
    """A message about one offer's field names that offer's slider, not the same field of another offer."""
    from lifecycle.app.controller import in_labels

    levers = ctrl.levers()
    text = in_labels("policies.winback.heavy_offer: discount must be >= 0", levers, "policy", "winback")
    assert text == "'Heavy offer value (money off)' must be >= 0", text
    text = in_labels("policies.winback: light_offer.discount and heavy_after_days", levers, "policy", "winback")
    assert text == "'Light offer value (money off)' and 'Heavy warning offer after (days)'", text
