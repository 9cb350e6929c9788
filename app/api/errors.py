"""Every refusal as JSON with a human-readable ``detail`` naming the field, and the right status."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app import examples
from app.engine import EngineError
from app.schemas import ErrorOut
from app.sessions import ApiError
from app.wire import JSONResponse

log = logging.getLogger("backprop_playground")


_UNION_TAG = re.compile(r"^(?:[a-z-]+\[.*\]|int|float|str|bool|none)$")  # pydantic's name of a union member
_MODEL_TAG = re.compile(r"^[A-Z][A-Za-z]*$")  # a model's name, the tag of a union of models (fields are snake_case)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header") and not _MODEL_TAG.match(str(p))]
    parts = [p for p in parts if not (_UNION_TAG.match(p) and len(parts) > 1)]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def _message(e: dict[str, Any]) -> tuple[str, str]:
    """(field, message) of one pydantic error; a JSON syntax error names the body and the character."""
    if e.get("type") == "json_invalid":
        at = e.get("loc", ("body", "?"))[-1]
        return "body", f"invalid JSON at character {at}"
    return _field(tuple(e.get("loc", ()))), str(e.get("msg", "invalid")).removeprefix("Value error, ")


def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    clean = [dict(zip(("field", "message"), _message(e), strict=True)) for e in exc.errors()[:50]]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in clean[:5])
    field = clean[0]["field"] if clean else "body"
    return JSONResponse({"detail": detail or "invalid request", "field": field, "errors": clean}, status_code=422)


def _api(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body: dict[str, Any] = {"detail": exc.detail}
    if exc.field:
        body["field"] = exc.field
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(body, status_code=exc.status, headers=headers)


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
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(EngineError, _engine)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
