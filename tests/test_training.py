"""Training runs (app/engine/trainer.py, optimizers.py): update rules, the mini-batch schedule, determinism,
state round trips, the symmetry lesson, learning the toy datasets, divergence and refused input."""

import json
import warnings
from dataclasses import replace

import numpy as np
import pytest

from app.engine import EngineError, TrainConfig, Trainer, custom_dataset, make_dataset

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8  # docs/maths.md, PyTorch's defaults


def labelled(n=25, seed=0):
    """n samples of 2-D points with 0/1 labels, all training data, in the given order."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n, 2))
    return custom_dataset(x, (x[:, 0] * x[:, 1] > 0).astype(float).reshape(-1, 1))


def flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


# -- the update rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("reg", "rate"), [("none", 0.0), ("l2", 0.3), ("l1", 0.3)])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_optimizer_updates_equal_the_spec_formulas_step_by_step(optimizer, reg, rate):
    ds = labelled()
    lr, mu = 0.05, 0.8
    cfg = TrainConfig(
        hidden=(4, 3),
        learning_rate=lr,
        batch_size=10,
        optimizer=optimizer,
        momentum=mu,
        regularization=reg,
        reg_rate=rate,
    )
    tr = Trainer(ds, cfg)
    theta = tr.network.theta_flat.copy()
    v, m1, m2 = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, 9):  # crosses two epoch ends, short batches (m = 5) included
        idx = tr.batch_indices()
        expected_d = flat(tr.network.trace(tr.x_train[idx], ds.y_train[idx], reg, rate).grads)
        record = tr.step(record=True)
        np.testing.assert_array_equal(record.indices, idx)
        d = flat(record.trace.grads)
        np.testing.assert_allclose(d, expected_d, rtol=1e-12, atol=1e-16)
        if optimizer == "sgd":
            step = -lr * d
        elif optimizer == "momentum":
            v = mu * v - lr * d
            step = v
        else:
            m1 = BETA1 * m1 + (1 - BETA1) * d
            m2 = BETA2 * m2 + (1 - BETA2) * d**2
            m_hat, v_hat = m1 / (1 - BETA1**t), m2 / (1 - BETA2**t)
            step = -lr * m_hat / (np.sqrt(v_hat) + EPS)
        theta = theta + step
        np.testing.assert_allclose(flat(record.update), step, rtol=1e-12, atol=1e-17)
        np.testing.assert_allclose(tr.network.theta_flat, theta, rtol=1e-12, atol=1e-15)
    assert tr.step_count == 8 and tr.epoch == 2


def test_sgd_update_is_exactly_minus_alpha_d():
    tr = Trainer(labelled(), TrainConfig(hidden=(5,), learning_rate=0.07, batch_size=10))
    for _ in range(4):
        before = tr.weights()
        record = tr.step(record=True)
        for d, dt, b, a in zip(record.trace.grads, record.update, before, tr.weights(), strict=True):
            np.testing.assert_array_equal(dt, -0.07 * d)
            np.testing.assert_allclose(a - b, dt, rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("how", ["set_weights", "set_weight"])
def test_replacing_weights_resets_the_optimizer_state_and_keeps_the_counters(optimizer, how):
    tr = Trainer(labelled(), TrainConfig(hidden=(4,), optimizer=optimizer, learning_rate=0.05))
    tr.run(steps=5)
    if how == "set_weights":
        tr.set_weights(tr.weights())
    else:
        tr.set_weight(1, 0, 0, float(tr.network.theta[0][0, 0]))
    assert (tr.step_count, tr.epoch, tr.offset) == (5, 1, 20)
    record = tr.step(record=True)
    d = flat(record.trace.grads)
    # with the state at zero: momentum's first v is −αD, adam's first step is −α·D/(|D| + ε)
    expected = -0.05 * d if optimizer == "momentum" else -0.05 * d / (np.abs(d) + EPS)
    np.testing.assert_allclose(flat(record.update), expected, rtol=1e-12, atol=1e-17)


# -- determinism and the schedule ---------------------------------------------------------------------


def test_same_config_and_seed_give_bitwise_equal_runs_and_another_seed_differs():
    ds = make_dataset("circle", samples=200, seed=0)
    cfg = TrainConfig(hidden=(8, 8), activation="tanh", optimizer="adam", learning_rate=0.01, batch_size=7, seed=42)
    a, b, c = Trainer(ds, cfg), Trainer(ds, cfg), Trainer(ds, replace(cfg, seed=43))
    for tr in (a, b, c):
        tr.run(steps=300)
    assert np.array_equal(a.network.theta_flat, b.network.theta_flat)
    assert [m.as_dict() for m in a.history] == [m.as_dict() for m in b.history]
    assert not np.allclose(a.network.theta_flat, c.network.theta_flat)
    trained = a.network.theta_flat.copy()
    a.reset()  # the same seed replays the same run
    a.run(steps=300)
    assert np.array_equal(a.network.theta_flat, trained)
    a.reset(seed=43)
    a.run(steps=300)
    assert np.array_equal(a.network.theta_flat, c.network.theta_flat)


def test_epochs_are_seeded_permutations_cut_into_batches_with_a_short_last_batch():
    ds = labelled(25)
    seed = 7
    tr = Trainer(ds, TrainConfig(hidden=(3,), batch_size=10, seed=seed, regularization="l2", reg_rate=0.5))
    for epoch in range(3):
        order = np.random.default_rng([seed, epoch]).permutation(25)
        for start, size in ((0, 10), (10, 10), (20, 5)):
            idx = order[start : start + size]
            np.testing.assert_array_equal(tr.batch_indices(), idx)
            expected = tr.network.trace(ds.x_train[idx], ds.y_train[idx], "l2", 0.5)
            assert (tr.epoch, tr.offset) == (epoch, start)
            record = tr.step(record=True)
            assert record.epoch == epoch and record.trace.m == size
            np.testing.assert_array_equal(record.indices, idx)
            np.testing.assert_array_equal(record.trace.a[0], ds.x_train[idx])
            # the short batch is averaged over its own m, in the regularization term too
            for got, want in zip(record.trace.grads, expected.grads, strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-16)
            assert record.trace.cost_regularization == pytest.approx(expected.cost_regularization, rel=1e-13)
        assert tr.epoch == epoch + 1 and tr.offset == 0
    assert tr.step_count == 9 and len(tr.history) == 3


def test_run_epochs_counts_batches_including_the_short_one():
    tr = Trainer(labelled(25), TrainConfig(hidden=(3,), batch_size=10))
    assert tr.run(epochs=4) == 12 and tr.epoch == 4


def test_changing_batch_size_resumes_mid_epoch_where_it_stopped():
    seed = 3
    tr = Trainer(labelled(25), TrainConfig(hidden=(3,), batch_size=10, seed=seed))
    order0, order1 = (np.random.default_rng([seed, e]).permutation(25) for e in (0, 1))
    weights = tr.step(record=True)
    assert tr.reconfigure(batch_size=4) is True
    batches = [tr.step(record=True).indices for _ in range(5)]
    expected = [order0[10:14], order0[14:18], order0[18:22], order0[22:25], order1[0:4]]
    for got, want in zip(batches, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert weights is not None and tr.epoch == 1 and tr.offset == 4


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_state_round_trip_into_a_fresh_trainer_continues_bit_for_bit(optimizer):
    ds = make_dataset("circle", samples=100, seed=1)
    cfg = TrainConfig(hidden=(6, 4), optimizer=optimizer, learning_rate=0.02, batch_size=8, seed=5)
    a = Trainer(ds, cfg)
    a.run(steps=37)  # mid-epoch: 50 training samples, 7 batches per epoch
    assert a.offset != 0
    state = json.loads(json.dumps(a.state()))
    b = Trainer(ds, cfg)
    b.load_state(state)
    assert (b.step_count, b.epoch, b.offset) == (a.step_count, a.epoch, a.offset)
    for _ in range(100):
        ra, rb = a.step(record=True), b.step(record=True)
        np.testing.assert_array_equal(ra.indices, rb.indices)
        assert np.array_equal(a.network.theta_flat, b.network.theta_flat)
    assert [m.as_dict() for m in a.history] == [m.as_dict() for m in b.history]


# -- symmetry -----------------------------------------------------------------------------------------


def _hidden_rows_identical(tr):
    """Every hidden layer's units identical: all rows of each Θ^(l) that feeds a hidden layer are equal."""
    return all(np.allclose(t, t[0], rtol=1e-12, atol=1e-14) for t in tr.network.theta[:-1])


