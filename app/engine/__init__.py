"""The backprop engine: no web, no DOM, no pydantic; float64 and deterministic (docs/maths.md).

The maths three times over the same notation: ``reference`` (one sample at a time, straight from docs/maths.md:
read this first), ``network`` (the NumPy path: whole batches, BLAS) and ``kernels`` (the compiled path, Numba);
``paths`` chooses between the last two and ``trainer`` runs the steps.
"""

from . import paths, reference
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
    "reference",
]
