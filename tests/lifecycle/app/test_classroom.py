"""Class play (lifecycle/app/classroom.py, the guard's class code, the --class option)."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

import lifecycle
from lifecycle.app.class_page import leaderboard_table
from lifecycle.app.classroom import MAX_RUNS, ClassError, ClassSession
from lifecycle.app.guard import CLASS_COOKIE, HostOriginGuard, allowed


@pytest.fixture(scope="module")
def session():
    return ClassSession("retail_tiers", code="ABC234", customers=300, days=40, max_students=3)


def test_joining_needs_the_code_and_a_free_name(session):
    """Wrong or missing code, empty or taken names and a full class are refused, each saying why."""
    for code in (None, "", "ABC235"):
        with pytest.raises(ClassError, match="wrong class code"):
            session.join(code, "Zed")
    with pytest.raises(ClassError, match="a name of 1 to 40"):
        session.join("ABC234", "   ")
    ann = session.join("abc234", " Ann ")  # the code is not case-sensitive; names are trimmed
    with pytest.raises(ClassError, match="'ann' is taken"):
        session.join("ABC234", "ann")
    assert session.student(ann).name == "Ann"
    session.join("ABC234", "Ben")
    session.join("ABC234", "Cleo")
    with pytest.raises(ClassError, match="class is full"):
        session.join("ABC234", "Dan")


def test_a_student_moves_only_its_own_unlocked_levers_within_the_budget(session):
    """Another token, a locked lever, or a spend over the budget is refused; the student's plan stays."""
    ann, ben = session.students["Ann"], session.students["Ben"]
    session.set_lever(ann.token, "channel:search:daily_spend", 100)
    assert ann.setting.channel_spend["search"] == 100 and ben.setting.channel_spend["search"] == 600
    with pytest.raises(ClassError, match="not a student"):
        session.set_lever("someone-elses-guess", "channel:search:daily_spend", 0)
    with pytest.raises(ClassError, match="not unlocked"):
        session.set_lever(ann.token, "policy:referral:bounty", 1)
    with pytest.raises(ClassError, match="class budget is 1,300"):
        session.set_lever(ann.token, "channel:kol:daily_spend", 2_000)
    assert ann.setting.channel_spend["search"] == 100, "the refused move changed nothing"
    with pytest.raises(ClassError, match="only the trainer"):
        session.unlock(ann.token, ["policy:referral:bounty"])
    session.unlock(session.trainer_token, ["channel:search:daily_spend", "policy:referral:bounty"])
    session.set_lever(ann.token, "policy:referral:bounty", 1)


def test_the_leaderboard_is_lifecycle_run_and_the_truth_is_the_twin_world_difference(session):
    """Each row's profit and LTV/CAC equal lifecycle.run of the plan, same seed; the truth is plan minus base."""
    ann = session.students["Ann"]
    session.run(ann.token)
    session.run(session.students["Ben"].token)
    rows = {r["name"]: r for r in session.leaderboard()}
    assert set(rows) == {"Ann", "Ben"}, "Cleo has not run a plan"
    plain = lifecycle.run(ann.setting.scenario, customers=300, days=40, seed=session.seed, counterfactual=False)
    metrics = plain.summary()["metrics"]
    assert rows["Ann"]["profit"] == pytest.approx(metrics["net_contribution"], rel=1e-12)
    assert rows["Ann"]["ltv_cac"] == pytest.approx(metrics["ltv_cac"], rel=1e-12)
    assert rows["Ann"]["profit_se"] > 0 and rows["Ann"]["ltv_cac_se"] > 0
    truth = session.reveal(session.trainer_token)
    base = lifecycle.run("retail_tiers", customers=300, days=40, counterfactual=False).summary()["metrics"]
    assert truth["Ben"] == pytest.approx(0.0, abs=1e-6), "Ben kept the scenario's plan: no difference at all"
    assert truth["Ann"] == pytest.approx(metrics["net_contribution"] - base["net_contribution"])
    table = leaderboard_table(session.leaderboard(), True)
    assert "data-name='Ann'" in table and "truth" in table
    with pytest.raises(ClassError, match="only the trainer"):
        session.reveal("not-the-trainer")


def test_runs_are_capped_per_student():
    """At most MAX_RUNS runs a student."""
    s = ClassSession("four_stage_funnel", code="XYZ234", customers=50, days=2)
    token = s.join("XYZ234", "Ann")
    s.students["Ann"].runs = MAX_RUNS
    with pytest.raises(ClassError, match=f"{MAX_RUNS} runs"):
        s.run(token)


def _call(guard, kind, headers, query=b""):
    scope = {"type": kind, "path": "/", "query_string": query, "client": ("127.0.0.1", 5000),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}  # fmt: skip
    inbox = [{"type": "websocket.connect"}] if kind == "websocket" else [{"type": "http.request", "body": b""}]
    sent, seen = [], []

    async def app(scope, receive, send):
        seen.append(scope["type"])
        if kind == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
        else:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"page"})

    async def receive():
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    guard.app = app
    asyncio.run(guard(scope, receive, send))
    return sent, bool(seen)


def test_in_class_mode_every_request_and_websocket_needs_the_code():
    """No code: the join form (403); the code in the address: the page and a cookie; the cookie: the WebSocket."""
    guard = HostOriginGuard(None, allowed("127.0.0.1", 8765), class_code="ABC234")
    host = {"Host": "127.0.0.1:8765"}
    sent, reached = _call(guard, "http", host)
    assert not reached and sent[0]["status"] == 403 and b'name="code"' in sent[1]["body"]
    sent, reached = _call(guard, "http", host, b"code=ZZZ999&name=Eve")
    assert not reached and b"not the class code" in sent[1]["body"]
    sent, reached = _call(guard, "http", host, b"code=abc234&name=Ann")
    cookie = dict(sent[0]["headers"])[b"set-cookie"]
    assert reached and cookie.startswith(f"{CLASS_COOKIE}=ABC234".encode()) and b"HttpOnly" in cookie
    origin = {**host, "Origin": "http://127.0.0.1:8765"}
    sent, reached = _call(guard, "websocket", origin)
    assert not reached and sent[0] == {"type": "websocket.close", "code": 1008}
    sent, reached = _call(guard, "websocket", {**origin, "Cookie": f"{CLASS_COOKIE}=ABC234"})
    assert reached
    sent, reached = _call(guard, "http", {**host, "Cookie": f"{CLASS_COOKIE}=ABC235"})
    assert not reached and sent[0]["status"] == 403


def test_budget_needs_class_and_a_class_gets_a_code_and_a_trainer_token():
    """--budget without --class: one usage error, exit 2; a class gets a readable code, a token and its budget."""
    from lifecycle.app import server
    from lifecycle.cli import main

    result = CliRunner().invoke(main, ["app", "--budget", "100"])
    assert result.exit_code == 2 and "--budget is for class play" in result.output
    env = server.class_environment(500)
    assert len(env["LIFECYCLE_APP_CLASS_CODE"]) == 6 and env["LIFECYCLE_APP_CLASS_BUDGET"] == "500.0"
    assert not set(env["LIFECYCLE_APP_CLASS_CODE"]) & set("01OI") and len(env["LIFECYCLE_APP_TRAINER_TOKEN"]) >= 16
