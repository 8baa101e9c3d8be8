"""A real headless Chromium (Debian's chromium + chromium-driver) on a live portal.

Environment: PAI_PORTAL_URL (pylon, e.g. http://172.18.0.2), PAI_USER and
PAI_PASSWORD_FILE (a file holding the password, never an argument), PAI_ARTIFACTS
(where screenshots go; default ./artifacts), PAI_JOB_IMAGE (the jobs' image,
default openpai/lab-job:1), PAI_JOB_SUFFIX (makes job names unique per run).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from selenium import webdriver
from selenium.common.exceptions import (ElementNotInteractableException, StaleElementReferenceException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement


def _find(names: list[str]) -> str:
    for name in names:
        path = shutil.which(name) or (name if Path(name).is_file() else None)
        if path:
            return path
    raise pytest.UsageError(f"none of {names} is installed (apt-get install chromium chromium-driver)")


class Portal:
    """The portal under test and what a test needs to drive it."""

    def __init__(self, driver: WebDriver, url: str, user: str, password: str, artifacts: Path):
        self.driver = driver
        self.url = url.rstrip("/")
        self.user = user
        self.password = password
        self.artifacts = artifacts
        self.suffix = os.environ.get("PAI_JOB_SUFFIX") or time.strftime("-%H%M%S")
        self.image = os.environ.get("PAI_JOB_IMAGE", "openpai/lab-job:1")

    def open(self, route: str) -> None:
        """Show ``route`` on a freshly loaded page (a new hash alone would keep the old page's state)."""
        self.driver.get("about:blank")
        self.driver.get(f"{self.url}/#{route}")

    def wait(self, what: str, check: Callable[[], Any], timeout_s: float = 30, every_s: float = 0.5) -> Any:
        """``check()``'s first truthy value within ``timeout_s``; the failure names ``what`` and keeps a screenshot."""
        end = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < end:
            try:
                value = check()
                if value:
                    return value
            except (ElementNotInteractableException, StaleElementReferenceException, WebDriverException,
                    ValueError) as exc:
                last = exc
            time.sleep(every_s)
        self.screenshot(f"failed-{what.replace(' ', '-')[:60]}")
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}"
                             + (f" (last: {type(last).__name__}: {last})" if last else "")
                             + f"; page: {self.driver.find_element(By.TAG_NAME, 'main').text[:800]!r}")

    def el(self, css: str, timeout_s: float = 30) -> WebElement:
        """The first element matching ``css`` that is displayed (a page being drawn may not show it yet)."""
        return self.wait(f"element {css}", lambda: next(
            (e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None), timeout_s)

    def text(self, css: str) -> str:
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found else ""

    def type(self, css: str, value: str) -> None:
        """Replace the text of field ``css`` (again if the page redrew it meanwhile)."""
        def attempt() -> bool:
            field = self.el(css)
            field.clear()
            field.send_keys(value)
            return True
        self.wait(f"typing into {css}", attempt, 30)

    def screenshot(self, name: str) -> Path:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        # the whole page, not only the window: as tall as its content, then back
        size = self.driver.get_window_size()
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(size["width"], max(size["height"], min(int(height) + 120, 3000)))
        try:
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.set_window_size(size["width"], size["height"])
        return path

    def login(self, password: str | None = None) -> None:
        self.open("/login")
        self.type("#login-username", self.user)
        self.type("#login-password", self.password if password is None else password)
        self.el("#login-submit").click()

    def api(self, path: str) -> Any:
        """The REST API's own answer (to compare the page with), as the logged-in user."""
        token = self.driver.execute_script("return localStorage.getItem('pai.token')")
        req = urllib.request.Request(f"{self.url}/rest-server/api/v2{path}",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 -- the portal under test
            return json.loads(resp.read())


@pytest.fixture(scope="session")
def portal() -> Iterator[Portal]:
    url = os.environ["PAI_PORTAL_URL"]
    password_file = os.environ.get("PAI_PASSWORD_FILE", "")
    if not password_file:
        raise pytest.UsageError("PAI_PASSWORD_FILE: a file holding the user's password")
    password = Path(password_file).read_text(encoding="utf-8").strip()
    options = webdriver.ChromeOptions()
    options.binary_location = _find(["chromium", "/usr/bin/chromium", "chromium-browser"])
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1366,900", "--no-first-run", "--disable-extensions", "--lang=en-US"):
        options.add_argument(arg)
    # The system's driver: no Selenium Manager download (there is no internet here).
    service = Service(executable_path=_find(["chromedriver", "/usr/bin/chromedriver"]))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    artifacts = Path(os.environ.get("PAI_ARTIFACTS", "artifacts"))
    try:
        yield Portal(driver, url, os.environ.get("PAI_USER", "admin"), password, artifacts)
    finally:
        driver.quit()
