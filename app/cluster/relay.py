"""Rooms across workers: calls to the worker that owns a room's session, and its frames fanned out everywhere.

Layer: cluster; the publisher reuses the live channel's ``app.api.live.Connection``.

A room lives with its teacher's session, on the worker that owns it; students' requests and sockets land on
any worker (nginx spreads them). Two Redis mechanisms, no broker of our own:

- **Calls** (``Rpc``): a worker that needs something only the owner has (a room's state, its export for a
  fork, a probe trace, opening or closing a room, each worker's forks for the class view) pushes a request on
  ``bpp:rpc:<tag>`` (a Redis list) and waits on its own reply list; each worker serves its list. A worker that
  does not answer in time (it is restarting) gets a 503 that says so.
- **Frames** (``RoomPublisher``, ``RoomFeed``): while anyone on another worker watches a room, the owner runs one
  read-only live connection for it whose socket publishes — once per frame, whatever the number of viewers —
  every message (state, status, trace, frame, close) on ``bpp:room:<code>`` (Redis pub/sub). Each other worker
  subscribes once per room it has viewers for and fans each message out to its own viewers; frames go to each
  viewer only while it has credit (its own ``ack``s), newest first, as on the owner's own sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aredis
from redis.exceptions import RedisError

from app import wire
from app.api.errors import ApiError, status_of
from app.cluster.state import PREFIX, TIMEOUT_S, unavailable
from app.engine import EngineError
from app.sessions import SessionError

log = logging.getLogger("backprop_playground")
WORKERS = PREFIX + "workers"
CALL_TIMEOUT_S = 8.0
TEXT, FRAME, CLOSE = b"T", b"F", b"X"


def rpc_key(tag: str) -> str:
    return f"{PREFIX}rpc:{tag}"


def channel(code: str) -> str:
    return f"{PREFIX}room:{code}"


def blocking_client(url: str) -> aredis.Redis:
    """A client for blocking calls (BLPOP, SUBSCRIBE): no read timeout, a connect timeout."""
    return aredis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, health_check_interval=10)


Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class Rpc:
    """Requests to a named worker through Redis lists, and this worker's service of its own list."""

    def __init__(self, url: str, tag: str) -> None:
        self.url, self.tag = url, tag
        self.handlers: dict[str, Handler] = {}
        self._client: aredis.Redis | None = None
        self._blocking: aredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> aredis.Redis:
        if self._client is None:
            self._client = blocking_client(self.url)
        return self._client

    async def start(self) -> None:
        await self.client.sadd(WORKERS, self.tag)
        self._blocking = blocking_client(self.url)
        self._task = asyncio.create_task(self._serve(), name=f"rpc-{self.tag}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for c in (self._blocking, self._client):
            if c is not None:
                await c.aclose()

    async def _serve(self) -> None:
        assert self._blocking is not None
        key = rpc_key(self.tag)
        while True:
            try:
                item = await self._blocking.blpop([key], timeout=1)
            except RedisError:
                await asyncio.sleep(0.5)  # Redis down: try again; calls wait for it too
                continue
            if item is None:
                continue
            task = asyncio.create_task(self._handle(orjson.loads(item[1])))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _handle(self, req: dict[str, Any]) -> None:
        if req.get("deadline", 0) < time.time():  # its caller gave up (this worker was restarting)
            return
        handler = self.handlers.get(req.get("op", ""))
        reply: dict[str, Any]
        try:
            if handler is None:
                raise ApiError(500, f"worker {self.tag} has no call {req.get('op')!r}")
            reply = {"ok": await handler(req.get("args") or {})}
        except (ApiError, SessionError) as err:
            reply = {"status": status_of(err), "detail": err.detail, "field": err.field}
        except EngineError as err:
            reply = {"status": 422, "detail": str(err), "field": err.field}
        except Exception:
            log.exception("call %s failed", req.get("op"))
            reply = {"status": 500, "detail": "internal error; the server logged it"}
        with contextlib.suppress(RedisError):
            pipe = self.client.pipeline(transaction=True)
            pipe.rpush(req["reply"], wire.dumps(reply))
            pipe.expire(req["reply"], 30)
            await pipe.execute()

    async def call(self, tag: str, op: str, args: dict[str, Any], timeout: float = CALL_TIMEOUT_S) -> Any:
        """Run ``op`` on worker ``tag`` and return its answer (its refusal as the same ApiError)."""
        if tag == self.tag and op in self.handlers:
            return await self.handlers[op](args)
        reply_key = f"{PREFIX}reply:{secrets.token_urlsafe(12)}"
        req = {"op": op, "args": args, "reply": reply_key, "deadline": time.time() + timeout}
        try:
            await self.client.rpush(rpc_key(tag), orjson.dumps(req))
            got = await self.client.blpop([reply_key], timeout=timeout)
        except RedisError as err:
            raise ApiError(503, unavailable(self.url, err)) from None
        if got is None:
            raise ApiError(503, f"worker {tag} did not answer in {timeout:.0f} s (it may be restarting); try again")
        reply = orjson.loads(got[1])
        if "ok" in reply:
            return reply["ok"]
        raise ApiError(int(reply["status"]), str(reply["detail"]), reply.get("field"))

    async def workers(self) -> list[str]:
        """Every worker tag that has started."""
        try:
            return sorted(x.decode() if isinstance(x, bytes) else str(x) for x in await self.client.smembers(WORKERS))
        except RedisError as err:
            raise ApiError(503, unavailable(self.url, err)) from None


# -- the owner's side: one publishing connection per watched room ----------------------------------------------


class RelaySocket:
    """What ``app.api.live.Connection`` sends to, in place of a websocket: the room's Redis channel."""

    def __init__(self, app: Any, client: aredis.Redis, code: str) -> None:
        self.app = app
        self.client = client
        self.channel = channel(code)
        self.closed: tuple[int, str] | None = None

    async def send_text(self, text: str) -> None:
        await self.client.publish(self.channel, TEXT + text.encode())

    async def send_bytes(self, data: bytes) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.publish(self.channel, FRAME + data)
        pipe.set(self.channel + ":frame", data, ex=3600)  # what a viewer joining a paused room is shown first
        await pipe.execute()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)
        await self.client.publish(self.channel, CLOSE + orjson.dumps({"code": code, "reason": reason}))


