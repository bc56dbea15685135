"""Static figures (matplotlib) with Chinese labels: pattern map, land-use shares, verdicts.

Every function returns a :class:`matplotlib.figure.Figure` made without pyplot
(no global figure state; rendering uses the Agg backend) and labels it in 中文 and
English with a CJK font: a system one if installed, else Noto Sans CJK from the
``noto-cjk-sans-otc`` package jixi_geo depends on (see :mod:`jixi_geo._fonts`).
:func:`save_figure` writes PNG, SVG or PDF
by the file's suffix.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ._fonts import cjk_font, cjk_rc
from ._io import atomic_path
from .crs import ANALYSIS_CRS, STORAGE_CRS
from .errors import InputError, SchemaError
from . import vocab
from ._style import (PATTERN_ELEMENTS, PATTERN_KEYS, REF_STYLE, check_layers_arg, layer_or_none,
                     pattern_elements)

__all__ = ["plot_pattern", "plot_landuse_shares", "plot_compliance_summary", "save_figure",
           "FIGURE_FORMATS"]

#: File suffixes :func:`save_figure` writes.
FIGURE_FORMATS = (".png", ".svg", ".pdf")

_TO_LONLAT = pyproj.Transformer.from_crs(ANALYSIS_CRS, STORAGE_CRS, always_xy=True)
_TO_GK = pyproj.Transformer.from_crs(STORAGE_CRS, ANALYSIS_CRS, always_xy=True)


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


# ==================================================================== map furniture

def _nice_length(target_m: float) -> float:
    """The largest of 1, 2, 5 × 10^k not above ``target_m``."""
    exp = 10 ** math.floor(math.log10(target_m))
    return max(n * exp for n in (1, 2, 5) if n * exp <= target_m)


def _scale_bar(ax, *, fraction: float = 0.22) -> float:
    """Draw a two-segment scale bar (EPSG:4553 metres) at the lower left; return its length."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    length = _nice_length(width * fraction)
    bx, by, bh = x0 + 0.05 * width, y0 + 0.06 * height, 0.012 * height
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(Rectangle((bx + i * length / 2, by), length / 2, bh, facecolor=colour,
                               edgecolor="black", linewidth=0.8, zorder=20))
    unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    for x, value in ((bx, 0), (bx + length / 2, length / 2), (bx + length, length)):
        label = f"{value / div:g}" + (f" {unit}" if value == length else "")
        ax.text(x, by + 1.8 * bh, label, ha="center", va="bottom", fontsize=8, zorder=20)
    ax.text(bx, by - 0.8 * bh, "比例尺 Scale", ha="left", va="top", fontsize=8, zorder=20)
    return length


