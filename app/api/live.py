"""The live channel (docs/protocol.md): websocket ``/api/sessions/{id}/ws``.

Layer: API; the session layer's ``LiveHub`` (``app.sessions.live``) runs the play loops and builds the frames,
this module sends them: ``Connection.sender`` is where a frame leaves for a socket.

One reader loop handles the client's messages in order; one sender loop wakes on every change of the
session and sends, newest first, what the client has not seen: a ``state`` when settings or weights changed,
a ``status`` when it changed, and — only while the client has credit — the newest ``frame``. A client that
stops reading holds no queue: frames it has no credit for are never built for it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from starlette.websockets import WebSocketState

from app import wire
from app.api.deps import client_key
from app.api.errors import status_of
from app.api.guard import ADDRESS_KEY, own_host
from app.engine import EngineError
from app.schemas import GradcheckRequest, ResetRequest, SessionPatch, first_refusal
from app.sessions import LiveHub, Session, SessionError, SessionStore
from app.sessions.live import probe_message
from app.settings import Settings

router = APIRouter()
log = logging.getLogger("backprop_playground")
PROTOCOL = 3  # docs/protocol.md, "Versions", says what changed from 1
CREDITS = 2
AUTH_TIMEOUT_S = 10.0
MAX_MESSAGE_BYTES = 64 * 1024
CLOSE_POLICY, CLOSE_GONE, CLOSE_TOO_BIG = 1008, 4404, 1009


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class StepMsg(_Msg):
    type: str
    unit: str = Field("batch", pattern="^(sample|batch|epoch)$")
    sample: StrictInt | None = Field(None, ge=0)


class TraceMsg(_Msg):
    type: str
    sample: StrictInt = Field(ge=0)


class ResetMsg(ResetRequest):
    """``reset``: the body of ``POST …/reset``."""

    type: str


class SetWeightMsg(_Msg):
    type: str
    layer: StrictInt
    row: StrictInt
    column: StrictInt
    value: float


class GradcheckMsg(GradcheckRequest):
    """``gradcheck``: the body of ``POST …/gradcheck`` (the same bounds and defaults)."""

    type: str


class SetMsg(SessionPatch):
    """``set``: the fields of PATCH, plus the live channel's own ``steps_per_frame`` and ``probe``."""

    type: str
    steps_per_frame: StrictInt | None = Field(None, ge=0, le=100_000, description="0 or null: one epoch per frame")
    probe: StrictInt | None = Field(None, ge=0)


def origin_allowed(ws: WebSocket, settings: Settings) -> bool:
    """A browser's socket must come from this server's own origin or one listed in BPP_ALLOWED_ORIGINS.

    "Own" is the origin of the page this ``Host`` serves, and only for a host the server answers to
    (``own_host``: localhost, loopback, the address the socket came in on, BPP_ALLOWED_HOSTS): a page on a
    rebinding name (``evil.example`` resolved to 127.0.0.1) sends ``Host: evil.example`` and its own origin,
    which match each other but not the server."""
    origin = ws.headers.get("origin")
    if origin is None:  # not a browser: scripts authenticate with the token alone
        return True
    origin = origin.rstrip("/")
    if origin in settings.allowed_origins:
        return True
    host = ws.headers.get("host", "")
    if not own_host(host, ws.scope, settings.allowed_hosts):
        return False
    return origin in (f"http://{host}", f"https://{host}")


async def accept(ws: WebSocket, settings: Settings) -> bool:
    """Accept the socket, then close it with 1008 unless its origin is allowed (True when it may go on)."""
    try:
        await ws.accept()
    except (WebSocketDisconnect, RuntimeError, OSError):
        log.debug("live socket from %s left before it was accepted", _peer(ws))
        return False
    if origin_allowed(ws, settings):
        return True
    await ws.close(CLOSE_POLICY, "origin not allowed")
    return False


def _peer(ws: WebSocket) -> str:
    return str(ws.scope.get(ADDRESS_KEY) or (ws.client.host if ws.client else "unknown"))


