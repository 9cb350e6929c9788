"""The training step compiled by Numba: forward pass, δ, D, the divergence check and the update, for many
steps in one call.

The same maths as network.py, functions.py and optimizers.py (the NumPy path), written as loops over
the same float64 arrays, so that a step costs its arithmetic rather than ~40 NumPy calls. Importing this
module compiles every kernel for the signatures below (or loads them from Numba's on-disk cache, next to
this file), so that nothing compiles later, inside a student's step; paths.py imports it in the background.

Arrays are those of the NumPy path: ``theta`` the flat Θ vector, ``buf`` a Workspace's flat buffer
(one column per sample), ``x`` a [1; x] block with one column per sample and ``y`` the targets alike, read in
the sample order ``order``: a pass over m samples from ``start`` takes columns order[start..start+m−1] (an
epoch's permutation, so that no shuffled copy of the data is made, or 0..m−1). Layers carry the course's numbers
l = 1..L (docs/maths.md): ``layers`` has one row per layer l (row 0 unused) holding S_l, the offset in ``theta``
of Θ^(l) (which joins layer l to layer l + 1), and the rows in ``buf`` where a^(l), z^(l) and δ^(l) begin (the
block of m columns at row r starts at r·m, so one buffer serves any batch size up to its own); ``acts[l]`` is
layer l's activation code. Every operation follows the NumPy path's order of
operations element by element except two: the sums of the matrix products are taken in another order, and tanh
(sigmoid's too) is computed without libm (``tanh`` below: within 2 ulp of NumPy's), so the two paths agree to
~1e-15 relative per step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, types

from .functions import LEAKY_SLOPE
from .optimizers import ADAM_BETA1, ADAM_BETA2, ADAM_EPS
from .shuffle import entropy_words, permutation  # noqa: F401 (loaded, and compiled, with the kernels)

# codes for the names of functions.py and optimizers.py (paths.py translates)
LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, SOFTMAX = range(6)
MSE, CROSS_ENTROPY = range(2)
REGRESSION, CLASSIFICATION, MULTICLASS = range(3)
NO_REGULARIZATION, L1, L2 = range(3)
SGD, MOMENTUM, ADAM = range(3)
SIZE, THETA, A_ROW, Z_ROW, DELTA_ROW = range(5)  # the columns of ``layers`` (row l: layer l)

# The compiled signatures: flat float64 vectors, the layer table and codes, and x, y as read-only blocks of any
# layout (a batch is a slice of an epoch's columns; a dataset's arrays are read-only).
F1, I1, I2 = types.float64[::1], types.int64[::1], types.int64[:, ::1]
DATA = types.Array(types.float64, 2, "A", readonly=True)
i64 = types.int64
ORDER = types.Array(types.int64, 1, "A", readonly=True)
FORWARD_SIG = types.void(F1, I2, I1, F1, DATA, ORDER, i64, i64)
BACKWARD_SIG = types.void(F1, F1, I2, I1, i64, F1, DATA, DATA, ORDER, i64, i64)
METRICS_SIG = types.void(F1, I2, I1, i64, i64, F1, DATA, DATA, ORDER, i64, F1)
REGULARIZATION_SIG = types.float64(F1, I2, i64, types.float64, i64)
F2 = types.float64[:, ::1]
RUN_SIG = types.void(
    F1, F1, F1, F1, F1, F1, F1, F1, F1, F1, DATA, DATA, DATA, DATA, I1, ORDER, ORDER,
    types.Array(types.uint32, 1, "C", readonly=True), I2, I1, I1, F1, I1, F2,
)  # fmt: skip
TRAIN_SIG = i64(F1, F1, F1, F1, F1, F1, F1, DATA, DATA, ORDER, I2, I1, I1, F1, i64, i64, i64, i64, types.boolean, F1)

_njit: Any = njit


def compiled(*signature: Any, nogil: bool = False) -> Any:
    """Numba's njit with the engine's options: cached on disk, NumPy's error model (1/0 is ∞, never an
    exception), and no fastmath (IEEE order of operations, NaN propagates), so that results match the NumPy path.

    The GIL stays held (``nogil`` False) in the kernels that the server calls thousands of times a second for
    microseconds each (a play slice, a recorded step, a probe's pass): releasing it and taking it back made the
    thread wait for the event loop at every call (bench/stream.py, 120 sessions: about 7 thread switches a frame
    and a quarter fewer frames). The ``…_released`` twins below release it, for calls long enough that the
    event loop and other engine threads should run meanwhile; ``compiled.py`` and the trainer choose."""
    return _njit(*signature, cache=True, nogil=nogil, error_model="numpy")


# tanh without a libm call, so that a layer's loop is vectorized: Cephes' rational approximation below |x| = 0.625
# (the coefficients of Cephes' tanh.c, as in Go's math.Tanh), else 1 − 2/(e^{2|x|} + 1) with e^y = 2^k·e^r,
# |r| ≤ ln2/2, e^r by its Taylor series to r^13 (the next term is below 5e-18 relative). Measured against NumPy's
# np.tanh: at most 2 ulp apart (libm's tanh: 3), exactly ±1 for |x| ≥ 20, −0 for −0, NaN for NaN
# (tests/test_paths.py checks this).
_TANH_P = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_TANH_Q = (1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)
_LOG2E, _LN2_HI, _LN2_LO = 1.4426950408889634, 6.93147180369123816490e-01, 1.90821492927058770002e-10
_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = (1.0 / math.factorial(i) for i in range(2, 14))
_POW2 = np.array([2.0**k for k in range(64)])


@njit(inline="always", error_model="numpy")
def tanh(x: float) -> float:
    """tanh(x) to within 2 ulp of NumPy's, in arithmetic a loop can vectorize (see above)."""
    ax = abs(x)
    s = x * x
    p0, p1, p2 = _TANH_P
    q0, q1, q2 = _TANH_Q
    small = x + x * (s * ((p0 * s + p1) * s + p2) / (((s + q0) * s + q1) * s + q2))
    y = 2.0 * (ax if ax < 20.0 else 20.0)  # NaN: y = 40, and the NaN is returned below
    k = int(y * _LOG2E + 0.5)
    kf = float(k)
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    e_r = r * _E13 + _E12
    for c in (_E11, _E10, _E9, _E8, _E7, _E6, _E5, _E4, _E3, _E2, 1.0, 1.0):
        e_r = e_r * r + c
    big = 1.0 - 2.0 / (e_r * _POW2[k & 63] + 1.0)
    if ax < 0.625:
        return small if s != 0.0 else x  # x itself for ±0 and the subnormals
    if x != x:
        return x
    return big if x > 0.0 else -big


@njit(inline="always")
def g(code: int, z: float) -> float:
    """a = g(z) for one unit (softmax is applied per column by ``activate``). NaN stays NaN, as in NumPy."""
    if code == TANH:
        return tanh(z)
    if code == SIGMOID:
        return tanh(z * 0.5) * 0.5 + 0.5
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
def column_max(buf, z0, rows, m, k):
    """max_j z[j, k] of the rows × m block at ``buf[z0:]``: the shift that keeps softmax and log-sum-exp from
    overflowing."""
    top = buf[z0 + k]
    for j in range(1, rows):
        top = max(top, buf[z0 + j * m + k])
    return top


# The passes work on flat offsets, never on reshaped views (a reshape costs more than a small layer's arithmetic).
# Θ^(l) is ``theta[w0 : w0 + S_{l+1}·(1 + S_l)]``, row by row; a block "rows × m at b0" is ``buf[b0 : b0 + rows·m]``,
# one row per unit, one column per sample.


@compiled()
def affine(theta, w0, rows, fan_in, buf, a0, z0, m):
    """z = Θ·[1; a]: Θ at ``theta[w0:]`` (rows × (1 + fan_in), bias weights in column 0: the row of ones is not
    read), a the fan_in × m block at a0, z the rows × m block at z0."""
    width = 1 + fan_in
    for j in range(rows):
        w, z = theta[w0 + j * width : w0 + (j + 1) * width], buf[z0 + j * m : z0 + (j + 1) * m]
        for k in range(m):
            z[k] = w[0]
        for c in range(fan_in):
            a, w_c = buf[a0 + c * m : a0 + (c + 1) * m], w[1 + c]
            for k in range(m):
                z[k] += w_c * a[k]


@compiled()
def activate(code, buf, z0, a0, rows, m):
    """a = g(z) element-wise over the rows × m blocks at z0 (z) and a0 (a), or softmax per column (shifted by the
    column's max z). One loop per activation, so that each is a plain (vectorized) loop."""
    n = rows * m
    z, a = buf[z0 : z0 + n], buf[a0 : a0 + n]
    if code == TANH:
        for i in range(n):
            a[i] = tanh(z[i])
    elif code == SIGMOID:
        for i in range(n):
            a[i] = tanh(z[i] * 0.5) * 0.5 + 0.5
    elif code != SOFTMAX:
        for i in range(n):
            a[i] = g(code, z[i])
    else:
        for k in range(m):
            top = column_max(buf, z0, rows, m, k)
            total = 0.0
            for j in range(rows):
                e = math.exp(z[j * m + k] - top)
                a[j * m + k] = e
                total += e
            for j in range(rows):
                a[j * m + k] /= total


@compiled(FORWARD_SIG)
def forward(theta, layers, acts, buf, x, order, start, m):
    """a^(1) = the columns order[start..start+m−1] of x (without x's row of ones), then z^(l+1) = Θ^(l)·[1; a^(l)],
    a^(l+1) = g(z^(l+1)) for l = 1..L−1, into ``buf``."""
    L = layers.shape[0] - 1
    a0 = layers[1, A_ROW] * m
    for k in range(m):
        i = order[start + k]
        for c in range(layers[1, SIZE]):
            buf[a0 + c * m + k] = x[1 + c, i]
    for l in range(1, L):
        rows = layers[l + 1, SIZE]
        z0, a_above = layers[l + 1, Z_ROW] * m, layers[l + 1, A_ROW] * m
        affine(theta, layers[l, THETA], rows, layers[l, SIZE], buf, layers[l, A_ROW] * m, z0, m)
        activate(acts[l + 1], buf, z0, a_above, rows, m)


@compiled()
def gradient(buf, d0, rows, a0, fan_in, grad, w0, m, inv_m):
    """D = (1/m)·δ·[1; a]ᵀ at ``grad[w0:]`` (rows × (1 + fan_in), the bias column first), from δ the rows × m block
    at d0 and a the fan_in × m block at a0: each entry a sum over the samples in the order k = 0..m−1."""
    width = 1 + fan_in
    for j in range(rows):
        d, delta = grad[w0 + j * width : w0 + (j + 1) * width], buf[d0 + j * m : d0 + (j + 1) * m]
        total = 0.0
        for k in range(m):
            total += delta[k]
        d[0] = total * inv_m
        for c in range(fan_in):
            a = buf[a0 + c * m : a0 + (c + 1) * m]
            total = 0.0
            for k in range(m):
                total += delta[k] * a[k]
            d[1 + c] = total * inv_m


@compiled()
def hidden_delta(theta, w0, rows_above, rows, buf, d_above, z0, a0, d0, code, m):
    """δ^(l) = ((Θ^(l))ᵀ δ^(l+1))_{1..S_l} ⊙ g'(z^(l)) from Θ^(l) at ``theta[w0:]`` (rows_above × (1 + rows)),
    δ^(l+1) at d_above, and z^(l), a^(l) at z0, a0, into the rows × m block at d0: the bias row of Θᵀδ is
    dropped (column 0 of Θ is not read)."""
    width, n = 1 + rows, rows * m
    out, z, a = buf[d0 : d0 + n], buf[z0 : z0 + n], buf[a0 : a0 + n]
    for i in range(n):
        out[i] = 0.0
    for j in range(rows_above):
        w, delta = theta[w0 + j * width : w0 + (j + 1) * width], buf[d_above + j * m : d_above + (j + 1) * m]
        for c in range(rows):
            w_c, o = w[1 + c], out[c * m : (c + 1) * m]
            for k in range(m):
                o[k] += w_c * delta[k]
    for i in range(n):
        out[i] *= g_prime(code, z[i], a[i])


@compiled(BACKWARD_SIG)
def backward(theta, grad, layers, acts, loss, buf, x, y, order, start, m):
    """δ^(L) = ∂ℓ/∂z^(L), then for l = L−1 down to 1: D^(l) = Δ^(l)/m = (1/m)·δ^(l+1)·[1; a^(l)]ᵀ into ``grad``
    (no regularization) and, for l ≥ 2, δ^(l) = ((Θ^(l))ᵀ δ^(l+1))_{1..S_l} ⊙ g'(z^(l)); after ``forward``
    (which put a^(1), the columns of x, into ``buf``); y's columns are read in ``order`` from ``start``."""
    L = layers.shape[0] - 1
    rows = layers[L, SIZE]
    z0, a0, d0 = layers[L, Z_ROW] * m, layers[L, A_ROW] * m, layers[L, DELTA_ROW] * m
    code, nonlinear_mse = acts[L], loss == MSE and acts[L] != LINEAR
    for j in range(rows):
        for k in range(m):
            i = j * m + k
            buf[d0 + i] = buf[a0 + i] - y[j, order[start + k]]
            if nonlinear_mse:
                buf[d0 + i] *= g_prime(code, buf[z0 + i], buf[a0 + i])
    inv_m = 1.0 / m
    for l in range(L - 1, 0, -1):
        s_l, s_above = layers[l, SIZE], layers[l + 1, SIZE]
        d_above, a_l = layers[l + 1, DELTA_ROW] * m, layers[l, A_ROW] * m
        gradient(buf, d_above, s_above, a_l, s_l, grad, layers[l, THETA], m, inv_m)
        if l >= 2:  # there is no δ^(1)
            z_l, d_l = layers[l, Z_ROW] * m, layers[l, DELTA_ROW] * m
            hidden_delta(theta, layers[l, THETA], s_above, s_l, buf, d_above, z_l, a_l, d_l, acts[l], m)


@compiled()
def data_loss_sum(loss, code, buf, z0, a0, rows, y, order, start, m):
    """Σ_i ℓ over the columns of the output blocks z, a (rows × m at z0, a0), as functions.data_loss_sum computes
    it (cross-entropy from z where it must)."""
    total = 0.0
    if loss == MSE:
        for j in range(rows):
            for k in range(m):
                diff = buf[a0 + j * m + k] - y[j, order[start + k]]
                total += diff * diff
        return 0.5 * total
    if code == SIGMOID:  # ln(1 + e^z) − y·z, with NumPy's logaddexp(0, z)
        softplus, yz = 0.0, 0.0
        for j in range(rows):
            for k in range(m):
                v = buf[z0 + j * m + k]
                softplus += v + math.log1p(math.exp(-v)) if v > 0.0 else math.log1p(math.exp(v))
                yz += y[j, order[start + k]] * v
        return softplus - yz
    if buf[a0 : a0 + rows * m].min() > 0.0:  # softmax: −Σ y ln a while no a underflowed, else Σ y (lse(z) − z)
        for j in range(rows):
            for k in range(m):
                total -= y[j, order[start + k]] * math.log(buf[a0 + j * m + k])
        return total
    for k in range(m):
        top = column_max(buf, z0, rows, m, k)
        sum_exp = 0.0
        for j in range(rows):
            sum_exp += math.exp(buf[z0 + j * m + k] - top)
        lse = top + math.log(sum_exp)
        for j in range(rows):
            total += y[j, order[start + k]] * (lse - buf[z0 + j * m + k])
    return total


@compiled(METRICS_SIG)
def metrics(theta, layers, acts, loss, task, buf, x, y, order, m, out):
    """A forward pass over a whole set (m samples in ``order``), then into ``out``: Σ_i ℓ and the accuracy (NaN for
    regression): the share of outputs on the right side of 0.5 (classification), or of samples whose largest
    output is their target's (multiclass; the first one on a tie, as NumPy's argmax)."""
    forward(theta, layers, acts, buf, x, order, 0, m)
    L = layers.shape[0] - 1
    rows, z0, a0 = layers[L, SIZE], layers[L, Z_ROW] * m, layers[L, A_ROW] * m
    out[0] = data_loss_sum(loss, acts[L], buf, z0, a0, rows, y, order, 0, m)
    right = 0
    if task == CLASSIFICATION:
        for j in range(rows):
            for k in range(m):
                right += (buf[a0 + j * m + k] >= 0.5) == (y[j, order[k]] >= 0.5)
        out[1] = right / (rows * m)
    elif task == MULTICLASS:
        for k in range(m):
            best_a, best_y = 0, 0
            for j in range(1, rows):
                if buf[a0 + j * m + k] > buf[a0 + best_a * m + k]:
                    best_a = j
                if y[j, order[k]] > y[best_y, order[k]]:
                    best_y = j
            right += best_a == best_y
        out[1] = right / m
    else:
        out[1] = math.nan


@compiled()
def regularize(theta, grad, layers, kind, rate_over_m, grad_sq):
    """D += ∂R/∂Θ (never on the bias column), and ‖D^(l)‖² into ``grad_sq[l − 1]``, l = 1..L−1."""
    for l in range(1, layers.shape[0] - 1):
        w0, rows, width = layers[l, THETA], layers[l + 1, SIZE], 1 + layers[l, SIZE]
        total = 0.0
        for j in range(rows):
            for c in range(width):
                i = w0 + j * width + c
                if c > 0 and kind != NO_REGULARIZATION:
                    r = theta[i] if kind == L2 else np.sign(theta[i])
                    grad[i] += r * rate_over_m
                total += grad[i] * grad[i]
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
    theta,
    grad,
    update,
    s1,
    s2,
    grad_sq,
    buf,
    x,
    y,
    order,
    layers,
    acts,
    setup,
    hyper,
    t,
    batch,
    start,
    count,
    record,
    cost,
):
    """``count`` mini-batch updates on consecutive batches of ``batch`` samples in ``order`` from ``start`` (the
    last batch may be short). ``setup`` is (loss, regularization, optimizer), ``hyper`` (α, λ, μ), ``t`` adam's
    update count before the first step. Before each update, a non-finite Σ‖D‖² stops the run with Θ as it
    was. With ``record``, ``cost[0]`` is the last batch's data term (1/m)Σℓ before its update; ``buf``,
    ``grad`` and ``update`` hold that batch's pass, D and ΔΘ. Returns the number of updates made."""
    loss, kind, optimizer = setup[0], setup[1], setup[2]
    lr, rate, mu = hyper[0], hyper[1], hyper[2]
    n, L = order.size, layers.shape[0] - 1
    for done in range(count):
        m = min(batch, n - start)
        forward(theta, layers, acts, buf, x, order, start, m)
        backward(theta, grad, layers, acts, loss, buf, x, y, order, start, m)
        if record:
            z0, a0 = layers[L, Z_ROW] * m, layers[L, A_ROW] * m
            cost[0] = data_loss_sum(loss, acts[L], buf, z0, a0, layers[L, SIZE], y, order, start, m) / m
        regularize(theta, grad, layers, kind, rate / m, grad_sq)
        if not math.isfinite(grad_sq.sum()):
            return done
        apply_update(optimizer, theta, grad, update, s1, s2, lr, mu, t + done + 1)
        start += m
    return count


