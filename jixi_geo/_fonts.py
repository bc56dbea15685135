"""Find an installed CJK font for matplotlib figures (private helpers).

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: labels come out
as empty boxes. :func:`cjk_font` finds a Simplified-Chinese font, first among the
system's fonts (by family name among the fonts matplotlib knows, then by file
name under the usual font folders), then in the font package jixi_geo depends on
(``noto-cjk-sans-otc``: Noto Sans CJK under the SIL Open Font License 1.1, found
through the installed distribution's file list), and checks that it really has
the glyphs of a test string. :func:`cjk_rc` gives the rcParams that select it
explicitly.
"""

from __future__ import annotations

import glob
import importlib.metadata
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import JixiGeoError

__all__ = ["CJKFont", "cjk_font", "cjk_rc", "has_glyphs", "missing_glyphs", "package_font_files",
           "PREFERRED_FAMILIES", "FONT_PACKAGES", "FONT_GLOBS", "FONT_DIRS", "PROBE"]

#: Family names tried in order (Simplified Chinese first).
PREFERRED_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Noto Serif CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
)

#: File-name patterns searched under :data:`FONT_DIRS` when no family matches.
FONT_GLOBS = ("NotoSansCJK*.tt[cf]", "NotoSansCJKsc-*.otf", "NotoSansSC-*.[ot]tf",
              "SourceHanSans*.tt[cf]", "SourceHanSans*.otf", "wqy-zenhei.ttc", "wqy-microhei.ttc",
              "NotoSerifCJK*.tt[cf]", "msyh.tt[cf]", "simhei.ttf")

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
             "/Library/Fonts", "/System/Library/Fonts", "C:/Windows/Fonts")

#: Python distributions shipping a CJK font (OFL-1.1), tried after the system fonts:
#: ``noto-cjk-sans-otc`` carries the Noto Sans CJK Regular collection (about 19 MB).
FONT_PACKAGES = ("noto-cjk-sans-otc",)

_FONT_SUFFIXES = (".ttc", ".otc", ".otf", ".ttf")

#: Characters a usable font must have (the city's name and common label words).
PROBE = "鸡西市生态格局用地图例比例尺北"

_INSTALL_HINT = ("未找到中文字体，无法绘制图件 / no CJK (Chinese) font found for the figures: the "
                 "font package jixi_geo depends on is missing. Reinstall it with `pip install "
                 "noto-cjk-sans-otc`, or install a system font, e.g. on Debian/Ubuntu `apt-get install "
                 "fonts-noto-cjk` (then delete matplotlib's font cache, ~/.cache/matplotlib, if the "
                 "font is still not found)")


@dataclass(frozen=True)
class CJKFont:
    """A font face able to draw Chinese text.

    Attributes
    ----------
    family : str
        Family name as matplotlib knows it (use in ``font.family``).
    path : pathlib.Path
        The font file.
    face_index : int
        Face inside a ``.ttc`` collection (0 for single-face files).
    """

    family: str
    path: Path
    face_index: int = 0

    def ft2font(self):
        """A :class:`matplotlib.ft2font.FT2Font` of this face."""
        from matplotlib.ft2font import FT2Font

        return FT2Font(str(self.path), face_index=self.face_index)


def missing_glyphs(font: CJKFont, text: str) -> list[str]:
    """The characters of ``text`` (other than white space) ``font`` has no glyph for."""
    face = font.ft2font()
    return sorted({ch for ch in text if not ch.isspace() and face.get_char_index(ord(ch)) == 0})


def has_glyphs(font: CJKFont, text: str = PROBE) -> bool:
    """Whether ``font`` has a glyph for every character of ``text``."""
    try:
        return not missing_glyphs(font, text)
    except (OSError, RuntimeError, ValueError):
        return False


def _by_family() -> CJKFont | None:
    from matplotlib import font_manager

    entries = font_manager.fontManager.ttflist
    for family in PREFERRED_FAMILIES:
        # regular weight first
        for e in sorted((e for e in entries if e.name == family), key=lambda e: abs(_weight(e) - 400)):
            font = CJKFont(e.name, Path(e.fname), int(getattr(e, "index", 0) or 0))
            if has_glyphs(font):
                return font
    return None


def _weight(entry) -> int:
    w = entry.weight
    return int(w) if str(w).isdigit() else 400


def _best_face(path: str) -> CJKFont | None:
    """The face of font file ``path`` to use: a Simplified Chinese face of a collection
    first; None if the file cannot be read or no face has the :data:`PROBE` glyphs."""
    from matplotlib.ft2font import FT2Font

    try:
        n_faces = FT2Font(path).num_faces
    except (OSError, RuntimeError, ValueError):
        return None
    faces = []
    for i in range(n_faces):
        face = FT2Font(path, face_index=i)
        faces.append(CJKFont(face.family_name, Path(path), i))
    # prefer a Simplified Chinese face of a collection
    faces.sort(key=lambda f: (" SC" not in f.family and "CN" not in f.family, f.face_index))
    return next((font for font in faces if has_glyphs(font)), None)


def _register(font: CJKFont) -> CJKFont:
    """Make ``font``'s file known to matplotlib; return the face matplotlib will pick."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font.path))  # registers every face of the file
    return _by_family() or font


def _by_file() -> CJKFont | None:
    for folder in FONT_DIRS:
        root = os.path.expanduser(folder)
        if not os.path.isdir(root):
            continue
        for pattern in FONT_GLOBS:
            for path in sorted(glob.glob(os.path.join(root, "**", pattern), recursive=True)):
                if "Bold" in Path(path).name and "Regular" not in Path(path).name:
                    continue
                font = _best_face(path)
                if font is not None:
                    return _register(font)
    return None


def _system_font() -> CJKFont | None:
    """A CJK font installed on the system (the first choice)."""
    return _by_family() or _by_file()


def package_font_files(dist: str) -> list[Path]:
    """The font files of an installed Python distribution, from its file list (RECORD).

    Parameters
    ----------
    dist : str
        Distribution name, e.g. ``"noto-cjk-sans-otc"``.

    Returns
    -------
    list of pathlib.Path
        Existing ``.ttc``/``.otc``/``.otf``/``.ttf`` files, sorted; empty if the
        distribution is not installed.
    """
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    paths = (Path(str(f.locate())) for f in files if f.suffix.lower() in _FONT_SUFFIXES)
    return sorted(p for p in paths if p.is_file())


def _package_font() -> CJKFont | None:
    """A CJK font shipped by one of :data:`FONT_PACKAGES` (the fallback)."""
    for dist in FONT_PACKAGES:
        for path in package_font_files(dist):
            font = _best_face(str(path))
            if font is not None:
                return _register(font)
    return None


@lru_cache(maxsize=1)
def cjk_font() -> CJKFont:
    """The CJK font the figures use.

    Returns
    -------
    CJKFont

    Raises
    ------
    JixiGeoError
        If neither a system font nor the ``noto-cjk-sans-otc`` package has
        Chinese glyphs; the message says what to install.
    """
    font = _system_font() or _package_font()
    if font is None:
        raise JixiGeoError(_INSTALL_HINT)
    return font


def cjk_rc() -> dict:
    """rcParams selecting :func:`cjk_font` explicitly (for ``matplotlib.rc_context``)."""
    font = cjk_font()
    return {
        "font.family": [font.family],
        "font.sans-serif": [font.family, "DejaVu Sans"],
        "axes.unicode_minus": False,  # not every CJK font has U+2212
        "svg.fonttype": "path",  # SVGs show the same glyphs without the font installed
        "pdf.fonttype": 42,
    }
