"""The nginx configuration in front of the workers, rendered from ``deploy/nginx.conf.j2`` (Jinja2).

Layer: cluster, deployment (``app.cli`` and ``supervisor`` call it).

The same template serves ``serve --workers N`` (a whole nginx.conf with its pid and temporary files in the
run directory) and an admin's machines (``backprop-playground nginx-config``: a file for /etc/nginx/conf.d/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app import __version__
from app.assets import package_dir

TAG = re.compile(r"[a-z][a-z0-9]{0,15}")
ADDRESS = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}")


@dataclass(frozen=True)
class Upstream:
    """One worker: its tag (which starts the ids of its sessions) and the address nginx reaches it at."""

    tag: str
    address: str

    def __post_init__(self) -> None:
        if not TAG.fullmatch(self.tag):
            raise ValueError(f"worker tag {self.tag!r}: a lower-case letter, then up to 15 letters or digits")
        if not ADDRESS.fullmatch(self.address):
            raise ValueError(f"worker address {self.address!r}: host:port")

    @classmethod
    def parse(cls, text: str) -> Upstream:
        """``w1=10.0.0.2:8001``."""
        tag, sep, address = text.partition("=")
        if not sep:
            raise ValueError(f"{text!r}: write a worker as TAG=HOST:PORT, e.g. w1=10.0.0.2:8001")
        return cls(tag.strip(), address.strip())


def render(
    workers: list[Upstream],
    listen: str,
    max_body_bytes: int,
    standalone: bool = False,
    run_dir: str = "",
    user: str | None = None,
    connections: int = 4096,
    behind_proxy: bool = False,
) -> str:
    """The configuration text. Unless ``behind_proxy`` (another proxy in front of nginx, trusted by the workers),
    nginx replaces any ``X-Forwarded-For`` a client sent with the address it saw."""
    if not workers:
        raise ValueError("at least one worker")
    if len({w.tag for w in workers}) != len(workers):
        raise ValueError("two workers share a tag")
    env = Environment(
        loader=FileSystemLoader(package_dir("deploy")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # a config file, not HTML
    )
    return env.get_template("nginx.conf.j2").render(
        version=__version__,
        workers=workers,
        listen=listen,
        max_body_bytes=max_body_bytes,
        standalone=standalone,
        run_dir=run_dir,
        user=user,
        connections=connections,
        behind_proxy=behind_proxy,
    )
