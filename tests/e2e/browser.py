"""Headless Chromium for the web UI's end-to-end tests (selenium with
Debian's chromium + chromium-driver).

The browser gets no network beyond 127.0.0.1: every host name resolves to
nothing except 127.0.0.1 (--host-resolver-rules), everything not on the
loopback goes to a proxy that does not exist, and every request it made is
read back from its DevTools log (Browser.requests()) so a test can assert
that none left 127.0.0.1.  Every wait is bounded.
"""
import json
import os
import shutil
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "artifacts")

OFFLINE_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # nothing listens there: anything proxied fails
    "--proxy-bypass-list=127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
]


class Browser:
    def __init__(self, width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix="openplug-chromium-")
        options = Options()
        options.binary_location = CHROMIUM
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--hide-scrollbars", "--window-size=%d,%d" % (width, height),
                     "--user-data-dir=" + self.profile] + OFFLINE_FLAGS:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(15)
        self.driver.set_script_timeout(15)
        self._requests = []
        self._console = []

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- what the page did --

    def _drain(self):
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self._requests.append(message["params"]["request"]["url"])
        self._console += self.driver.get_log("browser")

    def requests(self):
        """Every URL the browser asked for so far."""
        self._drain()
        return list(self._requests)

    def console_errors(self):
        """Errors the page logged (uncaught exceptions, failed loads)."""
        self._drain()
        return [m for m in self._console if m["level"] == "SEVERE"]

    def assert_only_local(self, base):
        """Every request went to the plug at `base` (or was data: inline, or
        the browser's own chrome:// pages, which never touch a network)."""
        urls = self.requests()
        assert any(u.startswith(base + "/") for u in urls), "no request to the plug seen"
        strays = [u for u in urls if not u.startswith((base + "/", "data:", "chrome://"))]
        assert not strays, "requests beyond %s: %r" % (base, strays)

    # -- driving --

    def open(self, url):
        """Load a page; requests() counts from here (not the browser's own
        start-up pages)."""
        self._drain()
        self._requests = []
        self.driver.get(url)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css):
        return self.driver.find_element("css selector", css)

    def wait(self, condition, timeout=10, what="a condition"):
        """Poll condition() until it returns something true; return that."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = condition()
                if value:
                    return value
            except WebDriverException as e:
                last_error = e
            time.sleep(0.1)
        raise AssertionError("timed out after %.1f s waiting for %s (%r)" % (timeout, what, last_error))

    def text(self, css):
        return self.find(css).text

    def screenshot(self, name, width, height=None, dark=False):
        """Save build/artifacts/<name>.png of the whole page at `width` CSS px
        (dark: as a browser that prefers a dark colour scheme shows it)."""
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
            {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        self.driver.set_window_size(width, height or 900)
        time.sleep(0.3)  # a resize redraws the charts
        full = height or self.js("return Math.ceil(document.documentElement.scrollHeight)")
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": full, "deviceScaleFactor": 1,
                                     "mobile": width < 600})
        time.sleep(0.3)
        path = os.path.abspath(os.path.join(ARTIFACTS, name + ".png"))
        assert self.driver.save_screenshot(path), path
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        return path
