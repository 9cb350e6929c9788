"""Room routes (docs/classroom.md): open, view, fork, class view, close, and the read-only live channel.

Layer: API; thin handlers over ``app.sessions.rooms``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response, WebSocket

from app import examples, wire
from app.api.deps import CreateRate, StoreDep, client_address, client_key, url_for
from app.api.errors import ApiError, responses, status_of
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
from app.sessions import LiveHub, Room, RoomStore, SessionError
from app.settings import Settings

router = APIRouter(prefix="/api/rooms", tags=["rooms"])
TokenDep = Annotated[str | None, Depends(bearer)]


def get_rooms(request: Request) -> RoomStore:
    """The app's room store."""
    rooms: RoomStore = request.app.state.rooms
    return rooms


RoomsDep = Annotated[RoomStore, Depends(get_rooms)]


def lesson_note(room: Room) -> tuple[int, dict[str, Any]]:
    """The room channel's ``lesson`` message and its version (sent to a viewer whenever the version changes)."""
    state = room.lesson.state() if room.lesson else {"lesson": None}
    return room.lesson_version, {"type": "lesson", **state}


def cluster_rooms(app: Any) -> Any:
    """In a cluster, ``app.cluster.rooms.ClusterRooms`` (rooms whose session another worker owns); else None."""
    node = getattr(app.state, "node", None)
    return None if node is None else node.rooms


async def find(app: Any, rooms: RoomStore, code: str) -> tuple[Room, Any]:
    """The open room (here, or in a cluster on any worker) and the cluster's rooms if it is owned elsewhere."""
    cluster = cluster_rooms(app)
    if cluster is None:
        return rooms.get(code), None
    room = await cluster.locate(code)
    return room, (None if cluster.local(room) else cluster)


@router.post(
    "",
    status_code=201,
    response_model=RoomCreated,
    operation_id="open_room",
    responses=responses(400, 401, 403, 404, 422, 503),
)
async def open_room(body: CreateRoom, request: Request, store: StoreDep, rooms: RoomsDep, token: TokenDep) -> Response:
    """Open a room on your session (its token as Bearer): students join with the code and watch it live."""
    cluster = cluster_rooms(request.app)
    if cluster is not None and body.session_id not in store.sessions:  # owned by another worker: it opens it
        opened = await cluster.open_elsewhere(body.session_id, token, body.title)
        code, teacher_token, title = opened["code"], opened["teacher_token"], opened["title"]
    else:
        session = store.get(body.session_id, token)
        room, teacher_token = await rooms.open(session, body.title)
        code, title = room.code, room.title
        if cluster is not None:
            cluster.publisher.ensure(room)
    url = url_for(request, "room_page", code=code) or f"/room/{code}"
    return wire.JSONResponse(
        {"code": code, "teacher_token": teacher_token, "title": title, "url": url}, status_code=201
    )


@router.get("/{code}", response_model=RoomOut, operation_id="get_room", responses=responses(404))
async def get_room(code: str, request: Request, rooms: RoomsDep) -> Response:
    """Public: the room's title and the teacher session's config, weights and metrics."""
    room, elsewhere = await find(request.app, rooms, code)
    if elsewhere is not None:
        return wire.JSONResponse(await elsewhere.call(room, "room"))
    cluster = cluster_rooms(request.app)
    if cluster is not None:
        return wire.JSONResponse(await cluster.call(room, "room"))  # here: counts the forks of every worker
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
    room, elsewhere = await find(request.app, rooms, code)
    source = None if elsewhere is None else (lambda: elsewhere.call(room, "export"))
    name = body.name if body else None
    session, token = await rooms.fork(room, client_key(request), name, client_address(request), source)
    return wire.JSONResponse({"token": token, "room": room.code, **state(session)}, status_code=201)


