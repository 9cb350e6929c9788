"""The REST contract of docs/api.md, call by call, through the in-process app (the ``client`` fixture)."""

import math

import numpy as np
import pytest

from app.schemas import SessionConfig
from app.sessions import build_trainer
from app.settings import Settings

BUILTINS = {
    "circle": ("classification", 2, 1),
    "xor": ("classification", 2, 1),
    "gauss": ("classification", 2, 1),
    "spiral": ("classification", 2, 1),
    "moons": ("classification", 2, 1),
    "plane": ("regression", 2, 1),
    "multi_gauss": ("regression", 2, 1),
    "sine": ("regression", 1, 1),
    "blobs": ("multiclass", 2, 3),
    "network_n": ("regression", 3, 2),
}
STATE_KEYS = {
    "id",
    "config",
    "task",
    "layer_sizes",
    "n_train",
    "n_test",
    "step",
    "epoch",
    "engine_path",
    "worker",
    "status",
    "divergence",
    "steps_per_frame",
    "probe",
    "metrics",
    "weights",
}
METRIC_KEYS = {
    "step",
    "epoch",
    "train_loss",
    "test_loss",
    "regularization",
    "train_accuracy",
    "test_accuracy",
    "grad_norms",
}


async def create(client, **config):
    """A new session: (its state as created, the auth headers, its URL)."""
    r = await client.post("/api/sessions", json=config)
    assert r.status_code == 201, r.text
    out = r.json()
    return out, {"Authorization": f"Bearer {out['token']}"}, f"/api/sessions/{out['id']}"


async def call(client, method, url, headers, body=None, status=200):
    """One call that must answer ``status``; its JSON."""
    r = await client.request(method, url, headers=headers, json=body)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def shape(rows):
    """The shape of a JSON matrix."""
    return (len(rows), len(rows[0]) if rows else 0)


def weight_shapes(sizes):
    """Θ^(l) is S_{l+1} × (1 + S_l)."""
    return [(sizes[i + 1], 1 + sizes[i]) for i in range(len(sizes) - 1)]


# -- meta ---------------------------------------------------------------------------------------------------


async def test_health(client):
    r = await client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and isinstance(body["version"], str) and body["version"]


async def test_datasets_lists_every_builtin_with_task_inputs_outputs(client):
    r = await client.get("/api/datasets")
    assert r.status_code == 200
    listed = {d["name"]: (d["task"], d["inputs"], d["outputs"]) for d in r.json()}
    for name, info in BUILTINS.items():
        assert listed[name] == info, name
    assert all(isinstance(d["description"], str) for d in r.json())


# -- create and read ----------------------------------------------------------------------------------------


async def test_create_with_no_body_uses_the_classroom_defaults(client):
    r = await client.post("/api/sessions")
    assert r.status_code == 201, r.text
    s = r.json()
    assert isinstance(s["id"], str) and isinstance(s["token"], str) and len(s["token"]) >= 16
    cfg = s["config"]
    assert (cfg["dataset"]["name"], cfg["dataset"]["samples"], cfg["dataset"]["train_fraction"]) == ("circle", 500, 0.5)
    assert cfg["dataset"]["noise"] == 0.0 and cfg["dataset"]["seed"] == 0
    assert (s["n_train"], s["n_test"]) == (250, 250)
    assert cfg["hidden"] == [4, 2] and cfg["activation"] == "tanh"
    assert (cfg["output_activation"], cfg["loss"]) == ("sigmoid", "cross_entropy")
    assert cfg["features"] == ["x1", "x2"]
    assert (cfg["learning_rate"], cfg["batch_size"], cfg["optimizer"], cfg["momentum"]) == (0.03, 10, "sgd", 0.9)
    assert (cfg["regularization"], cfg["reg_rate"], cfg["init"], cfg["init_scale"], cfg["seed"]) == (
        "none",
        0.0,
        "xavier",
        0.12,
        0,
    )
    assert s["task"] == "classification" and s["layer_sizes"] == [2, 4, 2, 1]
    assert (s["step"], s["epoch"], s["status"], s["divergence"]) == (0, 0, "paused", None)


