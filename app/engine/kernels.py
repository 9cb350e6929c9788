"""The training step compiled by Numba: forward pass, δ, D, the divergence check and the update, for many
steps in one call.

The same maths as network.py, functions.py and optimizers.py (the NumPy path), written as loops over
the same float64 arrays, so that a step costs its arithmetic rather than ~40 NumPy calls. Importing this
module compiles every kernel for the signatures below (or loads them from Numba's on-disk cache, next to
this file), so that nothing compiles later, inside a student's step; paths.py imports it in the background.

Arrays are those of the NumPy path: ``theta`` the flat Θ vector, ``buf`` a Workspace's flat buffer
(one column per sample), ``x`` a [1; x] block with one column per sample. Layers carry the course's numbers
l = 1..L (docs/maths.md): ``layers`` has one row per layer l (row 0 unused) holding S_l, the offset in ``theta``
of Θ^(l) (which joins layer l to layer l + 1), and the rows in ``buf`` where a^(l), z^(l) and δ^(l) begin (the
block of m columns at row r starts at r·m, so one buffer serves any batch size up to its own); ``acts[l]`` is
layer l's activation code. Every operation follows the NumPy path's order of
operations element by element; only the sums of the matrix products are taken in another order, so the two
paths agree to ~1e-15 relative per step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, types

from .functions import LEAKY_SLOPE
from .optimizers import ADAM_BETA1, ADAM_BETA2, ADAM_EPS

# codes for the names of functions.py and optimizers.py (paths.py translates)
LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, SOFTMAX = range(6)
MSE, CROSS_ENTROPY = range(2)
NO_REGULARIZATION, L1, L2 = range(3)
SGD, MOMENTUM, ADAM = range(3)
SIZE, THETA, A_ROW, Z_ROW, DELTA_ROW = range(5)  # the columns of ``layers`` (row l: layer l)

# The compiled signatures: flat float64 vectors, the layer table and codes, and x, y as read-only blocks of any
# layout (a batch is a slice of an epoch's columns; a dataset's arrays are read-only).
F1, I1, I2 = types.float64[::1], types.int64[::1], types.int64[:, ::1]
DATA = types.Array(types.float64, 2, "A", readonly=True)
i64 = types.int64
FORWARD_SIG = types.void(F1, I2, I1, F1, DATA, i64, i64)
BACKWARD_SIG = types.void(F1, F1, I2, I1, i64, F1, DATA, DATA, i64, i64)
TRAIN_SIG = i64(F1, F1, F1, F1, F1, F1, F1, DATA, DATA, I2, I1, I1, F1, i64, i64, i64, i64, types.boolean, F1)

_njit: Any = njit


def compiled(*signature: Any) -> Any:
    """Numba's njit with the engine's options: cached on disk, the GIL released while it runs (other sessions'
    threads go on), NumPy's error model (1/0 is ∞, never an exception), and no fastmath (IEEE order of
    operations, NaN propagates), so that results match the NumPy path."""
    return _njit(*signature, cache=True, nogil=True, error_model="numpy")


@njit(inline="always")
def g(code: int, z: float) -> float:
    """a = g(z) for one unit (softmax is applied per column by ``activate``). NaN stays NaN, as in NumPy."""
    if code == TANH:
        return math.tanh(z)
    if code == SIGMOID:
        return math.tanh(z * 0.5) * 0.5 + 0.5
    if code == RELU:
        return z if (z >= 0.0 or z != z) else 0.0
    if code == LEAKY_RELU:
        t = z * LEAKY_SLOPE
        return z if (z >= t or z != z) else t
    return z


@njit(inline="always")
def g_prime(code: int, z: float, a: float) -> float:
    """g'(z), through z and a = g(z)."""
    if code == TANH:
        return 1.0 - a * a
    if code == SIGMOID:
        return (1.0 - a) * a
    if code == RELU:
        return 1.0 if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return (1.0 if z > 0.0 else 0.0) * (1.0 - LEAKY_SLOPE) + LEAKY_SLOPE
    return 1.0


@njit(inline="always")
def block(buf, row, rows, m):
    """The rows × m block of ``buf`` that starts at row ``row``."""
    return buf[row * m : (row + rows) * m].reshape((rows, m))


@njit(inline="always")
def weights(theta, layers, l):
    """Θ^(l) (or D^(l), from the gradient vector), S_{l+1} × (1 + S_l), bias weights in column 0."""
    rows, fan_in = layers[l + 1, SIZE], layers[l, SIZE]
    return theta[layers[l, THETA] : layers[l, THETA] + rows * (1 + fan_in)].reshape((rows, 1 + fan_in))


@njit(inline="always")
def activations(buf, x, layers, l, start, m):
    """a^(l) without its row of ones: the batch's columns of x for l = 1, else the block in ``buf``."""
    if l == 1:
        return x[1:, start : start + m]
    return block(buf, layers[l, A_ROW], layers[l, SIZE], m)


@njit(inline="always")
def rows_of(buf, layers, l, kind, m):
    """a^(l) (kind A_ROW, without its row of ones), z^(l) (Z_ROW) or δ^(l) (DELTA_ROW), S_l × m, for l ≥ 2."""
    return block(buf, layers[l, kind], layers[l, SIZE], m)


