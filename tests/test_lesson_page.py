"""The derivation lesson in Chromium (/?lesson=derivation): network N on network_n, the nine steps beside the
drawing with the parts each talks about lit, every number shown equal to the engine's (POST …/backprop and
…/gradcheck at the same weights and sample, to the shown precision), predict then reveal (a wrong value
shown with its slip, a right one accepted, "show me"), recomputing on a new sample and on an applied update,
the multiply-add counts against a formula written here independently, Chinese, the page weight with the
lesson open, and the lesson in a room (the teacher's step on the student's page, the class view's count)."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from page_helpers import Watch, browser, page  # noqa: F401 (fixtures)
from test_page import page_weight

pytestmark = pytest.mark.browser

LESSON_KB = 120  # what opening the lesson adds: its modules, strings and styles (the first page stays light)


def fmt(x: float) -> str:
    """The page's fmt (format.js) for values in [1e-3, 1e4): 4 significant digits, zeros trimmed, real minus."""
    assert 1e-3 <= abs(x) < 1e4, x
    s = f"{abs(x):.4g}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return ("−" if x < 0 else "") + s


def rest(base: str, auth: dict[str, str], method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {auth['token']}"}
    r = httpx.request(method, f"{base}/api/sessions/{auth['id']}{path}", json=body, headers=headers, timeout=10)
    r.raise_for_status()
    return r.json() if r.content else None


def engine(base: str, auth: dict[str, str], sample: int) -> dict[str, Any]:
    """The engine's numbers for one sample at the current weights."""
    trace = rest(base, auth, "POST", "/backprop", {"samples": [sample]})
    layers = {layer["layer"]: layer for layer in trace["layers"]}
    return {
        "weights": rest(base, auth, "GET", "/weights")["weights"],
        "a2": layers[2]["a"][0],
        "a3": layers[3]["a"][0],
        "d2": layers[2]["delta"][0],
        "d3": layers[3]["delta"][0],
        "D": trace["gradients"],
        "J": trace["cost"]["total"],
        "gc": rest(base, auth, "POST", "/gradcheck", {"samples": [sample]}),
    }


def open_lesson(pg: Any, base: str) -> dict[str, str]:
    pg.goto(base + "/?lesson=derivation")
    pg.wait_for_selector("#lesson-panel .step-body .eq", timeout=15_000)
    pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    return pg.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")


def step(pg: Any, n: int) -> Any:
    pg.click(f"#lesson-panel [data-step='{n}']")
    pg.wait_for_selector(f"#lesson-panel[data-step='{n}'] .step-body > p")
    return pg.locator("#lesson-panel .step-body")


def shown_sample(pg: Any) -> int:
    return int(pg.get_attribute("#lesson-panel .lesson-sample", "data-sample"))


def ops(sizes: list[int]) -> tuple[int, int]:
    """The multiply-adds of one sample's gradient (linear output + mse), written from the lesson's definition:
    chain rule — per weight of Θ^(l), P_l = S_{l+2}…S_L paths of 2 products per hidden unit crossed, then ·a;
    stored δ — S_{l+1} products and one g' per hidden δ, one product per gradient."""
    L = len(sizes)
    chain = stored = 0
    for l in range(1, L):
        n = sizes[l] * (sizes[l - 1] + 1)
        paths = math.prod(sizes[l + 1 :])
        chain += n * (paths * 2 * (L - 1 - l) + 1)
        stored += n + (sizes[l - 1] * (sizes[l] + 1) if l >= 2 else 0)
    return chain, stored


def test_lesson_walks_nine_steps_with_the_engines_numbers(page: Any, live_server: Any) -> None:  # noqa: F811
    base = live_server.url
    auth = open_lesson(page, base)
    state = rest(base, auth, "GET", "")
    assert state["layer_sizes"] == [3, 3, 2] and state["config"]["dataset"]["name"] == "network_n"
    assert state["config"]["output_activation"] == "linear" and state["config"]["loss"] == "mse"
    assert "lesson=derivation" in page.url
    i = shown_sample(page)
    e = engine(base, auth, i)
    panel = page.locator("#lesson-panel")
    # 1: the forward equation of a1(2) with the engine's value; x0, x1..x3 and a1(2) lit, with Θ1i(1)
    body = step(page, 1)
    assert fmt(e["a2"][0]) in body.locator(".eq.result").inner_text()
    lit = page.eval_on_selector_all("#net .lesson-lit [data-lit]", "els => els.map(e => e.dataset.lit)")
    assert sorted(lit) == sorted(["1:1:0", "1:1:1", "1:1:2", "1:1:3", "1:0", "1:1", "1:2", "1:3", "2:1"])
    # 2: J of this sample
    assert fmt(e["J"]) in step(page, 2).locator(".eq.result").first.inner_text()
    # 3: predict δ1(3) wrong (the sign flipped): the slip is named, then the value and ∂J/∂Θ11(2) are shown
    body = step(page, 3)
    assert "?" in body.locator(".eq.result").inner_text(), "hidden before the prediction"
    page.fill("form[data-predict=delta3] input", fmt(-e["d3"][0]))
    page.click("form[data-predict=delta3] button[type=submit]")
    verdict = page.locator("form[data-predict=delta3] .verdict")
    assert "wrong" in verdict.get_attribute("class") and "sign" in verdict.inner_text()
    assert fmt(e["D"][1][0][1]) in page.locator("#lesson-panel .step-body .eq.result").inner_text()
    # 4: δ2(2) predicted right (4 significant digits), ∂J/∂Θ22(1) by "show me"; the two paths lit
    body = step(page, 4)
    page.fill("form[data-predict=delta2] input", f"{e['d2'][1]:.4g}")
    page.click("form[data-predict=delta2] button[type=submit]")
    assert "right" in page.locator("form[data-predict=delta2] .verdict").get_attribute("class")
    page.click("form[data-predict=grad] [data-act=show]")
    assert "shown" in page.locator("form[data-predict=grad] .verdict").get_attribute("class")
    assert fmt(e["D"][0][1][2]) in page.locator("#lesson-panel .step-body .eq.result").inner_text()
    lit = page.eval_on_selector_all("#net .lesson-lit line", "els => els.map(e => e.dataset.lit)")
    assert sorted(lit) == ["1:2:2", "2:1:2", "2:2:2"]
    # 5: the δ of the unit clicked in the drawing
    step(page, 5)
    page.click("#net .node.unit[data-layer='2'][data-unit='3']")
    page.wait_for_function("document.querySelector('#net .lesson-lit [data-lit=\"2:3\"]') !== null")
    assert fmt(e["d2"][2]) in page.locator("#lesson-panel .step-body .eq.result").inner_text()
    # 6: the counts for N and for a grown network, as written independently here
    step(page, 6)
    assert panel.locator("tr[data-net=current] [data-count=chain]").inner_text() == str(ops([3, 3, 2])[0]) == "68"
    assert panel.locator("tr[data-net=current] [data-count=stored]").inner_text() == str(ops([3, 3, 2])[1]) == "29"
    page.click("#lesson-panel [data-grow=hidden][data-by='1']")
    page.click("#lesson-panel [data-grow=width][data-by='1']")
    grown = [3, 4, 4, 4, 2]
    assert panel.locator("tr[data-net=grown] [data-count=chain]").inner_text() == str(ops(grown)[0])
    assert panel.locator("tr[data-net=grown] [data-count=stored]").inner_text() == str(ops(grown)[1])
    assert panel.locator(".ops-chart g.chain circle").count() == 6
    # 7: each weight's derived value beside its central difference: the server's gradient check agrees
    step(page, 7)
    rows = panel.locator(".gc-table.numeric tbody tr")
    assert rows.count() == 20
    for n in range(rows.count()):
        row = rows.nth(n)
        layer, k, col = (int(v) for v in row.get_attribute("data-weight").split(":"))
        cells = [c.replace("−", "-") for c in row.locator("td").all_inner_texts()]
        numerical = e["gc"]["layers"][layer - 1]["numerical"][k - 1][col]
        if "×10" not in cells[2]:
            assert abs(float(cells[2]) - numerical) <= 1e-5 * max(abs(numerical), 1e-3), (cells, numerical)
        assert "ok" in row.get_attribute("class")
    # 8: the updated Θ22(1) predicted right, applied, and the lesson recomputes at the new weights
    step(page, 8)
    alpha = state["config"]["learning_rate"]
    after = e["weights"][0][1][2] - alpha * e["D"][0][1][2]
    page.fill("form[data-predict=update] input", f"{after:.6g}")
    page.click("form[data-predict=update] button[type=submit]")
    assert "right" in page.locator("form[data-predict=update] .verdict").get_attribute("class")
    page.click("#lesson-panel [data-act=apply-update]")
    page.wait_for_function(
        f"() => {{ const s = window.__bpp.store.get().session; return s && s.weights && "
        f"Math.abs(s.weights[0][1][2] - ({after})) < 1e-12; }}",
        timeout=10_000,
    )
    assert abs(rest(base, auth, "GET", "/weights")["weights"][0][1][2] - after) < 1e-12
    e2 = engine(base, auth, i)
    assert e2["J"] < e["J"], "one step downhill on this sample"
    page.wait_for_function(f"document.querySelector('#lesson-panel .step-body').textContent.includes('{fmt(after)}')")
    step(page, 2)
    page.wait_for_function(
        f"document.querySelector('#lesson-panel .step-body .eq.result').textContent.includes('{fmt(e2['J'])}')"
    )
    # 9: the common mistakes: a right and a wrong answer
    step(page, 9)
    page.click("[data-quiz=theta_count] [data-choice='2']")
    page.click("[data-quiz=delta1] [data-choice=yes]")
    assert panel.locator("[data-quiz=theta_count] .verdict .right").count() == 1
    assert panel.locator("[data-quiz=delta1] .verdict .wrong").count() == 1
    # a new sample: the lesson recomputes from the engine
    page.click("#lesson-panel [data-act=new-sample]")
    page.wait_for_function(f"document.querySelector('#lesson-panel .lesson-sample').dataset.sample !== '{i}'")
    j = shown_sample(page)
    e3 = engine(base, auth, j)
    step(page, 1)
    page.wait_for_function(
        f"document.querySelector('#lesson-panel .eq.result').textContent.includes('{fmt(e3['a2'][0])}')"
    )
    # new weights (a reset): the lesson recomputes at the engine's new weights
    old = fmt(e3["a2"][0])
    page.click("#lesson-panel [data-act=new-weights]")
    page.wait_for_function(f"!document.querySelector('#lesson-panel .eq.result').textContent.includes('{old}')")
    e4 = engine(base, auth, j)
    assert e4["weights"] != e3["weights"]
    page.wait_for_function(
        f"document.querySelector('#lesson-panel .eq.result').textContent.includes('{fmt(e4['a2'][0])}')"
    )


def test_lesson_speaks_chinese_and_stays_light(page: Any, live_server: Any) -> None:  # noqa: F811
    open_lesson(page, live_server.url)
    page.select_option("#lang", "zh")
    page.wait_for_function("document.getElementById('lesson-title').textContent === '反向传播的推导'")
    step(page, 6)
    assert "动态规划" in page.locator("#lesson-panel").inner_text()
    step(page, 9)
    assert page.locator("#lesson-panel .step-title").inner_text().endswith("易错警告")
    step(page, 5)
    assert "误差项 δ" in page.locator("#lesson-panel .step-title").inner_text()
    lesson = {path: size for path, size in page_weight(page).items() if "/lesson" in path}
    assert "/static/js/lesson/panel.js" in lesson and "/static/css/lesson.css" in lesson
    assert sum(lesson.values()) / 1024 <= LESSON_KB, f"the lesson adds {sum(lesson.values()) / 1024:.0f} KB: {lesson}"
    page.select_option("#lang", "en")


def test_lesson_opens_from_the_experiments_menu(page: Any, live_server: Any) -> None:  # noqa: F811
    page.goto(live_server.url + "/")
    page.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    assert page.locator("#lesson-panel").count() == 0, "not loaded unless opened"
    loaded = [path for path in page_weight(page) if "/lesson/" in path or "lesson.css" in path]
    assert loaded == ["/static/js/lesson/entry.js"], "only the small entry module is on the first page"
    page.select_option("#scenario", "lesson:derivation")
    page.wait_for_selector("#lesson-panel .step-body .eq", timeout=15_000)
    assert "lesson=derivation" in page.url


def test_lesson_in_a_room(page: Any, browser: Any, live_server: Any) -> None:  # noqa: F811
    base = live_server.url
    auth = open_lesson(page, base)
    page.click("#classroom button[type=submit]")
    code = page.locator("#classroom [data-testid=room-code]").inner_text(timeout=5000).strip()
    step(page, 4)
    sample = shown_sample(page)
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    student = context.new_page()
    student.watch = Watch()
    student.watch.attach(student)
    try:
        student.goto(f"{base}/room/{code}")
        student.wait_for_selector("#lesson-panel[data-step='4'] .step-body .eq", timeout=15_000)
        assert shown_sample(student) == sample
        assert "4" in student.locator("#lesson-panel .teacher-step").inner_text()
        e = engine(base, auth, sample)
        student.fill("form[data-predict=delta2] input", f"{e['d2'][1]:.4g}")
        student.click("form[data-predict=delta2] button[type=submit]")
        assert "right" in student.locator("form[data-predict=delta2] .verdict").get_attribute("class")
        student.click("form[data-predict=grad] [data-act=show]")
        # the teacher's class view counts them (it polls every 2 s)
        page.wait_for_selector("#classroom .lesson-tally [data-prediction=delta2]", timeout=10_000)
        assert "1 of 1" in page.locator("#classroom [data-prediction=delta2]").inner_text()
        page.wait_for_selector("#classroom .lesson-tally [data-prediction=grad]", timeout=10_000)
        assert "0 of 1" in page.locator("#classroom [data-prediction=grad]").inner_text()
        # the teacher moves on: the student's page follows
        step(page, 6)
        student.wait_for_selector("#lesson-panel[data-step='6']", timeout=10_000)
        page.click("#lesson-panel [data-act=new-sample]")
        new = int(
            page.wait_for_function(
                f"(() => {{ const s = document.querySelector('#lesson-panel .lesson-sample').dataset.sample; "
                f"return s !== '{sample}' && s; }})()"
            ).json_value()
        )
        student.wait_for_function(f"document.querySelector('#lesson-panel .lesson-sample').dataset.sample === '{new}'")
        # the teacher closes the lesson: it leaves the student's page
        page.click("#lesson-panel [data-act=close]")
        student.wait_for_function("document.getElementById('lesson-panel') === null", timeout=10_000)
    finally:
        context.close()
    student.watch.check()