class RoomPublisher:
    """On the owner: for each open room, while some other worker subscribes to its channel, one read-only
    connection with unbounded credit (still at most BPP_FPS frames a second) publishes what viewers get."""

    def __init__(self, app: Any, url: str) -> None:
        self.app = app
        self.url = url
        self.client = blocking_client(url)
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def ensure(self, room: Any) -> None:
        """Publish this room while it is watched elsewhere (no-op when already doing so)."""
        task = self.tasks.get(room.code)
        if task is None or task.done():
            self.tasks[room.code] = asyncio.create_task(self._run(room), name=f"publish-{room.code}")

    async def _watched(self, code: str) -> bool:
        try:
            counts = await self.client.pubsub_numsub(channel(code))
        except RedisError:
            return False
        return bool(counts and counts[0][1])

    async def _run(self, room: Any) -> None:
        from app.api.live import Connection
        from app.api.rooms import lesson_note

        rooms, hub, settings = self.app.state.rooms, self.app.state.hub, self.app.state.settings
        while True:
            session = rooms.sessions.sessions.get(room.session_id)
            if session is None or room.closed:  # ended while nobody here published: say so to every worker
                with contextlib.suppress(RedisError):
                    why = "the room was closed" if room.closed else "the session was deleted"
                    await RelaySocket(self.app, self.client, room.code).close(4404, why)
                return
            if not await self._watched(room.code):
                await asyncio.sleep(0.25)
                continue
            sock = RelaySocket(self.app, self.client, room.code)
            alive, notes = (lambda: not room.closed), (lambda: lesson_note(room))
            conn = Connection(sock, session, hub, settings, read_only=True, alive=alive, notes=notes)  # type: ignore[arg-type]
            conn.credits = 1 << 60  # every viewer has its own credit on its own worker
            conn.wake.set()
            sender = asyncio.create_task(conn.sender())
            try:
                while not sender.done():
                    await asyncio.sleep(0.5)
                    if not await self._watched(room.code):
                        break
            except asyncio.CancelledError:
                sender.cancel()
                raise
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender
                session.live.unwatch(conn.wake)
            if sock.closed is not None:  # the room closed or its session went: said on the channel
                return

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.client.aclose()


# -- the other workers' side: one subscription per room, fanned out to local viewers ----------------------------


class RoomFeed:
    """This worker's subscription to one room's channel: the newest frame and every text message, handed to the
    local viewers (each sends frames while it has credit)."""

    def __init__(self, feeds: RoomFeeds, code: str) -> None:
        self.feeds, self.code = feeds, code
        self.viewers: set[Any] = set()
        self.frame: bytes | None = None
        self.frame_seq = 0
        self.closed: tuple[int, str] | None = None
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name=f"feed-{self.code}")

    async def _listen(self) -> None:
        pubsub = self.feeds.client.pubsub()
        try:
            await pubsub.subscribe(channel(self.code))
            latest = await self.feeds.client.get(channel(self.code) + ":frame")
            if isinstance(latest, bytes) and self.frame is None:
                self.frame, self.frame_seq = latest, self.frame_seq + 1
            self.ready.set()
            while True:
                msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if msg is None or msg.get("type") != "message":
                    continue
                data: bytes = msg["data"]
                kind, body = data[:1], data[1:]
                if kind == FRAME:
                    self.frame, self.frame_seq = body, self.frame_seq + 1
                    for v in list(self.viewers):
                        v.wake.set()
                elif kind == TEXT:
                    text = body.decode()
                    for v in list(self.viewers):
                        v.texts.append(text)
                        v.wake.set()
                elif kind == CLOSE:
                    info = orjson.loads(body)
                    self.closed = (int(info["code"]), str(info["reason"]))
                    for v in list(self.viewers):
                        v.wake.set()
        except RedisError as err:
            log.error("room %s: %s", self.code, unavailable(self.feeds.url, err))
            self.closed = (1013, "the room's feed is unavailable; reconnect")
            for v in list(self.viewers):
                v.wake.set()
        finally:
            self.ready.set()
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class RoomFeeds:
    """Every room this worker has viewers for whose session another worker owns."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = blocking_client(url)
        self.feeds: dict[str, RoomFeed] = {}

    async def join(self, code: str, viewer: Any) -> RoomFeed:
        feed = self.feeds.get(code)
        if feed is None or feed.closed is not None:
            feed = self.feeds[code] = RoomFeed(self, code)
            feed.start()
        feed.viewers.add(viewer)
        await asyncio.wait_for(feed.ready.wait(), TIMEOUT_S * 2)
        return feed

    async def leave(self, feed: RoomFeed, viewer: Any) -> None:
        feed.viewers.discard(viewer)
        if not feed.viewers and self.feeds.get(feed.code) is feed:
            del self.feeds[feed.code]
            await feed.stop()

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            await feed.stop()
        await self.client.aclose()
