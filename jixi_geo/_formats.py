"""The allow-list of input formats for site and zone files (private).

GDAL can open some 80 formats, and some of them read files the user never named
(a VRT's ``<SrcDataSource>``, a GDALG pipeline, an SQLite database with virtual
tables, a KML ``<NetworkLink>``) or write files next to the input (GML writes a
``.gfs``). jixi_geo therefore decides the format itself, from the file name and
its first bytes, **before** GDAL sees the file, and hands GDAL only files whose
bytes match one of the documented formats:

=================  ==============================  ===================================
format             names                           checked before opening
=================  ==============================  ===================================
GeoJSON            ``.geojson``, ``.json``         starts with ``{``; not a GDALG pipeline
GeoPackage         ``.gpkg``                       SQLite header with the GPKG application id
Shapefile          ``.shp``                        shape-file code 9994; ``.shx`` and ``.dbf`` present
zipped Shapefile   ``.zip``                        exactly one ``.shp`` (any folder) with its parts
KML / KMZ          ``.kml``, ``.kmz``              root element ``<kml>``; no ``<NetworkLink>``
CSV                ``.csv``, ``.tsv``              read by pandas, not GDAL
WKT text           ``.wkt``, ``.txt``              read by Python, not GDAL
GeoParquet         ``.parquet``, ``.geoparquet``   ``PAR1`` magic; read by pyarrow, not GDAL
=================  ==============================  ===================================

Everything else (VRT, GML, Excel, FlatGeobuf, …) is refused with
:class:`~jixi_geo.errors.InputError` naming the accepted formats. After opening,
the driver GDAL reports is compared with the one expected.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ._text import refuse_binary
from .errors import InputError

__all__ = ["Source", "identify", "ACCEPTED_ZH", "ACCEPTED_EN", "check_driver"]

ACCEPTED_ZH = ("GeoJSON（.geojson/.json）、GeoPackage（.gpkg）、Shapefile（.shp，或含一个 Shapefile 的 .zip）、"
               "KML/KMZ、CSV（.csv/.tsv）、WKT 文本（.wkt/.txt）、GeoParquet（.parquet）")
ACCEPTED_EN = ("GeoJSON (.geojson/.json), GeoPackage (.gpkg), ESRI Shapefile (.shp, or a .zip holding "
               "one), KML/KMZ, CSV (.csv/.tsv), WKT text (.wkt/.txt), GeoParquet (.parquet)")
ACCEPTED_VECTOR_ZH = "GeoJSON、GeoPackage、Shapefile（.shp 或 .zip）、KML/KMZ、GeoParquet"
ACCEPTED_VECTOR_EN = "GeoJSON, GeoPackage, ESRI Shapefile (.shp or .zip), KML/KMZ, GeoParquet"

#: suffix -> format kind
_KINDS = {
    ".geojson": "geojson", ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shapefile",
    ".zip": "shapezip",
    ".kml": "kml", ".kmz": "kmz",
    ".csv": "csv", ".tsv": "csv",
    ".wkt": "wkt", ".txt": "wkt",
    ".parquet": "parquet", ".geoparquet": "parquet",
}
#: format kind -> GDAL drivers allowed to open it (None: not read through GDAL)
DRIVERS: dict[str, tuple[str, ...] | None] = {
    "geojson": ("GeoJSON",),
    "gpkg": ("GPKG",),
    "shapefile": ("ESRI Shapefile",),
    "shapezip": ("ESRI Shapefile",),
    "kml": ("KML", "LIBKML"),
    "kmz": ("LIBKML", "KML"),
    "csv": None, "wkt": None, "parquet": None,
}
#: refused on purpose, with the reason (suffix -> (中文, English))
_REFUSED = {
    ".vrt": ("VRT 文件会读取其 <SrcDataSource> 指向的其他文件",
             "a VRT reads the other files its <SrcDataSource> names"),
    ".gml": ("读取 GML 时 GDAL 会在输入文件旁写出 .gfs 文件", "GDAL writes a .gfs file next to a GML input"),
    ".xml": ("XML/GML 可能引用其他文件，且 GDAL 会在旁边写出 .gfs 文件",
             "XML/GML may reference other files and GDAL writes a .gfs file next to it"),
    ".gdalg.json": ("GDALG 是会读取其他文件的 GDAL 处理流程", "a GDALG file is a GDAL pipeline that reads other files"),
    ".sqlite": ("SQLite 数据库可含读取其他文件的虚拟表", "an SQLite database can hold virtual tables that read other files"),
    ".db": ("SQLite 数据库可含读取其他文件的虚拟表", "an SQLite database can hold virtual tables that read other files"),
}
_EXCEL = {".xlsx", ".xlsm", ".xls", ".ods", ".et"}
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_IDS = (b"GPKG", b"GP10", b"GP11")
_HEAD = 4096
_ROOT = re.compile(rb"<\s*(?![?!])([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_NETWORK_LINK = re.compile(rb"<\s*([A-Za-z_][\w.\-]*:)?NetworkLink\b")


@dataclass(frozen=True)
class Source:
    """A user file whose format was decided before any reader opened it."""

    path: Path  # the file the user named
    kind: str  # a key of DRIVERS
    gdal_path: str | None = None  # what to give pyogrio (``/vsizip/…`` inside a zip); None: not GDAL
    parts: tuple[str, ...] = field(default_factory=tuple)  # a Shapefile's part names (lower-case suffixes)
    note: str = ""  # how the file was read, when that is worth saying
    member: str = ""  # inside a zip: the .shp read

    @property
    def drivers(self) -> tuple[str, ...] | None:
        return DRIVERS[self.kind]


def _refuse(path: Path, zh: str, en: str) -> InputError:
    return InputError(f"{path.name}：{zh}。/ {path.name}: {en}.")


def _accepted(vector_only: bool) -> tuple[str, str]:
    return (ACCEPTED_VECTOR_ZH, ACCEPTED_VECTOR_EN) if vector_only else (ACCEPTED_ZH, ACCEPTED_EN)


def _head(path: Path, n: int = _HEAD) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def identify(path, *, layer=None, what: str = "site file", vector_only: bool = False) -> Source:
    """Decide the format of ``path`` from its name and first bytes, or refuse it.

    Parameters
    ----------
    path : str or pathlib.Path
        The file a user named.
    layer : str, optional
        For a zip holding several Shapefiles: the one to read (its name without
        ``.shp``).
    what : str
        How to call the file in messages (``"site file"``, ``"zones file"``).
    vector_only : bool
        Refuse CSV and WKT text too (zone layers need polygons with a CRS).

    Returns
    -------
    Source

    Raises
    ------
    InputError
        Missing file, a folder, or a format outside the allow-list; the message
        names the file, the reason and the accepted formats.
    """
    path = Path(path)
    acc_zh, acc_en = _accepted(vector_only)
    if not path.exists():
        raise InputError(f"找不到{_zh(what)} {path}（相对于 {Path.cwd()}）。/ no such file: {path} (the {what}; "
                         f"relative paths start at {Path.cwd()}). Check the path.")
    if path.is_dir():
        raise _refuse(path, f"是文件夹，不是文件；请指定其中的文件（如 .shp），或把 Shapefile 压缩为 .zip",
                      f"is a folder, not a file; name the file inside it (e.g. the .shp), or zip the "
                      f"Shapefile parts into one .zip")
    name = path.name.lower()
    suffix = path.suffix.lower()
    for refused, (zh, en) in _REFUSED.items():
        if name.endswith(refused):
            raise _refuse(path, f"不接受此格式：{zh}。可用格式：{acc_zh}",
                          f"this format is refused: {en}. Accepted formats: {acc_en}")
    if suffix in _EXCEL:
        raise _refuse(path, "暂不直接读取 Excel 工作簿；请在 Excel/WPS 中“另存为 CSV UTF-8（逗号分隔）”后再用，"
                            f"可用格式：{acc_zh}",
                      "Excel workbooks are not read (yet); save the sheet as \"CSV UTF-8 (comma delimited)\" "
                      f"in Excel/WPS and pass the .csv. Accepted formats: {acc_en}")
    kind = _KINDS.get(suffix)
    if kind is None or (vector_only and kind in ("csv", "wkt")):
        shown = suffix or "(no extension)"
        raise _refuse(path, f"扩展名 {shown} 不在可接受的格式之列（可用：{acc_zh}）",
                      f"the extension {shown} is not an accepted format (accepted: {acc_en}). "
                      "Convert the file, e.g. with QGIS or ogr2ogr, to one of them")
    return _CHECKS[kind](path, layer=layer)


def _zh(what: str) -> str:
    return {"site file": "场址文件", "zones file": "管控区文件"}.get(what, "文件")


def _check_text(path: Path, *, layer=None) -> Source:
    refuse_binary(path, _head(path, 8))  # the same decision as every text reader (_text)
    return Source(path, "csv" if path.suffix.lower() in (".csv", ".tsv") else "wkt")


def _check_parquet(path: Path, *, layer=None) -> Source:
    if _head(path, 4) != b"PAR1":
        raise _refuse(path, "不是 Parquet 文件（缺少 PAR1 文件头）", "is not a Parquet file (no PAR1 header)")
    return Source(path, "parquet")


def _check_geojson(path: Path, *, layer=None) -> Source:
    head = _head(path)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        raise _refuse(path, "不是 GeoJSON（应以 { 开头）", "is not GeoJSON (a GeoJSON file starts with '{')")
    if b"gdal_streamed_alg" in head:
        raise _refuse(path, "是 GDALG 处理流程，会读取其他文件，不接受",
                      "is a GDALG pipeline, which reads other files; it is refused")
    return Source(path, "geojson", gdal_path=str(path))


def _check_gpkg(path: Path, *, layer=None) -> Source:
    head = _head(path, 100)
    if not head.startswith(_SQLITE_MAGIC) or head[68:72] not in _GPKG_IDS:
        raise _refuse(path, "不是 GeoPackage（SQLite 文件头或 GPKG 应用标识缺失）",
                      "is not a GeoPackage (no SQLite header with the GPKG application id); plain SQLite "
                      "databases are refused because their virtual tables can read other files")
    return Source(path, "gpkg", gdal_path=str(path))


def _siblings(path: Path) -> dict[str, Path]:
    """The files sharing ``path``'s stem, by lower-case suffix (Shapefile parts)."""
    out: dict[str, Path] = {}
    for p in path.parent.iterdir():
        if p.stem == path.stem and p.is_file():
            out.setdefault(p.suffix.lower(), p)
    return out


