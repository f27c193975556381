"""Which browsers may use the classroom page: the HTTP ``Host`` and the WebSocket ``Origin`` checks.

The page lets whoever reaches it run simulations, and a web page the trainer visits could
otherwise reach it too: through DNS rebinding (a foreign name that resolves to 127.0.0.1, so the
request carries ``Host: evil.example``) or a cross-site WebSocket (any site's script may open
``ws://127.0.0.1:8765/...``; the browser then sends that site's ``Origin``). So every request is
checked against the addresses the app was started for:

- HTTP: the ``Host`` header must be one of :attr:`Allowed.hosts`, else ``403 Forbidden``; a
  request that carries an ``Origin`` header (browsers send it on cross-site and non-GET requests)
  must come from one of :attr:`Allowed.origins`, else 403 as well.
- WebSocket: ``Host`` as above, and the ``Origin`` header must be present and one of
  :attr:`Allowed.origins`; otherwise the handshake is refused (HTTP 403, before any message).

Allowed by default (:func:`allowed`): ``127.0.0.1:PORT``, ``localhost:PORT`` and the ``--host``
value with the port, and the same with ``http://`` as origins; each ``lifecycle app --allow-origin
ORIGIN`` adds that origin and its host (e.g. ``--allow-origin http://192.168.1.20:8765`` for
students who open the page by the trainer's address on the room's network).

Core objects: :func:`parse_origin` (an ``--allow-origin`` value, checked), :func:`allowed`,
:class:`Allowed` and :class:`HostOriginGuard` (an ASGI middleware around Solara's Starlette app,
see :mod:`lifecycle.app.asgi`). No Solara or Starlette import here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from scenarios.errors import ConfigError

__all__ = ["Allowed", "HostOriginGuard", "allowed", "parse_origin", "host_with_port"]

log = logging.getLogger("lifecycle.app.guard")

_WILDCARDS = ("0.0.0.0", "::", "")


def host_with_port(host: str, port: int) -> str:
    """``host:port`` as a browser writes it in a ``Host`` header (IPv6 addresses in brackets)."""
    host = host.strip().lower()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{int(port)}"


def parse_origin(text: str) -> str:
    """An ``--allow-origin`` value as the browser sends it: ``scheme://host[:port]``, lower case, no path.

    Raises ConfigError naming the option for anything else (no scheme, another scheme, a path,
    a query, user info, a bad port).
    """
    raw = str(text).strip()
    where = f"--allow-origin '{raw}'"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}; expected an origin such as http://192.168.1.20:8765") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{where}: an origin starts with http:// or https://, e.g. http://192.168.1.20:8765")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ConfigError(f"{where}: expected an origin such as http://192.168.1.20:8765 (a host, no user name)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"{where}: an origin has no path, query or fragment; expected e.g. http://192.168.1.20:8765")
    netloc = parts.netloc.lower()
    default = {"http": 80, "https": 443}[parts.scheme]
    if port == default:  # the browser leaves the default port out
        netloc = netloc.rsplit(":", 1)[0]
    return f"{parts.scheme}://{netloc}"


@dataclass(frozen=True)
class Allowed:
    """The ``Host`` values and ``Origin`` values the server answers to."""

    hosts: frozenset[str]
    origins: frozenset[str]

    def host_ok(self, host: str | None) -> bool:
        return host is not None and host.strip().lower() in self.hosts

    def origin_ok(self, origin: str | None) -> bool:
        return origin is not None and origin.strip().lower().rstrip("/") in self.origins


def allowed(host: str, port: int, extra_origins=()) -> Allowed:
    """What a server bound to ``host:port`` answers to: loopback, the ``--host`` value, and ``extra_origins``.

    A wildcard ``--host`` (``0.0.0.0``, ``::``) adds nothing a browser would send: the trainer
    names the addresses students use with ``--allow-origin``.
    """
    names = ["127.0.0.1", "localhost"]
    if host.strip().lower() not in _WILDCARDS:
        names.append(host)
    hosts = {host_with_port(name, port) for name in names}
    origins = {f"http://{h}" for h in hosts}
    for text in extra_origins:
        origin = parse_origin(text)
        origins.add(origin)
        hosts.add(origin.split("://", 1)[1])
    return Allowed(frozenset(hosts), frozenset(origins))


def _header(scope, name: bytes) -> str | None:
    values = [v for k, v in scope.get("headers") or () if k.lower() == name]
    if len(values) != 1:  # missing, or sent twice (ambiguous): treated as missing
        return None
    return values[0].decode("latin-1")


def _shown(value: str | None) -> str:
    if value is None:
        return "none"
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in value)[:100]
    return repr(text)


#: every HTTP answer says the page may not be shown inside another site's frame (clickjacking a
#: session); it also makes true what the session cookie assumes (SameSite=Lax: never embedded)
NO_FRAMING = [(b"content-security-policy", b"frame-ancestors 'none'"), (b"x-frame-options", b"DENY")]


def _never_framed(send, set_cookie: bytes | None = None):
    async def sending(message):
        if message.get("type") == "http.response.start":
            names = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in NO_FRAMING if k not in names]
            if set_cookie is not None:
                extra.append((b"set-cookie", set_cookie))
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


#: the cookie that carries the class's join code on every later request and WebSocket
CLASS_COOKIE = "lifecycle-class"


def _class_cookie(code: str) -> bytes:
    return f"{CLASS_COOKIE}={code}; Path=/; HttpOnly; SameSite=Strict".encode()


JOIN_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Join the class</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:Arial,sans-serif;font-size:20px;max-width:520px;margin:60px auto;padding:0 16px">
<h1 style="font-size:28px">Lifecycle Lab: join the class</h1>{message}
<form method="get" action="/">
<p><label>Class code (on the trainer's screen)<br><input name="code" id="code" autocomplete="off" required
 style="font-size:22px;text-transform:uppercase" maxlength="12"></label></p>
<p><label>Your name<br><input name="name" id="name" required maxlength="40" style="font-size:22px"></label></p>
<p><button type="submit" style="font-size:22px">Join</button></p></form></body></html>"""