@pytest.mark.parametrize(("init", "act"), [("zeros", "sigmoid"), ("constant", "tanh"), ("constant", "relu")])
def test_identical_units_stay_identical_without_random_initialization(init, act):
    ds = make_dataset("circle", samples=200, seed=0)
    cfg = TrainConfig(hidden=(4, 3), activation=act, init=init, init_scale=0.3, learning_rate=0.1, optimizer="adam")
    tr = Trainer(ds, cfg)
    initial = tr.network.theta_flat.copy()
    tr.run(steps=300)
    assert not np.allclose(tr.network.theta_flat, initial)  # it did train…
    assert _hidden_rows_identical(tr)  # …but every unit of a layer still computes the same thing
    assert not tr.diverged


def test_random_initialization_breaks_the_symmetry():
    ds = make_dataset("circle", samples=200, seed=0)
    tr = Trainer(ds, TrainConfig(hidden=(4, 3), activation="tanh", init="xavier", learning_rate=0.1, optimizer="adam"))
    tr.run(steps=300)
    for theta in tr.network.theta[:-1]:
        assert np.abs(theta - theta[0]).max(axis=1)[1:].min() > 1e-2


# -- learning -----------------------------------------------------------------------------------------

# Each reaches its target for 20 of 20 seeds (dataset and weights) with a margin; the test runs three.
LEARNING = {
    "xor": (dict(samples=200), TrainConfig(hidden=(8,), optimizer="adam", learning_rate=0.03), 40, "accuracy", 0.9),
    "xor-sgd": (dict(samples=200), TrainConfig(hidden=(8,), learning_rate=0.1), 60, "accuracy", 0.9),
    "circle": (dict(samples=200), TrainConfig(hidden=(8,), optimizer="adam", learning_rate=0.03), 40, "accuracy", 0.88),
    "spiral": (
        dict(samples=300),
        TrainConfig(hidden=(8, 8), optimizer="adam", learning_rate=0.03, features=("x1", "x2", "sin(x1)", "sin(x2)")),
        100,
        "accuracy",
        0.9,
    ),
    "blobs": (
        dict(samples=300, noise=0.1),
        TrainConfig(hidden=(4,), optimizer="adam", learning_rate=0.03),
        20,
        "accuracy",
        0.97,
    ),
    "sine": (dict(samples=200), TrainConfig(hidden=(16,), optimizer="adam", learning_rate=0.01), 100, "loss", 0.05),
    "sine-momentum": (
        dict(samples=200),
        TrainConfig(hidden=(16,), optimizer="momentum", learning_rate=0.01),
        100,
        "loss",
        0.05,
    ),
}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", sorted(LEARNING))
def test_learns_the_toy_datasets(case, seed):
    data_kwargs, cfg, epochs, metric, target = LEARNING[case]
    ds = make_dataset(case.split("-")[0], seed=seed, **data_kwargs)
    tr = Trainer(ds, replace(cfg, seed=seed))
    start = tr.evaluate()
    assert tr.run(epochs=epochs) == epochs * -(-tr.n_train // cfg.batch_size)
    end = tr.evaluate()
    assert not tr.diverged
    if metric == "accuracy":
        assert end.train_accuracy >= target and end.test_accuracy >= target, (start, end)
    else:
        assert end.train_loss <= target and end.test_loss <= target, (start, end)
        assert end.test_loss < start.test_loss / 4
    assert [h.epoch for h in tr.history] == list(range(1, epochs + 1))


# -- divergence ---------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_huge_learning_rate_diverges_to_the_last_finite_weights_without_raising():
    ds = make_dataset("plane", samples=100, train_fraction=1.0, seed=0)
    tr = Trainer(ds, TrainConfig(hidden=(8,), activation="relu", learning_rate=1e6, batch_size=10))
    initial = tr.weights()
    for _ in range(50):
        before, count = tr.network.theta_flat.copy(), tr.step_count
        result = tr.step()
        if tr.diverged:
            break
        assert result is None  # not recorded
    else:
        pytest.fail("a learning rate of 1e6 did not diverge in 50 steps")
    assert result is None
    assert np.isfinite(tr.network.theta_flat).all()
    assert np.array_equal(tr.network.theta_flat, before)  # the last finite weights
    assert tr.step_count == count and tr.divergence.step == count + 1
    assert "learning rate" in tr.divergence.reason
    # stays stopped, quietly
    assert tr.step() is None and tr.step(record=True) is None and tr.run(steps=10) == 0
    assert np.array_equal(tr.network.theta_flat, before)
    assert tr.state()["divergence"]["step"] == count + 1
    # a new learning rate clears it, keeping the (huge but finite) weights…
    assert tr.reconfigure(learning_rate=1e-3) is True
    assert not tr.diverged and tr.divergence is None
    assert np.array_equal(tr.network.theta_flat, before)
    # …and with sane weights training goes on
    tr.set_weights(initial)
    assert tr.run(steps=20) == 20 and not tr.diverged
    assert tr.step_count == count + 20


def test_replacing_the_weights_also_clears_a_divergence():
    ds = make_dataset("plane", samples=100, train_fraction=1.0, seed=0)
    tr = Trainer(ds, TrainConfig(hidden=(8,), activation="relu", learning_rate=1e6, batch_size=10))
    initial = tr.weights()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tr.run(steps=50)
    assert tr.diverged
    tr.set_weights(initial)
    assert not tr.diverged
    tr.reconfigure(learning_rate=0.01)
    assert tr.step(record=True) is not None


def test_divergence_is_silent_even_when_warnings_are_errors():
    ds = make_dataset("plane", samples=100, train_fraction=1.0, seed=0)
    tr = Trainer(ds, TrainConfig(hidden=(8,), activation="relu", learning_rate=1e6, batch_size=10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr.run(steps=50)
    assert tr.diverged and np.isfinite(tr.network.theta_flat).all()


# -- per-step records ---------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_grad_norms_and_the_recorded_cost_describe_the_batch_before_the_update(optimizer):
    ds = make_dataset("circle", samples=60, seed=2)
    tr = Trainer(ds, TrainConfig(hidden=(5, 4), optimizer=optimizer, regularization="l2", reg_rate=0.2, batch_size=8))
    for _ in range(12):
        idx = tr.batch_indices()
        x, y = tr.x_train[idx], ds.y_train[idx]
        cost_before = tr.network.cost(x, y, "l2", 0.2)
        record = tr.step(record=True)
        norms = [np.linalg.norm(d) for d in record.trace.grads]
        np.testing.assert_allclose(record.grad_norms, norms, rtol=1e-12)
        np.testing.assert_allclose(tr.grad_norms, norms, rtol=1e-12)
        assert len(record.grad_norms) == len(tr.network.theta)
        assert (record.trace.cost_data, record.trace.cost_regularization) == pytest.approx(cost_before, rel=1e-12)
        assert record.trace.cost_total != pytest.approx(sum(tr.network.cost(x, y, "l2", 0.2)), rel=1e-12)
        assert record.step == tr.step_count
    assert tr.evaluate().grad_norms == pytest.approx(norms, rel=1e-12)


# -- reconfigure ----------------------------------------------------------------------------------------


def test_reconfigure_with_live_hyperparameters_keeps_the_weights_and_counters():
    tr = Trainer(make_dataset("circle", samples=100), TrainConfig(hidden=(4, 2)))
    tr.run(steps=13)
    weights, counters = tr.network.theta_flat.copy(), (tr.step_count, tr.epoch, tr.offset)
    changes = dict(
        learning_rate=0.1, batch_size=7, optimizer="momentum", momentum=0.5, regularization="l1", reg_rate=0.01
    )
    assert tr.reconfigure(**changes) is True
    assert np.array_equal(tr.network.theta_flat, weights)
    assert (tr.step_count, tr.epoch, tr.offset) == counters
    assert all(getattr(tr.config, k) == v for k, v in changes.items())
    assert tr.reconfigure(activation="relu", output_activation="sigmoid", loss="mse") is True
    assert np.array_equal(tr.network.theta_flat, weights) and tr.config.activation == ("relu", "relu")
    tr.step()
    assert tr.step_count == counters[0] + 1


def test_reconfigure_with_new_hidden_layers_rebuilds_from_the_seed():
    ds = make_dataset("circle", samples=100)
    tr = Trainer(ds, TrainConfig(hidden=(4, 2), activation=("tanh", "relu"), seed=3))
    tr.run(steps=13)
    assert tr.reconfigure(hidden=(5, 3)) is False
    fresh = Trainer(ds, TrainConfig(hidden=(5, 3), activation=("tanh", "relu"), seed=3))
    assert [t.shape for t in tr.network.theta] == [(5, 3), (3, 6), (1, 4)]
    assert np.array_equal(tr.network.theta_flat, fresh.network.theta_flat)
    assert (tr.step_count, tr.epoch, tr.offset) == (0, 0, 0)


def test_reconfigure_can_change_the_number_of_hidden_layers():
    tr = Trainer(make_dataset("circle", samples=100), TrainConfig(hidden=(4, 2), activation="tanh"))
    assert tr.reconfigure(hidden=(6,)) is False
    assert [t.shape for t in tr.network.theta] == [(6, 3), (1, 7)]


def test_reconfigure_refuses_an_unknown_init():
    tr = Trainer(make_dataset("circle", samples=60), TrainConfig())
    with pytest.raises(EngineError) as err:
        tr.reconfigure(init="orthogonal")
    assert err.value.field == "init"
    assert tr.config.init == "xavier"
    tr.reset()


REFUSED_CHANGES = [
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"batch_size": 0}, "batch_size"),
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"optimizer": "momentum", "momentum": 1.5}, "momentum"),
    ({"activation": "swish"}, "activation"),
    ({"regularization": "l3"}, "regularization"),
    ({"reg_rate": -1.0}, "reg_rate"),
    ({"loss": "cross_entropy", "output_activation": "linear"}, "loss"),
    ({"loss": "cross_entropy", "output_activation": "tanh"}, "loss"),
    ({"output_activation": "softmax"}, "output_activation"),
    ({"hidden": (0,)}, "hidden"),
    ({"hidden": (4, 2), "learning_rate": -1.0}, "learning_rate"),
    ({"no_such_setting": 1}, "no_such_setting"),
]


