"""A headless Chromium driven over the DevTools protocol, for tests of HTML reports.

Debian's chromium (/usr/bin/chromium), started with --remote-debugging-pipe: commands
and events are NUL-terminated JSON on the child's file descriptors 3 and 4. No
browser download, no extra package: the protocol is a few methods.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--remote-debugging-pipe"]


class BrowserError(Exception):
    pass


@dataclass
class Page:
    """What a page did while it loaded: console messages, errors, requests."""

    browser: Browser
    session: str
    console: list[dict[str, Any]] = field(default_factory=list)  # {level, text}
    requests: list[str] = field(default_factory=list)

    def evaluate(self, expression: str) -> Any:
        reply = self.browser.call("Runtime.evaluate", {"expression": expression,
                                                       "returnByValue": True}, self.session)
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression!r} raised {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        reply = self.browser.call("Page.captureScreenshot", {"format": "png",
                                                             "captureBeyondViewport": True},
                                  self.session)
        path.write_bytes(base64.b64decode(reply["data"]))
        return path

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [c for c in self.console if c["level"] in ("error", "warning")]


class Browser:
    """One headless Chromium with a fresh profile; `open` loads a page at a window size."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._id = 0
        self._buffer = b""
        self._pages: dict[str, Page] = {}
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        self._profile = tempfile.mkdtemp(prefix="grade-chromium-")
        to_child, self._to_browser = os.pipe()
        self._from_browser, from_child = os.pipe()

        def wire() -> None:  # in the child: the pipe ends chromium expects as fds 3 and 4
            commands, replies = os.dup(to_child), os.dup(from_child)  # neither can be clobbered
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        self._process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, pass_fds=(3, 4))
        os.close(to_child)
        os.close(from_child)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError("chromium closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        page = self._pages.get(message.get("sessionId", ""))
        method, params = message.get("method"), message.get("params", {})
        if page is None:
            return
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            page.console.append({"level": params["type"], "text": text})
        elif method == "Runtime.exceptionThrown":
            page.console.append({"level": "error",
                                 "text": json.dumps(params["exceptionDetails"])[:500]})
        elif method == "Log.entryAdded":
            entry = params["entry"]
            page.console.append({"level": entry["level"], "text": entry["text"]})
        elif method == "Network.requestWillBeSent":
            page.requests.append(params["request"]["url"])
        self._events.append(message)

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reply = self._read()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._dispatch(reply)
        raise BrowserError(f"{method}: no answer within {self.timeout} s")

    def _wait_for(self, method: str, session: str) -> None:
        if any(e.get("method") == method and e.get("sessionId") == session
               for e in self._events):
            return
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = self._read()
            self._dispatch(message)
            if message.get("method") == method and message.get("sessionId") == session:
                return
        raise BrowserError(f"no {method} within {self.timeout} s")

    def open(self, url: str, width: int = 1366, height: int = 768) -> Page:
        """Load `url` in a new tab of `width` x `height` CSS pixels; returns once it loaded."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        page = self._pages[session] = Page(self, session)
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable", {}, session)
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
        self._events.clear()
        navigated = self.call("Page.navigate", {"url": url}, session)
        if navigated.get("errorText"):  # e.g. net::ERR_FILE_NOT_FOUND: an error page loads
            raise BrowserError(f"{url}: {navigated['errorText']}")
        self._wait_for("Page.loadEventFired", session)
        return page
