"""The page's smaller promises (issue 12), each once broken, in Chromium against a real server: a server
outage a person notices, a way back to the room after forking, an inspector that shows only what the
phases computed and every term of its sums, a key that does not throw a long run away, charts that agree."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import LiveServer
from page_helpers import browser, page, page_url  # noqa: F401 (fixtures)
from test_page import shown

pytestmark = pytest.mark.browser


def open_page(pg: Any, base: str, config: dict[str, Any] | None = None) -> dict[str, str]:
    """Load the page, wait until it is live; the session's {id, token}."""
    pg.goto(page_url(base, config))
    pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    return pg.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")


def call(base: str, auth: dict[str, str], method: str, path: str = "", body: Any = None) -> Any:
    """A REST call on a session."""
    headers = {"Authorization": f"Bearer {auth['token']}"}
    r = httpx.request(method, f"{base}/api/sessions/{auth['id']}{path}", json=body, headers=headers, timeout=10)
    r.raise_for_status()
    return r.json() if r.content else None


def shown_step(pg: Any) -> int:
    """The step the header's readout shows."""
    return int(re.sub(r"\D", "", pg.inner_text("#r-step")) or 0)


def test_an_outage_is_noticed_and_no_action_is_lost_silently(page: Any, tmp_path: Path) -> None:  # noqa: F811
    """The server goes away (SIGKILL): a banner says so, the controls that talk to it are off, a key pressed
    anyway says it was not sent; the server comes back with the run from its database: the banner goes, the
    controls come back; a run found at an earlier step than the page last saw is announced."""
    env = {"BPP_DB": str(tmp_path / "bpp.db")}
    server = LiveServer(env=env).start()
    try:
        auth = open_page(page, server.url)
        call(server.url, auth, "POST", "/train", {"steps": 30})  # saved before the call answers
        page.wait_for_function("__bpp.store.get().step === 30", timeout=10_000)
        assert page.is_hidden("#offline")

        server.stop(kill=True)
        page.wait_for_selector("#offline:not([hidden])", timeout=10_000)
        assert page.evaluate("document.getElementById('play').closest('[inert]') !== null"), "Play is still live"
        assert page.evaluate("document.getElementById('controls').inert")
        page.locator("body").press(" ")  # Space: play — which cannot reach the server
        page.wait_for_selector("#notice:not([hidden])")
        assert "Not sent" in page.inner_text("#notice-text")

        server = LiveServer(env=env, port=server.port).start()
        page.wait_for_selector("#conn[data-state=live]", timeout=30_000)
        assert page.is_hidden("#offline")
        assert page.evaluate("document.getElementById('play').closest('[inert]') === null")
        assert page.evaluate("__bpp.socket.auth.id") == auth["id"], "the same session, restored"
        assert shown_step(page) == 30

        # Back at an earlier step than the page saw (here: reset while the page was away): said so.
        page.evaluate("__bpp.store.set({notice: null}); __bpp.socket.close()")
        call(server.url, auth, "POST", "/reset")
        page.evaluate("__bpp.socket.connect(__bpp.store.get().auth)")
        page.wait_for_selector("#notice:not([hidden])", timeout=10_000)
        text = page.inner_text("#notice-text")
        assert "step 0" in text and "step 30" in text, text
    finally:
        page.evaluate("__bpp.socket.close()")  # no reconnection attempts once the test is over
        server.stop()
    # The browser logs each refused reconnection attempt during the outage: those are the outage, not a fault.
    page.watch.errors[:] = [e for e in page.watch.errors if "ERR_CONNECTION_REFUSED" not in e]


def test_a_fork_leaves_a_way_back_to_the_room(page: Any, live_server: Any) -> None:  # noqa: F811
    """After "Fork", the student's own session links back to the room it came from."""
    base = live_server.url
    s = httpx.post(f"{base}/api/sessions", json={}, timeout=10).json()
    r = httpx.post(
        f"{base}/api/rooms", json={"session_id": s["id"]}, headers={"Authorization": f"Bearer {s['token']}"}, timeout=10
    )
    code = r.json()["code"]
    page.goto(f"{base}/room/{code}")
    page.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    page.click("#fork")
    page.wait_for_url(f"{base}/", timeout=10_000)
    page.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    back = page.locator("#back-room")
    assert back.is_visible() and code in back.inner_text()
    back.click()
    page.wait_for_url(f"{base}/room/{code}")
    page.wait_for_selector("#conn[data-state=live]", timeout=10_000)