class Connection:
    """One client's socket: its credit, its rate budget and a lock so that only one send runs at once."""

    def __init__(
        self,
        ws: WebSocket,
        session: Session,
        hub: LiveHub,
        settings: Settings,
        read_only: bool,
        alive: Callable[[], bool] | None = None,
        notes: Callable[[], tuple[int, dict[str, Any]]] | None = None,
    ) -> None:
        self.ws = ws
        self.read_only = read_only
        self.alive = alive
        self.notes = notes
        self.session = session
        self.hub = hub
        self.settings = settings
        self.credits = CREDITS
        self.wake = session.live.watch()
        self.send_lock = asyncio.Lock()
        self.last_probe = 0.0
        rate = ws.app.state.rates.ws_message
        self.window_s = float(rate.get_expiry())
        self.recent: collections.deque[float] = collections.deque(maxlen=rate.amount)
        self.next_frame_at = 0.0  # frames keep to a grid of one per 1/fps: a late one does not delay the rest
        self.queued = 0  # bytes handed to this socket and not yet written out

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON message."""
        await self.send_raw(wire.dumps(message).decode())

    async def send_raw(self, data: str | bytes) -> bool:
        """Send one message, text or binary, unless it would take the bytes queued for this socket past
        BPP_MAX_QUEUED_BYTES: then it is dropped and the client told (False)."""
        size = len(data)
        limit = self.settings.max_queued_bytes
        if self.queued + size > limit:
            if size <= limit:  # a backlog: the client is not reading; this message is dropped, the next may go
                return False
            await self.error("too_large", f"a {size}-byte message was not sent: at most {limit} bytes per socket")
            return False
        self.queued += size
        try:
            async with self.send_lock:
                if isinstance(data, bytes):
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_text(data)
        finally:
            self.queued -= size
        return True

    async def error(self, code: str, message: str, field: str | None = None) -> None:
        """Tell the client what was wrong with its message; nothing changed."""
        await self.send({"type": "error", "code": code, "message": message, "field": field})

    def allow(self) -> bool:
        """At most BPP_WS_MESSAGE_RATE messages (a moving window per connection)."""
        now, recent = time.monotonic(), self.recent
        if len(recent) == recent.maxlen and now - recent[0] < self.window_s:
            return False
        recent.append(now)
        return True

    # -- sender ----------------------------------------------------------------------------------------

    async def sender(self) -> None:
        """Send what changed, newest first; frames only while there is credit, at most BPP_FPS a second."""
        session, store = self.session, self.hub.store
        seen_config, seen_status, seen_frame = session.live.config_version, session.status, -1
        sent: tuple[int, int, bool, bool] | None = None  # what the last frame showed (app.sessions.live.Frame)
        seen_trace = session.live.trace_seq
        seen_note = 0  # a room's lesson: version 0 is "none yet", so a lesson in progress is sent at once
        period = 1.0 / self.settings.fps
        while True:
            await self.wake.wait()
            self.wake.clear()
            if store.sessions.get(session.id) is not session:
                await self.ws.close(
                    CLOSE_GONE, "the session expired" if session.live.ended == "expired" else "the session was deleted"
                )
                return
            if self.alive is not None and not self.alive():
                await self.ws.close(CLOSE_GONE, "the room was closed")
                return
            if self.notes is not None:
                version, note = self.notes()
                if version != seen_note:
                    seen_note = version
                    await self.send(note)
            if session.live.config_version != seen_config:
                seen_config = session.live.config_version
                await self.send({"type": "state", "session": session.view()})
            if session.status != seen_status and session.status == "playing":  # a start: before its frames
                seen_status = session.status
                await self.send(status_message(session))
            if session.live.trace_seq != seen_trace and session.live.last_trace is not None:
                seen_trace = session.live.trace_seq
                await self.send_raw(session.live.last_trace)
            if self.credits > 0 and session.live.version != seen_frame and sent is not None:
                # A change that leaves the frame as it was (play, pause, a status) sends no frame: every
                # frame shows a new step or new weights, or the fresh metrics of a step shown with late ones.
                shows = (session.trainer.step_count, session.live.config_version, session.trainer.diverged)
                if shows == sent[:3] and (sent[3] or session.live.playing):
                    seen_frame = session.live.version
            if self.credits > 0 and session.live.version != seen_frame:
                now = time.monotonic()
                wait = self.next_frame_at - now
                if wait > 0:  # rate cap: come back when the period is over
                    asyncio.get_running_loop().call_later(wait, self.wake.set)
                    continue
                self.next_frame_at = max(self.next_frame_at + period, now + period / 2)
                seen_frame = session.live.version
                data, sent = await self.hub.frame(session)
                self.credits -= 1
                if not await self.send_raw(data):  # not sent (backlog): no ack will come for it
                    self.credits += 1
            if session.status != seen_status and session.id not in self.hub.loops:
                # a stop (paused, diverged): once the play loop has ended, after the frame that shows where
                seen_status = session.status
                message = status_message(session)
                with contextlib.suppress(SessionError):  # storage down: logged once, reported by /api/health
                    await store.commit(session)  # a stop is announced once it is on disk (no-op when saved)
                await self.send(message)

    # -- reader ----------------------------------------------------------------------------------------

    def handler(self, kind: str) -> Callable[[Connection, dict[str, Any]], Awaitable[None]] | None:
        """What handles a message of this type (a room viewer on another worker traces through the owner)."""
        return HANDLERS.get(kind)

    async def handle(self, raw: str) -> None:
        """Parse and act on one client message; anything wrong gets an ``error`` and changes nothing."""
        if len(raw) > MAX_MESSAGE_BYTES:  # as `serve` (uvicorn's ws_max_size) does before a message gets here
            await self.ws.close(CLOSE_TOO_BIG, f"messages are at most {MAX_MESSAGE_BYTES} bytes")
            raise WebSocketDisconnect(CLOSE_TOO_BIG)
        if not self.read_only:
            self.session.touch()  # the token holder's messages are uses; a viewer's are not
        if not self.allow():
            await self.error("rate_limited", f"at most {self.ws.app.state.rates.ws_message} messages")
            return
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await self.error("bad_json", "messages are JSON objects with a type")
            return
        if not isinstance(msg, dict):
            await self.error("bad_json", "messages are JSON objects with a type")
            return
        kind = msg.get("type")
        handler = self.handler(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.error("unknown_type", f"unknown message type {kind!r}; see docs/protocol.md")
            return
        if self.read_only and kind not in READ_ONLY_TYPES:
            await self.error("read_only", "this channel is read-only: fork the run to drive your own")
            return
        try:
            await handler(self, msg)
        except ValidationError as err:
            field, message = first_refusal(err)
            await self.error("invalid", f"{field}: {message}" if field else message, field)
        except EngineError as err:
            await self.error("invalid", str(err), err.field)
        except SessionError as err:
            code = {503: "storage_unavailable", 429: "busy"}.get(status_of(err), "invalid")
            await self.error(code, err.detail, err.field)


def status_message(session: Session) -> dict[str, Any]:
    """``status``: playing, paused or diverged (with why)."""
    return {
        "type": "status",
        "status": session.status,
        "step": session.trainer.step_count,
        "divergence": wire.divergence(session.trainer.divergence),
    }


async def _play(c: Connection, msg: dict[str, Any]) -> None:
    if c.session.trainer.diverged:
        await c.error("diverged", "the run diverged: reset, change the learning rate or the weights first")
        return
    if c.session.live.playing:  # already playing: nothing changes, but every play is answered
        await c.send(status_message(c.session))
        return
    c.hub.play(c.session)


async def _pause(c: Connection, msg: dict[str, Any]) -> None:
    if not c.session.live.playing and c.session.id not in c.hub.loops:  # already stopped: say so
        await c.send(status_message(c.session))
        return
    c.hub.pause(c.session)
    await c.hub.store.commit(c.session)


def _sample(session: Session, sample: int) -> int:
    """A training-set index, refused under the message's own field name ``sample``."""
    if sample >= session.trainer.n_train:
        raise EngineError("sample", f"must be a training-set index in [0, {session.trainer.n_train - 1}]")
    return sample


