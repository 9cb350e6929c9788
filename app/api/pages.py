"""The pages (docs/page.md, docs/classroom.md): ``GET /`` renders ``templates/index.html``; ``GET /room/{code}``
renders a classroom room (``templates/room.html``) for the students; their scripts and styles are under /static.

Layer: API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app import __version__
from app.api.deps import url_for
from app.assets import TEMPLATES_DIR
from app.sessions.errors import NotFound
from app.sessions.rooms import RoomStore, normalize_code
from app.settings import Settings

TEMPLATES = Jinja2Templates(directory=TEMPLATES_DIR)

router = APIRouter(tags=["page"], include_in_schema=False)


def secured(request: Request, response: Response) -> Response:
    """The page's security headers: a Content-Security-Policy (scripts and styles from /static only, no inline
    script; connections to this server only, its websockets included; framing only by BPP_FRAME_ANCESTORS)
    and no Referer (room codes are in the path). ``X-Content-Type-Options: nosniff`` goes on every answer
    (``app.api.guard``)."""
    settings: Settings = request.app.state.settings
    host = request.headers.get("host", "")  # the guard has checked it names this server
    ancestors = " ".join(settings.frame_ancestors) or "'none'"
    response.headers["Content-Security-Policy"] = "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "worker-src 'self'",
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",  # charts size and colour a few elements by their style attribute
            "img-src 'self' data: blob:",
            f"connect-src 'self' ws://{host} wss://{host}",
            "form-action 'self'",
            "base-uri 'none'",
            f"frame-ancestors {ancestors}",
        )
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    """The playground page: the network, step mode, the inspector and live training."""
    return secured(request, TEMPLATES.TemplateResponse(request, "index.html", {"version": __version__}))


@router.get("/room", response_class=HTMLResponse, name="room_join")
def room_join(request: Request, code: str = "") -> Response:
    """The join box; ``?code=`` (the join form, without JavaScript too) goes to that room's page."""
    if code.strip():
        return secured(request, _to_room(request, code))
    return secured(request, _room_page(request, "", "join"))


@router.get("/room/{code}", response_class=HTMLResponse, name="room_page")
def room_page(request: Request, code: str) -> Response:
    """A room's page for the class: the teacher's run live and read-only, and a button to fork it.

    A code typed by hand (any case, hyphen or not) is sent to its canonical address; an unknown or closed
    room shows the join box saying so (200, so that the browser logs no error)."""
    canonical = normalize_code(code)
    if canonical != code and _valid(canonical):
        return secured(request, _to_room(request, code))
    rooms: RoomStore = request.app.state.rooms
    try:
        room = rooms.get(canonical)
    except NotFound:
        return secured(request, _room_page(request, canonical if _valid(canonical) else code[:20], "unknown"))
    return secured(request, _room_page(request, room.code, "open", room.title))


def _valid(code: str) -> bool:
    return len(code) == 9 and code[4] == "-"


def _to_room(request: Request, code: str) -> Response:
    canonical = normalize_code(code)
    if not _valid(canonical):
        return _room_page(request, code.strip()[:20], "unknown")
    return RedirectResponse(request.url_for("room_page", code=canonical).path, status_code=303)


def _room_page(request: Request, code: str, state: str, title: str = "") -> HTMLResponse:
    # Whether the server offers the room's data (GET /api/rooms/{code}/export, route "room_export"): the page
    # then asks for the teacher's surface data and history on joining (its answer decides), else only charts.
    export = url_for(request, "room_export", code=code or "ABCD-EFGH") is not None
    context = {"version": __version__, "code": code, "state": state, "title": title, "export": export}
    return TEMPLATES.TemplateResponse(request, "room.html", context)
