"""End to end in a real headless browser: start ``streamlit run app/studio.py``, upload a clip, one click, a video;
and Cancel stopping a render.

Uses Debian's Chromium and chromedriver (``apt-get install -y chromium chromium-driver``) driven by Selenium with the
driver path given explicitly, so Selenium Manager never looks for (or downloads) a browser. The studio runs with the
fake models (``CREATOR_STUDIO_FAKE_MODELS=1``) so the test takes well under a minute. The server is a child process
that is always killed; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import media
from tests.studio_server import free_port, serving

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[dev]')")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SERVER_START_S, DRAFT_S, STEP_S = 90, 120, 30


def _browser() -> tuple[str, str]:
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        pytest.skip("no Chromium and chromedriver on this machine; install them with "
                    "`apt-get install -y chromium chromium-driver`")
    return browser, driver


@contextlib.contextmanager
def _serve(tmp_path: Path, **env: str) -> Iterator[str]:
    """The studio served on a free loopback port; yields its URL; the server is always stopped."""
    port = free_port()
    env = {**os.environ, "CREATOR_STUDIO_FAKE_MODELS": "1", "CREATOR_STUDIO_HOME": str(tmp_path / "home"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **env}
    cmd = [sys.executable, "-m", "streamlit", "run", "app/studio.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]
    with serving(cmd, port=port, env=env, cwd=ROOT, log=tmp_path / "streamlit.log", limit_s=SERVER_START_S) as url:
        yield url


@pytest.fixture
def studio(tmp_path):
    with _serve(tmp_path) as url:
        yield url


@pytest.fixture
def slow_studio(tmp_path):
    """The studio with a stand-in render that takes a minute, so there is time to press Cancel."""
    with _serve(tmp_path, CREATOR_STUDIO_FAKE_RENDER_S="60") as url:
        yield url


@pytest.fixture
def browser(tmp_path, monkeypatch):
    binary, driver_path = _browser()
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager, were it ever consulted, must not download
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1400,1100", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(STEP_S)
    try:
        yield driver
    finally:
        driver.quit()


def _upload_and_make(browser, url: str, clip: Path, brief: str) -> WebDriverWait:
    wait = WebDriverWait(browser, STEP_S)
    browser.get(url)
    upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[type='file']")))
    upload.send_keys(str(clip))
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid='stFileChipName']"), clip.name))
    field = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "input[aria-label='Brief']")))
    field.send_keys(brief, Keys.ENTER)
    make = wait.until(ec.element_to_be_clickable((By.XPATH, "//button[.//p[text()='Make my draft']]")))
    time.sleep(1.0)  # let the brief's rerun settle before the click
    make.click()
    return wait


def _clip(tmp_path: Path) -> Path:
    return media.colour_segments(tmp_path / "beach day.mp4", colours=[(230, 90, 40), (40, 140, 220)],
                                 durations_s=[2.0, 2.0], size=(96, 160))


def test_upload_one_click_and_watch_the_draft(browser, studio, tmp_path):
    _upload_and_make(browser, studio, _clip(tmp_path), "A bright beach day, orange and blue")
    try:
        WebDriverWait(browser, DRAFT_S).until(ec.presence_of_element_located((By.CSS_SELECTOR, "video")))
    finally:
        browser.save_screenshot(str(tmp_path / "studio.png"))
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "Making your draft: done" in page
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid='stException']"), page
    assert (tmp_path / "studio.png").stat().st_size > 10_000
    drafts = list((tmp_path / "home" / "workspaces").glob("*/*/draft.json"))
    assert len(drafts) == 1


def test_cancel_stops_a_render_and_keeps_nothing(browser, slow_studio, tmp_path):
    wait = _upload_and_make(browser, slow_studio, _clip(tmp_path), "A bright beach day, orange and blue")
    try:  # the render is under way (the first draft of a server also loads the matcher)
        WebDriverWait(browser, DRAFT_S).until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "stage: render"))
    finally:
        browser.save_screenshot(str(tmp_path / "rendering.png"))
    started = time.monotonic()
    wait.until(ec.element_to_be_clickable((By.XPATH, "//button[.//p[text()='Cancel']]"))).click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Making your draft: cancelled"))
    assert time.monotonic() - started < 20, "the render (60 s) was stopped, not waited for"
    wait.until_not(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "stage: render"))  # the rerun is over
    page = browser.find_element(By.TAG_NAME, "body").text
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid='stException']"), page
    assert not browser.find_elements(By.CSS_SELECTOR, "video") and "Make my draft" in page
    workspaces = tmp_path / "home" / "workspaces"
    assert not list(workspaces.glob("*/*/draft.json")) and not list(workspaces.glob("*/.*.tmp"))
    assert not list(workspaces.rglob("*.part.mp4"))
