"""The customers themselves: the followed sample's dots, the whole population's squares, the stage legend.

:func:`sample_dots` draws the customers a :class:`~lifecycle.app.sample.DotSample` follows, each in
its own fixed place; :func:`aggregate_squares` the whole population as 200 squares by stage share;
:func:`customer_dots` is the older view (one dot per customer, squares above a limit).
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np

from lifecycle.app.charts.base import W, Figure, _e, _svg_open, stage_colors
from lifecycle.app.limits import DOT_VIEW_LIMIT


def _circle_mask(cell: int) -> np.ndarray:
    r = cell * 0.42
    c = (cell - 1) / 2
    yy, xx = np.mgrid[0:cell, 0:cell]
    return (yy - c) ** 2 + (xx - c) ** 2 <= r * r


def _hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def customer_dots(stage_codes: np.ndarray, stage_names, churned, *, day: int = 0, limit: int = DOT_VIEW_LIMIT,
                  width: int = W) -> Figure:
    """One dot per customer coloured by stage (a PNG), or above ``limit`` customers an aggregate view.

    Customers are laid out in acquisition order, row by row, so a customer keeps its place while
    it changes colour, and newcomers appear at the end. Above ``limit`` the view switches to 200
    squares, each 0.5% of the customers, coloured by stage share.
    """
    codes = np.asarray(stage_codes)
    n = int(codes.size)
    colors = stage_colors(stage_names, churned)
    counts = np.bincount(codes.astype(np.int64), minlength=len(stage_names))[: len(stage_names)] if n else \
        np.zeros(len(stage_names), dtype=np.int64)
    data = {"customers": n, "counts": dict(zip(stage_names, counts.tolist())), "limit": limit}
    if n == 0:
        return Figure("dots", '<div style="color:#777">No customers yet.</div>', "No customers yet.", data)
    if n > limit:
        return _aggregate_squares(counts, stage_names, colors, n, day, limit, data)
    from PIL import Image

    cols = max(1, math.ceil(math.sqrt(n * 2.2)))
    cell = int(min(18, max(3, width // cols)))
    rows = math.ceil(n / cols)
    palette = np.array([_hex_rgb(c) for c in colors] + [(255, 255, 255)], dtype=np.uint8)
    grid = np.full(rows * cols, len(colors), dtype=np.int64)
    grid[:n] = codes
    img = palette[grid.reshape(rows, cols)]  # (rows, cols, 3)
    img = np.repeat(np.repeat(img, cell, axis=0), cell, axis=1)
    mask = np.tile(_circle_mask(cell), (rows, cols))
    img[~mask] = 255
    buf = io.BytesIO()
    Image.fromarray(img, "RGB").save(buf, format="PNG", optimize=False, compress_level=1)
    src = base64.b64encode(buf.getvalue()).decode("ascii")
    alt = f"{n:,} customers, one dot each, coloured by stage"
    markup = (f'<img src="data:image/png;base64,{src}" alt="{_e(alt)}" data-chart="dots" data-day="{day}" '
              f'data-customers="{n}" width="{cols * cell}" height="{rows * cell}" '
              f'style="max-width:100%;height:auto;image-rendering:pixelated"/>')
    caption = f"{n:,} customers, one dot each (dot view up to {limit:,} customers)."
    data.update(mode="dots", cell=cell, cols=cols, rows=rows)
    return Figure("dots", markup, caption, data)


def _aggregate_squares(counts, names, colors, n, day, limit, data, kind: str = "dots", titled: bool = True) -> Figure:
    cells = 200
    exact = counts / n * cells
    share = np.floor(exact).astype(int)
    for k in np.argsort(-(exact - share))[: cells - share.sum()]:
        share[k] += 1
    cols, size, gap = 20, 22, 3
    rows = cells // cols
    top = 28 if titled else 8
    w, h = cols * (size + gap) + 10, rows * (size + gap) + top
    title = f"{n:,} customers: each square is 0.5%"
    parts = _svg_open(kind, day, title, w, h, extra=f' data-customers="{n}" data-mode="aggregate"')
    if not titled:
        parts.pop()  # the visible title line; the accessible <title> stays
    k = 0
    for s, m in enumerate(share):
        for _ in range(int(m)):
            r, c = divmod(k, cols)
            parts.append(f'<rect x="{5 + c * (size + gap)}" y="{top - 4 + r * (size + gap)}" width="{size}" height="{size}" '
                         f'rx="3" fill="{colors[s]}"><title>{_e(names[s])}: {int(counts[s]):,}</title></rect>')
            k += 1
    parts.append("</svg>")
    caption = (f"{n:,} customers: above {limit:,} the dot view switches to this aggregate view "
               f"(each square is 0.5% of customers).")
    data.update(mode="aggregate", squares=dict(zip(names, share.tolist())))
    return Figure("dots", "".join(parts), caption, data)


def stage_legend(stage_names, churned, counts: dict | None = None, texts: dict | None = None) -> str:
    """HTML legend: a swatch, the stage name and count; hovering shows the stage's explain text."""
    colors = stage_colors(stage_names, churned)
    items = []
    for name, color in zip(stage_names, colors):
        count = f" {counts.get(name, 0):,}" if counts else ""
        tip = f' title="{_e(texts.get(name, ""))}"' if texts else ""
        items.append(f'<span{tip} style="display:inline-flex;align-items:center;margin:2px 10px 2px 0;font-size:12px">'
                     f'<span style="width:12px;height:12px;border-radius:6px;background:{color};display:inline-block;'
                     f'margin-right:4px"></span>{_e(name)}<b style="margin-left:3px">{_e(count)}</b></span>')
    return f'<div data-legend="stages" style="line-height:1.6">{"".join(items)}</div>'


