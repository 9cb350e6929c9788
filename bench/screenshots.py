"""Take the page's screenshots for docs/screenshots/ (issue 6), at 1920×1080 (a projector) and 1366×768 (a laptop),
and the playground and a room's page on every screen students use (issue 12).

    python bench/screenshots.py              # every shot, both sizes, and every screen
    python bench/screenshots.py gradcheck    # the shots whose name contains "gradcheck"
    python bench/screenshots.py screens      # the playground and the room page at each size of SCREENS

Starts a server (tests/conftest.py's LiveServer), drives the page in Chromium as a learner would — a scenario,
Play, a hover, a tab — and saves each shot as docs/screenshots/<width>-<name>.png, made small with pngquant when
it is installed. Chinese text needs a CJK font on the machine (e.g. fonts-wqy-microhei); the page itself never
fetches one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers import LiveServer  # noqa: E402
from page_helpers import launch, page_url  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SIZES = [(1920, 1080), (1366, 768)]
# (width, height, touch, text size): phones, tablets, a Chromebook with Large text, laptops, a 4K projector
SCREENS = [
    (360, 740, True, "normal"),
    (390, 844, True, "normal"),
    (768, 1024, True, "normal"),
    (1024, 768, True, "normal"),
    (1280, 800, False, "large"),
    (1366, 768, False, "normal"),
    (1920, 1080, False, "normal"),
    (3840, 2160, False, "normal"),
]
SPIRAL = {
    "dataset": {"name": "spiral", "noise": 0.1},
    "features": ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"],
    "hidden": [6, 6],
}


def play(page: Any, until_step: int, timeout: int = 60_000) -> None:
    """Press Play, train until the given step, pause."""
    page.click("#play")
    page.wait_for_function(f"() => __bpp.store.get().step >= {until_step}", timeout=timeout)
    page.click("#play")
    page.wait_for_selector("body[data-status=paused]")
    page.wait_for_timeout(400)


def scenario(page: Any, name: str) -> None:
    """Load a ready-made scenario from the menu and wait until the session has it."""
    page.select_option("#scenario", name)
    page.wait_for_selector(f"#scenario-note .scenario[data-scenario={name}]")
    page.wait_for_function("() => __bpp.store.get().step === 0 && __bpp.store.get().data")
    page.wait_for_timeout(300)


def scroll_side_to(page: Any, selector: str) -> None:
    """Scroll the side panel so that `selector` is in view."""
    page.evaluate(f"document.querySelector({selector!r}).scrollIntoView({{block: 'nearest'}})")
    page.wait_for_timeout(200)


def surface_maps(page: Any) -> None:
    """The decision surface and every unit's own map, one of them enlarged."""
    page.goto(page_url(page.base, SPIRAL))
    page.wait_for_selector("#conn[data-state=live]")
    page.check("#show-test")
    play(page, 3000)
    page.hover("#net .node[data-layer='3'][data-unit='2']")
    page.wait_for_selector(".unit-zoom:not([hidden])")


def charts(page: Any) -> None:
    """Loss (train and test parting without regularization), accuracy, cost split, gradient sizes."""
    page.goto(page_url(page.base))
    page.wait_for_selector("#conn[data-state=live]")
    scenario(page, "overfit")
    page.select_option("#regularization", "none")
    page.wait_for_function("() => __bpp.store.get().session.config.regularization === 'none'")
    play(page, 2500)
    page.select_option("#regularization", "l2")
    play(page, 5000)
    page.check("#log-loss")
    scroll_side_to(page, "#chart-acc")


def vanishing(page: Any) -> None:
    """A deep sigmoid stack: the gradient chart's lines, one per layer, orders of magnitude apart."""
    page.goto(page_url(page.base))
    page.wait_for_selector("#conn[data-state=live]")
    scenario(page, "vanishing")
    play(page, 1500)
    page.check("input[name=view][value=gradients]", force=True)
    scroll_side_to(page, "#chart-grad")


def gradcheck(page: Any) -> None:
    """The gradient check: analytic and numerical gradients per weight, all green."""
    page.goto(page_url(page.base, {"hidden": [4, 3], "dataset": {"name": "xor"}}))
    page.wait_for_selector("#conn[data-state=live]")
    play(page, 300)
    page.click("#tab-gradcheck")
    page.click("#gradcheck-run")
    page.wait_for_selector("#gradcheck-out .gc-overall")


