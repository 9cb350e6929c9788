"""Health, version and the built-in datasets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app import __version__, examples
from app.api.errors import responses
from app.engine import BUILTIN
from app.schemas import DatasetOut, HealthOut

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=HealthOut, operation_id="health", responses=responses())
def health() -> dict[str, str]:
    """``{"status": "ok", "version": …}``."""
    return {"status": "ok", "version": __version__}


@router.get(
    "/datasets",
    response_model=list[DatasetOut],
    operation_id="list_datasets",
    responses={200: {"content": {"application/json": {"example": examples.DATASETS}}}, **responses()},
)
def datasets() -> list[dict[str, Any]]:
    """The built-in datasets: name, task, number of inputs and outputs."""
    return [vars(info) for info in BUILTIN.values()]