def _dot_png(grid_codes: np.ndarray, colors, cols: int, rows: int, cell: int) -> str:
    from PIL import Image

    palette = np.array([_hex_rgb(c) for c in colors] + [(255, 255, 255)], dtype=np.uint8)
    img = palette[grid_codes.reshape(rows, cols)]
    img = np.repeat(np.repeat(img, cell, axis=0), cell, axis=1)
    img[~np.tile(_circle_mask(cell), (rows, cols))] = 255
    buf = io.BytesIO()
    Image.fromarray(img, "RGB").save(buf, format="PNG", optimize=False, compress_level=1)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def sample_dots(sample, stage_codes: np.ndarray, stage_names, churned, *, day: int = 0, width: int = W,
                palette=None) -> Figure:
    """The followed customers (``sample``, a :class:`~lifecycle.app.sample.DotSample`), one dot each, in fixed places.

    ``stage_codes`` is the whole population's stage column (row = customer). The grid is sized for
    the whole sample from day 0, so no dot ever moves: slot ``j`` always holds the same customer,
    and a newcomer's slot stays white until it arrives. ``data`` holds the layout (``cols``,
    ``rows``, ``cell``) and ``rows_shown``, the state rows in slot order (what the click on a dot
    and the tests read).
    """
    codes = np.asarray(stage_codes)
    n = int(codes.size)
    colors = list(palette) if palette is not None else stage_colors(stage_names, churned)
    shown = sample.rows(n)
    size = max(1, sample.size)
    cols = max(1, math.ceil(math.sqrt(size * 2.2)))
    cell = int(min(18, max(3, width // cols)))
    rows = math.ceil(size / cols)
    grid = np.full(rows * cols, len(colors), dtype=np.int64)
    grid[: shown.size] = codes[shown]
    counts = np.bincount(codes[shown].astype(np.int64), minlength=len(stage_names))[: len(stage_names)]
    data = {"customers": int(shown.size), "population": n, "counts": dict(zip(stage_names, counts.tolist())),
            "mode": "sample", "cols": cols, "rows": rows, "cell": cell, "rows_shown": shown.tolist(),
            "src": "data:image/png;base64," + _dot_png(grid, colors, cols, rows, cell)}
    caption = (f"{shown.size:,} of {n:,} customers, one dot each. {sample.describe()}")
    markup = (f'<img src="{data["src"]}" alt="{_e(caption)}" data-chart="dots" data-day="{day}" '
              f'data-customers="{shown.size}" data-population="{n}" data-mode="sample" '
              f'data-rows="{",".join(map(str, data["rows_shown"]))}" width="{cols * cell}" height="{rows * cell}" '
              f'style="max-width:100%;height:auto;image-rendering:pixelated"/>')
    return Figure("dots", markup, caption, data)


def aggregate_squares(stage_codes: np.ndarray, stage_names, churned, *, day: int = 0, palette=None,
                      titled: bool = True) -> Figure:
    """The whole population as 200 squares, each 0.5% of the customers, coloured by stage share.

    ``titled=False`` leaves out the title line inside the figure (the caption says the same).
    """
    codes = np.asarray(stage_codes)
    n = int(codes.size)
    colors = list(palette) if palette is not None else stage_colors(stage_names, churned)
    counts = np.bincount(codes.astype(np.int64), minlength=len(stage_names))[: len(stage_names)] if n else \
        np.zeros(len(stage_names), dtype=np.int64)
    data = {"customers": n, "counts": dict(zip(stage_names, counts.tolist()))}
    if n == 0:
        return Figure("squares", '<div style="color:#777">No customers yet.</div>', "No customers yet.", data)
    fig = _aggregate_squares(counts, stage_names, colors, n, day, n, data, kind="squares", titled=titled)
    caption = f"All {n:,} customers: each square is 0.5% of them."
    return Figure("squares", fig.markup, caption, fig.data)
