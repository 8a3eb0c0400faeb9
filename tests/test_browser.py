"""The course in a real browser: JupyterLab from this environment, headless Chromium, the welcome notebook.

Starts JupyterLab on a loopback port with a token, opens a copy of 00_welcome_and_setup.ipynb
(outputs cleared, so that everything seen comes from this run), runs all cells through
JupyterLab's own Run menu, and checks that the explorer renders as a live widget with its
picture, not as the text fallback, that figures appear and that no cell fails. A screenshot
is saved to build/browser/.

It needs Debian's `chromium` (installed by .ci/run where apt works) and the `playwright`
Python package (driving the system Chromium; no browser is downloaded). Without them the
test is skipped and says why.
"""
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "00_welcome_and_setup.ipynb"
SCREENSHOT_DIR = ROOT / "build" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, server: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on a copy of the welcome notebook with its outputs cleared; yields (base URL, token)."""
    work = tmp_path / "notebooks"
    work.mkdir()
    nb = nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, work / NOTEBOOK)
    port, token = free_port(), secrets.token_hex(16)
    log = tmp_path / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    # JupyterLab renders only the cells in view unless windowing is off; the checks need them all.
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"))
    with open(log, "w") as log_file:
        server = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=work)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(f"{base}/api/status?token={token}", server, log)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine: install Debian's `chromium` "
                                              "(`.ci/run` does where apt works) to run the real-browser test")
def test_welcome_notebook_runs_in_jupyterlab_with_live_widgets(jupyterlab):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the `playwright` Python package is not installed")
    base, token = jupyterlab
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            n_code = sum(c.cell_type == "code" for c in nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4).cells)
            page.wait_for_function(f"document.querySelectorAll('.jp-Notebook .jp-CodeCell').length === {n_code}",
                                   timeout=90_000)  # every cell rendered (windowing is off)
            # the kernel has started when the status bar says "Python 3 (ipykernel) | Idle"
            page.get_by_text(re.compile(r"\| Idle$")).first.wait_for(timeout=90_000)
            news = page.get_by_role("button", name="No", exact=True)  # JupyterLab's "news?" toast
            if news.count():
                news.first.click()
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            # done when the last code cell shows its execution count [n]
            page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputArea-prompt").filter(
                has_text=f"[{n_code}]").wait_for(timeout=240_000)
            page.screenshot(path=str(SCREENSHOT_DIR / "00_welcome_and_setup.png"), full_page=False)

            outputs = page.locator(".jp-OutputArea-output")
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            assert errors.count() == 0, "a cell wrote to stderr or failed:\n" + "\n".join(errors.all_inner_texts())[:2000]
            sliders = page.locator(".jp-OutputArea-output .widget-slider")
            assert sliders.count() >= 2, "the explorer's sliders did not render as widgets"
            widget_image = page.locator(".jp-OutputArea-output .widget-image")
            assert widget_image.count() == 1 and widget_image.first.is_visible(), "the explorer's figure is missing"
            assert page.get_by_text("VBox(children=").count() == 0, "the widget shows its text fallback"
            figures = page.locator(".jp-OutputArea-output img")
            assert figures.count() >= 5, f"expected the notebook's figures, found {figures.count()} images"
            assert outputs.filter(has_text="Exercise 3 passed").count() == 1

            widget_image.first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOT_DIR / "00_welcome_widget.png"))
        finally:
            browser.close()