@njit(inline="always")
def column_max(z, k):
    """max_j z[j, k]: the shift that keeps softmax and log-sum-exp from overflowing."""
    top = z[0, k]
    for j in range(1, z.shape[0]):
        top = max(top, z[j, k])
    return top


@compiled()
def affine(w, a, z):
    """z = Θ·[1; a]: column 0 of Θ is the bias weight, the row of ones is not stored."""
    s, m = z.shape
    for j in range(s):
        for k in range(m):
            z[j, k] = w[j, 0]
        for c in range(a.shape[0]):
            wjc = w[j, c + 1]
            for k in range(m):
                z[j, k] += wjc * a[c, k]


@compiled()
def activate(code, z, a):
    """a = g(z) element-wise, or softmax per column (shifted by the column's max z)."""
    s, m = z.shape
    if code != SOFTMAX:
        for j in range(s):
            for k in range(m):
                a[j, k] = g(code, z[j, k])
        return
    for k in range(m):
        top = column_max(z, k)
        total = 0.0
        for j in range(s):
            a[j, k] = math.exp(z[j, k] - top)
            total += a[j, k]
        for j in range(s):
            a[j, k] /= total


@compiled(FORWARD_SIG)
def forward(theta, layers, acts, buf, x, start, m):
    """z^(l+1) = Θ^(l)·[1; a^(l)], a^(l+1) = g(z^(l+1)) for l = 1..L−1, on the m columns of x from ``start``,
    into ``buf``."""
    L = layers.shape[0] - 1
    for l in range(1, L):
        z, a = rows_of(buf, layers, l + 1, Z_ROW, m), rows_of(buf, layers, l + 1, A_ROW, m)
        if l + 1 < L:
            buf[(layers[l + 1, A_ROW] - 1) * m : layers[l + 1, A_ROW] * m] = 1.0  # the bias row of [1; a^(l+1)]
        affine(weights(theta, layers, l), activations(buf, x, layers, l, start, m), z)
        activate(acts[l + 1], z, a)


@compiled()
def gradient(delta, a, d, inv_m):
    """D = (1/m)·δ·[1; a]ᵀ, the bias column first. Sample by sample, so that every sum over the samples is a
    separate accumulator (no chain of dependent additions), each added in the order k = 0..m−1."""
    s, m = delta.shape
    d[:] = 0.0
    for k in range(m):
        for j in range(s):
            djk = delta[j, k]
            d[j, 0] += djk
            for c in range(a.shape[0]):
                d[j, c + 1] += djk * a[c, k]
    for j in range(s):
        for c in range(d.shape[1]):
            d[j, c] *= inv_m


@compiled()
def hidden_delta(w, delta, code, z, a, out):
    """δ^(l) = ((Θ^(l))ᵀ δ^(l+1))_{1..S_l} ⊙ g'(z^(l)) from w = Θ^(l), delta = δ^(l+1), z^(l) and a^(l): the bias
    row of Θᵀδ is dropped."""
    s, m = out.shape
    out[:] = 0.0
    for j in range(delta.shape[0]):
        for c in range(s):
            wjc = w[j, c + 1]
            for k in range(m):
                out[c, k] += wjc * delta[j, k]
    for c in range(s):
        for k in range(m):
            out[c, k] *= g_prime(code, z[c, k], a[c, k])


@compiled(BACKWARD_SIG)
def backward(theta, grad, layers, acts, loss, buf, x, y, start, m):
    """δ^(L) = ∂ℓ/∂z^(L), then for l = L−1 down to 1: D^(l) = Δ^(l)/m = (1/m)·δ^(l+1)·[1; a^(l)]ᵀ into ``grad``
    (no regularization) and, for l ≥ 2, δ^(l) = ((Θ^(l))ᵀ δ^(l+1))_{1..S_l} ⊙ g'(z^(l)); after ``forward``.

    ``y`` holds the targets of the same columns as ``x``."""
    L = layers.shape[0] - 1
    z, a, d = (
        rows_of(buf, layers, L, Z_ROW, m),
        rows_of(buf, layers, L, A_ROW, m),
        rows_of(buf, layers, L, DELTA_ROW, m),
    )
    code, nonlinear_mse = acts[L], loss == MSE and acts[L] != LINEAR
    for j in range(layers[L, SIZE]):
        for k in range(m):
            d[j, k] = a[j, k] - y[j, start + k]
            if nonlinear_mse:
                d[j, k] *= g_prime(code, z[j, k], a[j, k])
    inv_m = 1.0 / m
    for l in range(L - 1, 0, -1):
        delta_above, a_l = rows_of(buf, layers, l + 1, DELTA_ROW, m), activations(buf, x, layers, l, start, m)
        gradient(delta_above, a_l, weights(grad, layers, l), inv_m)
        if l >= 2:  # there is no δ^(1)
            z_l, delta_l = rows_of(buf, layers, l, Z_ROW, m), rows_of(buf, layers, l, DELTA_ROW, m)
            hidden_delta(weights(theta, layers, l), delta_above, acts[l], z_l, a_l, delta_l)


