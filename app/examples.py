"""Example documents for the OpenAPI description: one real run (XOR, 8 samples, one hidden layer of 2 units,
seed 1, one training step), shortened to a few digits. ``tests/test_openapi.py`` validates every example
against the schema it illustrates, so an example can never drift from the contract."""

from __future__ import annotations

from typing import Any

SESSION_ID = "UcDxeYEw1rhcvR02"
TOKEN = "XrC2RAIZziM9hvQzqZnkAsh1EjjH2Thb"
ROOM_CODE = "UGF3-WCR6"

DATASET = {"name": "xor", "samples": 8, "noise": 0.0, "train_fraction": 0.5, "seed": 0, "classes": 3, "task": None}
CONFIG: dict[str, Any] = {
    "dataset": DATASET,
    "features": ["x1", "x2"],
    "hidden": [2],
    "activation": "tanh",
    "output_activation": "sigmoid",
    "loss": "cross_entropy",
    "learning_rate": 0.03,
    "batch_size": 10,
    "optimizer": "sgd",
    "momentum": 0.9,
    "regularization": "none",
    "reg_rate": 0.0,
    "init": "xavier",
    "init_scale": 0.12,
    "seed": 1,
}
WEIGHTS = [[[1.04e-05, 0.02899, 1.1032], [-0.000147, -0.87183, 1.09857]], [[-2.31e-05, -0.51196, -0.19689]]]
METRICS = {
    "step": 1,
    "epoch": 1,
    "train_loss": 1.10558,
    "test_loss": 0.93231,
    "regularization": 0.0,
    "train_accuracy": 0.0,
    "test_accuracy": 0.25,
    "grad_norms": [0.01682, 0.94842],
}
SESSION: dict[str, Any] = {
    "id": SESSION_ID,
    "config": CONFIG,
    "task": "classification",
    "layer_sizes": [2, 2, 1],
    "n_train": 4,
    "n_test": 4,
    "step": 1,
    "epoch": 1,
    "status": "paused",
    "engine_path": "numba",
    "worker": None,
    "divergence": None,
    "steps_per_frame": None,
    "probe": 0,
    "metrics": METRICS,
    "weights": WEIGHTS,
}
CREATED = {"token": TOKEN, **SESSION}
TRAINED = {**SESSION, "steps_done": 1, "stopped_early": False, "history": [METRICS]}
FORKED = {"token": "EghvexA0P8TKA2VrqRw1By9rUAt5vPzj", "room": ROOM_CODE, **SESSION, "id": "sRmGLZ-ERXeo_5DW"}
TRACE = {
    "m": 1,
    "cost": {"data": 1.10877, "regularization": 0.0, "total": 1.10877},
    "layers": [
        {"layer": 1, "a": [[2.59655, -3.54344]]},
        {"layer": 2, "z": [[-3.83386, -6.15663]], "a": [[-0.99907, -0.99999]], "delta": [[-0.000641, -2.37e-06]]},
        {"layer": 3, "z": [[0.70835]], "a": [[0.67004]], "delta": [[0.67004]]},
    ],
    "gradients": [[[-0.000641, -0.001665, 0.002272], [-2.37e-06, -6.15e-06, 8.4e-06]], [[0.67004, -0.66941, -0.67003]]],
}
GRADCHECK = {
    "epsilon": 1e-05,
    "m": 1,
    "max_relative_error": 1.003e-06,
    "relative_error": 9.56e-12,
    "checked": 9,
    "complete": True,
    "layers": [
        {
            "layer": 1,
            "max_relative_error": 1.003e-06,
            "relative_error": 2.37e-09,
            "analytic": [[-0.000641121, -0.001664706, 0.002271776], [-2.37024e-06, -6.15446e-06, 8.39882e-06]],
            "numerical": [[-0.000641121, -0.001664706, 0.002271776], [-2.37024e-06, -6.15447e-06, 8.39883e-06]],
            "errors": [[4.06e-09, 1.76e-09, 1.59e-09], [1.003e-06, 2.55e-07, 3.83e-07]],
        },
        {
            "layer": 2,
            "max_relative_error": 1.29e-11,
            "relative_error": 7.51e-12,
            "analytic": [[0.67003558, -0.66940914, -0.67002956]],
            "numerical": [[0.67003558, -0.66940914, -0.67002956]],
            "errors": [[1.1e-12, 1.29e-11, 1.17e-12]],
        },
    ],
}
EXPORT = {
    "format": "backprop-playground/run",
    "version": 1,
    "config": {**CONFIG, "features": None, "output_activation": None, "loss": None},
    "data": {
        "task": "classification",
        "x": [[2.59655, -3.54344], [1.66962, -2.60213], [0.73625, 4.65072], [1.36636, 2.59497]],
        "y": [[0.0], [0.0], [1.0], [1.0]],
        "x_test": [[-4.89026, -5.13472], [3.45854, -5.27261], [3.87404, -4.96414], [3.4327, 4.42756]],
        "y_test": [[1.0], [0.0], [0.0], [1.0]],
    },
    "state": {
        "step": 1,
        "epoch": 1,
        "offset": 0,
        "weights": WEIGHTS,
        "optimizer_state": {},
        "history": [METRICS],
        "divergence": None,
        "grad_norms": [0.01682, 0.94842],
    },
}
ROOM_CREATED = {
    "code": ROOM_CODE,
    "teacher_token": "YWO65Id85ETsf9ue10uHDiluPzihBwiT",
    "title": "Lecture 4: XOR",
    "url": f"http://127.0.0.1:8000/room/{ROOM_CODE}",
}
LESSON_STATE = {"lesson": "derivation", "step": 4, "sample": 17}
LESSON = {
    **LESSON_STATE,
    "answers": [
        {"prediction": "delta3", "step": 3, "answered": 12, "right": 9},
        {"prediction": "delta2", "step": 4, "answered": 10, "right": 4},
    ],
}
ROOM = {"code": ROOM_CODE, "title": "Lecture 4: XOR", "forks": 1, "session": SESSION, "lesson": LESSON_STATE}
CLASS = {
    "code": ROOM_CODE,
    "forks": [
        {
            "id": "sRmGLZ-ERXeo_5DW",
            "name": "Ada",
            "created": 1796292315.46,
            "status": "paused",
            "step": 1,
            "epoch": 1,
            "train_loss": 1.10558,
            "test_loss": 0.93231,
            "train_accuracy": 0.0,
        }
    ],
    "lesson": LESSON,
}
DATASETS = [
    {
        "name": "circle",
        "task": "classification",
        "inputs": 2,
        "outputs": 1,
        "description": "A disc of 1s inside a ring of 0s.",
    },
    {
        "name": "xor",
        "task": "classification",
        "inputs": 2,
        "outputs": 1,
        "description": "1 where x1 and x2 have the same sign, else 0.",
    },
]
HEALTH = {
    "status": "ok",
    "version": "0.1.0",
    "storage": "ok",
    "engine": {"policy": "auto", "ready": True, "load_seconds": 0.82, "error": None},
    "memory": {"budget_mb": 1024.0, "used_mb": 3.2, "sessions": 12},
    "worker": None,
}

# Every refusal, by status: what the body of each looks like.
ERRORS: dict[int, dict[str, Any]] = {
    400: {"detail": "There was an error parsing the body", "field": "body"},
    401: {"detail": "this call needs the session's token: Authorization: Bearer <token>"},
    403: {"detail": "that token does not open this session"},
    404: {"detail": f"no session {SESSION_ID!r} (it may have expired)"},
    409: {"detail": "the lesson is on sample 18 now, not 17", "field": "sample"},
    413: {"detail": "request body too large: at most 33554432 bytes"},
    422: {
        "detail": "learning_rate: Input should be greater than 0",
        "field": "learning_rate",
        "errors": [{"field": "learning_rate", "message": "Input should be greater than 0"}],
    },
    429: {"detail": "too many new sessions from this address (at most 600 per 1 minute); try again soon"},
    503: {"detail": "storage unavailable: database is locked; nothing was changed"},
}
