"""The page's settings panel and output, in Chromium against a real server: every control changes the live session as
the REST API reports it, the URL reproduces a run, custom CSV data, the gradient check, the symmetry lesson,
the language switch, export and import, the scenarios and the output views."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from page_helpers import browser, csp_safe, page, page_url  # noqa: F401 (fixtures)
from test_page import api, open_page

pytestmark = pytest.mark.browser


def until(fn: Callable[[], Any], timeout: float = 8.0, what: str = "") -> Any:
    """Poll fn until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or fn}")
        time.sleep(0.05)


def config_of(base: str, auth: dict[str, str]) -> dict[str, Any]:
    """The session's config as GET /api/sessions/{id} reports it."""
    return api(base, auth, "GET", "")["config"]


def wait_config(
    base: str, auth: dict[str, str], check: Callable[[dict[str, Any]], bool], what: str, pg: Any = None
) -> dict[str, Any]:
    """Wait until the session's config passes `check` (and, given the page, until the page has it too, as a
    learner waits to see a change before the next); return the whole state."""
    state = until(lambda: (s := api(base, auth, "GET", "")) and check(s["config"]) and s, what=what)
    if pg is not None:
        pg.wait_for_function(
            "want => JSON.stringify(__bpp.store.get().session.config) === JSON.stringify(want)", arg=state["config"]
        )
    return state


