"""The OpenAPI description: what /openapi.json, /docs and /redoc show (the routes declare their own models,
refusals and examples; this adds the overview, the tags and the exact list of refusals)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.api.live import PROTOCOL

DESCRIPTION = f"""A visual backpropagation playground: a NumPy training engine for fully-connected networks that
shows every activation, error term δ, gradient and update, in the notation of the classic backprop course.

**Auth.** Every call on a session needs the session's token as `Authorization: Bearer <token>`; it comes
with the new session (`create_session`, or `fork_room` for a room's fork). A room's teacher token opens
`get_class` and `close_room`. Room reads (`get_room`, `export_room`) and forking are public.

**Errors.** Every refusal is JSON with a human-readable `detail` and, where one field is at fault, `field`
naming it (a 422 of validation lists every refused field in `errors`). A refused call changes nothing.

**Live channels (websockets, protocol version {PROTOCOL}).** `/api/sessions/{{session_id}}/ws` watches and drives
one session (authenticate with `{{"type": "auth", "token": …}}` first); `/api/rooms/{{code}}/ws` is a room's
read-only view (no token). Their messages, binary frames and close codes are specified in the project's
`docs/protocol.md`; OpenAPI does not describe websockets."""

TAGS = [
    {"name": "sessions", "description": "Your own training run: create, configure, train, trace, check, export."},
    {"name": "rooms", "description": "Classroom rooms: a teacher's run that students watch live and fork."},
    {"name": "meta", "description": "Health, version and the built-in datasets."},
]


def install(app: FastAPI) -> None:
    """Give the app its description and tags, and keep each operation's refusals to what it declares:
    FastAPI adds a 422 to every operation with a path parameter, which a path of plain strings never gets."""
    app.description = DESCRIPTION
    app.openapi_tags = TAGS
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for operations in schema["paths"].values():
            for operation in operations.values():
                answers = operation["responses"]
                if "HTTPValidationError" in str(answers.get("422", {})):  # FastAPI's, not one the route declared
                    del answers["422"]
        components = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