async def test_create_with_an_empty_config_equals_no_body(client):
    a = (await client.post("/api/sessions")).json()
    b, _, _ = await create(client)
    assert a["config"] == b["config"] and a["weights"] == b["weights"]


@pytest.mark.parametrize(
    ("name", "task", "output", "loss", "sizes"),
    [
        ("xor", "classification", "sigmoid", "cross_entropy", [2, 4, 2, 1]),
        ("plane", "regression", "linear", "mse", [2, 4, 2, 1]),
        ("sine", "regression", "linear", "mse", [1, 4, 2, 1]),
        ("blobs", "multiclass", "softmax", "cross_entropy", [2, 4, 2, 3]),
    ],
)
async def test_create_output_and_loss_default_by_task(client, name, task, output, loss, sizes):
    s, _, _ = await create(client, dataset={"name": name, "samples": 100})
    assert s["task"] == task
    assert (s["config"]["output_activation"], s["config"]["loss"]) == (output, loss)
    assert s["layer_sizes"] == sizes
    assert [shape(w) for w in s["weights"]] == weight_shapes(sizes)


async def test_get_returns_the_state_without_the_token(client):
    created, headers, url = await create(client, dataset={"name": "xor", "samples": 60}, hidden=[3])
    s = await call(client, "GET", url, headers)
    assert set(s) == STATE_KEYS
    assert set(s["metrics"]) == METRIC_KEYS
    assert s == {k: v for k, v in created.items() if k != "token"}
    assert s["layer_sizes"] == [2, 3, 1]
    assert [shape(w) for w in s["weights"]] == weight_shapes(s["layer_sizes"])
    m = s["metrics"]
    assert (m["step"], m["epoch"]) == (0, 0)
    assert m["train_loss"] > 0 and m["test_loss"] > 0 and m["regularization"] == 0.0
    assert 0.0 <= m["train_accuracy"] <= 1.0 and 0.0 <= m["test_accuracy"] <= 1.0
    assert len(m["grad_norms"]) == len(s["weights"])


async def test_regression_has_no_accuracy(client):
    s, _, _ = await create(client, dataset={"name": "plane", "samples": 50})
    assert s["metrics"]["train_accuracy"] is None and s["metrics"]["test_accuracy"] is None


# -- train ----------------------------------------------------------------------------------------------------


async def test_train_steps_counts_steps_and_epochs(client):
    _, headers, url = await create(client)  # 250 training samples, batches of 10: 25 steps per epoch
    out = await call(client, "POST", url + "/train", headers, {"steps": 30})
    assert set(out) == STATE_KEYS | {"steps_done", "stopped_early", "history"}
    assert (out["step"], out["epoch"], out["steps_done"], out["stopped_early"]) == (30, 1, 30, False)
    assert [(h["step"], h["epoch"]) for h in out["history"]] == [(25, 1), (30, 1)]  # one per epoch + the latest
    assert out["history"][-1] == out["metrics"]
    again = await call(client, "GET", url, headers)
    assert (again["step"], again["epoch"]) == (30, 1)


async def test_train_epochs_finishes_the_current_epoch_first(client):
    _, headers, url = await create(client)
    out = await call(client, "POST", url + "/train", headers, {"epochs": 2})
    assert (out["step"], out["epoch"], out["steps_done"]) == (50, 2, 50)
    assert [h["step"] for h in out["history"]] == [25, 50]  # the latest is an epoch end: not repeated
    await call(client, "POST", url + "/train", headers, {"steps": 5})
    out = await call(client, "POST", url + "/train", headers, {"epochs": 1})
    assert (out["step"], out["epoch"], out["steps_done"]) == (75, 3, 20)
    assert [h["step"] for h in out["history"]] == [75]


async def test_train_last_smaller_batch_is_a_step_of_its_own(client):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 46})  # 23 training samples
    out = await call(client, "POST", url + "/train", headers, {"epochs": 1})
    assert (out["step"], out["epoch"]) == (3, 1)  # 10 + 10 + 3