def test_every_control_changes_the_live_session(page: Any, live_server: Any) -> None:  # noqa: F811
    """Each control of the panel, used as a learner would, changes the session (GET reports it); hyperparameters
    keep the weights, structural changes rebuild the network and the page redraws it."""
    base = live_server.url
    auth = open_page(page, base)
    page.wait_for_selector("#datasets .thumb[data-name=xor]")

    page.click("#datasets .thumb[data-name=xor]")
    wait_config(base, auth, lambda c: c["dataset"]["name"] == "xor", "dataset xor", page)
    page.locator("#noise").fill("20")
    wait_config(base, auth, lambda c: c["dataset"]["noise"] == 0.2 and c["dataset"]["name"] == "xor", "noise 0.2", page)
    page.select_option("#samples", "200")
    state = wait_config(base, auth, lambda c: c["dataset"]["samples"] == 200, "samples", page)
    assert state["n_train"] == 100
    page.locator("#ratio").fill("70")
    wait_config(base, auth, lambda c: c["dataset"]["train_fraction"] == 0.7, "train share", page)
    page.click("#regenerate")
    wait_config(base, auth, lambda c: c["dataset"]["seed"] == 1, "data seed", page)

    page.click("#features [data-f='x1*x2']")
    wait_config(base, auth, lambda c: c["features"] == ["x1", "x2", "x1*x2"], "feature x1*x2", page)
    page.wait_for_function("document.querySelectorAll('#net .node.unit[data-layer=\"1\"]').length === 3")

    page.click("#layer-plus")
    wait_config(base, auth, lambda c: c["hidden"] == [4, 2, 2], "a third hidden layer", page)
    page.click("#layers button[data-l='0'][data-act=plus]")
    state = wait_config(base, auth, lambda c: c["hidden"] == [5, 2, 2], "a fifth unit", page)
    assert state["layer_sizes"] == [3, 5, 2, 2, 1]
    page.wait_for_function("document.querySelectorAll('#net .node.unit[data-layer=\"2\"]').length === 5")
    page.click("#layer-minus")
    wait_config(base, auth, lambda c: c["hidden"] == [5, 2], "one layer less", page)
    assert "8" in page.inner_text("#limits") and "64" in page.inner_text("#limits")

    page.select_option("#activation", "relu")
    wait_config(base, auth, lambda c: c["activation"] == "relu", "relu", page)
    page.select_option("#layers select[data-l='1']", "sigmoid")
    wait_config(base, auth, lambda c: c["activation"] == ["relu", "sigmoid"], "per-layer activation", page)

    # A refused pairing: the server's reason is shown beside the controls, and nothing changed.
    page.select_option("#output-act", "linear")
    error = page.locator("#controls [data-error-for~=loss]")
    error.wait_for(state="visible")
    assert "cross-entropy" in error.inner_text()
    assert config_of(base, auth)["output_activation"] == "sigmoid"
    page.wait_for_function("document.getElementById('output-act').value === 'sigmoid'")
    assert "cross-entropy" in page.inner_text(".pairs"), "the allowed pairs are explained up front"
    page.select_option("#loss", "mse")
    wait_config(base, auth, lambda c: c["loss"] == "mse", "mse", page)
    page.select_option("#output-act", "linear")
    wait_config(base, auth, lambda c: c["output_activation"] == "linear", "linear output", page)
    assert error.is_hidden()

    api(base, auth, "POST", "/train", {"steps": 5})
    before = api(base, auth, "GET", "/weights")["weights"]
    page.select_option("#lr-select", "0.3")
    wait_config(base, auth, lambda c: c["learning_rate"] == 0.3, "learning rate 0.3", page)
    page.fill("#learning-rate", "0.0123")
    page.press("#learning-rate", "Enter")
    wait_config(base, auth, lambda c: c["learning_rate"] == 0.0123, "learning rate typed in", page)
    page.fill("#batch-size", "7")
    page.press("#batch-size", "Enter")
    wait_config(base, auth, lambda c: c["batch_size"] == 7, "batch size", page)
    page.select_option("#optimizer", "momentum")
    page.wait_for_selector("#momentum-row:not([hidden])")
    page.fill("#momentum", "0.8")
    page.press("#momentum", "Enter")
    wait_config(base, auth, lambda c: c["optimizer"] == "momentum" and c["momentum"] == 0.8, "momentum 0.8", page)
    page.select_option("#regularization", "l2")
    page.select_option("#reg-rate", "0.03")
    wait_config(base, auth, lambda c: c["regularization"] == "l2" and c["reg_rate"] == 0.03, "L2 0.03", page)
    assert api(base, auth, "GET", "/weights")["weights"] == before, "hyperparameters keep the weights"

    page.select_option("#init", "uniform")
    page.wait_for_selector("#scale-row:not([hidden])")
    page.fill("#init-scale", "0.5")
    page.press("#init-scale", "Enter")
    state = wait_config(base, auth, lambda c: c["init"] == "uniform" and c["init_scale"] == 0.5, "uniform 0.5", page)
    until(lambda: api(base, auth, "GET", "")["step"] == 0, what="new weights after a new initialization")
    page.fill("#seed", "42")
    page.press("#seed", "Enter")
    wait_config(base, auth, lambda c: c["seed"] == 42, "seed 42", page)

    page.fill("#learning-rate", "-1")
    page.press("#learning-rate", "Enter")
    page.locator("#controls [data-error-for~=learning_rate]").wait_for(state="visible")
    assert config_of(base, auth)["learning_rate"] == 0.0123, "an invalid entry is refused in the page"

    page.select_option("#pace", "s10")
    page.click("#play")
    page.wait_for_function("__bpp.store.get().frame && __bpp.store.get().frame.header.steps_per_frame === 10")
    page.click("#play")
    page.wait_for_selector("body[data-status=paused]")


