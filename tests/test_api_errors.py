"""Refusals (401, 403, 404, 413, 422, 429), expiry, divergence and the concurrency guarantees of the REST API."""

import asyncio
import json
import math
import time

import httpx
import pytest

from app.settings import Settings

LIMITED = Settings(
    db="", max_hidden_layers=2, max_units=5, max_samples=100, max_steps_per_call=50, max_trace_samples=20
)
ROUTES = [
    ("GET", "", None),
    ("PATCH", "", {"learning_rate": 0.1}),
    ("DELETE", "", None),
    ("POST", "/reset", {}),
    ("POST", "/train", {"steps": 1}),
    ("POST", "/backprop", {"samples": [0]}),
    ("POST", "/gradcheck", {}),
    ("GET", "/weights", None),
    ("PUT", "/weights", {"weights": []}),
    ("GET", "/export", None),
]
ROUTE_IDS = [f"{m} {s or '/'}" for m, s, _ in ROUTES]


async def create(client, **config):
    """A new session: (its state as created, the auth headers, its URL)."""
    r = await client.post("/api/sessions", json=config)
    assert r.status_code == 201, r.text
    out = r.json()
    return out, {"Authorization": f"Bearer {out['token']}"}, f"/api/sessions/{out['id']}"


def refusal(r, status, field=None):
    """Check a refusal: the status, a JSON string ``detail`` and (for 422) the field it names; the body."""
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    if field is not None:
        assert body["field"] == field, body
        assert field in body["detail"], body
    return body


def connect(app, ip):
    """Another in-process client of ``app``, from address ``ip``."""
    transport = httpx.ASGITransport(app=app, client=(ip, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# -- 401, 403, 404 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES, ids=ROUTE_IDS)
async def test_a_call_without_a_token_is_401(client, method, suffix, body):
    _, _, url = await create(client, dataset={"name": "xor", "samples": 20})
    r = await client.request(method, url + suffix, json=body)
    assert "token" in refusal(r, 401)["detail"]
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token"])
async def test_a_malformed_authorization_header_is_401(client, header):
    _, _, url = await create(client, dataset={"name": "xor", "samples": 20})
    refusal(await client.get(url, headers={"Authorization": header}), 401)


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES, ids=ROUTE_IDS)
async def test_another_sessions_token_opens_nothing_else(client, method, suffix, body):
    _, mine, _ = await create(client, dataset={"name": "xor", "samples": 20})
    _, theirs, url = await create(client, dataset={"name": "xor", "samples": 20})
    before = (await client.get(url + "/export", headers=theirs)).json()
    refusal(await client.request(method, url + suffix, headers=mine, json=body), 403)
    refusal(await client.request(method, url + suffix, headers={"Authorization": "Bearer nope"}, json=body), 403)
    assert (await client.get(url + "/export", headers=theirs)).json() == before


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES, ids=ROUTE_IDS)
async def test_an_unknown_session_is_404_whatever_the_token(client, method, suffix, body):
    _, mine, _ = await create(client, dataset={"name": "xor", "samples": 20})
    for headers in (None, mine, {"Authorization": "Bearer whatever"}):
        r = await client.request(method, "/api/sessions/no-such-id" + suffix, headers=headers, json=body)
        refusal(r, 404)


# -- 422 naming the field -------------------------------------------------------------------------------------