async def test_train_reduces_the_loss_on_xor(client):
    s, headers, url = await create(
        client, dataset={"name": "xor", "samples": 200}, hidden=[8], learning_rate=0.1, optimizer="adam"
    )
    before = s["metrics"]["train_loss"]
    out = await call(client, "POST", url + "/train", headers, {"epochs": 40})
    losses = [h["train_loss"] for h in out["history"]]
    assert len(losses) == 40 and out["stopped_early"] is False
    assert losses[-1] < 0.5 * before
    assert losses[-1] < losses[0]
    assert out["metrics"]["train_accuracy"] > 0.9


# -- backprop -------------------------------------------------------------------------------------------------


def reference_trace(thetas, x, y):
    """docs/maths.md by hand for tanh hidden layers, a sigmoid output and cross-entropy: (zs, as, deltas, grads, J)."""
    m = len(x)
    a_s, z_s = [x], [None]
    for i, theta in enumerate(thetas):
        z = np.hstack([np.ones((m, 1)), a_s[-1]]) @ theta.T
        a = 1.0 / (1.0 + np.exp(-z)) if i == len(thetas) - 1 else np.tanh(z)
        z_s.append(z)
        a_s.append(a)
    h = a_s[-1]
    cost = -np.sum(y * np.log(h) + (1 - y) * np.log(1 - h)) / m
    deltas = [None] * len(a_s)
    deltas[-1] = h - y
    for layer in range(len(a_s) - 2, 0, -1):
        deltas[layer] = (deltas[layer + 1] @ thetas[layer][:, 1:]) * (1 - a_s[layer] ** 2)
    grads = [deltas[i + 1].T @ np.hstack([np.ones((m, 1)), a_s[i]]) / m for i in range(len(thetas))]
    return z_s, a_s, deltas, grads, cost


async def test_backprop_trace_has_the_shapes_of_the_spec(client):
    s, headers, url = await create(client, hidden=[3, 2])
    sizes = s["layer_sizes"]
    t = await call(client, "POST", url + "/backprop", headers, {"samples": [0, 3, 7, 11]})
    assert set(t) == {"m", "cost", "layers", "gradients"} and t["m"] == 4
    assert set(t["cost"]) == {"data", "regularization", "total"}
    assert math.isclose(t["cost"]["total"], t["cost"]["data"] + t["cost"]["regularization"])
    assert [layer["layer"] for layer in t["layers"]] == list(range(1, len(sizes) + 1))
    assert set(t["layers"][0]) == {"layer", "a"}
    assert shape(t["layers"][0]["a"]) == (4, sizes[0])
    for layer, size in zip(t["layers"][1:], sizes[1:], strict=True):
        assert set(layer) == {"layer", "z", "a", "delta"}
        for key in ("z", "a", "delta"):
            assert shape(layer[key]) == (4, size), (layer["layer"], key)  # rows per sample, no bias column
    assert [shape(g) for g in t["gradients"]] == weight_shapes(sizes)


