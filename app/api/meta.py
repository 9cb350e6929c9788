"""Health, version and the built-in datasets.

Layer: API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app import __version__, examples
from app.api.deps import StoreDep
from app.api.errors import responses
from app.engine import BUILTIN, paths
from app.schemas import DatasetOut, HealthOut
from app.wire import JSONResponse

router = APIRouter(prefix="/api", tags=["meta"])


@router.get(
    "/health",
    response_model=HealthOut,
    operation_id="health",
    responses={
        **responses(),
        503: {
            "model": HealthOut,
            "description": "The same body, `status` `unavailable`: the database cannot be written.",
        },
    },
)
async def health(store: StoreDep) -> JSONResponse:
    """``{"status": "ok", "version", "storage", "memory"}``: ``storage`` is ``ok``, ``none`` (memory only) or
    why the database cannot be written (then the status is ``unavailable`` and the answer 503); ``memory`` is
    the sessions' budget and what they hold of it, in MB; ``engine`` whether the compiled kernels are loaded
    (``ready``), what ``BPP_ENGINE`` asks (``policy``), how long loading took and, if Numba is unusable, why."""
    problem = await store.db.health() if store.db is not None else None
    storage = "none" if store.db is None else (problem or "ok")
    mb = 1024 * 1024
    body: dict[str, Any] = {
        "status": "unavailable" if problem else "ok",
        "version": __version__,
        "storage": storage,
        "engine": paths.status(),
        "worker": store.settings.worker or None,
        "memory": {
            "budget_mb": round(store.memory.total / mb, 1),
            "used_mb": round(store.memory.used / mb, 1),
            "sessions": len(store),
        },
    }
    return JSONResponse(body, status_code=503 if problem else 200)


@router.get(
    "/datasets",
    response_model=list[DatasetOut],
    operation_id="list_datasets",
    responses={200: {"content": {"application/json": {"example": examples.DATASETS}}}, **responses()},
)
def datasets() -> list[dict[str, Any]]:
    """The built-in datasets: name, task, number of inputs and outputs."""
    return [vars(info) for info in BUILTIN.values()]
