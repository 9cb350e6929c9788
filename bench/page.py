"""The page's own work per drawn frame while a 2-8-8-8-8-8-8-1 network plays at 30 frames a second, with every
view shown (issues 5 and 6: target ≤ 8 ms).

    python bench/page.py             # 5 s per view
    python bench/page.py --quick     # 2 s per view

Starts a server (tests/conftest.py's LiveServer, BPP_FPS=30), opens the page in Chromium (/usr/bin/chromium),
shows everything at once — the output tab (the decision surface over a 50 × 50 grid with the training and test
points, the cost split, the loss, accuracy and gradient-norm charts), every unit's own map inside its node,
and a hidden unit selected in the inspector — presses Play and, for each view of the graph (weights,
activations, error, gradients, updates), reads the page's own Performance API measures of its main-thread
work: ``bpp-frame`` wraps everything the page does with one frame (decode aside: the store update, the SVG
paint of every link and unit, the readouts, the charts — one of the three per frame, in turn), ``bpp-post``
the request to the worker (a task of its own), ``bpp-draw`` the drawing of the worker's answer (the surface
and every unit's map), and ``bpp-inspector`` the inspector's re-render (at most every 300 ms). frame + post +
draw is the page's own work on the main thread per frame. ``bpp-worker`` is the forward pass over the 50 × 50
grid and the painting of the surface and the maps, in the worker, off the main thread.
Prints mean, p95 and max in ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers import LiveServer  # noqa: E402
from page_helpers import launch, page_url  # noqa: E402

TARGET_MS = 8.0
FPS = 30
CONFIG = {"hidden": [8, 8, 8, 8, 8, 8], "dataset": {"name": "circle"}}
VIEWS = ["weights", "activations", "error", "gradients", "updates"]


def p95(xs: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def measures(page: object, name: str) -> list[float]:
    """Durations (ms) of the page's measures called ``name``, then clear them."""
    out = page.evaluate(f"performance.getEntriesByName({name!r}).map(e => e.duration)")  # type: ignore[attr-defined]
    page.evaluate(f"performance.clearMeasures({name!r})")  # type: ignore[attr-defined]
    return out


def row(label: str, xs: list[float]) -> str:
    """One line of the table."""
    if not xs:
        return f"{label:<14} {'—':>7}"
    return f"{label:<14} {len(xs):>7} {statistics.fmean(xs):>8.2f} {p95(xs):>8.2f} {max(xs):>8.2f}"


def everything_shown(page: object) -> str:
    """What the page shows right now (a check that the bench measures every view)."""
    return page.evaluate(  # type: ignore[attr-defined]
        """[!document.getElementById('output').hidden && 'surface+charts',
            document.getElementById('net').classList.contains('maps') && 'unit maps',
            document.getElementById('show-test').checked && 'test points',
            document.querySelector('#inspector-body h3') && 'inspector']
           .filter(Boolean).join(', ')"""
    )


def main() -> int:
    """Run the benchmark; exit 1 when a view's p95 misses the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per view instead of 5")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args()
    seconds = 2 if args.quick else 5
    from playwright.sync_api import sync_playwright

    server = LiveServer(env={"BPP_FPS": str(FPS)}).start()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(page_url(server.url, CONFIG))
            page.wait_for_selector("#conn[data-state=live]", timeout=15_000)
            page.check("#show-test")
            page.evaluate("__bpp.actions.select({kind: 'unit', layer: 4, unit: 3})")
            page.click("#play")  # playing shows the output tab; the inspector keeps its selection
            page.wait_for_selector("body[data-status=playing]")
            page.wait_for_timeout(1000)
            shown = everything_shown(page)
            print(f"page work per drawn frame, {args.width}×{args.height}, network 2-8-8-8-8-8-8-1 at {FPS} fps")
            print(f"shown: graph, {shown}")
            print(f"{'view':<14} {'frames':>7} {'mean':>8} {'p95':>8} {'max':>8}   (ms)")
            worst, inspector, draw, post, worker = 0.0, [], [], [], []
            for view in VIEWS:
                page.check(f"input[name=view][value={view}]", force=True)
                for name in ("bpp-frame", "bpp-draw", "bpp-post", "bpp-worker"):
                    measures(page, name)
                page.wait_for_timeout(seconds * 1000)
                xs = measures(page, "bpp-frame")
                ds, ps = measures(page, "bpp-draw"), measures(page, "bpp-post")
                draw, post = draw + ds, post + ps
                worker += measures(page, "bpp-worker")
                inspector += measures(page, "bpp-inspector")
                total = [a + b + c for a, b, c in zip(xs, ds, ps, strict=False)]  # one frame's main-thread work
                worst = max(worst, p95(total) if total else 0.0)
                mean, tail = (statistics.fmean(total), p95(total)) if total else (0.0, 0.0)
                print(row(view, xs) + f"   frame + post + draw: mean {mean:.2f}, p95 {tail:.2f}")
            print(row("post", post) + "   (the request to the worker)")
            print(row("draw", draw) + "   (the worker's answer: surface and unit maps)")
            print(row("worker", worker) + "   (forward pass and painting, in the worker, off the main thread)")
            print(row("inspector", inspector) + "   (re-render, ≤ 3 a second)")
            page.click("#play")
            browser.close()
    finally:
        server.stop()
    ok = worst <= TARGET_MS
    verdict = "meets" if ok else "MISSES"
    print(f"worst p95 of a frame's main-thread work {worst:.2f} ms: {verdict} the target of ≤ {TARGET_MS:g} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
