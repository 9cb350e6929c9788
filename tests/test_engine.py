"""The network itself (app/engine/network.py): trace shapes, initializations, forward pass and cost."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.engine import INITS, Network

ARCHITECTURES = [
    # sizes, hidden activations, output activation, loss
    ((2, 1), [], "sigmoid", "cross_entropy"),
    ((3, 4, 2), ["tanh"], "linear", "mse"),
    ((2, 5, 3, 1), ["relu", "sigmoid"], "tanh", "mse"),
    ((4, 8, 8, 8, 3), ["leaky_relu", "tanh", "linear"], "softmax", "cross_entropy"),
]
ARCH_IDS = ["-".join(map(str, sizes)) for sizes, *_ in ARCHITECTURES]

G = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
    "softmax": lambda z: (
        np.exp(z - z.max(axis=1, keepdims=True)) / np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)
    ),
}


def random_network(sizes, acts, out, loss, seed=0, scale=0.8):
    net = Network(sizes, acts, out, loss)
    rng = np.random.default_rng(seed)
    net.theta_flat[:] = rng.uniform(-scale, scale, net.theta_flat.size)
    return net


def data(sizes, out, m, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (m, sizes[0]))
    k = sizes[-1]
    if out == "softmax":
        y = np.eye(k)[rng.integers(0, k, m)]
    elif out == "sigmoid":
        y = rng.integers(0, 2, (m, k)).astype(float)
    else:
        y = rng.uniform(-0.9, 0.9, (m, k))
    return x, y


def reference_forward(thetas, acts, out, x):
    """h_Θ(x) for rows x: z = [1, a]·Θᵀ, a = g(z), layer by layer."""
    a = x
    for i, theta in enumerate(thetas):
        z = np.hstack([np.ones((len(a), 1)), a]) @ theta.T
        a = G[out](z) if i == len(thetas) - 1 else G[acts[i]](z)
    return a


# -- the trace ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [1, 7])
@pytest.mark.parametrize(("sizes", "acts", "out", "loss"), ARCHITECTURES, ids=ARCH_IDS)
def test_trace_has_the_shapes_of_spec_section_3(sizes, acts, out, loss, m):
    net = random_network(sizes, acts, out, loss)
    x, y = data(sizes, out, m)
    trace = net.trace(x, y)
    L = len(sizes)
    assert net.layers == L and trace.m == m
    assert len(trace.z) == len(trace.a) == len(trace.delta) == L
    assert len(trace.grads) == L - 1
    assert trace.z[0] is None and trace.delta[0] is None
    np.testing.assert_array_equal(trace.a[0], x)  # a^(1) = x, no bias column
    for l in range(1, L):
        for arr in (trace.z[l], trace.a[l], trace.delta[l]):
            assert arr.shape == (m, sizes[l]) and arr.dtype == np.float64
    for l in range(L - 1):
        assert net.theta[l].shape == (sizes[l + 1], 1 + sizes[l])
        assert trace.grads[l].shape == net.theta[l].shape and trace.grads[l].dtype == np.float64
    assert np.isfinite(trace.cost_data) and trace.cost_regularization == 0.0
    assert trace.cost_total == trace.cost_data + trace.cost_regularization


def test_trace_is_a_snapshot_not_a_view_of_the_engine_buffers():
    sizes, acts, out, loss = ARCHITECTURES[2]
    net = random_network(sizes, acts, out, loss)
    x, y = data(sizes, out, 5)
    first = net.trace(x, y)
    saved = [np.copy(a) for a in first.a], [np.copy(d) for d in first.delta[1:]], [g.copy() for g in first.grads]
    x2, y2 = data(sizes, out, 5, seed=9)
    net.trace(x2, y2)  # same batch size: the same workspace is reused
    net.theta_flat *= 2.0
    for before, after in zip(saved[0], first.a, strict=True):
        np.testing.assert_array_equal(before, after)
    for before, after in zip(saved[1], first.delta[1:], strict=True):
        np.testing.assert_array_equal(before, after)
    for before, after in zip(saved[2], first.grads, strict=True):
        np.testing.assert_array_equal(before, after)
    first.grads[0][:] = 123.0
    assert not np.any(net.theta[0] == 123.0)


def test_theta_views_share_the_flat_vector():
    net = Network((3, 4, 2), ["tanh"], "linear", "mse")
    assert net.theta_flat.size == 4 * 4 + 2 * 5
    net.theta_flat[:] = np.arange(net.theta_flat.size)
    np.testing.assert_array_equal(net.theta[0], np.arange(16).reshape(4, 4))
    np.testing.assert_array_equal(net.theta[1], np.arange(16, 26).reshape(2, 5))
    net.theta[1][0, 0] = -1.0
    assert net.theta_flat[16] == -1.0


# -- initializations ----------------------------------------------------------------------------------


def _init(kind, scale=0.12, seed=0, sizes=(64, 64, 32, 1)):
    net = Network(sizes, ["tanh"] * (len(sizes) - 2), "sigmoid", "cross_entropy")
    net.initialize(kind, scale, np.random.default_rng(seed))
    return net


def test_xavier_stays_within_its_bound_with_zero_bias():
    net = _init("xavier")
    for theta in net.theta:
        fan_out, fan_in = theta.shape[0], theta.shape[1] - 1
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        w = theta[:, 1:]
        assert np.all(theta[:, 0] == 0.0)
        assert np.abs(w).max() <= bound
        if w.size >= 1000:  # a big layer fills its range: max near the bound, std near bound/√3
            assert np.abs(w).max() > 0.98 * bound
            assert w.std() == pytest.approx(bound / np.sqrt(3.0), rel=0.05)
            assert abs(w.mean()) < 0.05 * bound


def test_he_has_std_sqrt_2_over_fan_in_and_zero_bias():
    net = _init("he")
    for theta in net.theta[:2]:
        fan_in = theta.shape[1] - 1
        w = theta[:, 1:]
        assert np.all(theta[:, 0] == 0.0)
        assert w.std() == pytest.approx(np.sqrt(2.0 / fan_in), rel=0.06)
        assert abs(w.mean()) < 0.05 * np.sqrt(2.0 / fan_in)


@pytest.mark.parametrize("scale", [0.12, 1.5])
def test_uniform_lies_within_init_scale_bias_included(scale):
    net = _init("uniform", scale)
    assert np.abs(net.theta_flat).max() <= scale
    assert np.abs(net.theta_flat).max() > 0.98 * scale
    for theta in net.theta:
        assert np.any(theta[:, 0] != 0.0)  # the bias column is drawn too
    assert net.theta_flat.std() == pytest.approx(scale / np.sqrt(3.0), rel=0.05)


def test_constant_sets_every_weight_to_init_scale_and_zeros_to_zero():
    assert np.all(_init("constant", 0.37).theta_flat == 0.37)
    assert np.all(_init("zeros", 0.37).theta_flat == 0.0)


@pytest.mark.parametrize("kind", INITS)
def test_initialization_is_deterministic_for_a_seed_and_drawn_layer_by_layer(kind):
    a, b, c = _init(kind, seed=5), _init(kind, seed=5), _init(kind, seed=6)
    np.testing.assert_array_equal(a.theta_flat, b.theta_flat)
    assert a.theta_flat.dtype == np.float64
    if kind in ("uniform", "xavier", "he"):
        assert not np.array_equal(a.theta_flat, c.theta_flat)
    if kind == "uniform":  # Θ^(1) first, from the generator as given
        expected = np.random.default_rng(5).uniform(-0.12, 0.12, size=a.theta[0].shape)
        np.testing.assert_array_equal(a.theta[0], expected)


# -- forward and cost ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("sizes", "acts", "out", "loss"), ARCHITECTURES, ids=ARCH_IDS)
def test_forward_output_equals_a_plain_numpy_reference(sizes, acts, out, loss):
    net = random_network(sizes, acts, out, loss, seed=3)
    x, y = data(sizes, out, 9)
    expected = reference_forward(net.theta, acts, out, x)
    np.testing.assert_allclose(net.predict(x), expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(net.trace(x, y).a[-1], expected, rtol=1e-13, atol=1e-14)
    if out == "softmax":
        np.testing.assert_allclose(net.predict(x).sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize(("reg", "rate"), [("none", 0.0), ("none", 5.0), ("l1", 0.3), ("l2", 0.3), ("l2", 0.0)])
@pytest.mark.parametrize(("sizes", "acts", "out", "loss"), ARCHITECTURES[1:], ids=ARCH_IDS[1:])
def test_cost_split_matches_the_spec_formula(sizes, acts, out, loss, reg, rate):
    net = random_network(sizes, acts, out, loss, seed=4)
    x, y = data(sizes, out, 8)
    m = len(x)
    h = reference_forward(net.theta, acts, out, x)
    if loss == "mse":
        per_sample = 0.5 * ((h - y) ** 2).sum(axis=1)
    elif out == "sigmoid":
        per_sample = -(y * np.log(h) + (1 - y) * np.log(1 - h)).sum(axis=1)
    else:
        per_sample = -(y * np.log(h)).sum(axis=1)
    non_bias = np.concatenate([t[:, 1:].ravel() for t in net.theta])
    expected_reg = {"none": 0.0, "l1": rate / m * np.abs(non_bias).sum(), "l2": rate / (2 * m) * (non_bias**2).sum()}
    data_term, reg_term = net.cost(x, y, reg, rate)
    assert data_term == pytest.approx(per_sample.mean(), rel=1e-12)
    assert reg_term == pytest.approx(expected_reg[reg], rel=1e-12, abs=0.0)
    trace = net.trace(x, y, reg, rate)
    assert (trace.cost_data, trace.cost_regularization) == pytest.approx((data_term, reg_term), rel=1e-13)
    # a subset uses its own m, in the regularization term too
    sub_data, sub_reg = net.cost(x[:3], y[:3], reg, rate)
    assert sub_data == pytest.approx(per_sample[:3].mean(), rel=1e-12)
    assert sub_reg == pytest.approx(expected_reg[reg] * m / 3, rel=1e-12)


def test_bias_weights_change_the_output_but_not_the_regularization():
    net = random_network((3, 4, 2), ["tanh"], "linear", "mse")
    x, y = data((3, 4, 2), "linear", 6)
    before = net.cost(x, y, "l2", 1.0)
    for t in net.theta:
        t[:, 0] += 0.5
    after = net.cost(x, y, "l2", 1.0)
    assert after[1] == before[1] and after[0] != before[0]


# -- the engine stays free of the web -----------------------------------------------------------------


def test_engine_imports_no_web_framework():
    code = (
        "import json, sys; import app.engine; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'pydantic', 'pydantic_core', 'pydantic_settings', 'starlette', 'uvicorn'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1]
    )
    assert json.loads(out.stdout) == []