def test_the_inspector_shows_delta_only_once_the_backward_pass_computed_it(page: Any, live_server: Any) -> None:  # noqa: F811
    """Step mode, a hidden unit inspected: during the forward pass its δ is not known yet (the inspector says
    where it comes); at its backward phase the δ appears."""
    open_page(page, live_server.url, {"hidden": [3, 2], "dataset": {"name": "xor"}})
    page.uncheck("#autoplay")
    page.click("#net .node.unit[data-layer='2'][data-unit='1']")
    page.click("#step")
    page.wait_for_function("__bpp.timeline.loaded && __bpp.store.get().mode === 'step'", timeout=10_000)
    page.click("#phases button[data-phase='forward:2']")
    page.wait_for_function("document.getElementById('net').dataset.phase === 'forward:2'")
    page.click("#net .node.unit[data-layer='2'][data-unit='1']")
    assert page.inner_text("#inspector-body [data-field=a]") != "—"
    assert not page.locator("#inspector-body [data-field=delta]").count(), "δ shown before it is computed"
    assert "backward pass" in page.inner_text("#inspector-body")
    page.click("#phases button[data-phase='backward:2']")
    page.wait_for_selector("#inspector-body [data-field=delta]")
    assert page.inner_text("#inspector-body [data-field=delta]") not in ("", "—")


def test_a_mini_batch_sum_unfolds_into_every_term(page: Any, live_server: Any) -> None:  # noqa: F811
    """D = (1/m) Σ δ·a over a mini-batch of 10: the equation shortens it ("… 4 more"), and a table that
    unfolds lists all 10 products, whose sum is the one the equation uses."""
    open_page(page, live_server.url, {"hidden": [3], "batch_size": 10})
    page.uncheck("#autoplay")
    page.check("input[name=unit][value=batch]")
    page.click("#step")
    page.wait_for_function("__bpp.timeline.loaded && __bpp.store.get().mode === 'step'", timeout=10_000)
    page.click("#phases li:last-child button")
    page.evaluate("__bpp.actions.select({kind: 'link', layer: 1, row: 0, col: 1})")
    details = page.locator("#inspector-body details.all-terms")
    details.locator("summary").click()
    rows = details.locator("tbody tr")
    assert rows.count() == 10
    products = [shown(rows.nth(i).locator("td").nth(2).inner_text()) for i in range(10)]
    for i in range(10):
        d, a = (shown(rows.nth(i).locator("td").nth(c).inner_text()) for c in (0, 1))
        assert math.isclose(d * a, products[i], rel_tol=2e-3, abs_tol=1e-12), f"row {i}"
    total = shown(details.locator("tfoot td").last.inner_text())
    # each product is shown to 4 significant digits: their sum agrees with Σ to that precision
    assert math.isclose(sum(products), total, rel_tol=1e-3, abs_tol=1e-3 * max(abs(p) for p in products))


def test_r_asks_again_before_resetting_a_run(page: Any, live_server: Any) -> None:  # noqa: F811
    """A stray R does not throw a long run away: the first asks, a second within a few seconds resets."""
    auth = open_page(page, live_server.url)
    call(live_server.url, auth, "POST", "/train", {"steps": 25})
    page.wait_for_function("__bpp.store.get().step === 25", timeout=10_000)
    page.locator("body").press("r")
    page.wait_for_selector("#notice:not([hidden])")
    assert "R again" in page.inner_text("#notice-text")
    assert call(live_server.url, auth, "GET")["step"] == 25
    page.locator("body").press("r")
    page.wait_for_function("__bpp.store.get().step === 0", timeout=10_000)
    assert page.is_hidden("#notice")


def test_the_three_charts_end_at_the_same_step(page: Any, live_server: Any) -> None:  # noqa: F811
    """Played, then paused: loss, accuracy and gradient size end at the same step."""
    open_page(page, live_server.url)
    page.click("#play")
    page.wait_for_function("__bpp.store.get().step > 200", timeout=20_000)
    page.click("#play")
    page.wait_for_function("__bpp.store.get().status === 'paused'")
    ends = """() => [...document.querySelectorAll('#chart-loss, #chart-acc, #chart-grad')]
      .map((c) => c.querySelector('.chart-ticks .x1')?.textContent)"""
    page.wait_for_function(f"(({ends})()).every((x, _, a) => x && x === a[0])", timeout=5000)


def test_a_late_joiner_sees_the_whole_history_while_the_teacher_plays(
    page: Any,  # noqa: F811
    browser: Any,  # noqa: F811
    live_server: Any,
) -> None:
    """A student joins a room whose teacher has trained 300 steps and is playing: the surface is drawn and the
    charts start at the run's beginning, not at the join step (they come from the room's export)."""
    base = live_server.url
    auth = open_page(page, base)
    page.click("#classroom button[type=submit]")
    code = page.locator("#classroom [data-testid=room-code]").inner_text(timeout=5000).strip()
    call(base, auth, "POST", "/train", {"steps": 300})
    page.wait_for_function("__bpp.store.get().step >= 300", timeout=10_000)
    page.click("#play")
    page.wait_for_selector("body[data-status=playing]")
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    student = context.new_page()
    try:
        student.goto(f"{base}/room/{code}")
        student.wait_for_selector("#teacher-status[data-status=playing]", timeout=10_000)
        student.wait_for_selector("#out-surface:not([hidden])", timeout=10_000)
        student.wait_for_function("document.querySelector('#chart-loss .chart-ticks .x0')", timeout=10_000)
        first = int(re.sub(r"\D", "", student.inner_text("#chart-loss .chart-ticks .x0")))
        assert first < 300, f"the loss chart starts at step {first}, the join step"
    finally:
        context.close()
        page.click("#play")