BAD_CONFIGS = [
    ({"hidden": [0]}, "hidden"),
    ({"hidden": [-3, 2]}, "hidden"),
    ({"hidden": [2, "many"]}, "hidden[1]"),
    ({"hidden": 4}, "hidden"),
    ({"hidden": [100]}, "hidden"),
    ({"hidden": [2] * 9}, "hidden"),
    ({"activation": "swish"}, "activation"),
    ({"activation": ["tanh"]}, "activation"),
    ({"output_activation": "linear", "loss": "cross_entropy"}, "loss"),
    ({"output_activation": "tanh", "loss": "cross_entropy"}, "loss"),
    ({"dataset": {"name": "blobs"}, "loss": "mse"}, "loss"),
    ({"dataset": {"name": "xor"}, "output_activation": "softmax"}, "output_activation"),
    ({"colour": "red"}, "colour"),
    ({"dataset": {"name": "xor", "colour": 1}}, "dataset.colour"),
    ({"dataset": {"name": "nope"}}, "dataset.name"),
    ({"dataset": {"name": "circle", "samples": 30_000}}, "dataset.samples"),
    ({"dataset": {"name": "circle", "samples": 10**12}}, "dataset.samples"),
    ({"dataset": {"name": "xor", "samples": 4, "train_fraction": 0.1}}, "dataset.train_fraction"),
    ({"dataset": {"name": "xor", "noise": 2}}, "dataset.noise"),
    ({"dataset": {"name": "custom", "x": [[1.0, 2.0], [3.0]], "y": [0, 1]}}, "dataset.x"),
    ({"dataset": {"name": "custom", "x": [[1.0], [2.0]], "y": [0]}}, "dataset.y"),
    ({"dataset": {"name": "custom", "x": [[1.0], [2.0]], "y": [0, 2], "task": "classification"}}, "dataset.y"),
    ({"dataset": {"name": "custom", "x": [["a"]], "y": [0]}}, "dataset.x[0][0]"),
    ({"dataset": {"name": "custom", "x": [[1.0]]}}, "dataset"),
    ({"dataset": {"name": "circle", "x": [[1.0]]}}, "dataset"),
    ({"features": ["x3"]}, "features[0]"),
    ({"features": ["x1", "x1"]}, "features"),
    ({"dataset": {"name": "sine"}, "features": ["x2"]}, "features"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"batch_size": 0}, "batch_size"),
    ({"momentum": 1.0}, "momentum"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**40}, "seed"),
    ({"init": "ones"}, "init"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CONFIGS, ids=[f for _, f in BAD_CONFIGS])
async def test_a_bad_config_is_422_naming_the_field(client, body, field):
    refusal(await client.post("/api/sessions", json=body), 422, field)
    assert len(client.app.state.store) == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_custom_data_is_422(client, literal):
    body = '{"dataset": {"name": "custom", "x": [[1, 2], [3, LITERAL]], "y": [[0], [1]]}}'.replace("LITERAL", literal)
    r = await client.post("/api/sessions", content=body, headers={"content-type": "application/json"})
    refusal(r, 422, "dataset.x[1][1]")


async def test_malformed_json_is_422_naming_the_body(client):
    r = await client.post("/api/sessions", content=b'{"hidden": [1,', headers={"content-type": "application/json"})
    assert "JSON" in refusal(r, 422, "body")["detail"]


@pytest.mark.parametrize("settings", [LIMITED], ids=["limits"])
@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"hidden": [2, 2, 2], "dataset": {"samples": 100}}, "hidden", "2 hidden layers"),
        ({"hidden": [6], "dataset": {"samples": 100}}, "hidden", "5 units"),
        ({"dataset": {"samples": 101}}, "dataset.samples", "100"),
        ({"dataset": {"name": "custom", "x": [[float(i)] for i in range(101)], "y": [0.0] * 101}}, "dataset.x", "100"),
    ],
)
async def test_the_servers_limits_are_422_naming_the_field(client, body, field, words):
    assert words in refusal(await client.post("/api/sessions", json=body), 422, field)["detail"]


@pytest.mark.parametrize("settings", [LIMITED], ids=["limits"])
async def test_steps_over_the_limit_are_422(client):
    _, headers, url = await create(client, dataset={"samples": 100})  # 50 training samples: 5 steps per epoch
    refusal(await client.post(url + "/train", headers=headers, json={"steps": 51}), 422, "steps")
    refusal(await client.post(url + "/train", headers=headers, json={"epochs": 11}), 422, "epochs")
    r = await client.post(url + "/train", headers=headers, json={"epochs": 10})
    assert r.status_code == 200 and r.json()["step"] == 50
    refusal(await client.patch(url, headers=headers, json={"hidden": [6]}), 422, "hidden")
    refusal(await client.patch(url, headers=headers, json={"dataset": {"samples": 200}}), 422, "dataset.samples")
    refusal(await client.post(url + "/backprop", headers=headers, json={"samples": list(range(21))}), 422, "samples")
    refusal(await client.post(url + "/backprop", headers=headers), 422, "samples")  # 50 > 20 traced samples


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"steps": 10, "epochs": 1}, "body"),
        ({}, "body"),
        ({"steps": 0}, "steps"),
        ({"steps": -5}, "steps"),
        ({"steps": "many"}, "steps"),
        ({"steps": 1.5}, "steps"),
        ({"steps": 100_001}, "steps"),
        ({"epochs": 10**9}, "epochs"),
        ({"steps": 1, "speed": 2}, "speed"),
    ],
)
async def test_a_bad_train_call_is_422(client, body, field):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 20})
    refusal(await client.post(url + "/train", headers=headers, json=body), 422, field)
    assert (await client.get(url, headers=headers)).json()["step"] == 0


