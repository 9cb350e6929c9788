"""A fully-connected network in the notation of docs/maths.md, with its forward and backward pass (the NumPy path).

Layers are numbered l = 1..L as in the course. A Workspace's lists are indexed by that l (index 0 unused):
``ws.z[l]`` is z^(l), ``ws.a[l]`` a^(l), ``ws.a_aug[l]`` [1; a^(l)], ``ws.delta[l]`` δ^(l), and
``self.activations[l]`` is layer l's g. The weights follow JSON's ``weights[l-1]``: ``theta[l - 1]`` is Θ^(l),
which joins layer l to layer l + 1, shaped S_{l+1} × (1 + S_l) with the bias weights in column 0.
All Θ live in one flat float64 vector (``theta_flat``) so that an update is one vector operation;
``theta[l - 1]`` are views into it. app/engine/reference.py is the same maths one sample at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import ModuleType

import numpy as np

from . import paths
from .errors import EngineError
from .functions import (
    Activation,
    activation,
    add_regularization_gradient,
    check_output_pair,
    data_loss_sum,
    output_delta,
    regularization_cost,
)

Array = np.ndarray
INITS = ("uniform", "xavier", "he", "zeros", "constant")
_MAX_CACHED_WORKSPACES = 6


class Workspace:
    """Preallocated arrays for one batch size m, one *column* per sample, indexed by the course's layer l.

    ``a_aug[l]`` is [1; a^(l)] ((1 + S_l) × m) for the hidden layers, ``a[l]`` its rows below the bias row,
    ``a[L]`` the output; ``z[l]``, ``delta[l]`` are S_l × m for l = 2..L. Index 0 is unused and layer 1, the
    input, has no z or δ (empty arrays); its [1; x] block is not owned here: ``feed`` points ``a_aug[1]`` at the
    batch's columns before each pass (a view, no copy). Everything a trace keeps lives in one flat ``buffer``
    (the arrays are views into it), so recording a step copies it in one operation; ``layout`` says where each
    array lies, layer by layer from l = 2.
    """

    def __init__(self, sizes: Sequence[int], m: int) -> None:
        self.m = m
        L = len(sizes)
        size = (0, *sizes)  # size[l] is S_l
        self.layout: list[tuple[str, int, int, tuple[int, int]]] = []  # (kind, layer l, offset, shape)
        total = 0
        for l in range(2, L + 1):
            for kind in ("a_out" if l == L else "a_aug", "z", "delta"):
                shape = (1 + size[l] if kind == "a_aug" else size[l], m)
                self.layout.append((kind, l, total, shape))
                total += shape[0] * m
        # then a^(1) (S_1 × m), where the compiled kernels copy a batch's inputs (the NumPy path reads them in place)
        self.buffer = np.empty(total + sizes[0] * m)
        views = {(kind, l): self.buffer[o : o + r * c].reshape(r, c) for kind, l, o, (r, c) in self.layout}
        none = np.empty((0, m))
        self.a_aug: list[Array] = [none, none] + [views["a_aug", l] for l in range(2, L)]
        self.a: list[Array] = [none, none] + [aa[1:] for aa in self.a_aug[2:]] + [views["a_out", L]]
        self.z = [none, none] + [views["z", l] for l in range(2, L + 1)]
        self.delta = [none, none] + [views["delta", l] for l in range(2, L + 1)]
        self.tmp = [np.empty((size[l] if l >= 2 else 0, m)) for l in range(L + 1)]
        self.y = np.empty((sizes[-1], m))
        self.columns = np.arange(m)  # the kernels' sample order for the columns fed here: 0..m−1

    def feed(self, x_aug: Array, y: Array | None = None) -> None:
        """Point the input layer at [1; x] ((1 + S_1) × m) and the targets at y (S_L × m): views, no copies."""
        self.a_aug[1] = x_aug
        self.a[1] = x_aug[1:]
        if y is not None:
            self.y = y


def augment(x: Array) -> Array:
    """Rows of samples (m × S) → [1; xᵀ], the (1 + S) × m block the forward pass reads."""
    out = np.ones((1 + x.shape[1], x.shape[0]))
    out[1:] = x.T
    return out


class Trace:
    """One forward and backward pass over m samples, in the shapes of the REST API and the live channel
    (docs/protocol.md): one row per sample, no bias columns.

    Its tuples are 0-based like JSON lists (``weights[l-1]``): ``z[l - 1]``, ``a[l - 1]``, ``delta[l - 1]`` are
    z^(l), a^(l), δ^(l), m × S_l (``z[0]`` and ``delta[0]``, layer 1's, are None); ``grads[l - 1]`` is D^(l),
    shaped like Θ^(l); costs are J's data and regularization terms. A trace holds flat copies of the workspace
    and the gradient and makes these views only when they are read.
    """

    def __init__(
        self,
        m: int,
        x: Array,
        buffer: Array,
        layout: list[tuple[str, int, int, tuple[int, int]]],
        grad_flat: Array,
        grad_slices: list[tuple[int, int, tuple[int, int]]],
        cost_data: float,
        cost_regularization: float,
    ) -> None:
        self.m = m
        self._x, self._buffer, self._layout = x, buffer, layout
        self._grad_flat, self._grad_slices = grad_flat, grad_slices
        self.cost_data = cost_data
        self.cost_regularization = cost_regularization

    def _rows(self, kind: str) -> list[Array]:
        buf = self._buffer
        out = []
        for k, _, o, (r, c) in self._layout:
            if k == kind or (kind == "a" and k in ("a_aug", "a_out")):
                block = buf[o : o + r * c].reshape(r, c)
                out.append((block[1:] if k == "a_aug" else block).T)
        return out

    @functools.cached_property
    def a(self) -> tuple[Array, ...]:
        """a^(1..L), m × S_l each."""
        return (self._x.T, *self._rows("a"))

    @functools.cached_property
    def z(self) -> tuple[Array | None, ...]:
        """z^(1..L) (None for the input layer)."""
        return (None, *self._rows("z"))

    @functools.cached_property
    def delta(self) -> tuple[Array | None, ...]:
        """δ^(1..L) (None for the input layer)."""
        return (None, *self._rows("delta"))

    @functools.cached_property
    def grads(self) -> tuple[Array, ...]:
        """D^(1..L−1), each shaped like Θ^(l)."""
        return tuple(self._grad_flat[a:b].reshape(shape) for a, b, shape in self._grad_slices)

    @property
    def cost_total(self) -> float:
        """J = data term + regularization term."""
        return self.cost_data + self.cost_regularization


class Network:
    """Weights Θ^(1..L−1), activations and loss; forward, backward and cost over batches.

    ``engine`` chooses the path of the passes (paths.py): "auto", "numpy" (this module's NumPy path) or
    "numba" (the compiled kernels of kernels.py, over the same arrays).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        hidden_activations: Sequence[str],
        output_activation: str,
        loss: str,
        engine: str = "auto",
    ) -> None:
        self.sizes = tuple(int(s) for s in sizes)
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise EngineError("hidden", "every layer needs at least one unit")
        if len(hidden_activations) != len(self.sizes) - 2:
            raise EngineError("activation", f"give one activation per hidden layer ({len(self.sizes) - 2})")
        check_output_pair(output_activation, loss, self.sizes[-1])
        hidden = [activation(name, "activation") for name in hidden_activations]
        # index l is layer l's g; index 0 and layer 1 (the input) hold the identity, never applied
        identity = activation("linear")
        self.activations: list[Activation] = [identity, identity, *hidden, activation(output_activation)]
        self.output_activation = output_activation
        self.loss = loss
        # Θ^(l) is S_{l+1} × (1 + S_l), l = 1..L−1; sizes[l - 1] is S_l
        self.shapes = [(self.sizes[l], 1 + self.sizes[l - 1]) for l in range(1, len(self.sizes))]
        counts = [r * c for r, c in self.shapes]
        self.offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.intp)
        self._slices = [(int(self.offsets[i]), int(self.offsets[i + 1]), shape) for i, shape in enumerate(self.shapes)]
        self.theta_flat = np.zeros(int(self.offsets[-1]))
        self.theta = self._views(self.theta_flat)
        self._theta_nb_t = [t[:, 1:].T for t in self.theta]
        self.grad_flat = np.zeros_like(self.theta_flat)
        self._grads = self._views(self.grad_flat)
        self._scratch = np.zeros_like(self.theta_flat)
        self.reg_mask = np.ones_like(self.theta_flat)
        for t in self._views(self.reg_mask):
            t[:, 0] = 0.0
        self._workspaces: dict[int, Workspace] = {}
        self.engine = paths.check_engine(engine)
        self.work = paths.work(self.sizes)
        self.layer_table, self.activation_codes = paths.tables(self.sizes, [g.name for g in self.activations])
        self.loss_code = paths.LOSS_CODES[loss]

    def kernels(self, m: int) -> ModuleType | None:
        """The compiled kernels when a pass over m samples runs on them now, else None (NumPy)."""
        return paths.kernels_for(self.engine, self.work * m)

    def path(self, m: int) -> str:
        """The path a pass over m samples runs on now: "numba" or "numpy"."""
        return paths.NUMPY if self.kernels(m) is None else paths.NUMBA

    @property
    def layers(self) -> int:
        """L, the number of layers including input and output."""
        return len(self.sizes)

    def _views(self, flat: Array) -> list[Array]:
        """Split a flat vector into matrices shaped like Θ^(1..L−1) (views, not copies)."""
        return [flat[start:stop].reshape(shape) for start, stop, shape in self._slices]

    def unflatten(self, flat: Array) -> list[Array]:
        """Copies of a flat vector (weights, gradients, updates) as matrices shaped like Θ."""
        return self._views(flat.copy())

    def workspace(self, m: int) -> Workspace:
        """The cached arrays for batch size m (a few sizes are kept: the batch, the last batch, the sets)."""
        ws = self._workspaces.get(m)
        if ws is None:
            if len(self._workspaces) >= _MAX_CACHED_WORKSPACES:
                self._workspaces.pop(next(iter(self._workspaces)))
            ws = self._workspaces[m] = Workspace(self.sizes, m)
        return ws

    def drop_workspaces(self, keep: Sequence[int] = ()) -> None:
        """Free the cached arrays of every batch size but ``keep`` (after a one-off pass on many samples)."""
        for m in [m for m in self._workspaces if m not in keep]:
            del self._workspaces[m]

    # -- weights -----------------------------------------------------------------------------------

    def initialize(self, kind: str, scale: float, rng: np.random.Generator) -> None:
        """Draw Θ from ``kind`` (docs/maths.md, "Initialization"), layer by layer from Θ^(1), with the given
        generator."""
        if kind not in INITS:
            raise EngineError("init", f"unknown initialization {kind!r}; choose one of {', '.join(INITS)}")
        for theta in self.theta:
            fan_out, fan_in = theta.shape[0], theta.shape[1] - 1
            if kind == "uniform":
                theta[:] = rng.uniform(-scale, scale, size=theta.shape)
            elif kind == "xavier":
                bound = np.sqrt(6.0 / (fan_in + fan_out))
                theta[:, 0] = 0.0
                theta[:, 1:] = rng.uniform(-bound, bound, size=(fan_out, fan_in))
            elif kind == "he":
                theta[:, 0] = 0.0
                theta[:, 1:] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
            elif kind == "zeros":
                theta[:] = 0.0
            else:
                theta[:] = scale

    def set_weights(self, weights: Sequence[Sequence[Sequence[float]]] | Sequence[Array]) -> None:
        """Replace every Θ^(l); shapes and finiteness are checked before anything changes."""
        if len(weights) != len(self.shapes):
            raise EngineError("weights", f"expected {len(self.shapes)} weight matrices, got {len(weights)}")
        new = []
        for i, (w, shape) in enumerate(zip(weights, self.shapes, strict=True)):  # weights[i] is Θ^(i+1), as in JSON
            try:
                arr = np.asarray(w, dtype=np.float64)
            except (ValueError, TypeError):
                raise EngineError(f"weights[{i}]", "must be a rectangular matrix of numbers") from None
            if arr.shape != shape:
                raise EngineError(
                    f"weights[{i}]",
                    f"Θ^({i + 1}) must be {shape[0]} × {shape[1]}, got {' × '.join(map(str, arr.shape)) or 'a scalar'}",
                )
            if not np.isfinite(arr).all():
                raise EngineError(f"weights[{i}]", "weights must be finite numbers")
            new.append(arr)
        for theta, arr in zip(self.theta, new, strict=True):
            theta[:] = arr

    # -- the passes --------------------------------------------------------------------------------

    def forward(self, ws: Workspace, compiled: bool = True) -> None:
        """z^(l+1) = Θ^(l)·[1; a^(l)], a^(l+1) = g(z^(l+1)) for l = 1..L−1, from the input fed to ``ws``
        (``compiled=False``: on the NumPy path whatever the engine)."""
        k = self.kernels(ws.m) if compiled else None
        if k is not None:
            table, codes = self.layer_table, self.activation_codes
            k.forward(self.theta_flat, table, codes, ws.buffer, ws.a_aug[1], ws.columns, 0, ws.m)
            return
        a_aug, a, z, g, theta = ws.a_aug, ws.a, ws.z, self.activations, self.theta
        for l in range(1, self.layers):  # theta[l - 1] is Θ^(l)
            if l >= 2:  # the bias row of [1; a^(l)]: the kernels may have used this buffer with another layout
                a_aug[l][0] = 1.0
            np.matmul(theta[l - 1], a_aug[l], out=z[l + 1])
            g[l + 1].forward(z[l + 1], a[l + 1])

    def backward(self, ws: Workspace) -> None:
        """δ^(L) = ∂ℓ/∂z^(L); δ^(l) = ((Θ^(l))ᵀ δ^(l+1))_{1..S_l} ⊙ g'(z^(l)); grad = Δ/m (no R term).

        Needs ``ws.y`` and a forward pass on ``ws``; writes δ into ``ws.delta`` and
        Δ^(l)/m = (1/m) Σ_i δ^(l+1)_i [1; a^(l)_i]ᵀ into ``self.grad_flat`` (laid out like ``theta_flat``).
        """
        k = self.kernels(ws.m)
        if k is not None:
            table, codes = self.layer_table, self.activation_codes
            x, y = ws.a_aug[1], ws.y
            args = (table, codes, self.loss_code, ws.buffer, x, y, ws.columns, 0, ws.m)
            k.backward(self.theta_flat, self.grad_flat, *args)
            return
        a_aug, a, z, delta, tmp, g = ws.a_aug, ws.a, ws.z, ws.delta, ws.tmp, self.activations
        L = self.layers
        output_delta(self.loss, g[L], z[L], a[L], ws.y, delta[L], tmp[L])  # δ^(L)
        big_delta, grad_flat, theta_t = self._grads, self.grad_flat, self._theta_nb_t
        for l in range(L - 1, 0, -1):  # big_delta[l - 1] is Δ^(l) and theta_t[l - 1] (Θ^(l))ᵀ without its bias row
            np.matmul(delta[l + 1], a_aug[l].T, out=big_delta[l - 1])  # Δ^(l) = δ^(l+1)·[1; a^(l)]ᵀ, summed
            if l >= 2:  # there is no δ^(1)
                np.matmul(theta_t[l - 1], delta[l + 1], out=delta[l])
                g[l].prime(z[l], a[l], tmp[l])
                np.multiply(delta[l], tmp[l], out=delta[l])
        np.multiply(grad_flat, 1.0 / ws.m, out=grad_flat)  # D = Δ/m (gradient() adds ∂R/∂Θ)

    def _pass(self, x: Array, y: Array | None = None) -> Workspace:
        """Forward pass over rows of samples x (m × S_1), targets y (m × S_L) fed alongside."""
        ws = self.workspace(len(x))
        ws.feed(augment(x), None if y is None else np.ascontiguousarray(np.asarray(y, dtype=np.float64).T))
        self.forward(ws)
        return ws

    def data_cost(self, ws: Workspace) -> float:
        """J's data term (1/m) Σ_i ℓ over the samples of a forward pass."""
        L = self.layers
        return data_loss_sum(self.loss, self.output_activation, ws.z[L], ws.a[L], ws.y) / ws.m

    def cost(self, x: Array, y: Array, regularization: str = "none", rate: float = 0.0) -> tuple[float, float]:
        """J over rows of samples (x, y), as (data term, regularization term), with m = len(x)."""
        ws = self._pass(x, y)
        return self.data_cost(ws), regularization_cost(regularization, rate, ws.m, self.theta_flat, self.reg_mask)

    def predict(self, x: Array) -> Array:
        """h_Θ(x) for every row of x, one row per sample (a copy)."""
        return self._pass(x).a[-1].T.copy()

    def gradient(self, ws: Workspace, regularization: str, rate: float) -> Array:
        """D = Δ/m + ∂R/∂Θ = ∂J/∂Θ into ``self.grad_flat`` (returned), after a forward pass on ``ws``."""
        self.backward(ws)
        add_regularization_gradient(
            regularization, rate, ws.m, self.theta_flat, self.reg_mask, self.grad_flat, self._scratch
        )
        return self.grad_flat

    def trace(self, x: Array, y: Array, regularization: str = "none", rate: float = 0.0) -> Trace:
        """The full forward/backward pass over rows of samples (x, y) at the current weights, no update."""
        ws = self._pass(x, y)
        self.gradient(ws, regularization, rate)
        return self.snapshot(ws, regularization, rate)

    def snapshot(self, ws: Workspace, regularization: str, rate: float) -> Trace:
        """Copy a workspace after forward and ``gradient`` into a Trace (rows per sample), with that
        batch's cost at the current weights (take it before any update)."""
        cost = regularization_cost(regularization, rate, ws.m, self.theta_flat, self.reg_mask)
        return self.snapshot_with(ws, self.data_cost(ws), cost)

    def snapshot_with(self, ws: Workspace, cost_data: float, cost_regularization: float) -> Trace:
        """``snapshot`` with the cost split already known (a compiled step computes it before its update)."""
        return Trace(
            ws.m,
            ws.a[1].copy(),
            ws.buffer.copy(),
            ws.layout,
            self.grad_flat.copy(),
            self._slices,
            cost_data,
            cost_regularization,
        )
