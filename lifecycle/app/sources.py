"""Where the page's scenarios come from: the shipped presets (by name only) and labels for uploads.

Uploaded files are data only (see :meth:`lifecycle.app.controller.Controller.upload`); their
names are only ever shown, reduced by :func:`safe_label`, never used as paths.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from scenarios.errors import ConfigError
from scenarios.loader import presets
from sim.scenario import Scenario, load_scenario

__all__ = ["preset_names", "preset_description", "load_preset", "safe_label"]


@lru_cache(maxsize=1)
def _preset_table() -> tuple[tuple[str, str], ...]:
    return tuple(presets().items())


def preset_names() -> list[str]:
    """Names of the shipped presets (the only scenario names the page may load by name)."""
    return [name for name, _ in _preset_table()]


def preset_description(name: str) -> str:
    """First line of a preset's description ('' if unknown)."""
    return dict(_preset_table()).get(name, "")


def load_preset(name: str) -> Scenario:
    """The shipped preset called ``name``; ConfigError for any other name (never read as a path)."""
    if name not in preset_names():
        raise ConfigError(f"unknown preset {safe_label(name)!r}; the presets are {', '.join(preset_names())}")
    return load_scenario(name)


def safe_label(name: object, limit: int = 80) -> str:
    """A file name reduced to a harmless display label (no folders, no control characters)."""
    text = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    return (text or "upload")[:limit]