async def test_backprop_values_follow_the_maths_and_equal_the_engine(client):
    config = {"dataset": {"name": "circle", "samples": 80, "noise": 0.2}, "hidden": [3, 2], "seed": 4}
    _, headers, url = await create(client, **config)
    await call(client, "POST", url + "/train", headers, {"steps": 7})
    weights = (await call(client, "GET", url + "/weights", headers))["weights"]
    data = (await call(client, "GET", url + "/export", headers))["data"]
    idx = [0, 5, 9, 17, 39]
    t = await call(client, "POST", url + "/backprop", headers, {"samples": idx})

    # the engine's own computation, from the same config and weights
    trainer = build_trainer(SessionConfig.model_validate(config), Settings(db=""))
    trainer.set_weights(weights)
    ref = trainer.trace_samples(idx)
    assert t["m"] == ref.m == len(idx)
    for i, layer in enumerate(t["layers"]):
        np.testing.assert_allclose(layer["a"], ref.a[i], rtol=0, atol=1e-12)
        if i:
            np.testing.assert_allclose(layer["z"], ref.z[i], rtol=0, atol=1e-12)
            np.testing.assert_allclose(layer["delta"], ref.delta[i], rtol=0, atol=1e-12)
    for g, r in zip(t["gradients"], ref.grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=0, atol=1e-12)
    assert abs(t["cost"]["data"] - ref.cost_data) < 1e-12

    # and docs/maths.md written out by hand
    x, y = np.array(data["x"])[idx], np.array(data["y"])[idx]
    zs, as_, deltas, grads, cost = reference_trace([np.array(w) for w in weights], x, y)
    for i, layer in enumerate(t["layers"]):
        np.testing.assert_allclose(layer["a"], as_[i], rtol=1e-9, atol=1e-12)
        if i:
            np.testing.assert_allclose(layer["z"], zs[i], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(layer["delta"], deltas[i], rtol=1e-9, atol=1e-12)
    for g, r in zip(t["gradients"], grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-12)
    assert math.isclose(t["cost"]["data"], cost, rel_tol=1e-9)


async def test_backprop_regularization_term_uses_the_subset_m(client):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 40}, regularization="l2", reg_rate=0.5)
    weights = (await call(client, "GET", url + "/weights", headers))["weights"]
    t = await call(client, "POST", url + "/backprop", headers, {"samples": [1, 2]})
    squares = sum(float(np.sum(np.array(w)[:, 1:] ** 2)) for w in weights)  # bias column not regularized
    assert math.isclose(t["cost"]["regularization"], 0.5 / (2 * 2) * squares, rel_tol=1e-12)
    plain = await call(client, "PATCH", url, headers, {"reg_rate": 0.0})
    assert plain["weights"] == weights
    t0 = await call(client, "POST", url + "/backprop", headers, {"samples": [1, 2]})
    for g, g0, w in zip(t["gradients"], t0["gradients"], weights, strict=True):
        expected = np.array(g0) + 0.5 / 2 * np.array(w) * np.array([0.0] + [1.0] * (len(w[0]) - 1))
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-15)  # D = Δ/m + (λ/m)Θ, bias excluded


async def test_backprop_raw_rows_apply_the_feature_transform(client):
    _, headers, url = await create(client, dataset={"name": "circle", "samples": 60}, features=["x1", "x1^2", "x1*x2"])
    data = (await call(client, "GET", url + "/export", headers))["data"]
    x, y = data["x"][:3], data["y"][:3]
    raw = await call(client, "POST", url + "/backprop", headers, {"x": x, "y": y})
    by_index = await call(client, "POST", url + "/backprop", headers, {"samples": [0, 1, 2]})
    assert raw == by_index
    x1, x2 = np.array(x)[:, 0], np.array(x)[:, 1]
    np.testing.assert_allclose(raw["layers"][0]["a"], np.column_stack([x1, x1**2, x1 * x2]), rtol=1e-15)
    flat = await call(client, "POST", url + "/backprop", headers, {"x": x, "y": [row[0] for row in y]})
    assert flat == raw  # one target per sample may be given as a flat list


async def test_backprop_with_no_body_traces_the_whole_training_set(client):
    s, headers, url = await create(client, dataset={"name": "gauss", "samples": 90, "train_fraction": 0.6})
    for body in (None, {}):
        t = await call(client, "POST", url + "/backprop", headers, body)
        assert t["m"] == s["n_train"] == 54
        assert all(len(layer["a"]) == 54 for layer in t["layers"])
        assert math.isclose(t["cost"]["data"], s["metrics"]["train_loss"], rel_tol=1e-12)


async def test_backprop_changes_nothing(client):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 40}, optimizer="adam")
    await call(client, "POST", url + "/train", headers, {"steps": 3})
    before = await call(client, "GET", url + "/export", headers)
    await call(client, "POST", url + "/backprop", headers, {"samples": [0, 1]})
    await call(client, "POST", url + "/gradcheck", headers, {})
    assert await call(client, "GET", url + "/export", headers) == before


