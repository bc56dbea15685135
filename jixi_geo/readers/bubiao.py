"""Read a 部标 界址点坐标 TXT (the Ministry's exchange format for 勘测定界 / 报批) (private).

Layout (see ``layers/rules/bubiao_parcel_fields.csv`` for the parcel-line fields)::

    [属性描述]
    坐标系=2000国家大地坐标系
    几度分带=3
    带号=44
    精度=0.001
    [地块坐标]
    5,80.0000,1,地块名称,面,,建设用地,,@
    J1,1,4990374.677,44441416.328        <- 点号, 圈号, X (north), Y (east)

Every 地块 becomes one site. X is the northing and Y the easting (surveyors'
convention). The CRS comes from 坐标系 + 几度分带 + 带号 (with or without the zone
prefix on eastings). The declared 地块面积 (公顷) is compared with the area of the
coordinates; point counts, closure and the zone prefix are checked.
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .._paths import rules_dir
from .planner import (ReadResult, crs_text, Refusals, assemble_parcel, axis_decision, datum_key, gk_crs, prefixed_zone,
                      refuse, zone_width)
from ..errors import CRSError, EncodingError, InputError

__all__ = ["read_bubiao", "looks_like_bubiao"]

_MARKERS = ("[地块坐标]", "[属性描述]")
_DATUM_ZH = {"CGCS2000": "2000国家大地坐标系", "Xian 1980": "1980西安坐标系", "Beijing 1954": "1954北京坐标系"}


@functools.lru_cache(maxsize=1)
def _fields() -> list[str]:
    t = pd.read_csv(rules_dir() / "bubiao_parcel_fields.csv", dtype=str, encoding="utf-8")
    return list(t.sort_values("position", key=lambda s: s.astype(int))["name_zh"])


def _decode(path: Path, encoding: str | None) -> tuple[str, str]:
    raw = path.read_bytes()
    for enc in ([encoding] if encoding else ["utf-8-sig", "gb18030"]):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    refuse(EncodingError, f"{path.name} 的文字既不是 UTF-8 也不是 GBK：请用 --encoding 指明编码",
           f"{path.name} is neither UTF-8 nor GBK text; pass its encoding with --encoding")
    raise AssertionError  # pragma: no cover


def looks_like_bubiao(path: Path) -> bool:
    """Whether a text file has the 部标 section headers (checked in UTF-8 and GBK)."""
    head = path.read_bytes()[:1 << 16]
    for enc in ("utf-8-sig", "gb18030"):
        text = head.decode(enc, errors="ignore")
        if any(m in text for m in _MARKERS):
            return True
    return False


def _header(lines: list[str]) -> tuple[dict[str, str], int]:
    """The key=value pairs of [属性描述] and the index of the line after [地块坐标]."""
    head: dict[str, str] = {}
    section = ""
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            section = s
            if s == "[地块坐标]":
                return head, i + 1
            continue
        if section == "[属性描述]" and "=" in s:
            k, v = s.split("=", 1)
            head[k.strip()] = v.strip()
    return head, len(lines)


def _precision(head: dict[str, str], coords_text: list[str]) -> tuple[float, str]:
    """The coordinate precision in metres and a note saying where it came from."""
    v = head.get("精度", "").strip()
    try:
        p = float(v)
    except ValueError:
        p = None
    if p is not None and p > 0:
        if p >= 1 and p.is_integer():  # some producers write the number of decimals
            return 10.0 ** -int(p), f"精度={v} 按小数位数解读（{10.0 ** -int(p):g} 米） / 精度={v} read as decimals"
        return p, ""
    decimals = min((len(t.split(".")[1]) if "." in t else 0) for t in coords_text) if coords_text else 3
    p = 10.0 ** -decimals
    return p, f"文件未写精度，按坐标小数位取 {p:g} 米 / no 精度 in the file: {p:g} m from the written decimals"


def _parcel_lines(lines: list[str], start: int):
    """Yield (line number, parcel fields, [(line no, point fields)])."""
    cur: tuple[int, list[str], list[tuple[int, list[str]]]] | None = None
    for i in range(start, len(lines)):
        s = lines[i].strip()
        if not s:
            continue
        if s.startswith("[") and s.endswith("]"):
            break
        if s.endswith("@"):
            if cur is not None:
                yield cur
            fields = [f.strip() for f in s[:-1].split(",")]
            if fields and fields[-1] == "":
                fields = fields[:-1]
            cur = (i + 1, fields, [])
        elif cur is not None:
            cur[2].append((i + 1, [f.strip() for f in s.split(",")]))
        else:
            yield (i + 1, None, [(i + 1, [f.strip() for f in s.split(",")])])
    if cur is not None:
        yield cur


def _crs_of(head, eastings, *, given, name, refusals: Refusals, notes: list[str]):
    """The CRS from the header, checked against the easting prefixes, or ``given``."""
    zones = {prefixed_zone(e) for e in eastings}
    prefixed = None not in zones
    if not prefixed and zones != {None}:
        refusals.add(CRSError, "部分东坐标带带号前缀、部分不带：请统一", "some eastings carry the zone prefix and "
                     "others do not; make them consistent")
        return None
    if len(zones) > 1:
        listed = sorted(z for z in zones if z is not None)  # here every easting is prefixed
        refusals.add(CRSError, f"东坐标的带号前缀不一致（{listed}）：请按带分文件",
                     f"eastings carry different zone prefixes ({listed}); split the file by zone")
        return None
    pz = zones.pop() if prefixed else None
    zone_text = head.get("带号", "").strip()
    try:
        zone = int(float(zone_text)) if zone_text else None
    except ValueError:
        zone = None
        refusals.add(CRSError, f"带号={zone_text!r} 不是数字", f"带号={zone_text!r} is not a number")
        return None
    if zone is not None and pz is not None and zone != pz:
        refusals.add(CRSError, f"文件头带号={zone}，但东坐标以 {pz} 开头：带号与坐标不符，请核对",
                     f"the header says zone {zone} but the eastings start with {pz}; check which is right")
        return None
    if zone is None:
        zone = pz
        if zone is not None:
            notes.append(f"文件头无带号，按东坐标前缀取带号 {zone} / no 带号 in the header: zone {zone} from the "
                         "easting prefix")
    if given is not None:
        notes.append(f"坐标系按 --crs 给定：{crs_text(given)} / CRS from --crs: {crs_text(given)}")
        return given
    if zone is None:
        refusals.add(CRSError, "文件头无带号，东坐标也不带带号前缀（去大数）：无法确定投影带，"
                     "请加 --crs，例如 --crs EPSG:4553",
                     "no 带号 in the header and no zone prefix on the eastings: pass --crs, e.g. --crs EPSG:4553")
        return None
    width_text = head.get("几度分带", "").strip()
    width = zone_width(zone)
    if width_text:
        try:
            width = int(float(width_text))
        except ValueError:
            width = -1
        if width not in (3, 6):
            refusals.add(CRSError, f"几度分带={width_text!r} 应为 3 或 6", f"几度分带={width_text!r} must be 3 or 6")
            return None
    elif width is not None:
        notes.append(f"文件头无几度分带，按带号 {zone} 判断为 {width}° 带 / no 几度分带: {width}-degree zones "
                     f"from zone number {zone}")
    else:
        refusals.add(CRSError, f"文件头无几度分带，带号 {zone} 无法判断 3° 或 6° 带", f"no 几度分带 and zone {zone} "
                     "does not tell 3- from 6-degree zones")
        return None
    datum_text = head.get("坐标系", "")
    datum = datum_key(datum_text)
    if datum is None:
        refusals.add(CRSError, f"坐标系={datum_text!r} 无法识别："
                     "应为 2000国家大地坐标系、1980西安坐标系 或 1954北京坐标系；"
                     "或用 --crs 给出", f"坐标系={datum_text!r} is not recognised (CGCS2000, Xian 1980 or Beijing "
                     "1954); or pass --crs")
        return None
    try:
        crs, shift = gk_crs(datum, width, zone, prefixed=prefixed)
    except CRSError as e:
        zh, _, en = str(e).partition(" / ")
        refusals.add(CRSError, zh, en)
        return None
    if shift != "identity":
        refusals.add(CRSError,
                     f"{_DATUM_ZH[datum]}（{crs.name}，EPSG:{crs.to_epsg()}）到 2000国家大地坐标系 没有精确转换："
                     "pyproj 只有粗略偏移（误差可达数十至上百米），不能用于红线核查。请先在测绘软件中用七参数/四参数"
                     "转换为 2000国家大地坐标系，或用 --crs 给出含 +towgs84 转换参数的坐标系",
                     f"{datum} ({crs.name}) has no accurate transformation to CGCS2000 in pyproj (only a ballpark "
                     "offset, tens to a hundred metres off): convert the file to CGCS2000 with surveyed "
                     "parameters first, or pass --crs with a +towgs84 definition")
        return None
    if not prefixed:
        notes.append(f"东坐标不带带号（去大数），按文件头带号 {zone} 取 {crs.name}（EPSG:{crs.to_epsg()}） / eastings "
                     f"without zone prefix: zone {zone} from the header")
    notes.append(f"坐标系：{datum_text} {width}° 带 {zone} → EPSG:{crs.to_epsg()}（{crs.name}） / CRS from "
                 f"the header: EPSG:{crs.to_epsg()}")
    return crs


def _num(t: str) -> float:
    try:
        return float(t)
    except (TypeError, ValueError):
        return float("nan")


def read_bubiao(path, *, crs: pyproj.CRS | None = None, encoding: str | None = None) -> ReadResult:
    """Read a 部标 界址点 TXT: one site per 地块.

    Parameters
    ----------
    path : str or pathlib.Path
        The file (GBK, or UTF-8 with or without BOM; any line ends).
    crs : pyproj.CRS, optional, keyword-only
        Overrides the header's 坐标系/带号 (e.g. a Beijing 1954 CRS with +towgs84).
    encoding : str, optional, keyword-only
        Text encoding; default UTF-8, then GB18030/GBK.

    Returns
    -------
    ReadResult
        Columns: the parcel-line fields by their Chinese names (界址点数, 地块面积 in
        公顷 as declared, 地块编号, 地块名称, 记录图形属性, 图幅号, 地块用途, 地类编码,
        then 字段9 … for extra fields), ``计算面积_公顷`` (planar, in the file's
        Gauss-Kruger CRS), then ``geometry`` (x = east, y = north).

    Raises
    ------
    InputError, CRSError, InvalidGeometryError, EncodingError
        Every problem found, in one message, Chinese first.
    """
    path = Path(path)
    text, enc = _decode(path, encoding)
    lines = text.splitlines()
    head, start = _header(lines)
    name = path.name
    refusals = Refusals(f"部标界址点文件 {name}")
    if start >= len(lines) and "[地块坐标]" not in text:
        refuse(InputError, f"{name} 没有 [地块坐标] 节：不是完整的部标界址点文件",
               f"{name} has no [地块坐标] section: not a complete 部标 boundary-point file")
    notes: list[str] = []
    fields = _fields()
    parcels = list(_parcel_lines(lines, start))
    if not parcels:
        refuse(InputError, f"{name} 的 [地块坐标] 节中没有地块", f"{name} has no parcels under [地块坐标]")
    coords_text: list[str] = []
    blocks = []
    for lineno, pf, pts in parcels:
        if pf is None:
            refusals.add(InputError, f"第 {lineno} 行：坐标行前没有以 @ 结尾的地块行",
                         f"line {lineno}: a point row before any parcel line ending with @")
            continue
        label = f"地块 {pf[2] if len(pf) > 2 and pf[2] else lineno}（第 {lineno} 行）"
        rows = []
        for ln, f in pts:
            if len(f) == 4:
                pid, ring, x, y = f
            elif len(f) == 3:
                (pid, x, y), ring = f, "1"
            else:
                refusals.add(InputError, f"第 {ln} 行应为 点号,圈号,X,Y：{','.join(f)[:40]!r}",
                             f"line {ln} should be point,ring,X,Y")
                continue
            xn, ye = _num(x), _num(y)
            if not (np.isfinite(xn) and np.isfinite(ye)):
                refusals.add(InputError, f"第 {ln} 行的坐标不是数字：{x!r}, {y!r}", f"line {ln}: coordinates are "
                             "not numbers")
                continue
            coords_text += [x, y]
            rows.append((pid, ring or "1", xn, ye))
        blocks.append((lineno, pf, label, rows))
    refusals.raise_if_any()
    if crs is None:  # the format says X = north; a file written the other way round is diagnosed
        xs = np.array([r[2] for _, _, _, rows in blocks for r in rows])
        ys = np.array([r[3] for _, _, _, rows in blocks for r in rows])
        x_north, axis_note = axis_decision(xs, ys, "X", "Y", a_role="north")
        if not x_north:
            notes.append(axis_note)
            blocks = [(ln, pf, lab, [(p, r, y, x) for p, r, x, y in rows]) for ln, pf, lab, rows in blocks]
    eastings = [r[3] for _, _, _, rows in blocks for r in rows]
    src = _crs_of(head, eastings, given=crs, name=name, refusals=refusals, notes=notes)
    prec, pnote = _precision(head, coords_text)
    if pnote:
        notes.append(pnote)
    records: list[dict[str, object]]
    records, geoms, site_notes = [], [], {}
    for _lineno, pf, label, rows in blocks:
        rec = {}
        for k, v in enumerate(pf):
            rec[fields[k] if k < len(fields) else f"字段{k + 1}"] = v
        jzds = _num(pf[0]) if pf else float("nan")
        if not np.isfinite(jzds) or int(jzds) != len(rows):
            refusals.add(InputError,
                         f"{label} 界址点数 JZDS={pf[0] if pf else ''} 与实际坐标行数 {len(rows)} 不符：请核对是否漏点",
                         f"{label}: JZDS={pf[0] if pf else ''} but {len(rows)} point rows; check for missing points")
            continue
        kind = pf[4] if len(pf) > 4 and pf[4] else "面"
        by_ring: dict[str, list] = {}
        for _pid, ring, xn, ye in rows:
            by_ring.setdefault(ring, []).append((ye, xn))  # GIS order: x = east, y = north
        pnotes: list[str] = []
        if kind == "面":
            g = assemble_parcel([(r, np.array(v)) for r, v in by_ring.items()], label=label, tol=prec,
                                refusals=refusals, require_closed=True, notes=pnotes)
        elif kind == "线":
            parts = [shapely.LineString(v) for v in by_ring.values() if len(v) >= 2]
            g = parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)
        elif kind == "点":
            pts = [shapely.Point(p) for v in by_ring.values() for p in v]
            g = pts[0] if len(pts) == 1 else shapely.MultiPoint(pts)
        else:
            refusals.add(InputError, f"{label} 的记录图形属性 {kind!r} 应为 面、线 或 点",
                         f"{label}: geometry kind {kind!r} must be 面, 线 or 点")
            continue
        if g is None:
            continue
        pos = len(records)
        rec["计算面积_公顷"] = round(float(g.area) / 10_000, 6) if kind == "面" else float("nan")
        if kind == "面":
            _check_area(rec, g, pf, prec, label, pnotes)
        if pnotes:
            site_notes[pos] = pnotes
        records.append(rec)
        geoms.append(g)
    refusals.raise_if_any()
    gdf = gpd.GeoDataFrame(pd.DataFrame.from_records(records), geometry=geoms, crs=src)
    ids = gdf.get("地块编号")
    id_col = ("地块编号" if ids is not None and (ids.astype(str).str.strip() != "").all() and ids.is_unique
              else None)
    return ReadResult(gdf=gdf, kind="bubiao", notes=notes, site_notes=site_notes, name_column="地块名称",
                      id_column=id_col, encoding=enc, crs_from="given" if crs is not None else "file")


def _check_area(rec: dict, g, pf: list[str], prec: float, label: str, notes: list[str]) -> None:
    """Compare the declared 地块面积 (公顷) with the coordinates' planar area."""
    if len(pf) < 2 or not pf[1]:
        return
    declared = _num(pf[1])
    if not np.isfinite(declared):
        notes.append(f"{label} 地块面积 {pf[1]!r} 不是数字 / declared area is not a number")
        return
    decimals = len(pf[1].split(".")[1]) if "." in pf[1] else 0
    computed = g.area / 10_000
    # rounding each coordinate by up to prec/2 moves the area by at most about perimeter × prec / 2;
    # the declared figure itself is rounded to its written decimals
    tol_ha = g.length * prec / 2 / 10_000 + 0.5 * 10.0 ** -decimals
    diff = computed - declared
    rec["面积差_公顷"] = round(diff, 6)
    if abs(diff) > tol_ha:
        notes.append(f"{label} 申报面积 {declared:g} 公顷，按坐标计算 {computed:.4f} 公顷（高斯平面），"
                     f"相差 {diff:+.4f} 公顷，"
                     f"超出精度允许的 ±{tol_ha:.4f} 公顷 / declared area {declared:g} ha, computed {computed:.4f} ha "
                     f"(Gauss-Kruger plane), difference {diff:+.4f} ha exceeds the ±{tol_ha:.4f} ha "
                     "the precision allows")