def _north_arrow(ax) -> float:
    """Draw an arrow to true north (EPSG:4553 axes); return the grid convergence in degrees."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    # true north at the arrow: where the meridian through it points in grid coordinates
    ax_, ay_ = x0 + 0.07 * width, y0 + 0.78 * height
    lon, lat = _TO_LONLAT.transform(ax_, ay_)
    nx, ny = _TO_GK.transform(lon, lat + 0.05)
    ux, uy = nx - ax_, ny - ay_
    norm = math.hypot(ux, uy)
    ux, uy = ux / norm, uy / norm
    length = 0.1 * height
    ax.annotate("", xy=(ax_ + ux * length, ay_ + uy * length), xytext=(ax_, ay_),
                arrowprops=dict(arrowstyle="-|>,head_width=0.5,head_length=0.9", color="black", lw=1.6),
                zorder=20)
    ax.text(ax_ + ux * length * 1.12, ay_ + uy * length * 1.12, "北\nN", ha="center", va="bottom",
            fontsize=10, fontweight="bold", zorder=20, linespacing=0.9)
    return math.degrees(math.atan2(ux, uy))


# ====================================================================== pattern map

def plot_pattern(*, ax=None, layers: Mapping | None = None,
                 title: str = "鸡西市生态安全格局 Jixi ecological security pattern") -> Figure:
    """Static map of the ecological security pattern over the counties.

    Drawn in EPSG:4553 (CGCS2000 / 3° Gauss-Kruger CM 132E, metres), so the scale
    bar is in true metres (scale error under 0.03 % across Jixi); the north arrow
    points to true north (grid convergence corrected).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Draw into these axes; by default a new figure.
    layers : mapping, optional
        GeoDataFrames to use instead of the bundled layers, as for
        :func:`jixi_geo.maps.pattern_map` (``"pattern"``, ``"boundary"``,
        ``"counties"``, ``"rivers"`` …; ``None`` leaves a layer out).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    layers = check_layers_arg(layers, PATTERN_KEYS)
    notes: list[str] = []
    pattern = pattern_elements(layers, notes, [])
    refs = {k: layer_or_none(k, layers) for k in ("counties", "boundary", "rivers")}
    with rc_context(cjk_rc()):
        fig, ax = _new_axes(ax, (8.5, 7.5))
        handles: list[Artist] = []
        frames = []
        counties = refs["counties"]
        if counties is not None and len(counties):
            c = counties.to_crs(ANALYSIS_CRS)
            frames.append(c)
            c.plot(ax=ax, facecolor="#f6f5ef", edgecolor="#8a8a8a", linewidth=0.6, linestyle="--", zorder=1)
            for geom, name in zip(c.geometry, c.get("name_zh", pd.Series([""] * len(c))), strict=True):
                if geom is not None and not geom.is_empty and isinstance(name, str) and name:
                    p = geom.representative_point()
                    ax.text(p.x, p.y, name, fontsize=7.5, color="#555555", ha="center", va="center",
                            zorder=6)
            handles.append(Patch(facecolor="#f6f5ef", edgecolor="#8a8a8a", linestyle="--",
                                 label=" ".join(REF_STYLE["counties"][:2])))
        if pattern is not None and len(pattern):
            p = pattern.to_crs(ANALYSIS_CRS)
            frames.append(p)
            for z, (element, (zh, en, colour, fo)) in enumerate(PATTERN_ELEMENTS.items()):
                sub = p[p["element"].astype(str) == element]
                if len(sub):
                    sub.plot(ax=ax, facecolor=colour, edgecolor=colour, alpha=min(1.0, fo + 0.15),
                             linewidth=0.8, zorder=2 + z)
                    handles.insert(0, Patch(facecolor=colour, edgecolor=colour, alpha=min(1.0, fo + 0.15),
                                            label=f"{zh} {en}"))
        rivers = refs["rivers"]
        if rivers is not None and len(rivers):
            rivers.to_crs(ANALYSIS_CRS).plot(ax=ax, color=REF_STYLE["rivers"][2], linewidth=1.2, zorder=7)
            handles.append(Line2D([], [], color=REF_STYLE["rivers"][2], linewidth=1.2,
                                  label=" ".join(REF_STYLE["rivers"][:2])))
        boundary = refs["boundary"]
        if boundary is not None and len(boundary):
            b = boundary.to_crs(ANALYSIS_CRS)
            frames.append(b)
            b.boundary.plot(ax=ax, color=REF_STYLE["boundary"][2], linewidth=1.4, zorder=8)
            handles.append(Line2D([], [], color=REF_STYLE["boundary"][2], linewidth=1.4,
                                  label=" ".join(REF_STYLE["boundary"][:2])))

        if frames:
            bounds = np.array([f.total_bounds for f in frames])
            x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
            x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
        else:  # nothing to draw: the Jixi extent
            from .crs import JIXI_BOUNDS
            xs, ys = _TO_GK.transform([JIXI_BOUNDS[0], JIXI_BOUNDS[2]], [JIXI_BOUNDS[1], JIXI_BOUNDS[3]])
            x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        pad_x, pad_y = 0.06 * (x1 - x0), 0.06 * (y1 - y0)
        ax.set_xlim(x0 - pad_x, x1 + pad_x)
        ax.set_ylim(y0 - 2.5 * pad_y, y1 + pad_y)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        _scale_bar(ax)
        _north_arrow(ax)
        if handles:
            ax.legend(handles=handles, loc="lower right", fontsize=8, title="图例 Legend",
                      title_fontsize=9, framealpha=0.95)
        ax.set_title(title, fontsize=13)
        foot = "坐标系 CRS: CGCS2000 / 3° Gauss-Kruger CM 132E (EPSG:4553)"
        stamps = [vocab.stamp(v) for f in (pattern, *refs.values()) if f is not None and "precision" in f
                  for v in pd.unique(f["precision"].dropna().astype(str))]
        stamp = next((st for st in stamps if st), None)
        if stamp:  # the same stamp as the web maps (layers/rules/precision.csv)
            ax.text(0.99, 0.99, " / ".join(stamp), transform=ax.transAxes, ha="right", va="top", fontsize=9,
                    color="#b00020", zorder=21,
                    bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="#b00020", linewidth=1.2))
        ax.annotate(foot, xy=(0, 0), xycoords="axes fraction", xytext=(0, -6), textcoords="offset points",
                    ha="left", va="top", fontsize=7, color="#555555")
    return fig


