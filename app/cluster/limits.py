"""Limits that hold server-wide in a cluster: each check and each change is one atomic step in Redis
(``SharedCounts``), so N workers enforce one limit, not N.

Layer: cluster; refuses with the session layer's errors (``OverLimit``, ``ServerFull``), as the in-process
limits do.

- ``SharedLimits``: sessions in all (``BPP_MAX_SESSIONS``), per address, per client, forks per room and per
  client in a room. A session is counted when its worker adds it and given back when it goes.
- ``SharedBudget``: the memory and disk budgets (``BPP_MAX_MEMORY_MB``, ``BPP_MAX_DISK_MB``) and each client's
  and address's share of them, in bytes, with the same refusals as the single-process ``Budget``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError

from app.cluster.state import SharedCounts
from app.sessions import Budget, OverLimit, ServerFull
from app.sessions.budget import MB

log = logging.getLogger("backprop_playground")


class SharedLimits:
    """The session and fork caps, counted in Redis."""

    def __init__(self, counts: SharedCounts, settings: object) -> None:
        from app.settings import Settings

        assert isinstance(settings, Settings)
        self.counts = counts
        self.settings = settings

    def _limits(self, client: str, room: str | None) -> list[tuple[str, int, str]]:
        s = self.settings
        address = client.split("/", 1)[0]
        per_address, per_client = s.max_sessions_per_address, s.max_sessions_per_client
        out = [
            ("sessions", s.max_sessions, f"the server holds its maximum of {s.max_sessions} sessions; try again later"),
            (f"a:{address}", per_address, f"at most {per_address} sessions per address; delete some first"),
            (f"c:{client}", per_client, f"at most {per_client} sessions per client; delete one first"),
        ]
        if room is not None:
            per_room, forks = s.max_forks_per_room, s.max_forks_per_client
            out += [
                (f"r:{room}", per_room, f"room {room} is full ({per_room} forks)"),
                (
                    f"rc:{room}:{client}",
                    forks,
                    f"you hold {forks} forks of room {room} already: delete one to fork again",
                ),
            ]
        return out

    def check(self, client: str, room: str | None = None) -> None:
        """``OverLimit`` when one of the caps is reached now (a check before building; ``take`` decides)."""
        limits = self._limits(client, room)
        for (_, limit, message), value in zip(limits, self.counts.get(*(f for f, _, _ in limits)), strict=True):
            if value >= limit:
                raise OverLimit(message)

    def take(self, client: str, room: str | None = None, enforce: bool = True) -> None:
        """Count one more session (a fork of ``room``), or ``OverLimit`` and nothing counted."""
        limits = self._limits(client, room)
        refused = self.counts.take(1, [(f, limit if enforce else None) for f, limit, _ in limits])
        if refused is not None:
            raise OverLimit(limits[refused][2])

    def give(self, client: str, room: str | None = None) -> None:
        """The session has gone."""
        try:
            self.counts.give(1, [f for f, _, _ in self._limits(client, room)])
        except RedisError as err:  # counted until this worker restarts (it gives back all it held)
            log.error("could not give back a session's count: %s", err)

    def forks(self, room: str) -> int:
        """Forks of ``room`` held on every worker."""
        return self.counts.get(f"r:{room}")[0]


class SharedBudget(Budget):
    """A ``Budget`` whose bytes are counted in Redis, across every worker."""

    def __init__(self, counts: SharedCounts, what: str, total: int, share: float, setting: str) -> None:
        self._used = 0
        super().__init__(what, total, share, setting)
        self.counts = counts

    @property  # type: ignore[override]
    def used(self) -> int:
        """Bytes held on every worker (while Redis is down: the last figure read, which health reports)."""
        with contextlib.suppress(RedisError):
            self._used = self.counts.get(self.what)[0]
        return self._used

    @used.setter
    def used(self, value: int) -> None:  # Budget.__init__ starts at 0; Redis holds the real figure
        pass

    def reserve(self, owners: tuple[str, ...], n: int) -> None:
        if n <= 0:
            self.release(owners, -n)
            return
        fields = [(self.what, self.total)] + [(f"{self.what}:{o}", self.share) for o in owners]
        refused = self.counts.take(n, fields)
        if refused is None:
            return
        if refused == 0:
            raise ServerFull(
                f"the server is full: sessions hold {self._mb(self.used)} of its {self._mb(self.total)} {self.what} "
                f"budget ({self.setting}) and this needs {self._mb(n)} more; try again later, or with less data or a "
                "smaller network",
            )
        owner = owners[refused - 1]
        held = self.counts.get(f"{self.what}:{owner}")[0]
        who = "this client" if owner.startswith("c:") else "this address"
        raise OverLimit(
            f"{who} holds {self._mb(held)} of its {self._mb(self.share)} share of the server's {self.what} and this "
            f"needs {self._mb(n)} more; delete a session first, or use less data or a smaller network",
        )

    def release(self, owners: tuple[str, ...], n: int) -> None:
        try:
            self.counts.give(n, [self.what, *(f"{self.what}:{o}" for o in owners)])
        except RedisError as err:  # the bytes stay counted until this worker restarts (it gives back all it held)
            log.error("could not give back %d bytes of the %s budget: %s", n, self.what, err)


class SharedSockets:
    """Live sockets per address (``BPP_MAX_SOCKETS_PER_ADDRESS``), counted over every worker."""

    def __init__(self, counts: SharedCounts, cap: int) -> None:
        self.counts, self.cap = counts, cap
        self.refusing: set[str] = set()

    async def take(self, address: str) -> str | None:
        """None when the socket may open, else why not (it is then closed with 1013: try again later)."""
        loop = asyncio.get_running_loop()
        try:
            refused = await loop.run_in_executor(None, self.counts.take, 1, [(f"ws:{address}", self.cap)])
        except RedisError:
            return "the server's shared state (Redis) is unreachable; try again later"
        if refused is None:
            self.refusing.discard(address)
            return None
        if address not in self.refusing:
            self.refusing.add(address)
            log.warning("refusing live sockets from %s: it holds %d (BPP_MAX_SOCKETS_PER_ADDRESS)", address, self.cap)
        return "too many live sockets from this address"

    async def give(self, address: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.counts.give, 1, [f"ws:{address}"])
        except RedisError as err:  # counted until this worker restarts (it gives back all it held)
            log.error("could not give back a socket's count: %s", err)


__all__ = ["MB", "SharedBudget", "SharedLimits", "SharedSockets"]
