"""The plain reference: docs/maths.md's forward pass, cost, δ, Δ and D, one sample at a time.

Written straight from docs/maths.md with its indices, and nothing else: layers l = 1..L, Θ^(l) joins layer l to
layer l + 1 (S_{l+1} × (1 + S_l), bias weights in column 0), one column vector per sample, a loop over the
samples and a loop over the layers. No speed tricks and no code shared with the fast paths (network.py and
functions.py, the NumPy path; kernels.py, the compiled one): the tests hold both to this module (to 1e-12
relative) and this module to central differences of its own cost (tests/test_gradcheck.py).

Every list here is indexed by the course's layer number: ``a[l]`` is a^(l), ``theta[l]`` is Θ^(l), and the
unused index 0 (and any index the maths does not define, such as z^(1) or δ^(1)) holds None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray


def g(name: str, z: Array) -> Array:
    """a = g(z) for a column z (softmax over the whole column)."""
    if name == "sigmoid":
        return 0.5 * np.tanh(0.5 * z) + 0.5  # = 1/(1 + e^−z), with no exponential to overflow
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(0.0, z)
    if name == "leaky_relu":
        return np.maximum(0.01 * z, z)
    if name == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    return z  # linear


def g_prime(name: str, z: Array, a: Array) -> Array:
    """g'(z), written through z and a = g(z)."""
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (z > 0.0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0.0, 1.0, 0.01)
    return np.ones_like(z)  # linear


def loss(name: str, output_activation: str, z: Array, h: Array, y: Array) -> float:
    """ℓ(h, y) for one sample (z = z^(L), h = a^(L) = h_Θ(x))."""
    if name == "mse":
        return 0.5 * float(np.sum((h - y) ** 2))
    if output_activation == "sigmoid":  # −Σ_k [y_k ln h_k + (1 − y_k) ln(1 − h_k)], from z so it stays finite
        return float(np.sum(np.logaddexp(0.0, z) - y * z))
    return -float(np.sum(y * np.log(h)))  # softmax


@dataclass
class Backprop:
    """One forward and backward pass over m samples: z^(l), a^(l), δ^(l) with one row per sample (None where
    the maths defines none), D^(l) shaped like Θ^(l), and J's two terms. Indexed by the course's l."""

    z: list[Any]
    a: list[Any]
    delta: list[Any]
    D: list[Any]
    cost_data: float
    cost_regularization: float


class Net:
    """Θ^(1..L−1) and the activation of every layer, indexed by the course's l (``weights[l − 1]`` is Θ^(l),
    as in JSON)."""

    def __init__(
        self, weights: Sequence[Array], hidden_activations: Sequence[str], output_activation: str, loss: str
    ) -> None:
        self.L = len(weights) + 1
        self.theta: list[Any] = [None, *(np.asarray(w, dtype=np.float64) for w in weights)]
        self.g: list[Any] = [None, None, *hidden_activations, output_activation]  # layer l's g (none for l = 1)
        self.output_activation, self.loss = output_activation, loss

    def forward(self, x: Array) -> tuple[list[Any], list[Any]]:
        """z^(l) and a^(l) for one sample x (a column): a^(1) = x, z^(l+1) = Θ^(l)·[1; a^(l)], a^(l+1) = g(z^(l+1))."""
        L, theta = self.L, self.theta
        z: list[Any] = [None] * (L + 1)
        a: list[Any] = [None] * (L + 1)
        a[1] = x
        for l in range(1, L):
            z[l + 1] = theta[l] @ np.vstack(([[1.0]], a[l]))
            a[l + 1] = g(self.g[l + 1], z[l + 1])
        return z, a

    def deltas(self, z: list[Any], a: list[Any], y: Array) -> list[Any]:
        """δ^(l) for one sample after its forward pass: δ^(L) = a^(L) − y (times g_out'(z^(L)) for mse on a
        non-linear output), then δ^(l) = ((Θ^(l))ᵀ δ^(l+1))_{1..S_l} ⊙ g'(z^(l)) for l = L − 1 down to 2 (the bias
        row of Θᵀδ dropped). There is no δ^(1)."""
        L, theta = self.L, self.theta
        delta: list[Any] = [None] * (L + 1)
        delta[L] = a[L] - y
        if self.loss == "mse" and self.output_activation != "linear":
            delta[L] = delta[L] * g_prime(self.output_activation, z[L], a[L])
        for l in range(L - 1, 1, -1):
            delta[l] = (theta[l].T @ delta[l + 1])[1:] * g_prime(self.g[l], z[l], a[l])
        return delta