@pytest.mark.parametrize(("changes", "field"), REFUSED_CHANGES, ids=[f for _, f in REFUSED_CHANGES])
def test_a_refused_reconfigure_changes_nothing(changes, field):
    ds = make_dataset("circle", samples=60)
    cfg = TrainConfig(hidden=(4, 2), optimizer="adam", learning_rate=0.02, batch_size=7)
    tr, twin = Trainer(ds, cfg), Trainer(ds, cfg)
    tr.run(steps=11)
    twin.run(steps=11)
    before = (tr.config, tr.network.theta_flat.copy(), tr.step_count, tr.epoch, tr.offset, tr.optimizer.state())
    with pytest.raises(EngineError) as err:
        tr.reconfigure(**changes)
    assert err.value.field == field
    after = (tr.config, tr.network.theta_flat, tr.step_count, tr.epoch, tr.offset, tr.optimizer.state())
    assert after[0] == before[0] and np.array_equal(after[1], before[1]) and after[2:] == before[2:]
    tr.run(steps=20)  # and training goes on exactly as if nothing had been asked
    twin.run(steps=20)
    assert np.array_equal(tr.network.theta_flat, twin.network.theta_flat)


# -- refused input --------------------------------------------------------------------------------------


def _circle():
    return make_dataset("circle", samples=40)


