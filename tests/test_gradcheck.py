"""Numerical gradient checks, CS231n style: every activation, loss, regularizer, the δ recursion and the
whole network against central differences, plus the package's plain per-sample reference
(app/engine/reference.py), which both paths must equal and which itself matches central differences."""

import numpy as np
import pytest

from app.engine import HIDDEN_ACTIVATIONS, Network, gradient_check, reference
from app.engine.functions import (
    ACTIVATIONS,
    activation,
    add_regularization_gradient,
    data_loss_sum,
    output_delta,
    regularization_cost,
)

# (output activation, loss, output units): every pair docs/maths.md accepts; softmax with ≥ 3 outputs.
OUTPUT_PAIRS = [
    ("linear", "mse", 2),
    ("sigmoid", "mse", 2),
    ("tanh", "mse", 2),
    ("sigmoid", "cross_entropy", 2),
    ("softmax", "cross_entropy", 3),
]
PAIR_IDS = [f"{o}+{loss}" for o, loss, _ in OUTPUT_PAIRS]
REGULARIZATIONS = [("none", 0.0), ("l1", 0.7), ("l2", 0.7)]
DEPTHS = [(5,), (4, 3), (4, 3, 3)]
# Every whole-network check runs on both engine paths: the NumPy reference and the compiled kernels.
on_both_paths = pytest.mark.parametrize("engine", ["numpy", "numba"])
KINK_MARGIN = 1e-3  # every relu / leaky_relu input and every L1 weight stays this far from 0

# -- a plain NumPy reference: the maths of docs/maths.md written out, sharing no code with the engine --------


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


G = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
    "softmax": _softmax,
}
G_PRIME = {
    "sigmoid": lambda z: G["sigmoid"](z) * (1.0 - G["sigmoid"](z)),
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "relu": lambda z: (z > 0).astype(float),
    "leaky_relu": lambda z: np.where(z > 0, 1.0, 0.01),
    "linear": np.ones_like,
}


def plain_loss(loss, out_act, h, y):
    """Σ over samples and outputs of ℓ(h, y), from the textbook formulas."""
    if loss == "mse":
        return 0.5 * np.sum((h - y) ** 2)
    if out_act == "sigmoid":
        return -np.sum(y * np.log(h) + (1 - y) * np.log(1 - h))
    return -np.sum(y * np.log(h))


def plain_regularization(kind, rate, m, thetas):
    """R(Θ) over the non-bias columns."""
    if kind == "l2":
        return rate / (2 * m) * sum(np.sum(t[:, 1:] ** 2) for t in thetas)
    if kind == "l1":
        return rate / m * sum(np.sum(np.abs(t[:, 1:])) for t in thetas)
    return 0.0


# -- building well-posed problems --------------------------------------------------------------------------


def targets(rng, out_act, loss, m, k):
    """Targets the pair accepts: soft labels for cross-entropy, probability rows for softmax."""
    if out_act == "softmax":
        return rng.dirichlet(np.ones(k), size=m)
    if out_act == "sigmoid":
        return rng.uniform(0.0, 1.0, (m, k))
    if out_act == "tanh":
        return rng.uniform(-0.9, 0.9, (m, k))
    return rng.normal(0.0, 1.0, (m, k))


def problem(hidden_act, out_act, loss, k, hidden, seed, m=6, inputs=3, engine="numpy"):
    """A network with random weights (bias included) and data, redrawn until no relu input and no weight
    lies within KINK_MARGIN of 0, so that central differences never straddle a kink."""
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])
        net = Network((inputs, *hidden, k), [hidden_act] * len(hidden), out_act, loss, engine)
        for t in net.theta:
            t[:] = rng.uniform(-1.0, 1.0, t.shape)
        x = rng.normal(0.0, 1.0, (m, inputs))
        y = targets(rng, out_act, loss, m, k)
        trace = net.trace(x, y)
        smallest_z = min(np.abs(z).min() for z in trace.z[1:-1])
        if smallest_z > KINK_MARGIN and np.abs(net.theta_flat).min() > KINK_MARGIN:
            return net, x, y
    raise AssertionError("no kink-free problem found")


