"""The ``backprop-playground`` command: ``serve`` starts the server (``--workers N``: a cluster behind nginx);
``nginx-config`` writes the nginx configuration for workers on several machines.

Layer: entry point (above ``app.main``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

PROG = "backprop-playground"


def _workers(text: str) -> str:
    if text == "auto" or (text.isdigit() and int(text) >= 1):
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: a number of worker processes (1 or more), or auto (one per core)")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run it."""
    # One BLAS thread (unless OPENBLAS_NUM_THREADS says otherwise), set before NumPy loads: the server runs many
    # small passes at once on few cores, where OpenBLAS's extra threads only spin against the engine's.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from app import __version__
    from app.settings import get_settings

    parser = argparse.ArgumentParser(prog=PROG, description="A visual backpropagation playground.")
    try:
        settings = get_settings()
    except ValueError as err:  # a bad BPP_ setting, or a renamed one: say which, no traceback
        parser.exit(2, f"{PROG}: {err}\n")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the server (the page at http://HOST:PORT/)")
    serve.add_argument("--host", default=settings.host, help=f"address to bind (default {settings.host}, BPP_HOST)")
    serve.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port}, BPP_PORT)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N|auto",
        help="run N worker processes behind nginx, sharing state through Redis (auto: one per core); "
        "needs nginx and redis-server (apt-get install nginx redis-server)",
    )
    conf = sub.add_parser(
        "nginx-config",
        help="print the nginx configuration for workers on several machines (for /etc/nginx/conf.d/)",
        description="Print nginx's configuration for workers TAG=HOST:PORT (each started with BPP_WORKER=TAG).",
    )
    conf.add_argument("workers", nargs="+", metavar="TAG=HOST:PORT", help="a worker, e.g. w1=10.0.0.2:8001")
    conf.add_argument("--listen", default="80", help="what nginx listens on (default 80)")
    conf.add_argument(
        "--behind-proxy",
        action="store_true",
        help="another proxy in front of nginx writes X-Forwarded-For (default: nginx writes the client's address)",
    )
    args = parser.parse_args(argv)

    if args.command == "nginx-config":
        from app.cluster import nginx

        try:
            upstreams = [nginx.Upstream.parse(w) for w in args.workers]
            text = nginx.render(upstreams, args.listen, settings.max_body_bytes, behind_proxy=args.behind_proxy)
            sys.stdout.write(text)
        except ValueError as err:
            parser.exit(2, f"{PROG}: {err}\n")
        return
    if args.workers is not None:
        from app.cluster import supervisor

        supervisor.serve(settings, args.host, args.port, args.workers)
        return

    import uvicorn

    uvicorn.run(
        "app.main:app",
        host=args.host,
        port=args.port,
        ws_per_message_deflate=False,
        proxy_headers=False,  # the app decides the client's address itself (BPP_TRUSTED_PROXIES)
        ws_max_size=64 * 1024,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        log_level="info",
    )


if __name__ == "__main__":
    main()
