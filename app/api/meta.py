"""Health and version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app import __version__
from app.engine import paths

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
def health() -> dict[str, Any]:
    """``{"status": "ok", "version": …, "engine": …}``: ``engine`` says whether the compiled kernels are loaded
    (``ready``), what ``BPP_ENGINE`` asks (``policy``), how long loading took and, if Numba is unusable, why."""
    return {"status": "ok", "version": __version__, "engine": paths.status()}