async def _ack(c: Connection, msg: dict[str, Any]) -> None:
    c.credits = min(CREDITS, c.credits + 1)
    c.wake.set()


async def _step(c: Connection, msg: dict[str, Any]) -> None:
    m = StepMsg.model_validate(msg)
    session = c.session
    if m.sample is not None:
        _sample(session, m.sample)
    c.hub.pause(session)
    if not await c.hub.step(session, m.unit, m.sample):
        await c.error("diverged", "the run diverged: reset, change the learning rate or the weights first")


async def _trace(c: Connection, msg: dict[str, Any]) -> None:
    m = TraceMsg.model_validate(msg)
    _sample(c.session, m.sample)
    now = time.monotonic()
    if c.read_only and now - c.last_probe < READ_ONLY_TRACE_INTERVAL_S:
        await c.error("rate_limited", "viewers may trace a sample at most 4 times a second")
        return
    c.last_probe = now
    await c.send(await c.session.run(lambda: probe_message(c.session, m.sample)))


async def _set(c: Connection, msg: dict[str, Any]) -> None:
    m = SetMsg.model_validate(msg)
    session = c.session
    changes = m.model_dump(exclude_unset=True, exclude={"type", "steps_per_frame", "probe"})
    if m.probe is not None and m.probe >= session.trainer.n_train:
        raise EngineError("probe", f"must be a training-set index in [0, {session.trainer.n_train - 1}]")

    def apply() -> None:
        session.apply_changes(changes, c.settings)
        if "steps_per_frame" in m.model_fields_set:
            session.live.steps_per_frame = m.steps_per_frame or None
        if m.probe is not None:
            session.live.probe = m.probe

    await c.hub.store.apply(session, apply)


