"""The REST contract (docs/api.md) as pydantic models: bounded fields, ``extra="forbid"``, finite numbers.

Layer: wire (between the API routes and the session layer). Request models validate what clients send;
response models document what they get back (the routes return arrays serialized by ``app.wire`` directly,
so big arrays never go through pydantic).

A run's settings are described once: each field's type and bounds is one ``Annotated`` type below
(``LearningRate``, ``BatchSize`` …), which ``SessionConfig`` (every field, with the engine's defaults) and
``Hyperparameters`` (any subset, for PATCH and the live channel's ``set``) share. The allowed names are the
engine's (``app.engine``: ``HIDDEN_ACTIVATIONS``, ``LOSSES`` …); the ``Literal`` types here spell them out
for the OpenAPI and mypy, and tests/test_schemas.py checks that both say exactly the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictInt, Tag, ValidationError, model_validator

from app import examples
from app.engine import TrainConfig

DatasetName = Literal[
    "circle", "xor", "gauss", "spiral", "moons", "plane", "multi_gauss", "sine", "blobs", "network_n", "custom"
]
Feature = Literal["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
HiddenActivation = Literal["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OutputActivation = Literal["linear", "sigmoid", "tanh", "softmax"]
Loss = Literal["mse", "cross_entropy"]
Optimizer = Literal["sgd", "momentum", "adam"]
Regularization = Literal["none", "l1", "l2"]
Init = Literal["uniform", "xavier", "he", "zeros", "constant"]
Task = Literal["classification", "multiclass", "regression"]
Status = Literal["paused", "playing", "diverged"]

# Hard caps on what a request may even describe; the server's BPP_ limits (usually lower) are checked after.
SEED_MAX = 2**32 - 1
MAX_ROWS = 100_000
MAX_MATRICES = 65  # weight matrices of a network with the most hidden layers a request may describe
COUNTER_MAX = 2**53  # step and epoch counters stay exact in JSON
Number = float
Rows = list[list[Number]]
Index = Annotated[StrictInt, Field(ge=0, le=MAX_ROWS)]  # a training-set index

# -- a run's settings: each field's type and bounds, once -----------------------------------------------

Activations = HiddenActivation | list[HiddenActivation]  # one for every hidden layer, or one per layer
Hidden = Annotated[list[StrictInt], Field(max_length=64)]
LearningRate = Annotated[float, Field(gt=0.0, le=100.0)]
BatchSize = Annotated[StrictInt, Field(ge=1, le=MAX_ROWS)]
Momentum = Annotated[float, Field(ge=0.0, lt=1.0)]
RegRate = Annotated[float, Field(ge=0.0, le=100.0)]
InitScale = Annotated[float, Field(ge=0.0, le=100.0)]
Seed = Annotated[StrictInt, Field(ge=0, le=SEED_MAX)]
_DEFAULT = TrainConfig()  # the engine's defaults are the wire's


_UNION_TAG = re.compile(r"^(?:[a-z-]+\[.*\]|int|float|str|bool|none)$")  # pydantic's name of a union member
_MODEL_TAG = re.compile(r"^[A-Z][A-Za-z]*$")  # a model's name, the tag of a union of models (fields are snake_case)


def error_field(loc: tuple[Any, ...]) -> str | None:
    """The field a pydantic error is about, as docs/api.md writes it: a dotted path with indices in brackets
    (``dataset.samples``, ``weights[0]``), without the request part or the union and model tags pydantic adds;
    None when the error is about the whole object."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header") and not _MODEL_TAG.match(str(p))]
    parts = [p for p in parts if not (_UNION_TAG.match(p) and len(parts) > 1)]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or None


def refusal(error: Mapping[str, Any]) -> tuple[str | None, str]:
    """(field, message) of one pydantic error: REST's 422 and the live channel's ``error`` say the same."""
    return error_field(tuple(error.get("loc", ()))), str(error.get("msg", "invalid")).removeprefix("Value error, ")


