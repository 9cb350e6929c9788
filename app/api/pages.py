"""The pages (SPEC §5–§6): ``GET /`` renders ``templates/index.html``; ``GET /room/{code}`` renders a classroom
room (``templates/room.html``) for the students; their scripts and styles are under /static."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app import __version__
from app.assets import TEMPLATES_DIR
from app.rooms import RoomStore, normalize_code
from app.sessions import ApiError

TEMPLATES = Jinja2Templates(directory=TEMPLATES_DIR)

router = APIRouter(tags=["page"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The playground page: the network, step mode, the inspector and live training."""
    return TEMPLATES.TemplateResponse(request, "index.html", {"version": __version__})


@router.get("/room", response_class=HTMLResponse, name="room_join")
def room_join(request: Request, code: str = "") -> Response:
    """The join box; ``?code=`` (the join form, without JavaScript too) goes to that room's page."""
    if code.strip():
        return _to_room(request, code)
    return _room_page(request, "", "join")


@router.get("/room/{code}", response_class=HTMLResponse, name="room_page")
def room_page(request: Request, code: str) -> Response:
    """A room's page for the class: the teacher's run live and read-only, and a button to fork it.

    A code typed by hand (any case, hyphen or not) is sent to its canonical address; an unknown or closed
    room shows the join box saying so (200, so that the browser logs no error)."""
    canonical = normalize_code(code)
    if canonical != code and _valid(canonical):
        return _to_room(request, code)
    rooms: RoomStore = request.app.state.rooms
    try:
        room = rooms.get(canonical)
    except ApiError:
        return _room_page(request, canonical if _valid(canonical) else code[:20], "unknown")
    return _room_page(request, room.code, "open", room.title)


def _valid(code: str) -> bool:
    return len(code) == 9 and code[4] == "-"


def _to_room(request: Request, code: str) -> Response:
    canonical = normalize_code(code)
    if not _valid(canonical):
        return _room_page(request, code.strip()[:20], "unknown")
    return RedirectResponse(request.url_for("room_page", code=canonical).path, status_code=303)


def _room_page(request: Request, code: str, state: str, title: str = "") -> HTMLResponse:
    # Whether the server offers the room's data (GET /api/rooms/{code}/export, route "room_export"): the page
    # then draws the teacher's decision surface with the data points, else only the charts.
    export = any(getattr(r, "name", None) == "room_export" for r in request.app.routes)
    context = {"version": __version__, "code": code, "state": state, "title": title, "export": export}
    return TEMPLATES.TemplateResponse(request, "room.html", context)
