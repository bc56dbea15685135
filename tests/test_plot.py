"""Static figures: a real CJK font, every label's glyphs present, PNG/SVG/PDF output."""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text
from shapely import Point, box

from jixi_geo import _fonts, maps, plot
from jixi_geo.errors import InputError, JixiGeoError, SchemaError


@pytest.fixture(scope="module")
def font() -> _fonts.CJKFont:
    try:
        return _fonts.cjk_font()
    except JixiGeoError as exc:
        pytest.skip(f"no CJK font installed ({exc})")


def _pattern() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "name_zh": ["兴凯湖", "测试廊道", "老爷岭生态屏障", "珍宝岛保护区"],
        "element": ["lake", "corridor", "barrier", "protected_area"],
        "precision": ["schematic"] * 4},
        geometry=[box(132.3, 45.1, 132.6, 45.3), box(131.5, 45.5, 132.2, 45.56),
                  box(130.6, 44.9, 131.2, 45.2), box(133.3, 46.1, 133.5, 46.3)], crs="EPSG:4490")


CURRENT = pd.DataFrame({"code": ["R", "M", "G", "A"],
                        "name_zh": ["居住用地", "工业用地", "绿地与广场用地", "公共管理与公共服务设施用地"],
                        "share_pct": [20.0, 50.0, 10.0, 20.0]})
PLANNED = pd.DataFrame({"code": ["M", "W", "G", "S", "U"],
                        "name_zh": ["工业用地", "物流仓储用地", "绿地与广场用地", "道路与交通设施用地", "公用设施用地"],
                        "share_pct": [55.0, 10.0, 15.0, 15.0, 5.0]})


def _results() -> pd.DataFrame:
    verdicts = ["prohibited", "prohibited", "restricted", "attention", "clear", "clear", "clear"]
    return gpd.GeoDataFrame({"site_id": [f"S{i}" for i in range(len(verdicts))], "verdict": verdicts},
                            geometry=[Point(131 + i / 10, 45.5) for i in range(len(verdicts))], crs="EPSG:4490")


@pytest.fixture(scope="module")
def figures(font):
    return {
        "pattern": plot.plot_pattern(layers={"pattern": _pattern()}),
        "shares": plot.plot_landuse_shares(CURRENT, PLANNED),
        "verdicts": plot.plot_compliance_summary(_results()),
    }


def _texts(fig) -> list[str]:
    fig.canvas.draw()  # creates tick labels
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


# ---------------------------------------------------------------------------- the font

def test_font_is_a_simplified_chinese_face(font):
    assert font.path.is_file()
    assert "CJK" in font.family or "Han" in font.family or "Hei" in font.family or "SC" in font.family
    assert _fonts.has_glyphs(font, "鸡西市生态安全格局")


def test_every_label_character_has_a_glyph(font, figures):
    labels = [s for fig in figures.values() for s in _texts(fig)]
    labels += [f"{zh} {en}" for zh, en, *_ in maps.PATTERN_ELEMENTS.values()]
    labels += [f"{zh} {en}" for zh, en, *_ in maps.VERDICTS.values()]
    labels += [f"{zh} {en}" for zh, en, *_ in maps.CONTROL_LEVELS.values()]
    labels += [f"{zh} {en}" for zh, en in maps.PARKS.values()]
    text = "".join(labels)
    cjk = {ch for ch in text if ord(ch) > 0x2E80}
    assert len(cjk) > 60  # the figures really carry Chinese labels
    face = font.ft2font()
    missing = sorted(ch for ch in set(text) if not ch.isspace() and face.get_char_index(ord(ch)) == 0)
    assert missing == [], f"{font.family} has no glyph for {missing}"


def test_the_figures_use_the_cjk_font(font, figures):
    for fig in figures.values():
        fig.canvas.draw()
        for t in fig.findobj(Text):
            if any(ord(ch) > 0x2E80 for ch in t.get_text()):
                assert font.family in t.get_fontfamily(), t.get_text()


def _no_system_fonts(monkeypatch):
    """Font discovery as on a machine without any system CJK font."""
    monkeypatch.setattr(_fonts, "_by_family", lambda: None)
    monkeypatch.setattr(_fonts, "_by_file", lambda: None)
    _fonts.cjk_font.cache_clear()


def test_no_font_means_a_clear_error(monkeypatch):
    _no_system_fonts(monkeypatch)
    monkeypatch.setattr(_fonts, "FONT_PACKAGES", ())
    try:
        with pytest.raises(JixiGeoError, match="pip install noto-cjk-sans-otc.*apt-get install fonts-noto-cjk"):
            _fonts.cjk_font()
    finally:
        _fonts.cjk_font.cache_clear()


def test_without_system_fonts_the_font_package_draws_the_figures(monkeypatch, tmp_path):
    files = _fonts.package_font_files("noto-cjk-sans-otc")
    assert files, "noto-cjk-sans-otc (a declared dependency) is not installed: pip install noto-cjk-sans-otc"
    _no_system_fonts(monkeypatch)
    try:
        font = _fonts.cjk_font()
        assert font.path in files and font.family == "Noto Sans CJK SC"  # the Simplified Chinese face
        assert not _fonts.missing_glyphs(font, "鸡西市兴凯湖生态保护红线一般生态空间")
        fig = plot.plot_compliance_summary(_results())
        fig.canvas.draw()
        drawn = [t for t in fig.findobj(Text) if any(ord(ch) > 0x2E80 for ch in t.get_text())]
        assert drawn and all(font.family in t.get_fontfamily() for t in drawn)
        png = plot.save_figure(fig, tmp_path / "summary.png")
        assert matplotlib.image.imread(png).shape[0] > 100
    finally:
        _fonts.cjk_font.cache_clear()


