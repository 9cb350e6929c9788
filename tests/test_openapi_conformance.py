"""The whole REST API against its own OpenAPI: schemathesis checks every status code, content type and
response body an operation answers against what the served spec declares. Each generated call runs twice:
as generated (mostly unknown ids, so 401/404/422), and with the path ids of a live session and room and
that session's bearer token, so that the successful answers are checked too."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.python.asgi import get_client
from starlette.types import Receive, Scope, Send

from app.main import create_app
from app.settings import Settings

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
SMALL = {"dataset": {"name": "xor", "samples": 24}, "hidden": [3]}

server = create_app(
    Settings(
        db="",
        create_rate="1000000/minute",
        max_sessions=100_000,
        max_sessions_per_client=100_000,
        max_steps_per_call=200,
        max_train_seconds=1.0,
        max_samples=400,
        max_units=8,
        max_hidden_layers=3,
        max_trace_samples=50,
    )
)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The server without its lifespan (no database, nothing to open): schemathesis starts and stops an
    app's lifespan per test, and the server's lifespan runs once per process."""
    if scope["type"] == "lifespan":
        for answer in ("lifespan.startup.complete", "lifespan.shutdown.complete"):
            await receive()
            await send({"type": answer})
        return
    await server(scope, receive, send)


schema = schemathesis.openapi.from_asgi("/openapi.json", app)
http = get_client(app)


def live_ids() -> tuple[dict[str, str], str]:
    """Path ids of a fresh session and of a room on it, and the session's token."""
    made = http.post("/api/sessions", json=SMALL).json()
    room = http.post(
        "/api/rooms", json={"session_id": made["id"]}, headers={"Authorization": f"Bearer {made['token']}"}
    ).json()
    return {"session_id": made["id"], "code": room["code"]}, made["token"]


@schema.parametrize()
@settings(max_examples=25, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)
    ids, token = live_ids()
    if case.path_parameters:
        case.path_parameters = {k: ids.get(k, v) for k, v in case.path_parameters.items()}
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    case.call_and_validate(checks=CHECKS)
