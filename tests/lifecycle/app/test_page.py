"""Tests for lifecycle/app/page.py rendered headless (Solara's test renderer, no browser), and lifecycle/app/server.py.

The sidebar and the views are rendered around one controller; buttons are clicked and widget
values set as the browser would, and the controller and the rendered text must follow. Errors
never escape: a callback that raises shows "internal error ..." in the scenario card, a view that
fails to draw shows it in its place and is drawn again after the next step, a refused population
names its input, a refused lever keeps its panel open, and a session that cannot start is a
message with a button to try again. The real browser is exercised in test_browser.py.
"""

from __future__ import annotations

import sys

import ipyvuetify as v
import pytest
import solara

from lifecycle.app import page as P
from lifecycle.app import server
from lifecycle.app.controller import Controller


@solara.component
def Harness(ctrl: Controller):
    ui = solara.use_reactive(0)
    with solara.Column():
        P.Sidebar(ctrl, ui)
        P.Main(ctrl, ui)


@pytest.fixture
def rendered():
    ctrl = Controller("retail_tiers", customers=200, days=40)
    box, rc = solara.render(Harness(ctrl), handle_error=False)
    yield ctrl, rc
    rc.close()


def text_of(rc, cls: str) -> str:
    return rc.find(v.Html, class_=cls).widget.children[0]


def test_step_updates_status_and_charts(rendered):
    ctrl, rc = rendered
    assert "day 0 of 40" in text_of(rc, "status-line")
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert ctrl.day == 1
    rc.find(v.Html, class_="status-line").assert_single()
    assert "day 1 of 40" in text_of(rc, "status-line")
    assert text_of(rc, "caption-stages").startswith("Day 1: ")


def test_slider_moves_the_lever(rendered):
    ctrl, rc = rendered
    slider = rc.find(v.Slider, label="Coupon value (money off): 20").widget
    slider.v_model = 27
    coupon = next(p for p in ctrl.model.policies if p.name == "repurchase_coupon")
    assert coupon.params.offer.discount == 27
    rc.find(v.Slider, label="Coupon value (money off): 27").assert_single()


def test_refused_value_shows_a_message_and_restores_the_slider(rendered):
    ctrl, rc = rendered
    slider = rc.find(v.Slider, label="Light warning offer after (days): 45").widget
    slider.v_model = 150  # later than the heavy warning (90): refused
    assert "'Heavy warning offer after (days)' (90)" in rc.find(v.Alert, class_="lever-error").widget.children[0]
    rc.find(v.Slider, label="Light warning offer after (days): 45").assert_single()
    assert next(p for p in ctrl.model.policies if p.name == "winback").params.light_after_days == 45


def test_preset_select_loads_the_preset(rendered):
    ctrl, rc = rendered
    rc.find(v.Select, label="Preset").widget.v_model = "five_stage_lifecycle"
    assert ctrl.scenario.name == "five_stage_lifecycle"
    assert "five_stage_lifecycle" in text_of(rc, "status-line")


def test_compare_and_explain_tabs(rendered):
    ctrl, rc = rendered
    rc.find(v.Tabs).widget.v_model = 1
    rc.find(v.Btn, children=["Start comparison"]).widget.click()
    assert ctrl.compare and ctrl.model_b is not None
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert rc.find(v.Html, class_="compare-line").widgets
    assert "comparison" in html_markup(rc, "data-table")
    rc.find(v.Tabs).widget.v_model = 2
    explained = html_markup(rc, "Registered")
    assert "potential" in explained and "Registered but has not bought yet" in explained


def html_markup(rc, needle: str) -> str:
    """All solara.HTML markup containing ``needle``, joined."""
    from solara.widgets import HTML

    return "".join(w.unsafe_innerHTML for w in rc.find(HTML).widgets if needle in (w.unsafe_innerHTML or ""))


