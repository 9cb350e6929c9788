"""Server settings, read from ``BPP_*`` environment variables (pydantic-settings does the parsing)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
        200, ge=1, description="Sessions one client (address + browser cookie) may hold at once."
    )
    session_ttl: float = Field(7200.0, gt=0, description="Seconds a session may stay idle before it expires.")
    fps: float = Field(25.0, gt=0, le=60, description="Frames per second sent to a playing client.")
    max_steps_per_call: int = Field(100_000, ge=1, description="Most steps one train call may ask for.")
    max_hidden_layers: int = Field(8, ge=0, description="Most hidden layers in a network.")
    max_units: int = Field(64, ge=1, description="Most units in one hidden layer.")
    max_samples: int = Field(20_000, ge=2, description="Most samples in a dataset (training + test).")
    max_inputs: int = Field(64, ge=1, description="Most input columns in custom data.")
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes.")
    max_train_seconds: float = Field(
        60.0, gt=0, description="Longest one train call may run; it then answers with what it did (stopped_early)."
    )
    max_trace_samples: int = Field(2000, ge=1, description="Most samples one backprop call may trace.")
    workers: int = Field(2, ge=1, le=64, description="Worker threads that run engine work for all sessions.")
    train_slice_ms: float = Field(
        30.0, gt=0, description="Longest a session trains in one go before letting other sessions run, in ms."
    )
    engine: Literal["auto", "numpy"] = Field(
        "auto",
        description="Training engine: `auto` runs small networks on the compiled (Numba) path once it is loaded, "
        "`numpy` always runs the NumPy reference.",
    )

    @field_validator("create_rate", "ws_message_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        parse(value)  # raises ValueError for a malformed rate
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests build their own ``Settings`` instead)."""
    return Settings()
