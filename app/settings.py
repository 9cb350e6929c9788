"""Server settings, read from ``BPP_*`` environment variables (pydantic-settings does the parsing).

Layer: configuration, read by every layer above the engine; docs/setup.md and the README's settings table
describe each one.
"""

from __future__ import annotations

import ipaddress
import os
import re
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

RENAMED = {"BPP_WORKERS": "BPP_ENGINE_THREADS"}  # old settings a server refuses to start with, and their names now
HOST_NAME = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")
SOURCE = re.compile(r"(https?://)?(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def machine_memory_mb() -> float:
    """The memory this process may use: the machine's, or its container's limit (cgroup v2) when lower."""
    total = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            total = min(total, float(f.read().strip()))
    except (OSError, ValueError):  # no cgroup v2 limit ("max")
        pass
    return total / (1024 * 1024)


class Settings(BaseSettings):
    """Every setting of the server; each is documented in the README's Settings table."""

    model_config = SettingsConfigDict(env_prefix="BPP_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on.")
    db: str = Field(
        "backprop-playground.db",
        description="SQLite file where sessions and rooms are checkpointed; empty for none (memory only).",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins (scheme://host:port) allowed to open websockets besides the server's own.",
    )
    max_sessions: int = Field(1000, ge=1, description="Sessions the server holds at once.")
    create_rate: str = Field(
        "600/minute",
        description="New sessions and forks one address may create (limits' notation); generous enough for a "
        "class behind one NAT, tight enough to stop a runaway script.",
    )
    ws_message_rate: str = Field("60/second", description="Messages one live-channel client may send.")
    max_forks_per_room: int = Field(500, ge=1, description="Forks one classroom room may hold.")
    max_sessions_per_client: int = Field(
        200, ge=1, description="Sessions one client (the server's signed `bpp_client` cookie) may hold at once."
    )
    max_sessions_per_address: int = Field(
        300,
        ge=1,
        description="Sessions and forks one address may hold at once, whatever its cookies: above the per-client "
        "cap, generous enough for a class behind one NAT, below the room and server limits.",
    )
    max_forks_per_client: int = Field(3, ge=1, description="Forks of one room one client may hold at once.")
    max_sockets_per_address: int = Field(
        256, ge=1, description="Live-channel sockets (sessions' and rooms') one address may hold open at once."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose `X-Forwarded-For` is "
        "trusted; by default none, so a client's address is the peer's address whatever it sends.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated host names accepted in `Host` besides localhost, 127.0.0.1, [::1] and the "
        "address the request came in on; others get 400 (websockets: close 1008).",
    )
    frame_ancestors: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins allowed to embed the pages in a frame (CSP `frame-ancestors`); "
        "by default none may.",
    )
    session_ttl: float = Field(
        7200.0, gt=0, description="Seconds a session may stay unused by its token holder before it expires."
    )
    fps: float = Field(25.0, gt=0, le=60, description="Frames per second sent to a playing client.")
    max_steps_per_call: int = Field(100_000, ge=1, description="Most steps one train call may ask for.")
    max_hidden_layers: int = Field(8, ge=0, description="Most hidden layers in a network.")
    max_units: int = Field(64, ge=1, description="Most units in one hidden layer.")
    max_samples: int = Field(20_000, ge=2, description="Most samples in a dataset (training + test).")
    max_inputs: int = Field(64, ge=1, description="Most input columns in custom data.")
    max_outputs: int = Field(64, ge=1, description="Most output columns (or classes) in custom data.")
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes.")
    max_train_seconds: float = Field(
        60.0, gt=0, description="Longest one train call may run; it then answers with what it did (stopped_early)."
    )
    max_trace_samples: int = Field(2000, ge=1, description="Most samples one backprop call may trace.")
    max_memory_mb: float = Field(
        default_factory=lambda: round(machine_memory_mb() / 2),
        gt=0,
        description="Memory budget for what sessions hold (data, copies, weights, optimizer state, workspaces, "
        "histories, traces), computed before it is allocated; beyond it new sessions and bigger networks are "
        "refused with 503. Default: half of the machine's (or the container's) memory.",
    )
    max_disk_mb: float = Field(
        4096.0, gt=0, description="Disk budget for the sessions' checkpoints in BPP_DB (503 beyond), in MB."
    )
    client_memory_share: float = Field(
        0.25,
        gt=0,
        le=1,
        description="Share of the memory and disk budgets one client, and one address, may hold (429 beyond).",
    )
    max_call_seconds: float = Field(
        10.0, gt=0, description="Longest a gradcheck may run; it then answers with the weights it checked."
    )
    max_gradcheck_weights: int = Field(
        2000, ge=1, description="Most weights one gradcheck compares numerically (spread over every layer)."
    )
    gradcheck_max_work: float = Field(
        2e9,
        gt=0,
        description="Most multiply-adds one gradcheck may spend (each weight checked costs 2 × samples × weights); "
        "a bigger network or more samples get fewer weights checked.",
    )
    max_queued_bytes: int = Field(
        16 * 1024 * 1024,
        ge=64 * 1024,
        description="Bytes the server may have queued for one live-channel connection; a message that would "
        "pass it is not sent (the client is told), so a client that stops reading holds no memory.",
    )
    engine_threads: int = Field(
        2, ge=1, le=64, description="Threads that run engine work for all the sessions of one process."
    )
    train_slice_ms: float = Field(
        30.0, gt=0, description="Longest a session trains in one go before letting other sessions run, in ms."
    )
    engine: Literal["auto", "numpy"] = Field(
        "auto",
        description="Training engine: `auto` runs small networks on the compiled (Numba) path once it is loaded, "
        "`numpy` always runs the NumPy reference.",
    )

    redis_url: str = Field(
        "",
        description="Redis that the workers of a cluster share (`redis://host:6379/0`): checkpoints, tokens, rooms, "
        "limits; `serve --workers N` starts its own when empty. Empty in one process: SQLite (`BPP_DB`).",
    )
    worker: str = Field(
        "",
        pattern=r"^([a-z][a-z0-9]{0,15})?$",
        description="This worker's tag in a cluster (set by `serve --workers` and the systemd units): new session ids "
        "start with it, which is how nginx routes them; empty in one process.",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: object) -> object:
        for old, new in RENAMED.items():
            if old in os.environ:
                raise ValueError(
                    f'{old} was renamed {new} (engine threads per process); "workers" now means processes: '
                    f"`backprop-playground serve --workers N`. Set {new} instead."
                )
        return data

    @field_validator("create_rate", "ws_message_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        parse(value)  # raises ValueError for a malformed rate
        return value

    @field_validator("allowed_origins", "trusted_proxies", "allowed_hosts", "frame_ancestors", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # raises ValueError for anything but an address or network
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for item in value:
            if not HOST_NAME.fullmatch(item):
                raise ValueError(f"{item!r} is not a host name (no scheme, port or path)")
        return [item.lower() for item in value]

    @field_validator("frame_ancestors")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        for item in value:
            if item not in ("'self'", "'none'") and not SOURCE.fullmatch(item):
                raise ValueError(f"{item!r} is not a CSP source such as https://school.example or 'self'")
        return value


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests build their own ``Settings`` instead)."""
    return Settings()
