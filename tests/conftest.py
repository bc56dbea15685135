"""Shared fixtures. Paths are resolved from this file, never from the working directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory):
    """The persistent cache of prepared zones goes to a folder of this test session, never the user's."""
    import os

    old = os.environ.get("JIXI_GEO_CACHE_DIR")
    os.environ["JIXI_GEO_CACHE_DIR"] = str(tmp_path_factory.mktemp("jixi_geo_cache"))
    yield
    if old is None:
        os.environ.pop("JIXI_GEO_CACHE_DIR", None)
    else:
        os.environ["JIXI_GEO_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    pytest.skip("headless Chromium is not installed (Debian package `chromium`; .ci/run installs it)")


# ------------------------------------------------------------------ headless Chromium (maps, reports)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

@pytest.fixture(scope="module")
def browser(chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


class _Watch:
    """What a page did that it must not: network requests, console errors, dialogs."""

    def __init__(self):
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []


@pytest.fixture
def open_map(browser):
    """open_map(path) -> (page, watch); after the test: no network, no errors, no dialogs."""
    contexts, watches = [], []

    def _open(path, *, allow_network_to: tuple[str, ...] = (), viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 860})
        watch = _Watch()

        def route(r):
            url = r.request.url
            if url.startswith("file:"):
                r.continue_()
            else:
                watch.requests.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda msg: msg.type == "error" and watch.errors.append(msg.text))
        page.on("pageerror", lambda exc: watch.errors.append(f"page error: {exc}"))

        def on_dialog(dialog):
            watch.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("path.jx-f")
        page.wait_for_function(
            "() => { const m = window[document.querySelector('.folium-map').id];"
            " return m && m._loaded && !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress); }")
        contexts.append(context)
        watches.append((watch, allow_network_to))
        return page, watch

    yield _open
    for context in contexts:
        context.close()
    for watch, allowed in watches:
        unexpected = [u for u in watch.requests if not u.startswith(allowed or ("\0",))]
        assert not unexpected, f"the map tried to load from the network: {unexpected}"
        assert not watch.errors, f"console errors: {watch.errors}"
        assert not watch.dialogs, f"a dialog fired (XSS?): {watch.dialogs}"


def _tooltip_and_popup(page, feature) -> tuple[str, str]:
    """Hover a feature, then click it: the tooltip's and the popup's text."""
    feature.hover()
    page.locator(".leaflet-tooltip").wait_for()
    tooltip = page.locator(".leaflet-tooltip").inner_text()
    feature.click()
    page.locator(".leaflet-popup-content").wait_for()
    return tooltip, page.locator(".leaflet-popup-content").inner_text()



@pytest.fixture
def tooltip_and_popup():
    """tooltip_and_popup(page, feature) -> (tooltip text, popup text): hover, then click."""
    return _tooltip_and_popup