async def _reset(c: Connection, msg: dict[str, Any]) -> None:
    m = ResetMsg.model_validate(msg)
    await c.hub.store.apply(c.session, lambda: c.session.reset(m.seed))


async def _set_weight(c: Connection, msg: dict[str, Any]) -> None:
    m = SetWeightMsg.model_validate(msg)  # the engine refuses a non-finite value (and the model refuses it first)
    await c.hub.store.apply(c.session, lambda: c.session.trainer.set_weight(m.layer, m.row, m.column, m.value))


async def _gradcheck(c: Connection, msg: dict[str, Any]) -> None:
    m = GradcheckMsg.model_validate(msg)
    session = c.session

    def run() -> dict[str, Any]:
        out = session.gradcheck(m.samples, m.epsilon, c.settings)
        return {"type": "gradcheck", "step": session.trainer.step_count, **out}

    async with c.hub.store.heavy(client_key(c.ws)):
        await c.send(await session.run(run, c.hub.store.one_offs))


async def _auth_again(c: Connection, msg: dict[str, Any]) -> None:
    await c.error("already_authenticated", "this socket is already authenticated")


HANDLERS = {
    "play": _play,
    "pause": _pause,
    "ack": _ack,
    "step": _step,
    "trace": _trace,
    "set": _set,
    "reset": _reset,
    "set_weight": _set_weight,
    "gradcheck": _gradcheck,
    "auth": _auth_again,
}
READ_ONLY_TRACE_INTERVAL_S = 0.25  # a room's viewers share the teacher's session: their probes are rationed
READ_ONLY_TYPES = frozenset({"ack", "trace", "auth"})


async def authenticate(ws: WebSocket, session_id: str, store: SessionStore) -> Session | None:
    """Wait for ``{"type": "auth", "token": …}``; close with 1008 on anything else."""
    try:
        raw = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_S)
        msg = orjson.loads(raw)
        if not isinstance(msg, dict) or msg.get("type") != "auth" or not isinstance(msg.get("token"), str):
            raise ValueError("the first message must be {type: auth, token}")
        return store.get(session_id, msg["token"])
    except (WebSocketDisconnect, RuntimeError, OSError):  # the client left first: nothing to answer, one line
        log.debug("live socket from %s closed before it authenticated", _peer(ws))
        return None
    except (TimeoutError, ValueError, KeyError, SessionError) as err:
        reason = err.detail if isinstance(err, SessionError) else "authenticate first: {type: auth, token}"
        await ws.close(CLOSE_POLICY, reason[:120])
        return None


@router.websocket("/api/sessions/{session_id}/ws")
async def session_socket(ws: WebSocket, session_id: str) -> None:
    """The live channel of one session: auth, then play/pause/step/trace/set/reset/set_weight/gradcheck/ack."""
    settings: Settings = ws.app.state.settings
    hub: LiveHub = ws.app.state.hub
    if not await accept(ws, settings):
        return
    session = await authenticate(ws, session_id, hub.store)
    if session is None:
        return
    await serve(ws, session, hub, settings)


async def serve(
    ws: WebSocket,
    session: Session,
    hub: LiveHub,
    settings: Settings,
    read_only: bool = False,
    alive: Callable[[], bool] | None = None,
    notes: Callable[[], tuple[int, dict[str, Any]]] | None = None,
) -> None:
    """Say hello, then run the reader and the sender until the client leaves (or ``alive`` turns false);
    ``notes`` gives a versioned message (a room's lesson) sent whenever its version changes."""
    conn = Connection(ws, session, hub, settings, read_only, alive, notes)
    hello = {
        "session": session.view(),
        "steps_per_frame": hub.steps_per_frame(session),
        "probe": session.live.probe,
    }
    if not read_only:
        session.live.owners += 1
    try:
        await pump(conn, hello)
    finally:
        session.live.unwatch(conn.wake)
        if not read_only:
            session.live.owners -= 1


async def pump(conn: Connection, hello: dict[str, Any]) -> None:
    """Send ``hello`` (the session, its speed and probe), then run the connection's sender and read the client's
    messages until it leaves; then stop the sender and close the socket. (A room viewer on another worker than
    the room's, ``app.cluster.rooms.RemoteViewer``, runs the same way.)"""
    ws, settings = conn.ws, conn.settings
    sender: asyncio.Task[None] | None = None
    try:
        head = {"type": "hello", "protocol": PROTOCOL, "credits": CREDITS, "fps": settings.fps}
        await conn.send({**head, "read_only": conn.read_only, **hello})
        conn.wake.set()
        sender = asyncio.create_task(conn.sender())
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                await conn.error("binary", "send JSON text messages")
            else:
                await conn.handle(text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        if ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await ws.close(1000)