def regularization(kind: str, rate: float, m: int, theta: Sequence[Any]) -> float:
    """R(Θ), never on the bias column (i = 0): L2 (λ/2m) Σ Θ², L1 (λ/m) Σ |Θ|."""
    weights = [t[:, 1:] for t in theta if t is not None]
    if kind == "l2":
        return rate / (2 * m) * sum(float(np.sum(w**2)) for w in weights)
    if kind == "l1":
        return rate / m * sum(float(np.sum(np.abs(w))) for w in weights)
    return 0.0


def backprop(net: Net, x: Array, y: Array, regularization_kind: str = "none", rate: float = 0.0) -> Backprop:
    """The pass over the rows of samples x (m × S_1) with targets y (m × S_L): forward, δ, Δ, D and J."""
    L, theta, m = net.L, net.theta, len(x)
    rows: dict[str, list[list[Array]]] = {name: [[] for _ in range(L + 1)] for name in ("z", "a", "delta")}
    big_delta: list[Any] = [None, *(np.zeros_like(theta[l]) for l in range(1, L))]  # Δ^(1..L−1)
    loss_sum = 0.0
    for i in range(m):  # one sample at a time, as column vectors
        x_i = np.asarray(x[i], dtype=np.float64).reshape(-1, 1)
        y_i = np.asarray(y[i], dtype=np.float64).reshape(-1, 1)
        z, a = net.forward(x_i)
        loss_sum += loss(net.loss, net.output_activation, z[L], a[L], y_i)
        delta = net.deltas(z, a, y_i)
        for l in range(1, L):  # Δ^(l) += δ^(l+1) [1; a^(l)]ᵀ
            big_delta[l] += delta[l + 1] @ np.vstack(([[1.0]], a[l])).T
        for name, values in (("z", z), ("a", a), ("delta", delta)):
            for l in range(1, L + 1):
                if values[l] is not None:
                    rows[name][l].append(values[l].ravel())

    # D^(l) = Δ^(l)/m + ∂R/∂Θ^(l), with ∂R/∂Θ = (λ/m)Θ (L2) or (λ/m) sign(Θ) (L1), zero on the bias column
    D: list[Any] = [None] * L
    for l in range(1, L):
        D[l] = big_delta[l] / m
        if regularization_kind == "l2":
            D[l][:, 1:] += rate / m * theta[l][:, 1:]
        elif regularization_kind == "l1":
            D[l][:, 1:] += rate / m * np.sign(theta[l][:, 1:])

    def stacked(name: str) -> list[Any]:
        return [np.vstack(r) if r else None for r in rows[name]]

    return Backprop(
        z=stacked("z"),
        a=stacked("a"),
        delta=stacked("delta"),
        D=D,
        cost_data=loss_sum / m,
        cost_regularization=regularization(regularization_kind, rate, m, theta),
    )


def cost(net: Net, x: Array, y: Array, regularization_kind: str = "none", rate: float = 0.0) -> float:
    """J(Θ) = (1/m) Σ_i ℓ(h_Θ(x_i), y_i) + R(Θ), forward passes only."""
    m, L = len(x), net.L
    total = 0.0
    for i in range(m):
        z, a = net.forward(np.asarray(x[i], dtype=np.float64).reshape(-1, 1))
        total += loss(net.loss, net.output_activation, z[L], a[L], np.asarray(y[i], dtype=np.float64).reshape(-1, 1))
    return total / m + regularization(regularization_kind, rate, m, net.theta)
