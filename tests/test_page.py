"""The page (docs/page.md, issue 5) driven in Chromium against a real server: the graph, step mode phase by
phase with the engine's own numbers in the inspector, editing a weight, playing, reconnecting, diverging."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import ROOT
from page_helpers import browser, page, page_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
MAX_PAGE_KB = 300


def shown(text: str) -> float:
    """The number a page label shows ("−0.04307", "4.632×10⁻⁵") as a float."""
    t = text.strip().replace("−", "-").replace("(", "").replace(")", "")
    if "×10" in t:
        mant, exp = t.split("×10")
        return float(mant) * 10 ** int(exp.translate(SUPERSCRIPT))
    return float(t)


def same_shown(text: str, value: float) -> bool:
    """Whether a label equals a value to the shown precision (4 significant digits)."""
    return math.isclose(shown(text), value, rel_tol=6e-4, abs_tol=1e-15)


def page_weight(pg: Any) -> dict[str, int]:
    """Bytes of the page itself before compression: the document and every script and style sheet it loaded
    (the API's answers — the session, the data — are not the page)."""
    entries = pg.evaluate(
        """performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
           .filter(e => e.entryType === 'navigation' || new URL(e.name).pathname.startsWith('/static/'))
           .map(e => [new URL(e.name).pathname, e.decodedBodySize || e.encodedBodySize || 0])"""
    )
    return dict(entries)


def open_page(pg: Any, base: str, config: dict[str, Any] | None = None) -> dict[str, str]:
    """Load the page, wait until it is live, return the session's {id, token} from sessionStorage."""
    pg.goto(page_url(base, config))
    pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    return pg.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")


def api(base: str, auth: dict[str, str], method: str, path: str, body: Any = None) -> Any:
    """A REST call on the page's session."""
    headers = {"Authorization": f"Bearer {auth['token']}"}
    r = httpx.request(method, f"{base}/api/sessions/{auth['id']}{path}", json=body, headers=headers, timeout=10)
    r.raise_for_status()
    return r.json() if r.content else None


def test_layout_module_passes_its_node_tests() -> None:
    """The pure page modules (layout, formatting, scales, timeline) pass `node --test`."""
    node = shutil.which("node")
    assert node is not None, "node is not installed (.ci/run installs Debian's nodejs)"
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests/js").glob("*.test.mjs"))
    assert files, "no node tests found in tests/js"
    # The files, not the folder: `node --test DIR` fails on Node 22 and later.
    out = subprocess.run([node, "--test", *files], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_page_loads_clean_and_light(page: Any, live_server: Any) -> None:  # noqa: F811
    """No console error, nothing fetched off the machine (the fixture checks), and the page is light."""
    open_page(page, live_server.url)
    assert page.title() == "Backprop Playground"
    page.wait_for_function("document.querySelectorAll('#net line[data-link]').length > 0")
    assert page.locator("#controls").count() == 1 and page.locator("#output").count() == 1
    assert page.get_attribute("#stage .net", "id") == "net"
    weight = page_weight(page)
    assert sum(weight.values()) / 1024 <= MAX_PAGE_KB, f"page weight {sum(weight.values()) / 1024:.0f} KB: {weight}"
    assert not [u for u in page.watch.requests if "/static/" in u and u.endswith(".map")]


@pytest.mark.parametrize("hidden", [[3], [4, 2], [2, 2, 2]])
def test_graph_has_units_bias_units_and_links(page: Any, live_server: Any, hidden: list[int]) -> None:  # noqa: F811
    """For each shape: Σ S_l units, one "+1" bias unit per non-output layer, S_{l+1}(S_l + 1) links."""
    open_page(page, live_server.url, {"hidden": hidden})
    sizes = [2, *hidden, 1]
    page.wait_for_function(f"document.querySelectorAll('#net [data-layer-links]').length === {len(sizes) - 1}")
    units = page.locator("#net .node[data-unit]:not([data-bias])")
    assert units.count() == sum(sizes)
    assert page.locator("#net [data-bias]").count() == len(sizes) - 1
    assert page.locator("#net [data-bias] rect.shape").count() == len(sizes) - 1, "bias units are rounded squares"
    assert page.locator("#net .node.unit circle.shape").count() == sum(sizes)
    links = sum(sizes[i + 1] * (sizes[i] + 1) for i in range(len(sizes) - 1))
    assert page.locator("#net line[data-link]").count() == links
    for layer, n in enumerate(sizes, start=1):
        assert page.locator(f"#net .node.unit[data-layer='{layer}']").count() == n
    assert page.locator(f"#net [data-bias][data-layer='{len(sizes)}']").count() == 0


def test_step_plays_phases_and_shows_the_engines_numbers(page: Any, live_server: Any) -> None:  # noqa: F811
    """Step: forward 1..L, cost, backward L..2, gradients, updates, in order; the inspector's δ and D are the
    ones backprop returns for the same sample at the same weights."""
    config = {"hidden": [3, 2], "dataset": {"name": "xor"}, "regularization": "l2", "reg_rate": 0.5}
    auth = open_page(page, live_server.url, config)
    sample = 5
    expected = api(live_server.url, auth, "POST", "/backprop", {"samples": [sample]})
    page.fill("#sample", str(sample))
    page.press("#sample", "Enter")
    page.locator("#speed").fill("4")  # 4× speed
    page.evaluate(
        """window.__phases = [];
           new MutationObserver(() => __phases.push(document.getElementById('net').dataset.phase))
             .observe(document.getElementById('net'), {attributes: true, attributeFilter: ['data-phase']});"""
    )
    page.click("#step")
    page.wait_for_function("__bpp.timeline.loaded && __bpp.timeline.done", timeout=15_000)
    seen = page.evaluate("__phases.filter((p, i, a) => p !== a[i - 1] && p !== 'live')")
    want = ["forward:1", "forward:2", "forward:3", "forward:4", "cost"]
    want += ["backward:4", "backward:3", "backward:2", "gradient:3", "gradient:2", "gradient:1"]
    want += ["update:1", "update:2", "update:3"]
    assert seen == want

    layers = {lay["layer"]: lay for lay in expected["layers"]}
    for layer, count in ((2, 3), (3, 2), (4, 1)):
        for unit in range(1, count + 1):
            page.click(f"#net .node[data-layer='{layer}'][data-unit='{unit}']")
            delta = page.locator("#inspector-body [data-field=delta]").inner_text()
            assert same_shown(delta, layers[layer]["delta"][0][unit - 1]), (layer, unit, delta)
            result = page.locator("#inspector-body [data-field=delta-result]").inner_text()
            assert same_shown(result, layers[layer]["delta"][0][unit - 1])
            z = page.locator("#inspector-body [data-field=z]").inner_text()
            assert same_shown(z, layers[layer]["z"][0][unit - 1])
    page.click("#net .node[data-layer='2'][data-unit='1']")
    formula = page.locator("#inspector-body").inner_text()
    assert "1 − a²" in formula, "tanh's g′(z) is written out"

    for layer, row, col in ((1, 0, 0), (1, 2, 1), (2, 1, 3), (3, 0, 2)):
        page.evaluate(f"__bpp.actions.select({{kind: 'link', layer: {layer}, row: {row}, col: {col}}})")
        d = page.locator("#inspector-body [data-field=D]").inner_text()
        assert same_shown(d, expected["gradients"][layer - 1][row][col]), (layer, row, col, d)
        update = page.locator("#inspector-body [data-field=dtheta]").inner_text()
        assert same_shown(update, -0.03 * expected["gradients"][layer - 1][row][col])
        regularized = "λ" in page.locator("#inspector-body .eq").first.text_content()
        assert regularized == (col > 0), "the L2 term is written out, except on the bias column"
    assert "NaN" not in page.locator("body").inner_text()


def test_editing_a_weight_changes_the_session(page: Any, live_server: Any) -> None:  # noqa: F811
    """Select a link from a unit's list, type a new value, press Enter: GET weights shows it."""
    auth = open_page(page, live_server.url, {"hidden": [3]})
    page.click("#net .node[data-layer='2'][data-unit='2']")
    page.locator("#inspector-body .links-list button").nth(1).click()  # Θ^(1)_{2,1}
    field = page.locator("#inspector-body input[name=weight]")
    field.fill("0.4321")
    field.press("Enter")
    page.wait_for_function(
        f"""fetch('/api/sessions/{auth["id"]}/weights', {{headers: {{Authorization: 'Bearer {auth["token"]}'}}}})
            .then(r => r.json()).then(w => w.weights[0][1][1] === 0.4321)""",
        timeout=5000,
    )
    assert api(live_server.url, auth, "GET", "/weights")["weights"][0][1][1] == 0.4321


def test_space_plays_and_the_loss_readout_changes(page: Any, live_server: Any) -> None:  # noqa: F811
    """Space plays (frames redraw the graph, the readout moves), Space again pauses."""
    open_page(page, live_server.url, {"hidden": [4, 2]})
    before = page.inner_text("#r-train")
    page.locator("body").press("Space")
    page.wait_for_selector("body[data-status=playing]", timeout=5000)
    page.wait_for_function(f"document.getElementById('r-train').textContent !== {before!r}", timeout=10_000)
    page.wait_for_function("+document.getElementById('r-step').textContent.replace(/\\s/g, '') > 0")
    page.check("input[name=view][value=error]", force=True)
    page.wait_for_function("document.getElementById('net').classList.contains('streaming')")
    page.locator("body").press("Space")
    page.wait_for_selector("body[data-status=paused]", timeout=5000)
    assert page.evaluate("performance.getEntriesByName('bpp-frame').length") > 0


def test_reconnect_resumes_the_same_session(page: Any, live_server: Any) -> None:  # noqa: F811
    """The socket drops: the page reconnects, re-authenticates, and frames of the same session resume."""
    auth = open_page(page, live_server.url)
    page.evaluate("__bpp.socket.ws.close(4000, 'network drop')")
    page.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    assert page.evaluate("__bpp.socket.auth.id") == auth["id"]
    assert page.evaluate("JSON.parse(sessionStorage.getItem('bpp.session')).id") == auth["id"]
    frames = page.evaluate("performance.getEntriesByName('bpp-frame').length")
    page.click("#play")
    page.wait_for_function(f"performance.getEntriesByName('bpp-frame').length > {frames + 3}", timeout=30_000)
    page.click("#play")
    assert api(live_server.url, auth, "GET", "")["step"] > 0


def test_a_deleted_session_is_replaced_with_the_same_config(page: Any, live_server: Any) -> None:  # noqa: F811
    """The session disappears (close 4404): the page starts a new one with the same config."""
    auth = open_page(page, live_server.url, {"hidden": [2, 2, 2]})
    api(live_server.url, auth, "DELETE", "")
    page.wait_for_function(f"__bpp.socket.live && __bpp.socket.auth.id !== {auth['id']!r}", timeout=10_000)
    assert page.locator("#net .node.unit").count() == 2 + 6 + 1
    fresh = page.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")
    assert fresh["id"] != auth["id"]
    assert api(live_server.url, fresh, "GET", "")["config"]["hidden"] == [2, 2, 2]


def test_a_diverged_run_says_so_and_never_prints_nan(page: Any, live_server: Any) -> None:  # noqa: F811
    """A run that blows up shows the diverged banner with its reason and a reset; no NaN is printed."""
    config = {"dataset": {"name": "sine"}, "learning_rate": 100, "hidden": [8], "activation": "relu"}
    open_page(page, live_server.url, config)
    page.click("#play")
    page.wait_for_selector("#banner:not([hidden])", timeout=10_000)
    assert "diverged" in page.inner_text("#banner")
    numbers = page.locator("header").inner_text() + page.locator("main").inner_text()  # the banner may say "NaN"
    assert "NaN" not in numbers and "Infinity" not in numbers
    page.click("#banner-reset")
    page.wait_for_selector("#banner[hidden]", state="attached", timeout=5000)


def test_keyboard_arrow_steps_and_walks_the_phases(page: Any, live_server: Any) -> None:  # noqa: F811
    """→ steps (then walks forward phase by phase with auto-play off), ← goes back a phase."""
    open_page(page, live_server.url, {"hidden": [2]})
    page.uncheck("#autoplay")
    page.locator("body").press("ArrowRight")
    page.wait_for_function("__bpp.timeline.loaded && __bpp.timeline.p >= 1", timeout=5000)
    assert page.get_attribute("#net", "data-phase") == "forward:1"
    page.locator("body").press("ArrowRight")
    page.wait_for_function("document.getElementById('net').dataset.phase === 'forward:2'")
    page.locator("body").press("ArrowLeft")
    page.wait_for_function("document.getElementById('net').dataset.phase === 'forward:1'")
    assert page.locator("#phases [aria-current=step]").get_attribute("data-phase") == "forward:1"


def test_page_source_stays_small_and_modular() -> None:
    """Plain ES modules under static/js, each under ~300 lines, with explicit .js imports."""
    js = sorted((ROOT / "static" / "js").rglob("*.js"))
    assert {"main.js", "socket.js", "store.js", "layout.js", "network-view.js", "timeline.js"} <= {p.name for p in js}
    for path in js:
        text = path.read_text()
        assert len(text.splitlines()) <= 300, path.name
        for line in text.splitlines():
            if line.startswith("import ") and " from " in line:
                assert line.rstrip(";").endswith('.js"'), f"{path.name}: {line}"
    assert Path(ROOT / "templates" / "index.html").is_file()


def test_a_refused_url_config_falls_back_and_says_why(page: Any, live_server: Any) -> None:  # noqa: F811
    """?config= the server refuses (422): the page says why and runs the default network instead."""
    open_page(page, live_server.url, {"hidden": [0]})
    page.wait_for_selector("#notice:not([hidden])")
    assert "refused" in page.inner_text("#notice-text") and "hidden" in page.inner_text("#notice-text")
    assert page.locator("#net .node.unit").count() == 2 + 4 + 2 + 1
    # Chromium itself logs the refused POST as a failed resource load; that one is expected.
    page.watch.errors[:] = [e for e in page.watch.errors if "status of 422" not in e]