def test_server_command_binds_to_localhost_by_default():
    cmd = server.command()
    assert cmd[:3] == [sys.executable, "-m", "lifecycle.app.asgi"], "Solara's app behind the Host/Origin guard"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "8765"
    assert "--allow-origin" not in cmd
    assert server.command(allow_origins=["http://a.example:1"])[-2:] == ["--allow-origin", "http://a.example:1"]
    assert server.environment()["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


# --- errors: no traceback reaches the page -----------------------------------------------------------


def _boom(*args, **kwargs):
    raise RuntimeError("boom in /srv/secret/lab/engine.py")


def _page_text(rc) -> str:
    texts = []
    for w in rc.find(v.Alert).widgets:
        texts += [str(c) for c in w.children]
    from solara.widgets import HTML

    texts += [w.unsafe_innerHTML or "" for w in rc.find(HTML).widgets]
    return "\n".join(texts)


def test_an_exception_in_a_callback_becomes_a_message_and_the_page_goes_on(rendered, monkeypatch):
    ctrl, rc = rendered
    monkeypatch.setattr(ctrl, "step", _boom)  # not the controller's own guard: the page's
    rc.find(v.Btn, children=["Step"]).widget.click()  # handle_error=False: an escaping exception fails here
    message = rc.find(v.Alert, class_="scenario-error").widget.children[0]
    assert message.startswith("internal error while stepping the simulation (RuntimeError): this is a bug")
    assert "boom" not in _page_text(rc) and "/srv" not in _page_text(rc)
    monkeypatch.undo()
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert ctrl.day == 1 and "day 1 of 40" in text_of(rc, "status-line")


def test_a_view_that_fails_to_draw_shows_a_message_in_its_place(rendered, monkeypatch):
    ctrl, rc = rendered
    monkeypatch.setattr(P.C, "money", _boom)
    rc.find(v.Btn, children=["Step"]).widget.click()
    error = rc.find(v.Alert, class_="page-error").widget.children[0]
    assert error.startswith("internal error while drawing the Live tab (RuntimeError)") and "boom" not in error
    assert "day 1 of 40" in text_of(rc, "status-line"), "the rest of the page goes on"
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert ctrl.day == 2
    monkeypatch.undo()
    rc.find(v.Btn, children=["Step"]).widget.click()  # the next change draws the view again
    assert ctrl.day == 3 and text_of(rc, "caption-stages").startswith("Day 3: ")
    rc.find(v.Alert, class_="page-error").assert_empty()


def test_a_refused_population_names_the_input_and_keeps_the_run(rendered):
    ctrl, rc = rendered
    rc.find(v.Btn, children=["Step"]).widget.click()
    field = rc.find(v.TextField, label="Customers at start (10-20,000)").widget
    field.v_model = "50000"
    field.fire_event("keyup.enter", None)  # the input commits on Enter (or leaving it)
    message = rc.find(v.Alert, class_="scenario-error").widget.children[0]
    assert message.startswith("Customers at start: 50,000 customers is outside")
    assert ctrl.customers == 200 and ctrl.day == 1
    assert rc.find(v.TextField, label="Customers at start (10-20,000)").widget.v_model == "200", "the value in force"


def test_a_refused_lever_keeps_its_panel_open(rendered):
    ctrl, rc = rendered
    panel = next(w for w in rc.find(v.ExpansionPanels).widgets if w.children[0].children[0].children == ["winback 'winback'"])
    panel.v_model = 0  # opened
    rc.find(v.Slider, label="Light warning offer after (days): 45").widget.v_model = 150
    assert rc.find(v.Alert, class_="lever-error").widget.children[0].startswith("Light warning offer after (days): ")
    assert panel in rc.find(v.ExpansionPanels).widgets and panel.v_model == 0, "the same panel, still open"


def test_the_page_survives_a_session_that_cannot_start(monkeypatch):
    monkeypatch.setattr(P, "start_controller", _boom)
    box, rc = solara.render(P.Page(), handle_error=False)
    try:
        message = rc.find(v.Alert, class_="page-error").widget.children[0]
        assert message.startswith("internal error while opening the page (RuntimeError)") and "boom" not in message
        monkeypatch.undo()
        rc.find(v.Btn, children=["Open the page again"]).widget.click()
        assert "day 0 of" in text_of(rc, "status-line")
    finally:
        rc.close()


def test_cli_app_command_defaults():
    from click.testing import CliRunner

    from lifecycle.cli import main

    result = CliRunner().invoke(main, ["app", "--help"])
    assert result.exit_code == 0 and "127.0.0.1" in result.output and "8765" in result.output


def test_notebook_view_puts_the_live_view_in_mesa_solaraviz():
    ctrl = Controller("four_stage_funnel", customers=100, days=20)
    box, rc = solara.render(P.notebook_view(ctrl), handle_error=False)
    try:
        assert [w.children for w in rc.find(v.Btn).widgets] == [["1"], ["7"], ["30"]]  # the flow-period toggle
        assert "awareness" in html_markup(rc, "data-legend")
    finally:
        rc.close()
