"""The page and the room page on every screen students use (issue 12), in Chromium against a real server:
phones and tablets with touch, a Chromebook with Large text, laptops, a 4K projector. At each size: nothing
scrolls sideways, the network is drawn with every unit inside the screen and big enough to read and tap,
no two pieces of text overlap, and every control can be reached and tapped."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from page_helpers import Watch, browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

# (width, height, touch, text size)
SIZES = [
    pytest.param(360, 740, True, "normal", id="360x740-touch"),
    pytest.param(390, 844, True, "normal", id="390x844-touch"),
    pytest.param(768, 1024, True, "normal", id="768x1024-touch"),
    pytest.param(1024, 768, True, "normal", id="1024x768-touch"),
    pytest.param(1280, 800, False, "large", id="1280x800-large"),
    pytest.param(1366, 768, False, "normal", id="1366x768"),
    pytest.param(1920, 1080, False, "normal", id="1920x1080"),
    pytest.param(3840, 2160, False, "normal", id="3840x2160"),
]
MIN_UNIT_PX = 28
TOUCH_PX = 44

# Everything the checks below measure, in one pass over the page (plain DOM, no framework).
MEASURE = """(touch) => {
  const doc = document.documentElement;
  const W = doc.clientWidth;
  const shown = (e) => {
    if (e.closest('[hidden], .sr, .skip, title')) return false;
    const shut = e.closest('details:not([open])');
    if (shut && !e.closest('summary')) return false;
    const cs = getComputedStyle(e);
    if (cs.visibility === 'hidden' || cs.display === 'none' || +cs.opacity === 0 && !e.matches('input')) return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  // every piece of text: HTML text nodes (their own boxes) and SVG <text> elements
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const host = n.parentElement;
    if (!n.textContent.trim() || !host || host.closest('svg, script, style, select, option, textarea')) continue;
    if (!shown(host)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (r.width > 1 && r.height > 1) boxes.push({text: n.textContent.trim().slice(0, 30), r, node: n});
    }
  }
  for (const t of document.querySelectorAll('#net text')) {
    if (!t.textContent.trim() || !shown(t) || t.closest('[visibility=hidden]')) continue;
    if (getComputedStyle(t).display === 'none') continue;
    boxes.push({text: t.textContent.trim().slice(0, 30), r: t.getBoundingClientRect(), svg: true});
  }
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (boxes[i].node && boxes[i].node === boxes[j].node) continue; // one text's own line boxes
      const a = boxes[i].r, b = boxes[j].r;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 2 && h > 2) overlaps.push([boxes[i].text, boxes[j].text, Math.round(w), Math.round(h)]);
    }
  }
  // the network's units
  const units = [...document.querySelectorAll('#net .node.unit')].map((g) => {
    const s = g.querySelector('.shape').getBoundingClientRect();
    const tap = g.querySelector('.tap').getBoundingClientRect();
    return {key: g.dataset.layer + ':' + g.dataset.unit, left: s.left, right: s.right,
            size: Math.min(s.width, s.height), tap: Math.min(tap.width, tap.height),
            value: g.querySelector('.val').textContent,
            valueShown: getComputedStyle(g.querySelector('.val')).display !== 'none'};
  });
  const links = document.querySelectorAll('#net line[data-link]').length;
  // text cut short with an ellipsis
  const cut = [...document.querySelectorAll('body *')]
    .filter((e) => e.childElementCount === 0 && e.textContent.trim() && getComputedStyle(e).textOverflow === 'ellipsis'
      && e.scrollWidth > e.clientWidth + 1 && shown(e))
    .map((e) => e.textContent.trim());
  // every control: reachable (scrolled to, it is the element at its own centre) and big enough for a finger
  const controls = [];
  for (const e of document.querySelectorAll('button, input, select, textarea, summary, a[href]')) {
    if (!shown(e)) continue;
    e.scrollIntoView({block: 'center', inline: 'center'});
    const r = e.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const target = e.matches('input[type=checkbox], input[type=radio], input[type=file]') ? e.closest('label') || e : e;
    const t = target.getBoundingClientRect();
    const name = e.id || e.name || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 20)
      || e.outerHTML.slice(0, 60);
    controls.push({name, ok: hit === e || e.contains(hit), hit: hit ? hit.outerHTML.slice(0, 80) : null,
                   h: t.height, w: t.width,
                   small: !e.matches('input[type=range]') && touch && (t.height < 43.5 || t.width < 43.5),
                   cut: e.matches('button, [role=tab]') && e.scrollWidth > e.clientWidth + 1});
  }
  window.scrollTo(0, 0);
  return {W, overflow: doc.scrollWidth - W, units, links, overlaps, controls, cut};
}"""


@pytest.fixture(scope="module")
def paused_room(live_server: Any) -> str:
    """A room on a fresh, paused teacher session (opened over REST): its join code."""
    base = live_server.url
    s = httpx.post(f"{base}/api/sessions", json={"hidden": [4, 2]}, timeout=10).json()
    auth = {"Authorization": f"Bearer {s['token']}"}
    r = httpx.post(f"{base}/api/rooms", json={"session_id": s["id"], "title": "Lecture 4"}, headers=auth, timeout=10)
    r.raise_for_status()
    return str(r.json()["code"])


def at_size(pg: Any, size: str) -> None:
    """Switch the text size (remembered for the next load too) and wait for the network to be laid out again."""
    if pg.input_value("#size") != size:
        pg.select_option("#size", size)
    pg.wait_for_function(
        "s => { const c = document.documentElement.classList; "
        "return s === 'normal' ? !c.contains('large') && !c.contains('projector') : c.contains(s); }",
        arg=size,
    )
    pg.wait_for_timeout(200)  # one ResizeObserver round: the layout settles after the reflow


def check_screen(pg: Any, what: str) -> dict[str, Any]:
    """Measure the page and assert what holds at every size; returns the measures."""
    m = pg.evaluate(MEASURE, pg.touch)
    assert m["overflow"] <= 0, f"{what}: the page scrolls sideways by {m['overflow']} px"
    assert m["units"] and m["links"] > 0, f"{what}: the network is not drawn"
    for u in m["units"]:
        assert u["left"] >= 0 and u["right"] <= m["W"], f"{what}: unit {u['key']} is outside the screen: {u}"
        assert u["size"] >= MIN_UNIT_PX, f"{what}: unit {u['key']} is {u['size']:.0f} px across"
        if pg.touch:
            assert u["tap"] >= TOUCH_PX - 0.5, f"{what}: unit {u['key']} can be tapped on {u['tap']:.0f} px only"
        assert u["value"] and u["valueShown"], f"{what}: unit {u['key']} shows no value"
    assert not m["overlaps"], f"{what}: text overlaps: {m['overlaps'][:8]}"
    unreachable = [c for c in m["controls"] if not c["ok"]]
    assert not unreachable, f"{what}: controls covered by something else: {unreachable[:6]}"
    small = [(c["name"], round(c["w"]), round(c["h"])) for c in m["controls"] if c["small"]]
    assert not small, f"{what}: touch targets under {TOUCH_PX} px: {small[:10]}"
    cut = [c["name"] for c in m["controls"] if c["cut"]] + m["cut"]
    assert not cut, f"{what}: labels cut: {cut}"
    return m


def open_at(browser: Any, width: int, height: int, touch: bool) -> tuple[Any, Any, Watch]:  # noqa: F811
    """A context and a page at a size (touch: a phone or tablet), recording what the page must not do."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch and width < 800
    )
    pg = context.new_page()
    watch = Watch()
    watch.attach(pg)
    pg.touch = touch
    return context, pg, watch


