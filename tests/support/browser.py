"""Debian's Chromium driven by Playwright's Python package, for the browser tests.

No browser is downloaded: Playwright launches /usr/bin/chromium, which `make test` installs with
apt-get when it is missing (scripts/ensure-chromium.sh). Where it is missing all the same, the
tests fail and say so; they never skip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Route, WebSocketRoute

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
NO_BROWSER = (
    "the browser tests need Debian's Chromium at {path}, and it is not there: `make test`"
    " installs it (scripts/ensure-chromium.sh: apt-get install chromium chromium-driver),"
    " or set CHROMIUM to another Chromium binary"
)
NO_PLAYWRIGHT = (
    "the browser tests need Playwright's Python package: `make test` installs it with the"
    " project's dev extra (pip install -e '.[dev]'); never `playwright install`, which would"
    " download a browser of its own"
)
THIS_MACHINE = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium (Debian's), closed afterwards."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(NO_PLAYWRIGHT, pytrace=False)
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(NO_BROWSER.format(path=CHROMIUM), pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            browser.close()


class Offline:
    """A browser context cut off from everything but this machine: each request to another host
    is aborted and recorded in `refused`, and so is a websocket to another host."""

    def __init__(self, context: BrowserContext) -> None:
        self.refused: list[str] = []
        context.route("**/*", self._request)
        context.route_web_socket(lambda url: not self._local(url), self._websocket)

    @staticmethod
    def _local(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob", "about") or parts.hostname in THIS_MACHINE

    def _request(self, route: Route) -> None:
        url = route.request.url
        if self._local(url):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def _websocket(self, ws: WebSocketRoute) -> None:
        self.refused.append(ws.url)
        ws.close()


class Lag:
    """A page's websocket, passed through, except that while `holding` the server's messages are
    kept back: the page is a moment behind, as on a slow network. `release()` delivers them."""

    def __init__(self) -> None:
        self.holding = False
        self.held: list[str | bytes] = []
        self.route: WebSocketRoute | None = None

    def attach(self, ws: WebSocketRoute) -> None:
        self.route = ws
        server = ws.connect_to_server()
        server.on_message(self._from_server)  # the page's own messages go through as they are

    def _from_server(self, message: str | bytes) -> None:
        if self.holding:
            self.held.append(message)
        elif self.route is not None:
            self.route.send(message)

    def release(self) -> None:
        self.holding = False
        held, self.held = self.held, []
        for message in held:
            if self.route is not None:
                self.route.send(message)
