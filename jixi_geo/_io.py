"""Atomic writes, output sets and content checksums (private helpers).

Every file jixi_geo writes goes through :func:`atomic_path`: it is written under a
hidden temporary name beside the target and moved into place only once complete,
so a reader never sees half a file and a failed write leaves the earlier file
untouched. Files that belong together (a report's CSV, GeoJSON and HTML) go
through :func:`write_set`. A write that cannot happen (a file where a folder
should be, a read-only folder, a full disk) raises
:class:`~jixi_geo.errors.OutputError` naming the path and the fix.

Temporary names carry the writer's host and process id
(``.<name>.~jx<host>-<pid>-<random><suffix>``), so the next write into the same
folder can tell the leftovers of a killed run (the process is gone) from the
files of a run still going, and removes only the former.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import time
from pathlib import Path
from collections.abc import Callable, Iterator, Mapping

import numpy as np
import pandas as pd
import shapely

from .errors import JixiGeoError, OutputError

__all__ = ["STALE_AFTER_S", "LEGACY_STALE_AFTER_S", "output_error", "output_dir", "clean_stale",
           "atomic_path", "write_text_atomic", "manifest_path", "write_set", "verify_set", "file_sha256",
           "content_sha256"]

log = logging.getLogger(__name__)

#: Marks jixi_geo's temporary names: ``.<target>.~jx<host>-<pid>-<random>…``.
_TAG = ".~jx"
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_TMP = re.compile(r"^\.(?P<target>.+?)\.~jx(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}")
# names mkstemp gave before jixi_geo tagged its temporary files: .<target>.<8 random>[suffix]
_LEGACY = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}(?:\.[A-Za-z0-9]+)?$")
#: Leftovers whose owner cannot be asked (another host, a pre-tag name) are stale after this (s).
STALE_AFTER_S = 24 * 3600.0
LEGACY_STALE_AFTER_S = 3600.0
_COMMIT = "_commit.json"
_SET_SUFFIX = "-set"


# ------------------------------------------------------------------------------ errors

def _first_file_on_path(path: Path) -> Path | None:
    """The first existing component of ``path`` (from the root down) that is not a folder."""
    for p in [*reversed(path.parents), path]:
        if p.exists() and not p.is_dir():
            return p
        if not p.exists():
            return None
    return None


def _deepest_existing(path: Path) -> Path:
    for p in [path, *path.parents]:
        if p.exists():
            return p
    return Path(path.anchor) if path.anchor else Path(".")


def output_error(path, exc: OSError, *, label: str | None = None, want_dir: bool = False) -> OutputError:
    """An :class:`OutputError` saying, in 中文 and English, why ``path`` cannot be written."""
    path = Path(path)
    code = getattr(exc, "errno", None)
    blocker = _first_file_on_path(path)
    if blocker is not None and (blocker != path or want_dir or code in (errno.ENOTDIR, errno.EEXIST)):
        if blocker == path:
            zh = f"{path} 是已存在的文件，不是文件夹；请给出文件夹路径，或先移走该文件"
            en = f"{path} is an existing file, not a folder; give a folder path, or move that file away"
        else:
            zh = f"{blocker} 是文件，不是文件夹，无法在其下创建 {path}；请换一个输出路径"
            en = (f"{blocker} is a file, not a folder, so {path} cannot be created below it; "
                  "choose another output path")
    elif code == errno.EISDIR or (path.is_dir() and not want_dir):
        zh = f"{path} 是文件夹，不是文件；请给出文件名"
        en = f"{path} is a folder, not a file; give a file name"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        folder = _deepest_existing(path if want_dir else path.parent)
        zh = f"文件夹 {folder} 不可写（只读文件夹、只读文件系统或没有权限）；请换一个可写的文件夹"
        en = (f"the folder {folder} is not writable (a read-only folder or file system, or no "
              "permission); choose a folder you can write to")
    elif code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        folder = _deepest_existing(path)
        zh = f"{folder} 所在磁盘已满（或超出配额）；请腾出空间或换一个磁盘"
        en = f"the disk holding {folder} is full (or over quota); free some space or choose another disk"
    elif code == errno.ENAMETOOLONG:
        zh, en = "路径或文件名太长；请换一个短一些的名称", "the path or file name is too long; choose a shorter one"
    else:
        reason = exc.strerror or str(exc)
        zh = f"{path}：{reason}；请换一个输出路径"
        en = f"{path}: {reason}; choose another output path"
    return OutputError(path, zh, en, label=label)


def output_dir(path, *, label: str | None = None, create: bool = True) -> Path:
    """Check (and by default create) an output folder that jixi_geo can write into.

    Parameters
    ----------
    path : path
        The folder.
    label : str, optional
        Name of the option that gave ``path`` (``"OUT"``), used in the message.
    create : bool
        Create the folder and its parents; with ``False`` nothing is created and
        the nearest existing parent is tested instead.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OutputError
        If ``path`` is a file, lies below a file, or the folder is not writable
        (tested by creating and removing a hidden probe file, since permission
        bits say nothing when running as root).
    """
    path = Path(path)
    blocker = _first_file_on_path(path)
    if blocker is not None:
        raise output_error(path, FileExistsError(errno.EEXIST, "file exists"), label=label, want_dir=True)
    try:
        if create:
            path.mkdir(parents=True, exist_ok=True)
        probe_dir = path if path.is_dir() else _deepest_existing(path)
        probe = probe_dir / f".probe{_TAG}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise output_error(path, exc, label=label, want_dir=True) from None
    return path


# ------------------------------------------------------------------- stale leftovers

def _alive(host: str, pid: int) -> bool | None:
    """Whether process ``pid`` of ``host`` runs; None if this cannot be told from here."""
    if host != _HOST or os.name != "posix":
        return None  # os.kill(pid, 0) would terminate the process on Windows
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def _is_stale(entry: os.DirEntry, now: float) -> bool:
    m = _TMP.match(entry.name)
    try:
        age = now - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    if m is not None:
        alive = _alive(m["host"], int(m["pid"]))
        return (not alive) if alive is not None else age > STALE_AFTER_S
    return _LEGACY.match(entry.name) is not None and entry.is_file(follow_symlinks=False) \
        and age > LEGACY_STALE_AFTER_S


def clean_stale(folder, *, target: str | None = None) -> list[str]:
    """Remove the hidden temporary files and folders killed jixi_geo runs left in ``folder``.

    A staged output set that was committed (see :func:`write_set`) is completed
    instead of removed. Leftovers of live processes are never touched.

    Parameters
    ----------
    folder : path
    target : str, optional
        Only the leftovers of writes to this file name (for pre-tag names).

    Returns
    -------
    list of str
        Names removed or completed.
    """
    folder = Path(folder)
    done: list[str] = []
    now = time.time()
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(".")]
    except OSError:
        return done
    for entry in entries:
        if _TMP.match(entry.name) is None and (target is None or not entry.name.startswith(f".{target}.")):
            continue
        if not _is_stale(entry, now):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                if (path / _COMMIT).is_file():
                    _apply_set(path, folder)
                    log.info("completed the output set a killed run had committed: %s", path.name)
                else:
                    shutil.rmtree(path)
            else:
                size = entry.stat(follow_symlinks=False).st_size
                path.unlink()
                log.info("removed %s (%d bytes) left by a killed run", path.name, size)
            done.append(entry.name)
        except OSError as exc:  # pragma: no cover - best effort
            log.warning("could not remove %s left by a killed run: %s", path, exc)
    return done


def _tmp_name(target: str, suffix: str = "") -> str:
    return f".{target}{_TAG}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def _remove_tmp(tmp: Path) -> None:
    """Remove ``tmp`` and any sidecar a writer made next to it (``-journal``, ``.aux.xml`` …)."""
    try:
        entries = [e for e in os.scandir(tmp.parent) if e.name.startswith(tmp.name)]
    except OSError:
        return
    for e in entries:
        with contextlib.suppress(OSError):
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path)
            else:
                os.unlink(e.path)


# ------------------------------------------------------------------------ one file

@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None,
                label: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    A reader never sees a half-written file, and a failed write leaves any
    earlier file untouched. Leftovers of killed runs in the folder are removed
    first (:func:`clean_stale`).

    Raises
    ------
    OutputError
        If the folder cannot be created or written, ``path`` is a folder, or
        the write fails with an operating-system error (e.g. a full disk).
    """
    path = Path(path)
    output_dir(path.parent, label=label)
    if path.is_dir():
        raise output_error(path, IsADirectoryError(errno.EISDIR, "is a directory"), label=label)
    clean_stale(path.parent, target=path.name)
    tmp_path = path.parent / _tmp_name(path.name, suffix if suffix is not None else path.suffix)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except JixiGeoError:
        raise
    except OSError as exc:
        raise output_error(path, exc, label=label) from exc
    finally:
        _remove_tmp(tmp_path)


