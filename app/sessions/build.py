"""From a config or an export document to a trainer, within the server's limits; and a run as a document.

Layer: sessions. ``SessionConfig.train_config`` (``app.schemas``) is the one conversion from the wire's config
to the engine's; here the server's limits (``BPP_MAX_*``) are checked on top of the engine's own checks, and
an export document (``docs/api.md``, "Export and import") is turned back into a trainer that continues the
run bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.engine import Dataset, EngineError, TrainConfig, Trainer, custom_dataset, make_dataset
from app.schemas import DatasetConfig, SessionConfig, with_custom_data
from app.sessions.budget import Charge
from app.settings import Settings

EXPORT_FORMAT = "backprop-playground/run"
EXPORT_VERSION = 1


def checked_custom_dataset(data: dict[str, Any], settings: Settings) -> Dataset:
    """Custom data (``x``, ``y``, optional ``x_test``, ``y_test`` and ``task``) within the server's limits:
    ``BPP_MAX_SAMPLES`` samples, ``BPP_MAX_INPUTS`` columns of x and ``BPP_MAX_OUTPUTS`` of y."""
    return custom_dataset(
        data["x"],
        data["y"],
        data.get("x_test"),
        data.get("y_test"),
        task=data.get("task"),
        max_samples=settings.max_samples,
        max_inputs=settings.max_inputs,
        max_outputs=settings.max_outputs,
    )


def build_dataset(cfg: DatasetConfig, settings: Settings) -> Dataset:
    """The dataset a config describes, within the server's limits."""
    if cfg.name == "custom":
        return checked_custom_dataset(cfg.model_dump(include={"x", "y", "x_test", "y_test", "task"}), settings)
    if cfg.samples > settings.max_samples:
        raise EngineError("dataset.samples", f"must be at most {settings.max_samples} on this server")
    return make_dataset(cfg.name, cfg.samples, cfg.noise, cfg.train_fraction, cfg.seed, cfg.classes)


def train_config(cfg: SessionConfig, settings: Settings) -> TrainConfig:
    """The engine's TrainConfig for a session config, within the server's network limits."""
    if len(cfg.hidden) > settings.max_hidden_layers:
        raise EngineError("hidden", f"at most {settings.max_hidden_layers} hidden layers on this server")
    if any(h < 1 or h > settings.max_units for h in cfg.hidden):
        raise EngineError("hidden", f"each hidden layer needs 1 to {settings.max_units} units on this server")
    return cfg.train_config()


def build_trainer(cfg: SessionConfig, settings: Settings, charge: Charge | None = None) -> Trainer:
    """A fresh Trainer for a session config (EngineError for anything refused); with ``charge``, its
    footprint is reserved (``ServerFull``, ``OverLimit`` when a budget refuses) before the trainer is built."""
    dataset = build_dataset(cfg.dataset, settings)
    tcfg = train_config(cfg, settings)
    if charge is not None:
        charge.set(dataset, tcfg, settings)
    return Trainer(dataset, tcfg)


def without_data(config: SessionConfig) -> SessionConfig:
    """The config without its inline custom data (the trainer's arrays hold the data, once)."""
    if config.dataset.x is None:
        return config
    dataset = config.dataset.model_copy(update={"x": None, "y": None, "x_test": None, "y_test": None})
    return config.model_copy(update={"dataset": dataset})


def trainer_from_export(
    doc: dict[str, Any], settings: Settings, charge: Charge | None = None
) -> tuple[SessionConfig, Trainer]:
    """Rebuild a run from an export document so that it continues bit for bit (its footprint reserved on
    ``charge`` before the trainer is built). A refusal is an ``EngineError`` whose field starts with
    ``import`` (the field of ``{"import": doc}``)."""
    if doc.get("format") != EXPORT_FORMAT or doc.get("version") != EXPORT_VERSION:
        raise EngineError("import.format", f"expected a {EXPORT_FORMAT} document of version {EXPORT_VERSION}")
    try:
        data, state = doc["data"], doc["state"]
        config = SessionConfig.model_validate(with_custom_data(doc.get("config") or {}, data))
        if not isinstance(state, dict):
            raise EngineError("state", "must be an object")
        test = {k: data.get(k) or None for k in ("x_test", "y_test")}  # an export without test data has []
        dataset = checked_custom_dataset({**data, **test}, settings)
        tcfg = train_config(config, settings)
        if charge is not None:
            charge.set(dataset, tcfg, settings)
        trainer = Trainer(dataset, tcfg)
        trainer.load_state(state)
    except (KeyError, TypeError, AttributeError) as err:
        raise EngineError("import", f"incomplete or malformed document ({type(err).__name__}: {err})") from None
    except ValueError as err:  # pydantic's ValidationError and EngineError are both ValueErrors
        if isinstance(err, EngineError):
            raise EngineError(f"import.{err.field}", err.message) from None
        raise EngineError("import.config", str(err).splitlines()[0]) from None
    return without_data(config), trainer


def finite_rows(rows: Any, field: str) -> np.ndarray:
    """A 2-D float64 array from JSON rows (1-D lists become one column), finite and rectangular."""
    try:
        arr = np.asarray(rows, dtype=np.float64)
    except (ValueError, TypeError):
        raise EngineError(field, "must be a rectangular list of rows of numbers") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.size == 0:
        raise EngineError(field, "must be a non-empty list of rows of numbers")
    if not np.isfinite(arr).all():
        raise EngineError(field, "must hold finite numbers only")
    return arr
