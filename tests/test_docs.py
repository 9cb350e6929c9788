"""The docs stay one connected contract: every relative link in the README and docs/ leads to a file (and a
heading, when it names one), and docs/api.md names every operation the OpenAPI document has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ROOT

from app.main import create_app
from app.settings import Settings

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """A heading's anchor as GitHub writes it: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in page.read_text().splitlines() if line.startswith("#")}


def links(page: Path) -> list[str]:
    return [t for t in LINK.findall(page.read_text()) if not t.startswith(("http://", "https://", "mailto:"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        missing_anchor = file.exists() and bool(anchor) and file.suffix == ".md" and anchor not in anchors(file)
        if not file.exists() or missing_anchor:
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"


def test_the_readme_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text()
    index = (ROOT / "docs/README.md").read_text()
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name != "README.md":
            assert f"(docs/{page.name})" in readme, page.name
            assert f"({page.name})" in index, page.name


def test_api_md_names_every_operation_of_the_openapi_document() -> None:
    text = (ROOT / "docs/api.md").read_text()
    spec = create_app(Settings(db="")).openapi()
    missing = []
    for path, operations in spec["paths"].items():
        written = re.sub(r"\{session_id\}", "{id}", path)
        for method, op in operations.items():
            if f"`{method.upper()} {written}`" not in text and f"`{op['operationId']}`" not in text:
                missing.append(f"{method.upper()} {path}")
            if f"`{op['operationId']}`" not in text:
                missing.append(op["operationId"])
    assert not missing, missing