def first_refusal(err: ValidationError) -> tuple[str | None, str]:
    """(field, message) of the first error of a refused model."""
    return refusal(err.errors()[0])


def example(*docs: Any) -> dict[str, Any]:
    """``json_schema_extra`` that gives a model's schema these examples (shown by /docs, used by generators)."""
    return {"examples": list(docs)}


class Model(BaseModel):
    """Base for every wire model: unknown fields and non-finite numbers are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DatasetConfig(Model):
    """A built-in dataset by name, or ``custom`` data given inline."""

    name: DatasetName = "circle"
    samples: StrictInt = Field(500, ge=2, le=MAX_ROWS, description="Number of samples (built-in sets).")
    noise: float = Field(0.0, ge=0.0, le=1.0, description="Noise as a fraction, 0 = clean, 0.5 = very noisy.")
    train_fraction: float = Field(0.5, gt=0.0, le=1.0, description="Share of the samples used for training.")
    seed: StrictInt = Field(0, ge=0, le=SEED_MAX, description="Seed of the data generator.")
    classes: StrictInt = Field(3, ge=3, le=10, description="Number of classes (blobs).")
    x: Rows | None = Field(None, description="Custom inputs, one row per sample.")
    y: Rows | list[Number] | None = Field(None, description="Custom targets: rows, or one value per sample.")
    x_test: Rows | None = None
    y_test: Rows | list[Number] | None = None
    task: Task | None = Field(None, description="Custom data's task; inferred from y when absent.")

    @model_validator(mode="after")
    def _custom_fields(self) -> DatasetConfig:
        inline = [f for f in ("x", "y", "x_test", "y_test", "task") if getattr(self, f) is not None]
        if self.name == "custom" and (self.x is None or self.y is None):
            raise ValueError("custom data needs both x and y")
        if self.name != "custom" and inline:
            raise ValueError(f"{inline[0]} is only for name 'custom'")
        return self


class Hyperparameters(Model):
    """The settings that change without touching the weights (PATCH may send any subset)."""

    activation: Activations | None = None
    output_activation: OutputActivation | None = None
    loss: Loss | None = None
    learning_rate: LearningRate | None = None
    batch_size: BatchSize | None = None
    optimizer: Optimizer | None = None
    momentum: Momentum | None = None
    regularization: Regularization | None = None
    reg_rate: RegRate | None = None
    init: Init | None = None
    init_scale: InitScale | None = None


class SessionConfig(Model):
    """Everything that defines a run. Every field is optional; the defaults make a working demo."""

    # docs/api.md, "The session config"; the defaults are the engine's TrainConfig's

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "dataset": {"name": "xor", "samples": 200, "noise": 0.1},
                    "hidden": [4, 2],
                    "activation": "tanh",
                    "learning_rate": 0.03,
                    "seed": 1,
                }
            ]
        },
    )

    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    features: list[Feature] | None = Field(None, description="Input features (1- and 2-D datasets).")
    hidden: Hidden = Field(default_factory=lambda: list(_DEFAULT.hidden), description="Units per hidden layer.")
    activation: Activations = _DEFAULT.activation  # type: ignore[assignment]
    output_activation: OutputActivation | None = Field(None, description="Defaults by task.")
    loss: Loss | None = Field(None, description="Defaults by task.")
    learning_rate: LearningRate = _DEFAULT.learning_rate
    batch_size: BatchSize = _DEFAULT.batch_size
    optimizer: Optimizer = _DEFAULT.optimizer  # type: ignore[assignment]
    momentum: Momentum = _DEFAULT.momentum
    regularization: Regularization = _DEFAULT.regularization  # type: ignore[assignment]
    reg_rate: RegRate = _DEFAULT.reg_rate
    init: Init = _DEFAULT.init  # type: ignore[assignment]
    init_scale: InitScale = _DEFAULT.init_scale
    seed: Seed = _DEFAULT.seed

    def train_config(self) -> TrainConfig:
        """The engine's ``TrainConfig`` for this config (the one conversion from wire to engine; the engine
        checks every field again, and the session layer the server's limits)."""
        fields: dict[str, Any] = self.model_dump(include=set(TRAIN_FIELDS))
        engine: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}  # tuples
        return TrainConfig(**engine)


