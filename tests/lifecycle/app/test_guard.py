"""Tests for lifecycle/app/guard.py (the Host/Origin checks), lifecycle/app/asgi.py and ``lifecycle app --allow-origin``.

The middleware is driven with plain ASGI messages around a stand-in app (no server here; the real
server on loopback is exercised in test_browser.py): a foreign ``Host`` gets 403, a WebSocket from a
foreign or missing ``Origin`` is closed before it is accepted (the server answers 403), allowed
ones reach the app, and lifespan messages pass. Malformed ``--allow-origin`` values are one
``error:`` line before any server starts.
"""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
from click.testing import CliRunner

from lifecycle.app import server
from lifecycle.app.guard import HostOriginGuard, allowed, host_with_port, parse_origin
from lifecycle.cli import main
from scenarios.errors import ConfigError

PORT = 8765


class App:
    """A stand-in for Solara's app: records what reached it and accepts everything."""

    def __init__(self):
        self.seen = []

    async def __call__(self, scope, receive, send):
        self.seen.append(scope["type"])
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"page"})


def call(guard, kind: str, headers: dict[str, str]):
    """(messages sent back, whether the app was reached) for one request."""
    scope = {"type": kind, "path": "/", "client": ("127.0.0.1", 5000),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}  # fmt: skip
    inbox = [{"type": "websocket.connect"}] if kind == "websocket" else [{"type": "http.request", "body": b""}]
    sent = []

    async def receive():
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    before = len(guard.app.seen)
    asyncio.run(guard(scope, receive, send))
    return sent, len(guard.app.seen) > before


@pytest.fixture
def guard():
    return HostOriginGuard(App(), allowed("127.0.0.1", PORT))


def test_defaults_are_loopback_and_the_host_value():
    a = allowed("127.0.0.1", PORT)
    assert a.hosts == {"127.0.0.1:8765", "localhost:8765"}
    assert a.origins == {"http://127.0.0.1:8765", "http://localhost:8765"}
    b = allowed("lab-laptop.local", 9000)
    assert "lab-laptop.local:9000" in b.hosts and "http://lab-laptop.local:9000" in b.origins
    assert allowed("0.0.0.0", PORT).hosts == a.hosts, "a wildcard is no address a browser sends"
    assert host_with_port("::1", 80) == "[::1]:80" and "http://[::1]:8765" in allowed("::1", PORT).origins
    c = allowed("0.0.0.0", PORT, ["http://192.168.1.20:8765", "HTTPS://Lab.Example.org/"])
    assert {"192.168.1.20:8765", "lab.example.org"} <= c.hosts
    assert {"http://192.168.1.20:8765", "https://lab.example.org"} <= c.origins


@pytest.mark.parametrize("text, origin", [
    ("http://192.168.1.20:8765", "http://192.168.1.20:8765"),
    ("http://Lab.Example:8765/", "http://lab.example:8765"),
    ("http://lab.example:80", "http://lab.example"),
    ("https://lab.example:443", "https://lab.example"),
    ("http://[fe80::1]:8765", "http://[fe80::1]:8765"),
])  # fmt: skip
def test_parse_origin(text, origin):
    assert parse_origin(text) == origin


@pytest.mark.parametrize("text", ["192.168.1.20:8765", "ftp://x.example", "http://", "http://x.example/page",
                                  "http://x.example?a=1", "http://user@x.example", "http://x.example:99999", "*"])
def test_parse_origin_refuses_what_is_not_an_origin(text):
    with pytest.raises(ConfigError, match=r"^--allow-origin "):
        parse_origin(text)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1:9999", "127.0.0.1", "", None])
def test_a_foreign_host_gets_403(guard, host):
    sent, reached = call(guard, "http", {} if host is None else {"Host": host})
    assert not reached and sent[0]["status"] == 403
    assert b"--allow-origin" in sent[1]["body"]


def test_allowed_hosts_reach_the_app(guard):
    for host in ("127.0.0.1:8765", "localhost:8765", "LOCALHOST:8765"):
        sent, reached = call(guard, "http", {"Host": host})
        assert reached and sent[0]["status"] == 200
    sent, reached = call(guard, "http", {"Host": "127.0.0.1:8765", "Origin": "http://127.0.0.1:8765"})
    assert reached, "the page's own requests carry its origin"


def test_http_from_a_foreign_origin_gets_403(guard):
    sent, reached = call(guard, "http", {"Host": "127.0.0.1:8765", "Origin": "http://evil.example"})
    assert not reached and sent[0]["status"] == 403


@pytest.mark.parametrize("headers", [
    {"Host": "127.0.0.1:8765", "Origin": "http://evil.example"},
    {"Host": "127.0.0.1:8765", "Origin": "http://127.0.0.1:9999"},
    {"Host": "127.0.0.1:8765", "Origin": "null"},
    {"Host": "127.0.0.1:8765"},  # no Origin: not a page of this app
    {"Host": "evil.example", "Origin": "http://127.0.0.1:8765"},
])  # fmt: skip
def test_a_websocket_from_elsewhere_is_refused_before_it_is_accepted(guard, headers):
    sent, reached = call(guard, "websocket", headers)
    assert not reached and sent == [{"type": "websocket.close", "code": 1008}]