# ==================================================================== land-use shares

def _published_label(table: pd.DataFrame, code: str, name_zh) -> tuple[str, str]:
    """(code, name) of the published row that gives class ``code`` its area in ``table`` (a
    :func:`jixi_geo.landuse.load_table` table): the class's own row, else its one printed
    subclass row (``H H4 特殊用地``); several subclass rows are joined with 、."""
    rows = table[table["row_kind"].isin(["class", "subclass", "non_construction"])]
    codes = rows["code"].fillna("").astype(str)
    if not code:  # a row without a code (预留发展用地): its printed name
        return "", str(name_zh or "")
    own = rows[codes == code]
    if not len(own):
        sub = rows[codes.str.startswith(code)]
        own = sub[sub["code"].astype(str).str.len() == sub["code"].astype(str).str.len().min()]
    if not len(own):
        return code, str(name_zh or "")
    pub_codes = list(dict.fromkeys(own["code_published"].fillna("").astype(str).str.strip()))
    pub_names = list(dict.fromkeys(own["name_published"].fillna("").astype(str).str.strip()))
    return "、".join(c for c in pub_codes if c) or code, "、".join(n for n in pub_names if n)


def _shares_with_labels(df, *, name: str) -> pd.DataFrame:
    """``code, name_zh, share_pct, label_code, label_name`` from a shares frame or a published table."""
    if isinstance(df, pd.DataFrame) and {"row_kind", "code_published", "name_published"} <= set(df.columns):
        from . import landuse

        sh = landuse.shares(df)
        labels = [_published_label(df, str(c), n) for c, n in zip(sh["code"].fillna(""), sh["name_zh"], strict=True)]
        sh = sh.assign(label_code=[c for c, _ in labels], label_name=[n for _, n in labels])
        return sh
    return df


def _shares_table(df, *, name: str) -> pd.DataFrame:
    df = _shares_with_labels(df, name=name)
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{name} must be a DataFrame with columns code, name_zh, share_pct; "
                         f"got {type(df).__name__}")
    missing = [c for c in ("code", "name_zh", "share_pct") if c not in df.columns]
    if missing:
        raise SchemaError(f"{name} lacks the column(s) {', '.join(missing)}; it has "
                          f"{', '.join(map(str, df.columns))}")
    out = df[["code", "name_zh", "share_pct"]].copy()
    out["code"] = out["code"].fillna("").astype(str).str.strip()
    out["label_code"] = (df["label_code"].fillna("").astype(str) if "label_code" in df.columns else out["code"])
    out["label_name"] = (df["label_name"].fillna("").astype(str) if "label_name" in df.columns
                         else out["name_zh"].fillna("").astype(str))
    dup = sorted(out.loc[out["code"].duplicated(), "code"].unique())
    if dup:
        raise InputError(f"{name} lists land-use code(s) {', '.join(dup)} more than once; give one row per code")
    out["share_pct"] = pd.to_numeric(out["share_pct"], errors="coerce")
    return out.set_index("code")