TRAIN_FIELDS = frozenset(f for f in SessionConfig.model_fields if f != "dataset")
"""The fields a ``SessionConfig`` shares with the engine's ``TrainConfig``: all but the data."""


class ImportedMetrics(Model):
    """One history entry of an export document (non-finite numbers were written as null)."""

    step: StrictInt = Field(ge=0, le=COUNTER_MAX)
    epoch: StrictInt = Field(ge=0, le=COUNTER_MAX)
    train_loss: float | None
    test_loss: float | None
    regularization: float | None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    grad_norms: list[float | None] = Field(default_factory=list, max_length=MAX_MATRICES)


class ImportedDivergence(Model):
    """Why and when an exported run diverged."""

    step: StrictInt = Field(ge=0, le=COUNTER_MAX)
    reason: str = Field(max_length=1000)


class ImportedState(Model):
    """Counters, weights, optimizer state and history of an exported run (the engine checks shapes)."""

    step: StrictInt = Field(0, ge=0, le=COUNTER_MAX)
    epoch: StrictInt = Field(0, ge=0, le=COUNTER_MAX)
    offset: StrictInt = Field(0, ge=0, le=MAX_ROWS)
    weights: list[Rows] = Field(max_length=MAX_MATRICES)
    optimizer_state: dict[str, list[Number] | StrictInt] = Field(default_factory=dict, max_length=8)
    history: list[ImportedMetrics] = Field(default_factory=list, max_length=10_000)
    divergence: ImportedDivergence | None = None
    grad_norms: list[float] | None = Field(None, max_length=MAX_MATRICES)


class ImportedData(Model):
    """The exported run's data, in the dataset's own columns."""

    task: Task | None = None
    x: Rows
    y: Rows | list[Number]
    x_test: Rows | None = None
    y_test: Rows | list[Number] | None = None


def with_custom_data(config: Any, data: Any) -> Any:
    """An export's config with custom data filled back in from its ``data`` (exports keep the data once)."""
    if not isinstance(config, dict) or not isinstance(data, dict):
        return config
    dataset = config.get("dataset")
    if isinstance(dataset, dict) and dataset.get("name") == "custom" and dataset.get("x") is None:
        filled = {k: data.get(k) for k in ("x", "y", "x_test", "y_test", "task")}
        if not filled["x_test"]:
            filled["x_test"] = filled["y_test"] = None
        return {**config, "dataset": {**dataset, **filled}}
    return config


class ExportDocument(Model):
    """What ``GET /api/sessions/{id}/export`` returns: a whole run, to import back."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra=example(examples.EXPORT))

    format: str = Field(max_length=100)
    version: StrictInt
    config: SessionConfig
    data: ImportedData
    state: ImportedState

    @model_validator(mode="before")
    @classmethod
    def _custom_data(cls, value: Any) -> Any:
        if isinstance(value, dict) and "config" in value:
            return {**value, "config": with_custom_data(value["config"], value.get("data"))}
        return value


class ImportSession(Model):
    """``{"import": <an export document>}``: a new session that continues an exported run bit for bit."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        populate_by_name=True,
        json_schema_extra=example({"import": examples.EXPORT}),
    )

    import_: ExportDocument = Field(alias="import", description="A document from GET …/export.")


def _config_or_import(value: Any) -> str:
    """Which of the two bodies ``POST /api/sessions`` got: an object with ``import`` is an import."""
    imported = isinstance(value, ImportSession) or (isinstance(value, dict) and "import" in value)
    return "ImportSession" if imported else "SessionConfig"


