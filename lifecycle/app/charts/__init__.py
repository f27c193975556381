"""Cheap figure builders for the classroom page: SVG (and one PNG) from aggregate series only.

Every builder takes finished aggregates (a :class:`sim.records.RunResult`, a history of daily
metrics, the stage code column for the dot view) and returns a :class:`Figure`: the markup to show,
a one-line caption saying what it shows now, and the series it drew (what the tests read). Drawing
is string building plus, for the dot view, one small PNG from a numpy array, so a figure costs
milliseconds whatever the population; long series are thinned to at most ``MAX_POINTS`` points.

Modules, by chart family (everything is importable from here):

- :mod:`~lifecycle.app.charts.base`: :class:`Figure`, :func:`stage_colors`, :func:`fmt`, :func:`line_chart`;
- :mod:`~lifecycle.app.charts.lifecycle`: :func:`stage_populations`, :func:`stage_flows` (a
  Sankey-style flow diagram of the moves between stages in the last days), :func:`cohort_retention`;
- :mod:`~lifecycle.app.charts.money`: :func:`money`, :func:`cumulative_profit`, :func:`ltv_cac`,
  :func:`retention_compare`;
- :mod:`~lifecycle.app.charts.customers`: :func:`sample_dots` (the followed sample of customers,
  each in a fixed place), :func:`aggregate_squares` (the whole population, 200 squares),
  :func:`customer_dots` (one dot per customer up to :data:`lifecycle.app.limits.DOT_VIEW_LIMIT`),
  :func:`stage_legend`;
- :mod:`~lifecycle.app.charts.projector`: :func:`for_projector` (a figure restyled for a projector:
  large type, dark text, thick lines, the Okabe-Ito stage palette of :func:`projector_palette`);
- :mod:`~lifecycle.app.charts.tables`: HTML tables :func:`channel_table` and :func:`comparison_table`.

All text that comes from a scenario (stage, channel, tier names) is escaped: an uploaded file can
name its stages anything.
"""

from __future__ import annotations

from lifecycle.app.charts.base import FLOW_PERIODS, MAX_POINTS, Figure, fmt, line_chart, stage_colors
from lifecycle.app.charts.customers import aggregate_squares, customer_dots, sample_dots, stage_legend
from lifecycle.app.charts.lifecycle import cohort_retention, stage_flows, stage_populations
from lifecycle.app.charts.projector import MIN_FONT, OKABE_ITO, for_projector, projector_palette
from lifecycle.app.charts.money import cumulative_profit, ltv_cac, money, retention_compare
from lifecycle.app.charts.tables import channel_table, comparison_table

__all__ = [
    "Figure", "stage_colors", "stage_populations", "stage_flows", "cohort_retention", "money",
    "cumulative_profit", "ltv_cac", "retention_compare", "customer_dots", "sample_dots", "aggregate_squares", "stage_legend", "channel_table",
    "comparison_table", "MAX_POINTS", "FLOW_PERIODS", "fmt", "line_chart", "for_projector", "projector_palette",
    "OKABE_ITO", "MIN_FONT",
]  # fmt: skip
