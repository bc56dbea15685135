"""Print an HTML report to PDF through a headless Chromium (Debian ``chromium``), when one is installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import InputError, OutputError

__all__ = ["BROWSERS", "find_chromium", "require_chromium", "html_to_pdf", "TIMEOUT_S"]

#: Program names tried, in order, on PATH.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds a print may take before it is abandoned.
TIMEOUT_S = 180
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--no-first-run", "--no-pdf-header-footer")


def find_chromium() -> str | None:
    """The path of a Chromium-family browser on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """The browser path, or an :class:`~jixi_geo.errors.InputError` saying how to get one (``--pdf``)."""
    path = find_chromium()
    if path is None:
        raise InputError("--pdf 需要 Chromium 浏览器，但未找到（已查找 " + "、".join(BROWSERS) + "）：请安装 "
                         "（Debian/Ubuntu: apt install chromium），或去掉 --pdf，用浏览器打开 report.html 后打印。"
                         " / --pdf needs a Chromium browser and none was found on PATH (looked for "
                         + ", ".join(BROWSERS) + "): install one (apt install chromium) or drop --pdf and print "
                         "report.html from a browser.")
    return path


def html_to_pdf(html_path, pdf_path, *, browser: str | None = None) -> Path:
    """Print ``html_path`` to ``pdf_path`` (A4, the report's print stylesheet) with headless Chromium.

    The browser runs with a throw-away profile, no network services and no first-run
    dialogs; the page is a local file and needs no network.

    Raises
    ------
    InputError
        No browser is installed (see :func:`require_chromium`).
    OutputError
        The browser failed or wrote no PDF.
    """
    browser = browser or require_chromium()
    html_path, pdf_path = Path(html_path).absolute(), Path(pdf_path).absolute()
    with tempfile.TemporaryDirectory(prefix="jixi_geo_chromium_") as profile:
        cmd = [browser, *_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf_path}", html_path.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OutputError(pdf_path, f"Chromium 打印 PDF 失败（{exc}）", f"Chromium could not print the PDF ({exc})"
                              ) from exc
    if proc.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise OutputError(pdf_path, f"Chromium 未写出 PDF（退出码 {proc.returncode}）：{' | '.join(tail)}",
                          f"Chromium wrote no PDF (exit {proc.returncode}): {' | '.join(tail)}")
    return pdf_path
