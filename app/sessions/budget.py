"""Memory and disk budgets: what a session will hold, computed before anything is allocated, and reserved.

Layer: sessions. What a session will hold (data, the engine's column copies, weights, optimizer state, cached
workspaces, the last step's trace, history) and what its checkpoint will take on disk are computed from the
data's shape and the config *before* anything is allocated (``footprint``), and reserved against the
server's budget (``BPP_MAX_MEMORY_MB``: ``ServerFull``, "the server is full") and against each client's and
each address's share of it (``BPP_CLIENT_MEMORY_SHARE``: ``OverLimit``). Deleting or expiring a session
releases its reservation and hands the freed heap back to the system (``give_memory_back``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import threading
from dataclasses import dataclass
from typing import Any

from app.engine import Dataset, TrainConfig
from app.engine.trainer import MAX_HISTORY
from app.sessions.errors import OverLimit, ServerFull, SessionError
from app.settings import Settings

MB = 1024 * 1024
SESSION_OVERHEAD = 64 * 1024  # Python objects around the arrays: the session, its config, locks, caches
COLLECT_AFTER_BYTES = 16 * MB  # sessions this big leave cyclic garbage worth a full collection
_libc: Any = None
with contextlib.suppress(OSError, AttributeError):
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _libc.malloc_trim.argtypes = [ctypes.c_size_t]


def give_memory_back(collect: bool = True) -> None:
    """Hand freed memory back to the system: collect the cyclic garbage a big request leaves (its parsed
    lists of numbers wait for a full collection otherwise), then trim the heap (glibc keeps freed small blocks,
    and, once big arrays have been freed, arrays up to 32 MB, for reuse). Measured: after deleting a session
    of the largest size the process shrinks back to within a few MB of its size before (bench/abuse.py)."""
    if collect:
        gc.collect()
    if _libc is not None:
        _libc.malloc_trim(0)


def footprint(dataset: Dataset, cfg: TrainConfig, settings: Settings) -> tuple[int, int]:
    """(memory, disk) in bytes that a session of this data and config holds at most, from the shapes alone:
    the data, the engine's column copies ([1; x], y and each epoch's shuffled copy), Θ with its gradient,
    masks, fallback copy and optimizer state, the cached workspaces (both sets for the metrics, the batch,
    the last short batch, one probe), the last step's trace and its JSON, the history; and its checkpoint
    (JSON numbers take at most 25 bytes each)."""
    cfg = cfg.resolved(dataset)
    n, t = len(dataset.x_train), len(dataset.x_test)
    d, k = dataset.inputs, dataset.outputs
    f = len(cfg.features or ()) or d
    sizes = (f, *cfg.hidden, k)
    params = sum(sizes[i + 1] * (1 + sizes[i]) for i in range(len(sizes) - 1))
    per_sample = 8 * (4 * sum(sizes[1:]) + len(sizes))  # one workspace column: [1; a], z, δ and scratch
    b = min(cfg.batch_size, n)
    traced = min(b, settings.max_trace_samples)
    memory = (
        SESSION_OVERHEAD
        + 8 * (n + t) * (d + k)  # the dataset
        + 8 * ((n + t) * (2 * f + 1 + k) + n * (1 + f + k))  # features, [1; x] and y columns, the epoch's copy
        + 8 * 12 * params  # Θ, D, scratch, masks, fallback, optimizer state, ΔΘ, frame
        + per_sample * (n + t + 3 * b + 1)  # cached workspaces and the last step's record
        + 3 * per_sample * traced  # the last step trace, as JSON
        + MAX_HISTORY * (200 + 8 * len(sizes))
    )
    history = MAX_HISTORY * (150 + 25 * len(sizes))
    disk = 25 * ((n + t) * (d + k) + 3 * params) + history + 4096
    return memory, disk


class Budget:
    """Bytes reserved by sessions against a server-wide total and each client's and address's share of it.
    Thread-safe: sessions are built (and their footprint reserved) in worker threads."""

    def __init__(self, what: str, total: int, share: float, setting: str) -> None:
        self.what, self.total, self.setting = what, total, setting
        self.share = max(1, int(total * share))
        self.used = 0
        self.held: dict[str, int] = {}  # by client key and by address (keys "c:…", "a:…")
        self._lock = threading.Lock()

    def _mb(self, n: int) -> str:
        return f"{n / MB:.1f} MB"

    def reserve(self, owners: tuple[str, ...], n: int) -> None:
        """Take ``n`` bytes for ``owners`` (a client and its address), or refuse: ``ServerFull``, or
        ``OverLimit`` when the owner holds its share."""
        if n <= 0:
            self.release(owners, -n)
            return
        with self._lock:
            if self.used + n > self.total:
                raise ServerFull(
                    f"the server is full: sessions hold {self._mb(self.used)} of its {self._mb(self.total)} "
                    f"{self.what} budget ({self.setting}) and this needs {self._mb(n)} more; try again later, "
                    "or with less data or a smaller network",
                )
            for owner in owners:
                held = self.held.get(owner, 0)
                if held + n > self.share:
                    who = "this client" if owner.startswith("c:") else "this address"
                    raise OverLimit(
                        f"{who} holds {self._mb(held)} of its {self._mb(self.share)} share of the server's "
                        f"{self.what} and this needs {self._mb(n)} more; delete a session first, or use less "
                        "data or a smaller network",
                    )
            self.used += n
            for owner in owners:
                self.held[owner] = self.held.get(owner, 0) + n

    def release(self, owners: tuple[str, ...], n: int) -> None:
        """Give ``n`` bytes back."""
        with self._lock:
            self.used -= n
            for owner in owners:
                left = self.held.get(owner, 0) - n
                if left > 0:
                    self.held[owner] = left
                else:
                    self.held.pop(owner, None)


@dataclass
class Charge:
    """What one session has reserved: (memory, disk) bytes against the store's budgets, for its owners."""

    budgets: tuple[Budget, Budget]
    owners: tuple[str, ...]
    amounts: tuple[int, int] = (0, 0)

    def set(self, dataset: Dataset, cfg: TrainConfig, settings: Settings) -> None:
        """Reserve what a session of this data and config needs (in place of what it held); nothing changes
        when a budget refuses. Call before building the trainer."""
        new = footprint(dataset, cfg, settings)
        memory, disk = self.budgets
        memory.reserve(self.owners, new[0] - self.amounts[0])
        try:
            disk.reserve(self.owners, new[1] - self.amounts[1])
        except SessionError:
            memory.reserve(self.owners, self.amounts[0] - new[0])
            raise
        self.amounts = new

    def restore(self, amounts: tuple[int, int]) -> None:
        """Go back to an earlier reservation (a rolled-back change: never refused, it held this before)."""
        for budget, old, now in zip(self.budgets, amounts, self.amounts, strict=True):
            budget.release(self.owners, now - old)
        self.amounts = amounts

    def clear(self) -> None:
        """Release everything (the session is gone)."""
        self.restore((0, 0))
