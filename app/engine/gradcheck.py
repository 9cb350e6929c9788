"""The numerical gradient check: central differences against the backward pass, per layer."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .network import Network

Array = np.ndarray
PER_WEIGHT_FLOOR = 1e-7  # below this size two gradients are both "zero" to float64 differences


@dataclass(frozen=True)
class LayerCheck:
    """Analytic D^(l) beside the numerical gradient, their relative error ‖Da − Dn‖ / (‖Da‖ + ‖Dn‖) and,
    per weight, |Da − Dn| / max(|Da| + |Dn|, 1e-7)."""

    layer: int
    analytic: Array
    numerical: Array
    relative_error: float
    per_weight_error: Array

    @property
    def max_relative_error(self) -> float:
        """The worst weight's relative error."""
        errors = self.per_weight_error[np.isfinite(self.per_weight_error)]
        return float(errors.max()) if errors.size else 0.0


@dataclass(frozen=True)
class GradCheck:
    """The check over every layer, with the overall norm-based and worst per-weight relative errors."""

    epsilon: float
    m: int
    layers: list[LayerCheck]
    checked: int = 0  # weights compared with a numerical derivative
    complete: bool = True  # False when the deadline stopped the check before every chosen weight

    @property
    def max_relative_error(self) -> float:
        """The worst weight's relative error over all layers."""
        return max(layer.max_relative_error for layer in self.layers)

    @property
    def relative_error(self) -> float:
        """‖Da − Dn‖ / (‖Da‖ + ‖Dn‖) over all weights together."""
        analytic = np.concatenate([layer.analytic.ravel() for layer in self.layers])
        numerical = np.concatenate([layer.numerical.ravel() for layer in self.layers])
        return relative_error(analytic, numerical)


def relative_error(a: Array, b: Array) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖) over the entries where b is known (not NaN), 0 when both are zero."""
    known = ~np.isnan(b)
    a, b = a[known], b[known]
    denom = float(np.linalg.norm(a) + np.linalg.norm(b))
    return 0.0 if denom == 0.0 else float(np.linalg.norm(a - b)) / denom


def gradient_check(
    net: Network,
    x: Array,
    y: Array,
    regularization: str = "none",
    rate: float = 0.0,
    epsilon: float = 1e-5,
    max_weights: int | None = None,
    deadline: float | None = None,
) -> GradCheck:
    """Compare D = ∂J/∂Θ from backprop with (J(Θ + εe_i) − J(Θ − εe_i)) / 2ε for every weight i.

    ``x`` are network inputs (features already applied), m × S_1; ``y`` targets, m × S_L. With
    ``max_weights``, a bigger network has only that many weights checked (a fixed spread-out choice; the
    others are NaN in ``numerical`` and ``per_weight_error``). With ``deadline`` (a ``time.perf_counter()``
    value), the check stops after the weight during which it passed (``complete`` is then False). The
    weights are restored exactly afterwards.
    """
    analytic = net.trace(x, y, regularization, rate).grads
    theta = net.theta_flat
    numerical = np.full_like(theta, np.nan)
    checked = range(theta.size)
    if max_weights is not None and theta.size > max_weights:
        checked = np.unique(np.linspace(0, theta.size - 1, max_weights).round().astype(int)).tolist()
    done, complete = 0, True
    for i in checked:
        if deadline is not None and done and time.perf_counter() > deadline:
            complete = False
            break
        done += 1
        saved = theta[i]
        theta[i] = saved + epsilon
        plus = sum(net.cost(x, y, regularization, rate))
        theta[i] = saved - epsilon
        minus = sum(net.cost(x, y, regularization, rate))
        theta[i] = saved
        numerical[i] = (plus - minus) / (2.0 * epsilon)
    layers = []
    for l, (da, dn) in enumerate(zip(analytic, net.unflatten(numerical), strict=True), start=1):  # D^(l), l = 1..L−1
        per_weight = np.abs(da - dn) / np.maximum(np.abs(da) + np.abs(dn), PER_WEIGHT_FLOOR)
        layers.append(LayerCheck(l, da, dn, relative_error(da, dn), per_weight))
    return GradCheck(epsilon, len(x), layers, done, complete)