@compiled()
def data_loss_sum(loss, code, z, a, y, start):
    """Σ_i ℓ over the columns, as functions.data_loss_sum computes it (cross-entropy from z where it must)."""
    s, m = z.shape
    total = 0.0
    if loss == MSE:
        for j in range(s):
            for k in range(m):
                diff = a[j, k] - y[j, start + k]
                total += diff * diff
        return 0.5 * total
    if code == SIGMOID:  # ln(1 + e^z) − y·z, with NumPy's logaddexp(0, z)
        softplus, yz = 0.0, 0.0
        for j in range(s):
            for k in range(m):
                v = z[j, k]
                softplus += v + math.log1p(math.exp(-v)) if v > 0.0 else math.log1p(math.exp(v))
                yz += y[j, start + k] * v
        return softplus - yz
    if a.min() > 0.0:  # softmax: −Σ y ln a while no a underflowed, else Σ y (logsumexp(z) − z)
        for j in range(s):
            for k in range(m):
                total -= y[j, start + k] * math.log(a[j, k])
        return total
    for k in range(m):
        top = column_max(z, k)
        sum_exp = 0.0
        for j in range(s):
            sum_exp += math.exp(z[j, k] - top)
        lse = top + math.log(sum_exp)
        for j in range(s):
            total += y[j, start + k] * (lse - z[j, k])
    return total


@compiled()
def regularize(theta, grad, layers, kind, rate_over_m, grad_sq):
    """D += ∂R/∂Θ (never on the bias column), and ‖D^(l)‖² into ``grad_sq[l − 1]``, l = 1..L−1."""
    for l in range(1, layers.shape[0] - 1):
        w, d = weights(theta, layers, l), weights(grad, layers, l)
        total = 0.0
        for j in range(d.shape[0]):
            for c in range(d.shape[1]):
                if c > 0 and kind != NO_REGULARIZATION:
                    r = w[j, c] if kind == L2 else np.sign(w[j, c])
                    d[j, c] += r * rate_over_m
                total += d[j, c] * d[j, c]
        grad_sq[l - 1] = total


@compiled()
def apply_update(kind, theta, grad, update, s1, s2, lr, mu, t):
    """Θ += ΔΘ for sgd (ΔΘ = −αD), momentum (v ← μv − αD, ΔΘ = v in ``s1``) or adam (update number t, with
    the moments m, v in ``s1``, ``s2``); the update ΔΘ into ``update``. The NumPy path's operations, element by
    element."""
    if kind == SGD:
        for i in range(theta.size):
            update[i] = grad[i] * -lr
            theta[i] += update[i]
    elif kind == MOMENTUM:
        for i in range(theta.size):
            s1[i] = s1[i] * mu - grad[i] * lr
            theta[i] += s1[i]
            update[i] = s1[i]
    else:
        c1, c2 = 1.0 - math.pow(ADAM_BETA1, t), 1.0 - math.pow(ADAM_BETA2, t)
        for i in range(theta.size):
            s1[i] = s1[i] * ADAM_BETA1 + grad[i] * (1.0 - ADAM_BETA1)
            s2[i] = s2[i] * ADAM_BETA2 + (grad[i] * grad[i]) * (1.0 - ADAM_BETA2)
            update[i] = s1[i] / c1 / (math.sqrt(s2[i] / c2) + ADAM_EPS) * -lr
            theta[i] += update[i]


@compiled(TRAIN_SIG)
def train(
    theta, grad, update, s1, s2, grad_sq, buf, x, y, layers, acts, setup, hyper, t, batch, start, count, record, cost
):
    """``count`` mini-batch updates on consecutive batches of ``batch`` columns of x from ``start`` (the last
    batch may be short). ``setup`` is (loss, regularization, optimizer), ``hyper`` (α, λ, μ), ``t`` adam's
    update count before the first step. Before each update, a non-finite Σ‖D‖² stops the run with Θ as it
    was. With ``record``, ``cost[0]`` is the last batch's data term (1/m)Σℓ before its update; ``buf``,
    ``grad`` and ``update`` hold that batch's pass, D and ΔΘ. Returns the number of updates made."""
    loss, kind, optimizer = setup[0], setup[1], setup[2]
    lr, rate, mu = hyper[0], hyper[1], hyper[2]
    n, L = x.shape[1], layers.shape[0] - 1
    for done in range(count):
        m = min(batch, n - start)
        forward(theta, layers, acts, buf, x, start, m)
        backward(theta, grad, layers, acts, loss, buf, x, y, start, m)
        if record:
            z, a = rows_of(buf, layers, L, Z_ROW, m), rows_of(buf, layers, L, A_ROW, m)
            cost[0] = data_loss_sum(loss, acts[L], z, a, y, start) / m
        regularize(theta, grad, layers, kind, rate / m, grad_sq)
        if not math.isfinite(grad_sq.sum()):
            return done
        apply_update(optimizer, theta, grad, update, s1, s2, lr, mu, t + done + 1)
        start += m
    return count
