"""Where the page's files are found: ``templates/`` and ``static/`` inside the installed ``app`` package.

A built wheel carries them as package data (``pyproject.toml`` maps the top-level folders into the package);
in a checkout, ``app/templates`` and ``app/static`` are links to the top-level folders, so an editable install
and the wheel resolve them the same way: through the package's resources, never the working directory."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_dir(name: str) -> Path:
    """The real path of the package's folder ``name``; a clear error when the installation lacks it."""
    path = Path(str(files("app") / name)).resolve()
    if not path.is_dir():
        raise RuntimeError(f"the installed package has no {name}/ folder ({path}); reinstall backprop-playground")
    return path


TEMPLATES_DIR = package_dir("templates")
STATIC_DIR = package_dir("static")
