"""One worker of a cluster: wires the app to Redis (``BPP_REDIS_URL``) in place of its single-process parts.

Layer: cluster — beside the top (``app.main`` calls it); imports ``app.sessions`` and ``app.api``.

``app.main`` takes from here the Redis storage (``database``), the create rate's shared storage (``rate_storage``)
and the cookie key (``cookie_key_loader``); ``attach(app)`` swaps the in-memory counts and budgets for shared
ones; it answers 503 naming Redis when Redis cannot be reached. ``start`` (in the app's lifespan,
before the sessions are loaded) takes the worker's lease on its tag and gives back what a dead predecessor of
that tag held; ``stop`` frees the lease.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI, Request
from limits.storage import RedisStorage
from redis.exceptions import RedisError

from app.cluster.limits import SharedBudget, SharedLimits, SharedSockets
from app.cluster.rooms import ClusterRooms
from app.cluster.state import TIMEOUT_S, Lease, RedisDatabase, SharedCounts, cookie_key, safe_url, unavailable
from app.sessions.budget import MB
from app.settings import Settings
from app.wire import JSONResponse

log = logging.getLogger("backprop_playground")
DEFAULT_TAG = "w1"


class Node:
    """This worker's place in the cluster: its tag, its lease, the shared counts."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.redis_url
        self.tag = settings.worker or DEFAULT_TAG
        self.counts = SharedCounts(self.url, self.tag)
        self.lease = Lease(self.url, self.tag)
        self.rooms: ClusterRooms

    async def start(self) -> None:
        """Take the lease (waiting for a dead holder's to run out), then give back what that holder counted:
        the sessions it held are counted again as they load."""
        await self.lease.acquire()
        given = await asyncio.get_running_loop().run_in_executor(None, self.counts.reset)
        log.info(
            "worker %s holds its lease on %s (gave back %d counts of its predecessor)",
            self.tag,
            safe_url(self.url),
            given,
        )

    async def serve(self) -> None:
        """Once this worker's sessions and rooms are loaded: answer other workers' calls, publish its rooms."""
        await self.rooms.start()

    async def stop(self) -> None:
        await self.rooms.stop()
        await self.lease.release()


def settings_for_cluster(settings: Settings) -> Settings:
    """The settings with a worker tag (a lone worker pointed at Redis is ``w1``)."""
    return settings if settings.worker else settings.model_copy(update={"worker": DEFAULT_TAG})


def database(settings: Settings) -> RedisDatabase:
    """Where this worker's sessions and every room are checkpointed."""
    return RedisDatabase(settings.redis_url, settings.worker or DEFAULT_TAG)


def attach(app: FastAPI, settings: Settings) -> Node:
    """Make the app a worker of the cluster at ``BPP_REDIS_URL`` (see the module's docstring)."""
    node = Node(settings)
    node.rooms = ClusterRooms(app, settings)
    store = app.state.store
    share = settings.client_memory_share
    store.memory = SharedBudget(node.counts, "memory", int(settings.max_memory_mb * MB), share, "BPP_MAX_MEMORY_MB")
    store.disk = SharedBudget(node.counts, "disk", int(settings.max_disk_mb * MB), share, "BPP_MAX_DISK_MB")
    store.shared = SharedLimits(node.counts, settings)
    app.state.shared_sockets = SharedSockets(node.counts, settings.max_sockets_per_address)
    app.state.node = node

    async def redis_down(request: Request, exc: Exception) -> JSONResponse:
        detail = unavailable(settings.redis_url, exc) + "; nothing was changed, try again when it is back"
        return JSONResponse({"detail": detail}, status_code=503)

    app.add_exception_handler(RedisError, redis_down)
    return node


def rate_storage(settings: Settings) -> RedisStorage:
    """Where the create rate per address is counted, for every worker (the limits package's Redis storage)."""
    return RedisStorage(settings.redis_url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)


def cookie_key_loader(settings: Settings) -> Any:
    """The cookie key, from Redis (every worker must accept every cookie)."""
    return lambda: cookie_key(settings.redis_url)
