"""Chromium for the page tests: one browser per test session, a fresh page per test that records console
errors and every request, and fails the test on a console error or a request that leaves the machine."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1"}


def launch(playwright: Any) -> Any:
    """Chromium from the system (Playwright cannot download browsers here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def page_url(base: str, config: dict[str, Any] | None = None) -> str:
    """The page's URL, with ``?config=<json>`` when a config is given."""
    if config is None:
        return base + "/"
    return base + "/?config=" + quote(json.dumps(config, separators=(",", ":")))


@dataclass
class Watch:
    """What a page did that a test must not allow: console errors, page errors, requests off the machine."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        """Record the page's console errors (a CSP violation is one), uncaught exceptions and requests; and let
        ``page.wait_for_function`` take a bare expression under the pages' CSP."""
        csp_safe(page)
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", lambda ws: self.requests.append(ws.url))

    def offsite(self) -> list[str]:
        """Requests to any host but 127.0.0.1 (data: URLs are local)."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out

    def check(self) -> None:
        """Fail on anything recorded."""
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.offsite(), f"requests off the machine: {self.offsite()}"


FUNCTION = re.compile(r"\s*(async\s+)?(\(|\w+\s*=>|function\b)")


def csp_safe(page: Any) -> None:
    """The pages' Content-Security-Policy has no 'unsafe-eval', and Playwright polls a bare expression given to
    ``wait_for_function`` with eval (a function it calls without): wrap bare expressions in a function."""
    original = page.wait_for_function

    def wait_for_function(expression: str, **kw: Any) -> Any:
        if not FUNCTION.match(expression):
            expression = f"() => ({expression})"
        return original(expression, **kw)

    page.wait_for_function = wait_for_function


_SHARED: list[Any] = []  # the session's Chromium, however many test modules import this fixture


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module, closed when the module ends: sync Playwright keeps an event loop running
    in this thread while it is open, and the asyncio tests of other modules need that thread's loop free.
    (Every module that imports this fixture registers it anew; the list guards against two at once.)"""
    if _SHARED:
        yield _SHARED[0]
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        _SHARED.append(b)
        try:
            yield b
        finally:
            _SHARED.clear()
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh 1366×768 page (own context, so its own sessionStorage) that must stay clean: no console
    error, no request off the machine. ``page.watch`` holds what it recorded."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    watch = Watch()
    watch.attach(pg)
    pg.watch = watch
    yield pg
    context.close()
    watch.check()
