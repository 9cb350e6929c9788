"""What the workers of a cluster share in Redis (redis-py): checkpoints, counts and budgets, the cookie key, leases.

Layer: cluster, storage — ``RedisDatabase`` implements ``app.sessions.storage.Storage``.

Redis runs with AOF ``appendfsync always`` (the supervisor starts it so; deploy/ says so for an admin's own),
so a write Redis acknowledged survives a crash of Redis as well as of a worker.

Keys (all under ``bpp:``):

- ``bpp:s:<id>``: one session's checkpoint, a hash with the fields of ``SessionRow`` (JSON where structured);
  ``bpp:w:<tag>:sessions``: the ids a worker owns (its tag starts each id). A restarted worker loads its own.
- ``bpp:r:<code>``: a room (session id, teacher token hash, title, created); ``bpp:rooms``: every code.
- ``bpp:counts``: the server-wide counts behind the limits (sessions in all, per address, per client, forks per
  room and per client in a room, bytes of the memory and disk budgets in all and per owner); ``bpp:held:<tag>``:
  what each worker holds of them, so that a restarted worker gives back what its dead predecessor held.
- ``bpp:lease:<tag>``: the process that owns a tag (and so its sessions), renewed while it lives.
- ``bpp:cookie-key``: the key client cookies are signed with (every worker must accept every cookie).

Any Redis failure is a ``StorageError`` (routes answer 503 and change nothing) or, for the counts, an
503 whose detail names Redis; redis-py reconnects by itself when Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import redis
import redis.asyncio as aredis
from redis.exceptions import RedisError

from app.sessions.storage import RoomRow, SessionRow, StorageError

log = logging.getLogger("backprop_playground")
PREFIX = "bpp:"
COUNTS = PREFIX + "counts"
ROOMS = PREFIX + "rooms"
COOKIE_KEY = PREFIX + "cookie-key"
LEASE_S = 6.0  # a lease not renewed for this long is free: a worker renews it every LEASE_S / 3
SESSION_FIELDS = ("token", "client", "created", "touched", "config", "data", "state", "meta", "room", "name")
TIMEOUT_S = 2.0  # a Redis call that takes longer fails (503), rather than holding a request


def session_key(session_id: str) -> str:
    return f"{PREFIX}s:{session_id}"


def owned_key(tag: str) -> str:
    return f"{PREFIX}w:{tag}:sessions"


def room_key(code: str) -> str:
    return f"{PREFIX}r:{code}"


def held_key(tag: str) -> str:
    return f"{PREFIX}held:{tag}"


def lease_key(tag: str) -> str:
    return f"{PREFIX}lease:{tag}"


def tag_of(session_id: str) -> str | None:
    """The worker tag a session id starts with (``w2.AbC…`` → ``w2``), or None for an untagged id."""
    tag, dot, _ = session_id.partition(".")
    return tag if dot else None


def unavailable(url: str, err: BaseException) -> str:
    """The detail of a 503 when Redis cannot be used."""
    return f"shared state unavailable: Redis at {safe_url(url)} does not answer ({type(err).__name__}: {err})"


def safe_url(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "…@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def sync_client(url: str) -> redis.Redis:
    """A thread-safe client (a connection pool) that fails fast when Redis is down."""
    return redis.Redis.from_url(
        url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S, health_check_interval=10
    )


def async_client(url: str) -> aredis.Redis:
    """An asyncio client with the same timeouts."""
    return aredis.Redis.from_url(
        url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S, health_check_interval=10
    )


# -- checkpoints ---------------------------------------------------------------------------------------------

_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


class RedisDatabase:
    """Checkpoints of one worker's sessions and of every room in Redis; the ``app.sessions.storage.Storage`` interface
    (what the session and room stores call), so the stores do not know which one they write to."""

    def __init__(self, url: str, tag: str) -> None:
        self.url = url
        self.tag = tag
        self.path = f"{safe_url(url)} (worker {tag})"  # what start-up logs name
        self.error: str | None = None
        self._client: aredis.Redis | None = None
        self._update: Any = None
        self._probed = 0.0
        self._loaded: tuple[list[SessionRow], list[RoomRow]] | None = None

    @property
    def client(self) -> aredis.Redis:
        if self._client is None:
            self._client = async_client(self.url)
            self._update = self._client.register_script(_UPDATE)
        return self._client

    async def _do(self, coro: Any) -> Any:
        try:
            out = await coro
        except RedisError as err:
            problem = unavailable(self.url, err)
            if self.error != problem:
                log.error("%s", problem)
            self.error = problem
            raise StorageError(problem) from None
        self.error = None
        return out

    async def open(self) -> None:
        """Connect, and warn when Redis would not keep an acknowledged write through a crash."""
        with contextlib.suppress(RedisError, StorageError):
            config = await self._do(self.client.config_get("appendfsync"))
            aof = await self._do(self.client.config_get("appendonly"))
            if aof.get("appendonly") != "yes" or config.get("appendfsync") != "always":
                log.warning(
                    "Redis at %s runs without AOF appendfsync always: a write it acknowledged may be lost if it "
                    "crashes (set appendonly yes, appendfsync always)",
                    safe_url(self.url),
                )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def health(self) -> str | None:
        """None when Redis answers (a PING at most once a second), else why not."""
        now = time.monotonic()
        if now - self._probed > 1.0 or self.error is not None:
            self._probed = now
            with contextlib.suppress(StorageError):
                await self._do(self.client.ping())
        return self.error

    async def save_session(self, row: SessionRow) -> None:
        """Insert or update a session (its data only when ``row.data`` is given); the owner's set names it."""
        dumps = orjson.dumps
        fields: dict[Any, Any] = {
            "touched": repr(row.touched),
            "config": dumps(row.config),
            "state": dumps(row.state),
            "meta": dumps(row.meta),
        }
        key = session_key(row.id)
        if row.data is None:
            flat = [x for kv in fields.items() for x in kv]
            ok = await self._do(self._update(keys=[key], args=flat, client=self.client))
            if not ok:
                raise StorageError(f"session {row.id} has no checkpoint to update")
            return
        fields.update(
            token=row.token,
            client=row.client,
            created=repr(row.created),
            data=dumps(row.data),
            room=row.room or "",
            name=row.name or "",
            worker=self.tag,
        )
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping=fields)
        pipe.sadd(owned_key(self.tag), row.id)
        await self._do(pipe.execute())

    async def delete_session(self, session_id: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(session_key(session_id))
        pipe.srem(owned_key(self.tag), session_id)
        await self._do(pipe.execute())

    async def save_room(self, code: str, session_id: str, teacher_token: str, title: str, created: float) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            room_key(code),
            mapping={"session_id": session_id, "teacher": teacher_token, "title": title, "created": repr(created)},
        )
        pipe.sadd(ROOMS, code)
        await self._do(pipe.execute())

    async def delete_room(self, code: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(room_key(code))
        pipe.srem(ROOMS, code)
        await self._do(pipe.execute())

    async def room(self, code: str) -> RoomRow | None:
        """One room as saved (any worker's), or None."""
        h = await self._do(self.client.hgetall(room_key(code)))
        if not h:
            return None
        return (code, h[b"session_id"].decode(), h[b"teacher"].decode(), h[b"title"].decode(), float(h[b"created"]))

    async def load(self) -> tuple[list[SessionRow], list[RoomRow]]:
        """This worker's sessions (unreadable ones are set aside) and the rooms that show one of them. At
        start-up the session store and then the room store ask in turn: the second gets the first's answer
        (reading every checkpoint twice would slow down a restart, which must serve again within seconds)."""
        if self._loaded is not None:
            loaded, self._loaded = self._loaded, None
            return loaded
        loaded = await self._load()
        self._loaded = loaded
        asyncio.get_running_loop().call_later(10.0, self._forget_load, loaded)
        return loaded

    def _forget_load(self, loaded: object) -> None:
        if self._loaded is loaded:
            self._loaded = None

    async def _load(self) -> tuple[list[SessionRow], list[RoomRow]]:
        ids = sorted(x.decode() for x in await self._do(self.client.smembers(owned_key(self.tag))))
        rows: list[SessionRow] = []
        for session_id in ids:
            h = await self._do(self.client.hgetall(session_key(session_id)))
            if not h:
                await self._do(self.client.srem(owned_key(self.tag), session_id))
                continue
            try:
                rows.append(_row(session_id, h))
            except (KeyError, ValueError, TypeError, orjson.JSONDecodeError) as err:
                await self.set_aside(session_id, f"{type(err).__name__}: {err}")
        mine = {row.id for row in rows}
        rooms: list[RoomRow] = []
        for code in sorted(x.decode() for x in await self._do(self.client.smembers(ROOMS))):
            room = await self.room(code)
            if room is not None and room[1] in mine:
                rooms.append(room)
        return rows, rooms

    async def set_aside(self, session_id: str, reason: str) -> None:
        """Move a checkpoint that cannot be restored to ``bpp:set-aside:<id>`` with the reason."""
        log.error("session %s cannot be read (%s): set aside in Redis", session_id, reason[:200])
        with contextlib.suppress(StorageError):
            pipe = self.client.pipeline(transaction=True)
            pipe.rename(session_key(session_id), f"{PREFIX}set-aside:{session_id}")
            pipe.hset(f"{PREFIX}set-aside:{session_id}", mapping={"reason": reason[:1000], "at": repr(time.time())})
            pipe.srem(owned_key(self.tag), session_id)
            await self._do(pipe.execute())


def _row(session_id: str, h: dict[bytes, bytes]) -> SessionRow:
    loads = orjson.loads
    row = SessionRow(
        session_id,
        h[b"token"].decode(),
        h[b"client"].decode(),
        float(h[b"created"]),
        float(h[b"touched"]),
        loads(h[b"config"]),
        loads(h[b"data"]),
        loads(h[b"state"]),
        loads(h[b"meta"]),
        h.get(b"room", b"").decode() or None,
        h.get(b"name", b"").decode() or None,
    )
    for name in ("config", "data", "state", "meta"):
        if not isinstance(getattr(row, name), dict):
            raise ValueError(f"{name} is not an object")
    return row


# -- server-wide counts ----------------------------------------------------------------------------------------

# KEYS[1] counts, KEYS[2] this worker's share; ARGV: amount, then pairs (field, limit), limit -1 for none.
# Takes ``amount`` of every field when each stays within its limit, else returns the 1-based pair that refused.
_TAKE = """
local n = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local limit = tonumber(ARGV[i + 1])
  if n > 0 and limit >= 0 and tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') + n > limit then
    return i / 2
  end
end
for i = 2, #ARGV, 2 do
  if redis.call('HINCRBY', KEYS[1], ARGV[i], n) <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
  if redis.call('HINCRBY', KEYS[2], ARGV[i], n) <= 0 then redis.call('HDEL', KEYS[2], ARGV[i]) end
end
return 0
"""
# Gives back everything one worker held (its predecessor died without giving it back).
_RESET = """
local held = redis.call('HGETALL', KEYS[2])
for i = 1, #held, 2 do
  if redis.call('HINCRBY', KEYS[1], held[i], -tonumber(held[i + 1])) <= 0 then redis.call('HDEL', KEYS[1], held[i]) end
end
redis.call('DEL', KEYS[2])
return #held / 2
"""


class SharedCounts:
    """Counts every worker adds to and checks against one limit, atomically (one Lua script per change): what the
    limits per server, address, client and room count, and the bytes of the memory and disk budgets."""

    def __init__(self, url: str, tag: str) -> None:
        self.url = url
        self.tag = tag
        self.client = sync_client(url)
        self._take = self.client.register_script(_TAKE)
        self._reset = self.client.register_script(_RESET)

    def take(self, amount: int, limits: Sequence[tuple[str, int | None]]) -> int | None:
        """Add ``amount`` to every field when each stays within its limit (None: no limit); else change nothing
        and return the index of the first that refused. Negative amounts give back (never refused)."""
        args: list[Any] = [amount]
        for field, limit in limits:
            args += [field, -1 if limit is None else limit]
        refused = int(self._take(keys=[COUNTS, held_key(self.tag)], args=args))
        return None if refused == 0 else refused - 1

    def give(self, amount: int, fields: Iterable[str]) -> None:
        """Give back ``amount`` of every field."""
        if amount:
            self.take(-amount, [(f, None) for f in fields])

    def get(self, *fields: str) -> list[int]:
        """The current counts."""
        values = self.client.hmget(COUNTS, list(fields))
        return [int(v) if v is not None else 0 for v in values]

    def reset(self) -> int:
        """Give back what this worker's tag held (at start, before loading its sessions again)."""
        return int(self._reset(keys=[COUNTS, held_key(self.tag)], args=[]))


# -- the cookie key, leases ------------------------------------------------------------------------------------


def cookie_key(url: str) -> bytes:
    """The key every worker signs client cookies with: made once by whichever worker asks first (SET NX)."""
    client = sync_client(url)
    try:
        client.set(COOKIE_KEY, secrets.token_bytes(32), nx=True)
        key = client.get(COOKIE_KEY)
    finally:
        client.close()
    assert isinstance(key, bytes) and len(key) == 32
    return key


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def lease_holder() -> str:
    """This process, as a lease names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    """A worker's claim on its tag: set when nobody holds it (or when its holder is this process), renewed every
    ``LEASE_S / 3`` seconds. While it holds, no other process loads or serves the tag's sessions; when a worker
    dies its lease runs out within ``LEASE_S`` (the supervisor frees it at once, as it knows the worker died)."""

    def __init__(self, url: str, tag: str) -> None:
        self.url, self.tag = url, tag
        self.holder = lease_holder()
        self.client = async_client(url)
        self._task: asyncio.Task[None] | None = None
        self.lost = False

    async def acquire(self, wait_s: float = 3 * LEASE_S) -> None:
        """Take the lease, waiting up to ``wait_s`` for a dead holder's to run out; RuntimeError if another
        process keeps it (a second worker started with the same tag)."""
        deadline = time.monotonic() + wait_s
        key = lease_key(self.tag)
        while True:
            if await self.client.set(key, self.holder, nx=True, px=int(LEASE_S * 1000)):
                break
            if _text(await self.client.get(key)) == self.holder:
                break
            if time.monotonic() > deadline:
                holder = _text(await self.client.get(key)) or "?"
                raise RuntimeError(f"worker tag {self.tag} is held by {holder}: two workers may not share a tag")
            await asyncio.sleep(0.2)
        self._task = asyncio.create_task(self._renew(), name=f"lease-{self.tag}")

    _RENEW = (
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end "
        "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0"
    )

    async def _renew(self) -> None:
        key = lease_key(self.tag)
        while True:
            await asyncio.sleep(LEASE_S / 3)
            try:
                ok = await self.client.eval(self._RENEW, 1, key, self.holder, int(LEASE_S * 1000))
            except RedisError:
                continue  # Redis down: nobody else can take the lease either; retry when it is back
            if not ok and not self.lost:
                self.lost = True
                log.error("worker %s lost its lease to another process: it stops serving its sessions", self.tag)

    async def release(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(RedisError):
            script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
            await self.client.eval(script, 1, lease_key(self.tag), self.holder)
        await self.client.aclose()


def free_lease(url: str, tag: str, holder: str) -> None:
    """Free a dead worker's lease now (the supervisor saw it die)."""
    client = sync_client(url)
    try:
        script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
        client.eval(script, 1, lease_key(tag), holder)
    except RedisError:
        pass
    finally:
        client.close()
