"""The page process: Solara's Starlette app behind the Host/Origin guard, served by uvicorn.

``python -m lifecycle.app.asgi --host H --port P [--allow-origin ORIGIN ...]`` is what
``lifecycle app`` starts (:func:`lifecycle.app.server.command`). It does what ``solara run
lifecycle.app.page --production`` does for this app (the page module, production mode, Solara's
log format), but uvicorn serves :class:`lifecycle.app.guard.HostOriginGuard` wrapped around Solara's
app instead of the bare app: ``solara run`` has no hook for middleware, and Starlette builds its
middleware stack when the server starts, so the guard is put around the app before uvicorn gets it.
Unlike ``solara run`` it never contacts the internet (no version check); the page's scripts and
styles come from the installed ``solara-assets`` package.

Core function: :func:`main`. :func:`guarded_app` builds the wrapped app (importing Solara's
server, which loads the page module, so it runs after the environment is set).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

__all__ = ["main", "guarded_app", "logging_config", "PAGE_MODULE"]

PAGE_MODULE = "lifecycle.app.page"


def logging_config(level: str = "warning") -> dict:
    """uvicorn's formatters; Solara, uvicorn and the lab's own loggers (``lifecycle``) to stderr at ``level``."""
    level = level.upper()
    handler = {"formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(name)s: %(message)s",
                                   "use_colors": None}},
        "handlers": {"default": handler},
        "loggers": {
            "solara": {"handlers": ["default"], "level": level, "propagate": False},
            "reacton": {"handlers": ["default"], "level": "ERROR", "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["default"], "level": "ERROR", "propagate": False},
            "lifecycle": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }  # fmt: skip


def guarded_app(host: str, port: int, origins=()):
    """Solara's Starlette app for :data:`PAGE_MODULE`, wrapped in the Host/Origin guard for ``host:port``."""
    from lifecycle.app.guard import HostOriginGuard, allowed

    allow = allowed(host, port, origins)  # ConfigError for a bad --allow-origin, before anything starts
    os.environ["SOLARA_APP"] = PAGE_MODULE  # read when Solara's server module is imported (below)
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(int(port))
    import solara.server.settings as solara_settings

    solara_settings.main.mode = "production"  # no code reloading, cached assets
    solara_settings.main.use_pdb = False
    solara_settings.ssg.enabled = False
    solara_settings.search.enabled = False
    import solara.server.starlette as solara_starlette

    # Why Solara warns on every page load, and why the warning does not apply here: Solara's page
    # handler tries to give the session cookie SameSite=None, so that the page still works inside
    # another site's iframe; browsers take SameSite=None only with Secure, i.e. over https (or on
    # "localhost"). Served over plain http at 127.0.0.1 or a room address, it warns and sets
    # SameSite=Lax, which is exactly what a page that is never embedded needs. The guard makes
    # "never embedded" true (frame-ancestors 'none' on every answer), so this one warning, from
    # this one module, says nothing about this app and is ignored; any other warning still shows.
    warnings.filterwarnings("ignore", message=r"Cookies with samesite=none require https", category=UserWarning,
                            module=r"solara\.server\.starlette")

    from lifecycle.app.classroom import CODE_ENV

    return HostOriginGuard(solara_starlette.app, allow, class_code=os.environ.get(CODE_ENV) or None)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lifecycle.app.asgi", description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    return p


def main(argv=None) -> int:
    """Serve the page until stopped (Ctrl+C or SIGTERM); 2 with one ``error:`` line for a bad option."""
    args = _parser().parse_args(argv)
    from scenarios.errors import ConfigError

    try:
        app = guarded_app(args.host, args.port, args.allow_origin)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    config = uvicorn.Config(app, host=args.host, port=args.port, log_config=logging_config(args.log_level),
                            log_level=args.log_level, access_log=False, loop="asyncio", lifespan="on")
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":  # pragma: no cover - run as the server process
    sys.exit(main())