def test_a_system_font_comes_before_the_font_package():
    system = _fonts._system_font()
    if system is None:
        pytest.skip("no system CJK font installed (fonts-noto-cjk)")
    _fonts.cjk_font.cache_clear()
    try:
        assert _fonts.cjk_font().path not in _fonts.package_font_files("noto-cjk-sans-otc")
    finally:
        _fonts.cjk_font.cache_clear()


# -------------------------------------------------------------------------- rendering

def _no_glyph_warnings():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
    warnings.filterwarnings("error", message=".*missing from font.*")
    return ctx


@pytest.mark.parametrize("name", ["pattern", "shares", "verdicts"])
def test_png_is_non_trivial(figures, tmp_path, name):
    ctx = _no_glyph_warnings()
    try:
        path = plot.save_figure(figures[name], tmp_path / "sub" / f"{name}.png")
    finally:
        ctx.__exit__(None, None, None)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(path)
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert img.shape[0] > 500 and img.shape[1] > 800
    assert len(colours) > 100


def test_svg_holds_the_chinese_text_and_its_glyph_outlines(figures, tmp_path, font):
    path = plot.save_figure(figures["pattern"], tmp_path / "pattern.svg")
    svg = path.read_text(encoding="utf-8")
    assert "鸡西市生态安全格局" in svg  # matplotlib keeps the text as a comment next to the outlines
    face = font.ft2font()
    for ch in "鸡西湖廊":
        glyph = face.get_char_index(ord(ch))  # outlines are named after the font's glyph index
        assert re.search(rf'<path id="[^"]+-{glyph:x}"\s+d="M', svg), f"no glyph outline for {ch}"


def test_pdf_embeds_the_font(figures, tmp_path, font):
    path = plot.save_figure(figures["shares"], tmp_path / "shares.pdf")
    data = path.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 10_000
    assert b"NotoSansCJK" in data or font.family.replace(" ", "").encode() in data


def test_bundled_pattern_figure(font, tmp_path):
    path = plot.save_figure(plot.plot_pattern(), tmp_path / "pattern.png", dpi=100)
    img = matplotlib.image.imread(path)
    assert len(np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 100


def test_scale_bar_uses_metres(font):
    fig = plot.plot_pattern(layers={"pattern": _pattern()})
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any(re.fullmatch(r"\d+ km", s) for s in labels)
    assert "北\nN" in labels


def test_save_figure_refuses_other_formats(figures, tmp_path):
    with pytest.raises(InputError, match=r"\.png"):
        plot.save_figure(figures["verdicts"], tmp_path / "x.jpg")


# ------------------------------------------------------------------------------ input

def test_landuse_shares_validates(font):
    with pytest.raises(SchemaError, match="share_pct"):
        plot.plot_landuse_shares(CURRENT.drop(columns="share_pct"), PLANNED)
    with pytest.raises(InputError, match="M"):
        plot.plot_landuse_shares(pd.concat([CURRENT, CURRENT.iloc[[1]]]), PLANNED)


def test_landuse_shares_bars(font):
    fig = plot.plot_landuse_shares(CURRENT, PLANNED)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert [s.split("\n")[0] for s in labels] == ["M", "W", "G", "S", "U", "R", "A"]
    assert len(ax.patches) == 14


def test_compliance_summary_counts(font):
    fig = plot.plot_compliance_summary(_results())
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == [2, 1, 0, 1, 3, 0]
    bad = _results()
    bad.loc[0, "verdict"] = "unknown"
    with pytest.raises(SchemaError, match="unknown"):
        plot.plot_compliance_summary(bad)


def test_landuse_bars_are_labelled_with_the_published_rows(font):
    """The planned 工业产业园 table prints "H H4 特殊用地" and "E E1 水域": those are the bar labels, not
    the standard's "H 建设用地" / "E 非建设用地", which label the current table's own rows."""
    from jixi_geo import landuse

    cur, pla = landuse.load_table("industrial", "current"), landuse.load_table("industrial", "planned")
    fig = plot.plot_landuse_shares(cur, pla)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "H H4\n特殊用地" in ticks and "E E1\n水域" in ticks
    assert "H\n建设用地" in ticks and "E\n非建设用地" in ticks  # the current table's rows, as printed
    n = len(ticks)
    current_bars, planned_bars = ax.patches[:n], ax.patches[n:]
    # planned H4: 2.58 ha of the 351.73 ha planning area (the published total row), no current bar
    i = ticks.index("H H4\n特殊用地")
    assert planned_bars[i].get_height() == pytest.approx(2.58 / 351.73 * 100, rel=1e-3)
    assert current_bars[i].get_height() == 0
    # current H 建设用地 153.05 of 351.73 ha, and no planned bar under that label
    j = ticks.index("H\n建设用地")
    assert current_bars[j].get_height() == pytest.approx(153.05 / 351.73 * 100, rel=1e-3)
    assert planned_bars[j].get_height() == 0
    texts = _texts(fig)
    assert "—" in texts  # the missing side says so


def test_pattern_figure_carries_the_map_stamp(font):
    from jixi_geo import vocab

    texts = _texts(plot.plot_pattern(layers={"pattern": _pattern()}))
    assert " / ".join(vocab.stamp("schematic")) in texts
    generalised = _pattern().assign(precision="generalised")
    none = {"pattern": generalised, "counties": None, "boundary": None, "rivers": None}
    assert not any("示意·非法定" in t for t in _texts(plot.plot_pattern(layers=none)))