def _missing_parts(name: str, parts) -> tuple[str, str] | None:
    lacking = [s for s in (".shx", ".dbf") if s not in parts]
    if not lacking:
        return None
    why_zh, why_en = [], []
    if ".shx" in lacking:
        why_zh.append("缺少 .shx（几何索引）时无法读取几何")
        why_en.append("without the .shx (shape index) the geometries cannot be read")
    if ".dbf" in lacking:
        why_zh.append("缺少 .dbf（属性表）会丢失全部属性：编号、名称和活动类型，结论将无法对应回项目，"
                      "且未说明活动时按最严格解释，因此拒绝而不是只给警告")
        why_en.append("without the .dbf (attribute table) every attribute is lost: ids, names and the "
                      "activity, so results could not be matched back to the projects and verdicts would "
                      "silently use the strictest reading; it is refused rather than warned about")
    return (f"Shapefile 缺少 {'、'.join(lacking)}：{'；'.join(why_zh)}。请把同名的 {'、'.join(lacking)} "
            "文件放在 .shp 旁边（或一起压缩为 .zip）",
            f"the Shapefile lacks its {' and '.join(lacking)}: {'; '.join(why_en)}. Put the "
            f"{' and '.join(lacking)} of the same name next to the .shp (or zip all parts together)")


