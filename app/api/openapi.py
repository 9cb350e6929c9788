"""The OpenAPI description: what /openapi.json, /docs and /redoc show (the routes declare their own models,
refusals and examples; this adds the overview, the tags and the exact list of refusals).

Layer: API.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from pydantic import BaseModel
from starlette.responses import HTMLResponse, Response

from app import schemas
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


DOCS_ASSETS = "/static-offline-docs"  # where fastapi-offline serves Swagger UI's and ReDoc's files
REDOC_JS = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def redoc_js() -> bytes:
    """fastapi-offline's ReDoc bundle with its one remote file, the Redocly logo of the sidebar's footer,
    taken from the server instead (ReDoc has no option to leave it out)."""
    return REDOC_JS.read_bytes().replace(REDOCLY_LOGO, f"{DOCS_ASSETS}/favicon.png".encode())


def install_redoc(app: FastAPI) -> None:
    """/redoc: ReDoc from the server alone (with ``FastAPIOffline(redoc_url=None)``)."""

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    @app.get("/redoc.standalone.js", include_in_schema=False)
    async def redoc_bundle() -> Response:
        return Response(redoc_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})


def install(app: FastAPI) -> None:
    """Give the app its description and tags, keep each operation's refusals to what it declares (FastAPI
    adds a 422 to every operation with a path parameter, which a path of plain strings never gets), and keep
    the models' examples whole (FastAPI writes the spec without nulls, examples' nulls included)."""
    install_redoc(app)
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
        for name, component in components.items():  # FastAPI drops every null of the examples: put them back
            model = getattr(schemas, name, None)
            if isinstance(model, type) and issubclass(model, BaseModel):
                extra = model.model_config.get("json_schema_extra")
                if isinstance(extra, dict) and "examples" in extra:
                    component["examples"] = extra["examples"]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
