"""Chinese glyphs in matplotlib plots: the drill dashboard and the instructor's report share this.

matplotlib's default DejaVu Sans has no CJK glyphs (every 汉字 becomes a box); pick an installed
CJK family instead. matplotlib is imported only when asked, so importing this module is free.
"""

from __future__ import annotations

# Font families that carry Chinese glyphs, most preferred first.
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Noto Sans CJK JP",
    "Noto Serif CJK SC", "AR PL UMing CN",
)


def cjk_font() -> str | None:
    """The name of an installed CJK font matplotlib can use, or None (then fall back silently)."""
    try:
        from matplotlib import font_manager
    except Exception:  # noqa: BLE001
        return None
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    # Installed after matplotlib built its font cache: register the files directly.
    try:
        for path in font_manager.findSystemFonts():
            low = path.lower()
            if any(key in low for key in ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy", "simhei", "msyh")):
                font_manager.fontManager.addfont(path)
    except Exception:  # noqa: BLE001
        return None
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


def cjk_rc() -> dict:
    """matplotlib rc settings that draw Chinese text with ``cjk_font()`` (for ``matplotlib.rc_context``).

    The family is named outright, not through "sans-serif": a text keeps the family it was created
    with, so the figure draws in the CJK font even when saved outside the context."""
    rc = {"axes.unicode_minus": False}
    font = cjk_font()
    if font:
        rc["font.family"] = [font, "sans-serif"]
    return rc
