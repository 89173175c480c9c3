"""A real headless Chromium for the web UI tests: Debian's ``chromium`` driven by
``chromium-driver`` through selenium (no browser download), a fresh profile each session,
and screenshots saved under one temporary folder that CI keeps as an artifact.

``.ci/run`` installs chromium and chromium-driver when missing; without them the tests skip
with the reason printed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,900",
)


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for tool, package in (("chromium", "chromium"), ("chromedriver", "chromium-driver")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install -y {package})"
    return None


def start_chromium(profile: Path) -> Any:
    """A headless Chromium with the fresh user-data-dir ``profile``, its console log kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_page_load_timeout(30)
    return driver


@dataclass
class Browser:
    """The driver, the server's base URL and where screenshots go, with the waits tests use."""

    driver: Any
    base: str
    shots: Path

    def open(self, hash_path: str) -> None:
        self.driver.get(f"{self.base}/#/{hash_path.lstrip('#/')}")

    def until(self, what: str, check: Callable[[], Any], timeout: float = 30) -> Any:
        """Poll ``check`` until it returns something truthy; fail naming ``what``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = check()
            except Exception:  # the page is re-rendering: an element went stale
                found = None
            if found:
                return found
            if time.monotonic() > deadline:
                self.shot(f"timeout-{what.replace(' ', '-')}")
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.2)

    def css(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def wait_css(self, selector: str, timeout: float = 30) -> Any:
        return self.until(selector, lambda: self.css(selector) and self.css(selector)[0], timeout)

    def node_status(self, step: str) -> str | None:
        """The status the graph shows for ``step`` (None: no such node drawn)."""
        for node in self.css("#graph g.node"):
            if node.get_attribute("data-step") == step:
                return node.get_attribute("data-status")
        return None

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def console_errors(self) -> list[str]:
        """Script errors and blocked content (a CSP violation) logged since the last call;
        refused requests (a 401 before login) are the API's answers, not page errors."""
        logged = self.driver.get_log("browser")
        return [e["message"] for e in logged if e["level"] == "SEVERE" and e["source"] != "network"]