# -- gradcheck ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        {"dataset": {"name": "circle", "samples": 60}, "hidden": [3, 2]},
        {"dataset": {"name": "blobs", "samples": 60}, "activation": "sigmoid", "regularization": "l2", "reg_rate": 0.3},
        {"dataset": {"name": "sine", "samples": 60}, "hidden": [5], "regularization": "l1", "reg_rate": 0.1},
    ],
)
async def test_gradcheck_agrees_with_the_analytic_gradient(client, config):
    s, headers, url = await create(client, **config)
    g = await call(client, "POST", url + "/gradcheck", headers, {"samples": [0, 1, 2, 3], "epsilon": 1e-6})
    assert g["epsilon"] == 1e-6
    assert g["max_relative_error"] < 1e-5
    assert [layer["layer"] for layer in g["layers"]] == list(range(1, len(s["weights"]) + 1))
    for layer, w in zip(g["layers"], s["weights"], strict=True):
        assert shape(layer["analytic"]) == shape(layer["numerical"]) == shape(w)
        assert layer["max_relative_error"] <= g["max_relative_error"]
    t = await call(client, "POST", url + "/backprop", headers, {"samples": [0, 1, 2, 3]})
    for layer, grad in zip(g["layers"], t["gradients"], strict=True):
        np.testing.assert_allclose(layer["analytic"], grad, rtol=0, atol=1e-15)


async def test_gradcheck_defaults_to_the_first_32_samples(client):
    _, headers, url = await create(client)
    g = await call(client, "POST", url + "/gradcheck", headers)
    assert g["epsilon"] == 1e-5 and g["m"] == 32 and g["max_relative_error"] < 1e-5


# -- weights --------------------------------------------------------------------------------------------------


async def test_get_weights_equals_the_state(client):
    s, headers, url = await create(client)
    assert await call(client, "GET", url + "/weights", headers) == {"weights": s["weights"]}


async def test_put_weights_replaces_them_and_keeps_the_counters(client):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 60})
    await call(client, "POST", url + "/train", headers, {"steps": 4})
    new = [
        (np.arange(np.prod(shape(w))).reshape(shape(w)) / 10.0 - 0.3).tolist()
        for w in (await call(client, "GET", url + "/weights", headers))["weights"]
    ]
    out = await call(client, "PUT", url + "/weights", headers, {"weights": new})
    assert out == {"weights": new}
    s = await call(client, "GET", url, headers)
    assert s["weights"] == new and s["step"] == 4


async def test_put_weights_checks_shapes_and_names_the_matrix(client):
    s, headers, url = await create(client)
    bad = [w for w in s["weights"]]
    bad[1] = [row[:-1] for row in bad[1]]
    r = await client.put(url + "/weights", headers=headers, json={"weights": bad})
    assert r.status_code == 422
    assert r.json()["field"] == "weights[1]" and "weights[1]" in r.json()["detail"]
    r = await client.put(url + "/weights", headers=headers, json={"weights": s["weights"][:2]})
    assert r.status_code == 422 and r.json()["field"] == "weights"


async def test_put_weights_resets_the_optimizer_state(client):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 60}, optimizer="momentum")
    await call(client, "POST", url + "/train", headers, {"steps": 5})
    doc = await call(client, "GET", url + "/export", headers)
    assert any(v != 0.0 for v in doc["state"]["optimizer_state"]["v"])
    await call(client, "PUT", url + "/weights", headers, {"weights": doc["state"]["weights"]})
    after = await call(client, "GET", url + "/export", headers)
    assert all(v == 0.0 for v in after["state"]["optimizer_state"]["v"])
    assert after["state"]["step"] == 5 and after["state"]["weights"] == doc["state"]["weights"]


# -- patch and reset ------------------------------------------------------------------------------------------


async def test_patch_hyperparameters_keeps_the_weights(client):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 60})
    before = await call(client, "POST", url + "/train", headers, {"steps": 10})
    changes = {
        "learning_rate": 0.2,
        "batch_size": 5,
        "optimizer": "adam",
        "regularization": "l2",
        "reg_rate": 0.01,
        "activation": "relu",
        "loss": "mse",
    }
    out = await call(client, "PATCH", url, headers, changes)
    assert out["weights"] == before["weights"]
    assert (out["step"], out["epoch"]) == (before["step"], before["epoch"])
    for key, value in changes.items():
        assert out["config"][key] == value, key
    assert await call(client, "GET", url, headers) == out
    trained = await call(client, "POST", url + "/train", headers, {"steps": 2})
    assert trained["step"] == 12


