"""Plots draw user labels (Chinese stage names of the shipped preset) with real glyphs, not empty boxes.

Matplotlib's default font has no CJK glyphs; without a CJK fallback it draws each such character
as the same placeholder box (tofu) and warns "Glyph ... missing from font(s)". The rendering tests
need a CJK font on the machine (Debian: ``fonts-wqy-microhei``, installed by ``make system-deps``)
and are skipped, saying so, only where ``fc-list`` knows none.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import warnings

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis import fonts  # noqa: E402

LABEL = "引入期"
MISSING = "missing from font"


def _cjk_font_installed() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list:
        out = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30,
                             check=False).stdout
        if out.strip():
            return True
    return any(os.path.isfile(p) for p in fonts.KNOWN_FONT_FILES)


needs_cjk_font = pytest.mark.skipif(
    not _cjk_font_installed(),
    reason=f"no CJK font installed (fc-list :lang=zh lists none); install one: apt-get install {fonts.CJK_PACKAGE} "
           "(make system-deps)")


def _label_figure(text: str) -> Figure:
    fig = Figure(figsize=(0.45 * len(text) + 0.3, 0.6), dpi=100)
    FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, text, fontsize=28, ha="center", va="center")
    return fig


def _pixels(fig: Figure) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=f".*{MISSING}")  # expected for the tofu reference
        fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(np.int16).copy()


def _render_with_project_fonts(text: str) -> np.ndarray:
    """The label drawn the way the project's plots draw it (the decorator analysis.plots uses)."""
    return _pixels(fonts.unicode_labels(_label_figure)(text))


def _render_as_tofu(text: str) -> np.ndarray:
    """The label drawn with matplotlib's default font only: what the bug looked like."""
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        fig = _label_figure(text)
    return _pixels(fig)


def _ink(img: np.ndarray) -> int:
    return int((img.min(axis=2) < 128).sum())


def _differ_clearly(a: np.ndarray, b: np.ndarray, share: float = 0.02) -> bool:
    assert a.shape == b.shape
    changed = (np.abs(a - b).max(axis=2) > 64).sum()
    return changed > share * max(_ink(a), _ink(b), 1) and changed > 20


@pytest.fixture(scope="module")
def five_stage_run():
    from sim.model import CustomerModel
    from sim.scenario import load_scenario

    sc = load_scenario("five_stage_lifecycle")
    return CustomerModel(sc, customers=500, days=60).run()


@needs_cjk_font
def test_a_cjk_font_is_found_once_per_process():
    found = fonts.cjk_fonts()
    assert found, "fc-list lists a CJK font, but the font lookup found none"
    assert fonts.cjk_fonts() == found
    assert fonts._cjk_fonts.cache_info().misses == 1, "the font lookup ran more than once"
    family = fonts.font_family()
    assert family[: len(matplotlib.rcParams["font.family"])] == list(matplotlib.rcParams["font.family"])
    assert found[0] in family


@needs_cjk_font
def test_chinese_stage_name_renders_as_glyphs_not_boxes():
    """引入期 drawn by the project differs from its tofu rendering, and two different characters differ."""
    tofu = _render_as_tofu(LABEL)
    drawn = _render_with_project_fonts(LABEL)
    assert _ink(drawn) > 100, "the label drew (almost) nothing"
    assert _differ_clearly(drawn, tofu), "the label looks like the missing-glyph boxes"

    # tofu boxes are all alike (this makes the reference trustworthy); real glyphs are not
    assert not _differ_clearly(_render_as_tofu("引"), _render_as_tofu("期"), share=0.001)
    yin, qi = _render_with_project_fonts("引"), _render_with_project_fonts("期")
    assert _differ_clearly(yin, qi), "two different characters rendered alike: missing-glyph boxes"
    assert _differ_clearly(yin, _render_as_tofu("引"))


def _redraw_alone(text) -> np.ndarray:
    """A text of a real plot drawn alone, large, with the font properties the plot gave it."""
    props = text.get_fontproperties().copy()
    props.set_size(28)
    fig = _label_figure(text.get_text())
    fig.texts[0].set_fontproperties(props)
    return _pixels(fig)


@needs_cjk_font
def test_stage_legend_of_the_preset_shows_distinct_glyphs(five_stage_run):
    """In the real stage plot, two stage names of the same length are drawn differently (tofu would be identical)."""
    import matplotlib.pyplot as plt

    from analysis.plots import stage_area

    fig = stage_area(five_stage_run)
    try:
        assert fonts.missing_glyphs(fig) == []
        texts = {t.get_text(): t for t in fig.axes[0].get_legend().get_texts()}
        assert set(five_stage_run.stage_names) <= set(texts)
        a, b = (_redraw_alone(texts[n]) for n in ("导入期", "成长期"))
    finally:
        plt.close(fig)
    assert _ink(a) > 100 and _ink(b) > 100
    assert _differ_clearly(a, b), "two different stage names rendered alike: missing-glyph boxes"
    assert _differ_clearly(a, _render_as_tofu("导入期"))


@needs_cjk_font
def test_run_plots_of_the_preset_have_no_missing_glyphs(five_stage_run):
    """stage_area, retention_plot and money_plot of five_stage_lifecycle draw without a 'Glyph ... missing' warning."""
    import matplotlib.pyplot as plt

    from analysis.plots import money_plot, retention_plot, stage_area

    before = list(matplotlib.rcParams["font.family"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for make in (stage_area, retention_plot, money_plot):
            fig = make(five_stage_run)
            fig.savefig(io.BytesIO(), format="png", dpi=60)  # drawn after the plot function returned
            plt.close(fig)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert not [m for m in messages if MISSING in m or fonts.CJK_PACKAGE in m], messages
    assert list(matplotlib.rcParams["font.family"]) == before, "plotting changed the global font settings"


def test_without_a_cjk_font_it_falls_back_quietly_with_one_warning(monkeypatch):
    """No CJK font: the default font is used and one warning names the glyphs and the Debian package."""
    monkeypatch.setattr(fonts, "_cjk_fonts", lambda: ())
    monkeypatch.setattr(fonts, "_warned", set())
    make = fonts.unicode_labels(_label_figure)
    assert fonts.font_family() == list(matplotlib.rcParams["font.family"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make(LABEL)
        make(LABEL)  # the same glyphs are not reported twice
        make("plain ascii")
    ours = [w for w in caught if fonts.CJK_PACKAGE in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    assert all(c in str(ours[0].message) for c in LABEL)
    assert ours[0].filename == __file__, "the warning points at the code that asked for the plot"


def test_importing_the_plot_modules_leaves_font_settings_alone():
    """No rcParams font change at import: the fonts are set per figure, inside rc_context."""
    import sys

    code = ("import matplotlib; before = {k: v for k, v in matplotlib.rcParams.items() if k.startswith('font.')}; "
            "import analysis.plots, analysis.report, analysis.budget.report, analysis.fonts; "
            "after = {k: v for k, v in matplotlib.rcParams.items() if k.startswith('font.')}; "
            "assert before == after, [k for k in before if before[k] != after[k]]")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
