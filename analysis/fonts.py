"""Fonts for plots whose labels are user text (stage, channel, tier, segment and policy names).

Matplotlib's default font (DejaVu Sans) has no CJK glyphs, so Chinese stage names come out as empty
boxes unless a CJK font is in the font family list. :func:`plot_fonts` is a context manager that
puts the installed CJK fonts after the current default family (matplotlib falls back glyph by
glyph) for the figures created inside it; :func:`unicode_labels` decorates a function returning a
Figure with it, then checks the figure's texts against the fonts and warns once, naming the glyphs
no installed font has and the Debian package to install (``fonts-wqy-microhei``).

Nothing here changes global state at import (matplotlib is not even imported): rcParams are only
changed inside ``matplotlib.rc_context``. The font lookup runs once per process (cached). If
matplotlib's font cache predates the font's installation, the fonts ``fc-list :lang=zh`` reports
(or the known Debian paths) are registered with ``font_manager.fontManager.addfont``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import threading
import warnings

__all__ = ["CJK_FONTS", "CJK_PACKAGE", "cjk_fonts", "font_family", "plot_fonts", "missing_glyphs",
           "warn_missing_glyphs", "unicode_labels"]

#: Debian package with a CJK font (``make system-deps`` installs it).
CJK_PACKAGE = "fonts-wqy-microhei"

#: Preferred CJK families, best first; any other installed font with CJK glyphs comes after these.
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Noto Sans CJK JP",
             "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN", "AR PL UKai CN")

#: Font files Debian packages install, tried when matplotlib's font list does not know them.
KNOWN_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)

# A font counts as CJK-capable when it has all of these (common hanzi, and those of the shipped preset).
_PROBE = "的一是中文期入导成长"
# Matplotlib's own placeholder font: it "has" every code point, drawn as a box; never a real fallback.
_NOT_REAL = ("Last Resort", "LastResort")
_MAX_FALLBACKS = 3

_lock = threading.Lock()
_warned: set[str] = set()


def _face_chars(path: str, index: int = 0) -> frozenset[int]:
    """Code points the face has a glyph for (plain data, so it is safe to cache across fork)."""
    return _face_chars_cached(os.path.realpath(path), index)


@functools.lru_cache(maxsize=64)
def _face_chars_cached(path: str, index: int) -> frozenset[int]:
    from matplotlib import ft2font

    try:
        font = ft2font.FT2Font(path, face_index=index) if index else ft2font.FT2Font(path)
        return frozenset(code for code, glyph in font.get_charmap().items() if glyph)
    except (OSError, RuntimeError, TypeError, ValueError):
        return frozenset()


def _has_probe(path: str, index: int) -> bool:
    from matplotlib import ft2font

    try:
        font = ft2font.FT2Font(path, face_index=index) if index else ft2font.FT2Font(path)
        return all(font.get_char_index(ord(c)) for c in _PROBE)
    except (OSError, RuntimeError, TypeError, ValueError):
        return False


def _scan_font_manager() -> dict[str, tuple[str, int]]:
    """CJK-capable families matplotlib knows: name -> (file, face index) of one regular face."""
    from matplotlib import font_manager

    found: dict[str, tuple[str, int]] = {}
    tried: dict[tuple[str, int], bool] = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.name in found or any(s in entry.name for s in _NOT_REAL):
            continue
        if entry.style != "normal":
            continue
        key = (entry.fname, int(getattr(entry, "index", 0) or 0))
        if key not in tried:
            tried[key] = _has_probe(*key)
        if tried[key]:
            found[entry.name] = key
    return found


def _system_cjk_files() -> list[str]:
    """Font files fontconfig lists for Chinese, then the known Debian paths that exist."""
    files: list[str] = []
    fc_list = shutil.which("fc-list")
    if fc_list:
        try:
            out = subprocess.run([fc_list, "--format", "%{file}\n", ":lang=zh"], capture_output=True, text=True,
                                 timeout=20, check=False).stdout
            files += [line.strip() for line in out.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    files += [p for p in KNOWN_FONT_FILES if os.path.isfile(p)]
    return list(dict.fromkeys(files))


def _order(found: dict[str, tuple[str, int]]) -> tuple[str, ...]:
    preferred = [f for f in CJK_FONTS if f in found]
    others = sorted(f for f in found if f not in preferred)
    # one family per file is enough (e.g. "WenQuanYi Micro Hei" and its "Mono" twin share the glyphs)
    names, files = [], set()
    for name in preferred + others:
        if found[name][0] not in files:
            files.add(found[name][0])
            names.append(name)
    return tuple(names[:_MAX_FALLBACKS])


@functools.lru_cache(maxsize=1)
def _cjk_fonts() -> tuple[tuple[str, tuple[str, int]], ...]:
    from matplotlib import font_manager

    found = _scan_font_manager()
    if not found:
        # matplotlib's font list is cached on disk and may predate the font's installation
        known = {os.path.realpath(e.fname) for e in font_manager.fontManager.ttflist}
        for path in _system_cjk_files():
            if os.path.realpath(path) in known:
                continue
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
        found = _scan_font_manager()
    return tuple((name, found[name]) for name in _order(found))


def _cjk_table() -> dict[str, tuple[str, int]]:
    with _lock:  # the first lookup may register fonts with matplotlib; let one thread do it
        return dict(_cjk_fonts())


def cjk_fonts() -> tuple[str, ...]:
    """Family names of the installed CJK-capable fonts, preferred first (looked up once per process)."""
    return tuple(_cjk_table())


def font_family(base=None) -> list[str]:
    """``base`` (default: the current ``rcParams["font.family"]``) followed by the CJK fonts as fallbacks."""
    import matplotlib

    if base is None:
        base = matplotlib.rcParams["font.family"]
    base = [base] if isinstance(base, str) else list(base)
    return base + [f for f in cjk_fonts() if f not in base]


@contextlib.contextmanager
def plot_fonts():
    """Figures (and their texts) created inside use the CJK fonts as fallbacks; rcParams are restored after.

    Text objects keep the family list they were created with, so the figure draws right when it is
    saved after the block, too.
    """
    import matplotlib

    with matplotlib.rc_context({"font.family": font_family()}):
        yield


def _chars_by_family(fig) -> dict[tuple[str, ...], dict[str, None]]:
    """Printable, non-space characters of the figure's visible non-math texts, by the texts' family list."""
    from matplotlib import cbook
    from matplotlib.text import Text

    chars: dict[tuple[str, ...], dict[str, None]] = {}  # dicts keep the order of first appearance
    for text in fig.findobj(Text):
        s = text.get_text()
        if not s or not text.get_visible() or cbook.is_math_text(s):
            continue
        family = tuple(text.get_fontproperties().get_family())
        chars.setdefault(family, {}).update(dict.fromkeys(c for c in s if not c.isspace() and c.isprintable()))
    return chars


def _family_chars(families) -> frozenset[int]:
    """Code points covered by the fonts ``families`` resolves to (generic names as matplotlib resolves them)."""
    from matplotlib import font_manager

    cjk = _cjk_table()
    covered: set[int] = set()
    for family in families:
        if family in cjk:
            covered |= _face_chars(*cjk[family])
            continue
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=[family]), fallback_to_default=False)
        except ValueError:
            continue
        if not any(s in os.path.basename(path) for s in _NOT_REAL):
            covered |= _face_chars(path)
    return frozenset(covered)


def missing_glyphs(fig) -> list[str]:
    """Characters of the figure's texts that none of the fonts in their text's family list has, in text order."""
    missing: dict[str, None] = {}
    for families, chars in _chars_by_family(fig).items():
        if all(ord(c) < 128 for c in chars):
            continue  # every font matplotlib may pick has ASCII; skip the lookup
        covered = _family_chars(families)
        missing.update(dict.fromkeys(c for c in chars if ord(c) not in covered))
    return list(missing)


def warn_missing_glyphs(fig, *, stacklevel: int = 2) -> list[str]:
    """Warn (once per process for the same glyphs) if no installed font has some of the figure's characters."""
    missing = missing_glyphs(fig)
    with _lock:
        new = [c for c in missing if c not in _warned]
        _warned.update(new)
    if new:
        shown = "".join(new[:40]) + ("..." if len(new) > 40 else "")
        installed = ", ".join(cjk_fonts()) or "none"
        warnings.warn(
            f"No installed font has the glyphs {shown!r} used in plot labels; they are drawn as empty boxes "
            f"(CJK fonts found: {installed}). Install a CJK font, on Debian: apt-get install {CJK_PACKAGE}",
            UserWarning, stacklevel=stacklevel + 1)
    return missing


def unicode_labels(make_figure):
    """Decorate a function returning a Figure: build it inside :func:`plot_fonts`, warn about glyphs no font has."""

    @functools.wraps(make_figure)
    def wrapper(*args, **kwargs):
        with plot_fonts():
            fig = make_figure(*args, **kwargs)
        warn_missing_glyphs(fig, stacklevel=2)
        return fig

    return wrapper