@pytest.mark.parametrize(("width", "height", "touch", "size"), SIZES)
def test_the_page_fits_every_screen(
    browser: Any,  # noqa: F811
    live_server: Any,
    width: int,
    height: int,
    touch: bool,
    size: str,
) -> None:
    """The playground at each size: no sideways scrolling, the whole network readable and tappable, no
    overlapping text, every control reachable."""
    context, pg, watch = open_at(browser, width, height, touch)
    try:
        pg.goto(live_server.url + "/")
        pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        pg.wait_for_function("document.querySelectorAll('#net .node.unit .val').length > 0")
        at_size(pg, size)
        check_screen(pg, f"/ at {width}×{height}")
    finally:
        context.close()
    watch.check()


# The moment the room's decision surface first shows something (performance.now(), ms since the page
# began loading), or false while it is blank or hidden.
SURFACE_DRAWN = """() => {
  const box = document.getElementById('out-surface');
  const c = document.querySelector('#surface canvas.surf');
  if (!box || box.hidden || !c || !c.width || !c.height) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const first = [d[0], d[1], d[2], d[3]].join();
  for (let i = 0; i < d.length; i += 4 * 101) {
    if ([d[i], d[i + 1], d[i + 2], d[i + 3]].join() !== first) return performance.now();
  }
  return false;
}"""


