"""The one place where engine arrays become wire data (JSON via orjson, SPEC §3 shapes).

orjson writes C-contiguous float64 arrays natively; every array passes through ``_arr`` first. A
non-finite number never reaches a client as a number: orjson writes NaN and ±∞ as ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

from app.engine import GradCheck, Metrics, Trace

Array = np.ndarray
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _arr(a: Array) -> Array:
    return np.ascontiguousarray(a, dtype=np.float64)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def dumps(obj: Any) -> bytes:
    """Serialize wire data (dicts, lists, numbers and NumPy arrays) to JSON bytes."""
    return orjson.dumps(obj, option=_OPTIONS)


class JSONResponse(Response):
    """A JSON response serialized by orjson, NumPy arrays included."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialize ``content``."""
        return dumps(content)


def weights(theta: Sequence[Array]) -> list[Array]:
    """Θ^(1..L−1) as lists of rows, column 0 the bias weights."""
    return [_arr(t) for t in theta]


def metrics(m: Metrics) -> dict[str, Any]:
    """Metrics with non-finite numbers as null."""
    return {
        "step": m.step,
        "epoch": m.epoch,
        "train_loss": _num(m.train_loss),
        "test_loss": _num(m.test_loss),
        "regularization": _num(m.regularization),
        "train_accuracy": m.train_accuracy,
        "test_accuracy": m.test_accuracy,
        "grad_norms": [_num(g) for g in m.grad_norms],
    }


def trace(t: Trace) -> dict[str, Any]:
    """A Trace in the shape of SPEC §3: per layer z, a, delta (rows per sample), the gradients D, the cost."""
    layers: list[dict[str, Any]] = [{"layer": 1, "a": _arr(t.a[0])}]
    for i in range(1, len(t.a)):
        layers.append({"layer": i + 1, "z": _arr(t.z[i]), "a": _arr(t.a[i]), "delta": _arr(t.delta[i])})  # type: ignore[arg-type]
    return {
        "m": t.m,
        "cost": {
            "data": _num(t.cost_data),
            "regularization": _num(t.cost_regularization),
            "total": _num(t.cost_total),
        },
        "layers": layers,
        "gradients": [_arr(g) for g in t.grads],
    }


def gradcheck(g: GradCheck) -> dict[str, Any]:
    """Analytic beside numerical gradients per layer, with relative errors."""
    return {
        "epsilon": g.epsilon,
        "m": g.m,
        "max_relative_error": g.max_relative_error,
        "relative_error": g.relative_error,
        "layers": [
            {
                "layer": layer.layer,
                "max_relative_error": layer.max_relative_error,
                "relative_error": layer.relative_error,
                "analytic": _arr(layer.analytic),
                "numerical": _arr(layer.numerical),
                "errors": _arr(layer.per_weight_error),
            }
            for layer in g.layers
        ],
    }