def _regression_targets_outside_unit_interval():
    x = np.random.default_rng(0).normal(size=(20, 2))
    return custom_dataset(x, x[:, :1] * 3.0)


REFUSED_CONFIGS = [
    (lambda: Trainer(_circle(), TrainConfig(output_activation="linear", loss="cross_entropy")), "loss"),
    (lambda: Trainer(_circle(), TrainConfig(output_activation="tanh", loss="cross_entropy")), "loss"),
    (lambda: Trainer(_circle(), TrainConfig(output_activation="softmax", loss="cross_entropy")), "output_activation"),
    (lambda: Trainer(make_dataset("blobs", samples=40), TrainConfig(loss="mse")), "loss"),
    (lambda: Trainer(_circle(), TrainConfig(activation="swish")), "activation"),
    (lambda: Trainer(_circle(), TrainConfig(activation=("tanh",))), "activation"),
    (lambda: Trainer(_circle(), TrainConfig(output_activation="relu")), "output_activation"),
    (lambda: Trainer(_circle(), TrainConfig(loss="hinge")), "loss"),
    (lambda: Trainer(_circle(), TrainConfig(optimizer="rmsprop")), "optimizer"),
    (lambda: Trainer(_circle(), TrainConfig(init="orthogonal")), "init"),
    (lambda: Trainer(_circle(), TrainConfig(regularization="dropout")), "regularization"),
    (lambda: Trainer(_circle(), TrainConfig(learning_rate=-0.01)), "learning_rate"),
    (lambda: Trainer(_circle(), TrainConfig(learning_rate=float("inf"))), "learning_rate"),
    (lambda: Trainer(_circle(), TrainConfig(batch_size=0)), "batch_size"),
    (lambda: Trainer(_circle(), TrainConfig(hidden=(4, 0))), "hidden"),
    (lambda: Trainer(_circle(), TrainConfig(features=("x3",))), "features"),
    (
        lambda: Trainer(
            _regression_targets_outside_unit_interval(), TrainConfig(output_activation="sigmoid", loss="cross_entropy")
        ),
        "dataset.y",
    ),
    (lambda: Trainer(_circle(), TrainConfig()).trace([[0.0, 0.0]], [[1.5]]), "y"),
    (lambda: Trainer(_circle(), TrainConfig()).trace_samples([20]), "samples"),
    (
        lambda: Trainer(_regression_targets_outside_unit_interval(), TrainConfig()).reconfigure(
            output_activation="sigmoid", loss="cross_entropy"
        ),
        "loss",
    ),
    (lambda: custom_dataset([[0.0, np.nan]], [[1.0]]), "dataset.x"),
    (lambda: custom_dataset([[0.0, 1.0]], [[np.inf]]), "dataset.y"),
    (lambda: custom_dataset([[0.0, 1.0]], [[1.0]], x_test=[[np.nan, 0.0]], y_test=[[0.0]]), "dataset.x_test"),
]


