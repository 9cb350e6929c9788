"""The derivation lesson's numbers against the engine: every line the lesson derives from a sample's trace
(static/js/lesson/derive.js, run in node) equals the engine's value (POST …/backprop at the same weights and
sample), each central difference the server's gradient check, the update the engine's own step, and the
symmetry demonstration the engine's pass at equal weights — for network N on the network_n data (linear
outputs, squared error) and for a classification variant (softmax + cross-entropy on one-hot targets)."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.engine import TrainConfig, Trainer, make_dataset
from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LESSON = {"dataset": {"name": "network_n", "samples": 200, "noise": 0.05}, "hidden": [3], "activation": "sigmoid"}
SAMPLES = [0, 7, 42]


def run_lesson(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node is not None, "node is not installed (.ci/run installs Debian's nodejs)"
    out = subprocess.run(
        [node, "tests/js/lesson_engine.mjs"],
        input=json.dumps(cases),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return abs(a - b) <= tol * (1 + abs(b))


def lesson_cases(client: TestClient, config: dict[str, Any], y_of: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    s = client.post("/api/sessions", json=config).json()
    h = {"Authorization": f"Bearer {s['token']}"}
    base = f"/api/sessions/{s['id']}"
    client.post(f"{base}/train", json={"steps": 30}, headers=h).raise_for_status()  # not the first weights
    weights = client.get(f"{base}/weights", headers=h).json()["weights"]
    cases = []
    for i in SAMPLES:
        trace = client.post(f"{base}/backprop", json={"samples": [i]}, headers=h).json()
        cfg = s["config"]
        cases.append(
            {
                "trace": trace,
                "weights": weights,
                "y": y_of(i),
                "config": cfg,
                "index": i,
                "alpha": cfg["learning_rate"],
                "constant": 0.4,
            }
        )
    return cases, {"session": s, "headers": h, "base": base}


@pytest.mark.parametrize("variant", ["regression", "classification"])
def test_every_lesson_number_equals_the_engines(variant: str) -> None:
    if variant == "regression":
        config = LESSON
        ds = make_dataset("network_n", samples=200, noise=0.05)
        y_of = lambda i: ds.y_train[i].tolist()  # noqa: E731
    else:
        rng = np.random.default_rng(5)
        x = rng.uniform(-2, 2, (80, 3))
        labels = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
        y = np.eye(2)[labels]
        config = {
            "dataset": {"name": "custom", "x": x.tolist(), "y": y.tolist()},
            "hidden": [3],
            "activation": "sigmoid",
            "output_activation": "softmax",
            "loss": "cross_entropy",
            "regularization": "l2",
            "reg_rate": 0.1,
        }
        y_of = lambda i: y[i].tolist()  # noqa: E731
    with TestClient(create_app(Settings(db=""))) as client:
        cases, ctx = lesson_cases(client, config, y_of)
        h, base = ctx["headers"], ctx["base"]
        results = run_lesson(cases)
        for case, res in zip(cases, results, strict=True):
            i = case["index"]
            names = {r["name"] for r in res["rows"]}
            assert {"z2_1", "a3_2", "J", "delta3_1", "delta2_2", "D2_11", "D1_22", "delta2_2(paths)"} <= names
            for row in res["rows"]:
                assert close(row["value"], row["engine"]), (i, row)
            # the engine's own values, read here from its trace (not through the lesson)
            layers = {layer["layer"]: layer for layer in case["trace"]["layers"]}
            rows = {r["name"]: r["value"] for r in res["rows"]}
            assert close(rows["D1_22"], case["trace"]["gradients"][0][1][2])
            assert close(rows["D2_11"], case["trace"]["gradients"][1][0][1])
            assert close(rows["delta2_2(paths)"], layers[2]["delta"][0][1])
            assert close(rows["J"], case["trace"]["cost"]["total"])
            assert close(
                sum(res["paths"]), rows["delta2_2(paths)"] / (layers[2]["a"][0][1] * (1 - layers[2]["a"][0][1]))
            )
            # the numerical check beside each value: the server's central differences
            gc = client.post(f"{base}/gradcheck", json={"samples": [i]}, headers=h).json()
            for layer, ours in zip(gc["layers"], res["numerical"], strict=True):
                assert np.allclose(ours, layer["numerical"], rtol=1e-6, atol=1e-9)
                assert np.allclose(ours, layer["analytic"], rtol=1e-6, atol=1e-8)
            assert res["counts"] == {"chain": 68, "stored": 29, "weights": 20, "paths": [2, 1]}


def test_lesson_update_and_symmetry_equal_the_engines_step() -> None:
    ds = make_dataset("network_n", samples=200, noise=0.05)
    with TestClient(create_app(Settings(db=""))) as client:
        cases, _ctx = lesson_cases(client, LESSON, lambda i: ds.y_train[i].tolist())
        res = run_lesson(cases)
    cfg = TrainConfig(hidden=(3,), activation="sigmoid", output_activation="linear", loss="mse", learning_rate=0.03)
    for case, r in zip(cases, res, strict=True):
        tr = Trainer(ds, cfg)
        tr.set_weights([np.array(w) for w in case["weights"]])
        tr.step_on([case["index"]])
        assert close(r["update"]["after"], float(tr.weights()[0][1, 2]))  # one sgd step on this sample alone
        # all weights equal: the engine's pass gives equal a and δ in the hidden layer, equal rows after
        tr.set_weights([np.full_like(np.array(w), case["constant"]) for w in case["weights"]])
        trace = tr.trace_samples([case["index"]])
        (hidden,) = r["symmetry"]
        assert np.allclose(hidden["a"], trace.a[1][0], rtol=1e-12) and np.allclose(
            hidden["delta"], trace.delta[1][0], rtol=1e-12
        )
        tr.step_on([case["index"]])
        after = tr.weights()[0]
        assert hidden["same"] and np.allclose(after, after[0]), "the engine's rows stay equal too"
        assert np.allclose(hidden["rowsAfter"], after, rtol=1e-12)


def test_custom_data_with_several_output_columns_learns_as_regression() -> None:
    """REST custom data with two target columns: regression with linear outputs and squared error by default;
    network N learns it, and its gradient passes the check."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (120, 3))
    y = np.column_stack([np.tanh(x[:, 0] - x[:, 1]), 0.5 * x[:, 2] + 0.2 * x[:, 0]])
    config = {"dataset": {"name": "custom", "x": x.tolist(), "y": y.tolist()}, "hidden": [3], "activation": "sigmoid"}
    with TestClient(create_app(Settings(db=""))) as client:
        s = client.post("/api/sessions", json=config).json()
        assert (s["task"], s["layer_sizes"]) == ("regression", [3, 3, 2])
        assert (s["config"]["output_activation"], s["config"]["loss"]) == ("linear", "mse")
        h = {"Authorization": f"Bearer {s['token']}"}
        base = f"/api/sessions/{s['id']}"
        first = s["metrics"]["train_loss"]
        client.post(f"{base}/train", json={"epochs": 200}, headers=h).raise_for_status()
        last = client.get(base, headers=h).json()["metrics"]["train_loss"]
        assert last < 0.1 * first, (first, last)
        gc = client.post(f"{base}/gradcheck", json={"samples": [0, 1, 2]}, headers=h).json()
        assert gc["max_relative_error"] < 1e-6