async def test_patch_per_layer_activations(client):
    _, headers, url = await create(client, hidden=[3, 3])
    out = await call(client, "PATCH", url, headers, {"activation": ["relu", "sigmoid"]})
    assert out["config"]["activation"] == ["relu", "sigmoid"]


async def test_patch_hidden_rebuilds_from_the_seed(client):
    _, headers, url = await create(client, seed=3)
    await call(client, "POST", url + "/train", headers, {"steps": 10})
    out = await call(client, "PATCH", url, headers, {"hidden": [3]})
    fresh, _, _ = await create(client, seed=3, hidden=[3])
    assert out["layer_sizes"] == [2, 3, 1] and out["config"]["hidden"] == [3]
    assert out["step"] == 0 and out["weights"] == fresh["weights"]


async def test_patch_dataset_rebuilds_the_data(client):
    _, headers, url = await create(client)
    out = await call(client, "PATCH", url, headers, {"dataset": {"name": "plane", "samples": 40}})
    assert out["task"] == "regression" and out["n_train"] == 20
    assert (out["config"]["output_activation"], out["config"]["loss"]) == ("linear", "mse")


async def test_reset_with_the_same_seed_gives_the_initial_weights(client):
    s, headers, url = await create(client, seed=5)
    await call(client, "POST", url + "/train", headers, {"steps": 20})
    out = await call(client, "POST", url + "/reset", headers)
    assert out["weights"] == s["weights"] and (out["step"], out["epoch"]) == (0, 0)


async def test_reset_with_a_seed_replays_a_fresh_run_bit_for_bit(client):
    _, headers, url = await create(client, seed=5, optimizer="momentum")
    await call(client, "POST", url + "/train", headers, {"steps": 20})
    out = await call(client, "POST", url + "/reset", headers, {"seed": 7})
    fresh, fresh_headers, fresh_url = await create(client, seed=7, optimizer="momentum")
    assert out["config"]["seed"] == 7 and out["weights"] == fresh["weights"]
    a = await call(client, "POST", url + "/train", headers, {"steps": 50})
    b = await call(client, "POST", fresh_url + "/train", fresh_headers, {"steps": 50})
    assert a["weights"] == b["weights"] and a["metrics"] == b["metrics"]


# -- export and import ----------------------------------------------------------------------------------------

CUSTOM = {
    "name": "custom",
    "x": [[i / 10, (i % 7) / 7, (i % 3) - 1.0] for i in range(30)],
    "y": [[math.sin(i / 4)] for i in range(30)],
    "x_test": [[i / 7, 0.5, 0.0] for i in range(6)],
    "y_test": [[0.1 * i] for i in range(6)],
}