async def test_both_steps_and_epochs_says_so(client):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 20})
    r = await client.post(url + "/train", headers=headers, json={"steps": 10, "epochs": 1})
    assert "exactly one of steps or epochs" in refusal(r, 422)["detail"]


@pytest.mark.parametrize(
    ("suffix", "body", "field"),
    [
        ("/backprop", {"samples": [10]}, "samples"),
        ("/backprop", {"samples": [0, 10]}, "samples"),
        ("/backprop", {"samples": [-1]}, "samples[0]"),
        ("/backprop", {"samples": [10**30]}, "samples[0]"),
        ("/backprop", {"samples": []}, "samples"),
        ("/backprop", {"x": [[1.0, 2.0]]}, "body"),
        ("/backprop", {"x": [[1.0, 2.0, 3.0]], "y": [[1.0]]}, "x"),
        ("/backprop", {"x": [[1.0, 2.0]], "y": [[2.0]]}, "y"),
        ("/backprop", {"x": [[1.0, 2.0]], "y": [[1.0], [0.0]]}, "x"),
        ("/backprop", {"samples": [0], "x": [[1.0, 2.0]], "y": [[1.0]]}, "body"),
        ("/gradcheck", {"samples": [10]}, "samples"),
        ("/gradcheck", {"samples": [-1]}, "samples[0]"),
        ("/gradcheck", {"samples": list(range(300))}, "samples"),
        ("/gradcheck", {"epsilon": 0}, "epsilon"),
        ("/gradcheck", {"epsilon": 1}, "epsilon"),
        ("/reset", {"seed": -1}, "seed"),
        ("/reset", {"seed": "a"}, "seed"),
    ],
)
async def test_a_bad_trace_call_is_422_naming_the_field(client, suffix, body, field):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 20})  # 10 training samples
    refusal(await client.post(url + suffix, headers=headers, json=body), 422, field)


BAD_PATCHES = [
    ({"learning_rate": -1}, "learning_rate"),
    ({"output_activation": "softmax"}, "output_activation"),
    ({"loss": "cross_entropy", "output_activation": "linear"}, "loss"),
    ({"features": ["x1", "x1"]}, "features"),
    ({"hidden": [100]}, "hidden"),
    ({"hidden": [3], "activation": ["tanh", "relu"]}, "activation"),
    ({"activation": ["tanh"]}, "activation"),
    ({"colour": 1}, "colour"),
    ({"dataset": {"name": "nope"}}, "dataset.name"),
    ({"dataset": {"name": "custom", "x": [[1.0], [2.0]], "y": [0, 5], "task": "classification"}}, "dataset.y"),
]


@pytest.mark.parametrize(("body", "field"), BAD_PATCHES, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD_PATCHES)])
async def test_a_refused_patch_changes_nothing(client, body, field):
    _, headers, url = await create(
        client, dataset={"name": "xor", "samples": 40}, optimizer="adam", output_activation="sigmoid"
    )
    await client.post(url + "/train", headers=headers, json={"steps": 3})
    before = (await client.get(url + "/export", headers=headers)).json()
    refusal(await client.patch(url, headers=headers, json=body), 422, field)
    assert (await client.get(url + "/export", headers=headers)).json() == before


@pytest.mark.parametrize(
    ("weights", "field"),
    [
        (lambda w: w[:1], "weights"),
        (lambda w: [w[0], [row[:-1] for row in w[1]], w[2]], "weights[1]"),
        (lambda w: [w[0], w[1], [w[2][0] + [0.0]]], "weights[2]"),
        (lambda w: [w[0], [w[1][0], w[1][1][:1]], w[2]], "weights[1]"),
        (lambda w: "x", "weights"),
        (lambda w: [[["a"]]], "weights[0][0][0]"),
    ],
)
async def test_a_refused_put_weights_changes_nothing(client, weights, field):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 40}, optimizer="momentum")
    await client.post(url + "/train", headers=headers, json={"steps": 3})
    before = (await client.get(url + "/export", headers=headers)).json()
    r = await client.put(url + "/weights", headers=headers, json={"weights": weights(before["state"]["weights"])})
    refusal(r, 422, field)
    assert (await client.get(url + "/export", headers=headers)).json() == before


