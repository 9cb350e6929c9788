"""The gate every request passes (pure ASGI): the ``Host`` it names, the address it counts against, the client
cookie the server signs, and the cap on live sockets per address.

Layer: API (ASGI middleware, before routing).

* **Host.** A request must name the server itself (localhost, 127.0.0.1, [::1], the address it came in on) or a
  host in ``BPP_ALLOWED_HOSTS``; anything else is 400 (a websocket is closed with 1008). This stops DNS
  rebinding: a page on ``evil.example`` resolved to 127.0.0.1 still says ``Host: evil.example``.
* **Address.** The peer of the TCP connection, unless it is one of ``BPP_TRUSTED_PROXIES``: then the
  ``X-Forwarded-For`` chain is walked from the right past trusted proxies (so what a client writes before
  the proxy appends its address counts for nothing). ``serve`` turns uvicorn's own proxy handling off;
  ``uvicorn app.main:app`` run by hand rewrites the peer from ``X-Forwarded-For`` for peers it trusts
  (loopback by default), and the guard notices (the address it hands over is a hop of the request's own
  header, with port 0) and takes the peer to have been loopback, as it was.
* **Client.** ``bpp_client`` is a random id with an HMAC under a key kept next to the database (``<BPP_DB>.key``,
  0600), so a restart keeps every browser's identity and a client cannot choose or forge one. A request
  without a valid cookie counts as its address's anonymous client and is given a fresh cookie.
* **Sockets.** At most ``BPP_MAX_SOCKETS_PER_ADDRESS`` open websockets per address; more are closed with 1013,
  and the refusal is logged once per address until it drops below the cap again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import logging
import math
import os
import resource
import secrets
import time
from collections import Counter
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings
from app.wire import JSONResponse

log = logging.getLogger("backprop_playground")
COOKIE = "bpp_client"
COOKIE_MAX_AGE = 365 * 24 * 3600
ADDRESS_KEY, CLIENT_KEY = "bpp.address", "bpp.client"
REWRITTEN_PEER = "127.0.0.1"  # the peer of a request uvicorn rewrote: one it trusts (loopback by default)
OWN_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
CLOSE_POLICY = 1008
NOSNIFF = (b"x-content-type-options", b"nosniff")  # on every answer: scripts and JSON are what they say they are
CLOSE_TRY_LATER = 1013  # a page that gets it retries with backoff (1008 would end its session for good)


def raise_open_file_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit (every socket is a file); the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class OnceAMinute(logging.Filter):
    """Lets the first record of a kind through, then one a minute saying how many were held back (asyncio logs a
    traceback for every accept refused when the process is out of files)."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.last = -math.inf
        self.held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if self.marker not in record.getMessage():
            return True
        now = time.monotonic()
        if now - self.last < 60.0:
            self.held += 1
            return False
        self.last = now
        since = f"{self.held} more since the last such line" if self.held else "logged at most once a minute"
        record.msg, record.args, record.exc_info, record.exc_text = (
            f"{self.marker} (out of open files; {since})",
            None,
            None,
            None,
        )
        self.held = 0
        return True


ACCEPT_REFUSED = "socket.accept() out of system resource"
logging.getLogger("asyncio").addFilter(OnceAMinute(ACCEPT_REFUSED))


def load_key(db: str) -> bytes:
    """The key client cookies are signed with: ``<db>.key`` (created 0600 on first start), or a fresh key per
    process when there is no database (sessions do not outlive it either)."""
    if not db:
        return secrets.token_bytes(32)
    path = Path(db + ".key")
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_bytes()
            if len(key) >= 32:
                return key
            raise OSError(f"{path} holds {len(key)} bytes, not 32: delete it to make a new key") from None
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key
    except OSError as err:  # the server still serves; browsers get new identities at its next start
        log.warning("client cookie key: %s; using a key for this run only", err)
        return secrets.token_bytes(32)