@pytest.mark.parametrize(("width", "height", "touch", "size"), SIZES)
def test_the_room_page_fits_every_screen(
    browser: Any,  # noqa: F811
    live_server: Any,
    paused_room: str,
    width: int,
    height: int,
    touch: bool,
    size: str,
) -> None:
    """/room/CODE at each size, as a student joins a paused room: the teacher's decision surface is drawn
    within 3 s of joining (from the room's export: the teacher need not play), and the same checks as the
    playground's hold."""
    context, pg, watch = open_at(browser, width, height, touch)
    try:
        pg.goto(f"{live_server.url}/room/{paused_room}")
        drawn_at = pg.wait_for_function(SURFACE_DRAWN, timeout=20_000, polling=50).json_value()
        assert drawn_at <= 3000, f"the decision surface took {drawn_at:.0f} ms to appear"
        pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        assert pg.inner_text("#teacher-status") and pg.get_attribute("body", "data-status") == "paused"
        pg.wait_for_function("document.querySelectorAll('#net .node.unit .val').length > 0")
        at_size(pg, size)
        check_screen(pg, f"/room at {width}×{height}")
    finally:
        context.close()
    watch.check()


def test_touch_tap_a_unit_to_inspect_it_and_swipe_through_the_phases(browser: Any, live_server: Any) -> None:  # noqa: F811
    """On a phone: tapping a unit inspects it (the inspector comes into view, with the unit's map enlarged,
    which a mouse gets by hovering); a sideways swipe on the network moves through a step's phases."""
    context, pg, watch = open_at(browser, 390, 844, True)
    try:
        pg.goto(live_server.url + "/")
        pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        pg.wait_for_function("document.querySelector('#net').classList.contains('maps')", timeout=10_000)
        unit = pg.locator("#net .node.unit[data-layer='2'][data-unit='3']")
        unit.scroll_into_view_if_needed()
        unit.tap()
        pg.wait_for_selector("#tab-inspector[aria-selected=true]")
        assert "a" in pg.inner_text("#inspector-body h3") and pg.is_visible("#inspector-body .values")
        pg.wait_for_function("!document.querySelector('.unit-zoom').hidden", timeout=5000)
        pg.wait_for_function("document.getElementById('inspector').getBoundingClientRect().top < innerHeight")

        pg.uncheck("#autoplay")
        pg.tap("#step")
        pg.wait_for_function("__bpp.timeline.loaded && __bpp.store.get().mode === 'step'", timeout=10_000)
        swipe = """dx => {
          const box = document.getElementById('net-box').getBoundingClientRect();
          const x = box.left + box.width / 2, y = box.top + box.height / 2;
          const ev = (type, cx) => new PointerEvent(type, {pointerType: 'touch', pointerId: 7, clientX: cx, clientY: y,
                                                          bubbles: true, isPrimary: true});
          const el = document.getElementById('net');
          el.dispatchEvent(ev('pointerdown', x));
          el.dispatchEvent(ev('pointerup', x + dx));
        }"""
        settled = "__bpp.timeline.p >= 1"  # a phase still animating is finished by a swipe, as by ▸
        pg.wait_for_function(settled)
        start = pg.evaluate("__bpp.store.get().phase")
        pg.evaluate(swipe, -120)
        pg.wait_for_function(f"__bpp.store.get().phase === {start + 1}")
        pg.wait_for_function(settled)
        pg.evaluate(swipe, -120)
        pg.wait_for_function(f"__bpp.store.get().phase === {start + 2}")
        pg.evaluate(swipe, 120)
        pg.wait_for_function(f"__bpp.store.get().phase === {start + 1}")
        pg.evaluate(swipe, 20)  # too short: a tap, not a swipe
        pg.wait_for_timeout(100)
        assert pg.evaluate("__bpp.store.get().phase") == start + 1
    finally:
        context.close()
    watch.check()


UNIT_PX = """() => Math.min(...[...document.querySelectorAll('#net .node.unit .shape')]
  .map((c) => c.getBoundingClientRect().width))"""
VALUES_SHOWN = """() => [...document.querySelectorAll('#net .node.unit .val')]
  .every((v) => v.textContent && getComputedStyle(v).display !== 'none' && v.getBoundingClientRect().width > 0)"""


