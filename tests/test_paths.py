"""The two engine paths (app/engine/paths.py): the compiled kernels against the NumPy reference, to 1e-12
relative, over every activation, output/loss pair, regularizer, optimizer and init; divergence, determinism
and export → import on the compiled path; the choice of path and the warm-up."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
from helpers import ROOT

from app.engine import HIDDEN_ACTIVATIONS, INITS, EngineError, TrainConfig, Trainer, custom_dataset, paths

RTOL = 1e-12
# (output activation, loss, targets): every pair the engine accepts, with targets it accepts
OUTPUT_PAIRS = [
    ("linear", "mse", "regression"),
    ("sigmoid", "mse", "classification"),
    ("tanh", "mse", "regression"),
    ("sigmoid", "cross_entropy", "classification"),
    ("softmax", "cross_entropy", "multiclass"),
]
OPTIMIZERS = ["sgd", "momentum", "adam"]
REGULARIZATIONS = [("none", 0.0), ("l1", 0.05), ("l2", 0.05)]


def dataset(task: str, n: int = 47, seed: int = 0):
    """n samples of 2 inputs (a short last batch at batch size 10), targets the task accepts."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, 2))
    if task == "regression":
        y = np.column_stack([np.sin(2 * x[:, 0]) * 0.8, x[:, 0] * x[:, 1]])
    elif task == "classification":
        y = (x[:, :1] * x[:, 1:] > 0).astype(float)
    else:
        y = np.eye(3)[(np.arctan2(x[:, 1], x[:, 0]) > 0).astype(int) + (x[:, 0] > 0.5)]
    return custom_dataset(x, y, x[:9], y[:9], task=task)


def pair(engine_config: TrainConfig, task: str, n: int = 47) -> tuple[Trainer, Trainer]:
    """The same run on the NumPy reference and on the compiled kernels."""
    data = dataset(task, n)
    return Trainer(data, engine_config, engine="numpy"), Trainer(data, engine_config, engine="numba")


