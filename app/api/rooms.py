"""Room routes (docs/classroom.md): open, view, fork, class view, close, and the read-only live channel.

Layer: API; thin handlers over ``app.sessions.rooms``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response, WebSocket

from app import examples, wire
from app.api.deps import CreateRate, StoreDep, client_address, client_key, url_for
from app.api.errors import responses
from app.api.live import accept, serve
from app.api.sessions import bearer, state
from app.schemas import (
    ClassOut,
    CreateRoom,
    ExportDocument,
    ForkedSession,
    ForkRequest,
    LessonAnswer,
    LessonOut,
    LessonRequest,
    RoomCreated,
    RoomOut,
)
from app.sessions import LiveHub, NotFound, Room, RoomStore
from app.settings import Settings

router = APIRouter(prefix="/api/rooms", tags=["rooms"])
TokenDep = Annotated[str | None, Depends(bearer)]


def get_rooms(request: Request) -> RoomStore:
    """The app's room store."""
    rooms: RoomStore = request.app.state.rooms
    return rooms


RoomsDep = Annotated[RoomStore, Depends(get_rooms)]


@router.post(
    "",
    status_code=201,
    response_model=RoomCreated,
    operation_id="open_room",
    responses=responses(400, 401, 403, 404, 422, 503),
)
async def open_room(body: CreateRoom, request: Request, store: StoreDep, rooms: RoomsDep, token: TokenDep) -> Response:
    """Open a room on your session (its token as Bearer): students join with the code and watch it live."""
    session = store.get(body.session_id, token)
    room, teacher_token = await rooms.open(session, body.title)
    url = url_for(request, "room_page", code=room.code) or f"/room/{room.code}"
    return wire.JSONResponse(
        {"code": room.code, "teacher_token": teacher_token, "title": room.title, "url": url}, status_code=201
    )


@router.get("/{code}", response_model=RoomOut, operation_id="get_room", responses=responses(404))
async def get_room(code: str, rooms: RoomsDep) -> Response:
    """Public: the room's title and the teacher session's config, weights and metrics."""
    room = rooms.get(code)
    session = rooms.teacher_session(room)
    out = state(session)
    lesson = room.lesson.state() if room.lesson else None
    return wire.JSONResponse(
        {"code": room.code, "title": room.title, "forks": len(rooms.forks(room)), "session": out, "lesson": lesson}
    )


@router.post(
    "/{code}/fork",
    status_code=201,
    response_model=ForkedSession,
    dependencies=[CreateRate],
    operation_id="fork_room",
    responses=responses(400, 404, 422, 429, 503),
)
async def fork_room(
    code: str,
    request: Request,
    rooms: RoomsDep,
    body: Annotated[ForkRequest | None, Body()] = None,
) -> Response:
    """Public: a new session of your own, a copy of the teacher's current network → ``{"id", "token", …}``."""
    room = rooms.get(code)
    session, token = await rooms.fork(room, client_key(request), body.name if body else None, client_address(request))
    return wire.JSONResponse({"token": token, "room": room.code, **state(session)}, status_code=201)


@router.get(
    "/{code}/export",
    name="room_export",
    response_model=ExportDocument,
    operation_id="export_room",
    responses=responses(404),
)
async def room_export(code: str, rooms: RoomsDep) -> Response:
    """Public: the teacher session's run as one document (config, data, weights, history), which the room
    page draws its decision surface and charts from; forking hands out the same document."""
    room = rooms.get(code)
    session = rooms.teacher_session(room)
    return wire.JSONResponse(await session.read(session.export))


@router.get("/{code}/class", response_model=ClassOut, operation_id="get_class", responses=responses(401, 403, 404))
async def class_view(code: str, rooms: RoomsDep, token: TokenDep) -> Response:
    """Teacher token: every fork with its name, step and current loss."""
    room = rooms.get(code)
    rooms.check_teacher(room, token)
    lesson = room.lesson.tally() if room.lesson else None
    return wire.JSONResponse({"code": room.code, "forks": rooms.class_view(room), "lesson": lesson})


@router.put(
    "/{code}/lesson",
    response_model=LessonOut | None,
    operation_id="set_room_lesson",
    responses={200: {"content": {"application/json": {"example": examples.LESSON}}}, **responses(401, 403, 404, 422)},
)
async def set_lesson(code: str, body: LessonRequest, rooms: RoomsDep, token: TokenDep) -> Response:
    """Teacher token: show a lesson step and training sample on every student's room page (the room's live
    channel sends them as a ``lesson`` message); ``{"lesson": null}`` stops. Answers: the lesson with the
    class's predictions on its sample (null when stopped)."""
    room = rooms.get(code)
    rooms.check_teacher(room, token)
    lesson = rooms.set_lesson(room, body.lesson, body.step, body.sample)
    return wire.JSONResponse(lesson.tally() if lesson else None)


@router.post(
    "/{code}/lesson/answers",
    status_code=204,
    response_class=Response,
    operation_id="answer_room_lesson",
    responses=responses(404, 409, 422),
)
async def answer_lesson(code: str, body: LessonAnswer, request: Request, rooms: RoomsDep) -> Response:
    """Public: a student's verdict on one prediction of the lesson's current sample (right or not, as the
    student's page judged it). Each student's first answer per prediction counts in the class view."""
    room = rooms.get(code)
    rooms.answer(room, client_key(request), body.prediction, body.sample, body.right)
    return Response(status_code=204)


@router.delete(
    "/{code}/forks/{session_id}",
    status_code=204,
    response_class=Response,
    operation_id="remove_fork",
    responses=responses(401, 403, 404, 503),
)
async def remove_fork(code: str, session_id: str, rooms: RoomsDep, token: TokenDep) -> Response:
    """Teacher token: remove one fork from the class (its session is deleted; the student's page is told)."""
    room = rooms.get(code)
    rooms.check_teacher(room, token)
    await rooms.remove_fork(room, session_id)
    return Response(status_code=204)


@router.delete(
    "/{code}",
    status_code=204,
    response_class=Response,
    operation_id="close_room",
    responses=responses(401, 403, 404, 503),
)
async def close_room(code: str, rooms: RoomsDep, token: TokenDep) -> Response:
    """Teacher token: close the room (viewers are disconnected; forks live on)."""
    room = rooms.get(code)
    rooms.check_teacher(room, token)
    await rooms.close(room)
    return Response(status_code=204)


@router.websocket("/{code}/ws")
async def room_socket(ws: WebSocket, code: str) -> None:
    """Read-only: the teacher session's hello, state, status, frames and step traces, live; no auth needed."""
    settings: Settings = ws.app.state.settings
    hub: LiveHub = ws.app.state.hub
    rooms: RoomStore = ws.app.state.rooms
    if not await accept(ws, settings):
        return
    try:
        room: Room = rooms.get(code)
        session = rooms.teacher_session(room)
    except NotFound as err:
        await ws.close(4404, err.detail[:120])
        return

    def alive() -> bool:
        return not room.closed

    def lesson() -> tuple[int, dict[str, object]]:
        state = room.lesson.state() if room.lesson else {"lesson": None}
        return room.lesson_version, {"type": "lesson", **state}

    await serve(ws, session, hub, settings, read_only=True, alive=alive, notes=lesson)
