"""The one place where engine arrays become wire data: JSON via orjson (the shapes of docs/api.md) and the
live channel's binary frames (docs/protocol.md).

Layer: wire; imports the engine's result types, nothing of the sessions or the web. ``frame_arrays`` chooses
a frame's arrays from a step and ``frame`` encodes them (the header is made by
``app.sessions.live.LiveHub._build_frame``).

orjson writes C-contiguous float64 arrays natively; every array passes through ``_arr`` first. A
non-finite number never reaches a client as a number: orjson writes NaN and ±∞ as ``null``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
from starlette.responses import JSONResponse as _StarletteJSONResponse

from app.engine import Divergence, GradCheck, Metrics, StepRecord, Trace

Array = np.ndarray
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _arr(a: Array) -> Array:
    return np.ascontiguousarray(a, dtype=np.float64)


def finite(x: float | None) -> float | None:
    """A number, or None when it is missing or not finite."""
    return None if x is None or not math.isfinite(x) else float(x)


_num = finite


def dumps(obj: Any) -> bytes:
    """Serialize wire data (dicts, lists, numbers and NumPy arrays) to JSON bytes."""
    return orjson.dumps(obj, option=_OPTIONS)


class JSONResponse(_StarletteJSONResponse):
    """A JSON response serialized by orjson, NumPy arrays included (a Starlette ``JSONResponse``, so that
    FastAPI documents each route's ``response_model`` as its JSON body)."""

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


def divergence(d: Divergence | None) -> dict[str, Any] | None:
    """When and why a run diverged (null while it has not)."""
    return None if d is None else {"step": d.step, "reason": d.reason}


def trace(t: Trace) -> dict[str, Any]:
    """A Trace in the shape of ``POST …/backprop``'s answer (docs/api.md): per layer z, a, delta (rows per
    sample), the gradients D, the cost."""
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
        "checked": g.checked,
        "complete": g.complete,
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


def phases(t: Trace, y: Array, before: Sequence[Array], update: Sequence[Array] | None) -> list[dict[str, Any]]:
    """One pass in the order the page animates it: forward (layer 1..L: z, a), the cost (with the targets y),
    backward (δ from layer L down to 2), the gradients D^(l) (l = L−1 down to 1) and, for a training step, the
    update of each Θ^(l): before, ΔΘ and after (``before`` are the weights the pass used)."""
    out: list[dict[str, Any]] = [{"phase": "forward", "layer": 1, "a": _arr(t.a[0])}]
    last = len(t.a)
    for i in range(1, last):
        out.append({"phase": "forward", "layer": i + 1, "z": _arr(t.z[i]), "a": _arr(t.a[i])})  # type: ignore[arg-type]
    out.append(
        {
            "phase": "cost",
            "y": _arr(y),
            "data": finite(t.cost_data),
            "regularization": finite(t.cost_regularization),
            "total": finite(t.cost_total),
        }
    )
    for i in range(last - 1, 0, -1):
        out.append({"phase": "backward", "layer": i + 1, "delta": _arr(t.delta[i])})  # type: ignore[arg-type]
    for i in range(last - 2, -1, -1):
        out.append({"phase": "gradient", "layer": i + 1, "D": _arr(t.grads[i])})
    if update is not None:
        for i, (b, d) in enumerate(zip(before, update, strict=True)):
            out.append({"phase": "update", "layer": i + 1, "before": _arr(b), "delta": _arr(d), "after": _arr(b + d)})
    return out


# -- binary frames of the live channel ---------------------------------------------------------------------

FRAME_MAGIC = b"BPF1"
_F32_MAX = float(np.finfo(np.float32).max)


def frame_arrays(theta: Sequence[Array], record: StepRecord | None, probe: Trace) -> list[tuple[str, Array]]:
    """A frame's arrays, named as in docs/protocol.md ("frame"): the weights ``W1``…; with the latest step's
    ``record``, its gradients ``D1``… and updates ``U1``…, the batch means of a (``A1``…) and δ (``E2``…) and
    the gradient norms ``N``; and the probe sample's ``PA1``…, ``PZ2``…, ``PE2``… (a one-sample ``probe``)."""
    arrays: list[tuple[str, Array]] = [(f"W{i}", t) for i, t in enumerate(theta, start=1)]
    if record is not None:
        trace = record.trace
        for i, (d, u) in enumerate(zip(trace.grads, record.update, strict=True), start=1):
            arrays += [(f"D{i}", d), (f"U{i}", u)]
        # means over the batch: np.add.reduce / m is what ndarray.mean computes, without its overhead
        m = trace.m
        arrays += [(f"A{i}", np.add.reduce(a, axis=0) / m) for i, a in enumerate(trace.a, start=1)]
        arrays += [(f"E{i}", np.add.reduce(e, axis=0) / m) for i, e in enumerate(trace.delta[1:], start=2)]  # type: ignore[arg-type]
        arrays.append(("N", np.asarray(record.grad_norms)))
    for i in range(len(probe.a)):
        arrays.append((f"PA{i + 1}", probe.a[i][0]))
        if i:
            arrays += [(f"PZ{i + 1}", probe.z[i][0]), (f"PE{i + 1}", probe.delta[i][0])]  # type: ignore[index]
    return arrays


@functools.lru_cache(maxsize=512)
def _manifest(layout: tuple[tuple[str, tuple[int, ...]], ...]) -> orjson.Fragment:
    """The header's ``arrays`` for a layout of (name, shape), serialized once: a session's frames all share one."""
    return orjson.Fragment(dumps([{"name": name, "shape": list(shape)} for name, shape in layout]))


def frame(header: dict[str, Any], arrays: Sequence[tuple[str, Array]]) -> bytes:
    """A binary ``frame`` (docs/protocol.md): magic ``BPF1``, a little-endian uint32 n, n bytes of JSON
    header (with ``arrays``: the name and shape of each array, in order, padded with spaces to a multiple of
    4), then every array as little-endian float32, row-major. Values beyond float32's range are clipped."""
    head = dumps({**header, "arrays": _manifest(tuple((name, a.shape) for name, a in arrays))})
    head += b" " * (-len(head) % 4)
    body = np.concatenate([a for _, a in arrays], axis=None) if arrays else np.empty(0)  # axis=None: flattened
    np.minimum(body, _F32_MAX, out=body)  # the clip to float32's range (NaN stays NaN), as two ufunc calls
    np.maximum(body, -_F32_MAX, out=body)
    return b"".join((FRAME_MAGIC, len(head).to_bytes(4, "little"), head, body.astype("<f4").tobytes()))


def read_frame(data: bytes) -> tuple[dict[str, Any], dict[str, Array]]:
    """Decode a binary frame (the inverse of ``frame``, for tests and Python clients)."""
    if data[:4] != FRAME_MAGIC:
        raise ValueError("not a frame")
    n = int.from_bytes(data[4:8], "little")
    header = orjson.loads(data[8 : 8 + n])
    arrays, offset = {}, 8 + n
    for spec in header["arrays"]:
        size = int(np.prod(spec["shape"]))
        arrays[spec["name"]] = np.frombuffer(data, "<f4", size, offset).reshape(spec["shape"]).astype(np.float64)
        offset += 4 * size
    return header, arrays