CreateSession = Annotated[
    Annotated[SessionConfig, Tag("SessionConfig")] | Annotated[ImportSession, Tag("ImportSession")],
    Discriminator(_config_or_import),
]
"""The body of ``POST /api/sessions``: a session config (every field optional), or ``{"import": doc}``."""


class SessionPatch(Hyperparameters):
    """New settings for a live session. Hyperparameters keep the weights; ``hidden``, ``features``,
    ``dataset`` or ``seed`` change the network or its data, which re-initializes it from the seed."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"examples": [{"learning_rate": 0.1, "batch_size": 20, "optimizer": "adam"}]},
    )

    hidden: Hidden | None = None
    features: list[Feature] | None = None
    dataset: DatasetConfig | None = None
    seed: Seed | None = None


class TrainRequest(Model):
    """Train for a number of steps (mini-batch updates) or of whole epochs."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"steps": 100}, {"epochs": 5}]})

    steps: StrictInt | None = Field(None, ge=1, le=10_000_000)
    epochs: StrictInt | None = Field(None, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _one(self) -> TrainRequest:
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of steps or epochs")
        return self


class BackpropRequest(Model):
    """Samples to trace: training-set indices, or raw rows with targets, or nothing for the whole set."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [{"samples": [0, 1, 2]}, {}]}
    )

    samples: list[Index] | None = Field(None, min_length=1, max_length=MAX_ROWS)
    x: Rows | None = Field(None, min_length=1, max_length=MAX_ROWS)
    y: Rows | list[Number] | None = Field(None, min_length=1, max_length=MAX_ROWS)

    @model_validator(mode="after")
    def _which(self) -> BackpropRequest:
        if self.samples is not None and (self.x is not None or self.y is not None):
            raise ValueError("give samples, or x and y, not both")
        if (self.x is None) != (self.y is None):
            raise ValueError("x and y go together")
        return self


class GradcheckRequest(Model):
    """Which training samples to check on (default: the first 32) and the finite-difference step."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [{}]})

    samples: list[Index] | None = Field(None, min_length=1, max_length=256)
    epsilon: float = Field(1e-5, gt=0.0, le=0.1)


class ResetRequest(Model):
    """Reset to the initial weights of the config's seed, or of a new ``seed``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=example({"seed": 7}, {}))

    seed: Seed | None = None


class WeightsBody(Model):
    """Θ^(1..L−1): ``weights[l-1]`` is S_{l+1} rows of 1 + S_l numbers, column 0 the bias weights."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, json_schema_extra=example({"weights": examples.WEIGHTS})
    )

    weights: list[Rows] = Field(max_length=64)


# -- responses (documentation of what the routes return) ----------------------------------------------


class Out(BaseModel):
    """Base for every response model: the object has exactly these fields (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid")


class FieldError(Out):
    """One refused field of a 422."""

    field: str = Field(description="The field, as a dotted path (``dataset.samples``, ``weights[0]``).")
    message: str


class ErrorOut(Out):
    """Every refusal: a human-readable ``detail``, the ``field`` it is about where there is one, and for a 422
    of request validation every refused field (at most 50) in ``errors``."""

    detail: str
    field: str | None = Field(None, description="The request field at fault (absent when none is).")
    errors: list[FieldError] | None = Field(None, description="422 of validation only: every refused field.")


class MemoryOut(Out):
    """The sessions' memory budget and what they hold of it."""

    budget_mb: float
    used_mb: float
    sessions: int


class EngineOut(Out):
    """Whether the compiled kernels are loaded, what ``BPP_ENGINE`` asks, and why Numba is unusable, if it is."""

    policy: Literal["auto", "numpy"]
    ready: bool
    load_seconds: float | None = Field(description="How long loading the kernels took; null until they load.")
    error: str | None = Field(description="Why the compiled path is unavailable; null when it is fine.")