class ClientCookies:
    """Issues and checks signed client ids: ``<id>.<hmac-sha256(key, id)>`` (the key is read on first use)."""

    def __init__(self, db: str, key: Callable[[], bytes] | None = None) -> None:
        self.db = db
        self._load = key or (lambda: load_key(self.db))  # a cluster's workers share the key in Redis
        self._key: bytes | None = None

    def _sign(self, client_id: str) -> str:
        if self._key is None:
            self._key = self._load()
        return hmac.new(self._key, client_id.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> tuple[str, str]:
        """A new client id and its cookie value."""
        client_id = secrets.token_urlsafe(12)
        return client_id, f"{client_id}.{self._sign(client_id)}"

    def verify(self, value: str) -> str | None:
        """The client id of a cookie value the server signed, else None."""
        client_id, _, mac = value.partition(".")
        if not client_id or len(client_id) > 32:
            return None
        if not hmac.compare_digest(mac.encode(), self._sign(client_id).encode()):
            return None
        return client_id


def _host_only(value: str) -> str:
    """``1.2.3.4:80`` → ``1.2.3.4``, ``[::1]:80`` → ``::1``, a bare address as it is."""
    value = value.strip()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _trusted(host: str, proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(scope: Scope, proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """The address a request counts against (see the module's docstring)."""
    peer, port = (scope["client"][0], scope["client"][1]) if scope.get("client") else ("unknown", -1)
    hops = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops += [v.strip() for v in value.decode("latin-1").split(",") if v.strip()]
    if not hops:
        return peer
    forwarded = [_host_only(h) for h in hops]
    # uvicorn's ProxyHeadersMiddleware replaces the peer with a hop of this very header, with port 0 (or the
    # hop's own port); a real peer never has port 0. The peer it replaced was one uvicorn trusts: loopback.
    if any(host == peer and (port == 0 or hop.endswith(f":{port}")) for host, hop in zip(forwarded, hops, strict=True)):
        peer = REWRITTEN_PEER
    if not _trusted(peer, proxies):
        return peer
    for hop in reversed(forwarded):
        if not _trusted(hop, proxies):
            return hop
    return forwarded[0]


def forwarded_proto(scope: Scope) -> None:
    """Take the scheme from a trusted proxy's ``X-Forwarded-Proto`` (so that the room links it makes and the
    cookie's ``Secure`` follow the https the students use)."""
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            proto = value.decode("latin-1").split(",")[0].strip().lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
            return


def own_host(host_header: str, scope: Scope, allowed: list[str]) -> bool:
    """Whether ``Host`` names this server: localhost, loopback, the address the request came in on, or an allowed
    host (any port)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        name = host[: host.find("]") + 1] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not name:
        return False
    if name in OWN_HOSTS or name in allowed:
        return True
    server = scope.get("server")
    if server and server[0]:
        bound = str(server[0]).lower()
        return name in (bound, f"[{bound}]")
    return False


def address_of(client: str) -> str:
    """The address part of a client key (``address/id`` or a bare address)."""
    return client.split("/", 1)[0]


class Guard:
    """Pure ASGI middleware: Host check, client address and cookie, live sockets per address."""

    def __init__(self, app: ASGIApp, settings: Settings, cookies: ClientCookies) -> None:
        self.app = app
        self.settings = settings
        self.cookies = cookies
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]
        self.sockets: Counter[str] = Counter()
        self.refusing: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {}
        for name, value in scope.get("headers", ()):
            if name in (b"host", b"cookie"):
                headers[name] = value.decode("latin-1")
        host = headers.get(b"host", "")
        if not own_host(host, scope, self.settings.allowed_hosts):
            detail = f"host {host[:100]!r} is not this server's name: the operator may add it to BPP_ALLOWED_HOSTS"
            await self._refuse(scope, receive, send, 400, detail[:120])
            return
        address = client_address(scope, self.proxies)
        if self.proxies and scope.get("client") and _trusted(scope["client"][0], self.proxies):
            forwarded_proto(scope)
        client_id = None
        if b"cookie" in headers:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(headers[b"cookie"])
            except Exception:  # a malformed Cookie header is just no cookie
                jar = SimpleCookie()
            if COOKIE in jar:
                client_id = self.cookies.verify(jar[COOKIE].value)
        scope[ADDRESS_KEY] = address
        scope[CLIENT_KEY] = f"{address}/{client_id}" if client_id else address
        if kind == "websocket":
            await self._socket(scope, receive, send, address)
            return
        extra = [NOSNIFF]
        if client_id is None:
            _, value = self.cookies.issue()
            secure = "; Secure" if scope.get("scheme") == "https" else ""
            cookie = f"{COOKIE}={value}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax{secure}"
            extra.append((b"set-cookie", cookie.encode()))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _socket(self, scope: Scope, receive: Receive, send: Send, address: str) -> None:
        cap = self.settings.max_sockets_per_address
        app = scope.get("app")
        shared = getattr(getattr(app, "state", None), "shared_sockets", None)  # a cluster: counted in Redis
        if shared is not None:
            refusal = await shared.take(address)
            if refusal is not None:
                await self._refuse(scope, receive, send, 429, refusal, CLOSE_TRY_LATER)
                return
            try:
                await self.app(scope, receive, send)
            finally:
                await shared.give(address)
            return
        if self.sockets[address] >= cap:
            if address not in self.refusing:
                self.refusing.add(address)
                log.warning("refusing live sockets from %s: it holds %d (BPP_MAX_SOCKETS_PER_ADDRESS)", address, cap)
            await self._refuse(scope, receive, send, 429, "too many live sockets from this address", CLOSE_TRY_LATER)
            return
        self.sockets[address] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.sockets[address] -= 1
            if self.sockets[address] <= 0:
                del self.sockets[address]
            if self.sockets[address] < cap:
                self.refusing.discard(address)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, detail: str, close_code: int = CLOSE_POLICY
    ) -> None:
        if scope["type"] == "http":
            await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
            return
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": close_code, "reason": detail})
