"""The whole REST API against its own OpenAPI: schemathesis checks every status code, content type and
response body an operation answers against what the served spec declares. Each generated call runs twice:
as generated (mostly unknown ids, so 401/404/422), and with the path ids of a live session and room and
that session's bearer token, so that the successful answers are checked too. Derandomized, with no example
database: every run tries the same cases, so a failure reproduces with the same command."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.python.asgi import get_client
from starlette.types import Receive, Scope, Send
from test_fuzz import LIMITS

from app.main import create_app

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
SMALL = {"dataset": {"name": "xor", "samples": 24}, "hidden": [3]}

# The fuzz tests' limits (small runs), and no cap on sessions per address: every example creates one.
server = create_app(LIMITS.model_copy(update={"max_sessions_per_address": 100_000}))


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The server without its lifespan: schemathesis runs an app's lifespan itself and stops it between
    operations, and a stopped server's worker pool is gone for good (this one has no database to open)."""
    if scope["type"] == "lifespan":
        for answer in ("lifespan.startup.complete", "lifespan.shutdown.complete"):
            await receive()
            await send({"type": answer})
        return
    await server(scope, receive, send)


schema = schemathesis.openapi.from_asgi("/openapi.json", app)
http = get_client(app)


LIVE: list[tuple[dict[str, str], str]] = []  # the live session and room, until a DELETE may have ended them


def live_ids() -> tuple[dict[str, str], str]:
    """Path ids of a live session and of a room on it, and the session's token."""
    if not LIVE:
        created = http.post("/api/sessions", json=SMALL)
        assert created.status_code == 201, created.text
        made = created.json()
        headers = {"Authorization": f"Bearer {made['token']}"}
        room = http.post("/api/rooms", json={"session_id": made["id"]}, headers=headers).json()
        LIVE.append(({"session_id": made["id"], "code": room["code"]}, made["token"]))
    return LIVE[0]


@schema.parametrize()
@settings(max_examples=15, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)
    ids, token = live_ids()
    if case.path_parameters:
        case.path_parameters = {k: ids.get(k, v) for k, v in case.path_parameters.items()}
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    case.call_and_validate(checks=CHECKS)
    if case.method.upper() == "DELETE":
        LIVE.clear()