def plot_landuse_shares(current: pd.DataFrame, planned: pd.DataFrame, *, ax=None,
                        title: str = "用地结构：现状与规划 Land-use structure: current vs planned") -> Figure:
    """Grouped bars of land-use shares, current next to planned, per class.

    Parameters
    ----------
    current, planned : pandas.DataFrame
        One row per land-use class with columns ``code`` (e.g. GB 50137 ``M``),
        ``name_zh`` and ``share_pct`` (percent), optionally ``label_code`` and
        ``label_name`` (the row as published); or a published table from
        :func:`jixi_geo.landuse.load_table`, whose shares are computed and whose bars
        are labelled with the exact published row (code and name as printed, e.g.
        ``H H4 特殊用地``, not the standard's ``H 建设用地``). Current and planned share a
        pair of bars only when their labels agree; a class in one table only shows no
        bar (``—``) for the other.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes; by default a new figure.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    SchemaError
        If a table lacks a column.
    InputError
        If a code is listed twice.
    """
    cur = _shares_table(current, name="current")
    pla = _shares_table(planned, name="planned")
    def key(table):
        return {f"{r.label_code}\x00{r.label_name}": c for c, r in table.iterrows()}

    cur_keys, pla_keys = key(cur), key(pla)
    codes = list(dict.fromkeys([*pla_keys, *cur_keys]))  # one category per published label
    tick = {k: k.split("\x00") for k in codes}
    with rc_context(cjk_rc()):
        fig, ax = _new_axes(ax, (max(6.0, 1.1 * len(codes) + 2), 4.8))
        x = np.arange(len(codes))
        width = 0.38
        series = (("现状 Current", cur, -width / 2, "#8da0cb"), ("规划 Planned", pla, width / 2, "#fc8d62"))
        top = 0.0
        for label, table, dx, colour in series:
            keys = pla_keys if table is pla else cur_keys
            values = np.array([table["share_pct"].get(keys[k], np.nan) if k in keys else np.nan for k in codes],
                              dtype=float)
            bars = ax.bar(x + dx, np.nan_to_num(values), width, label=label, color=colour,
                          edgecolor="#333333", linewidth=0.6)
            for bar, v in zip(bars, values, strict=True):
                text = "—" if np.isnan(v) else f"{v:.1f}"
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), text, ha="center",
                        va="bottom", fontsize=7.5)
            top = max(top, np.nanmax(values) if np.isfinite(values).any() else 0.0)
        ax.set_xticks(x)
        ax.set_xticklabels([f"{tick[k][0]}\n" + "\n".join(textwrap.wrap(tick[k][1], 5)) for k in codes],
                           fontsize=8)
        ax.set_ylabel("占比 Share (%)")
        ax.set_ylim(0, max(10.0, top * 1.15))
        ax.legend(loc="best", fontsize=9)
        ax.set_title(title, fontsize=12)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    return fig


# ================================================================= compliance summary

def plot_compliance_summary(results, *, ax=None,
                            title: str = "合规检查结论 Compliance verdicts") -> Figure:
    """Bar chart of the number of sites per verdict (all six verdicts, zeros included).

    Parameters
    ----------
    results : pandas.DataFrame or GeoDataFrame
        Compliance results with a ``verdict`` column.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes; by default a new figure.
    title : str
        Figure title (the number of sites is appended).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    SchemaError
        If ``verdict`` is missing or holds an unknown value.
    """
    if not isinstance(results, pd.DataFrame) or "verdict" not in results.columns:
        raise SchemaError("results must be a DataFrame with a 'verdict' column")
    verdicts = results["verdict"].astype("string")
    keys = list(vocab.keys("verdict"))
    bad = sorted(set(verdicts.dropna()) - set(keys)) + (["<missing>"] if verdicts.isna().any() else [])
    if bad:
        raise SchemaError(f"results has verdict value(s) {', '.join(bad)}; expected {', '.join(keys)}")
    counts = verdicts.value_counts()
    values = [int(counts.get(k, 0)) for k in keys]
    with rc_context(cjk_rc()):
        fig, ax = _new_axes(ax, (7.0, 3.8))
        y = np.arange(len(keys))[::-1]
        ax.barh(y, values, color=[vocab.colour("verdict", k) for k in keys], edgecolor="#333333", linewidth=0.6)
        ax.set_yticks(y)
        ax.set_yticklabels([vocab.display("verdict", k) for k in keys], fontsize=9)
        for yi, v in zip(y, values, strict=True):
            ax.text(v, yi, f" {v}", va="center", ha="left", fontsize=9)
        ax.set_xlabel("项目数 Number of sites")
        ax.set_xlim(0, max(values + [1]) * 1.15)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(f"{title}（n = {len(results)}）", fontsize=12)
        ax.spines[["top", "right"]].set_visible(False)
    return fig


# ============================================================================= output

def save_figure(fig: Figure, path, *, dpi: int = 200) -> Path:
    """Write ``fig`` as PNG, SVG or PDF (by the suffix of ``path``), atomically.

    Text in SVG files is stored as glyph outlines, so it shows without the font
    installed; PDF embeds the font.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
        Output file ending in ``.png``, ``.svg`` or ``.pdf``; its folder is created.
    dpi : int, default 200
        Resolution of PNG output.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        For another suffix.
    """
    path = Path(path)
    fmt = path.suffix.lower()
    if fmt not in FIGURE_FORMATS:
        raise InputError(f"save_figure writes {', '.join(FIGURE_FORMATS)} files; got {path.name!r}")
    cjk_font()  # fail early, naming the package to install, if there is no CJK font
    with rc_context(cjk_rc()), atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt[1:], dpi=dpi, bbox_inches="tight")
    return path
