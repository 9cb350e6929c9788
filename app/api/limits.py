"""Request body limit: a body larger than ``max_body_bytes`` is refused with 413 without reading it all.

Layer: API (ASGI middleware).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.wire import JSONResponse


class BodyLimit:
    """Pure ASGI middleware: checks Content-Length up front and counts streamed (chunked) bodies."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    detail = f"request body too large: at most {limit} bytes"
                    await JSONResponse({"detail": detail}, status_code=413, headers={"Connection": "close"})(
                        scope, receive, send
                    )
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"request body too large: at most {limit} bytes")
            return message

        await self.app(scope, counted, send)