async def test_non_finite_weights_are_422(client):
    s, headers, url = await create(client, dataset={"name": "xor", "samples": 40})
    body = json.dumps({"weights": s["weights"]}).replace(str(s["weights"][0][0][1]), "NaN", 1)
    r = await client.put(url + "/weights", headers={**headers, "content-type": "application/json"}, content=body)
    refusal(r, 422, "weights[0][0][1]")


def _set(path, value):
    """A change to an export document: the value at ``path`` (keys) set, or deleted when value is ``...``."""

    def change(doc):
        *parents, last = path
        for key in parents:
            doc = doc[key]
        if value is ...:
            del doc[last]
        else:
            doc[last] = value

    return change


BROKEN_DOCUMENTS = [
    (("state", "weights"), ..., "import.state.weights"),
    (("state",), [], "import.state"),
    (("state", "history"), [1], "import.state.history[0]"),
    (("state", "history"), [{"x": 1}], "import.state.history[0].step"),
    (("state", "history", 0, "train_loss"), "low", "import.state.history[0].train_loss"),
    (("state", "step"), 10**30, "import.state.step"),
    (("state", "epoch"), -1, "import.state.epoch"),
    (("state", "offset"), 10**6, "import.state.offset"),
    (("state", "divergence"), {"a": 1}, "import.state.divergence.step"),
    (("state", "optimizer_state"), [1], "import.state.optimizer_state"),
    (("state", "optimizer_state", "t"), "x", "import.state.optimizer_state.t"),
    (("data", "x"), ..., "import.data.x"),
    (("data", "task"), 5, "import.data.task"),
    (("config", "hidden"), [0], "import.hidden"),
    (("format",), "other", "import.format"),
]


@pytest.mark.parametrize(("path", "value", "field"), BROKEN_DOCUMENTS, ids=[f for *_, f in BROKEN_DOCUMENTS])
async def test_a_broken_export_document_is_422_and_creates_nothing(client, path, value, field):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 40}, optimizer="adam")
    await client.post(url + "/train", headers=headers, json={"steps": 9})
    doc = (await client.get(url + "/export", headers=headers)).json()
    assert doc["state"]["history"]
    _set(path, value)(doc)
    body = refusal(await client.post("/api/sessions", json={"import": doc}), 422)
    assert body["field"] == field and field in body["detail"]
    assert len(client.app.state.store) == 1


# -- 413 ------------------------------------------------------------------------------------------------------

SMALL_BODIES = Settings(db="", max_body_bytes=2048)


def big_config():
    return {"dataset": {"name": "custom", "x": [[float(i), 0.5] for i in range(300)], "y": [0.0, 1.0] * 150}}


@pytest.mark.parametrize("settings", [SMALL_BODIES], ids=["small-bodies"])
async def test_an_oversized_body_is_413(client):
    payload = json.dumps(big_config()).encode()
    assert len(payload) > 2048
    r = await client.post("/api/sessions", content=payload, headers={"content-type": "application/json"})
    assert "2048" in refusal(r, 413)["detail"]
    assert len(client.app.state.store) == 0


