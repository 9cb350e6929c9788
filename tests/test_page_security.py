"""The pages under their Content-Security-Policy in Chromium: the main page playing (frames, the decision surface
drawn by its worker, the inspector) and a room page watching it, with no CSP violation and no console error."""

from __future__ import annotations

from typing import Any

import pytest
from page_helpers import Watch, browser, page, page_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

RECORD = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => __csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""


def test_the_pages_work_under_their_csp(page: Any, browser: Any, live_server: Any, tmp_path: Any) -> None:  # noqa: F811
    base = live_server.url
    page.add_init_script(RECORD)
    response = page.goto(page_url(base, {"hidden": [4, 3]}))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    page.click("#play")
    page.wait_for_function("() => +document.getElementById('r-step').textContent.replace(/\\s/g, '') > 50")
    page.click("#play")
    page.click("#step")
    page.wait_for_function("() => __bpp.timeline.loaded", timeout=10_000)
    page.evaluate("__bpp.actions.select({kind: 'link', layer: 1, row: 0, col: 1})")
    page.click("#classroom button[type=submit]")
    code = page.locator("#classroom [data-testid=room-code]").inner_text(timeout=5000).strip()

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        room = context.new_page()
        watch = Watch()
        watch.attach(room)
        room.add_init_script(RECORD)
        response = room.goto(f"{base}/room/{code}")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        room.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        page.click("#play")
        room.wait_for_selector("#teacher-status[data-status=playing]", timeout=5000)
        room.wait_for_function("() => +document.getElementById('r-step').textContent.replace(/\\s/g, '') > 100")
        page.click("#play")
        room.screenshot(path=str(tmp_path / "room-under-csp.png"))
        page.screenshot(path=str(tmp_path / "page-under-csp.png"))
        assert room.evaluate("__csp") == []
        watch.check()
    finally:
        context.close()
    assert page.evaluate("__csp") == []