def _check_shapefile(path: Path, *, layer=None) -> Source:
    if _head(path, 4) != _SHP_MAGIC:
        raise _refuse(path, "不是 Shapefile（文件头不是 9994）", "is not a Shapefile (the file code is not 9994)")
    parts = _siblings(path)
    missing = _missing_parts(path.name, parts)
    if missing:
        raise _refuse(path, *missing)
    return Source(path, "shapefile", gdal_path=str(path), parts=tuple(sorted(parts)))


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as e:
        raise _refuse(path, f"不是有效的 zip 文件（{e}）", f"is not a valid zip file ({e})") from None
    return [n for n in names if not n.startswith("__MACOSX/") and not PurePosixPath(n).name.startswith(".")]


def _check_shapezip(path: Path, *, layer=None) -> Source:
    members = _zip_members(path)
    shps = [m for m in members if m.lower().endswith(".shp")]
    if not shps:
        shown = ", ".join(members[:10]) + (" …" if len(members) > 10 else "") or "(empty)"
        raise _refuse(path, f"压缩包内没有 .shp 文件（内容：{shown}）；只接受含一个 Shapefile 的 zip",
                      f"the zip holds no .shp file (contents: {shown}); a .zip is accepted only as a "
                      "zipped Shapefile")
    if layer is not None:
        chosen = [m for m in shps if PurePosixPath(m).stem == str(layer) or m == str(layer)]
        if not chosen:
            raise _refuse(path, f"压缩包内没有名为 {layer!r} 的 Shapefile；其中有：{', '.join(shps)}",
                          f"no Shapefile named {layer!r} in the zip; it holds: {', '.join(shps)}")
        shps = chosen
    if len(shps) > 1:
        stems = ", ".join(PurePosixPath(m).stem for m in shps)
        raise _refuse(path, f"压缩包内有 {len(shps)} 个 Shapefile（{', '.join(shps)}）；请用 --layer/layer= "
                            f"指定其一（{stems}）",
                      f"the zip holds {len(shps)} Shapefiles ({', '.join(shps)}); choose one with "
                      f"--layer/layer= (one of: {stems})")
    shp = shps[0]
    stem = shp[:-4]
    parts = tuple(sorted(m[len(stem):].lower() for m in members if m[:len(stem)] == stem
                         and "/" not in m[len(stem):]))
    missing = _missing_parts(shp, parts)
    if missing:
        raise _refuse(path, f"压缩包内的 {missing[0]}", f"inside the zip, {missing[1]}")
    with zipfile.ZipFile(path) as z, z.open(shp) as f:
        if f.read(4) != _SHP_MAGIC:
            raise _refuse(path, f"压缩包内的 {shp} 不是 Shapefile", f"{shp} inside the zip is not a Shapefile")
    folder = str(PurePosixPath(shp).parent)
    note = "" if folder == "." else f"read {shp} from folder {folder}/ inside the zip"
    return Source(path, "shapezip", gdal_path=f"/vsizip/{path.resolve().as_posix()}/{shp}", parts=parts,
                  note=note, member=shp)