@pytest.mark.parametrize("settings", [SMALL_BODIES], ids=["small-bodies"])
async def test_an_oversized_streamed_body_without_length_is_413(client):
    payload = json.dumps(big_config()).encode()

    async def chunks():
        for i in range(0, len(payload), 500):
            yield payload[i : i + 500]

    r = await client.post("/api/sessions", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    refusal(r, 413)
    assert len(client.app.state.store) == 0


@pytest.mark.parametrize("settings", [SMALL_BODIES], ids=["small-bodies"])
async def test_a_small_streamed_body_is_accepted(client):
    async def chunks():
        yield b'{"dataset": {"name": "xor", '
        yield b'"samples": 20}}'

    r = await client.post("/api/sessions", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text


# -- 429 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [Settings(db="", max_sessions=3, max_sessions_per_client=2)], ids=["few"])
async def test_session_limits_are_429(client):
    app, body = client.app, {"dataset": {"name": "xor", "samples": 20}}
    async with connect(app, "10.0.0.2") as other, connect(app, "10.0.0.3") as third:
        _, headers, url = await create(client, **body)
        await create(client, **body)
        assert "per client" in refusal(await client.post("/api/sessions", json=body), 429)["detail"]
        doc = (await client.get(url + "/export", headers=headers)).json()
        refusal(await client.post("/api/sessions", json={"import": doc}), 429)  # an import is a session too
        await create(other, **body)
        assert "3 sessions" in refusal(await third.post("/api/sessions", json=body), 429)["detail"]
        assert (await client.delete(url, headers=headers)).status_code == 204
        await create(third, **body)
        assert len(app.state.store) == 3


# -- expiry ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [Settings(db="", session_ttl=60)], ids=["ttl-60"])
async def test_idle_sessions_expire(client):
    store = client.app.state.store
    start = time.monotonic()
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 20})
    _, other_headers, other_url = await create(client, dataset={"name": "xor", "samples": 20})
    assert store.expire(now=start + 30) == []
    store.sessions[other_url.rsplit("/", 1)[1]].touched = start + 50  # used later than the first
    gone = store.expire(now=start + 100)
    assert gone == [url.rsplit("/", 1)[1]]
    refusal(await client.get(url, headers=headers), 404)
    assert (await client.get(other_url, headers=other_headers)).status_code == 200


@pytest.mark.parametrize("settings", [Settings(db="", session_ttl=0.05)], ids=["ttl-short"])
async def test_expiry_with_a_short_ttl(client):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 20})
    await asyncio.sleep(0.1)
    assert client.app.state.store.expire() == [url.rsplit("/", 1)[1]]
    assert "expired" in refusal(await client.get(url, headers=headers), 404)["detail"]


# -- divergence -----------------------------------------------------------------------------------------------


async def diverged_session(client):
    """A regression run with relu and a learning rate of 100, trained until it diverges."""
    _, headers, url = await create(
        client, dataset={"name": "plane", "samples": 100}, activation="relu", learning_rate=100
    )
    for _ in range(10):
        out = (await client.post(url + "/train", headers=headers, json={"steps": 50})).json()
        if out["status"] == "diverged":
            return out, headers, url
    raise AssertionError("the run did not diverge")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
async def test_a_diverged_run_says_so_and_never_500s(client):
    out, headers, url = await diverged_session(client)
    assert out["divergence"]["reason"] and isinstance(out["divergence"]["step"], int)
    weights = [v for w in out["weights"] for row in w for v in row]
    assert all(isinstance(v, float) and math.isfinite(v) for v in weights)  # the last finite weights

    s = (await client.get(url, headers=headers)).json()
    assert s["status"] == "diverged" and s["divergence"] == out["divergence"] and s["weights"] == out["weights"]
    for body in ({"steps": 10}, {"epochs": 1}):
        r = await client.post(url + "/train", headers=headers, json=body)
        assert r.status_code == 200, r.text
        t = r.json()
        assert (t["steps_done"], t["stopped_early"], t["status"], t["step"]) == (0, True, "diverged", s["step"])
    for method, suffix in (("POST", "/backprop"), ("POST", "/gradcheck"), ("GET", "/weights")):
        assert (await client.request(method, url + suffix, headers=headers)).status_code == 200, suffix
    doc = (await client.get(url + "/export", headers=headers)).json()
    r = await client.post("/api/sessions", json={"import": doc})
    assert r.status_code == 201 and r.json()["status"] == "diverged"

    fresh, _, _ = await create(client, dataset={"name": "plane", "samples": 100}, activation="relu")
    r = await client.put(url + "/weights", headers=headers, json={"weights": fresh["weights"]})
    assert r.status_code == 200
    s = (await client.get(url, headers=headers)).json()
    assert (s["status"], s["divergence"]) == ("paused", None)
    await client.patch(url, headers=headers, json={"learning_rate": 0.01})
    t = (await client.post(url + "/train", headers=headers, json={"steps": 10})).json()
    assert (t["steps_done"], t["stopped_early"], t["status"]) == (10, False, "paused")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