def write_text_atomic(path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write text to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


# ------------------------------------------------------------------------ file sets

def manifest_path(folder, set_name: str) -> Path:
    """Where :func:`write_set` records the set ``set_name`` written into ``folder``."""
    return Path(folder) / f"{set_name}.manifest.json"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (POSIX; elsewhere a no-op) while a set is moved in."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:  # e.g. a network file system without locks
            log.info("could not lock %s (%s); moving the set in without a lock", folder, exc)
        yield
    finally:
        os.close(fd)  # releases the lock


def _apply_set(stage: Path, folder: Path) -> None:
    """Move a committed staged set into ``folder``, then write its manifest last."""
    record = json.loads((stage / _COMMIT).read_text(encoding="utf-8"))
    manifest = manifest_path(folder, record["set"])
    with _locked(folder):
        manifest.unlink(missing_ok=True)  # while files move, no manifest vouches for the set
        for name in record["files"]:
            src = stage / name
            if src.exists():  # absent: moved before the writer was killed
                os.replace(src, folder / name)
        tmp = folder / _tmp_name(manifest.name)
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, manifest)
    shutil.rmtree(stage)


def write_set(folder, writers: Mapping[str, Callable[[Path], object]], *, set_name: str,
              label: str | None = None, meta: Mapping | None = None) -> dict[str, Path]:
    """Write files that belong together so that they appear together or not at all.

    Every file is first written into a hidden staging folder inside ``folder``
    (same file system, so moves are renames). Once all are complete, a commit
    record listing them with their SHA-256 is written into the staging folder
    (the commit point); then, holding a lock on ``folder``, the old manifest is
    removed, each file is renamed into place and the new manifest
    ``<set_name>.manifest.json`` is written last. A run killed before the commit
    point leaves the previous set untouched (its staging folder is removed by the
    next write into ``folder``); one killed after it is completed by the next
    write. A folder whose manifest is present and matches its files (see
    :func:`verify_set`) therefore holds one whole set.

    Parameters
    ----------
    folder : path
        The output folder (created if missing).
    writers : mapping of str to callable
        File name → function writing that file at the path it is given.
    set_name : str
        Name of the set (its manifest is ``<set_name>.manifest.json``).
    label : str, optional
        Name of the option that gave ``folder`` (for messages).
    meta : mapping, optional
        More JSON fields for the manifest.

    Returns
    -------
    dict of str to pathlib.Path
        File name → final path.

    Raises
    ------
    OutputError
        If ``folder`` or a file in it cannot be written.
    """
    folder = output_dir(folder, label=label)
    clean_stale(folder)
    for name in writers:
        if Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"write_set takes plain file names, not {name!r}")
        if (folder / name).is_dir():
            raise output_error(folder / name, IsADirectoryError(errno.EISDIR, "is a directory"), label=label)
    stage = folder / _tmp_name(set_name + _SET_SUFFIX)
    committed = False
    try:
        stage.mkdir()
        files = {}
        for name, write in writers.items():
            write(stage / name)
            files[name] = file_sha256(stage / name)
        record = {"set": set_name, "files": files,
                  "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **(meta or {})}
        tmp = stage / f"{_COMMIT}.tmp"
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, stage / _COMMIT)
        committed = True
        _apply_set(stage, folder)
    except JixiGeoError:
        raise
    except OSError as exc:
        raise output_error(folder, exc, label=label, want_dir=True) from exc
    finally:
        if not committed and stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    return {name: folder / name for name in writers}


