"""The classroom in Chromium (docs/classroom.md, issue 7): the teacher opens a room from the main page and sees its join
code; students open /room/CODE and watch the teacher's run live and read-only — frames while the teacher plays,
the backward pass phase by phase when the teacher steps — fork it into a session of their own, and are told
when the room closes; the teacher's class view lists the forks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from page_helpers import Watch, browser, page, page_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")
PHASE_LOG = """window.__phases = [];
  new MutationObserver(() => __phases.push(document.getElementById('net').dataset.phase))
    .observe(document.getElementById('net'), {attributes: true, attributeFilter: ['data-phase']});"""


@pytest.fixture
def student(browser: Any) -> Iterator[Any]:  # noqa: F811
    """A second page in its own context (its own sessionStorage), held to the same rules as ``page``."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    pg.watch = Watch()
    pg.watch.attach(pg)
    yield pg
    context.close()
    pg.watch.check()


def open_room(pg: Any, base: str, config: dict[str, Any] | None = None, title: str = "") -> tuple[str, dict[str, str]]:
    """Load the main page, open a room from the classroom panel; return the join code and the session auth."""
    pg.goto(page_url(base, config))
    pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    auth = pg.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")
    if title:
        pg.fill("#classroom input[name=title]", title)
    pg.click("#classroom button[type=submit]")
    code = pg.locator("#classroom [data-testid=room-code]").inner_text(timeout=5000).strip()
    return code, auth


def watch_room(pg: Any, base: str, code: str) -> None:
    """Open the room's page and wait until it is live."""
    pg.goto(f"{base}/room/{code}")
    pg.wait_for_selector("#conn[data-state=live]", timeout=10_000)


def weights(base: str, auth: dict[str, str]) -> Any:
    """A session's weights over REST."""
    r = httpx.get(
        f"{base}/api/sessions/{auth['id']}/weights", headers={"Authorization": f"Bearer {auth['token']}"}, timeout=10
    )
    r.raise_for_status()
    return r.json()["weights"]


def test_students_watch_the_teachers_run_live(page: Any, student: Any, live_server: Any) -> None:  # noqa: F811
    """The code has the server's form; the room page shows the same network with the title and code; the
    student's readout follows the teacher's play, and the teacher's step plays phase by phase there too."""
    base = live_server.url
    code, _ = open_room(page, base, {"hidden": [3, 2]}, title="Lecture 4")
    assert CODE.match(code), code
    assert page.get_attribute("#room-link", "href") == f"{base}/room/{code}"

    watch_room(student, base, code)
    assert student.inner_text("#room-code") == code and student.inner_text("#room-title") == "Lecture 4"
    student.wait_for_function("document.querySelectorAll('#net line[data-link]').length > 0")
    for sel in ("#net .node.unit", "#net [data-bias]", "#net line[data-link]"):
        assert student.locator(sel).count() == page.locator(sel).count(), sel
    assert student.locator("#net .node.unit").count() == 2 + 3 + 2 + 1

    page.click("#play")
    student.wait_for_selector("#teacher-status[data-status=playing]", timeout=5000)
    student.wait_for_function("+document.getElementById('r-step').textContent.replace(/\\s/g, '') > 0", timeout=10_000)
    first = int(student.inner_text("#r-step").replace("\u2009", ""))
    student.wait_for_function(
        f"+document.getElementById('r-step').textContent.replace(/\\s/g, '') > {first}", timeout=10_000
    )
    page.click("#play")
    student.wait_for_selector("#teacher-status[data-status=paused]", timeout=5000)

    student.evaluate(PHASE_LOG)
    page.locator("#speed").fill("4")
    page.click("#step")
    student.wait_for_function("__phases.includes('backward:2')", timeout=10_000)
    seen = student.evaluate("__phases.filter((p, i, a) => p !== a[i - 1] && p !== 'live')")
    backward = [p for p in seen if p.startswith("backward:")]
    assert backward == ["backward:4", "backward:3", "backward:2"], seen
    assert seen.index("cost") < seen.index("backward:4")
    assert student.locator("#phases button").count() > 0
    # Read-only: no weight editing in the inspector, and nothing the student did was refused by the server.
    # (D is shown once the gradient phases have played: wait for the whole step.)
    student.wait_for_function("__bpp.timeline.done", timeout=20_000)
    student.evaluate("__bpp.actions.select({kind: 'link', layer: 1, row: 0, col: 1})")
    assert student.locator("#inspector-body [data-field=D]").count() == 1
    assert not student.locator("#inspector-body form.weight-edit").is_visible()
    assert student.locator("#notice").is_hidden()


