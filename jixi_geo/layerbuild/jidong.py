"""The three parks of the Jidong Economic Development Zone and their planned function zones.

The plan (``layers/sources/plans/jidong_edz_industrial_plan.txt``) gives each park's town,
area and 四至 (boundary description) and each function zone's area and description, but no
coordinates and no readable map. The parks are therefore modelled (``precision =
schematic``): rectangles placed and oriented from the plan's clues with the parameters in
``layers/params/jidong_parks.json`` (each with its basis and a confidence tag), their length
found by bisection on geodesic area (:func:`.geom.fit`). The function zones tile their
park: cuts perpendicular to the park's long axis, each cut position found by bisection on
the geodesic area of the park before it, plus (化工产业园) one corner block.

Every piece is built directly from coordinates along and across the park's axis (a
:class:`_Frame`), not by overlaying polygons: neighbouring zones then share exactly the same
vertices, and the park outline carries every cut vertex, so the zones' union is the park
and they do not overlap. Construction happens in EPSG:4553 (metres). The pieces are not
snapped to the 1 m grid of :func:`.geom.clean`: a 1 m snap of a thin strip (the 9.67 ha
zone is ~64 m deep) moves its area by up to a few tenths of a percent, and rectangles need
no repair; the framework stores them on its 1e-7° grid.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import ANALYSIS_CRS
from ..errors import BuildError
from . import BuildContext, LayerSpec
from .geom import GEOD, TO_GEO, fit, geo_area_m2, point

__all__ = ["PLAN", "LICENCE", "PARK_ORDER", "build"]

PLAN = "鸡东经济开发区产业发展规划 (layers/sources/plans/jidong_edz_industrial_plan.txt)"
LICENCE = ("modelled geometry (no third-party geometry); attributes from a public planning document, "
           "reproduced for reference")
PARK_ORDER = ["baoquan", "industrial", "chemical"]


# --- frames ---------------------------------------------------------------------------

def _xy(lon, lat) -> np.ndarray:
    p = point(lon, lat)
    return np.array([p.x, p.y])


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.hypot(v[0], v[1])


def _azimuth_vector(lon, lat, azimuth_deg) -> np.ndarray:
    """Unit vector (EPSG:4553) of the geodesic direction ``azimuth_deg`` at (lon, lat)."""
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth_deg, 1000.0)
    return _unit(_xy(lon2, lat2) - _xy(lon, lat))


class _Frame:
    """Park coordinates: a point is ``origin + s*u + t*n``, with ``n`` = ``u`` turned 90° clockwise.

    ``s`` runs along the park's long axis (cuts are at constant ``s``); ``t`` across it.
    """

    def __init__(self, origin, u):
        self.o = np.asarray(origin, dtype=float)
        self.u = _unit(u)
        self.n = np.array([self.u[1], -self.u[0]])

    def poly(self, st) -> shapely.Polygon:
        return shapely.Polygon([self.o + s * self.u + t * self.n for s, t in st])

    def quad(self, s0, s1, t0, t1) -> shapely.Polygon:
        return self.poly([(s0, t0), (s1, t0), (s1, t1), (s0, t1)])


def _layout(frame: _Frame, length: float, t0: float, t1: float, strips: list[tuple[str, float]],
            corner: tuple[str, float, float] | None, tol: float, what: str):
    """Cut the park ``s ∈ [0, length] × t ∈ [t0, t1]`` into zones of the given areas (m²).

    ``corner`` = (zone, area, depth): a block ``s ∈ [0, x] × t ∈ [t0, t0 + depth]`` (x fitted),
    taken first. ``strips`` = [(zone, area), …] in order of increasing ``s``; cut ``k`` is
    fitted on the area of ``s ∈ [0, s_k]`` (the strips before it plus the corner block), the
    last strip is the rest. Returns ({zone: polygon}, park polygon with every cut vertex,
    {zone: description of its cut}).
    """
    pieces, notes = {}, {}
    cuts_t0, west = [0.0, length], []
    x = 0.0
    if corner:
        key, area, depth = corner
        tc = t0 + depth
        if not t0 < tc < t1:
            raise BuildError(f"{what}: the corner block depth {depth} m does not fit the park")
        _, x = fit(lambda d: frame.quad(0.0, d, t0, tc), area, lo=0.0, hi=length, tol=tol,
                    what=f"{what}, zone {key}")
        pieces[key] = frame.quad(0.0, x, t0, tc)
        notes[key] = f"{depth:.0f} m deep and {x:.0f} m long"
        cuts_t0.append(x)
        west = [(0.0, tc)]
    cum = corner[1] if corner else 0.0
    bounds = [0.0]
    for key, area in strips[:-1]:
        cum += area
        _, s = fit(lambda d: frame.quad(0.0, d, t0, t1), cum, lo=0.0, hi=length, tol=tol,
                    what=f"{what}, cut after zone {key}")
        if s <= bounds[-1] or (corner and len(bounds) == 1 and s <= x):
            raise BuildError(f"{what}: the cut after zone {key} falls inside the piece before it")
        bounds.append(s)
    bounds.append(length)
    for i, (key, _) in enumerate(strips):
        a, b = bounds[i], bounds[i + 1]
        if i == 0 and corner:
            tc = t0 + corner[2]
            st = [(0.0, tc), (x, tc), (x, t0), (b, t0), (b, t1), (0.0, t1)]
        else:
            st = [(a, t0), (b, t0), (b, t1), (a, t1)]
        pieces[key] = frame.poly(st)
        notes[key] = f"from {a:.0f} m to {b:.0f} m along the axis" + (
            " (less the corner block)" if i == 0 and corner else "")
    north = sorted(set(cuts_t0) | set(bounds))
    south = sorted(set(bounds), reverse=True)
    park = frame.poly([(s, t0) for s in north] + [(s, t1) for s in south] + west)
    return pieces, park, notes


# --- parks ----------------------------------------------------------------------------

def _centred_frame(P: dict, target_m2: float, tol: float, what: str):
    c = P["centre"]
    u = _azimuth_vector(c["lon"], c["lat"], P["axis_azimuth_deg"])
    centre, w = _xy(c["lon"], c["lat"]), float(P["width_m"])

    def frame_for(length):
        return _Frame(centre - length / 2 * u, u)
    _, length = fit(lambda d: frame_for(d).quad(0.0, d, -w / 2, w / 2), target_m2, lo=1.0,
                     hi=50_000.0, tol=tol, what=what)
    how = (f"rectangle {w:.0f} m wide and {length:.0f} m long (length fitted by bisection on geodesic "
           f"area), long axis {P['axis_azimuth_deg'] % 180:.0f}° from north, centred on "
           f"({c['lon']:.3f}E, {c['lat']:.3f}N)")
    return frame_for(length), length, -w / 2, w / 2, how


def _road_point(line, lon) -> tuple[float, float]:
    (x0, y0), (x1, y1) = line
    if not min(x0, x1) <= lon <= max(x0, x1):
        raise BuildError(f"west_end_lon {lon} is outside the modelled road line {line}")
    return lon, y0 + (y1 - y0) * (lon - x0) / (x1 - x0)


def _road_frame(P: dict, target_m2: float, tol: float, what: str):
    line = P["road_line"]
    u = _unit(_xy(*line[1]) - _xy(*line[0]))  # along the road, west to east; n points south
    frame = _Frame(_xy(*_road_point(line, P["west_end_lon"])), u)
    t0 = float(P["road_setback_m"])
    t1 = t0 + float(P["depth_m"])
    _, length = fit(lambda d: frame.quad(0.0, d, t0, t1), target_m2, lo=1.0, hi=100_000.0, tol=tol,
                     what=what)
    how = (f"band south of the modelled 丹阿公路/建鸡高速 line {line} (lon, lat), from {t0:.0f} m to "
           f"{t1:.0f} m south of it (setback, then the depth to the 林密线), starting at "
           f"{P['west_end_lon']:.3f}E (the modelled 永安/东海 border) and running {length:.0f} m east along "
           "the road (length fitted by bisection on geodesic area)")
    return frame, length, t0, t1, how


# --- build ----------------------------------------------------------------------------

def _row(id_, zh, en, category, method, source, *, official=np.nan, **kw):
    return {"id": id_, "name_zh": zh, "name_en": en, "category": category, "source": source,
            "precision": "schematic", "method": method, "official_area_ha": official, **kw}


def _distance_km(ref: dict, lon, lat) -> float:
    return GEOD.inv(ref["lon"], ref["lat"], lon, lat)[2] / 1000.0


def _zone_areas(zt: pd.DataFrame, spec: dict) -> tuple[dict, dict]:
    """Published area (ha) and table rows of each modelled zone (sub-areas merged as the params say)."""
    merge = spec.get("merge", {})
    by_no = zt.set_index("zone_no")
    corner = [spec["corner_cell"]["zone"]] if "corner_cell" in spec else []
    areas, parts = {}, {}
    for z in corner + spec["order"]:
        rows = by_no.loc[merge.get(z, [z])]
        if (rows["area_ha"] == "").any():
            raise BuildError(f"zone {z}: a part without a published area ({rows.index.tolist()})")
        areas[z] = float(pd.to_numeric(rows["area_ha"]).sum())
        parts[z] = list(rows.reset_index().itertuples(index=False))
    return areas, parts


def build(ctx: BuildContext) -> list[LayerSpec]:
    P = ctx.params_json("jidong_parks.json")
    tol_fit, tol = float(P["fit_tolerance"]), float(P["area_tolerance"])
    refs = P["reference_points"]
    parks_t = ctx.table("jidong_parks.csv", dtype=str, keep_default_na=False).set_index("park")
    zones_t = ctx.table("jidong_function_zones.csv", dtype=str, keep_default_na=False)
    counties = ctx.layers["counties"].to_crs(ANALYSIS_CRS)
    county = counties.loc[counties["adcode"] == P["county_adcode"]].geometry.iloc[0]
    red = ctx.layers["redline_zones"].to_crs(ANALYSIS_CRS)
    reserves = shapely.union_all(red.loc[red["control_level"] == "nature_reserve"].geometry.values)

    park_rows, zone_rows = [], []
    for key in PARK_ORDER:
        rec, PP, spec = parks_t.loc[key], P["parks"][key], P["zones"].get(key)
        published_ha = float(rec["area_km2_published"]) * 100.0
        zt = zones_t.loc[zones_t["park"] == key]
        areas, parts = _zone_areas(zt, spec) if spec else ({}, {})
        zone_sum = sum(areas.values())
        if spec and abs(zone_sum - published_ha) > published_ha * tol:
            raise BuildError(f"{key}: the zones add up to {zone_sum:.2f} ha, more than {tol:.1%} from the "
                             f"published {published_ha:.0f} ha")
        target_ha = published_ha if PP["target"] == "published" else zone_sum
        if PP["placement"] == "centred_rectangle":
            frame, length, t0, t1, how = _centred_frame(PP, target_ha * 1e4, tol_fit, f"park {key}")
        elif PP["placement"] == "road_band":
            frame, length, t0, t1, how = _road_frame(PP, target_ha * 1e4, tol_fit, f"park {key}")
        else:
            raise BuildError(f"{key}: unknown placement {PP['placement']!r}")

        pieces, notes = {}, {}
        if spec:
            cc = spec.get("corner_cell")
            if cc and cc["corner"] != "north-west":
                raise BuildError(f"{key}: only a corner block at s = 0, t = t0 (north-west) is modelled")
            corner = (cc["zone"], areas[cc["zone"]] * 1e4, float(cc["depth_m"])) if cc else None
            strips = [(z, areas[z] * 1e4) for z in spec["order"]]
            pieces, park, notes = _layout(frame, length, t0, t1, strips, corner, tol_fit, f"park {key}")
        else:
            park = frame.quad(0.0, length, t0, t1)

        # where it lies: inside the county, outside every nature reserve
        outside = shapely.difference(park, county).area
        if outside > 1.0:
            raise BuildError(f"{key}: {outside:.0f} m² of the modelled park lie outside 鸡东县; move its anchor")
        if shapely.intersection(park, reserves).area > 0.0:
            raise BuildError(f"{key}: the modelled park overlaps a nature reserve of redline_zones")
        clon, clat = TO_GEO.transform(park.centroid.x, park.centroid.y)
        where = (f"centroid {clon:.4f}E {clat:.4f}N, {_distance_km(refs['jidong_town'], clon, clat):.1f} km "
                 f"from the 鸡东镇 reference point and {_distance_km(refs['xingkaihu_airport'], clon, clat):.1f} "
                 "km from 兴凯湖机场")
        size = ("sized to the published area" if PP["target"] == "published" else
                f"sized to the sum of its published zone areas ({target_ha:.2f} ha; published park "
                f"{published_ha:.0f} ha, {100 * (target_ha / published_ha - 1):+.2f}%)")
        shape = PP.get("shape_basis") or " ".join(
            PP[k] for k in ("road_basis", "west_end_basis", "setback_basis", "depth_basis"))
        park_rows.append(_row(
            f"jidong-park-{key}", rec["name_zh"], rec["name_en"], "industrial_park",
            f"Schematic placement, not a boundary: {how}; {size}; {where}. Basis: {PP['basis']} "
            f"Shape: {shape}",
            f"{PLAN}, line {rec['source_line']} ({rec['section']})",
            official=published_ha, park=key, town_zh=rec["town_zh"],
            area_km2_published=float(rec["area_km2_published"]),
            four_bounds_published=rec["four_bounds_published"],
            location_text_published=rec["location_text_published"],
            location_basis=PP["basis"], confidence=PP["confidence"],
            model_length_m=round(length, 1), geometry=park))

        if not spec:
            continue
        corner_zone = [spec["corner_cell"]["zone"]] if "corner_cell" in spec else []
        for z in corner_zone + spec["order"]:
            g, zp, meta = pieces[z], parts[z], spec["meta"][z]
            _check_tol(geo_area_m2(g), areas[z] * 1e4, tol, f"{key} zone {z}")
            by_no = zt.set_index("zone_no")
            name_zh = by_no.at[z, "name_published"] if z in by_no.index else zp[0].name_published
            if len(zp) > 1:
                desc = "；".join(f"{p.name_published}（{p.zone_no}，{p.area_published}{p.unit_published}）："
                                f"{p.description_published}" for p in zp)
                merged = (" Its two published sub-areas, " +
                          " and ".join(f"{p.zone_no} {p.name_published} {p.area_published} ha" for p in zp) +
                          f", are one modelled zone of {areas[z]:.2f} ha: {spec['merge_basis']}")
            else:
                desc, merged = zp[0].description_published, ""
            if z in corner_zone:
                how = f"the park's north-west corner block, {notes[z]} (length fitted): {spec['corner_basis']}"
            else:
                how = (f"strip of the park between cuts perpendicular to its long axis, {notes[z]}; each cut "
                       "fitted by bisection on the geodesic area of the park before it, zones in the order "
                       f"{' → '.join(corner_zone + spec['order'])}: {spec['order_basis']}")
            zone_rows.append(_row(
                f"jidong-zone-{key}-{z}", name_zh, meta["name_en"], "function_zone",
                f"Schematic layout inside the schematic park, not a boundary: {how}.{merged} Sized to the "
                "published zone area.",
                f"{PLAN}, line {', '.join(p.source_line for p in zp)} ({zp[0].section})",
                official=areas[z], park=key, zone_no=z, landuse_code=meta["landuse_code"],
                landuse_basis=meta["landuse_basis"], planned_area_ha=areas[z],
                share_pct=round(100.0 * areas[z] / zone_sum, 2), description_zh=desc, geometry=g))
        union = shapely.union_all([r["geometry"] for r in zone_rows if r["park"] == key])
        if shapely.symmetric_difference(union, park).area > 1.0:
            raise BuildError(f"{key}: the modelled zones do not tile the park")

    params = {k: v for k, v in P.items() if not k.startswith("_")}
    return [
        LayerSpec("jidong_parks", _gdf(park_rows), "鸡东经济开发区 三园（模型）",
                  "Jidong EDZ parks (schematic)", PLAN, "schematic", LICENCE,
                  "宝泉工业园, 工业产业园 and 化工产业园, placed at their towns from the plan's clues "
                  "and sized to the published areas (the two zoned parks to the sum of their zones).",
                  params),
        LayerSpec("jidong_function_zones", _gdf(zone_rows), "鸡东经济开发区 园区功能分区（模型）",
                  "Jidong EDZ park function zones (schematic)", PLAN, "schematic", LICENCE,
                  "The planned function zones of 工业产业园 (5, zone 2 with its two sub-areas) and "
                  "化工产业园 (4), each sized to its published area, tiling its park.", params),
    ]


def _check_tol(got_m2: float, target_m2: float, tol: float, what: str) -> None:
    if abs(got_m2 - target_m2) > target_m2 * tol:
        raise BuildError(f"{what}: {got_m2 / 1e4:.4f} ha differs from {target_m2 / 1e4:.4f} ha "
                         f"by more than {tol:.2%}")


def _gdf(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=ANALYSIS_CRS)
