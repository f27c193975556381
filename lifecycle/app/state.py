"""The classroom controller's names in one place, for code written before the split.

The controller now lives in small modules; import from them in new code:

- :mod:`lifecycle.app.limits`: population, run length, speed and arrival limits; :class:`LeverError`;
- :mod:`lifecycle.app.sources`: presets and upload labels;
- :mod:`lifecycle.app.levers`: :class:`Lever` and the levers built from the policies' metadata;
- :mod:`lifecycle.app.settings`: :class:`Setting` (lever values as a scenario) and the models it builds;
- :mod:`lifecycle.app.snapshots`: :class:`Snapshot` and the metrics the page shows;
- :mod:`lifecycle.app.controller`: :class:`Controller` and :class:`ClassroomModel`.
"""

from __future__ import annotations

from lifecycle.app.controller import ClassroomModel, Controller
from lifecycle.app.levers import Lever
from lifecycle.app.limits import (
    DEFAULT_CUSTOMERS, DEFAULT_SPEED, DOT_VIEW_LIMIT, MAX_CUSTOMERS, MAX_DAILY_ARRIVALS, MAX_DAYS, MIN_CUSTOMERS,
    SPEEDS, LeverError, choose_engine, expected_arrivals,
)  # fmt: skip
from lifecycle.app.settings import Setting
from lifecycle.app.snapshots import Snapshot
from lifecycle.app.sources import preset_description, preset_names, safe_label

__all__ = [
    "Controller", "Setting", "Lever", "LeverError", "ClassroomModel", "Snapshot", "safe_label",
    "preset_names", "preset_description", "DEFAULT_CUSTOMERS", "MIN_CUSTOMERS", "MAX_CUSTOMERS", "MAX_DAYS",
    "DOT_VIEW_LIMIT", "MAX_DAILY_ARRIVALS", "expected_arrivals", "choose_engine", "SPEEDS", "DEFAULT_SPEED",
]  # fmt: skip