class HealthOut(Out):
    """The server is up (``ok``) or cannot write its database (``unavailable``, with 503), and its version."""

    model_config = ConfigDict(json_schema_extra=example(examples.HEALTH))

    status: Literal["ok", "unavailable"]
    version: str
    storage: str = Field(description="``ok``, ``none`` (memory only), or why the database cannot be written.")
    engine: EngineOut
    memory: MemoryOut
    worker: str | None = Field(
        description="The worker process that answered, in a cluster (`serve --workers`, its tag such as `w2`); "
        "null for a single process."
    )


class MetricsOut(Out):
    """J's data term over each set, the regularization term, accuracy where it applies."""

    step: int
    epoch: int
    train_loss: float | None
    test_loss: float | None
    regularization: float | None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    grad_norms: list[float | None] = Field(description="‖D^(l)‖ of the latest step, per weight matrix.")


class DivergenceOut(Out):
    """When and why a run diverged."""

    step: int
    reason: str


class SessionState(Out):
    """A session as GET returns it."""

    model_config = ConfigDict(json_schema_extra=example(examples.SESSION))

    id: str
    config: SessionConfig = Field(description="The session config with every default filled in.")
    task: Task
    layer_sizes: list[int] = Field(description="S_1..S_L, bias units not counted.")
    n_train: int
    n_test: int
    step: int
    epoch: int
    status: Status
    engine_path: Literal["numba", "numpy"] = Field(
        description="The path the training steps run on now: `numba` (compiled kernels) or `numpy` (the NumPy "
        "reference: large networks, BPP_ENGINE=numpy, or the first seconds after start-up while the kernels load)."
    )
    divergence: DivergenceOut | None
    worker: str | None = Field(
        description="The worker process that owns the session in a cluster (its tag, which also starts the id); "
        "null for a single process."
    )
    steps_per_frame: int | None = Field(description="Live channel speed: steps per frame; null = one epoch.")
    probe: int = Field(description="The training sample whose values live frames carry.")
    metrics: MetricsOut
    weights: list[Rows]


class CreatedSession(SessionState):
    """A new session: keep the token, every later call needs it as ``Authorization: Bearer <token>``."""

    model_config = ConfigDict(json_schema_extra=example(examples.CREATED))

    token: str


class ForkedSession(CreatedSession):
    """A fork of a room's run: a session of your own (keep the token), and the room it came from."""

    model_config = ConfigDict(json_schema_extra=example(examples.FORKED))

    room: str


class TrainResult(SessionState):
    """The state after training, with the metric history of this run (one entry per epoch + the latest)."""

    model_config = ConfigDict(json_schema_extra=example(examples.TRAINED))

    steps_done: int
    stopped_early: bool = Field(description="True when the run diverged or hit the per-call time limit.")
    history: list[MetricsOut]


class LayerTraceOut(Out):
    """One layer of a trace: rows per sample, no bias column; layer 1 has only ``a``."""

    layer: int
    z: Rows | None = None
    a: Rows
    delta: Rows | None = None


class CostOut(Out):
    """J split into its terms."""

    data: float | None
    regularization: float | None
    total: float | None


class TraceOut(Out):
    """The full forward and backward pass: per layer z, a and δ (rows per sample), and the gradients D."""

    model_config = ConfigDict(json_schema_extra=example(examples.TRACE))

    m: int
    cost: CostOut
    layers: list[LayerTraceOut]
    gradients: list[Rows] = Field(description="D^(l) for l = 1..L−1, each shaped like weights[l-1].")


class GradcheckLayerOut(Out):
    """Analytic and numerical gradients of one Θ^(l)."""

    layer: int
    max_relative_error: float
    relative_error: float = Field(description="‖Da − Dn‖ / (‖Da‖ + ‖Dn‖) over the layer.")
    analytic: Rows
    numerical: Rows
    errors: Rows = Field(description="Per weight: |Da − Dn| / max(|Da| + |Dn|, 1e-7).")