def symmetry(page: Any) -> None:
    """Zeros initialization: identical units, the badges and the note with "now try xavier"."""
    page.goto(page_url(page.base))
    page.wait_for_selector("#conn[data-state=live]")
    scenario(page, "symmetry")
    play(page, 800)
    page.click("#net .node[data-layer='2'][data-unit='1']")
    page.mouse.move(5, 5)  # no enlarged map over the network


def controls(page: Any) -> None:
    """The settings panel: its own data open on a projector; on a laptop, the network and training half."""
    page.goto(page_url(page.base, {"dataset": {"name": "moons", "noise": 0.2}, "hidden": [5, 3]}))
    page.wait_for_selector("#conn[data-state=live]")
    play(page, 600)
    page.select_option("#optimizer", "momentum")
    page.select_option("#regularization", "l2")
    page.select_option("#reg-rate", "0.01")
    page.wait_for_selector("#momentum-row:not([hidden])")
    if page.viewport_size["height"] >= 1000:
        page.click("#csv-box summary")
    else:
        page.evaluate("document.querySelectorAll('#controls .ctl-group')[2].scrollIntoView({block: 'start'})")


def chinese(page: Any) -> None:
    """The whole page in Simplified Chinese, while a run plays and a unit is inspected."""
    page.goto(page_url(page.base, SPIRAL))
    page.wait_for_selector("#conn[data-state=live]")
    page.select_option("#lang", "zh")
    page.wait_for_function("() => document.getElementById('tab-output').textContent === '输出'")
    play(page, 1500)
    page.click("#header-step")
    page.wait_for_function("() => __bpp.timeline.loaded && __bpp.timeline.done", timeout=20_000)
    page.click("#net .node[data-layer='4'][data-unit='1']")
    page.mouse.move(5, 5)


SHOTS: dict[str, Callable[[Any], None]] = {
    "surface-maps": surface_maps,
    "charts": charts,
    "vanishing-gradients": vanishing,
    "gradcheck": gradcheck,
    "symmetry": symmetry,
    "controls": controls,
    "chinese": chinese,
}


def save(page: Any, path: Path, full_page: bool = False) -> None:
    """Save a screenshot, made small with pngquant when it is installed."""
    page.screenshot(path=str(path), full_page=full_page)
    pngquant = shutil.which("pngquant")
    if pngquant:
        args = ["--force", "--skip-if-larger", "--output", str(path), "--", str(path)]
        subprocess.run([pngquant, *args], check=False)
    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")


def screens(browser: Any, base: str) -> None:
    """The playground and a paused room's page as a student joins it, at every size of SCREENS: the first
    screenful (a phone's whole page is long). A 4K screen is shot at half its pixels, to keep the file small."""
    import httpx

    s = httpx.post(f"{base}/api/sessions", json={"hidden": [4, 2]}, timeout=10).json()
    auth = {"Authorization": f"Bearer {s['token']}"}
    code = httpx.post(f"{base}/api/rooms", json={"session_id": s["id"], "title": "Lecture 4"}, headers=auth).json()[
        "code"
    ]
    for width, height, touch, size in SCREENS:
        for name, path in (("screen", "/"), ("room-screen", f"/room/{code}")):
            context = browser.new_context(
                viewport={"width": width, "height": height},
                has_touch=touch,
                is_mobile=touch and width < 800,
                device_scale_factor=0.5 if width > 2000 else 1,
            )
            page = context.new_page()
            page.goto(base + path)
            page.wait_for_selector("#conn[data-state=live]")
            page.select_option("#size", size)
            page.wait_for_function("document.querySelectorAll('#net .node.unit .val').length > 0")
            if name == "room-screen":
                page.wait_for_selector("#out-surface:not([hidden])")
            page.wait_for_timeout(600)
            save(page, OUT / f"{name}-{width}x{height}.png")
            context.close()


def main() -> int:
    """Take the shots named on the command line (all by default)."""
    from playwright.sync_api import sync_playwright

    wanted = [n for n in SHOTS if not sys.argv[1:] or any(a in n for a in sys.argv[1:])]
    every_screen = not sys.argv[1:] or "screens" in sys.argv[1:]
    OUT.mkdir(parents=True, exist_ok=True)
    server = LiveServer().start()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            for width, height in SIZES:
                for name in wanted:
                    context = browser.new_context(viewport={"width": width, "height": height})
                    page = context.new_page()
                    page.base = server.url
                    SHOTS[name](page)
                    save(page, OUT / f"{width}-{name}.png")
                    context.close()
            if every_screen:
                screens(browser, server.url)
            browser.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
