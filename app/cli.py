"""The ``backprop-playground`` command: ``serve`` starts the server.

Layer: entry point (above ``app.main``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

PROG = "backprop-playground"


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run it."""
    # One BLAS thread (unless OPENBLAS_NUM_THREADS says otherwise), set before NumPy loads: the server runs many
    # small passes at once on few cores, where OpenBLAS's extra threads only spin against the engine's.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from app import __version__
    from app.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog=PROG, description="A visual backpropagation playground.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the server (the page at http://HOST:PORT/)")
    serve.add_argument("--host", default=settings.host, help=f"address to bind (default {settings.host}, BPP_HOST)")
    serve.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port}, BPP_PORT)")
    args = parser.parse_args(argv)

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