def test_a_student_forks_and_the_teacher_sees_the_fork(page: Any, student: Any, live_server: Any) -> None:  # noqa: F811
    """Fork with a name: the student lands on / driving a session with the teacher's exact weights at fork
    time; the teacher's class view lists the fork by its name."""
    base = live_server.url
    code, teacher = open_room(page, base, {"hidden": [4]})
    page.click("#step")  # weights that are not the initial ones
    page.wait_for_function("__bpp.timeline.loaded")
    watch_room(student, base, code)
    at_fork = weights(base, teacher)

    student.fill("#fork-name", "Ada")
    student.click("#fork")
    student.wait_for_url(f"{base}/", timeout=10_000)
    student.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    mine = student.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")
    assert mine["id"] != teacher["id"]
    assert student.evaluate("__bpp.socket.auth.id") == mine["id"]
    assert weights(base, mine) == at_fork

    page.wait_for_selector("#classroom tr[data-fork] th:has-text('Ada')", timeout=6000)
    row = page.locator(f"#classroom tr[data-fork='{mine['id']}']")
    assert "Ada" in row.inner_text() and "paused" in row.inner_text()
    assert page.locator("#classroom .class-title").inner_text().endswith("1 forks")


def test_closing_the_room_tells_the_students(page: Any, student: Any, live_server: Any) -> None:  # noqa: F811
    """A reload of the teacher's page keeps the room, a dropped student socket reconnects; Close room
    (confirmed): the student's page says the room is closed, the fork button is off, and the teacher's panel
    offers a new room again."""
    base = live_server.url
    code, _ = open_room(page, base)
    page.reload()
    page.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    assert page.locator("#classroom [data-testid=room-code]").inner_text() == code, "a reload keeps the room"
    watch_room(student, base, code)
    student.evaluate("__bpp.socket.ws.close(4000, 'network drop')")
    student.wait_for_selector("#conn[data-state=live]", timeout=10_000)  # a drop is not a closed room

    page.click("#classroom [data-act=close]")
    page.click("#classroom [data-act=close-yes]")
    student.wait_for_selector("#room-closed:not([hidden])", timeout=5000)
    assert "closed" in student.inner_text("#room-closed-text")
    assert student.locator("#fork").is_disabled()
    assert student.get_attribute("body", "data-room-state") == "closed"
    page.wait_for_selector("#classroom button[type=submit]")
    assert code in page.inner_text("#classroom .room-msg")
    assert page.evaluate("sessionStorage.getItem('bpp.room')") is None
    assert httpx.get(f"{base}/api/rooms/{code}", timeout=5).status_code == 404


def test_the_join_box_takes_any_spelling_of_the_code(page: Any, student: Any, live_server: Any) -> None:  # noqa: F811
    """/room shows the join box; a lower-case code without the hyphen joins; a malformed code is refused on
    the spot; an unknown one says there is no such room."""
    base = live_server.url
    code, _ = open_room(page, base)
    student.goto(f"{base}/room")
    assert student.locator("#join").is_visible() and student.locator("#room-main").is_hidden()
    student.fill("#join-code", "abc")
    student.press("#join-code", "Enter")
    assert student.locator("#join-error").is_visible()
    assert student.url == f"{base}/room"

    student.fill("#join-code", "zzzz zzzz")
    student.press("#join-code", "Enter")
    student.wait_for_url(f"{base}/room/ZZZZ-ZZZZ")
    assert "ZZZZ-ZZZZ" in student.inner_text("#join-unknown")

    student.fill("#join-code", code.replace("-", "").lower())
    student.click("#join-form button[type=submit]")
    student.wait_for_url(f"{base}/room/{code}")
    student.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    assert student.locator("#join").is_hidden()


