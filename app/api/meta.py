"""Health and version."""

from __future__ import annotations

from fastapi import APIRouter

from app import __version__

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
def health() -> dict[str, str]:
    """``{"status": "ok", "version": …}``."""
    return {"status": "ok", "version": __version__}