def verify_set(folder, set_name: str) -> dict:
    """Check that ``folder`` holds the whole set ``set_name`` as :func:`write_set` wrote it.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    InputError
        If the manifest is missing (the set was being replaced, or a run was
        killed while moving it in) or a file is missing or differs from it.
    """
    from .errors import InputError

    folder = Path(folder)
    manifest = manifest_path(folder, set_name)
    if not manifest.is_file():
        raise InputError(
            f"{folder} 中没有 {manifest.name}：这组输出未完整写出（运行被中断，或由旧版本写出）；请重新运行。 "
            f"{folder} has no {manifest.name}: this set of outputs was not written completely (a run "
            "was interrupted, or an older jixi_geo wrote it); run it again")
    record = json.loads(manifest.read_text(encoding="utf-8"))
    bad = [n for n, h in record["files"].items()
           if not (folder / n).is_file() or file_sha256(folder / n) != h]
    if bad:
        raise InputError(
            f"{folder} 中的 {'、'.join(bad)} 与 {manifest.name} 不符：文件不属于同一次运行；请重新运行。 "
            f"{', '.join(bad)} in {folder} differ from {manifest.name}: the files are not from one "
            "run; run it again")
    return record


# ------------------------------------------------------------------------ checksums

def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canon(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(f"{float(v):.10g}")
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    return v if isinstance(v, (int, str, bool)) else str(v)


def content_sha256(gdf) -> str:
    """Checksum of a layer's content: feature order, attributes and geometry.

    Independent of the container (file timestamps, driver metadata), so two
    builds of the same layer compare equal even if the GeoPackage bytes differ.
    Coordinates are compared at 1e-9 degrees (0.1 mm).
    """
    h = hashlib.sha256()
    h.update((gdf.crs.to_string() if gdf.crs is not None else "none").encode())
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    h.update(json.dumps(cols, ensure_ascii=False).encode())
    geoms = shapely.set_precision(np.asarray(gdf.geometry.values, dtype=object), 1e-9)
    wkb = shapely.to_wkb(shapely.normalize(geoms), hex=True)
    for rec, g in zip(gdf[cols].itertuples(index=False, name=None), wkb, strict=True):
        h.update(json.dumps([_canon(v) for v in rec], ensure_ascii=False).encode())
        h.update((g or "").encode())
    return h.hexdigest()
