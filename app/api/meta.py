"""Health and version."""

from __future__ import annotations

from fastapi import APIRouter

from app import __version__
from app.api.errors import responses
from app.schemas import HealthOut

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=HealthOut, operation_id="health", responses=responses())
def health() -> dict[str, str]:
    """``{"status": "ok", "version": …}``."""
    return {"status": "ok", "version": __version__}