def test_a_copied_url_reproduces_the_setup_and_the_run(page: Any, live_server: Any, browser: Any) -> None:  # noqa: F811
    """Change the setup, copy the URL, open it in a fresh page: same config, same first weights, and the
    same weights after the same steps."""
    base = live_server.url
    auth = open_page(page, base)
    page.wait_for_selector("#datasets .thumb[data-name=moons]")
    page.click("#datasets .thumb[data-name=moons]")
    wait_config(base, auth, lambda c: c["dataset"]["name"] == "moons", "moons")
    page.click("#layer-plus")
    page.select_option("#activation", "relu")
    page.fill("#seed", "7")
    page.press("#seed", "Enter")
    page.select_option("#optimizer", "adam")
    page.select_option("#pace", "e5")
    want = wait_config(base, auth, lambda c: c["seed"] == 7 and c["optimizer"] == "adam", "the setup")["config"]
    page.wait_for_function("location.search.includes('speed=e5') && location.search.includes('adam')")
    url = page.url

    other = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        pg = other.new_page()
        csp_safe(pg)
        pg.goto(url)
        pg.wait_for_selector("#conn[data-state=live]")
        auth2 = pg.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")
        assert auth2["id"] != auth["id"]
        assert config_of(base, auth2) == want
        assert pg.evaluate("document.getElementById('pace').value") == "e5"
        api(base, auth, "POST", "/reset")
        first = api(base, auth, "GET", "/weights")["weights"]
        assert api(base, auth2, "GET", "/weights")["weights"] == first
        a = api(base, auth, "POST", "/train", {"steps": 25})["weights"]
        b = api(base, auth2, "POST", "/train", {"steps": 25})["weights"]
        assert a == b and a != first
    finally:
        other.close()
    page.reload()
    page.wait_for_selector("#conn[data-state=live]")
    assert page.evaluate("JSON.parse(sessionStorage.getItem('bpp.session')).id") == auth["id"], "a reload resumes"


GOOD_CSV = "x1,x2,label\n" + "\n".join(f"{i / 10},{(i * 7 % 11) / 5 - 1},{int(i % 3 == 0)}" for i in range(40))
BAD_CSV = "x1,x2,y\n0.1,0.2,1\n0.3,oops,0\n"