async def _join_form(send, wrong: bool) -> None:
    message = '<p class="join-error" style="color:#b00020">That is not the class code.</p>' if wrong else ""
    body = JOIN_FORM.format(message=message).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *NO_FRAMING]})
    await send({"type": "http.response.body", "body": body})


class HostOriginGuard:
    """ASGI middleware: refuse requests whose ``Host`` (or WebSocket ``Origin``) is not allowed.

    ``app``: the ASGI app behind it (Solara's Starlette app). Refusals are logged once per
    distinct value (at most 100 of them) at warning level, without the path (a WebSocket's path
    holds its session's kernel id); lifespan messages pass unchanged.
    """

    def __init__(self, app, allow: Allowed, class_code: str | None = None) -> None:
        self.app = app
        self.allow = allow
        #: with ``lifecycle app --class``: every request and WebSocket must carry this join code
        self.class_code = class_code
        self._logged: set[tuple[str, str]] = set()

    def _code_of(self, scope) -> tuple[str | None, str | None]:
        """(code in the class cookie, code in the query string ``code=``)."""
        from http.cookies import CookieError, SimpleCookie
        from urllib.parse import parse_qs

        cookie = None
        try:
            jar = SimpleCookie(_header(scope, b"cookie") or "")
            cookie = jar[CLASS_COOKIE].value if CLASS_COOKIE in jar else None
        except CookieError:
            pass
        query = parse_qs((scope.get("query_string") or b"").decode("latin-1")).get("code", [None])[0]
        return cookie, query

    def _has_code(self, given: str | None) -> bool:
        import hmac

        return bool(given) and hmac.compare_digest(given.strip().upper().encode(), self.class_code.encode())

    def refusal(self, scope) -> str | None:
        """Why this request is refused, or None if it may go on."""
        host, origin = _header(scope, b"host"), _header(scope, b"origin")
        if not self.allow.host_ok(host):
            return f"Host {_shown(host)} is not an address this app was started for"
        if scope["type"] == "websocket":
            if not self.allow.origin_ok(origin):
                return f"WebSocket from Origin {_shown(origin)}, not a page of this app"
        elif origin is not None and not self.allow.origin_ok(origin):
            return f"request from Origin {_shown(origin)}, not a page of this app"
        return None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        why = self.refusal(scope)
        if why is None and self.class_code is not None:
            cookie, query = self._code_of(scope)
            if self._has_code(cookie):
                pass
            elif scope["type"] == "http" and self._has_code(query):  # the join form: remember the code
                await self.app(scope, receive, _never_framed(send, set_cookie=_class_cookie(self.class_code)))
                return
            elif scope["type"] == "http":
                await _join_form(send, wrong=query is not None)
                return
            else:
                why = "WebSocket without the class code"
        if why is None:
            await self.app(scope, receive, send if scope["type"] == "websocket" else _never_framed(send))
            return
        self._log(scope, why)
        if scope["type"] == "websocket":
            message = await receive()
            if message.get("type") == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008})  # before accept: the server answers 403
            return
        body = (f"403 Forbidden: {why}.\nLifecycle Lab's classroom app answers only to the addresses it was "
                f"started for; to open it under another address, start it with\n"
                f"  lifecycle app --allow-origin http://ADDRESS:PORT\n").encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()),
                                (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})

    def _log(self, scope, why: str) -> None:
        key = (scope["type"], why)
        if key in self._logged:
            return
        if len(self._logged) < 100:
            self._logged.add(key)
        client = scope.get("client") or ("?", 0)  # no path: a WebSocket's path holds its session's kernel id
        log.warning("refused a %s request from %s: %s (allowed hosts: %s; lifecycle app --allow-origin adds one)",
                    "WebSocket" if scope["type"] == "websocket" else "HTTP", client[0], why,
                    ", ".join(sorted(self.allow.hosts)))