@compiled(REGULARIZATION_SIG)
def regularization_cost(theta, layers, kind, rate, m):
    """R(Θ) over m samples, never on the bias column: (λ/2m)·ΣΘ² (l2) or (λ/m)·Σ|Θ| (l1)."""
    if kind == NO_REGULARIZATION or rate == 0.0:
        return 0.0
    total = 0.0
    for l in range(1, layers.shape[0] - 1):
        w0, rows, width = layers[l, THETA], layers[l + 1, SIZE], 1 + layers[l, SIZE]
        for j in range(rows):
            for c in range(1, width):
                w = theta[w0 + j * width + c]
                total += w * w if kind == L2 else abs(w)
    return rate / (2.0 * m) * total if kind == L2 else rate / m * total


@compiled(RUN_SIG)
def run(
    theta, grad, update, s1, s2, grad_sq, safe, buf, buf_train, buf_test, x, y, x_test, y_test, order,
    train_columns, test_columns, seed_words, layers, acts, setup, hyper, state, history,
):  # fmt: skip
    """A whole training slice in one call: steps across epochs, each epoch's order drawn as NumPy draws it
    (shuffle.py), and at each epoch's end its metrics, as Trainer._log_epoch takes them, and Θ kept as the last
    finite weights (``safe``).

    ``setup`` is (loss, regularization, optimizer, task, batch size), ``hyper`` (α, λ, μ); ``buf_train`` and
    ``buf_test`` are the workspaces of the two sets (their columns 0..n−1 in ``train_columns``, ``test_columns``);
    ``order`` holds the current epoch's order (drawn here when ``state`` says it is not). ``state`` is read as
    [epoch, offset, most steps, most epoch ends (−1: no bound), adam's update count, order drawn (1) or not (0)]
    and written back as [epoch, offset, steps done, epoch ends, adam's update count, why it stopped early: 0 no,
    1 a non-finite gradient (Θ as before that step), 2 a non-finite cost at an epoch's end, order drawn].
    Row r of ``history`` is the r-th epoch end: [steps done by then, train loss, test loss (NaN without a test
    set), R, train accuracy, test accuracy (NaN where none), ‖D^(l)‖² for l = 1..L−1 (of its last step)]."""
    loss, kind, optimizer, task, batch = setup[0], setup[1], setup[2], setup[3], setup[4]
    lr, rate, mu = hyper[0], hyper[1], hyper[2]
    epoch, offset, most_steps, most_ends, t, drawn = state[0], state[1], state[2], state[3], state[4], state[5]
    n, n_test = order.size, test_columns.size
    out = np.empty(2)
    done, ends, reason = 0, 0, 0
    while done < most_steps and (most_ends < 0 or ends < most_ends):
        if drawn == 0:
            permutation(seed_words, epoch, order)
            drawn = 1
        m = min(batch, n - offset)
        forward(theta, layers, acts, buf, x, order, offset, m)
        backward(theta, grad, layers, acts, loss, buf, x, y, order, offset, m)
        regularize(theta, grad, layers, kind, rate / m, grad_sq)
        if not math.isfinite(grad_sq.sum()):
            reason = 1
            break
        t += 1
        apply_update(optimizer, theta, grad, update, s1, s2, lr, mu, t)
        done += 1
        offset += m
        if offset < n:
            continue
        epoch, offset, drawn = epoch + 1, 0, 0
        row = history[ends]
        ends += 1
        row[0] = done
        metrics(theta, layers, acts, loss, task, buf_train, x, y, train_columns, n, out)
        row[1], row[4] = out[0] / n, out[1]
        row[2] = row[5] = math.nan
        if n_test > 0:
            metrics(theta, layers, acts, loss, task, buf_test, x_test, y_test, test_columns, n_test, out)
            row[2], row[5] = out[0] / n_test, out[1]
        row[3] = regularization_cost(theta, layers, kind, rate, n)
        row[6:] = grad_sq
        if not (math.isfinite(row[1]) and math.isfinite(row[3])):
            reason = 2
            break
        safe[:] = theta
    state[0], state[1], state[2], state[3], state[4], state[5], state[6] = epoch, offset, done, ends, t, reason, drawn


# -- the same kernels with the GIL released while they run (for long calls; see ``compiled``) -----------------


@compiled(RUN_SIG, nogil=True)
def run_released(
    theta, grad, update, s1, s2, grad_sq, safe, buf, buf_train, buf_test, x, y, x_test, y_test, order,
    train_columns, test_columns, seed_words, layers, acts, setup, hyper, state, history,
):  # fmt: skip
    """``run``, the GIL released."""
    run(
        theta, grad, update, s1, s2, grad_sq, safe, buf, buf_train, buf_test, x, y, x_test, y_test, order,
        train_columns, test_columns, seed_words, layers, acts, setup, hyper, state, history,
    )  # fmt: skip


@compiled(METRICS_SIG, nogil=True)
def metrics_released(theta, layers, acts, loss, task, buf, x, y, order, m, out):
    """``metrics``, the GIL released."""
    metrics(theta, layers, acts, loss, task, buf, x, y, order, m, out)
