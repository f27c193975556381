"""The notebook-style tour in ``examples/tour.py`` runs as a user would run it, twice in one session."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import matplotlib.pyplot as plt

TOUR = Path(__file__).resolve().parents[1] / "examples" / "tour.py"


def test_the_tour_runs_twice_in_one_process():
    """Re-running every cell (re-registering its policy included) works and gives the same numbers."""
    first = runpy.run_path(str(TOUR))
    second = runpy.run_path(str(TOUR))
    plt.close("all")
    for ns in (first, second):
        m = ns["summary"]["metrics"]
        assert math.isfinite(m["ltv_mean"]) and ns["report"].counterfactual is not None
        assert ns["ltv"]["true_effect"] is not None
        # the published-scale CDNOW fit (full log, 39 + 39 weeks; see tests/analysis/calibration)
        assert abs(ns["fit"].purchases.params_["r"] - 0.2516) < 5e-4
        assert len(ns["axes"].get_lines()) == len(ns["stages"])
    assert first["summary"]["metrics"] == second["summary"]["metrics"]
    assert first["ltv"] == second["ltv"]
