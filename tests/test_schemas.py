"""The wire's description of a run and the engine's say the same: names, fields and defaults."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from app import schemas
from app.engine import (
    BUILTIN,
    FEATURES,
    HIDDEN_ACTIVATIONS,
    INITS,
    LOSSES,
    OPTIMIZERS,
    OUTPUT_ACTIVATIONS,
    REGULARIZATIONS,
    TrainConfig,
)
from app.engine.config import LIVE_FIELDS
from app.engine.datasets import TASKS


@pytest.mark.parametrize(
    ("wire", "engine"),
    [
        (schemas.HiddenActivation, HIDDEN_ACTIVATIONS),
        (schemas.OutputActivation, OUTPUT_ACTIVATIONS),
        (schemas.Loss, LOSSES),
        (schemas.Optimizer, OPTIMIZERS),
        (schemas.Regularization, REGULARIZATIONS),
        (schemas.Init, INITS),
        (schemas.Feature, FEATURES),
        (schemas.Task, TASKS),
        (schemas.DatasetName, (*BUILTIN, "custom")),
    ],
)
def test_the_wire_names_are_the_engines_exactly(wire: object, engine: tuple[str, ...]) -> None:
    assert typing.get_args(wire) == tuple(engine)


def test_a_session_config_has_every_field_of_the_engines_config_and_its_defaults() -> None:
    engine = {f.name: f for f in dataclasses.fields(TrainConfig)}
    assert engine.keys() == schemas.TRAIN_FIELDS
    assert schemas.SessionConfig.model_fields.keys() == {*engine, "dataset"}
    assert schemas.SessionConfig().train_config() == TrainConfig()


def test_the_hyperparameters_are_the_engines_live_fields() -> None:
    assert schemas.Hyperparameters.model_fields.keys() == LIVE_FIELDS


def test_a_config_converts_to_the_engines_with_tuples() -> None:
    cfg = schemas.SessionConfig(hidden=[3, 5], activation=["relu", "tanh"], features=["x1", "x1*x2"], seed=4)
    tcfg = cfg.train_config()
    assert (tcfg.hidden, tcfg.activation, tcfg.features, tcfg.seed) == ((3, 5), ("relu", "tanh"), ("x1", "x1*x2"), 4)
    assert schemas.SessionConfig(features=None).train_config().features is None


def test_custom_outputs_have_their_own_cap() -> None:
    """BPP_MAX_OUTPUTS caps y's columns, BPP_MAX_INPUTS x's (outputs were capped by the inputs' setting)."""
    from app.engine import EngineError
    from app.sessions import build_trainer
    from app.settings import Settings

    x = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    y = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    config = schemas.SessionConfig(dataset=schemas.DatasetConfig(name="custom", x=x, y=y), hidden=[2])
    trainer = build_trainer(config, Settings(db="", max_inputs=2, max_outputs=3))  # 3 outputs > 2 inputs: fine
    assert (trainer.dataset.inputs, trainer.dataset.outputs) == (2, 3)
    with pytest.raises(EngineError) as err:
        build_trainer(config, Settings(db="", max_inputs=64, max_outputs=2))
    assert err.value.field == "dataset.y" and "outputs" in err.value.message
