"""The NumPy backprop engine: no web, no DOM, no pydantic; float64 and deterministic (SPEC §2)."""

from . import paths
from .datasets import BUILTIN, FEATURES, Dataset, DatasetInfo, custom_dataset, make_dataset
from .errors import EngineError
from .functions import HIDDEN_ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS, REGULARIZATIONS
from .gradcheck import GradCheck, gradient_check
from .network import INITS, Network, Trace
from .optimizers import OPTIMIZERS
from .trainer import Divergence, Metrics, StepRecord, TrainConfig, Trainer

__all__ = [
    "BUILTIN",
    "FEATURES",
    "HIDDEN_ACTIVATIONS",
    "INITS",
    "LOSSES",
    "OPTIMIZERS",
    "OUTPUT_ACTIVATIONS",
    "REGULARIZATIONS",
    "Dataset",
    "DatasetInfo",
    "Divergence",
    "EngineError",
    "GradCheck",
    "Metrics",
    "Network",
    "StepRecord",
    "Trace",
    "TrainConfig",
    "Trainer",
    "custom_dataset",
    "gradient_check",
    "make_dataset",
    "paths",
]