_NOT_KML = ("不是 KML（根元素应为 <kml>）", "is not KML (the root element must be <kml>)")
_LINKED = ("含 <NetworkLink>，会读取其他文件或网址，不接受；请在 Google Earth/奥维中把链接的内容导出为一个 KML",
           "holds a <NetworkLink>, which reads other files or URLs, so it is refused; export the "
           "linked content as one KML from Google Earth/奥维")


def _scan_kml(path: Path, stream) -> None:
    """Refuse KML whose root is not ``<kml>`` or that holds a ``<NetworkLink>`` (read 1 MB at a time)."""
    buf = stream.read(_HEAD)
    m = _ROOT.search(buf.lstrip(b"\xef\xbb\xbf"))
    if m is None or m.group(2) != b"kml":
        raise _refuse(path, *_NOT_KML)
    while True:
        if _NETWORK_LINK.search(buf):
            raise _refuse(path, *_LINKED)
        chunk = stream.read(1 << 20)
        if not chunk:
            return
        buf = buf[-64:] + chunk


def _check_kml(path: Path, *, layer=None) -> Source:
    with open(path, "rb") as f:
        _scan_kml(path, f)
    return Source(path, "kml", gdal_path=str(path))


def _check_kmz(path: Path, *, layer=None) -> Source:
    members = _zip_members(path)
    kmls = [m for m in members if m.lower().endswith(".kml")]
    if not kmls:
        raise _refuse(path, "KMZ 内没有 .kml 文件", "the KMZ holds no .kml file")
    main = "doc.kml" if "doc.kml" in kmls else kmls[0]
    with zipfile.ZipFile(path) as z:
        for m in kmls:
            with z.open(m) as f:
                _scan_kml(path, f)
    return Source(path, "kmz", gdal_path=str(path), note="" if main == "doc.kml" else f"read {main}")


_CHECKS = {
    "geojson": _check_geojson, "gpkg": _check_gpkg, "shapefile": _check_shapefile,
    "shapezip": _check_shapezip, "kml": _check_kml, "kmz": _check_kmz,
    "csv": _check_text, "wkt": _check_text, "parquet": _check_parquet,
}


def check_driver(src: Source, driver: str) -> None:
    """Refuse a file that GDAL opened with a driver other than the one expected."""
    allowed = src.drivers or ()
    if driver not in allowed:
        raise _refuse(src.path, f"GDAL 以 {driver} 驱动识别此文件，而扩展名要求 {'/'.join(allowed)}；不接受",
                      f"GDAL recognised it as {driver}, not {'/'.join(allowed)} as its name says; it is "
                      "refused")


def open_options(src: Source) -> dict:
    """Dataset open options that keep GDAL from writing next to the input."""
    return {"NOLOCK": "YES"} if src.kind == "gpkg" else {}


_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # TIFF and BigTIFF, both byte orders


def identify_raster(path) -> Path:
    """Accept a GeoTIFF (``.tif``/``.tiff`` starting with the TIFF magic bytes), or refuse.

    A raster VRT (or any other GDAL raster format that references files) is refused
    for the same reason as a vector VRT: it reads files the user never named.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"找不到栅格文件 {path}。/ no such file: {path} (the raster). Check the path.")
    if path.is_dir() or path.suffix.lower() not in (".tif", ".tiff") or _head(path, 4) not in _TIFF_MAGIC:
        raise _refuse(path, "只接受 GeoTIFF 栅格（.tif/.tiff）；VRT 等格式会读取其他文件",
                      "only GeoTIFF rasters (.tif/.tiff with TIFF bytes) are read; VRT and other formats "
                      "can read files the user never named. Convert it with `gdal_translate -of GTiff`")
    return path