def test_large_text_enlarges_the_network_and_never_shrinks_it(browser: Any, live_server: Any) -> None:  # noqa: F811
    """At 1280×800 (a Chromebook) Large text makes the units larger, with their numbers, as it makes the text
    larger (it once shrank them from 44 to 24 px and hid the numbers); Projector larger still."""
    context, pg, watch = open_at(browser, 1280, 800, False)
    try:
        pg.goto(live_server.url + "/")
        pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        pg.wait_for_function("document.querySelectorAll('#net .node.unit .val').length > 0")
        at_size(pg, "normal")
        sizes = {}
        for size in ("normal", "large", "projector"):
            at_size(pg, size)
            sizes[size] = (pg.evaluate(UNIT_PX), pg.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
            assert pg.evaluate(VALUES_SHOWN), f"{size}: units without their numbers"
        assert sizes["large"][1] > sizes["normal"][1] and sizes["projector"][1] > sizes["large"][1]
        assert sizes["large"][0] >= 1.1 * sizes["normal"][0], sizes
        assert sizes["projector"][0] >= sizes["large"][0], sizes
        pg.reload()
        pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        assert pg.input_value("#size") == "projector", "the text size is remembered"
        at_size(pg, "normal")
    finally:
        context.close()
    watch.check()


def test_links_can_be_reached_with_the_keyboard(browser: Any, live_server: Any) -> None:  # noqa: F811
    """Tab reaches the units, then the weights; Enter on a weight inspects it."""
    context, pg, watch = open_at(browser, 1366, 768, False)
    try:
        pg.goto(live_server.url + "/")
        pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        pg.wait_for_function("document.querySelectorAll('#net .hit').length > 0")
        order = pg.evaluate(
            "[...document.querySelectorAll('#net [tabindex]')].map(e => e.matches('[data-hit]') ? 'link' : 'unit')"
        )
        assert "link" in order and order.index("link") > order.index("unit"), "units come first, then weights"
        assert order[order.index("link") :] == ["link"] * order.count("link")
        last_unit = pg.locator("#net .node").last
        last_unit.focus()
        pg.keyboard.press("Tab")
        focused = pg.evaluate("document.activeElement.dataset.hit || null")
        assert focused, "after the last unit, Tab goes to a weight"
        pg.keyboard.press("Enter")
        layer, row, col = (int(v) for v in focused.split(":"))
        pg.wait_for_function(
            f"(s => s && s.kind === 'link' && s.layer === {layer} && s.row === {row} && s.col === {col})"
            "(__bpp.store.get().selection)"
        )
        assert pg.evaluate("__bpp.store.get().tab") == "inspector"
    finally:
        context.close()
    watch.check()


# Words of Latin letters the page shows in 简体中文 that are not notation or names: text, titles, labels.
ENGLISH_LEFT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest('script, style, option, title, #room-title, [data-user]')) continue;
    out.push(n.textContent);
  }
  for (const e of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
    if (e.closest('#room-title')) continue;
    for (const a of ['title', 'aria-label', 'placeholder']) if (e.hasAttribute(a)) out.push(e.getAttribute(a));
  }
  return out;
}"""
# notation, function and file-format names, the product's name, a language's own name, keys, the code example
ALLOWED = {
    "backprop", "playground", "english", "tanh", "sigmoid", "softmax", "relu", "leaky_relu", "linear", "mse",
    "csv", "json", "sin", "xor", "abcd", "efgh", "sgd", "adam", "momentum", "xavier", "he", "uniform", "zeros",
    "constant", "language", "none", "cross_entropy", "cross", "entropy", "lecture", "tab", "enter",
}  # fmt: skip


def english_words(pg: Any) -> set[str]:
    """The English words on the page (minus the allowed names)."""
    import re

    words = set()
    for text in pg.evaluate(ENGLISH_LEFT):
        text = re.sub(r"[A-Z0-9]{4}-[A-Z0-9]{4}", "", text)  # a room's join code
        words |= {w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)}
    return words - ALLOWED


def test_the_chosen_language_applies_to_every_string_after_a_reload(
    browser: Any,  # noqa: F811
    live_server: Any,
    paused_room: str,
) -> None:
    """简体中文, chosen on the playground and the page reloaded: no English string is left on the playground
    (the Play button once stayed "▶ Play"), on the room page (~25 strings once did) or its join box."""
    context, pg, watch = open_at(browser, 1366, 768, False)
    try:
        pg.goto(live_server.url + "/")
        pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        pg.select_option("#lang", "zh")
        pg.wait_for_function("document.documentElement.lang === 'zh-Hans'")  # switched (and remembered)
        pg.reload()
        pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        pg.wait_for_function("document.querySelectorAll('#net .col-title').length > 0")
        assert pg.inner_text("#play") == "▶ 运行"
        assert not english_words(pg), f"English on the playground: {sorted(english_words(pg))}"

        pg.goto(f"{live_server.url}/room/{paused_room}")
        pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
        pg.wait_for_function("document.querySelectorAll('#net .col-title').length > 0")
        pg.wait_for_function("!document.getElementById('out-surface').hidden", timeout=10_000)
        assert "隐藏层" in (pg.text_content("#net") or "")
        assert not english_words(pg), f"English on the room page: {sorted(english_words(pg))}"

        pg.goto(f"{live_server.url}/room/ZZZZ-ZZZZ")
        pg.wait_for_selector("#join-unknown:not([hidden])")
        assert not english_words(pg), f"English in the join box: {sorted(english_words(pg))}"
    finally:
        context.close()
    watch.check()