async def test_weights_too_big_for_the_cost_say_diverged_at_once(client):
    s, headers, url = await create(client, dataset={"name": "plane", "samples": 40}, hidden=[2])
    huge = [[[1e200] * len(row) for row in w] for w in s["weights"]]
    assert (await client.put(url + "/weights", headers=headers, json={"weights": huge})).status_code == 200
    first = (await client.get(url, headers=headers)).json()
    assert first["metrics"]["train_loss"] is None  # ∞ is written as null
    assert first["status"] == "diverged" and first["divergence"]["reason"]  # consistent in the same answer
    assert (await client.get(url, headers=headers)).json()["status"] == "diverged"


# -- concurrency ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [Settings(db="", max_steps_per_call=1_000_000)], ids=["long-calls"])
async def test_health_and_other_sessions_answer_during_a_long_train(client, record_property):
    _, headers, url = await create(client)
    _, other_headers, other_url = await create(client, dataset={"name": "xor", "samples": 40})
    train = asyncio.create_task(client.post(url + "/train", headers=headers, json={"steps": 80_000}))
    health, other = [], []
    await asyncio.sleep(0.05)
    while not train.done():
        t0 = time.perf_counter()
        assert (await client.get("/api/health")).status_code == 200
        t1 = time.perf_counter()
        assert (await client.get(other_url, headers=other_headers)).status_code == 200
        t2 = time.perf_counter()
        if not train.done():
            health.append(t1 - t0)
            other.append(t2 - t1)
        await asyncio.sleep(0.02)
    r = await train
    assert r.status_code == 200 and r.json()["steps_done"] == 80_000
    record_property("max_health_latency_s", max(health))
    record_property("max_other_session_latency_s", max(other))
    print(
        f"\nduring an 80k-step train: {len(health)} health calls, max latency {max(health) * 1000:.1f} ms; "
        f"another session's GET max {max(other) * 1000:.1f} ms"
    )
    assert len(health) >= 3  # answered while the train call was running
    assert max(health) < 2.0 and max(other) < 2.0


async def test_one_client_runs_one_heavy_call_at_a_time(client):
    config = {"dataset": {"name": "circle", "samples": 200}, "optimizer": "adam"}
    _, headers, url = await create(client, **config)
    a, b = await asyncio.gather(
        client.post(url + "/train", headers=headers, json={"steps": 3000}),
        client.post(url + "/train", headers=headers, json={"steps": 5000}),
    )
    done, refused = sorted((a, b), key=lambda r: r.status_code)
    assert (done.status_code, refused.status_code) == (200, 429)
    assert "already running a heavy call" in refused.json()["detail"]
    first = done.json()
    assert first["step"] == first["steps_done"]  # the refused call changed nothing
    steps = 8000 - first["steps_done"]
    r = await client.post(url + "/train", headers=headers, json={"steps": steps})  # the first has answered
    assert r.status_code == 200
    second = r.json()
    assert second["step"] == 8000
    assert all(h["step"] > first["step"] for h in second["history"])

    _, fresh_headers, fresh_url = await create(client, **config)
    alone = (await client.post(fresh_url + "/train", headers=fresh_headers, json={"steps": 8000})).json()
    assert second["weights"] == alone["weights"] and second["metrics"] == alone["metrics"]


async def test_many_clients_at_once(client):
    app = client.app  # type: ignore[attr-defined]
    students = [
        httpx.AsyncClient(  # each its own cookie jar and tag: six clients
            transport=httpx.ASGITransport(app=app, client=("10.0.0.1", 5000 + i)),
            base_url="http://testserver",
            headers={"X-BPP-Client": f"student{i}"},
        )
        for i in range(6)
    ]
    sessions = [await create(http, dataset={"name": "xor", "samples": 40}) for http in students]
    results = await asyncio.gather(
        *[
            http.post(url + "/train", headers=h, json={"steps": 300})
            for http, (_, h, url) in zip(students, sessions, strict=True)
        ],
        *[client.get(url, headers=h) for _, h, url in sessions],
    )
    for http in students:
        await http.aclose()
    assert all(r.status_code == 200 for r in results)
    assert [r.json()["step"] for r in results[:6]] == [300] * 6
