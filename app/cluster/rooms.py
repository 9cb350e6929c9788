"""Rooms in a cluster: the room routes' and sockets' way to a room whose teacher session another worker owns.

Layer: cluster; ``app.api.rooms`` calls it (through ``app.state.node``) only in a cluster.

``ClusterRooms.locate`` finds a room by code on any worker (Redis keeps every room); a room whose session is
here is served as in one process, and published for viewers elsewhere (``RoomPublisher``). For a room owned
elsewhere, what needs its session is asked of the owner (``Rpc``: the room's state, its export for a fork,
a probe trace, opening and closing), the class view gathers every worker's forks, and a viewer's socket is fed
from the room's channel (``RoomFeed``) with its own credit (``RemoteViewer``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from typing import Any

from fastapi import FastAPI, WebSocket

from app import wire
from app.api.live import CREDITS, READ_ONLY_TRACE_INTERVAL_S, Connection, TraceMsg, pump
from app.cluster.relay import RoomFeed, RoomFeeds, RoomPublisher, Rpc
from app.cluster.state import RedisDatabase, StorageError, tag_of
from app.engine import EngineError
from app.sessions import NotFound, Room, RoomStore, SessionError, StorageUnavailable
from app.sessions.live import probe_message
from app.sessions.rooms import normalize_code
from app.settings import Settings


class ClusterRooms:
    """This worker's part in rooms across workers."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.tag = settings.worker
        self.rpc = Rpc(settings.redis_url, self.tag)
        self.publisher = RoomPublisher(app, settings.redis_url)
        self.feeds = RoomFeeds(settings.redis_url)
        self.rpc.handlers.update(
            hello=self._hello, room=self._room, export=self._export, open=self._open, close=self._close,
            probe=self._probe, forks=self._forks, lesson_set=self._lesson_set, lesson_answer=self._lesson_answer,
            lesson_tally=self._lesson_tally,
        )  # fmt: skip

    @property
    def rooms(self) -> RoomStore:
        rooms: RoomStore = self.app.state.rooms
        return rooms

    async def start(self) -> None:
        await self.rpc.start()
        for room in list(self.rooms.rooms.values()):
            self.publisher.ensure(room)

    async def stop(self) -> None:
        await self.publisher.close()
        await self.feeds.close()
        await self.rpc.stop()

    # -- finding a room ----------------------------------------------------------------------------------

    async def locate(self, code: str) -> Room:
        """The open room with this code, here or on another worker (404 otherwise)."""
        with contextlib.suppress(SessionError):
            return self.rooms.get(code)
        db = self.rooms.db
        assert isinstance(db, RedisDatabase)
        try:
            row = await db.room(normalize_code(code))
        except StorageError as err:
            raise StorageUnavailable.because(err) from None
        if row is None or self.local(Room(*row)):  # a local room that is not open here has ended
            raise NotFound(f"no open room {code!r}")
        return Room(*row)

    def local(self, room: Room) -> bool:
        return room.session_id in self.rooms.sessions.sessions

    def owner(self, room: Room) -> str:
        return tag_of(room.session_id) or self.tag

    # -- what routes ask of the owner ----------------------------------------------------------------------

    async def call(self, room: Room, op: str, **args: Any) -> Any:
        return await self.rpc.call(self.owner(room), op, {"code": room.code, **args})

    async def open_elsewhere(self, session_id: str, token: str | None, title: str) -> dict[str, Any]:
        tag = tag_of(session_id)
        if tag is None or tag == self.tag:
            raise NotFound(f"no session {session_id!r} (it may have expired)")
        out: dict[str, Any] = await self.rpc.call(
            tag, "open", {"session_id": session_id, "token": token, "title": title}
        )
        return out

    async def class_rows(self, room: Room) -> list[dict[str, Any]]:
        """Every fork of the room, from every worker, oldest first (a worker that is restarting is left out
        until it is back)."""
        tags = await self.rpc.workers()
        answers = await asyncio.gather(
            *(self.rpc.call(t, "forks", {"code": room.code}, timeout=3.0) for t in tags), return_exceptions=True
        )
        rows = [row for a in answers if isinstance(a, list) for row in a]
        return sorted(rows, key=lambda r: r["created"])

    def forks(self, room: Room) -> int:
        shared = self.rooms.sessions.shared
        return int(shared.forks(room.code)) if shared is not None else len(self.rooms.forks(room))

    # -- the owner's answers -------------------------------------------------------------------------------

    def _local_room(self, args: dict[str, Any]) -> Room:
        return self.rooms.get(str(args["code"]))

    async def _hello(self, args: dict[str, Any]) -> dict[str, Any]:
        from app.api.rooms import lesson_note

        room = self._local_room(args)
        session = self.rooms.teacher_session(room)
        self.publisher.ensure(room)
        hub = self.app.state.hub
        hello = {
            "session": session.view(),
            "steps_per_frame": hub.steps_per_frame(session),
            "probe": session.live.probe,
        }
        version, note = lesson_note(room)
        return {"hello": hello, "note": note if version else None}

    async def _room(self, args: dict[str, Any]) -> dict[str, Any]:
        room = self._local_room(args)
        session = self.rooms.teacher_session(room)
        lesson = room.lesson.state() if room.lesson else None
        out = {"code": room.code, "title": room.title, "forks": self.forks(room), "session": session.view()}
        return {**out, "lesson": lesson}

    async def _lesson_set(self, args: dict[str, Any]) -> dict[str, Any] | None:
        room = self._local_room(args)
        self.rooms.check_teacher(room, args.get("token"))
        lesson = self.rooms.set_lesson(room, args.get("lesson"), int(args["step"]), int(args["sample"]))
        return lesson.tally() if lesson else None

    async def _lesson_answer(self, args: dict[str, Any]) -> None:
        room = self._local_room(args)
        self.rooms.answer(room, str(args["client"]), args["prediction"], int(args["sample"]), bool(args["right"]))

    async def _lesson_tally(self, args: dict[str, Any]) -> dict[str, Any] | None:
        room = self._local_room(args)
        return room.lesson.tally() if room.lesson else None

    async def _export(self, args: dict[str, Any]) -> dict[str, Any]:
        session = self.rooms.teacher_session(self._local_room(args))
        doc: dict[str, Any] = await session.read(session.export)
        return doc

    async def _open(self, args: dict[str, Any]) -> dict[str, Any]:
        session = self.rooms.sessions.get(str(args["session_id"]), args.get("token"))
        room, token = await self.rooms.open(session, str(args.get("title") or ""))
        self.publisher.ensure(room)
        return {"code": room.code, "teacher_token": token, "title": room.title}

    async def _close(self, args: dict[str, Any]) -> None:
        room = self._local_room(args)
        self.rooms.check_teacher(room, args.get("token"))
        await self.rooms.close(room)

    async def _probe(self, args: dict[str, Any]) -> dict[str, Any]:
        session = self.rooms.teacher_session(self._local_room(args))
        sample = int(args["sample"])
        if not 0 <= sample < session.trainer.n_train:
            raise EngineError("sample", f"must be a training-set index in [0, {session.trainer.n_train - 1}]")
        out: dict[str, Any] = await session.run(lambda: probe_message(session, sample))
        return out

    async def _forks(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        code = str(args["code"])
        return self.rooms.class_view(Room(code, "", "", ""))

    # -- a viewer here of a room owned elsewhere -----------------------------------------------------------

    async def serve_viewer(self, ws: WebSocket, room: Room) -> None:
        """A viewer here of a room another worker owns: its hello from the owner, then the room's feed."""
        answer = await self.call(room, "hello")
        viewer = RemoteViewer(ws, self, room)
        viewer.feed = await self.feeds.join(room.code, viewer)
        if answer["note"] is not None:  # a lesson in progress: sent right after hello, as on the owner
            viewer.texts.append(wire.dumps(answer["note"]).decode())
        try:
            await pump(viewer, answer["hello"])
        finally:
            await self.feeds.leave(viewer.feed, viewer)


class RemoteViewer(Connection):
    """A room viewer whose room another worker owns: the same messages, credit, rate and queue limits as a
    viewer on the owner (``Connection``), fed from the room's channel."""

    def __init__(self, ws: WebSocket, cluster: ClusterRooms, room: Room) -> None:
        # Connection's state without a local session: what send, error, allow and handle use.
        self.ws, self.read_only, self.alive, self.settings = ws, True, None, cluster.settings
        self.cluster, self.room = cluster, room
        self.credits = CREDITS
        self.wake = asyncio.Event()
        self.send_lock = asyncio.Lock()
        self.last_probe = 0.0
        rate = ws.app.state.rates.ws_message
        self.window_s = float(rate.get_expiry())
        self.recent: collections.deque[float] = collections.deque(maxlen=rate.amount)
        self.next_frame_at = 0.0
        self.queued = 0
        self.texts: collections.deque[str] = collections.deque()
        self.feed: RoomFeed | None = None

    def handler(self, kind: str) -> Any:
        return _remote_trace if kind == "trace" else super().handler(kind)

    async def sender(self) -> None:
        """Text messages in order; the newest frame while there is credit (the owner's publisher already keeps
        frames to BPP_FPS a second: a second cap here would drop frames that arrive a little early)."""
        assert self.feed is not None
        feed, seen = self.feed, -1
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.texts:
                await self.send_raw(self.texts.popleft())
            if feed.closed is not None:
                await self.ws.close(*feed.closed)
                return
            if self.credits > 0 and feed.frame is not None and feed.frame_seq != seen:
                seen = feed.frame_seq
                self.credits -= 1
                if not await self.send_raw(feed.frame):
                    self.credits += 1


async def _remote_trace(c: Connection, msg: dict[str, Any]) -> None:
    assert isinstance(c, RemoteViewer)
    m = TraceMsg.model_validate(msg)
    now = time.monotonic()
    if now - c.last_probe < READ_ONLY_TRACE_INTERVAL_S:
        await c.error("rate_limited", "viewers may trace a sample at most 4 times a second")
        return
    c.last_probe = now
    out = await c.cluster.call(c.room, "probe", sample=m.sample)
    await c.send_raw(wire.dumps(out).decode())