def test_the_projector_view_shows_the_code_full_screen(page: Any, live_server: Any) -> None:  # noqa: F811
    """The projector view covers the screen with the code and the link; Escape closes it."""
    code, _ = open_room(page, live_server.url, title="Lecture 5")
    page.click("#classroom [data-act=projector]")
    dialog = page.locator("dialog.projector")
    dialog.wait_for()
    assert page.inner_text("#projector-code") == code
    assert f"/room/{code}" in dialog.inner_text() and "Lecture 5" in dialog.inner_text()
    box = dialog.bounding_box()
    assert box is not None and box["width"] >= 1366 and box["height"] >= 768
    code_box = page.locator("#projector-code").bounding_box()
    assert code_box is not None and code_box["height"] > 150, "readable from the back of the hall"
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert page.evaluate("document.activeElement.dataset.act") == "projector"


def test_room_addresses_are_canonical(live_server: Any) -> None:
    """A hand-typed code in the path or the join form's ?code= goes to /room/ABCD-EFGH (303); an unknown or
    malformed one is the join box saying so (200, so the browser logs no error)."""
    base = live_server.url
    for path in ("/room/abcdefgh", "/room/abcd-efgh", "/room?code=abcd+efgh"):
        r = httpx.get(base + path, timeout=5)
        assert (r.status_code, r.headers["location"]) == (303, "/room/ABCD-EFGH"), path
    r = httpx.get(base + "/room/ABCD-EFGH", timeout=5)
    assert r.status_code == 200 and 'data-room-state="unknown"' in r.text and "no open room ABCD-EFGH" in r.text
    r = httpx.get(base + "/room/<b>x", timeout=5)
    assert r.status_code == 200 and "<b>x" not in r.text
    r = httpx.get(base + "/room", timeout=5)
    assert r.status_code == 200 and 'data-room-state="join"' in r.text


def test_the_teacher_removes_a_fork(page: Any, student: Any, live_server: Any, tmp_path: Any) -> None:  # noqa: F811
    """Remove on a fork's row asks first (Keep leaves it); Remove it deletes the fork: its row leaves the class,
    its session is gone over REST, and the student's page is told and starts a session of its own."""
    base = live_server.url
    code, _ = open_room(page, base)
    watch_room(student, base, code)
    student.fill("#fork-name", "Flood")
    student.click("#fork")
    student.wait_for_url(f"{base}/", timeout=10_000)
    student.wait_for_selector("#conn[data-state=live]", timeout=10_000)
    fork = student.evaluate("JSON.parse(sessionStorage.getItem('bpp.session'))")
    row = page.locator(f"#classroom tr[data-fork='{fork['id']}']")
    row.wait_for(timeout=6000)

    row.locator("[data-act=remove]").click()
    assert page.evaluate("document.activeElement.dataset.act") == "remove-no"
    page.screenshot(path=str(tmp_path / "remove-confirm.png"))
    row.locator("[data-act=remove-no]").click()
    assert row.locator("[data-act=remove]").is_visible(), "Keep leaves the fork"
    assert page.evaluate("document.activeElement.dataset.act") == "remove"
    row.locator("[data-act=remove]").click()
    row.locator("[data-act=remove-yes]").click()
    row.wait_for(state="detached", timeout=5000)
    assert page.locator("#classroom .class-title").inner_text().endswith("0 forks")
    r = httpx.get(f"{base}/api/sessions/{fork['id']}", headers={"Authorization": f"Bearer {fork['token']}"}, timeout=5)
    assert r.status_code == 404
    student.wait_for_function(f"() => __bpp.socket.live && __bpp.socket.auth.id !== {fork['id']!r}", timeout=10_000)
    assert student.locator("#notice").is_visible()
