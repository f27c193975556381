"""The page's one widget of its own: the dot view, where a click on a dot names that customer.

Core object: :class:`DotView`, an ``ipyvue.VueTemplate``: the dot image (a PNG drawn by
:func:`lifecycle.app.charts.sample_dots`), a ring around the followed customer's dot, and a
click handler that turns the click's position into the dot's slot (row and column of the grid,
whatever size the image is shown at) and hands it to Python through the ``picked`` trait
(``"slot:clicks"``, so a second click on the same dot is a change too).
"""

from __future__ import annotations

import ipyvue
import traitlets

__all__ = ["DotView"]

TEMPLATE = """
<template>
  <div class="dot-view" style="position:relative;display:inline-block;max-width:100%;line-height:0">
    <img :src="src" data-chart="dots" :data-day="day" :data-customers="customers" :data-population="population"
         data-mode="sample" :data-rows="rows" :data-cols="cols" :width="cols * cell" :height="nrows * cell" :alt="alt"
         style="max-width:100%;height:auto;image-rendering:pixelated;cursor:pointer" @click="click"/>
    <div v-if="ring >= 0" class="dot-follow" :style="ringStyle"></div>
  </div>
</template>
<script>
module.exports = {
  computed: {
    ringStyle() {
      const w = this.cols * this.cell, h = this.nrows * this.cell;
      const col = this.ring % this.cols, row = Math.floor(this.ring / this.cols);
      const pad = this.cell * 1.5;
      return `position:absolute;pointer-events:none;border:3px solid #000;border-radius:50%;` +
             `box-shadow:0 0 0 3px #fff;` +
             `left:${100 * (col * this.cell - pad) / w}%;top:${100 * (row * this.cell - pad) / h}%;` +
             `width:${100 * (this.cell + 2 * pad) / w}%;height:${100 * (this.cell + 2 * pad) / h}%`;
    }
  },
  methods: {
    click(e) {
      const img = e.target, rect = img.getBoundingClientRect();
      const x = (e.clientX - rect.left) * (this.cols * this.cell) / rect.width;
      const y = (e.clientY - rect.top) * (this.nrows * this.cell) / rect.height;
      const col = Math.floor(x / this.cell), row = Math.floor(y / this.cell);
      if (col < 0 || col >= this.cols || row < 0 || row >= this.nrows) return;
      this.clicks = this.clicks + 1;
      this.picked = `${row * this.cols + col}:${this.clicks}`;
    }
  }
}
</script>
"""


class DotView(ipyvue.VueTemplate):
    """The clickable dot view; ``picked`` becomes ``"<slot>:<n>"`` on the n-th click (slot = row * cols + col)."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    src = traitlets.Unicode("").tag(sync=True)
    alt = traitlets.Unicode("").tag(sync=True)
    day = traitlets.Int(0).tag(sync=True)
    customers = traitlets.Int(0).tag(sync=True)
    population = traitlets.Int(0).tag(sync=True)
    rows = traitlets.Unicode("").tag(sync=True)
    cols = traitlets.Int(1).tag(sync=True)
    nrows = traitlets.Int(1).tag(sync=True)
    cell = traitlets.Int(1).tag(sync=True)
    ring = traitlets.Int(-1).tag(sync=True)
    clicks = traitlets.Int(0).tag(sync=True)
    picked = traitlets.Unicode("").tag(sync=True)