@router.get(
    "/{code}/export",
    name="room_export",
    response_model=ExportDocument,
    operation_id="export_room",
    responses=responses(404),
)
async def room_export(code: str, request: Request, rooms: RoomsDep) -> Response:
    """Public: the teacher session's run as one document (config, data, weights, history), which the room
    page draws its decision surface and charts from; forking hands out the same document."""
    room, elsewhere = await find(request.app, rooms, code)
    if elsewhere is not None:
        return wire.JSONResponse(await elsewhere.call(room, "export"))
    session = rooms.teacher_session(room)
    return wire.JSONResponse(await session.read(session.export))


@router.get("/{code}/class", response_model=ClassOut, operation_id="get_class", responses=responses(401, 403, 404))
async def class_view(code: str, request: Request, rooms: RoomsDep, token: TokenDep) -> Response:
    """Teacher token: every fork with its name, step and current loss."""
    room, _ = await find(request.app, rooms, code)
    rooms.check_teacher(room, token)
    cluster = cluster_rooms(request.app)
    if cluster is None:
        forks, lesson = rooms.class_view(room), (room.lesson.tally() if room.lesson else None)
    else:  # the forks of every worker; the lesson is the owner's
        forks, lesson = await cluster.class_rows(room), await cluster.call(room, "lesson_tally")
    return wire.JSONResponse({"code": room.code, "forks": forks, "lesson": lesson})


@router.put(
    "/{code}/lesson",
    response_model=LessonOut | None,
    operation_id="set_room_lesson",
    responses={200: {"content": {"application/json": {"example": examples.LESSON}}}, **responses(401, 403, 404, 422)},
)
async def set_lesson(code: str, body: LessonRequest, request: Request, rooms: RoomsDep, token: TokenDep) -> Response:
    """Teacher token: show a lesson step and training sample on every student's room page (the room's live
    channel sends them as a ``lesson`` message); ``{"lesson": null}`` stops. Answers: the lesson with the
    class's predictions on its sample (null when stopped)."""
    room, elsewhere = await find(request.app, rooms, code)
    if elsewhere is not None:  # the lesson lives with the room, on its owner
        args = {"token": token, **body.model_dump()}
        return wire.JSONResponse(await elsewhere.call(room, "lesson_set", **args))
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
    room, elsewhere = await find(request.app, rooms, code)
    if elsewhere is not None:
        await elsewhere.call(room, "lesson_answer", client=client_key(request), **body.model_dump())
        return Response(status_code=204)
    rooms.answer(room, client_key(request), body.prediction, body.sample, body.right)
    return Response(status_code=204)


@router.delete(
    "/{code}/forks/{session_id}",
    status_code=204,
    response_class=Response,
    operation_id="remove_fork",
    responses=responses(401, 403, 404, 503),
)
async def remove_fork(code: str, session_id: str, request: Request, rooms: RoomsDep, token: TokenDep) -> Response:
    """Teacher token: remove one fork from the class (its session is deleted; the student's page is told)."""
    room, _ = await find(request.app, rooms, code)  # in a cluster nginx brings this to the fork's worker
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
async def close_room(code: str, request: Request, rooms: RoomsDep, token: TokenDep) -> Response:
    """Teacher token: close the room (viewers are disconnected; forks live on)."""
    room, elsewhere = await find(request.app, rooms, code)
    if elsewhere is not None:
        await elsewhere.call(room, "close", token=token)
        return Response(status_code=204)
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
        room, elsewhere = await find(ws.app, rooms, code)
        if elsewhere is not None:  # a viewer here of a room another worker owns: fed through Redis
            await elsewhere.serve_viewer(ws, room)
            return
        session = rooms.teacher_session(room)
    except (ApiError, SessionError) as err:  # 503: the owner is restarting or Redis is down; the page tries again
        await ws.close(1013 if status_of(err) == 503 else 4404, err.detail[:120])
        return

    def alive() -> bool:
        return not room.closed

    await serve(ws, session, hub, settings, read_only=True, alive=alive, notes=lambda: lesson_note(room))
