"""The checks every user file passes before any reader opens it (the format allow-list's bytes).

GDAL can open some 80 formats, and some of them read files the user never named
(a VRT's ``<SrcDataSource>``, a GDALG pipeline, an SQLite database with virtual
tables, a KML ``<NetworkLink>``) or write files next to the input (GML writes a
``.gfs``). jixi_geo therefore decides the format itself, from the file name and
its first bytes, **before** GDAL sees the file, and hands GDAL only files whose
bytes match one of the registered formats (:mod:`.registry` maps each suffix to
its check here and to its reader):

=================  ==============================  ===================================
format             names                           checked before opening
=================  ==============================  ===================================
GeoJSON            ``.geojson``, ``.json``         starts with ``{``; not a GDALG pipeline
GeoPackage         ``.gpkg``                       SQLite header with the GPKG application id
Shapefile          ``.shp``                        shape-file code 9994; ``.shx`` and ``.dbf`` present
zipped Shapefile   ``.zip``                        exactly one ``.shp`` (any folder) with its parts
KML / KMZ          ``.kml``, ``.kmz``              root element ``<kml>``; no ``<NetworkLink>``
CSV                ``.csv``, ``.tsv``              not binary; read by pandas, not GDAL
WKT text           ``.wkt``, ``.txt``              not binary; read by Python, not GDAL
GeoParquet         ``.parquet``, ``.geoparquet``   ``PAR1`` magic; read by pyarrow, not GDAL
File Geodatabase   ``.gdb`` folder, ``.gdb.zip``   control layers only: plain files, the system
                                                   catalog ``a00000001.gdbtable`` with its header
=================  ==============================  ===================================

Everything else (VRT, GML, Excel through GDAL, FlatGeobuf, …) is refused with
:class:`~jixi_geo.errors.InputError` naming the accepted formats (:data:`REFUSED`
gives the reason for the known dangerous ones). After opening, the driver GDAL
reports is compared with the one expected (:func:`check_driver`).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .._text import refuse_binary
from ..errors import InputError

__all__ = ["Source", "REFUSED", "EXCEL", "refusal", "read_head", "check_text", "check_parquet", "check_geojson",
           "check_gpkg", "check_shapefile", "check_shapezip", "check_kml", "check_kmz", "check_filegdb",
           "check_filegdb_zip", "check_driver",
           "open_options", "identify_raster"]

#: name endings refused outright -> (中文, English) reason
REFUSED = {
    ".vrt": ("VRT 文件会读取其 <SrcDataSource> 指向的其他文件",
             "a VRT reads the other files its <SrcDataSource> names"),
    ".gml": ("读取 GML 时 GDAL 会在输入文件旁写出 .gfs 文件", "GDAL writes a .gfs file next to a GML input"),
    ".xml": ("XML/GML 可能引用其他文件，且 GDAL 会在旁边写出 .gfs 文件",
             "XML/GML may reference other files and GDAL writes a .gfs file next to it"),
    ".gdalg.json": ("GDALG 是会读取其他文件的 GDAL 处理流程", "a GDALG file is a GDAL pipeline that reads other files"),
    ".sqlite": ("SQLite 数据库可含读取其他文件的虚拟表",
                "an SQLite database can hold virtual tables that read other files"),
    ".db": ("SQLite 数据库可含读取其他文件的虚拟表",
            "an SQLite database can hold virtual tables that read other files"),
}
#: spreadsheet suffixes (read by the planner readers, never by GDAL)
EXCEL = {".xlsx", ".xlsm", ".xls", ".ods", ".et"}
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
    kind: str  # a format of the registry (:data:`.registry.FORMATS`)
    gdal_path: str | None = None  # what to give pyogrio (``/vsizip/…`` inside a zip); None: not GDAL
    parts: tuple[str, ...] = field(default_factory=tuple)  # a Shapefile's part names (lower-case suffixes)
    note: str = ""  # how the file was read, when that is worth saying
    member: str = ""  # inside a zip: the .shp read
    drivers: tuple[str, ...] | None = None  # the GDAL drivers allowed to open it (set by the registry)


def refusal(path: Path, zh: str, en: str) -> InputError:
    return InputError(f"{path.name}：{zh}。/ {path.name}: {en}.")


def read_head(path: Path, n: int = _HEAD) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def check_text(path: Path, *, layer=None) -> Source:
    refuse_binary(path, read_head(path, 8))  # the same decision as every text reader (_text)
    return Source(path, "csv" if path.suffix.lower() in (".csv", ".tsv") else "wkt")


def check_parquet(path: Path, *, layer=None) -> Source:
    if read_head(path, 4) != b"PAR1":
        raise refusal(path, "不是 Parquet 文件（缺少 PAR1 文件头）", "is not a Parquet file (no PAR1 header)")
    return Source(path, "parquet")


def check_geojson(path: Path, *, layer=None) -> Source:
    head = read_head(path)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        raise refusal(path, "不是 GeoJSON（应以 { 开头）", "is not GeoJSON (a GeoJSON file starts with '{')")
    if b"gdal_streamed_alg" in head:
        raise refusal(path, "是 GDALG 处理流程，会读取其他文件，不接受",
                      "is a GDALG pipeline, which reads other files; it is refused")
    return Source(path, "geojson", gdal_path=str(path))


def check_gpkg(path: Path, *, layer=None) -> Source:
    head = read_head(path, 100)
    if not head.startswith(_SQLITE_MAGIC) or head[68:72] not in _GPKG_IDS:
        raise refusal(path, "不是 GeoPackage（SQLite 文件头或 GPKG 应用标识缺失）",
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


def check_shapefile(path: Path, *, layer=None) -> Source:
    if read_head(path, 4) != _SHP_MAGIC:
        raise refusal(path, "不是 Shapefile（文件头不是 9994）", "is not a Shapefile (the file code is not 9994)")
    parts = _siblings(path)
    missing = _missing_parts(path.name, parts)
    if missing:
        raise refusal(path, *missing)
    return Source(path, "shapefile", gdal_path=str(path), parts=tuple(sorted(parts)))


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as e:
        raise refusal(path, f"不是有效的 zip 文件（{e}）", f"is not a valid zip file ({e})") from None
    return [n for n in names if not n.startswith("__MACOSX/") and not PurePosixPath(n).name.startswith(".")]


def check_shapezip(path: Path, *, layer=None) -> Source:
    members = _zip_members(path)
    shps = [m for m in members if m.lower().endswith(".shp")]
    if not shps:
        shown = ", ".join(members[:10]) + (" …" if len(members) > 10 else "") or "(empty)"
        raise refusal(path, f"压缩包内没有 .shp 文件（内容：{shown}）；只接受含一个 Shapefile 的 zip",
                      f"the zip holds no .shp file (contents: {shown}); a .zip is accepted only as a "
                      "zipped Shapefile")
    if layer is not None:
        chosen = [m for m in shps if PurePosixPath(m).stem == str(layer) or m == str(layer)]
        if not chosen:
            raise refusal(path, f"压缩包内没有名为 {layer!r} 的 Shapefile；其中有：{', '.join(shps)}",
                          f"no Shapefile named {layer!r} in the zip; it holds: {', '.join(shps)}")
        shps = chosen
    if len(shps) > 1:
        stems = ", ".join(PurePosixPath(m).stem for m in shps)
        raise refusal(path, f"压缩包内有 {len(shps)} 个 Shapefile（{', '.join(shps)}）；请用 --layer/layer= "
                            f"指定其一（{stems}）",
                      f"the zip holds {len(shps)} Shapefiles ({', '.join(shps)}); choose one with "
                      f"--layer/layer= (one of: {stems})")
    shp = shps[0]
    stem = shp[:-4]
    parts = tuple(sorted(m[len(stem):].lower() for m in members if m[:len(stem)] == stem
                         and "/" not in m[len(stem):]))
    missing = _missing_parts(shp, parts)
    if missing:
        raise refusal(path, f"压缩包内的 {missing[0]}", f"inside the zip, {missing[1]}")
    with zipfile.ZipFile(path) as z, z.open(shp) as f:
        if f.read(4) != _SHP_MAGIC:
            raise refusal(path, f"压缩包内的 {shp} 不是 Shapefile", f"{shp} inside the zip is not a Shapefile")
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
        raise refusal(path, *_NOT_KML)
    while True:
        if _NETWORK_LINK.search(buf):
            raise refusal(path, *_LINKED)
        chunk = stream.read(1 << 20)
        if not chunk:
            return
        buf = buf[-64:] + chunk


def check_kml(path: Path, *, layer=None) -> Source:
    with open(path, "rb") as f:
        _scan_kml(path, f)
    return Source(path, "kml", gdal_path=str(path))


def check_kmz(path: Path, *, layer=None) -> Source:
    members = _zip_members(path)
    kmls = [m for m in members if m.lower().endswith(".kml")]
    if not kmls:
        raise refusal(path, "KMZ 内没有 .kml 文件", "the KMZ holds no .kml file")
    main = "doc.kml" if "doc.kml" in kmls else kmls[0]
    with zipfile.ZipFile(path) as z:
        for m in kmls:
            with z.open(m) as f:
                _scan_kml(path, f)
    return Source(path, "kmz", gdal_path=str(path), note="" if main == "doc.kml" else f"read {main}")


_GDB_CATALOG = "a00000001.gdbtable"
_GDB_MAGIC = (b"\x03\x00\x00\x00", b"\x04\x00\x00\x00")  # FileGDB 10.x tables; 64-bit object ids
_GDB_NOT = ("不是 ESRI 文件地理数据库（缺少系统表 a00000001.gdbtable 或其文件头不符）",
            "is not an ESRI File Geodatabase (no system table a00000001.gdbtable with the FileGDB header)")


def check_filegdb(path: Path, *, layer=None) -> Source:
    """A ``.gdb`` folder: regular files only (no links, no sub-folders), with the FileGDB system catalog."""
    if not path.is_dir():
        raise refusal(path, "文件地理数据库（.gdb）应为文件夹", "a File Geodatabase (.gdb) is a folder")
    entries = list(path.iterdir())
    odd = [p.name for p in entries if p.is_symlink() or not p.is_file()]
    if odd:
        raise refusal(path, f"文件夹内含链接或子文件夹（{', '.join(sorted(odd)[:5])}），不像 GDAL/ArcGIS 写出的 "
                            "文件地理数据库，不接受",
                      f"the folder holds links or sub-folders ({', '.join(sorted(odd)[:5])}), which a File "
                      "Geodatabase written by ArcGIS or GDAL does not; it is refused")
    catalog = path / _GDB_CATALOG
    if not catalog.is_file() or read_head(catalog, 4) not in _GDB_MAGIC:
        raise refusal(path, *_GDB_NOT)
    return Source(path, "filegdb", gdal_path=str(path))


def check_filegdb_zip(path: Path, *, layer=None) -> Source:
    """A ``.gdb.zip``: one ``*.gdb`` folder (at the top or in one folder) holding the FileGDB system catalog."""
    members = _zip_members(path)
    catalogs = [m for m in members if PurePosixPath(m).name == _GDB_CATALOG
                and PurePosixPath(m).parent.name.lower().endswith(".gdb")]
    if len(catalogs) != 1:
        found = ", ".join(str(PurePosixPath(m).parent) for m in catalogs) or "(none)"
        raise refusal(path, f"压缩包内应恰有一个 .gdb 文件地理数据库（找到：{found}）",
                      f"the zip must hold exactly one .gdb File Geodatabase (found: {found})")
    folder = str(PurePosixPath(catalogs[0]).parent)
    with zipfile.ZipFile(path) as z, z.open(catalogs[0]) as f:
        if f.read(4) not in _GDB_MAGIC:
            raise refusal(path, *_GDB_NOT)
    return Source(path, "filegdbzip", gdal_path=f"/vsizip/{path.resolve().as_posix()}/{folder}", member=folder)


def check_driver(src: Source, driver: str) -> None:
    """Refuse a file that GDAL opened with a driver other than the one expected."""
    allowed = src.drivers or ()
    if driver not in allowed:
        raise refusal(src.path, f"GDAL 以 {driver} 驱动识别此文件，而扩展名要求 {'/'.join(allowed)}；不接受",
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
    if path.is_dir() or path.suffix.lower() not in (".tif", ".tiff") or read_head(path, 4) not in _TIFF_MAGIC:
        raise refusal(path, "只接受 GeoTIFF 栅格（.tif/.tiff）；VRT 等格式会读取其他文件",
                      "only GeoTIFF rasters (.tif/.tiff with TIFF bytes) are read; VRT and other formats "
                      "can read files the user never named. Convert it with `gdal_translate -of GTiff`")
    return path
