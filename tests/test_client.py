"""The Python client (app/client.py) against a real server on loopback (the ``live_server`` fixture)."""

import threading
import time

import httpx
import numpy as np
import pytest

from app.client import Client, PlaygroundError, RemoteSession


@pytest.fixture
def pg(live_server):
    with Client(live_server.url, timeout=30.0) as client:
        yield client


def test_a_complete_scripted_run(pg):
    assert pg.health()["status"] == "ok"
    assert {d["name"] for d in pg.datasets()} >= {"circle", "xor", "blobs", "sine"}

    run = pg.create_session({"dataset": {"name": "xor", "samples": 120}}, hidden=[6], learning_rate=0.1)
    assert isinstance(run, RemoteSession) and run.id and run.token
    assert run.state["step"] == 0 and run.state["layer_sizes"] == [2, 6, 1] and "token" not in run.state
    start = run.state["metrics"]["train_loss"]

    result = run.train(epochs=10)
    assert result["steps_done"] == 60 and result["stopped_early"] is False and len(result["history"]) == 10
    assert run.state["step"] == 60 and "history" not in run.state
    assert result["metrics"]["train_loss"] < start
    run.train(steps=7)
    assert run.get()["step"] == 67

    trace = run.backprop(samples=[0, 1, 2])
    assert trace["m"] == 3 and [len(layer["a"]) for layer in trace["layers"]] == [3, 3, 3]
    x = np.array(run.export()["data"]["x"][:3])
    assert run.backprop(x=x, y=np.array([[0.0], [1.0], [1.0]]))["m"] == 3  # NumPy arrays are accepted
    assert run.backprop()["m"] == 60

    check = run.gradcheck(samples=[0, 1, 2, 3], epsilon=1e-6)
    assert check["epsilon"] == 1e-6 and check["max_relative_error"] < 1e-5

    weights = run.weights()
    assert [np.shape(w) for w in weights] == [(6, 3), (1, 7)]
    assert run.set_weights([np.array(w) * 0.5 for w in weights]) == [(np.array(w) * 0.5).tolist() for w in weights]
    assert run.get()["step"] == 67

    assert run.patch(learning_rate=0.05, optimizer="momentum")["config"]["optimizer"] == "momentum"
    run.train(steps=13)
    doc = run.export()
    copy = pg.import_session(doc)
    assert copy.id != run.id and copy.state["step"] == 80
    a, b = run.train(steps=100), copy.train(steps=100)
    assert a["weights"] == b["weights"] and a["metrics"] == b["metrics"]

    again = pg.open_session(copy.id, copy.token)
    assert again.state["weights"] == b["weights"]
    assert run.reset(seed=3)["config"]["seed"] == 3 and run.state["step"] == 0

    run.delete()
    copy.delete()
    with pytest.raises(PlaygroundError) as err:
        run.get()
    assert err.value.status == 404


def test_errors_carry_status_detail_and_field(pg):
    run = pg.create_session(dataset={"name": "xor", "samples": 20})
    with pytest.raises(PlaygroundError) as err:
        run.patch(learning_rate=-1)
    assert (err.value.status, err.value.field) == (422, "learning_rate")
    assert "learning_rate" in err.value.detail and "422" in str(err.value)

    with pytest.raises(PlaygroundError) as err:
        pg.create_session(output_activation="linear", loss="cross_entropy")
    assert (err.value.status, err.value.field) == (422, "loss") and "cross-entropy" in err.value.detail

    with pytest.raises(PlaygroundError) as err:
        run.set_weights([[[0.0]]])
    assert (err.value.status, err.value.field) == (422, "weights")

    with pytest.raises(PlaygroundError) as err:
        pg.open_session(run.id, "not-the-token")
    assert (err.value.status, err.value.field) == (403, None) and "token" in err.value.detail

    other = pg.create_session(dataset={"name": "xor", "samples": 20})
    with pytest.raises(PlaygroundError) as err:
        RemoteSession(pg, run.id, other.token).train(steps=1)
    assert err.value.status == 403
    assert run.get()["step"] == 0
    run.delete()
    other.delete()


def test_an_answer_that_is_not_json_still_raises_a_playground_error():
    transport = httpx.MockTransport(lambda request: httpx.Response(502, text="bad gateway"))
    with Client("http://example.invalid", transport=transport) as pg, pytest.raises(PlaygroundError) as err:
        pg.health()
    assert (err.value.status, err.value.detail, err.value.field) == (502, "bad gateway", None)


def test_health_answers_while_a_client_trains_on_the_real_server(live_server, pg, record_property):
    run = pg.create_session()
    training = threading.Event()  # set while a train call is in flight
    stop = threading.Event()
    results: list[dict] = []

    def train() -> None:  # train calls back to back until told to stop (however fast the engine is)
        with Client(live_server.url, timeout=60.0) as other:
            remote = RemoteSession(other, run.id, run.token)
            while not stop.is_set():
                training.set()
                results.append(remote.train(steps=20_000))
                training.clear()

    worker = threading.Thread(target=train)
    worker.start()
    latencies: list[float] = []
    try:
        deadline = time.monotonic() + 60
        while len(latencies) < 5 and time.monotonic() < deadline:
            if not training.wait(1.0):
                continue
            t0 = time.perf_counter()
            assert pg.health()["status"] == "ok"
            latency = time.perf_counter() - t0
            if training.is_set():  # a train call was running from before this health call to after it
                latencies.append(latency)
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join()
    assert results and all(r["steps_done"] == 20_000 for r in results)
    record_property("max_live_health_latency_s", max(latencies))
    print(f"\nreal server, back-to-back trains: {len(latencies)} health calls, max {max(latencies) * 1000:.1f} ms")
    assert len(latencies) == 5 and max(latencies) < 2.0
    run.delete()
