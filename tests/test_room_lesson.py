"""The derivation lesson in a room: the teacher shows a step and a sample (PUT …/lesson), the room page and
its live channel get them (GET /api/rooms/{code}, the `lesson` message), students report their first verdict
on each prediction (POST …/lesson/answers) and the class view counts them per step. The room channel's
`lesson` message is tested with the rest of docs/protocol.md (tests/test_protocol.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from helpers import auth

from app.main import create_app
from app.settings import Settings

LESSON_CONFIG: dict[str, Any] = {
    "dataset": {"name": "network_n", "samples": 60},
    "hidden": [3],
    "activation": "sigmoid",
}
WAIT = 5.0


async def teacher_room(http: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    s = (await http.post("/api/sessions", json=LESSON_CONFIG)).json()
    r = await http.post("/api/rooms", json={"session_id": s["id"], "title": "N"}, headers=auth(s["token"]))
    assert r.status_code == 201, r.text
    return s, r.json()


async def test_teacher_shows_a_step_and_the_class_view_counts_first_answers() -> None:
    app = create_app(Settings(db=""))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await http.get("/api/health")
            _, room = await teacher_room(http)
            code, teacher = room["code"], auth(room["teacher_token"])
            assert (await http.get(f"/api/rooms/{code}")).json()["lesson"] is None
            assert (await http.get(f"/api/rooms/{code}/class", headers=teacher)).json()["lesson"] is None
            body = {"lesson": "derivation", "step": 4, "sample": 7}
            assert (await http.put(f"/api/rooms/{code}/lesson", json=body)).status_code == 401
            assert (await http.put(f"/api/rooms/{code}/lesson", json=body, headers=auth("nope"))).status_code == 403
            r = await http.put(f"/api/rooms/{code}/lesson", json=body, headers=teacher)
            assert r.status_code == 200, r.text
            assert r.json() == {**body, "answers": []}
            assert (await http.get(f"/api/rooms/{code}")).json()["lesson"] == body

            # three students: their own cookies; the first verdict of each counts, a second is ignored
            students = []
            for _ in range(3):
                c = httpx.AsyncClient(transport=transport, base_url="http://testserver")
                await c.get("/api/health")
                students.append(c)
            answers = [("delta2", True), ("delta2", False), ("grad", True)]
            for c, (p, right) in zip(students, answers, strict=True):
                r = await c.post(
                    f"/api/rooms/{code}/lesson/answers", json={"prediction": p, "sample": 7, "right": right}
                )
                assert r.status_code == 204, r.text
            again = {"prediction": "delta2", "sample": 7, "right": True}
            assert (await students[1].post(f"/api/rooms/{code}/lesson/answers", json=again)).status_code == 204
            view = (await http.get(f"/api/rooms/{code}/class", headers=teacher)).json()["lesson"]
            assert view["step"] == 4 and view["sample"] == 7
            assert view["answers"] == [
                {"prediction": "delta2", "step": 4, "answered": 2, "right": 1},
                {"prediction": "grad", "step": 4, "answered": 1, "right": 1},
            ]
            # a stale sample is refused (409) and counts nothing; bad input names its field
            stale = {"prediction": "delta3", "sample": 3, "right": True}
            r = await students[0].post(f"/api/rooms/{code}/lesson/answers", json=stale)
            assert r.status_code == 409 and "sample" in r.text
            bad = {"prediction": "delta9", "sample": 7, "right": True}
            r = await students[0].post(f"/api/rooms/{code}/lesson/answers", json=bad)
            assert r.status_code == 422 and "prediction" in r.text
            r = await http.put(f"/api/rooms/{code}/lesson", json={**body, "sample": 30}, headers=teacher)
            assert r.status_code == 422 and "sample" in r.text, r.text  # 30 training samples: 0..29
            r = await http.put(f"/api/rooms/{code}/lesson", json={**body, "step": 10}, headers=teacher)
            assert r.status_code == 422 and "step" in r.text
            assert (await http.get(f"/api/rooms/{code}")).json()["lesson"] == body, "refusals changed nothing"

            # the next step keeps the tally of the sample; a new sample starts a new one; null stops
            r = await http.put(f"/api/rooms/{code}/lesson", json={**body, "step": 5}, headers=teacher)
            assert len(r.json()["answers"]) == 2
            r = await http.put(f"/api/rooms/{code}/lesson", json={**body, "sample": 8}, headers=teacher)
            assert r.json()["answers"] == []
            r = await http.put(f"/api/rooms/{code}/lesson", json={"lesson": None}, headers=teacher)
            assert r.status_code == 200 and r.json() is None
            r = await students[0].post(f"/api/rooms/{code}/lesson/answers", json=again)
            assert r.status_code == 409
            for c in students:
                await c.aclose()


@pytest.mark.parametrize("field", ["prediction", "right"])
async def test_an_answer_without_a_field_is_refused_naming_it(client: httpx.AsyncClient, field: str) -> None:
    _, room = await teacher_room(client)
    code = room["code"]
    body = {"lesson": "derivation", "step": 3, "sample": 1}
    await client.put(f"/api/rooms/{code}/lesson", json=body, headers=auth(room["teacher_token"]))
    answer = {"prediction": "delta3", "sample": 1, "right": True}
    del answer[field]
    r = await client.post(f"/api/rooms/{code}/lesson/answers", json=answer)
    assert r.status_code == 422 and field in r.text
