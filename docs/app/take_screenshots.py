"""Screenshots of every studio page, on the real embedded defaults and the demo media, in headless Chromium.

    .venv/bin/python docs/app/take_screenshots.py [--out docs/app]

Starts the studio the way the README does (``app/launch.py``, real models, a throw-away studio home), makes the
demo draft with one click, visits each page through the sidebar as a creator would, and saves ``<page>.png``; then
makes the demo draft again with the Chinese demo brief and saves ``titles-zh.png``, ``match-zh.png``, ``draft-zh.png``.
Needs Debian's ``chromium`` and ``chromedriver`` (as ``tests/test_browser.py``); takes a few minutes on a CPU.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # tests.studio_server, run as a script from anywhere
from tests.studio_server import free_port, serving  # noqa: E402

WINDOW = (1280, 900)
DRAFT_S, STEP_S = 600, 60


def _browser(profile: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)


def _settled(driver: webdriver.Chrome) -> None:
    """Wait until Streamlit has finished the script run, and the page has drawn its media."""
    WebDriverWait(driver, DRAFT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid='stApp']")
                                         .get_attribute("data-test-script-state") != "running")
    time.sleep(2.0)


def _page(driver: webdriver.Chrome, title: str, heading: str) -> None:
    driver.find_element(By.XPATH, f"//a[@data-testid='stSidebarNavLink'][.//p[text()='{title}']]").click()
    WebDriverWait(driver, STEP_S).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), heading))
    _settled(driver)


def _shot(driver: webdriver.Chrome, out: Path, name: str) -> None:
    if driver.find_elements(By.CSS_SELECTOR, "[data-testid='stException']"):
        raise SystemExit(f"{name}: the page shows a traceback")
    driver.save_screenshot(str(out / f"{name}.png"))
    print(f"{name}.png", file=sys.stderr, flush=True)


def take(out: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="studio-shots-"))
    port = free_port()
    env = {**os.environ, "CREATOR_STUDIO_HOME": str(work / "home")}
    env.pop("CREATOR_STUDIO_FAKE_MODELS", None)
    cmd = [sys.executable, str(ROOT / "app" / "launch.py"), "--port", str(port), "--demo-dir", str(work / "demo")]
    try:
        with serving(cmd, port=port, env=env, cwd=ROOT, log=work / "studio.log", limit_s=120) as url:
            driver = _browser(work / "chromium")
            try:
                _visit(driver, url, out)
            finally:
                driver.quit()
            driver = _browser(work / "chromium-zh")  # a new session: a fresh Create page
            try:
                _chinese_tour(driver, url, out)
            finally:
                driver.quit()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _visit(driver: webdriver.Chrome, url: str, out: Path) -> None:
    driver.get(url)
    WebDriverWait(driver, STEP_S).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Create"))
    _settled(driver)
    _shot(driver, out, "create")
    started = time.monotonic()
    driver.find_element(By.XPATH, "//button[.//p[text()='Make my draft']]").click()
    WebDriverWait(driver, DRAFT_S).until(ec.presence_of_element_located((By.CSS_SELECTOR, "video")))
    _settled(driver)
    print(f"demo draft made in {time.monotonic() - started:.0f} s", file=sys.stderr)
    driver.execute_script("document.querySelector('video').scrollIntoView({block: 'center'})")
    time.sleep(1.0)
    _shot(driver, out, "create-draft")
    _page(driver, "Match", "Match")
    _shot(driver, out, "match")
    driver.find_element(By.XPATH, "//*[@role='tab'][contains(., 'Templates')]").click()
    time.sleep(2)
    stills = [i for i in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stImage'] img") if i.is_displayed()]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", stills[min(1, len(stills) - 1)])
    time.sleep(1.0)
    _shot(driver, out, "match-templates")
    for title in ("Titles", "Draft", "Library", "Settings"):
        _page(driver, title, title)
        _shot(driver, out, title.lower())


def _chinese_tour(driver: webdriver.Chrome, url: str, out: Path) -> None:
    """The demo footage with the Chinese demo brief: ``titles-zh.png``, ``match-zh.png``, ``draft-zh.png``."""
    from selenium.webdriver.common.keys import Keys

    from app.state import DEMO_BRIEFS

    driver.get(url)
    WebDriverWait(driver, STEP_S).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Create"))
    _settled(driver)
    starts = driver.find_elements(By.XPATH, "//button[.//p[contains(text(), '中文 brief')]]")
    if starts:  # a fresh studio: the demo footage with the Chinese brief in one click
        starts[0].click()
        _settled(driver)
    else:  # the draft already holds the demo footage: write the Chinese demo brief into the field
        field = driver.find_element(By.CSS_SELECTOR, "input[aria-label='Brief']")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(DEMO_BRIEFS["zh"], Keys.ENTER)
        _settled(driver)
    driver.find_element(By.XPATH, "//button[.//p[text()='Make my draft']]").click()
    WebDriverWait(driver, DRAFT_S).until(
        lambda d: "Making your draft: done" in d.find_element(By.TAG_NAME, "body").text)
    _settled(driver)
    for title in ("Titles", "Match", "Draft"):
        _page(driver, title, title)
        _shot(driver, out, f"{title.lower()}-zh")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "app", help="folder for the PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    take(args.out)


if __name__ == "__main__":
    main()
