"""The page (SPEC §5): ``GET /`` renders ``templates/index.html``; its scripts and styles are under /static."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import __version__

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent.parent / "templates")

router = APIRouter(tags=["page"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The playground page: the network, step mode, the inspector and live training."""
    return TEMPLATES.TemplateResponse(request, "index.html", {"version": __version__})