def test_a_websocket_from_the_page_is_accepted(guard):
    for origin in ("http://127.0.0.1:8765", "http://localhost:8765"):
        host = origin.split("//")[1]
        sent, reached = call(guard, "websocket", {"Host": host, "Origin": origin})
        assert reached and sent == [{"type": "websocket.accept"}]


def test_allow_origin_lets_that_address_in():
    g = HostOriginGuard(App(), allowed("0.0.0.0", PORT, ["http://192.168.1.20:8765"]))
    _, reached = call(g, "http", {"Host": "192.168.1.20:8765"})
    assert reached
    _, reached = call(g, "websocket", {"Host": "192.168.1.20:8765", "Origin": "http://192.168.1.20:8765"})
    assert reached
    _, reached = call(g, "websocket", {"Host": "192.168.1.20:8765", "Origin": "http://192.168.1.21:8765"})
    assert not reached


def test_lifespan_passes_and_refusals_are_logged_once(guard, caplog):
    sent = []

    async def run():
        async def receive():
            return {"type": "lifespan.startup"}

        async def send(message):
            sent.append(message)

        await guard({"type": "lifespan"}, receive, send)

    asyncio.run(run())
    assert guard.app.seen == ["lifespan"]
    with caplog.at_level("WARNING", logger="lifecycle.app.guard"):
        for _ in range(3):
            call(guard, "http", {"Host": "evil.example"})
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "evil.example" in lines[0] and "--allow-origin" in lines[0]


def test_the_page_process_entry_refuses_a_bad_origin(capsys):
    from lifecycle.app import asgi

    assert asgi.main(["--port", "8765", "--allow-origin", "nonsense"]) == 2
    assert capsys.readouterr().err.startswith("error: --allow-origin 'nonsense'")


@pytest.fixture
def no_server(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"the server was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", refuse)


def test_cli_refuses_a_bad_allow_origin_before_starting(no_server):
    result = CliRunner().invoke(main, ["app", "--allow-origin", "ftp://x.example"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --allow-origin 'ftp://x.example'"), lines


def test_cli_passes_allowed_origins_to_the_server(monkeypatch):
    started = {}

    class Proc:
        def __init__(self, cmd, env):
            started.update(cmd=cmd)

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", Proc)
    result = CliRunner().invoke(main, ["app", "--host", "0.0.0.0", "--allow-origin", "http://192.168.1.20:8765",
                                       "--allow-origin", "http://10.0.0.5:8765"])  # fmt: skip
    assert result.exit_code == 0, result.output
    cmd = started["cmd"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "--allow-origin"] == ["http://192.168.1.20:8765",
                                                                             "http://10.0.0.5:8765"]
    assert "allowed origins:" in result.stdout and "http://192.168.1.20:8765" in result.stdout
    assert "open http://127.0.0.1:8765/" in result.stdout


def test_a_wildcard_host_without_allowed_origins_says_how_to_let_students_in():
    notes = server.access_notes("0.0.0.0", 8765)
    assert any("--allow-origin http://<this computer's address>:8765" in n for n in notes)
    assert server.access_notes("127.0.0.1", 8765) == []
    assert server.command("0.0.0.0", 9000, ["http://a.example:9000"])[-2:] == ["--allow-origin", "http://a.example:9000"]


def test_every_answer_forbids_framing_so_the_lax_session_cookie_is_all_the_page_needs(guard):
    """Allowed HTTP answers carry frame-ancestors 'none' and X-Frame-Options: DENY (the page is never embedded)."""
    sent, reached = call(guard, "http", {"Host": "127.0.0.1:8765"})
    headers = dict(sent[0]["headers"])
    assert reached and headers[b"content-security-policy"] == b"frame-ancestors 'none'"
    assert headers[b"x-frame-options"] == b"DENY"
    assert sent[1]["body"] == b"page", "the body passes unchanged"


def test_the_page_process_ignores_only_solaras_cookie_warning(monkeypatch):
    """The filter is for Solara's SameSite=None warning from its page handler; the same text elsewhere still shows."""
    import warnings

    from lifecycle.app.asgi import guarded_app

    for name in ("SOLARA_APP", "SERVER_NAME", "SERVER_PORT"):  # guarded_app sets them for the page process
        monkeypatch.setenv(name, os.environ.get(name, ""))
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # whatever pytest's own filters say
        guarded_app("127.0.0.1", PORT)
        with warnings.catch_warnings(record=True) as seen:
            warnings.warn_explicit("Cookies with samesite=none require https, but ...", UserWarning, "starlette.py",
                                   621, module="solara.server.starlette")
            warnings.warn_explicit("Cookies with samesite=none require https, but ...", UserWarning, "other.py", 1,
                                   module="somewhere.else")
            warnings.warn_explicit("another warning", UserWarning, "starlette.py", 700, module="solara.server.starlette")
    assert [str(w.message)[:20] for w in seen] == ["Cookies with samesit", "another warning"]
