"""Activations g, their derivatives g', the per-sample losses ℓ and the regularizers R of docs/maths.md
("The forward pass", "The cost", "The backward pass"), for the NumPy path.

Every function writes into a caller-owned ``out`` array so that the training loop allocates nothing.
Inside the engine, arrays are (units, m): one *column* per sample, as in the course's column vectors,
so that a layer's activations are contiguous rows below the bias row. Traces are transposed for users.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import EngineError

Array = np.ndarray
LEAKY_SLOPE = 0.01


def _sigmoid(z: Array, out: Array) -> None:
    """a = 1 / (1 + e^-z), computed as ½·tanh(z/2) + ½ so that no exp can overflow."""
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    np.multiply(out, 0.5, out=out)
    np.add(out, 0.5, out=out)


def _sigmoid_prime(z: Array, a: Array, out: Array) -> None:
    """g'(z) = a(1 − a)."""
    np.subtract(1.0, a, out=out)
    np.multiply(out, a, out=out)


def _tanh(z: Array, out: Array) -> None:
    np.tanh(z, out=out)


def _tanh_prime(z: Array, a: Array, out: Array) -> None:
    """g'(z) = 1 − a²."""
    np.multiply(a, a, out=out)
    np.subtract(1.0, out, out=out)


def _relu(z: Array, out: Array) -> None:
    np.maximum(z, 0.0, out=out)


def _relu_prime(z: Array, a: Array, out: Array) -> None:
    """g'(z) = 1 for z > 0, else 0 (0 at z = 0)."""
    np.greater(z, 0.0, out=out)


def _leaky_relu(z: Array, out: Array) -> None:
    np.multiply(z, LEAKY_SLOPE, out=out)
    np.maximum(z, out, out=out)


def _leaky_relu_prime(z: Array, a: Array, out: Array) -> None:
    """g'(z) = 1 for z > 0, else 0.01."""
    np.greater(z, 0.0, out=out)
    np.multiply(out, 1.0 - LEAKY_SLOPE, out=out)
    np.add(out, LEAKY_SLOPE, out=out)


def _linear(z: Array, out: Array) -> None:
    np.copyto(out, z)


def _linear_prime(z: Array, a: Array, out: Array) -> None:
    out.fill(1.0)


def _softmax(z: Array, out: Array) -> None:
    """a_k = e^{z_k} / Σ_j e^{z_j}, shifted by max z for stability."""
    np.subtract(z, z.max(axis=0, keepdims=True), out=out)
    np.exp(out, out=out)
    np.divide(out, out.sum(axis=0, keepdims=True), out=out)


@dataclass(frozen=True)
class Activation:
    """An activation g with its derivative g'(z) expressed through z and a = g(z)."""

    name: str
    forward: Callable[[Array, Array], None]
    prime: Callable[[Array, Array, Array], None]


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_prime),
    "tanh": Activation("tanh", _tanh, _tanh_prime),
    "relu": Activation("relu", _relu, _relu_prime),
    "leaky_relu": Activation("leaky_relu", _leaky_relu, _leaky_relu_prime),
    "linear": Activation("linear", _linear, _linear_prime),
}
HIDDEN_ACTIVATIONS = tuple(ACTIVATIONS)
OUTPUT_ACTIVATIONS = ("linear", "sigmoid", "tanh", "softmax")


def _softmax_prime(z: Array, a: Array, out: Array) -> None:
    raise EngineError("output_activation", "softmax has a Jacobian, not an element-wise derivative")


SOFTMAX = Activation("softmax", _softmax, _softmax_prime)
LOSSES = ("mse", "cross_entropy")
REGULARIZATIONS = ("none", "l1", "l2")


def activation(name: str, field: str = "activation") -> Activation:
    """Look up an activation by name (softmax only as an output activation)."""
    if name == "softmax":
        return SOFTMAX
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise EngineError(field, f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None


def check_output_pair(output_activation: str, loss: str, outputs: int) -> None:
    """Refuse the output/loss pairs that make no sense (docs/maths.md, "The cost")."""
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise EngineError(
            "output_activation",
            f"unknown output activation {output_activation!r}; choose one of {', '.join(OUTPUT_ACTIVATIONS)}",
        )
    if loss not in LOSSES:
        raise EngineError("loss", f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if loss == "cross_entropy" and output_activation in ("linear", "tanh"):
        raise EngineError(
            "loss",
            f"cross-entropy needs outputs in (0, 1): use a sigmoid or softmax output, not {output_activation}",
        )
    if output_activation == "softmax" and outputs < 2:
        raise EngineError("output_activation", "softmax needs at least 2 output units")
    if output_activation == "softmax" and loss == "mse":
        raise EngineError("loss", "softmax outputs go with cross-entropy, not mse")


def data_loss_sum(loss: str, output_activation: str, z: Array, a: Array, y: Array) -> float:
    """Σ_i ℓ(h(x_i), y_i) over the columns; cross-entropy is computed from z so it stays finite."""
    if loss == "mse":
        diff = a - y
        return 0.5 * float(np.vdot(diff, diff))
    if output_activation == "sigmoid":
        # −[y ln σ(z) + (1−y) ln(1−σ(z))] = ln(1 + e^z) − y·z
        return float(np.add.reduce(np.logaddexp(0.0, z), axis=None) - np.vdot(y, z))
    # softmax: −Σ_k y_k ln a_k, straight from a while no a_k underflowed to 0; else Σ_k y_k (logsumexp(z) − z_k)
    if a.min() > 0.0:
        return -float(np.vdot(y, np.log(a)))
    zmax = z.max(axis=0, keepdims=True)
    lse = zmax + np.log(np.exp(z - zmax).sum(axis=0, keepdims=True))
    return float(np.sum(y * (lse - z)))


def output_delta(loss: str, out_act: Activation, z: Array, a: Array, y: Array, out: Array, tmp: Array) -> None:
    """δ^(L) = ∂ℓ/∂z^(L): a − y for the matched pairs, (a − y) ⊙ g_out'(z) for mse on a non-linear output."""
    np.subtract(a, y, out=out)
    if loss == "mse" and out_act.name != "linear":
        out_act.prime(z, a, tmp)
        np.multiply(out, tmp, out=out)


def regularization_cost(kind: str, rate: float, m: int, weights: Array, mask: Array) -> float:
    """R(Θ): (λ/2m)·ΣΘ² for l2 or (λ/m)·Σ|Θ| for l1, over non-bias weights (``mask`` is 0 on column 0)."""
    if kind == "none" or rate == 0.0:
        return 0.0
    if kind == "l2":
        w = weights * mask
        return rate / (2.0 * m) * float(w @ w)
    return rate / m * float(np.abs(weights) @ mask)


def add_regularization_gradient(
    kind: str, rate: float, m: int, weights: Array, mask: Array, grad: Array, tmp: Array
) -> None:
    """grad += ∂R/∂Θ: (λ/m)·Θ for l2, (λ/m)·sign(Θ) for l1 (sign(0) = 0), never on column 0."""
    if kind == "none" or rate == 0.0:
        return
    if kind == "l2":
        np.multiply(weights, mask, out=tmp)
    else:
        np.sign(weights, out=tmp)
        np.multiply(tmp, mask, out=tmp)
    np.multiply(tmp, rate / m, out=tmp)
    np.add(grad, tmp, out=grad)