def test_custom_csv_data_good_and_bad(page: Any, live_server: Any) -> None:  # noqa: F811
    """A good CSV file becomes the session's data (with a test split); a bad one is explained with its line and
    column, and nothing is sent."""
    base = live_server.url
    auth = open_page(page, base)
    page.click("#csv-box summary")
    page.select_option("#csv-test", "0.2")
    page.set_input_files("#csv-file", files=[{"name": "mine.csv", "mimeType": "text/csv", "buffer": GOOD_CSV.encode()}])
    state = wait_config(base, auth, lambda c: c["dataset"]["name"] == "custom", "custom data")
    assert (state["n_train"], state["n_test"], state["task"]) == (32, 8, "classification")
    page.wait_for_selector("#csv-status:has-text('32')")
    page.wait_for_function("__bpp.store.get().data && __bpp.store.get().data.x.length === 32")
    assert page.get_attribute("#datasets .thumb[data-name=custom]", "aria-checked") == "true"

    page.set_input_files("#csv-file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}])
    error = page.locator("#csv-error")
    error.wait_for(state="visible")
    assert "line 3" in error.inner_text() and "column 2" in error.inner_text() and "oops" in error.inner_text()
    time.sleep(0.3)
    assert api(base, auth, "GET", "")["n_train"] == 32, "the session is unchanged"
    page.fill("#csv-text", "1,2\n3")
    page.click("#csv-use")
    page.wait_for_selector("#csv-error:has-text('line 2')")


def test_gradient_check_agrees(page: Any, live_server: Any) -> None:  # noqa: F811
    """One button: analytic and numerical gradients side by side per weight, all green, with the overall error."""
    open_page(page, live_server.url, {"hidden": [3, 2]})
    page.click("#tab-gradcheck")
    page.click("#gradcheck-run")
    page.wait_for_selector("#gradcheck-out .gc-overall")
    assert page.get_attribute("#gradcheck-out .gc-overall", "data-agree") == "ok"
    rows = page.locator("#gradcheck-out tbody tr")
    assert rows.count() == 3 * 3 + 2 * 4 + 1 * 3, "one row per weight"
    assert page.locator("#gradcheck-out tbody tr.ok").count() == rows.count()
    assert page.locator("#gradcheck-out details").count() == 3
    first = rows.first.locator("td")
    assert first.nth(1).inner_text() == first.nth(2).inner_text(), "analytic and numerical agree to 6 digits"
    assert "10⁻" in page.inner_text("[data-field=gc-overall]")


def test_symmetry_scenario_shows_identical_units(page: Any, live_server: Any) -> None:  # noqa: F811
    """Zeros initialization: every unit of a hidden layer has the same incoming weights (REST), the page marks
    the layers and explains why; one click on "now try xavier" breaks the symmetry."""
    base = live_server.url
    auth = open_page(page, base)
    page.select_option("#scenario", "symmetry")
    wait_config(base, auth, lambda c: c["init"] == "zeros" and c["hidden"] == [4, 4], "the symmetry scenario")
    page.wait_for_selector("#scenario-note .scenario[data-scenario=symmetry]")
    api(base, auth, "POST", "/train", {"steps": 30})
    weights = api(base, auth, "GET", "/weights")["weights"]
    for theta in weights[:2]:  # identical up to BLAS's rounding (its last row may be summed in another order)
        for row in theta:
            assert row == pytest.approx(theta[0], rel=1e-9, abs=1e-15), "identical incoming weights"
    assert any(v != 0 for v in weights[0][0] + weights[1][0]), "they moved, in lockstep"
    page.wait_for_selector("#net .sym-badge[data-layer='2']")
    page.wait_for_selector("#net .sym-badge[data-layer='3']")
    assert page.locator("#lesson .symmetry").is_visible()
    page.click("#lesson [data-act=try-xavier]")
    wait_config(base, auth, lambda c: c["init"] == "xavier", "xavier")
    page.wait_for_selector("#net .sym-badge", state="detached")
    theta = api(base, auth, "GET", "/weights")["weights"][0]
    assert theta[0] != theta[1]


def test_language_switch_changes_the_labels_and_back(page: Any, live_server: Any) -> None:  # noqa: F811
    """English ⇄ 简体中文: static labels, dynamic ones and the notation that stays the same."""
    open_page(page, live_server.url)
    page.wait_for_selector("#features [data-f=x1]")
    assert page.inner_text("#tab-output") == "Output"
    page.select_option("#lang", "zh")
    page.wait_for_function("document.getElementById('tab-output').textContent === '输出'")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.inner_text("#play") == "▶ 运行"
    assert "数据" in page.inner_text("#controls legend >> nth=0")
    assert "隐藏层" in page.text_content("#net"), "the graph's column titles"
    assert "Θ" in page.inner_text(".views"), "the notation stays"
    assert page.evaluate("localStorage.getItem('bpp.lang')") == "zh"
    page.reload()
    page.wait_for_function("document.getElementById('tab-output').textContent === '输出'")
    page.select_option("#lang", "en")
    page.wait_for_function("document.getElementById('tab-output').textContent === 'Output'")
    assert page.inner_text("#play") == "▶ Play"
    assert page.get_attribute("html", "lang") == "en"


def test_export_downloads_a_document_that_imports_back(page: Any, live_server: Any, tmp_path: Any) -> None:  # noqa: F811
    """Export: GET …/export as a .json download; import it back: POST {"import": doc} and the page drives the
    new session, at the same step with the same weights."""
    base = live_server.url
    auth = open_page(page, base, {"dataset": {"name": "gauss"}, "hidden": [3]})
    api(base, auth, "POST", "/train", {"steps": 12})
    with page.expect_download() as info:
        page.click("#export")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name.endswith(".json")
    doc = json.loads(path.read_text())
    assert doc["state"]["step"] == 12 and doc["config"]["dataset"]["name"] == "gauss"
    page.set_input_files("#import", str(path))
    page.wait_for_function(f"JSON.parse(sessionStorage.getItem('bpp.session')).id !== {auth['id']!r}")
    page.wait_for_selector("#conn[data-state=live]")
    fresh = page.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")
    state = api(base, fresh, "GET", "")
    assert state["step"] == 12 and state["weights"] == doc["state"]["weights"]
    page.wait_for_selector("#notice:not([hidden])")
    assert "12" in page.inner_text("#notice-text")
    page.set_input_files("#import", files=[{"name": "x.json", "mimeType": "application/json", "buffer": b"{}"}])
    page.wait_for_function("document.getElementById('notice-text').textContent.includes('refused')")
    page.watch.errors[:] = [e for e in page.watch.errors if "status of 422" not in e]


@pytest.mark.parametrize("scenario", ["xor", "vanishing", "diverge", "overfit", "spiral"])
def test_scenarios_set_a_full_config_and_explain_it(page: Any, live_server: Any, scenario: str) -> None:  # noqa: F811
    """Each ready-made scenario sets its whole config and shows its explanation; the URL names it."""
    base = live_server.url
    auth = open_page(page, base, {"dataset": {"name": "blobs"}, "regularization": "l1", "reg_rate": 0.1})
    page.select_option("#scenario", scenario)
    want = {
        "xor": lambda c: c["dataset"]["name"] == "xor" and c["hidden"] == [],
        "vanishing": lambda c: c["hidden"] == [8] * 6 and c["activation"] == "sigmoid",
        "diverge": lambda c: c["dataset"]["name"] == "plane" and c["learning_rate"] == 3,
        "overfit": lambda c: c["regularization"] == "l2" and c["dataset"]["noise"] == 0.3,
        "spiral": lambda c: c["dataset"]["name"] == "spiral" and len(c["features"]) == 7,
    }[scenario]
    config = wait_config(base, auth, want, scenario)["config"]
    if scenario != "overfit":
        assert config["regularization"] == "none", "nothing of the previous run leaks in"
    page.wait_for_selector(f"#scenario-note .scenario[data-scenario={scenario}]")
    assert len(page.inner_text("#scenario-note .scenario p")) > 150
    page.wait_for_function(f"location.search.includes('scenario={scenario}')")


def test_output_views_draw_while_playing(page: Any, live_server: Any) -> None:  # noqa: F811
    """Playing: the surface is drawn from the frame's weights, the units get their maps, the loss, accuracy and
    gradient charts append points (one gradient line per layer), and the cost split is shown."""
    open_page(page, live_server.url, {"hidden": [4, 3]})
    page.click("#show-test")
    page.click("#play")
    page.wait_for_function("__bpp.store.get().step > 200", timeout=15_000)
    page.click("#play")
    page.wait_for_selector("body[data-status=paused]")
    page.wait_for_selector("#net.maps")
    painted = page.evaluate(
        """(() => {
          const c = document.querySelector('#surface canvas.surf');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const colours = new Set();
          for (let i = 0; i < d.length; i += 4 * 97) colours.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
          return colours.size;
        })()"""
    )
    assert painted > 20, "a surface, not a blank canvas"
    legends = page.locator("#chart-grad .chart-legend .key")
    assert legends.count() == 3
    assert "D" in legends.first.inner_text()
    assert page.locator("#chart-loss .chart-legend b").first.inner_text() not in ("", "—")
    assert page.locator("#chart-acc .chart-legend b").first.inner_text() not in ("", "—")
    assert "J =" in page.inner_text("#cost-split")
    page.hover("#net .node[data-layer='2'][data-unit='1']")
    page.wait_for_selector(".unit-zoom:not([hidden])")
    page.check("#log-loss")
    page.check("#discretize")
    page.click("#tab-inspector")
    assert page.locator("#output").is_hidden() and page.locator("#inspector").is_visible()


FORWARD_JS = """
import { forwardGrid, netOf, toMats } from "./static/js/core/forward.js";
const { weights, config, x } = JSON.parse(await new Promise((ok) => {
  let s = ""; process.stdin.on("data", (d) => (s += d)); process.stdin.on("end", () => ok(s));
}));
const grid = { x1: Float64Array.from(x.map((r) => r[0])), x2: Float64Array.from(x.map((r) => r[1] ?? 0)), P: x.length };
const f = forwardGrid(toMats(weights), netOf(config), grid);
const unit = (v, S, u) => x.map((_, p) => v[p * S + u]);
const out = f.values.map((v, l) => Array.from({ length: f.sizes[l] }, (_, u) => unit(v, f.sizes[l], u)));
console.log(JSON.stringify(out));
"""


@pytest.mark.parametrize(
    "config",
    [
        {
            "dataset": {"name": "spiral"},
            "features": ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"],
            "hidden": [5, 4, 3, 3, 3],
            "activation": ["sigmoid", "tanh", "relu", "leaky_relu", "linear"],
        },
        {"dataset": {"name": "blobs", "classes": 4}, "hidden": [6], "activation": "relu"},
        {
            "dataset": {"name": "sine"},
            "features": ["x1", "x1^2", "sin(x1)"],
            "hidden": [4],
            "output_activation": "tanh",
        },
        {"dataset": {"name": "plane"}, "hidden": [], "init": "he"},
    ],
)
def test_the_pages_forward_pass_is_the_engines(live_server: Any, config: dict[str, Any]) -> None:
    """forward.js (the surface and the unit maps) gives the engine's own a^(l) for every unit, feature and
    activation: the page's picture is the network's, not an approximation of it."""
    import shutil
    import subprocess

    from helpers import ROOT

    node = shutil.which("node")
    assert node is not None, "node is not installed (.ci/run installs Debian's nodejs)"
    base = live_server.url
    made = httpx.post(f"{base}/api/sessions", json=config, timeout=10).json()
    auth = {"id": made["id"], "token": made["token"]}
    state = api(base, auth, "POST", "/train", {"steps": 40})
    inputs = 1 if config["dataset"]["name"] == "sine" else 2
    x = [[-5.5 + 1.3 * i, 4.0 - 0.9 * i][:inputs] for i in range(9)]
    y = [[0.0] * state["layer_sizes"][-1] for _ in x]
    if state["task"] == "multiclass":
        y = [[1.0] + [0.0] * (state["layer_sizes"][-1] - 1) for _ in x]
    trace = api(base, auth, "POST", "/backprop", {"x": x, "y": y})
    payload = json.dumps({"weights": state["weights"], "config": state["config"], "x": x})
    run = subprocess.run(
        [node, "--input-type=module", "-e", FORWARD_JS], input=payload, cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    ours = json.loads(run.stdout)
    for layer in trace["layers"]:
        units = ours[layer["layer"] - 1]
        for i, row in enumerate(layer["a"]):
            for u, value in enumerate(row):
                assert units[u][i] == pytest.approx(value, rel=1e-5, abs=1e-6), (layer["layer"], u, i)
    api(base, auth, "DELETE", "")


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"dataset": {"name": "xor"}}, "The same δ"),
        ({"dataset": {"name": "plane"}, "output_activation": "linear", "loss": "mse"}, "The same δ"),
        ({"dataset": {"name": "plane"}, "output_activation": "tanh", "loss": "mse"}, "would be just a − y"),
    ],
)
def test_inspector_says_when_the_output_error_is_a_minus_y(
    page: Any,  # noqa: F811
    live_server: Any,
    config: dict[str, Any],
    says: str,
) -> None:
    """MSE with a linear output and cross-entropy with a sigmoid output both give δ^(L) = a − y: the inspector's
    output unit says so when it applies, and says what g′(z) changes when it does not."""
    open_page(page, live_server.url, {"hidden": [2], **config})
    page.click("#step")
    page.wait_for_function("__bpp.timeline.loaded", timeout=10_000)
    page.click("#net .node[data-layer='3'][data-unit='1']")
    note = page.locator("#inspector-body .same-delta")
    note.wait_for()
    assert says in note.inner_text()