class GradcheckOut(Out):
    """The gradient check: analytic beside numerical gradients, per layer and overall."""

    model_config = ConfigDict(json_schema_extra=example(examples.GRADCHECK))

    epsilon: float
    m: int
    max_relative_error: float
    relative_error: float
    checked: int = Field(description="Weights compared with a numerical derivative (a spread of a big network's).")
    complete: bool = Field(description="False when the time bound stopped the check before every chosen weight.")
    layers: list[GradcheckLayerOut]


class DatasetOut(Out):
    """A built-in dataset."""

    model_config = ConfigDict(json_schema_extra=example(examples.DATASETS[0]))

    name: str
    task: Task
    inputs: int
    outputs: int
    description: str


class CreateRoom(Model):
    """Open a room on a session you hold the token of (send it as the Bearer token)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=example({"session_id": examples.SESSION_ID, "title": "Lecture 4: XOR"})
    )

    session_id: str = Field(min_length=1, max_length=64)
    title: str = Field("", max_length=120)


class ForkRequest(Model):
    """Fork the room's current network; ``name`` is what the teacher's class view shows."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=example({"name": "Ada"}, {}))

    name: str | None = Field(None, max_length=40)


class RoomCreated(Out):
    """A new room: the join code for the class, the teacher token for the teacher only."""

    model_config = ConfigDict(json_schema_extra=example(examples.ROOM_CREATED))

    code: str
    teacher_token: str
    title: str
    url: str


LessonName = Literal["derivation"]
Prediction = Literal[
    "delta3",
    "delta2",
    "grad",
    "update",
    "quiz.theta_count",
    "quiz.delta1",
    "quiz.direction",
    "quiz.nonoutput",
    "quiz.shape",
    "quiz.first",
]


class LessonState(Out):
    """The lesson the teacher shows the room: which, the step (1..9) and the training sample."""

    model_config = ConfigDict(json_schema_extra=example(examples.LESSON_STATE))

    lesson: LessonName
    step: int = Field(ge=1, le=9)
    sample: int = Field(ge=0)


class LessonRequest(Model):
    """Show a lesson step and sample to the room (``lesson`` null: stop showing a lesson)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=example(examples.LESSON_STATE))

    lesson: LessonName | None
    step: StrictInt = Field(1, ge=1, le=9)
    sample: StrictInt = Field(0, ge=0)


class LessonAnswer(Model):
    """A student's first verdict on one prediction of the current lesson sample."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=example({"prediction": "delta2", "sample": 17, "right": True})
    )

    prediction: Prediction
    sample: StrictInt = Field(ge=0)
    right: bool


class LessonTally(Out):
    """How many students answered one prediction of the current sample, and how many were right."""

    prediction: Prediction
    step: int
    answered: int
    right: int


class LessonOut(LessonState):
    """The room's lesson with the class's predictions on its current sample (the first answer of each
    student counts)."""

    model_config = ConfigDict(json_schema_extra=example(examples.LESSON))

    answers: list[LessonTally]


class RoomOut(Out):
    """A room as anyone with the code sees it."""

    model_config = ConfigDict(json_schema_extra=example(examples.ROOM))

    code: str
    title: str
    forks: int
    session: SessionState
    lesson: LessonState | None = Field(None, description="The lesson step and sample the teacher shows, if any.")


class ForkOut(Out):
    """One student's fork in the class view."""

    id: str
    name: str | None
    created: float
    status: Status
    step: int
    epoch: int
    train_loss: float | None
    test_loss: float | None
    train_accuracy: float | None


class ClassOut(Out):
    """The class: every fork of the room."""

    model_config = ConfigDict(json_schema_extra=example(examples.CLASS))

    code: str
    forks: list[ForkOut]
    lesson: LessonOut | None = Field(None, description="The lesson shown, with the class's predictions.")
