"""Every refusal as JSON with a human-readable ``detail`` naming the field, and the right status.

Layer: API. ``ApiError`` is a refusal the routes make themselves, with its status; the session layer's
refusals (``app.sessions.errors``) get theirs from ``STATUS``, and the engine's (``EngineError``) are 422.
The live channel (``app.api.live``) maps the same refusals to its ``error`` codes with ``status_of``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app import examples
from app.engine import EngineError
from app.schemas import ErrorOut, refusal
from app.sessions import errors as refusals
from app.sessions.errors import SessionError
from app.wire import JSONResponse

log = logging.getLogger("backprop_playground")


class ApiError(Exception):
    """A refusal a route makes itself, with its HTTP status and a human-readable detail (naming the field where
    there is one)."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


STATUS: dict[type[SessionError], int] = {
    refusals.NoToken: 401,
    refusals.WrongToken: 403,
    refusals.NotFound: 404,
    refusals.MovedOn: 409,
    refusals.OverLimit: 429,
    refusals.ServerFull: 503,
    refusals.StorageUnavailable: 503,
}


def status_of(err: SessionError | ApiError) -> int:
    """The HTTP status of a refusal."""
    if isinstance(err, ApiError):
        return err.status
    return next((code for kind, code in STATUS.items() if isinstance(err, kind)), 422)


def _message(e: dict[str, Any]) -> tuple[str, str]:
    """(field, message) of one pydantic error; a JSON syntax error names the body and the character."""
    if e.get("type") == "json_invalid":
        at = e.get("loc", ("body", "?"))[-1]
        return "body", f"invalid JSON at character {at}"
    field, message = refusal(e)
    return field or "body", message


def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    clean = [dict(zip(("field", "message"), _message(e), strict=True)) for e in exc.errors()[:50]]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in clean[:5])
    field = clean[0]["field"] if clean else "body"
    return JSONResponse({"detail": detail or "invalid request", "field": field, "errors": clean}, status_code=422)


def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError | SessionError)
    body: dict[str, Any] = {"detail": exc.detail}
    if exc.field:
        body["field"] = exc.field
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _engine(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EngineError)
    return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    body: dict[str, Any] = {"detail": exc.detail}
    if exc.status_code == 400:  # FastAPI's only 400: a body that could not be read as text
        body["field"] = "body"
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error; the server logged it"}, status_code=500)


WHY = {
    400: "The `Host` header does not name this server (`BPP_ALLOWED_HOSTS`), or the body could not be read as text.",
    401: "No bearer token was sent (the answer carries `WWW-Authenticate: Bearer`).",
    403: "The bearer token does not open this session (or is not this room's teacher token).",
    404: "No such session or room (it may have expired, been deleted or closed).",
    409: "The room has moved on: it shows no lesson now, or another sample (`field`: sample).",
    413: "The request body is larger than the server's `BPP_MAX_BODY_BYTES`.",
    422: "A field was refused: `field` names it, `detail` says why; nothing changed.",
    429: "Over a limit of this address or client: new sessions, sessions or forks held, its share of the memory "
    "budget, or a heavy call (train, gradcheck, backprop, import) already running; or the room is full.",
    503: "The server cannot take it now: the memory budget is full, or the database cannot be written (nothing "
    "was changed).",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of the refusals an operation can answer: each with the shared error body
    (``ErrorOut``) and an example. Every operation may answer 400 and 413: the host check and the body limit
    come before routing."""
    return {
        code: {
            "model": ErrorOut,
            "description": WHY[code],
            "content": {"application/json": {"example": examples.ERRORS[code]}},
        }
        for code in sorted({*codes, 400, 413})
    }


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _refused)
    app.add_exception_handler(SessionError, _refused)
    app.add_exception_handler(EngineError, _engine)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