@pytest.mark.parametrize(
    ("config", "first"),
    [
        ({"optimizer": "sgd"}, 37),
        ({"optimizer": "momentum", "momentum": 0.8, "regularization": "l1", "reg_rate": 0.01}, 37),
        ({"optimizer": "adam", "learning_rate": 0.01, "hidden": [5, 3], "activation": ["relu", "tanh"]}, 60),
        ({"dataset": {"name": "blobs", "samples": 120}, "optimizer": "adam", "batch_size": 7}, 13),
        ({"dataset": CUSTOM, "optimizer": "momentum", "batch_size": 4, "regularization": "l2", "reg_rate": 0.1}, 9),
    ],
    ids=["sgd", "momentum", "adam", "blobs-adam", "custom-with-test-split"],
)
async def test_export_then_import_continues_bit_for_bit(client, config, first):
    _, headers, url = await create(client, **config)
    await call(client, "POST", url + "/train", headers, {"steps": first})  # stops mid-epoch
    doc = await call(client, "GET", url + "/export", headers)
    assert {"format", "version", "config", "data", "state"} <= set(doc)
    r = await client.post("/api/sessions", json={"import": doc})
    assert r.status_code == 201, r.text
    imported = r.json()
    copy_headers, copy_url = {"Authorization": f"Bearer {imported['token']}"}, f"/api/sessions/{imported['id']}"
    original = await call(client, "GET", url, headers)
    keys = ("step", "epoch", "weights", "n_train", "n_test", "task", "status")
    assert {k: imported[k] for k in keys} == {k: original[k] for k in keys}
    assert imported["metrics"] == original["metrics"]  # grad_norms of the last step included
    a = await call(client, "POST", url + "/train", headers, {"steps": 100})
    b = await call(client, "POST", copy_url + "/train", copy_headers, {"steps": 100})
    assert a["weights"] == b["weights"]
    assert a["metrics"] == b["metrics"] and a["history"] == b["history"]
    assert (a["step"], a["epoch"]) == (b["step"], b["epoch"]) == (first + 100, a["epoch"])
    again = await call(client, "GET", copy_url + "/export", copy_headers)
    final = await call(client, "GET", url + "/export", headers)
    assert again["state"] == final["state"]


async def test_import_refuses_a_document_of_another_format(client):
    _, headers, url = await create(client, dataset={"name": "xor", "samples": 20})
    doc = await call(client, "GET", url + "/export", headers)
    r = await client.post("/api/sessions", json={"import": {**doc, "format": "something/else"}})
    assert r.status_code == 422 and r.json()["field"] == "import.format"
    r = await client.post("/api/sessions", json={"import": doc, "hidden": [2]})
    assert r.status_code == 422


# -- delete ---------------------------------------------------------------------------------------------------


async def test_delete_answers_204_then_the_session_is_gone(client):
    _, headers, url = await create(client)
    r = await client.delete(url, headers=headers)
    assert r.status_code == 204 and r.content == b""
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/train"), ("GET", "/weights")):
        r = await client.request(method, url + suffix, headers=headers, json={"steps": 1} if method == "POST" else None)
        assert r.status_code == 404, (method, suffix)


# -- custom data ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y", "task", "outputs", "output_activation"),
    [
        ([[0], [1], [1], [0]], "classification", 1, "sigmoid"),
        ([0, 1, 1, 0], "classification", 1, "sigmoid"),
        ([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], "multiclass", 3, "softmax"),
        ([[0.5], [-1.2], [3.0], [0.0]], "regression", 1, "linear"),
        ([[0.5, 1.0], [0.1, 0.2], [0.0, 0.0], [1.0, 1.0]], "regression", 2, "linear"),
    ],
    ids=["labels", "flat-labels", "one-hot", "real", "two-targets"],
)
async def test_custom_data_infers_the_task(client, y, task, outputs, output_activation):
    x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    s, headers, url = await create(client, dataset={"name": "custom", "x": x, "y": y}, hidden=[3])
    assert s["task"] == task and s["config"]["output_activation"] == output_activation
    assert s["layer_sizes"] == [2, 3, outputs]
    assert (s["n_train"], s["n_test"]) == (4, 0) and s["metrics"]["test_loss"] is None
    data = (await call(client, "GET", url + "/export", headers))["data"]
    assert data["x"] == x  # all training data, in the given order


async def test_custom_class_indices_become_one_hot_rows(client):
    x = [[float(i), float(i % 2)] for i in range(6)]
    s, headers, url = await create(
        client, dataset={"name": "custom", "x": x, "y": [0, 1, 2, 0, 1, 2], "task": "multiclass"}
    )
    assert s["task"] == "multiclass" and s["layer_sizes"][-1] == 3
    data = (await call(client, "GET", url + "/export", headers))["data"]
    assert data["y"][:3] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


async def test_custom_data_with_many_inputs_uses_the_raw_columns(client):
    s, _, _ = await create(client, dataset=CUSTOM, hidden=[2])
    assert s["task"] == "regression" and s["config"]["features"] == [] and s["layer_sizes"] == [3, 2, 1]
    assert (s["n_train"], s["n_test"]) == (30, 6)
