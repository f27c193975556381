"""Projector mode: the same figures, legible from the back row of a room with a washed-out projector.

Core objects: :data:`OKABE_ITO` (the colour-blind-safe palette of Okabe and Ito, ordered so the
first stages get the colours that survive a pale projector best), :func:`projector_palette`
(stage colours: Okabe-Ito for living stages, dark greys for churned ones) and
:func:`for_projector` (an SVG figure's markup with every text at least :data:`MIN_FONT` units,
dark text and grid lines, and thicker lines). The page shows one figure per screen in projector
mode, wide enough that :data:`MIN_FONT` units are at least 18 px at 1024x768.

References
----------
Okabe, M. and Ito, K. (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import re

__all__ = ["OKABE_ITO", "PROJECTOR_GREYS", "MIN_FONT", "projector_palette", "for_projector"]

#: blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow (the palette's own colours)
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
#: churned stages: dark enough to read on a washed-out screen, still apart from each other
PROJECTOR_GREYS = ("#404040", "#000000", "#6b6b6b", "#222222")
#: the smallest font size (SVG units) in projector mode; the page draws a figure at least 1.4 px per unit at 1024x768
MIN_FONT = 13

_FONT = re.compile(r'font-size="([0-9.]+)"')
_LIGHT_TEXT = re.compile(r'fill="#(?:555|777|444|333|999)"')
_GRID = re.compile(r'stroke="#e6e6e6"')
_WIDTH = re.compile(r'stroke-width="([0-9.]+)"')


def projector_palette(names, churned) -> list[str]:
    """One colour per stage: Okabe-Ito for living stages (in order), dark greys for churned ones."""
    out, k, g = [], 0, 0
    for flag in churned:
        if flag:
            out.append(PROJECTOR_GREYS[g % len(PROJECTOR_GREYS)])
            g += 1
        else:
            out.append(OKABE_ITO[k % len(OKABE_ITO)])
            k += 1
    return out


def for_projector(markup: str, stage_names=(), churned=()) -> str:
    """``markup`` restyled for a projector: fonts at least MIN_FONT, dark text, visible grid, thick lines.

    With the scenario's ``stage_names`` and ``churned`` flags, the stage colours of the normal
    palette are replaced by :func:`projector_palette`'s (same stage, same position).
    """
    from lifecycle.app.charts.base import stage_colors

    out = _FONT.sub(lambda m: f'font-size="{max(float(m.group(1)), MIN_FONT):g}"', markup)
    out = _LIGHT_TEXT.sub('fill="#000"', out)
    out = _GRID.sub('stroke="#9a9a9a"', out)
    out = _WIDTH.sub(lambda m: f'stroke-width="{max(float(m.group(1)) * 1.6, 2):g}"', out)
    if stage_names:  # one pass, so a colour already replaced is never replaced again
        swap = {a.lower(): b for a, b in zip(stage_colors(stage_names, churned), projector_palette(stage_names, churned))}
        colours = "|".join(re.escape(c) for c in swap)
        out = re.sub(f'(stroke="|fill="|background:)({colours})', lambda m: m.group(1) + swap[m.group(2).lower()], out,
                     flags=re.I)
    return out