def central_difference(f, x, h=1e-6):
    """∂f/∂x for every element of x (x is perturbed in place and restored)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + h
        plus = f()
        x[idx] = saved - h
        minus = f()
        x[idx] = saved
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


# -- the whole network ------------------------------------------------------------------------------------


@on_both_paths
@pytest.mark.parametrize("hidden", DEPTHS, ids=lambda h: "x".join(map(str, h)))
@pytest.mark.parametrize(("reg", "rate"), REGULARIZATIONS, ids=[r for r, _ in REGULARIZATIONS])
@pytest.mark.parametrize(("out_act", "loss", "k"), OUTPUT_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("hidden_act", HIDDEN_ACTIVATIONS)
def test_gradient_check_passes_for_every_activation_output_loss_regularization_and_depth(
    hidden_act, out_act, loss, k, reg, rate, hidden, engine
):
    net, x, y = problem(hidden_act, out_act, loss, k, hidden, seed=len(hidden), engine=engine)
    assert net.path(len(x)) == engine
    before = net.theta_flat.copy()
    check = gradient_check(net, x, y, reg, rate, epsilon=1e-5)
    assert np.array_equal(net.theta_flat, before), "gradient_check must restore the weights exactly"
    assert [layer.layer for layer in check.layers] == list(range(1, len(hidden) + 2))
    for layer in check.layers:
        assert layer.relative_error < 1e-7, (layer.layer, layer.relative_error)
        assert np.linalg.norm(layer.analytic) > 1e-6  # a real gradient, not 0 == 0
    assert check.relative_error < 1e-7  # all layers together
    assert check.max_relative_error < 1e-5  # the worst single weight (floored at 1e-7 in the denominator)
    assert check.m == len(x)


@on_both_paths
def test_gradient_check_numerical_side_is_a_real_central_difference_of_j(engine):
    net, x, y = problem("tanh", "sigmoid", "cross_entropy", 2, (4, 3), seed=7, engine=engine)

    def j():
        thetas = net.theta
        h = x
        for i, t in enumerate(thetas):
            z = np.hstack([np.ones((len(h), 1)), h]) @ t.T
            h = G["sigmoid" if i == len(thetas) - 1 else "tanh"](z)
        return plain_loss("cross_entropy", "sigmoid", h, y) / len(x) + plain_regularization("l2", 0.3, len(x), thetas)

    numerical = central_difference(j, net.theta_flat, h=1e-5)
    check = gradient_check(net, x, y, "l2", 0.3, epsilon=1e-5)
    for layer, expected in zip(check.layers, net.unflatten(numerical), strict=True):
        np.testing.assert_allclose(layer.numerical, expected, rtol=1e-6, atol=1e-10)


def test_gradient_check_flags_a_wrong_gradient():
    net, x, y = problem("sigmoid", "linear", "mse", 2, (4,), seed=3)
    check = gradient_check(net, x, y)
    wrong = check.layers[0].analytic * 1.01
    from app.engine.gradcheck import relative_error

    assert relative_error(wrong, check.layers[0].numerical) > 1e-3
    assert relative_error(check.layers[0].analytic, check.layers[0].numerical) < 1e-7


# -- the pieces -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_central_differences(name):
    rng = np.random.default_rng(11)
    z = rng.uniform(-4.0, 4.0, (5, 7))
    z[np.abs(z) < 0.01] = 0.5  # away from the relu kink
    act = activation(name)
    a, prime = np.empty_like(z), np.empty_like(z)
    act.forward(z, a)
    act.prime(z, a, prime)
    np.testing.assert_allclose(a, G[name](z), rtol=1e-14, atol=1e-15)
    zz = z.copy()
    numerical = np.empty_like(z)
    h = 1e-6
    for idx in np.ndindex(z.shape):
        zz[idx] = z[idx] + h
        plus = G[name](zz)[idx]
        zz[idx] = z[idx] - h
        minus = G[name](zz)[idx]
        zz[idx] = z[idx]
        numerical[idx] = (plus - minus) / (2 * h)
    assert rel_error(prime, numerical) < 1e-9


@pytest.mark.parametrize(("name", "expected"), [("relu", 0.0), ("leaky_relu", 0.01)])
def test_relu_derivative_at_zero_follows_the_spec(name, expected):
    z = np.zeros((2, 3))
    a, prime = np.empty_like(z), np.empty_like(z)
    act = activation(name)
    act.forward(z, a)
    act.prime(z, a, prime)
    assert np.all(a == 0.0) and np.all(prime == expected)


def test_sigmoid_does_not_overflow_for_huge_inputs():
    z = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]])
    a, prime = np.empty_like(z), np.empty_like(z)
    act = activation("sigmoid")
    with np.errstate(all="raise"):
        act.forward(z, a)
        act.prime(z, a, prime)
    np.testing.assert_allclose(a, [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-17)
    assert np.isfinite(prime).all()


@pytest.mark.parametrize(("out_act", "loss", "k"), OUTPUT_PAIRS, ids=PAIR_IDS)
def test_output_delta_is_the_derivative_of_the_loss_with_respect_to_z(out_act, loss, k):
    rng = np.random.default_rng(5)
    m = 4
    z = rng.normal(0.0, 1.5, (k, m))  # engine layout: one column per sample
    y = targets(rng, out_act, loss, m, k).T.copy()
    act = activation(out_act)

    def forward(zv):
        a = np.empty_like(zv)
        act.forward(zv, a)
        return a

    a = forward(z)
    delta, tmp = np.empty_like(z), np.empty_like(z)
    output_delta(loss, act, z, a, y, delta, tmp)
    # the engine's loss equals the textbook formula…
    assert data_loss_sum(loss, out_act, z, a, y) == pytest.approx(plain_loss(loss, out_act, a.T, y.T), rel=1e-12)
    # …and δ^(L) is its derivative with respect to z^(L)
    numerical = central_difference(lambda: data_loss_sum(loss, out_act, z, forward(z), y), z)
    assert rel_error(delta, numerical) < 1e-8
    if loss == "mse" and out_act != "linear":
        np.testing.assert_allclose(delta, (a - y) * G_PRIME[out_act](z), rtol=1e-12)
    else:
        assert np.array_equal(delta, a - y)


def test_cross_entropy_stays_finite_when_outputs_saturate():
    z = np.array([[-800.0, 800.0, 30.0]])
    y = np.array([[1.0, 0.0, 1.0]])
    a = np.empty_like(z)
    activation("sigmoid").forward(z, a)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = data_loss_sum("cross_entropy", "sigmoid", z, a, y)
    assert value == pytest.approx(1600.0 + np.log1p(np.exp(-30.0)), rel=1e-12)
    zs = np.array([[900.0], [-900.0], [0.0]])
    ys = np.array([[0.0], [1.0], [0.0]])
    a_s = np.empty_like(zs)
    activation("softmax").forward(zs, a_s)  # one column per sample: a saturates to exactly 0 and 1
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = data_loss_sum("cross_entropy", "softmax", zs, a_s, ys)
    assert value == pytest.approx(1800.0, rel=1e-12)


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_regularizer_gradient_matches_central_differences_and_skips_the_bias_column(kind):
    net = Network((3, 4, 2), ["tanh"], "linear", "mse")
    rng = np.random.default_rng(2)
    net.theta_flat[:] = rng.uniform(-1.0, 1.0, net.theta_flat.size)
    net.theta_flat[np.abs(net.theta_flat) < KINK_MARGIN] = 0.5
    rate, m = 0.8, 5
    w = net.theta_flat
    grad, tmp = np.zeros_like(w), np.zeros_like(w)
    add_regularization_gradient(kind, rate, m, w, net.reg_mask, grad, tmp)
    numerical = central_difference(lambda: regularization_cost(kind, rate, m, w, net.reg_mask), w)
    assert rel_error(grad, numerical) < 1e-8
    assert regularization_cost(kind, rate, m, w, net.reg_mask) == pytest.approx(
        plain_regularization(kind, rate, m, net.theta), rel=1e-13
    )
    for g in net.unflatten(grad):
        assert np.all(g[:, 0] == 0.0)
    # sign(0) = 0 for L1: a zero weight gets no pull
    w[5] = 0.0
    grad[:] = 0.0
    add_regularization_gradient(kind, rate, m, w, net.reg_mask, grad, tmp)
    assert grad[5] == 0.0


@pytest.mark.parametrize(("reg", "rate"), [("l1", 0.9), ("l2", 0.9)])
def test_d_is_big_delta_over_m_plus_the_regularizer_and_the_bias_column_is_never_regularized(reg, rate):
    net, x, y = problem("tanh", "sigmoid", "cross_entropy", 2, (4, 3), seed=4)
    plain = net.trace(x, y, "none", 0.0)
    regularized = net.trace(x, y, reg, rate)
    m = len(x)
    for theta, d0, d in zip(net.theta, plain.grads, regularized.grads, strict=True):
        assert np.array_equal(d[:, 0], d0[:, 0])
        pull = theta[:, 1:] if reg == "l2" else np.sign(theta[:, 1:])
        np.testing.assert_allclose(d[:, 1:], d0[:, 1:] + rate / m * pull, rtol=1e-13, atol=1e-15)
    big_delta = [
        sum(np.outer(regularized.delta[l + 1][i], np.r_[1.0, plain.a[l][i]]) for i in range(m)) for l in range(3)
    ]
    for bd, d0 in zip(big_delta, plain.grads, strict=True):
        np.testing.assert_allclose(d0, bd / m, rtol=1e-12, atol=1e-15)
    assert plain.cost_regularization == 0.0
    assert regularized.cost_regularization == pytest.approx(plain_regularization(reg, rate, m, net.theta), rel=1e-13)


@on_both_paths
@pytest.mark.parametrize(("out_act", "loss", "k"), OUTPUT_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("hidden_act", HIDDEN_ACTIVATIONS)
def test_hidden_delta_is_the_derivative_of_the_summed_loss_with_respect_to_z(hidden_act, out_act, loss, k, engine):
    hidden = (4, 3, 3)
    net, x, y = problem(hidden_act, out_act, loss, k, hidden, seed=9, engine=engine)
    trace = net.trace(x, y)
    thetas = [t.copy() for t in net.theta]
    acts = [hidden_act] * len(hidden)
    for layer in range(1, len(hidden) + 1):  # 0-based index of a hidden layer: z^(layer+1)

        def summed_loss(z, layer=layer):
            """Σ_i ℓ_i from z^(l) onward, in plain NumPy."""
            a = G[acts[layer - 1]](z)
            for j in range(layer, len(thetas)):
                z_next = np.hstack([np.ones((len(a), 1)), a]) @ thetas[j].T
                a = G[out_act](z_next) if j == len(thetas) - 1 else G[acts[j]](z_next)
            return plain_loss(loss, out_act, a, y)

        z = trace.z[layer].copy()
        numerical = central_difference(lambda z=z, f=summed_loss: f(z), z, h=1e-5)
        assert rel_error(trace.delta[layer], numerical) < 1e-7, layer
    # and the output layer's δ the same way
    z_out = trace.z[-1].copy()
    numerical = central_difference(lambda: plain_loss(loss, out_act, G[out_act](z_out), y), z_out, h=1e-5)
    assert rel_error(trace.delta[-1], numerical) < 1e-8


# -- the plain reference (app/engine/reference.py) ---------------------------------------------------------


@on_both_paths
@pytest.mark.parametrize(("reg", "rate"), REGULARIZATIONS, ids=[r for r, _ in REGULARIZATIONS])
@pytest.mark.parametrize(("out_act", "loss", "k"), OUTPUT_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("hidden_act", HIDDEN_ACTIVATIONS)
def test_trace_equals_the_plain_per_sample_reference(hidden_act, out_act, loss, k, reg, rate, engine):
    net, x, y = problem(hidden_act, out_act, loss, k, (4, 3), seed=21, m=5, engine=engine)
    trace = net.trace(x, y, reg, rate)
    ref = reference.backprop(
        reference.Net([t.copy() for t in net.theta], [hidden_act] * 2, out_act, loss), x, y, reg, rate
    )
    # the reference is indexed by the course's l = 1..L; a trace's lists by l − 1
    assert ref.z[1] is None and ref.delta[1] is None and trace.z[0] is None and trace.delta[0] is None
    tol = {"rtol": 1e-12, "atol": 1e-12}
    for l in range(2, net.layers + 1):
        np.testing.assert_allclose(trace.z[l - 1], ref.z[l], **tol)
        np.testing.assert_allclose(trace.a[l - 1], ref.a[l], **tol)
        np.testing.assert_allclose(trace.delta[l - 1], ref.delta[l], **tol)
    np.testing.assert_array_equal(trace.a[0], x)
    np.testing.assert_array_equal(ref.a[1], x)
    for l in range(1, net.layers):
        np.testing.assert_allclose(trace.grads[l - 1], ref.D[l], **tol)
    m = len(x)
    assert trace.cost_data == pytest.approx(plain_loss(loss, out_act, ref.a[-1], y) / m, rel=1e-12)
    assert ref.cost_data == pytest.approx(trace.cost_data, rel=1e-12)
    assert trace.cost_regularization == pytest.approx(plain_regularization(reg, rate, m, net.theta), rel=1e-12)
    assert ref.cost_regularization == pytest.approx(trace.cost_regularization, rel=1e-12)


@pytest.mark.parametrize(("reg", "rate"), REGULARIZATIONS, ids=[r for r, _ in REGULARIZATIONS])
@pytest.mark.parametrize(("out_act", "loss", "k"), OUTPUT_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("hidden_act", HIDDEN_ACTIVATIONS)
def test_the_reference_d_equals_central_differences_of_its_own_cost(hidden_act, out_act, loss, k, reg, rate):
    net, x, y = problem(hidden_act, out_act, loss, k, (4, 3), seed=22, m=4)
    ref_net = reference.Net([t.copy() for t in net.theta], [hidden_act] * 2, out_act, loss)
    ref = reference.backprop(ref_net, x, y, reg, rate)
    for l in range(1, ref_net.L):
        numerical = central_difference(lambda: reference.cost(ref_net, x, y, reg, rate), ref_net.theta[l])
        assert rel_error(ref.D[l], numerical) < 1e-7, l
    assert ref.cost_data + ref.cost_regularization == pytest.approx(reference.cost(ref_net, x, y, reg, rate), rel=1e-14)
