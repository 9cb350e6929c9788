"""Built-in toy datasets (after TensorFlow Playground), custom data checks and input feature maps.

Every built-in draws its coordinates from ``np.random.default_rng(seed)`` alone, so the same arguments
give bit-identical arrays. Noise is a fraction in [0, 1] scaled per generator so that 0.5 is very noisy:

- circle, xor: each coordinate moves by U(-5, 5) * noise (TF Playground's size); labels stay the true class.
- gauss: each cluster has variance 0.5 + 7 * noise (TF Playground: 0.5 at 0, 4 at 0.5).
- spiral: each coordinate moves by U(-2, 2) * noise; moons: by N(0, (1.75 * noise)^2).
- blobs: clusters of standard deviation 0.5 + 3 * noise at radius 4.
- plane, multi_gauss, sine, network_n: the target gets N(0, noise^2) added (targets span about [-1, 1]).

Coordinates lie in about [-6, 6] (sine: x in [-6, 6], about two periods; network_n: x1..x3 in [-3.5, 3.5]).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from app.engine.errors import EngineError

TASKS = ("classification", "multiclass", "regression")
FEATURES: tuple[str, ...] = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
MAX_SAMPLES = 20000
MIN_CLASSES, MAX_CLASSES = 3, 10


@dataclass(frozen=True)
class DatasetInfo:
    """What the dataset list shows about one built-in."""

    name: str
    task: str
    inputs: int
    outputs: int
    description: str


@dataclass(frozen=True)
class Dataset:
    """Training and test arrays (float64, read-only), one row per sample."""

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def inputs(self) -> int:
        """Number of raw input columns."""
        return int(self.x_train.shape[1])

    @property
    def outputs(self) -> int:
        """Number of target columns (the one-hot width for multiclass)."""
        return int(self.y_train.shape[1])


BUILTIN: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("circle", "classification", 2, 1, "A disc of 1s inside a ring of 0s."),
        DatasetInfo("xor", "classification", 2, 1, "1 where x1 and x2 have the same sign, else 0."),
        DatasetInfo("gauss", "classification", 2, 1, "Two Gaussian clusters, 1 at (2, 2), 0 at (-2, -2)."),
        DatasetInfo("spiral", "classification", 2, 1, "Two interleaved spirals."),
        DatasetInfo("moons", "classification", 2, 1, "Two interleaving half-circles."),
        DatasetInfo("plane", "regression", 2, 1, "A tilted plane: y = (x1 + x2) / 12."),
        DatasetInfo("multi_gauss", "regression", 2, 1, "Six Gaussian bumps of alternating sign."),
        DatasetInfo("sine", "regression", 1, 1, "y = sin(x) for x in [-6, 6]."),
        DatasetInfo("blobs", "multiclass", 2, 3, "3-10 Gaussian clusters on a circle, one-hot."),
        DatasetInfo(
            "network_n",
            "regression",
            3,
            2,
            "Two targets from three inputs, made by a fixed network of the lesson's shape N "
            "(3 inputs, 3 sigmoid hidden units, 2 linear outputs), so N can fit it exactly.",
        ),
    )
}

_Generator = Callable[[np.random.Generator, int, float, int], tuple[np.ndarray, np.ndarray]]


def _two_classes(n: int) -> tuple[int, int]:
    """Sizes of class 1 and class 0 (class 1 gets the odd sample)."""
    return n - n // 2, n // 2


def _labels(n1: int, n0: int) -> np.ndarray:
    return np.concatenate([np.ones(n1), np.zeros(n0)])


def _circle(rng: np.random.Generator, n: int, noise: float, _c: int) -> tuple[np.ndarray, np.ndarray]:
    n1, n0 = _two_classes(n)
    r = np.concatenate([rng.uniform(0.0, 2.5, n1), rng.uniform(3.5, 5.0, n0)])
    angle = rng.uniform(0.0, 2 * math.pi, n)
    x = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    return x + rng.uniform(-5.0, 5.0, (n, 2)) * noise, _labels(n1, n0)


def _xor(rng: np.random.Generator, n: int, noise: float, _c: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-5.0, 5.0, (n, 2))
    x += np.where(x > 0, 0.3, -0.3)  # keep a margin away from the axes
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float64)
    return x + rng.uniform(-5.0, 5.0, (n, 2)) * noise, y


def _gauss(rng: np.random.Generator, n: int, noise: float, _c: int) -> tuple[np.ndarray, np.ndarray]:
    n1, n0 = _two_classes(n)
    centers = np.concatenate([np.full((n1, 2), 2.0), np.full((n0, 2), -2.0)])
    return centers + rng.normal(0.0, math.sqrt(0.5 + 7.0 * noise), (n, 2)), _labels(n1, n0)


def _spiral(rng: np.random.Generator, n: int, noise: float, _c: int) -> tuple[np.ndarray, np.ndarray]:
    n1, n0 = _two_classes(n)
    parts = []
    for count, shift in ((n1, 0.0), (n0, math.pi)):
        i = np.arange(count) / max(count, 1)
        r, t = 5.0 * i, 1.75 * 2 * math.pi * i + shift
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    return np.concatenate(parts) + rng.uniform(-2.0, 2.0, (n, 2)) * noise, _labels(n1, n0)


def _moons(rng: np.random.Generator, n: int, noise: float, _c: int) -> tuple[np.ndarray, np.ndarray]:
    n1, n0 = _two_classes(n)
    t1, t0 = rng.uniform(0.0, math.pi, n1), rng.uniform(0.0, math.pi, n0)
    upper = np.column_stack([np.cos(t1), np.sin(t1)])
    lower = np.column_stack([1.0 - np.cos(t0), 0.5 - np.sin(t0)])
    x = (np.concatenate([upper, lower]) - [0.5, 0.25]) * 3.5
    return x + rng.normal(0.0, 1.75 * noise, (n, 2)), _labels(n1, n0)


def _plane(rng: np.random.Generator, n: int, noise: float, _c: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-6.0, 6.0, (n, 2))
    return x, (x[:, 0] + x[:, 1]) / 12.0 + rng.normal(0.0, noise, n)


_BUMPS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0), (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))


def _multi_gauss(rng: np.random.Generator, n: int, noise: float, _c: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-6.0, 6.0, (n, 2))
    y = np.zeros(n)
    for cx, cy, sign in _BUMPS:
        y += sign * np.exp(-((x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2) / 2.0)
    return x, y + rng.normal(0.0, noise, n)


def _sine(rng: np.random.Generator, n: int, noise: float, _c: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-6.0, 6.0, (n, 1))
    return x, np.sin(x[:, 0]) + rng.normal(0.0, noise, n)


def _blobs(rng: np.random.Generator, n: int, noise: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.arange(n) % classes
    angle = 2 * math.pi * labels / classes
    centers = 4.0 * np.column_stack([np.cos(angle), np.sin(angle)])
    return centers + rng.normal(0.0, 0.5 + 3.0 * noise, (n, 2)), np.eye(classes)[labels]


# The fixed network behind network_n: Θ^(1) (3 × 4) and Θ^(2) (2 × 4), column 0 the bias weights.
_N_THETA1 = np.array([[0.0, 1.0, -0.5, 0.0], [0.5, 0.0, 1.0, -1.0], [-0.5, -0.5, 0.0, 1.0]])
_N_THETA2 = np.array([[-1.0, 1.5, 0.0, 0.5], [1.0, -1.0, -1.0, 1.0]])


def _network_n(rng: np.random.Generator, n: int, noise: float, _c: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-3.5, 3.5, (n, 3))
    hidden = 0.5 * np.tanh(0.5 * (x @ _N_THETA1[:, 1:].T + _N_THETA1[:, 0])) + 0.5  # sigmoid
    y = hidden @ _N_THETA2[:, 1:].T + _N_THETA2[:, 0]
    return x, y + rng.normal(0.0, noise, (n, 2))


_GENERATORS: dict[str, _Generator] = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "moons": _moons,
    "plane": _plane,
    "multi_gauss": _multi_gauss,
    "sine": _sine,
    "blobs": _blobs,
    "network_n": _network_n,
}


def _is_number(value: object) -> bool:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    return numeric and not isinstance(value, bool | np.bool_)


def _int_in(value: object, field: str, lo: int, hi: int | None) -> int:
    if not _is_number(value) or not isinstance(value, int | np.integer):
        raise EngineError(field, f"must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        limits = f"between {lo} and {hi}" if hi is not None else f"≥ {lo}"
        raise EngineError(field, f"must be {limits}, got {value}")
    return int(value)


def _fraction(value: object, field: str) -> float:
    if not _is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        raise EngineError(field, f"must be a finite number, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.flags.writeable = False
    return a


def make_dataset(
    name: str, samples: int = 500, noise: float = 0.0, train_fraction: float = 0.5, seed: int = 0, classes: int = 3
) -> Dataset:
    """Generate, shuffle and split a built-in dataset; the same arguments give bit-identical arrays."""
    if not isinstance(name, str) or name not in _GENERATORS:
        raise EngineError("dataset.name", f"unknown dataset {name!r}; the built-ins are {', '.join(BUILTIN)}")
    samples = _int_in(samples, "dataset.samples", 2, MAX_SAMPLES)
    noise = _fraction(noise, "dataset.noise")
    if not 0.0 <= noise <= 1.0:
        raise EngineError("dataset.noise", f"must be between 0 and 1, got {noise}")
    train_fraction = _fraction(train_fraction, "dataset.train_fraction")
    if not 0.0 < train_fraction <= 1.0:
        raise EngineError("dataset.train_fraction", f"must be in (0, 1], got {train_fraction}")
    n_train = round(samples * train_fraction)
    if n_train < 1:
        raise EngineError("dataset.train_fraction", f"{train_fraction} of {samples} samples leaves no training data")
    seed = _int_in(seed, "dataset.seed", 0, None)
    classes = _int_in(classes, "dataset.classes", MIN_CLASSES, MAX_CLASSES)
    rng = np.random.default_rng(seed)
    x, y = _GENERATORS[name](rng, samples, noise, classes)
    y = y.reshape(samples, -1)
    order = rng.permutation(samples)
    x, y = x[order], y[order]
    return Dataset(
        name, BUILTIN[name].task, _frozen(x[:n_train]), _frozen(y[:n_train]), _frozen(x[n_train:]), _frozen(y[n_train:])
    )


def _array(value: object, field: str) -> np.ndarray:
    """A finite float64 matrix from nested lists or an array; a 1-D vector becomes one column."""
    ragged = "must be a rectangular list of rows of numbers (all rows of one length, no nulls)"
    try:
        a = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise EngineError(field, ragged) from exc
    if a.dtype.kind == "O":
        raise EngineError(field, ragged)
    if a.dtype.kind not in "biuf":
        raise EngineError(field, "must contain only numbers")
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise EngineError(field, f"must be a list of rows (2-D), got {a.ndim} dimension(s)")
    a = a.astype(np.float64)
    bad = np.argwhere(~np.isfinite(a))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        raise EngineError(field, f"must be finite, but row {i}, column {j} is {a[i, j]}")
    return a


def _is_one_hot(y: np.ndarray) -> bool:
    return y.shape[1] >= 2 and bool(np.isin(y, (0.0, 1.0)).all()) and bool((y.sum(axis=1) == 1.0).all())


def _fit_task(
    task: str | None, y: np.ndarray, y_test: np.ndarray, max_outputs: int
) -> tuple[str, np.ndarray, np.ndarray]:
    """Infer or check the task; turn one column of class indices into one-hot rows for multiclass."""
    k, both = y.shape[1], np.vstack([y, y_test])
    if task is None:
        if k == 1 and np.isin(both, (0.0, 1.0)).all():
            return "classification", y, y_test
        return ("multiclass" if _is_one_hot(both) else "regression"), y, y_test
    if task not in TASKS:
        raise EngineError("dataset.task", f"unknown task {task!r}; use one of {', '.join(TASKS)}")
    pairs = ((y, "dataset.y"), (y_test, "dataset.y_test"))
    if task == "classification":
        if k != 1:
            raise EngineError(
                "dataset.y",
                f"classification needs one column of 0/1 labels, got {k} columns (one-hot rows are task 'multiclass')",
            )
        for arr, field in pairs:
            if ((arr < 0) | (arr > 1)).any():
                raise EngineError(field, "classification targets must lie in [0, 1]")
    elif task == "multiclass" and k >= 2:
        for arr, field in pairs:
            if (arr < 0).any() or (np.abs(arr.sum(axis=1) - 1.0) > 1e-6).any():
                raise EngineError(field, "multiclass rows must be one-hot or probabilities (≥ 0, sum 1)")
    elif task == "multiclass":
        for arr, field in pairs:
            if (arr < 0).any() or (arr != np.round(arr)).any():
                raise EngineError(field, "a single multiclass column must hold class indices 0, 1, 2, …")
        classes = int(y.max()) + 1
        if classes < 2:
            raise EngineError("dataset.y", "multiclass needs at least 2 classes, but every index is 0")
        if classes > max_outputs:
            raise EngineError("dataset.y", f"{classes} classes is more than the limit of {max_outputs}")
        if y_test.size and y_test.max() >= classes:
            raise EngineError(
                "dataset.y_test", f"class index {int(y_test.max())} is not among the training classes 0..{classes - 1}"
            )
        eye = np.eye(classes)
        y, y_test = eye[y[:, 0].astype(np.int64)], eye[y_test[:, 0].astype(np.int64)]
    return task, y, y_test


def custom_dataset(
    x: object,
    y: object,
    x_test: object = None,
    y_test: object = None,
    task: str | None = None,
    max_samples: int = 20000,
    max_inputs: int = 64,
    max_outputs: int = 64,
) -> Dataset:
    """Check user data (lists or arrays) and wrap it as a Dataset named "custom", keeping the given order."""
    xa, ya = _array(x, "dataset.x"), _array(y, "dataset.y")
    for arr, field in ((xa, "dataset.x"), (ya, "dataset.y")):
        if arr.size == 0:
            raise EngineError(field, "must not be empty")
    if len(xa) != len(ya):
        raise EngineError("dataset.y", f"has {len(ya)} rows but dataset.x has {len(xa)}")
    d, k = xa.shape[1], ya.shape[1]
    if d > max_inputs:
        raise EngineError("dataset.x", f"has {d} columns, more than the limit of {max_inputs} inputs")
    if k > max_outputs:
        raise EngineError("dataset.y", f"has {k} columns, more than the limit of {max_outputs} outputs")
    if (x_test is None) != (y_test is None):
        missing = "dataset.x_test" if x_test is None else "dataset.y_test"
        raise EngineError(missing, "dataset.x_test and dataset.y_test must be given together")
    xt, yt = np.zeros((0, d)), np.zeros((0, k))
    if x_test is not None:
        xt, yt = _array(x_test, "dataset.x_test"), _array(y_test, "dataset.y_test")
        xt, yt = (xt.reshape(0, d) if xt.size == 0 else xt), (yt.reshape(0, k) if yt.size == 0 else yt)
        if len(xt) != len(yt):
            raise EngineError("dataset.y_test", f"has {len(yt)} rows but dataset.x_test has {len(xt)}")
        if xt.shape[1] != d:
            raise EngineError("dataset.x_test", f"has {xt.shape[1]} columns but dataset.x has {d}")
        if yt.shape[1] != k:
            raise EngineError("dataset.y_test", f"has {yt.shape[1]} columns but dataset.y has {k}")
    if len(xa) + len(xt) > max_samples:
        field = "dataset.x" if len(xa) > max_samples else "dataset.x_test"
        raise EngineError(field, f"{len(xa) + len(xt)} samples in all, more than the limit of {max_samples}")
    task, ya, yt = _fit_task(task, ya, yt, max_outputs)
    return Dataset("custom", task, _frozen(xa), _frozen(ya), _frozen(xt), _frozen(yt))


_FEATURE_MAPS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda x: x[:, 0],
    "x2": lambda x: x[:, 1],
    "x1^2": lambda x: x[:, 0] ** 2,
    "x2^2": lambda x: x[:, 1] ** 2,
    "x1*x2": lambda x: x[:, 0] * x[:, 1],
    "sin(x1)": lambda x: np.sin(x[:, 0]),
    "sin(x2)": lambda x: np.sin(x[:, 1]),
}
_ONE_INPUT_FEATURES = ("x1", "x1^2", "sin(x1)")


def validate_features(features: Sequence[str] | None, inputs: int) -> tuple[str, ...]:
    """Check features for `inputs` raw columns (None: the raw columns; >2 inputs: must be empty)."""
    if features is None:
        return ("x1", "x2")[:inputs] if inputs <= 2 else ()
    if isinstance(features, str) or not isinstance(features, Sequence):
        raise EngineError("features", f"must be a list of feature names, got {features!r}")
    names = tuple(features)
    if inputs > 2:
        if names:
            raise EngineError(
                "features",
                f"features apply only to 1- or 2-input data; this data has "
                f"{inputs} inputs, so leave features empty and the raw columns are used",
            )
        return ()
    if not names:
        raise EngineError("features", f"choose at least one of {', '.join(FEATURES)}")
    for i, name in enumerate(names):
        if not isinstance(name, str) or name not in FEATURES:
            raise EngineError("features", f"unknown feature {name!r}; the features are {', '.join(FEATURES)}")
        if name in names[:i]:
            raise EngineError("features", f"feature {name!r} is listed twice")
        if inputs == 1 and name not in _ONE_INPUT_FEATURES:
            raise EngineError(
                "features",
                f"feature {name!r} needs a second input, but the data has 1 input; "
                f"use {', '.join(_ONE_INPUT_FEATURES)}",
            )
    return names


def feature_transform(x: np.ndarray, features: Sequence[str] | None) -> np.ndarray:
    """Map raw (n, 1|2) inputs to (n, len(features)) float64; >2 inputs: empty features, raw copy."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise EngineError("x", f"must be a 2-D array of rows, got {a.ndim} dimension(s)")
    names = validate_features(features, a.shape[1])
    if not names:
        return a.copy()
    return np.column_stack([_FEATURE_MAPS[name](a) for name in names]).reshape(len(a), len(names))