@pytest.mark.parametrize(
    ("make", "field"), REFUSED_CONFIGS, ids=[f"{i}-{f}" for i, (_, f) in enumerate(REFUSED_CONFIGS)]
)
def test_invalid_input_is_refused_with_an_engine_error_naming_the_field(make, field):
    with pytest.raises(EngineError) as err:
        make()
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ") and err.value.message


def test_invalid_weights_are_refused_and_change_nothing():
    tr = Trainer(_circle(), TrainConfig(hidden=(4, 2)))
    tr.run(steps=3)
    before = tr.weights()
    good = [w.tolist() for w in before]
    cases = [
        (good[:2], "weights"),
        ([good[0], np.zeros((2, 4)), good[2]], "weights[1]"),
        ([good[0], good[1], np.zeros((1, 2))], "weights[2]"),
        ([np.full((4, 3), np.nan), good[1], good[2]], "weights[0]"),
        ([good[0], good[1], [[0.0, np.inf, 0.0]]], "weights[2]"),
        ([[[0.0, 1.0], [2.0]], good[1], good[2]], "weights[0]"),
    ]
    for weights, field in cases:
        with pytest.raises(EngineError) as err:
            tr.set_weights(weights)
        assert err.value.field == field
    for args, field in (((1, 0, 0, np.nan), "value"), ((4, 0, 0, 1.0), "layer"), ((1, 4, 0, 1.0), "row")):
        with pytest.raises(EngineError) as err:
            tr.set_weight(*args)
        assert err.value.field == field
    for a, b in zip(before, tr.weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert tr.step_count == 3


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_trace_refuses_non_finite_inputs():
    tr = Trainer(_circle(), TrainConfig())
    with pytest.raises(EngineError) as err:
        tr.trace([[np.nan, 0.0]], [[1.0]])
    assert err.value.field == "x"


def test_a_refused_load_state_changes_nothing():
    ds = make_dataset("circle", samples=60)
    donor, tr = Trainer(ds, TrainConfig(optimizer="adam")), Trainer(ds, TrainConfig(optimizer="adam"))
    donor.run(steps=5)
    tr.run(steps=3)
    state = donor.state()
    state["offset"] = 10**6
    before, optimizer_state = tr.network.theta_flat.copy(), tr.optimizer.state()
    with pytest.raises(EngineError) as err:
        tr.load_state(state)
    assert err.value.field == "state.offset"
    assert np.array_equal(tr.network.theta_flat, before)
    assert tr.optimizer.state() == optimizer_state