def close(a, b, what: str) -> None:
    """Equal to 1e-12 relative to the array's scale (a sum's last bits depend on its order)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(float(np.abs(a).max(initial=0.0)), 1e-300)
    np.testing.assert_allclose(b, a, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def same_run(ref: Trainer, fast: Trainer) -> None:
    """Counters, weights, optimizer state, gradient norms and the metric history agree."""
    assert (fast.step_count, fast.epoch, fast.offset) == (ref.step_count, ref.epoch, ref.offset)
    for i, (a, b) in enumerate(zip(ref.weights(), fast.weights(), strict=True)):
        close(a, b, f"Θ^({i + 1})")
    for key, value in ref.optimizer.state().items():
        close(value, fast.optimizer.state()[key], f"optimizer {key}")
    close(ref.grad_norms, fast.grad_norms, "‖D‖")
    assert len(ref.history) == len(fast.history)
    for a, b in zip(ref.history, fast.history, strict=True):
        assert (a.step, a.epoch) == (b.step, b.epoch)
        close([a.train_loss, a.test_loss, a.regularization], [b.train_loss, b.test_loss, b.regularization], "J")
        assert (a.train_accuracy, a.test_accuracy) == (b.train_accuracy, b.test_accuracy)


def same_record(a, b) -> None:
    """Two StepRecords: the trace (z, a, δ per layer, D, the cost split), ΔΘ and the norms agree."""
    assert (a.step, a.epoch) == (b.step, b.epoch)
    np.testing.assert_array_equal(a.indices, b.indices)
    ta, tb = a.trace, b.trace
    for name in ("z", "a", "delta"):
        for layer, (u, v) in enumerate(zip(getattr(ta, name), getattr(tb, name), strict=True)):
            assert (u is None) == (v is None)
            if u is not None:
                close(u, v, f"{name}^({layer + 1})")
    for layer, (u, v) in enumerate(zip(ta.grads, tb.grads, strict=True)):
        close(u, v, f"D^({layer + 1})")
    for layer, (u, v) in enumerate(zip(a.update, b.update, strict=True)):
        close(u, v, f"ΔΘ^({layer + 1})")
    close([ta.cost_data, ta.cost_regularization], [tb.cost_data, tb.cost_regularization], "cost split")
    close(a.grad_norms, b.grad_norms, "‖D‖")


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize(("reg", "rate"), REGULARIZATIONS, ids=[r for r, _ in REGULARIZATIONS])
@pytest.mark.parametrize(("out_act", "loss", "task"), OUTPUT_PAIRS, ids=[f"{o}+{loss}" for o, loss, _ in OUTPUT_PAIRS])
@pytest.mark.parametrize("hidden_act", HIDDEN_ACTIVATIONS)
def test_compiled_runs_equal_the_reference(hidden_act, out_act, loss, task, reg, rate, optimizer):
    cfg = TrainConfig(
        hidden=(5, 3),
        activation=hidden_act,
        output_activation=out_act,
        loss=loss,
        optimizer=optimizer,
        regularization=reg,
        reg_rate=rate,
        learning_rate=0.01 if optimizer == "adam" else 0.1,
        batch_size=10,
        seed=3,
    )
    ref, fast = pair(cfg, task)
    assert (ref.engine_path, fast.engine_path) == ("numpy", "numba")
    # many steps in one call across epoch ends (short last batches), then recorded steps one by one
    assert ref.run(steps=13) == fast.run(steps=13) == 13
    same_run(ref, fast)
    for _ in range(3):
        same_record(ref.step(record=True), fast.step(record=True))
    same_record(ref.step_on([4, 0, 4]), fast.step_on([4, 0, 4]))
    assert ref.step(batch_size=1) is None and fast.step(batch_size=1) is None
    same_run(ref, fast)
    for x in (ref.x_train[:7], ref.x_train[:1]):
        close(ref.network.predict(x), fast.network.predict(x), "h(x)")
    close(ref.trace_samples([1, 2]).grads[0], fast.trace_samples([1, 2]).grads[0], "trace D")


@pytest.mark.parametrize("init", INITS)
def test_every_init_trains_alike_on_both_paths(init):
    ref, fast = pair(TrainConfig(hidden=(4, 4), init=init, init_scale=0.3, batch_size=7), "classification")
    assert ref.run(epochs=3) == fast.run(epochs=3)
    same_run(ref, fast)


@pytest.mark.parametrize("batch_size", [1, 10, 47, 100])
def test_batch_sizes_from_one_sample_to_more_than_the_set(batch_size):
    ref, fast = pair(TrainConfig(hidden=(6,), batch_size=batch_size, optimizer="momentum"), "regression")
    ref.run(steps=11)
    fast.run(steps=11)
    same_run(ref, fast)


def test_metrics_agree_when_the_test_set_is_as_large_as_a_batch_and_the_last_batch_is_short():
    # the test set's metrics and the compiled steps share one cached workspace (batch size 9 = 9 test samples);
    # a short last batch (47 = 5·9 + 2) used to leave that buffer in another layout, and the test loss was wrong
    ref, fast = pair(TrainConfig(hidden=(4, 3), batch_size=9), "classification")
    ref.run(epochs=3)
    fast.run(epochs=3)
    same_run(ref, fast)


def test_a_time_boxed_run_stops_at_its_deadline_and_resumes_on_schedule():
    ref, fast = pair(TrainConfig(hidden=(8, 8)), "classification", n=300)
    # a deadline already passed: the NumPy path stops after a step, the compiled one after its first 8
    assert ref.run(steps=10**6, deadline=0.0) >= 1
    assert fast.run(steps=10**6, deadline=0.0) == 8
    ref.run(steps=8 - ref.step_count)
    same_run(ref, fast)
    assert fast.run(steps=3, deadline=0.0) == 3  # fewer asked: all of them
    ref.run(steps=3)
    same_run(ref, fast)
    assert fast.run(epochs=2) == ref.run(epochs=2)
    same_run(ref, fast)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_divergence_is_caught_before_the_update_at_the_same_step_on_both_paths(optimizer):
    lr = 1e200 if optimizer == "adam" else 1e6  # adam's steps are about α long whatever D is
    cfg = TrainConfig(hidden=(8, 8), activation="relu", learning_rate=lr, optimizer=optimizer, init="he")
    ref, fast = pair(cfg, "regression")
    ref.run(steps=200)
    fast.run(steps=200)
    assert ref.diverged and fast.diverged
    assert fast.divergence == ref.divergence
    same_run(ref, fast)
    assert np.isfinite(fast.network.theta_flat).all()
    assert fast.run(steps=5) == 0 and fast.step() is None


def test_same_seed_same_run_bit_for_bit_and_export_import_continues_bit_for_bit_on_the_compiled_path():
    data = dataset("classification", 120)
    cfg = TrainConfig(hidden=(8, 8, 8), optimizer="adam", regularization="l2", reg_rate=0.01, seed=5)
    a, b = Trainer(data, cfg, engine="numba"), Trainer(data, cfg, engine="numba")
    a.run(steps=37)
    b.run(steps=20)
    b.step(record=True)
    b.run(steps=16)
    np.testing.assert_array_equal(a.network.theta_flat, b.network.theta_flat)
    state = json.loads(json.dumps(a.state()))  # through JSON, as an export goes
    c = Trainer(data, cfg, engine="numba")
    c.load_state(state)
    a.run(steps=45)
    c.run(steps=45)
    np.testing.assert_array_equal(a.network.theta_flat, c.network.theta_flat)
    np.testing.assert_array_equal(a.optimizer.m, c.optimizer.m)  # type: ignore[attr-defined]
    assert [m.as_dict() for m in a.history] == [m.as_dict() for m in c.history]


def test_the_kernels_that_release_the_gil_compute_bit_for_bit_what_those_that_hold_it_do(monkeypatch):
    kernels = paths.load()
    calls: dict[str, int] = {}

    def counted(name: str) -> Any:
        kernel = getattr(kernels, name)

        def call(*args: Any) -> Any:
            calls[name] = calls.get(name, 0) + 1
            return kernel(*args)

        return call

    for name in ("run", "run_released", "metrics", "metrics_released"):
        monkeypatch.setattr(kernels, name, counted(name))
    data = dataset("multiclass", 120)
    cfg = TrainConfig(hidden=(8, 8), optimizer="adam", regularization="l2", reg_rate=0.01, seed=3)
    runs = []
    for work, suffix in ((0, "_released"), (10**18, "")):  # every call releases the GIL, then none does
        monkeypatch.setattr(paths, "RELEASE_WORK", work)
        calls.clear()
        tr = Trainer(data, cfg, engine="numba")
        tr.run(epochs=3)  # kernels.run, its epoch ends' metrics inside it
        for _ in range(15):  # compiled steps, one of them ending an epoch: kernels.metrics, called by the trainer
            tr.step()
        assert calls == {f"run{suffix}": 1, f"metrics{suffix}": 2}
        runs.append((tr.network.theta_flat.copy(), tr.optimizer.m.copy(), [m.as_dict() for m in tr.history]))  # type: ignore[attr-defined]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]


def test_the_kernels_tanh_is_within_2_ulp_of_numpys_with_its_special_values():
    kernels = paths.load()
    rng = np.random.default_rng(5)
    x = np.concatenate(
        [
            rng.normal(0.0, 3.0, 200_000),
            rng.uniform(-25.0, 25.0, 100_000),
            rng.uniform(-1e-3, 1e-3, 10_000),
            np.linspace(0.62, 0.63, 10_001),  # around the switch between its two formulas
            [0.0, -0.0, 5e-324, -5e-324, 1e-300, 19.0, 19.1, 20.0, 700.0, 1e308, -1e308, np.inf, -np.inf, np.nan],
        ]
    )
    buf = np.concatenate([x, np.empty_like(x)])  # z, then a: one row of x.size samples
    kernels.activate(kernels.TANH, buf, 0, x.size, 1, x.size)  # the vectorized loop the forward pass runs
    out = buf[x.size :]
    np.testing.assert_array_equal([kernels.tanh(v) for v in x[-300:]], out[-300:])  # the scalar function alike
    expected = np.tanh(x)
    finite = np.isfinite(expected)
    ulps = np.abs(out[finite] - expected[finite]) / np.spacing(np.abs(expected[finite]))
    assert ulps.max() <= 2.0
    assert np.isnan(out[~finite]).all()
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))  # −0 stays −0
    assert (np.abs(out[np.abs(x) >= 20.0]) == 1.0).all()


def test_the_kernels_draw_each_epochs_order_exactly_as_numpy_does():
    kernels = paths.load()
    rng = np.random.default_rng(9)
    seeds = [0, 1, 7, 2**31, 2**32 - 1, 2**32, 2**40 + 5, *rng.integers(0, 2**62, 40).tolist()]
    epochs = [0, 1, 2, 99, 2**32 - 1, 2**32, 2**33 + 3, *rng.integers(0, 10**6, 10).tolist()]
    for seed in seeds:
        for epoch in epochs:
            for n in (1, 2, 3, 10, 47, 500, int(rng.integers(1, 3000))):
                out = np.empty(n, dtype=np.int64)
                kernels.permutation(kernels.entropy_words(seed), epoch, out)
                np.testing.assert_array_equal(out, np.random.default_rng([seed, epoch]).permutation(n))


def test_auto_takes_the_kernels_for_small_passes_and_numpy_for_large_ones():
    assert paths.ready()  # the test session loaded them (tests/conftest.py)
    small = Trainer(dataset("classification"), TrainConfig(hidden=(8, 8, 8), batch_size=10))
    big = Trainer(dataset("classification"), TrainConfig(hidden=(64,) * 8, batch_size=10))
    assert small.engine_path == "numba" and big.engine_path == "numpy"
    assert small.network.path(10_000) == "numpy"  # a pass over a big set goes to BLAS
    paths.set_policy("numpy")
    try:
        assert small.engine_path == "numpy"
    finally:
        paths.set_policy("auto")
    with pytest.raises(EngineError) as err:
        paths.set_policy("fast")
    assert err.value.field == "engine"
    with pytest.raises(EngineError):
        Trainer(dataset("classification"), TrainConfig(), engine="gpu")


def test_reconfigure_keeps_the_engine():
    data = dataset("classification")
    t = Trainer(data, TrainConfig(hidden=(4,)), engine="numpy")
    t.reconfigure(learning_rate=0.5)
    assert t.network.engine == "numpy"
    t.reconfigure(hidden=(3, 3))
    assert t.engine == t.network.engine == "numpy" and t.engine_path == "numpy"


def run_python(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_new_process_runs_numpy_until_the_background_warm_up_has_loaded_the_kernels():
    result = run_python(
        """
        import json, threading
        from app.engine import Trainer, TrainConfig, make_dataset, paths
        t = Trainer(make_dataset("circle", 100), TrainConfig(hidden=(4, 2)))
        before = t.engine_path
        t.run(steps=3)  # a first step never waits for a compiler
        thread = paths.warm_up()
        same = paths.warm_up() is thread  # once per process
        name = thread.name
        thread.join()
        t.run(steps=3)
        print(json.dumps({"before": before, "after": t.engine_path, "same": same, "name": name,
                          "ready": paths.status()["ready"], "main": threading.current_thread() is not thread}))
        """
    )
    assert result == {
        "before": "numpy",
        "after": "numba",
        "same": True,
        "name": "engine-warm-up",
        "ready": True,
        "main": True,
    }


def test_without_numba_the_engine_falls_back_to_numpy_and_says_why():
    result = run_python(
        """
        import json, sys
        sys.modules["numba"] = None  # as on a platform without Numba: importing it fails
        from app.engine import EngineError, Trainer, TrainConfig, make_dataset, paths
        paths.warm_up().join()
        t = Trainer(make_dataset("circle", 100), TrainConfig(hidden=(4, 2)))
        t.run(steps=30)
        try:
            Trainer(make_dataset("circle", 100), TrainConfig(), engine="numba").run(steps=1)
            refused = None
        except EngineError as err:
            refused = err.field
        print(json.dumps({"path": t.engine_path, "steps": t.step_count, "status": paths.status(), "refused": refused}))
        """
    )
    assert result["path"] == "numpy" and result["steps"] == 30 and result["refused"] == "engine"
    assert result["status"]["ready"] is False and "numba" in result["status"]["error"]


async def test_the_session_state_and_health_say_which_path_runs(client):
    r = await client.get("/api/health")
    assert r.json()["engine"]["ready"] is True and r.json()["engine"]["policy"] == "auto"
    small = await client.post("/api/sessions", json={"dataset": {"name": "circle", "samples": 100}})
    big = await client.post("/api/sessions", json={"dataset": {"name": "circle", "samples": 100}, "hidden": [64] * 8})
    assert small.json()["engine_path"] == "numba" and big.json()["engine_path"] == "numpy"
